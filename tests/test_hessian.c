/* Unit tests of the second-order machinery (lc_hessian.h): the damped
 * inverse Cholesky factor against a Gauss-Jordan inverse, its retries and
 * fallback on indefinite or non-finite H, dead inputs, and the column
 * sweep against brute force (magnitude order under the identity, lazy
 * updates equal to per-column updates, N:M groups). The passes themselves
 * are checked against numpy in hessian_crosscheck.py. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_hessian.h"
#include "lc_testutil.h"

static lc_node dummy_node = {.name = "test", .op_type = "Gemm"};

/* A layer holding H = sum x x^T of n random vectors (upper triangle only,
 * as collection leaves it); h_scale 2/n is applied by the factorization. */
static lc_hlayer make_layer(int64_t k, const double *h_full, int64_t n)
{
    lc_hlayer L;
    memset(&L, 0, sizeof L);
    L.w.node = &dummy_node;
    L.kind = LC_HL_GEMM;
    L.groups = 1;
    L.rows = 1;
    L.cols = k;
    L.inner = k;
    L.h = calloc((size_t)(k * k), sizeof(double));
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = i; j < k; j++) L.h[i * k + j] = h_full[i * k + j];
    L.n = n;
    L.collected = true;
    return L;
}

/* Gauss-Jordan inverse with partial pivoting (the oracle). */
static void gj_inverse(const double *a, int64_t k, double *inv)
{
    double *m = malloc((size_t)(k * 2 * k) * sizeof *m);
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < 2 * k; j++) m[i * 2 * k + j] = j < k ? a[i * k + j] : (j - k == i);
    for (int64_t c = 0; c < k; c++) {
        int64_t p = c;
        for (int64_t r = c + 1; r < k; r++)
            if (fabs(m[r * 2 * k + c]) > fabs(m[p * 2 * k + c])) p = r;
        for (int64_t j = 0; j < 2 * k; j++) {
            double t = m[c * 2 * k + j];
            m[c * 2 * k + j] = m[p * 2 * k + j];
            m[p * 2 * k + j] = t;
        }
        double d = m[c * 2 * k + c];
        for (int64_t j = 0; j < 2 * k; j++) m[c * 2 * k + j] /= d;
        for (int64_t r = 0; r < k; r++)
            if (r != c) {
                double f = m[r * 2 * k + c];
                for (int64_t j = 0; j < 2 * k; j++) m[r * 2 * k + j] -= f * m[c * 2 * k + j];
            }
    }
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) inv[i * k + j] = m[i * 2 * k + k + j];
    free(m);
}

/* max |U^T U - (scale*H + lambda I)^-1| relative to the inverse's max. */
static double inverse_error(const double *h, int64_t k, double scale, double lambda, const double *u)
{
    double *a = malloc((size_t)(k * k) * sizeof *a), *inv = malloc((size_t)(k * k) * sizeof *inv);
    for (int64_t i = 0; i < k * k; i++) a[i] = scale * h[i];
    for (int64_t i = 0; i < k; i++) a[i * k + i] += lambda;
    gj_inverse(a, k, inv);
    double err = 0, mx = 0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++) s += u[q * k + i] * u[q * k + j];
            err = fmax(err, fabs(s - inv[i * k + j]));
            mx = fmax(mx, fabs(inv[i * k + j]));
        }
    free(a);
    free(inv);
    return err / mx;
}

static bool finite_all(const double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return false;
    return true;
}

