/* Second-order machinery for prune-hessian and quantize-gptq: collecting
 * H = (2/n) sum x x^T from the executor's observer, the damped inverse
 * Cholesky factor, the SparseGPT/GPTQ column sweep and the sequential
 * driver (see lc_hessian.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "lc_encoding.h"
#include "lc_hessian.h"
#include "lc_nn.h"

/* Allocation size of n elements, at least 1 (malloc(0) may return NULL). */
static size_t nz(int64_t n) { return n > 0 ? (size_t)n : 1; }

lc_status lc_hlayer_init(lc_hlayer *L, const lc_weight *w)
{
    memset(L, 0, sizeof *L);
    L->w = *w;
    const lc_tensor *t = w->tensor;
    const lc_node *node = w->node;
    int64_t numel = lc_tensor_numel(t);
    L->inner = 1;
    for (int d = w->out_axis + 1; d < t->ndim; d++) L->inner *= t->dims[d];
    L->groups = 1;
    L->rows = t->dims[w->out_axis];
    L->kind = LC_HL_IDENTITY;
    if (!strcmp(node->op_type, "Conv") && w->input == 1) {
        int64_t group = lc_node_attr_int(node, "group", 1);
        if (group >= 1 && t->dims[0] % group == 0) {
            L->kind = LC_HL_CONV;
            L->groups = group;
            L->rows = t->dims[0] / group;
        }
    } else if (!strcmp(node->op_type, "Gemm") && w->input == 1 && t->ndim == 2) {
        L->kind = LC_HL_GEMM;
    } else if (!strcmp(node->op_type, "MatMul") && w->input == 1 && t->ndim == 2) {
        L->kind = LC_HL_MATMUL;
    }
    L->cols = L->rows ? numel / (L->groups * L->rows) : 0;
    if (L->cols > LC_HESSIAN_MAX_COLS)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "layer '%s': %lld input columns (at most %d: the Hessian would need %.1f GB; exclude it)",
                       lc_node_label(node), (long long)L->cols, LC_HESSIAN_MAX_COLS,
                       (double)L->groups * (double)L->cols * (double)L->cols * 8e-9);
    return LC_OK;
}

void lc_hlayer_release(lc_hlayer *L)
{
    free(L->h);
    free(L->xsum);
    L->h = NULL;
    L->xsum = NULL;
    L->n = 0;
    L->collected = false;
}

void lc_hlayer_load(const lc_hlayer *L, int64_t g, const int64_t *perm, double *w, uint8_t *keep)
{
    const float *v = L->w.tensor->data;
    const uint8_t *mask = L->w.tensor->enc ? L->w.tensor->enc->mask : NULL;
    for (int64_t r = 0; r < L->rows; r++)
        for (int64_t i = 0; i < L->cols; i++) {
            int64_t idx = lc_hlayer_index(L, g, r, perm ? perm[i] : i);
            w[r * L->cols + i] = v[idx];
            keep[r * L->cols + i] = mask ? mask[idx] != 0 : 1;
        }
}

/* ---- collection ---- */

typedef struct collect_state {
    lc_hlayer *layers;
    int *by_node;       /* main-graph node index -> layer index, or -1 */
    int n_nodes;
    double *buf;        /* scratch in double */
    size_t buf_cap;
    float *col;         /* im2col scratch */
    size_t col_cap;
} collect_state;

static lc_status grow(void **p, size_t *cap, size_t need)
{
    if (need <= *cap) return LC_OK;
    void *q = realloc(*p, need);
    if (!q) return lc_fail(LC_ERR_NO_MEMORY, "Hessian collection: out of memory (%zu bytes)", need);
    *p = q;
    *cap = need;
    return LC_OK;
}

