/* One-dimensional weighted k-means: initialisations, Lloyd's iterations
 * and the exact dynamic-programming optimum (see lc_kmeans.h).
 *
 * Both algorithms work on the sorted values (equal ones merged for the
 * dynamic programme) with prefix sums of w, w*x and w*x^2 (x shifted by
 * the weighted mean, which keeps the differences of prefix sums accurate). In one
 * dimension a cluster of the nearest-centroid rule is a contiguous run of
 * sorted values, so a Lloyd step is k binary searches plus k differences
 * of prefix sums, and the cost of any contiguous cluster is O(1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_kmeans.h"

typedef struct sdata {
    int64_t m;             /* values (distinct ones when merged) */
    float *v;              /* sorted values (floats: exact, half the bytes) */
    double *w;             /* their (merged) weights (NULL once the prefix
                              sums are built, for the exact optimum) */
    double *pw, *px, *pxx; /* m + 1 prefix sums of w, w*(v-shift), w*(v-shift)^2 */
    double shift;
} sdata;

typedef struct vw {
    float v, w;
} vw;

static int cmp_vw(const void *a, const void *b)
{
    float x = ((const vw *)a)->v, y = ((const vw *)b)->v;
    return x < y ? -1 : x > y;
}

static void sdata_free(sdata *s)
{
    free(s->v);
    free(s->w);
    free(s->pw);
    free(s->px);
    free(s->pxx);
    memset(s, 0, sizeof *s);
}

static lc_status check_args(const float *x, const float *weight, int64_t n, int k, const float *centroids)
{
    if (!x || !centroids || n < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: no values");
    if (k < 1 || k > 256) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: %d clusters (1..256 supported)", k);
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: value %lld is not finite", (long long)i);
        if (weight) {
            if (!isfinite(weight[i]) || weight[i] < 0)
                return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: weight %lld is %g", (long long)i, (double)weight[i]);
            total += weight[i];
        }
    }
    if (weight && !(total > 0)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: the weights sum to zero");
    return LC_OK;
}

/* Sorts the values, merging equal ones when `merge` (Lloyd keeps them
 * apart, so that an empty cluster takes one sample, as scikit-learn's). */
static lc_status sdata_build(const float *x, const float *weight, int64_t n, bool merge, sdata *s)
{
    memset(s, 0, sizeof *s);
    vw *p = malloc((size_t)n * sizeof *p);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "k-means: out of memory for %lld values", (long long)n);
    for (int64_t i = 0; i < n; i++) p[i] = (vw){x[i], weight ? weight[i] : 1.0f};
    qsort(p, (size_t)n, sizeof *p, cmp_vw);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) m += i == 0 || !merge || p[i].v != p[i - 1].v;
    s->m = m;
    s->v = malloc((size_t)m * sizeof *s->v);
    s->w = malloc((size_t)m * sizeof *s->w);
    s->pw = malloc((size_t)(m + 1) * sizeof *s->pw);
    s->px = malloc((size_t)(m + 1) * sizeof *s->px);
    s->pxx = malloc((size_t)(m + 1) * sizeof *s->pxx);
    if (!s->v || !s->w || !s->pw || !s->px || !s->pxx) {
        free(p);
        sdata_free(s);
        return lc_fail(LC_ERR_NO_MEMORY, "k-means: out of memory for %lld values", (long long)n);
    }
    int64_t j = -1;
    double sw = 0, swx = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || !merge || p[i].v != p[i - 1].v) {
            j++;
            s->v[j] = p[i].v;
            s->w[j] = 0;
        }
        s->w[j] += p[i].w;
        sw += p[i].w;
        swx += (double)p[i].w * p[i].v;
    }
    free(p);
    s->shift = sw > 0 ? swx / sw : 0;
    s->pw[0] = s->px[0] = s->pxx[0] = 0;
    for (int64_t i = 0; i < m; i++) {
        double d = s->v[i] - s->shift;
        s->pw[i + 1] = s->pw[i] + s->w[i];
        s->px[i + 1] = s->px[i] + s->w[i] * d;
        s->pxx[i + 1] = s->pxx[i] + s->w[i] * d * d;
    }
    return LC_OK;
}