START_TEST(test_inverse_chol_random)
{
    const int64_t k = 9, n = 50;
    double h[81] = {0}, u[81];
    for (int64_t s = 0; s < n; s++) {
        double x[9];
        for (int64_t i = 0; i < k; i++) x[i] = rnd_double() + (i == 3 ? x[0] : 0);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++) h[i * k + j] += x[i] * x[j];
    }
    lc_hlayer L = make_layer(k, h, n);
    double lambda;
    int tries;
    uint8_t dead[9];
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.01, u, dead, &lambda, &tries), LC_OK);
    ck_assert_int_eq(tries, 1);
    double mean = 0;
    for (int64_t i = 0; i < k; i++) mean += 2.0 / n * h[i * k + i] / k;
    ck_assert_double_eq_tol(lambda, 0.01 * mean, 1e-12);
    ck_assert_double_le(inverse_error(h, k, 2.0 / n, lambda, u), 1e-10);
    for (int64_t i = 0; i < k; i++) {
        ck_assert_int_eq(dead[i], 0);
        for (int64_t j = 0; j < i; j++) ck_assert(u[i * k + j] == 0);
    }
    /* a permutation reorders H: U of the permuted problem */
    int64_t perm[9] = {8, 7, 6, 5, 4, 3, 2, 1, 0};
    double hp[81];
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) hp[i * k + j] = h[perm[i] * k + perm[j]];
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, perm, 0.01, u, NULL, &lambda, NULL), LC_OK);
    ck_assert_double_le(inverse_error(hp, k, 2.0 / n, lambda, u), 1e-10);
    lc_hlayer_release(&L);
}
END_TEST

START_TEST(test_inverse_chol_dead_and_identity)
{
    /* column 1 never sees input: dead, H_11 = 1, the rest untouched */
    double h[9] = {4, 0, 1, 0, 0, 0, 1, 0, 3}, u[9];
    lc_hlayer L = make_layer(3, h, 2);
    uint8_t dead[3];
    double lambda;
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.0, u, dead, &lambda, NULL), LC_OK);
    ck_assert(dead[0] == 0 && dead[1] == 1 && dead[2] == 0);
    double fixed[9] = {4, 0, 1, 0, 1, 0, 1, 0, 3}; /* scale 2/n = 1 */
    ck_assert_double_le(inverse_error(fixed, 3, 1.0, lambda, u), 1e-12);
    /* no statistics: the identity (U = I / sqrt(1 + damp)) */
    L.collected = false;
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.0, u, dead, &lambda, NULL), LC_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) ck_assert_double_eq_tol(u[i * 3 + j], i == j, 1e-15);
    lc_hlayer_release(&L);
}
END_TEST

START_TEST(test_inverse_chol_retry_and_fallback)
{
    /* indefinite (eigenvalues -1 and 3): damping 0 fails, raised tenfold
     * from 1e-6 * mean until H + lambda I is positive definite */
    double h[4] = {1, 2, 2, 1}, u[4];
    lc_hlayer L = make_layer(2, h, 2);
    double lambda;
    int tries;
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.0, u, NULL, &lambda, &tries), LC_OK);
    ck_assert_int_gt(tries, 1);
    ck_assert_double_gt(lambda, 1.0);
    ck_assert(finite_all(u, 4));
    ck_assert_double_le(inverse_error(h, 2, 1.0, lambda, u), 1e-10);
    lc_hlayer_release(&L);

    /* hopeless: strongly negative diagonal; the diagonal approximation */
    double hn[4] = {-1e12, 0, 0, -1e12};
    L = make_layer(2, hn, 2);
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.01, u, NULL, &lambda, &tries), LC_OK);
    ck_assert_int_eq(tries, -1);
    ck_assert(finite_all(u, 4));
    ck_assert(u[1] == 0 && u[2] == 0 && u[0] > 0 && u[3] > 0);
    lc_hlayer_release(&L);

    /* non-finite statistics never give NaN */
    double hx[4] = {1, NAN, NAN, 1};
    L = make_layer(2, hx, 2);
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.01, u, NULL, &lambda, &tries), LC_OK);
    ck_assert(finite_all(u, 4));
    lc_hlayer_release(&L);
}
END_TEST

static double quant_quarter(void *user, int64_t row, int64_t col, double w)
{
    (void)user, (void)row, (void)col;
    return nearbyint(w * 4) / 4;
}

START_TEST(test_sweep_identity_is_magnitude)
{
    /* U = I: no compensation; each block prunes its smallest |w| */
    enum { R = 5, K = 12 };
    double w[R * K], w0[R * K], u[K * K] = {0};
    uint8_t keep[R * K];
    for (int i = 0; i < R * K; i++) w0[i] = w[i] = rnd_double(), keep[i] = 1;
    for (int j = 0; j < K; j++) u[j * K + j] = 1;
    lc_sweep_opts o = {4, 0.5, 0, 0, 0, NULL, NULL, NULL};
    ck_assert_int_eq(lc_obs_sweep(w, R, K, u, keep, &o, NULL), LC_OK);
    for (int b = 0; b < K; b += 4) {
        /* brute force: rank of each |w| among the block's 20 */
        for (int r = 0; r < R; r++)
            for (int j = b; j < b + 4; j++) {
                int smaller = 0;
                for (int r2 = 0; r2 < R; r2++)
                    for (int j2 = b; j2 < b + 4; j2++) smaller += fabs(w0[r2 * K + j2]) < fabs(w0[r * K + j]);
                ck_assert_int_eq(keep[r * K + j], smaller >= 10);
                ck_assert(w[r * K + j] == (keep[r * K + j] ? w0[r * K + j] : 0));
            }
    }
}
END_TEST