/* H += rows of x (nrows x k floats, row-major); xs += their sum. */
static lc_status add_rows(collect_state *cs, double *h, double *xs, const float *x, int64_t nrows, int64_t k)
{
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t j = 0; j < k; j++) xs[j] += x[r * k + j];
    const int64_t chunk = 4096;
    for (int64_t r0 = 0; r0 < nrows; r0 += chunk) {
        int64_t m = nrows - r0 < chunk ? nrows - r0 : chunk;
        lc_status s = grow((void **)&cs->buf, &cs->buf_cap, (size_t)(m * k) * sizeof(double));
        if (s) return s;
        for (int64_t i = 0; i < m * k; i++) cs->buf[i] = x[r0 * k + i];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)m, 1.0, cs->buf, (int)k, 1.0, h, (int)k);
    }
    return LC_OK;
}

/* Copies the k x ncols block x (row stride ld) into columns [at, at +
 * ncols) of the double buffer buf (row stride bld); xs += its row sums.
 * Four partial sums per row: a serial chain of additions would cost more
 * than the copy (the terms are floats, exact in double, so only the
 * rounding of the sum's last bits depends on the grouping). */
static void stage_cols(double *buf, int64_t bld, int64_t at, double *xs, const float *x, int64_t k, int64_t ncols,
                       int64_t ld)
{
    for (int64_t i = 0; i < k; i++) {
        const float *xr = x + i * ld;
        double *br = buf + i * bld + at;
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int64_t j = 0;
        for (; j + 4 <= ncols; j += 4) {
            br[j] = xr[j];
            br[j + 1] = xr[j + 1];
            br[j + 2] = xr[j + 2];
            br[j + 3] = xr[j + 3];
            a0 += xr[j];
            a1 += xr[j + 1];
            a2 += xr[j + 2];
            a3 += xr[j + 3];
        }
        for (; j < ncols; j++) {
            br[j] = xr[j];
            a0 += xr[j];
        }
        xs[i] += (a0 + a1) + (a2 + a3);
    }
}

/* H += x x^T for the k rows of x (k x ncols, row-major, rows are
 * features); xs += the sum of its columns. */
static lc_status add_cols(collect_state *cs, double *h, double *xs, const float *x, int64_t k, int64_t ncols, int64_t ld)
{
    lc_status s = grow((void **)&cs->buf, &cs->buf_cap, (size_t)(k * ncols) * sizeof(double));
    if (s) return s;
    stage_cols(cs->buf, ncols, 0, xs, x, k, ncols, ld);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)ncols, 1.0, cs->buf, (int)ncols, 1.0, h,
                (int)k);
    return LC_OK;
}

/* Output positions per product of a Conv's columns: small outputs make
 * thin products, so the columns of several images go side by side (in
 * buffers of at most CONV_SYRK_VALUES, or one image's). */
#define CONV_SYRK_COLS 1024
#define CONV_SYRK_VALUES ((int64_t)1 << 21)

/* H (k x k, upper triangle, double) += x x^T for the k rows of x (k x ld
 * floats). The products run in float (ssyrk: twice dgemm's pace; the
 * accumulation of the Hessian was a third of a pruning pipeline's time),
 * each over at most CONV_SYRK_COLS positions (one image of a large output
 * is cut into several), so their rounding stays at the float's relative
 * precision times a few dozen, and they add up in double. tmp: k x k
 * floats. */
static void syrk_chunk(double *h, float *tmp, const float *x, int64_t k, int64_t ld)
{
    for (int64_t c0 = 0; c0 < ld; c0 += CONV_SYRK_COLS) {
        const int64_t n = ld - c0 < CONV_SYRK_COLS ? ld - c0 : CONV_SYRK_COLS;
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)n, 1.0f, x + c0, (int)ld, 0.0f, tmp,
                    (int)k);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = i; j < k; j++) h[i * k + j] += tmp[i * k + j];
    }
}

/* Sum of n floats in double, eight partial sums (one chain of additions
 * would cost more than the product of the chunk's columns). */
