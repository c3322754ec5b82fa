/* 1-D k-means (lc_kmeans.h) against brute-force oracles: the exact
 * optimum against an enumeration of every contiguous partition, Lloyd's
 * result against the definition of a Lloyd fixed point (every value at its
 * nearest centroid, every used centroid the weighted mean of its values),
 * and the optimum never worse than Lloyd's. scikit-learn cross-checks of
 * the same code through the pass live in kmeans_crosscheck.py. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_kmeans.h"
#include "lc_testutil.h"

static void random_data(lc_rng *r, float *x, float *w, int n, int kind)
{
    for (int i = 0; i < n; i++) {
        double u = lc_rng_uniform(r);
        if (kind == 0) x[i] = (float)(u * 2 - 1);
        else if (kind == 1) x[i] = (float)floor(u * 6); /* few distinct values */
        else {
            /* roughly normal (sum of uniforms) with a heavy tail, like weights */
            double s = 0;
            for (int j = 0; j < 4; j++) s += lc_rng_uniform(r) - 0.5;
            x[i] = (float)(s * (lc_rng_uniform(r) < 0.05 ? 5 : 1));
        }
        if (w) w[i] = (float)(0.1 + 2 * lc_rng_uniform(r));
    }
}

/* The optimum over contiguous partitions of the sorted values into at
 * most k non-empty runs (equal values may straddle runs; that only ever
 * ties). Exhaustive over all 2^(n-1) cut sets. */
static double brute_force(const float *x, const float *w, int n, int k)
{
    int *ord = malloc((size_t)n * sizeof *ord);
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && x[ord[j - 1]] > x[i]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    double best = INFINITY;
    for (unsigned mask = 0; mask < (1u << (n - 1)); mask++) {
        if (__builtin_popcount(mask) > k - 1) continue;
        double total = 0;
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (i == n - 1 || (mask >> i & 1)) {
                double sw = 0, sx = 0;
                for (int j = start; j <= i; j++) {
                    double wj = w ? w[ord[j]] : 1;
                    sw += wj;
                    sx += wj * x[ord[j]];
                }
                double mu = sx / sw;
                for (int j = start; j <= i; j++) total += (w ? w[ord[j]] : 1) * (x[ord[j]] - mu) * (x[ord[j]] - mu);
                start = i + 1;
            }
        }
        if (total < best) best = total;
    }
    free(ord);
    return best;
}

START_TEST(optimal_equals_brute_force)
{
    lc_rng r;
    lc_rng_seed(&r, 1, 0);
    float x[14], w[14], c[8];
    uint8_t a[14];
    int cases = 0;
    for (int n = 1; n <= 14; n++)
        for (int k = 1; k <= 6; k++)
            for (int kind = 0; kind < 3; kind++)
                for (int weighted = 0; weighted < 2; weighted++) {
                    random_data(&r, x, w, n, kind);
                    const float *wp = weighted ? w : NULL;
                    if (lc_kmeans_1d_optimal(x, wp, n, k, c, a) != LC_OK) ck_abort_msg("%s", lc_last_error());
                    int ok = 1;
                    for (int i = 1; i < k; i++) ok &= c[i - 1] <= c[i];
                    for (int i = 0; i < n; i++) ok &= a[i] < k;
                    double got = lc_kmeans_1d_cost(x, wp, n, c, a), want = brute_force(x, wp, n, k);
                    /* float centroids: the cost may exceed the exact optimum by rounding only */
                    if (!ok || fabs(got - want) > 1e-6 * (want + 1e-3))
                        ck_abort_msg("n=%d k=%d kind=%d weighted=%d: %.12g vs brute force %.12g (order/codes ok: %d)", n, k,
                                     kind, weighted, got, want, ok);
                    cases++;
                }
    ck_assert_int_eq(cases, 14 * 6 * 3 * 2);
}
END_TEST

/* 7 to 16 clusters: the backtrack without argmin rows (recomputed rows,
 * the search path to one index) across several checkpoint blocks. */
START_TEST(optimal_equals_brute_force_up_to_16)
{
    lc_rng r;
    lc_rng_seed(&r, 5, 0);
    float x[18], w[18], c[16];
    uint8_t a[18];
    const int ks[] = {7, 10, 13, 16};
    for (int n = 17; n <= 18; n++)
        for (int ki = 0; ki < 4; ki++)
            for (int kind = 0; kind < 3; kind++)
                for (int weighted = 0; weighted < 2; weighted++) {
                    int k = ks[ki];
                    random_data(&r, x, w, n, kind);
                    const float *wp = weighted ? w : NULL;
                    if (lc_kmeans_1d_optimal(x, wp, n, k, c, a) != LC_OK) ck_abort_msg("%s", lc_last_error());
                    double got = lc_kmeans_1d_cost(x, wp, n, c, a), want = brute_force(x, wp, n, k);
                    if (fabs(got - want) > 1e-6 * (want + 1e-3))
                        ck_abort_msg("n=%d k=%d kind=%d weighted=%d: %.12g vs brute force %.12g", n, k, kind, weighted, got,
                                     want);
                }
}
END_TEST