/* The nearest-centroid rule between neighbours a < b: v goes to b only
 * when strictly closer (ties stay with the lower centroid). */
static inline int closer_to_next(double v, double a, double b) { return (v - a) > (b - v); }

/* ---- initialisation ---- */

static lc_status init_sorted(const sdata *s, int k, int init, lc_rng *rng, double *c)
{
    int64_t m = s->m;
    if (init == LC_KMEANS_LINEAR) {
        double lo = s->v[0], hi = s->v[m - 1];
        for (int i = 0; i < k; i++) c[i] = k == 1 ? lo + (hi - lo) / 2 : lo + (hi - lo) * i / (k - 1);
        return LC_OK;
    }
    if (init == LC_KMEANS_DENSITY) {
        double total = s->pw[m];
        int64_t j = 0;
        for (int i = 0; i < k; i++) {
            double q = (i + 0.5) / k * total;
            while (j < m - 1 && s->pw[j + 1] < q) j++;
            c[i] = s->v[j];
        }
        return LC_OK;
    }
    if (init == LC_KMEANS_RANDOM) {
        if (!rng) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: random initialisation needs an lc_rng");
        /* Forgy: k distinct values by a partial Fisher-Yates shuffle */
        int64_t *idx = malloc((size_t)m * sizeof *idx);
        if (!idx) return lc_fail(LC_ERR_NO_MEMORY, "k-means: out of memory");
        for (int64_t i = 0; i < m; i++) idx[i] = i;
        for (int i = 0; i < k; i++) {
            if (i < m) {
                int64_t r = i + (int64_t)(lc_rng_uniform(rng) * (double)(m - i));
                if (r >= m) r = m - 1;
                int64_t t = idx[i];
                idx[i] = idx[r];
                idx[r] = t;
                c[i] = s->v[idx[i]];
            } else {
                c[i] = s->v[m - 1];
            }
        }
        free(idx);
        return LC_OK;
    }
    return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: unknown initialisation %d", init);
}

lc_status lc_kmeans_1d_init(const float *x, const float *weight, int64_t n, int k, int init, lc_rng *rng,
                            float *centroids)
{
    lc_status st = check_args(x, weight, n, k, centroids);
    if (st) return st;
    sdata s;
    if ((st = sdata_build(x, weight, n, true, &s))) return st;
    double c[256];
    if (!(st = init_sorted(&s, k, init, rng, c)))
        for (int i = 0; i < k; i++) centroids[i] = (float)c[i];
    sdata_free(&s);
    return st;
}

/* ---- assignment ---- */

/* Centroid indices ordered by (value, index), keeping only the first of
 * each run of equal values (the others never win a value). Returns the
 * count of such active centroids. */