static double row_sum(const float *x, int64_t n)
{
    double a[8] = {0};
    int64_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int i = 0; i < 8; i++) a[i] += x[q + i];
    for (; q < n; q++) a[0] += x[q];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

static lc_status observe_conv(collect_state *cs, lc_hlayer *L, const lc_node *node, const lc_value *x)
{
    const lc_tensor *t = L->w.tensor;
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > LC_NN_MAX_SPATIAL || nsp != t->ndim - 2)
        return lc_fail(LC_ERR_SHAPE, "layer '%s': Conv input of rank %d", lc_node_label(node), x->ndim);
    int64_t c = x->dims[1], cg = c / L->groups;
    if (cg < 1 || cg * L->groups != c || L->cols % cg != 0)
        return lc_fail(LC_ERR_SHAPE, "layer '%s': %lld input channels for %lld groups of %lld columns",
                       lc_node_label(node), (long long)c, (long long)L->groups, (long long)L->cols);
    lc_nn_geom g;
    lc_status s = lc_nn_geom_init(node, nsp, x->dims + 2, t->dims + 2, false, &g);
    if (s) return s;
    if (cg * g.k_size != L->cols) return lc_fail(LC_ERR_SHAPE, "layer '%s': kernel does not match the weight", lc_node_label(node));
    const int64_t P = g.out_size, k = L->cols, nimg = x->dims[0];
    int64_t nb = P >= CONV_SYRK_COLS ? 1 : CONV_SYRK_COLS / (P > 0 ? P : 1);
    if (nb > nimg) nb = nimg;
    if (nb > 1 && k * nb * P > CONV_SYRK_VALUES) nb = CONV_SYRK_VALUES / (k * P);
    if (nb < 1) nb = 1;
    /* col: the k x (nb P) columns, then the k x k float product */
    if ((s = grow((void **)&cs->col, &cs->col_cap, (size_t)(k * nb * P + k * k) * sizeof(float)))) return s;
    /* centred (H - n m m^T cancels): the products in double, as exact as
       the sums of exact products allow */
    if (L->center && (s = grow((void **)&cs->buf, &cs->buf_cap, (size_t)(k * nb * P) * sizeof(double)))) return s;
    float *tmp = cs->col + k * nb * P;
    const float *xd = x->data;
    /* per group, images in order: each group's H only sees its own columns */
    for (int64_t gi = 0; gi < L->groups; gi++)
        for (int64_t b0 = 0; b0 < nimg; b0 += nb) {
            const int64_t cnt = nimg - b0 < nb ? nimg - b0 : nb, ld = cnt * P;
            for (int64_t j = 0; j < cnt; j++)
                lc_nn_im2col(&g, cg, xd + ((b0 + j) * c + gi * cg) * g.in_size, cs->col + j * P, ld);
            if (k == 0 || ld == 0) continue;
            if (L->center) {
                for (int64_t j = 0; j < cnt; j++)
                    stage_cols(cs->buf, ld, j * P, L->xsum + gi * k, cs->col + j * P, k, P, ld);
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)ld, 1.0, cs->buf, (int)ld, 1.0,
                            L->h + gi * k * k, (int)k);
                continue;
            }
            for (int64_t i = 0; i < k; i++) L->xsum[gi * k + i] += row_sum(cs->col + i * ld, ld);
            syrk_chunk(L->h + gi * k * k, tmp, cs->col, k, ld);
        }
    L->n += nimg * P;
    return LC_OK;
}