/* A Lloyd fixed point: nearest-centroid assignment (checked against every
 * centroid) and every non-empty cluster's centroid at its weighted mean. */
static void check_fixed_point(const float *x, const float *w, int n, int k, const float *c, const uint8_t *a)
{
    /* (Check's assertions are costly in loops: count, then assert once) */
    double *sw = calloc((size_t)k, sizeof *sw), *sx = calloc((size_t)k, sizeof *sx);
    int far = -1, off = -1;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)x[i] - c[a[i]]);
        if (a[i] >= k) far = i;
        for (int j = 0; j < k; j++)
            if (d > fabs((double)x[i] - c[j])) far = i;
        sw[a[i]] += w ? w[i] : 1;
        sx[a[i]] += (w ? w[i] : 1) * (double)x[i];
    }
    ck_assert_msg(far < 0, "value %d not at its nearest centroid", far);
    for (int j = 0; j < k; j++)
        if (sw[j] > 0 && fabs(sx[j] / sw[j] - c[j]) > 1e-6 * (1 + fabs(c[j]))) off = j;
    ck_assert_msg(off < 0, "centroid %d is %.9g, not the mean of its values", off, off < 0 ? 0.0 : (double)c[off]);
    free(sw);
    free(sx);
}

START_TEST(lloyd_fixed_point_and_optimal_not_worse)
{
    lc_rng r;
    lc_rng_seed(&r, 2, 0);
    enum { N = 3000 };
    float *x = malloc(N * sizeof *x), *w = malloc(N * sizeof *w), c[256], co[256];
    uint8_t *a = malloc(N), *ao = malloc(N);
    for (int trial = 0; trial < 24; trial++) {
        int k = 2 + trial % 15, kind = trial % 3, init = trial % 3, n = 200 + (int)(lc_rng_uniform(&r) * (N - 200));
        const float *wp = trial % 2 ? w : NULL;
        random_data(&r, x, w, n, kind);
        lc_rng ir;
        lc_rng_seed(&ir, 7, (uint64_t)trial);
        int iters = 0;
        ck_assert_int_eq(lc_kmeans_1d_init(x, wp, n, k, init, &ir, c), LC_OK);
        ck_assert_int_eq(lc_kmeans_1d_lloyd(x, wp, n, k, 1000, 0, c, a, &iters), LC_OK);
        ck_assert_int_lt(iters, 1000);
        check_fixed_point(x, wp, n, k, c, a);
        ck_assert_int_eq(lc_kmeans_1d_optimal(x, wp, n, k, co, ao), LC_OK);
        check_fixed_point(x, wp, n, k, co, ao);
        double cl = lc_kmeans_1d_cost(x, wp, n, c, a), cop = lc_kmeans_1d_cost(x, wp, n, co, ao);
        ck_assert_msg(cop <= cl * (1 + 1e-6) + 1e-9, "trial %d (k=%d): optimal %.9g > Lloyd %.9g", trial, k, cop, cl);
    }
    free(x);
    free(w);
    free(a);
    free(ao);
}
END_TEST

START_TEST(initialisations)
{
    float x[] = {3, -1, 0.5f, 2, 7, -4, 1};
    float c[4], c2[4];
    ck_assert_int_eq(lc_kmeans_1d_init(x, NULL, 7, 4, LC_KMEANS_LINEAR, NULL, c), LC_OK);
    float lin[] = {-4, -4 + 11.0f / 3, -4 + 22.0f / 3, 7};
    for (int i = 0; i < 4; i++) ck_assert_float_eq_tol(c[i], lin[i], 1e-6);
    /* quantiles (i + 0.5)/4 of the sorted values -4 -1 0.5 1 2 3 7 at 7/8, 21/8, 35/8, 49/8 */
    ck_assert_int_eq(lc_kmeans_1d_init(x, NULL, 7, 4, LC_KMEANS_DENSITY, NULL, c), LC_OK);
    float dens[] = {-4, 0.5f, 2, 7};
    for (int i = 0; i < 4; i++) ck_assert_float_eq(c[i], dens[i]);
    /* random: distinct data values, reproducible from the seed */
    lc_rng r1, r2;
    lc_rng_seed(&r1, 5, 9);
    lc_rng_seed(&r2, 5, 9);
    ck_assert_int_eq(lc_kmeans_1d_init(x, NULL, 7, 4, LC_KMEANS_RANDOM, &r1, c), LC_OK);
    ck_assert_int_eq(lc_kmeans_1d_init(x, NULL, 7, 4, LC_KMEANS_RANDOM, &r2, c2), LC_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(c[i], c2[i]);
        int found = 0;
        for (int j = 0; j < 7; j++) found |= x[j] == c[i];
        ck_assert(found);
        for (int j = 0; j < i; j++) ck_assert(c[j] != c[i]);
    }
    ck_assert_int_ne(lc_kmeans_1d_init(x, NULL, 7, 4, LC_KMEANS_RANDOM, NULL, c), LC_OK);
}
END_TEST