static int active_order(const double *c, int k, int *act)
{
    int ord[256];
    for (int i = 0; i < k; i++) {
        /* insertion sort: k <= 256, and stable, so equal values keep index order */
        int j = i;
        while (j > 0 && c[ord[j - 1]] > c[i]) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    int r = 0;
    for (int i = 0; i < k; i++)
        if (r == 0 || c[ord[i]] != c[act[r - 1]]) act[r++] = ord[i];
    return r;
}

/* Index into act[] of the nearest active centroid of v. */
static int nearest(double v, const double *c, const int *act, int r)
{
    int lo = 0, hi = r - 1; /* first t with !closer_to_next(v, a_t, a_t+1), or r - 1 */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (closer_to_next(v, c[act[mid]], c[act[mid + 1]])) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

lc_status lc_kmeans_1d_assign(const float *x, int64_t n, const float *centroids, int k, uint8_t *assign)
{
    if (!x || !centroids || !assign || n < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: NULL argument");
    if (k < 1 || k > 256) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: %d clusters (1..256 supported)", k);
    double c[256];
    int act[256];
    for (int i = 0; i < k; i++) c[i] = centroids[i];
    int r = active_order(c, k, act);
    for (int64_t i = 0; i < n; i++) assign[i] = (uint8_t)act[nearest(x[i], c, act, r)];
    return LC_OK;
}

double lc_kmeans_1d_cost(const float *x, const float *weight, int64_t n, const float *centroids, const uint8_t *assign)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - centroids[assign[i]];
        sum += (weight ? weight[i] : 1.0) * d * d;
    }
    return sum;
}

/* ---- Lloyd ---- */

/* Runs [lo[j], hi[j]) of sorted distinct values owned by each centroid. */
static void ranges(const sdata *s, const double *c, int k, int64_t *lo, int64_t *hi)
{
    int act[256];
    int r = active_order(c, k, act);
    for (int j = 0; j < k; j++) lo[j] = hi[j] = 0;
    int64_t start = 0;
    for (int t = 0; t < r; t++) {
        int64_t end = s->m;
        if (t + 1 < r) {
            double a = c[act[t]], b = c[act[t + 1]];
            int64_t l = start, h = s->m; /* first index closer to b */
            while (l < h) {
                int64_t mid = l + (h - l) / 2;
                if (closer_to_next(s->v[mid], a, b)) h = mid;
                else l = mid + 1;
            }
            end = l;
        }
        lo[act[t]] = start;
        hi[act[t]] = end;
        start = end;
    }
}

/* scikit-learn's rule for clusters left without weight: each (in index
 * order) takes the value farthest from its current centroid among those
 * not taken yet. In a cluster's run the farthest values are at its ends,
 * so two shrinking pointers per cluster list the candidates in order. */
static void relocate_empty(const sdata *s, const double *c, int k, const int64_t *lo, const int64_t *hi, double *sum,
                           double *wt, double *newc, double origin)
{
    int64_t l[256], h[256];
    int empty[256], n_empty = 0;
    for (int j = 0; j < k; j++) {
        l[j] = lo[j], h[j] = hi[j];
        if (!(wt[j] > 0)) empty[n_empty++] = j;
    }
    for (int q = 0; q < n_empty; q++) {
        int e = empty[q], best = -1;
        int64_t bp = 0;
        double bd = -1;
        for (int j = 0; j < k; j++) {
            if (l[j] >= h[j]) continue;
            double dl = fabs(s->v[l[j]] - c[j]), dh = fabs(s->v[h[j] - 1] - c[j]);
            int64_t p = dh > dl ? h[j] - 1 : l[j];
            double d = dh > dl ? dh : dl;
            if (d > bd || (d == bd && p < bp)) best = j, bp = p, bd = d;
        }
        if (best < 0) break; /* every value taken: the rest keep their place */
        if (bp == l[best]) l[best]++;
        else h[best]--;
        double d = s->v[bp] - s->shift;
        sum[best] -= s->w[bp] * d;
        wt[best] -= s->w[bp];
        if (l[best] >= h[best]) {
            /* emptied: scikit-learn leaves its (zero) sum un-averaged, i.e. the
             * centroid goes to the origin of its centred data, the mean of x */
            wt[best] = 0;
            newc[best] = origin;
        }
        sum[e] = s->w[bp] * d;
        wt[e] = s->w[bp];
        newc[e] = s->v[bp];
    }
}

/* A cluster's mean from prefix sums, clamped to its run of values (so a
 * run of one value gives that value exactly, not a rounding of it). */
static double run_mean(const sdata *s, int64_t lo, int64_t hi, double mean)
{
    if (lo >= hi) return mean;
    if (mean < s->v[lo]) return s->v[lo];
    if (mean > s->v[hi - 1]) return s->v[hi - 1];
    return mean;
}

static lc_status lloyd_sorted(const sdata *s, double tol_abs, double origin, int k, int max_iter, double *c, int *iters)
{
    int64_t *lo = malloc(4 * 256 * sizeof *lo);
    if (!lo) return lc_fail(LC_ERR_NO_MEMORY, "k-means: out of memory");
    int64_t *hi = lo + 256, *plo = lo + 512, *phi = lo + 768;
    double sum[256], wt[256], newc[256];
    int it = 0;
    for (it = 0; it < max_iter;) {
        ranges(s, c, k, lo, hi);
        for (int j = 0; j < k; j++) {
            wt[j] = s->pw[hi[j]] - s->pw[lo[j]];
            sum[j] = s->px[hi[j]] - s->px[lo[j]];
            newc[j] = c[j];
        }
        relocate_empty(s, c, k, lo, hi, sum, wt, newc, origin);
        double shift = 0;
        for (int j = 0; j < k; j++) {
            if (wt[j] > 0) newc[j] = run_mean(s, lo[j], hi[j], sum[j] / wt[j] + s->shift);
            shift += (newc[j] - c[j]) * (newc[j] - c[j]);
        }
        bool same = it > 0;
        for (int j = 0; j < k && same; j++) same = lo[j] == plo[j] && hi[j] == phi[j];
        memcpy(c, newc, (size_t)k * sizeof *c);
        it++;
        if (same || shift <= tol_abs) break;
        memcpy(plo, lo, 256 * sizeof *lo);
        memcpy(phi, hi, 256 * sizeof *hi);
    }
    free(lo);
    if (iters) *iters = it;
    return LC_OK;
}

lc_status lc_kmeans_1d_lloyd(const float *x, const float *weight, int64_t n, int k, int max_iter, double tol,
                             float *centroids, uint8_t *assign, int *iters)
{
    lc_status st = check_args(x, weight, n, k, centroids);
    if (st) return st;
    if (max_iter < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: max_iter %d (at least 1)", max_iter);
    for (int i = 0; i < k; i++)
        if (!isfinite(centroids[i])) return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: initial centroid %d is not finite", i);
    sdata s;
    if ((st = sdata_build(x, weight, n, false, &s))) return st;
    /* scikit-learn's tolerance: tol times the (unweighted) variance of x */
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    var /= (double)n;
    double c[256];
    for (int i = 0; i < k; i++) c[i] = centroids[i];
    st = lloyd_sorted(&s, tol * var, mean, k, max_iter, c, iters);
    sdata_free(&s);
    if (st) return st;
    for (int i = 0; i < k; i++) centroids[i] = (float)c[i];
    return assign ? lc_kmeans_1d_assign(x, n, centroids, k, assign) : LC_OK;
}

lc_status lc_kmeans_1d(const float *x, const float *weight, int64_t n, int k, int init, lc_rng *rng, int max_iter,
                       float *centroids, uint8_t *assign)
{
    lc_status st = lc_kmeans_1d_init(x, weight, n, k, init, rng, centroids);
    if (!st) st = lc_kmeans_1d_lloyd(x, weight, n, k, max_iter, 1e-10, centroids, assign, NULL);
    return st;
}

/* ---- exact optimum ---- */

/* Weighted sum of squares of the run [j, i] of sorted values. */
static inline double run_cost(const sdata *s, int64_t j, int64_t i)
{
    double w = s->pw[i + 1] - s->pw[j];
    if (!(w > 0)) return 0;
    double sx = s->px[i + 1] - s->px[j];
    double c = (s->pxx[i + 1] - s->pxx[j]) - sx * sx / w;
    return c > 0 ? c : 0;
}

typedef struct dp_row {
    const sdata *s;
    const double *prev; /* D[c-1] */
    double *cur;        /* D[c] */
    int32_t *arg;       /* start of the last cluster, or NULL */
    int64_t c;
    int64_t want;       /* >= 0: only find the start of the last cluster of
                           D[c][want] (into *found), following the search
                           path that leads to it; cur is then unused */
    int64_t *found;
} dp_row;

/* Candidates of one D[c][i]: out[t] = D[c-1][j+t-1] + cost(j+t, i) for t <
 * cnt, four at a time: the same operations as run_cost in the same order
 * (no contraction into FMA), so the same bits, but the divisions, which
 * bound this loop, go four per instruction. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void dp_candidates(const sdata *s, const double *prev, int64_t j,
                                                                int64_t cnt, int64_t i, double *out)
{
    const double A = s->pw[i + 1], B = s->px[i + 1], C = s->pxx[i + 1];
    const v4d zero = {0, 0, 0, 0};
    int64_t t = 0;
    for (; t + 4 <= cnt; t += 4) {
        v4d pw, px, pxx, pv;
        memcpy(&pw, s->pw + j + t, sizeof pw);
        memcpy(&px, s->px + j + t, sizeof px);
        memcpy(&pxx, s->pxx + j + t, sizeof pxx);
        memcpy(&pv, prev + j + t - 1, sizeof pv);
        const v4d w = A - pw, sx = B - px, q = C - pxx;
        const v4d c = q - sx * sx / w;
        /* run_cost: 0 unless w > 0, then c clamped at 0 (NaN gives 0) */
        const v4l keep = (w > zero) & (c > zero);
        const v4d cost = (v4d)(keep & (v4l)c);
        const v4d val = pv + cost;
        memcpy(out + t, &val, sizeof val);
    }
    for (; t < cnt; t++) out[t] = prev[j + t - 1] + run_cost(s, j + t, i);
}