static lc_status on_node(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                         const lc_value *const *out)
{
    (void)n_out;
    (void)out;
    collect_state *cs = user;
    if (node_index < 0 || node_index >= cs->n_nodes || cs->by_node[node_index] < 0) return LC_OK;
    lc_hlayer *L = &cs->layers[cs->by_node[node_index]];
    if (n_in < 1 || !in[0] || in[0]->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_DTYPE, "layer '%s': the Hessian needs a float32 input", lc_node_label(node));
    const lc_value *x = in[0];
    int64_t k = L->cols, numel = lc_value_numel(x);
    if (L->kind == LC_HL_CONV) return observe_conv(cs, L, node, x);
    if (L->kind == LC_HL_GEMM) {
        if (x->ndim != 2) return lc_fail(LC_ERR_SHAPE, "layer '%s': Gemm input of rank %d", lc_node_label(node), x->ndim);
        bool ta = lc_node_attr_int(node, "transA", 0) != 0;
        int64_t m = ta ? x->dims[1] : x->dims[0];
        if ((ta ? x->dims[0] : x->dims[1]) != k)
            return lc_fail(LC_ERR_SHAPE, "layer '%s': input has %lld features, weight %lld", lc_node_label(node),
                           (long long)(ta ? x->dims[0] : x->dims[1]), (long long)k);
        lc_status s = ta ? add_cols(cs, L->h, L->xsum, x->data, k, m, m) : add_rows(cs, L->h, L->xsum, x->data, m, k);
        if (!s) L->n += m;
        return s;
    }
    /* MatMul: rows of the last axis; a 1-D input is one vector */
    if (x->ndim < 1 || x->dims[x->ndim - 1] != k)
        return lc_fail(LC_ERR_SHAPE, "layer '%s': MatMul input does not end in %lld features", lc_node_label(node),
                       (long long)k);
    lc_status s = add_rows(cs, L->h, L->xsum, x->data, numel / k, k);
    if (!s) L->n += numel / k;
    return s;
}

lc_status lc_hessian_collect(const lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, const bool *select)
{
    collect_state cs = {layers, NULL, m->graph->n_nodes, NULL, 0, NULL, 0};
    lc_status s = LC_OK;
    bool any = false;
    cs.by_node = malloc(nz(cs.n_nodes) * sizeof *cs.by_node);
    if (!cs.by_node) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < cs.n_nodes; i++) cs.by_node[i] = -1;
    for (int i = 0; i < n; i++) {
        lc_hlayer *L = &layers[i];
        if ((select && !select[i]) || L->collected || L->kind == LC_HL_IDENTITY) continue;
        size_t sz = (size_t)(L->groups * L->cols * L->cols);
        free(L->h);
        free(L->xsum);
        L->xsum = calloc(nz(L->groups * L->cols), sizeof(double));
        if (!(L->h = calloc(sz ? sz : 1, sizeof(double))) || !L->xsum) {
            s = lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory for its Hessian (%zu doubles)",
                        lc_node_label(L->w.node), sz);
            goto done;
        }
        L->n = 0;
        cs.by_node[L->w.node_index] = i;
        any = true;
    }
    if (any) {
        /* the run can stop after the last layer collected */
        bool *need = malloc(nz(cs.n_nodes) * sizeof *need);
        if (!need) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        for (int i = 0; i < cs.n_nodes; i++) need[i] = cs.by_node[i] >= 0;
        /* on_node reads the layers' inputs only: their own Conv/Gemm need not run */
        s = lc_calib_run_inputs(m, ctx, on_node, &cs, need);
        free(need);
    }
    if (s) goto done;
    for (int i = 0; i < cs.n_nodes; i++)
        if (cs.by_node[i] >= 0) layers[cs.by_node[i]].collected = true;
done:
    if (s)
        for (int i = 0; i < cs.n_nodes; i++)
            if (cs.by_node[i] >= 0) lc_hlayer_release(&layers[cs.by_node[i]]);
    free(cs.by_node);
    free(cs.buf);
    free(cs.col);
    return s;
}

/* ---- the damped inverse Cholesky factor ---- */

static bool all_finite(const double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return false;
    return true;
}