/* More clusters than distinct values: every distinct value becomes a
 * centroid (exact), the surplus repeat values, codes stay in range and
 * the result is deterministic. */
START_TEST(fewer_values_than_clusters)
{
    float x[40];
    for (int i = 0; i < 40; i++) x[i] = (float)(i % 3) - 1.0f;
    float c[8], c2[8];
    uint8_t a[40], a2[40];
    for (int method = 0; method < 2; method++) {
        for (int rep = 0; rep < 2; rep++) {
            float *cc = rep ? c2 : c;
            uint8_t *aa = rep ? a2 : a;
            if (method) ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, 40, 8, cc, aa), LC_OK);
            else ck_assert_int_eq(lc_kmeans_1d(x, NULL, 40, 8, LC_KMEANS_LINEAR, NULL, 300, cc, aa), LC_OK);
        }
        ck_assert_mem_eq(c, c2, sizeof c);
        ck_assert_mem_eq(a, a2, sizeof a);
        int bad = -1;
        for (int i = 0; i < 40; i++)
            if (a[i] >= 8 || c[a[i]] != x[i]) bad = i;
        ck_assert_msg(bad < 0, "method %d: value %d not reproduced exactly", method, bad);
        ck_assert_double_eq(lc_kmeans_1d_cost(x, NULL, 40, c, a), 0);
    }
}
END_TEST

/* Empty clusters: a linear start on two tight, far-apart groups leaves
 * the middle centroids empty; scikit-learn's rule moves each onto the
 * value farthest from its centroid, which splits the groups. */
START_TEST(empty_clusters_relocated)
{
    float x[12] = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 10, 10.1f, 10.2f, 10.3f, 10.4f, 10.5f};
    float c[4];
    uint8_t a[12];
    ck_assert_int_eq(lc_kmeans_1d(x, NULL, 12, 4, LC_KMEANS_LINEAR, NULL, 300, c, a), LC_OK);
    int used[4] = {0};
    for (int i = 0; i < 12; i++) used[a[i]] = 1;
    for (int j = 0; j < 4; j++) ck_assert_msg(used[j], "cluster %d left empty", j);
    check_fixed_point(x, NULL, 12, 4, c, a);
}
END_TEST

START_TEST(bad_arguments)
{
    float x[3] = {1, 2, NAN}, w[3] = {1, -1, 1}, z[3] = {0, 0, 0}, c[300];
    uint8_t a[3];
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, 3, 2, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, w, 2, 2, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, z, 2, 2, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, 2, 0, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, 2, 257, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, 0, 2, c, a), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_kmeans_1d(x, NULL, 2, 2, 9, NULL, 10, c, a), LC_ERR_INVALID_ARGUMENT);
}
END_TEST

/* 256 clusters over many values (the checkpointed backtrack crosses many
 * segments): still a fixed point and no worse than Lloyd. */
START_TEST(optimal_large_k)
{
    enum { N = 20000 };
    float *x = malloc(N * sizeof *x), c[256], cl[256];
    uint8_t *a = malloc(N), *al = malloc(N);
    lc_rng r;
    lc_rng_seed(&r, 3, 0);
    random_data(&r, x, NULL, N, 2);
    ck_assert_int_eq(lc_kmeans_1d_optimal(x, NULL, N, 256, c, a), LC_OK);
    int sorted = 1;
    for (int i = 1; i < 256; i++) sorted &= c[i - 1] < c[i];
    ck_assert(sorted);
    check_fixed_point(x, NULL, N, 256, c, a);
    ck_assert_int_eq(lc_kmeans_1d(x, NULL, N, 256, LC_KMEANS_LINEAR, NULL, 300, cl, al), LC_OK);
    ck_assert(lc_kmeans_1d_cost(x, NULL, N, c, a) <= lc_kmeans_1d_cost(x, NULL, N, cl, al) * (1 + 1e-6));
    free(x);
    free(a);
    free(al);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kmeans");
    TCase *tc = tcase_create("kmeans");
    tcase_add_test(tc, optimal_equals_brute_force);
    tcase_add_test(tc, optimal_equals_brute_force_up_to_16);
    tcase_add_test(tc, lloyd_fixed_point_and_optimal_not_worse);
    tcase_add_test(tc, initialisations);
    tcase_add_test(tc, fewer_values_than_clusters);
    tcase_add_test(tc, empty_clusters_relocated);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, optimal_large_k);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