#define DP_CHUNK 64

/* D[c][i] = min over j in [c, i] of D[c-1][j-1] + cost(j, i). The leftmost
 * best j is non-decreasing in i (the cost is a Monge array), so the middle
 * i of a range bounds the search of both halves. */
#define DP_SOLVE(name, attr)                                                                                           \
    attr static void name(const dp_row *r, int64_t ilo, int64_t ihi, int64_t jlo, int64_t jhi)                        \
    {                                                                                                                  \
        double vals[DP_CHUNK];                                                                                         \
        while (ilo <= ihi) {                                                                                           \
            int64_t mid = ilo + (ihi - ilo) / 2, bj = -1;                                                              \
            double best = INFINITY;                                                                                    \
            int64_t jend = jhi < mid ? jhi : mid;                                                                      \
            for (int64_t j = jlo > r->c ? jlo : r->c; j <= jend; j += DP_CHUNK) {                                      \
                const int64_t cnt = jend - j + 1 < DP_CHUNK ? jend - j + 1 : DP_CHUNK;                                 \
                dp_candidates(r->s, r->prev, j, cnt, mid, vals);                                                       \
                for (int64_t t = 0; t < cnt; t++)                                                                      \
                    if (vals[t] < best) best = vals[t], bj = j + t;                                                    \
            }                                                                                                          \
            if (r->want >= 0) { /* the path to `want`: the bounds its full solve would give it */                  \
                if (mid == r->want) {                                                                                  \
                    *r->found = bj;                                                                                    \
                    return;                                                                                            \
                }                                                                                                      \
                if (r->want < mid) ihi = mid - 1, jhi = bj;                                                            \
                else ilo = mid + 1, jlo = bj;                                                                          \
                continue;                                                                                              \
            }                                                                                                          \
            r->cur[mid] = best;                                                                                        \
            if (r->arg) r->arg[mid] = (int32_t)bj;                                                                     \
            /* recurse on the smaller half, loop on the larger (bounded stack) */                                     \
            if (mid - ilo < ihi - mid) {                                                                               \
                name(r, ilo, mid - 1, jlo, bj);                                                                        \
                ilo = mid + 1;                                                                                         \
                jlo = bj;                                                                                              \
            } else {                                                                                                   \
                name(r, mid + 1, ihi, bj, jhi);                                                                        \
                ihi = mid - 1;                                                                                         \
                jhi = bj;                                                                                              \
            }                                                                                                          \
        }                                                                                                              \
    }