lc_status lc_hessian_inverse_chol(const lc_hlayer *L, int64_t g, const int64_t *perm, double damp, double *u,
                                  uint8_t *dead, double *lambda_out, int *tries)
{
    int64_t k = L->cols;
    double *h = malloc(nz(k * k) * sizeof *h);
    if (!h) return lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory", lc_node_label(L->w.node));
    /* H = (2/n) sum x x^T, symmetric; the identity without statistics */
    bool have = L->collected && L->h && L->n > 0;
    double scale = have ? 2.0 / (double)L->n : 0;
    const double *src = have ? L->h + g * k * k : NULL;
    const double *xs = have && L->center && L->xsum ? L->xsum + g * k : NULL;
    double inv_n = have ? 1.0 / (double)L->n : 0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            int64_t a = perm ? perm[i] : i, b = perm ? perm[j] : j;
            double sab = have ? (a <= b ? src[a * k + b] : src[b * k + a]) : 0;
            /* centred: sum (x - m)(x - m)^T = sum x x^T - n m m^T */
            if (xs) sab -= xs[a] * xs[b] * inv_n;
            h[i * k + j] = have ? scale * sab : (i == j);
        }
    /* dead inputs: the weight can do nothing, H_jj = 1 keeps H invertible */
    double mean = 0;
    for (int64_t j = 0; j < k; j++) {
        /* centred: an input that is constant up to rounding is dead too
         * (its weight only adds a constant, which the correction absorbs) */
        int64_t a = perm ? perm[j] : j;
        double floor = xs ? 1e-9 * scale * src[a * k + a] : 0.0;
        bool d = (xs ? !(h[j * k + j] > floor) : h[j * k + j] == 0.0) || !isfinite(h[j * k + j]);
        if (dead) dead[j] = d;
        if (d) {
            for (int64_t i = 0; i < k; i++) h[i * k + j] = h[j * k + i] = 0;
            h[j * k + j] = 1;
        }
        mean += h[j * k + j];
    }
    mean = k ? mean / (double)k : 1;
    if (!(mean > 0) || !isfinite(mean)) mean = 1;
    double lambda = damp * mean;
    int attempt = 0;
    bool ok = false;
    for (; attempt <= 8 && !ok; attempt++) {
        if (attempt > 0) lambda = lambda > 0 ? lambda * 10 : 1e-6 * mean;
        for (int64_t i = 0; i < k; i++) {
            memcpy(u + i * k, h + i * k, (size_t)k * sizeof *u);
            u[i * k + i] += lambda;
        }
        /* (H + lambda I) = R^T R, its inverse, then that inverse = U^T U */
        if (!all_finite(u, k * k)) break;
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, u, (lapack_int)k) != 0) continue;
        /* a pivot that barely survived rounding means numerically singular:
         * its inverse would blow the updates up (for a PSD H every squared
         * pivot is at least lambda, so this only triggers below that) */
        double dmax = 0, pmin = INFINITY;
        for (int64_t i = 0; i < k; i++) {
            dmax = fmax(dmax, h[i * k + i] + lambda);
            pmin = fmin(pmin, u[i * k + i] * u[i * k + i]);
        }
        if (k > 0 && !(pmin > 1e-10 * dmax)) continue;
        if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, u, (lapack_int)k) != 0) continue;
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, u, (lapack_int)k) != 0) continue;
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < i; j++) u[i * k + j] = 0;
        ok = all_finite(u, k * k);
        for (int64_t i = 0; i < k && ok; i++) ok = u[i * k + i] > 0;
    }
    if (!ok) {
        /* the diagonal approximation: finite whatever H was */
        for (int64_t i = 0; i < k * k; i++) u[i] = 0;
        for (int64_t j = 0; j < k; j++) {
            double d = h[j * k + j] + lambda;
            u[j * k + j] = isfinite(d) && d > 0 ? 1.0 / sqrt(d) : 1.0;
        }
    }
    if (lambda_out) *lambda_out = lambda;
    if (tries) *tries = ok ? attempt : -1;
    free(h);
    return LC_OK;
}

/* ---- the column sweep ---- */

typedef struct sal {
    double s;
    int64_t i;
} sal;