START_TEST(test_sweep_lazy_equals_eager)
{
    /* without pruning the block size only changes when updates are
     * applied, not what they add up to */
    enum { R = 4, K = 10, N = 40 };
    double h[K * K] = {0}, u[K * K], w0[R * K], wa[R * K], wb[R * K];
    uint8_t keep[R * K];
    for (int s = 0; s < N; s++) {
        double x[K];
        for (int i = 0; i < K; i++) x[i] = rnd_double();
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) h[i * K + j] += x[i] * x[j];
    }
    lc_hlayer L = make_layer(K, h, N);
    ck_assert_int_eq(lc_hessian_inverse_chol(&L, 0, NULL, 0.01, u, NULL, NULL, NULL), LC_OK);
    for (int i = 0; i < R * K; i++) w0[i] = rnd_double();
    /* eager reference: apply each column's error to every later column */
    memcpy(wa, w0, sizeof wa);
    for (int j = 0; j < K; j++)
        for (int r = 0; r < R; r++) {
            double q = nearbyint(wa[r * K + j] * 4) / 4, e = (wa[r * K + j] - q) / u[j * K + j];
            for (int c = j; c < K; c++) wa[r * K + c] -= e * u[j * K + c];
            wa[r * K + j] = q;
        }
    int64_t blocks[] = {1, 3, 4, 64};
    for (int bi = 0; bi < 4; bi++) {
        memcpy(wb, w0, sizeof wb);
        memset(keep, 1, sizeof keep);
        lc_sweep_opts o = {blocks[bi], 0, 0, 0, 0, quant_quarter, NULL, NULL};
        double loss;
        ck_assert_int_eq(lc_obs_sweep(wb, R, K, u, keep, &o, &loss), LC_OK);
        for (int i = 0; i < R * K; i++) ck_assert_double_eq_tol(wb[i], wa[i], 1e-12);
        ck_assert(isfinite(loss) && loss >= 0);
    }
    lc_hlayer_release(&L);
}
END_TEST

START_TEST(test_sweep_nm)
{
    /* 2:4 in segments of 6 columns (groups of 4 then 2): each row keeps
     * at most 2 of each group; already pruned weights stay pruned */
    enum { R = 3, K = 12 };
    double w[R * K], u[K * K] = {0};
    uint8_t keep[R * K];
    for (int i = 0; i < R * K; i++) w[i] = rnd_double(), keep[i] = 1;
    keep[1] = 0;
    for (int j = 0; j < K; j++) u[j * K + j] = 1;
    lc_sweep_opts o = {3, 0, 2, 4, 6, NULL, NULL, NULL};
    ck_assert_int_eq(lc_obs_sweep(w, R, K, u, keep, &o, NULL), LC_OK);
    int starts[] = {0, 4, 6, 10}, widths[] = {4, 2, 4, 2};
    for (int r = 0; r < R; r++)
        for (int g = 0; g < 4; g++) {
            int kept = 0;
            for (int q = 0; q < widths[g]; q++) kept += keep[r * K + starts[g] + q];
            ck_assert_int_eq(kept, 2);
        }
    ck_assert_int_eq(keep[1], 0);
    ck_assert(w[1] == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hessian");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_inverse_chol_random);
    tcase_add_test(tc, test_inverse_chol_dead_and_identity);
    tcase_add_test(tc, test_inverse_chol_retry_and_fallback);
    tcase_add_test(tc, test_sweep_identity_is_magnitude);
    tcase_add_test(tc, test_sweep_lazy_equals_eager);
    tcase_add_test(tc, test_sweep_nm);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