DP_SOLVE(dp_solve_generic, )
#if defined(__x86_64__) && defined(__GNUC__)
/* AVX without FMA: nothing to contract, the bits of the generic build */
DP_SOLVE(dp_solve_avx, __attribute__((target("avx"))))
#endif

static void dp_solve(const dp_row *r, int64_t ilo, int64_t ihi, int64_t jlo, int64_t jhi)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx")) {
        dp_solve_avx(r, ilo, ihi, jlo, jhi);
        return;
    }
#endif
    dp_solve_generic(r, ilo, ihi, jlo, jhi);
}

static void dp_row0(const sdata *s, double *row, int64_t upto)
{
    for (int64_t i = 0; i <= upto; i++) row[i] = run_cost(s, 0, i);
}

lc_status lc_kmeans_1d_optimal(const float *x, const float *weight, int64_t n, int k, float *centroids, uint8_t *assign)
{
    lc_status st = check_args(x, weight, n, k, centroids);
    if (st) return st;
    sdata s;
    if ((st = sdata_build(x, weight, n, true, &s))) return st;
    int64_t m = s.m;
    /* the programme reads only the prefix sums and the values */
    free(s.w);
    s.w = NULL;
    if (m > INT32_MAX) {
        sdata_free(&s);
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "k-means: %lld distinct values (at most %d)", (long long)m, INT32_MAX);
    }
    int K = (int64_t)k < m ? k : (int)m;
    /* Rows c = 0, B, 2B, ... are kept; the backtrack recomputes the B rows
     * above a kept one (with the bounds of that block) and reads the start
     * of each last cluster from their argmin rows: O(sqrt(k) m) memory for
     * twice the forward work. Up to 16 clusters (B <= 4) it keeps no argmin
     * rows (4 B bytes per value): it recomputes the rows below each one it
     * needs and follows in it only the search path to the index it wants,
     * for B(B-1)/2 instead of B rows per block (about 10% more time). */
    int B = (int)ceil(sqrt((double)K));
    int n_cp = (K - 1) / B + 1;
    bool arg_rows = B > 4;
    double *cp = malloc((size_t)n_cp * (size_t)m * sizeof *cp);
    double *tmp = malloc(2 * (size_t)m * sizeof *tmp);
    int32_t *arg = arg_rows ? malloc((size_t)B * (size_t)m * sizeof *arg) : NULL;
    int64_t *bound = malloc((size_t)(K + 1) * sizeof *bound);
    if (!cp || !tmp || (arg_rows && !arg) || !bound) {
        st = lc_fail(LC_ERR_NO_MEMORY, "k-means: out of memory for the optimal clustering of %lld values", (long long)m);
        goto fail;
    }
    dp_row0(&s, cp, m - 1);
    double *prev = cp, *cur = tmp;
    for (int c = 1; c < K; c++) {
        double *dst = c % B == 0 ? cp + (size_t)(c / B) * (size_t)m : (cur == tmp ? tmp : tmp + m);
        dp_row r = {&s, prev, dst, NULL, c, -1, NULL};
        dp_solve(&r, c, m - 1, c, m - 1);
        prev = dst;
        cur = dst == tmp ? tmp + m : tmp;
    }
    /* backtrack: bound[c] = first value of cluster c, bound[K] = m */
    int64_t i = m - 1;
    bound[K] = m;
    for (int base = ((K - 1) / B) * B; base >= 0; base -= B) {
        int top = base + B < K ? base + B : K - 1;
        const int64_t hi = i; /* the block's rows are solved on [c, hi] */
        for (int c = top; c > base; c--) {
            if (arg_rows && c < top) { /* its argmin row is there */
                int64_t j = arg[(size_t)(c - base - 1) * (size_t)m + i];
                bound[c] = j;
                i = j - 1;
                continue;
            }
            /* rows base+1 .. c-1 (with argmin rows: .. top, c == top) */
            const double *p = cp + (size_t)(base / B) * (size_t)m;
            for (int c2 = base + 1; c2 < c || (arg_rows && c2 <= top); c2++) {
                double *dst = (c2 - base) % 2 ? tmp : tmp + m;
                dp_row r = {&s, p, dst, arg_rows ? arg + (size_t)(c2 - base - 1) * (size_t)m : NULL, c2, -1, NULL};
                dp_solve(&r, c2, hi, c2, hi);
                p = dst;
            }
            int64_t j = -1;
            if (arg_rows) j = arg[(size_t)(c - base - 1) * (size_t)m + i];
            else {
                dp_row r = {&s, p, NULL, NULL, c, i, &j};
                dp_solve(&r, c, hi, c, hi);
            }
            bound[c] = j;
            i = j - 1;
        }
    }
    bound[0] = 0;
    for (int c = 0; c < K; c++) {
        int64_t a = bound[c], b = bound[c + 1];
        double w = s.pw[b] - s.pw[a], mean = 0;
        if (w > 0) mean = run_mean(&s, a, b, (s.px[b] - s.px[a]) / w + s.shift);
        else {
            for (int64_t t = a; t < b; t++) mean += s.v[t];
            mean /= (double)(b - a);
        }
        centroids[c] = (float)mean;
    }
    for (int c = K; c < k; c++) centroids[c] = (float)s.v[m - 1];
    st = assign ? lc_kmeans_1d_assign(x, n, centroids, k, assign) : LC_OK;
fail:
    free(cp);
    free(tmp);
    free(arg);
    free(bound);
    sdata_free(&s);
    return st;
}