static int cmp_sal(const void *a, const void *b)
{
    const sal *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static bool sal_less(const sal *x, const sal *y) { return x->s < y->s || (x->s == y->s && x->i < y->i); }

static void sal_swap(sal *a, sal *b)
{
    sal t = *a;
    *a = *b;
    *b = t;
}

/* Reorders a[0, n) so that its k smallest (in cmp_sal's total order, so
 * the set is unique) come first, in any order: what the block's mask needs,
 * without sorting all of it. Quickselect with a median-of-three pivot; the
 * pivot choice only changes how fast, never which elements come first. */
static void sal_select(sal *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (k > 0 && k < n && lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sal_less(&a[mid], &a[lo])) sal_swap(&a[mid], &a[lo]);
        if (sal_less(&a[hi], &a[lo])) sal_swap(&a[hi], &a[lo]);
        if (sal_less(&a[hi], &a[mid])) sal_swap(&a[hi], &a[mid]);
        const sal p = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (sal_less(&a[i], &p)) i++;
            while (sal_less(&p, &a[j])) j--;
            if (i <= j) sal_swap(&a[i++], &a[j--]);
        }
        /* now a[lo, j] <= p <= a[i, hi], and a[j+1, i-1] == p */
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

/* Start of the N:M group that holds column j, and its width. */
static void nm_group(const lc_sweep_opts *o, int64_t k, int64_t j, int64_t *start, int64_t *width)
{
    int64_t seg = o->nm_segment > 0 ? o->nm_segment : k;
    int64_t s0 = (j / seg) * seg, send = s0 + seg < k ? s0 + seg : k;
    *start = s0 + ((j - s0) / o->nm_m) * o->nm_m;
    *width = send - *start < o->nm_m ? send - *start : o->nm_m;
}

lc_status lc_obs_sweep(double *w, int64_t rows, int64_t k, const double *u, uint8_t *keep, const lc_sweep_opts *o,
                       double *loss)
{
    int64_t block = o->block > 0 ? o->block : 128;
    if (o->nm_m > 0 && block < o->nm_m) block = o->nm_m;
    double *err = malloc(nz(rows * block) * sizeof *err);
    sal *sl = malloc((size_t)(rows * (block > o->nm_m ? block : o->nm_m) + 1) * sizeof *sl);
    double total = 0;
    int64_t pruned = 0; /* in the blocks before */
    if (!err || !sl) {
        free(err);
        free(sl);
        return lc_fail(LC_ERR_NO_MEMORY, "Hessian sweep: out of memory");
    }
    for (int64_t i1 = 0; i1 < k;) {
        int64_t i2 = i1 + block < k ? i1 + block : k;
        if (o->nm_m > 0 && i2 < k) {
            /* never split an N:M group across blocks */
            int64_t gs, gw;
            nm_group(o, k, i2, &gs, &gw);
            if (gs > i1) i2 = gs;
            else i2 = gs + gw;
        }
        int64_t width = i2 - i1;
        if (o->sparsity > 0 && o->nm_m == 0) {
            /* the block's mask: smallest saliency w^2 / U_jj^2, already
             * pruned weights first */
            /* cumulative rounding: the sweep as a whole prunes exactly
             * round(sparsity * rows * k), however small the blocks */
            int64_t cnt = 0, target = (int64_t)llround(o->sparsity * (double)(rows * i2)) - pruned;
            if (target < 0) target = 0;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = i1; j < i2; j++) {
                    double d = u[j * k + j], v = w[r * k + j];
                    double s = keep[r * k + j] ? v * v / (d * d) * (o->row_weight ? o->row_weight[r] : 1.0) : -1.0;
                    sl[cnt++] = (sal){s, r * k + j};
                }
            sal_select(sl, cnt, target);
            for (int64_t t = 0; t < cnt; t++) {
                keep[sl[t].i] = t >= target && keep[sl[t].i];
                pruned += !keep[sl[t].i];
            }
        }
        for (int64_t j = i1; j < i2; j++) {
            if (o->nm_m > 0) {
                int64_t gs, gw;
                nm_group(o, k, j, &gs, &gw);
                if (gs == j && gw > o->nm_n)
                    for (int64_t r = 0; r < rows; r++) {
                        for (int64_t q = 0; q < gw; q++) {
                            double d = u[(j + q) * k + j + q], v = w[r * k + j + q];
                            sl[q] = (sal){keep[r * k + j + q] ? v * v / (d * d) : -1.0, r * k + j + q};
                        }
                        qsort(sl, (size_t)gw, sizeof *sl, cmp_sal);
                        for (int64_t q = 0; q < gw - o->nm_n; q++) keep[sl[q].i] = 0;
                    }
            }
            double d = u[j * k + j];
            for (int64_t r = 0; r < rows; r++) {
                double v = w[r * k + j], q;
                if (!keep[r * k + j]) q = 0;
                else q = o->quant ? o->quant(o->quant_user, r, j, v) : v;
                double e = (v - q) / d;
                total += e * e;
                err[r * block + (j - i1)] = e;
                w[r * k + j] = q;
                /* spread within the block: W[:, j+1:i2] -= e * U[j, j+1:i2] */
                const double *urow = u + j * k;
                double *wr = w + r * k;
                for (int64_t c = j + 1; c < i2; c++) wr[c] -= e * urow[c];
            }
        }
        /* the lazy update of every later column */
        if (i2 < k)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(k - i2), (int)width, -1.0, err,
                        (int)block, u + i1 * k + i2, (int)k, 1.0, w + i2, (int)k);
        i1 = i2;
    }
    free(err);
    free(sl);
    if (loss) *loss = total / 2;
    return LC_OK;
}

/* ---- the driver ---- */

lc_status lc_hessian_compress(lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, bool sequential,
                              lc_hlayer_fn fn, void *user)
{
    return lc_hessian_compress_ex(m, ctx, layers, n, sequential, fn, NULL, user);
}

lc_status lc_hessian_compress_ex(lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, bool sequential,
                                 lc_hlayer_fn fn, lc_wave_fn after_wave, void *user)
{
    lc_status s = LC_OK;
    int nn = m->graph->n_nodes, n_levels = 0;
    bool *marked = calloc(nz(nn), sizeof *marked);
    bool *select = calloc(nz(n), sizeof *select);
    int *level = malloc(nz(nn) * sizeof *level);
    if (!marked || !select || !level) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (!sequential) {
        if ((s = lc_hessian_collect(m, ctx, layers, n, NULL))) goto done;
        for (int i = 0; i < n && !s; i++) {
            s = fn(user, &layers[i], i);
            lc_hlayer_release(&layers[i]);
        }
        goto done;
    }
    for (int i = 0; i < n; i++) marked[layers[i].w.node_index] = true;
    if ((s = lc_graph_levels(m->graph, marked, level, &n_levels))) goto done;
    for (int lv = 0; lv < n_levels && !s; lv++) {
        bool any = false;
        for (int i = 0; i < n; i++) {
            select[i] = level[layers[i].w.node_index] == lv;
            /* statistics gathered before the first wave went stale */
            if (lv > 0 && select[i] && layers[i].collected) lc_hlayer_release(&layers[i]);
            any |= select[i];
        }
        if (!any) continue;
        if ((s = lc_hessian_collect(m, ctx, layers, n, select))) break;
        for (int i = 0; i < n && !s; i++)
            if (select[i]) {
                s = fn(user, &layers[i], i);
                lc_hlayer_release(&layers[i]);
            }
        if (!s && after_wave && lv + 1 < n_levels) s = after_wave(user, m);
        lc_progress(ctx, "layers", lv + 1, n_levels);
    }
done:
    free(marked);
    free(select);
    free(level);
    return s;
}
