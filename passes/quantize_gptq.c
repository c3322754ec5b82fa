/* quantize-gptq: GPTQ post-training quantization. Columns of each layer
 * are quantized one by one onto a fixed grid (per output channel
 * asymmetric min/max, as GPTQ, or the layer's k-means codebook) and the
 * rounding error of each is compensated on the columns not yet quantized
 * through the upper Cholesky factor of H^-1 (see lc_hessian.h). Weights
 * pruned earlier stay exactly zero; on a pruned layer, kept weights that
 * quantize to exactly zero join the pruned ones (the float view is the
 * same, the file stores fewer values). The grids are shared with
 * prune-hessian's joint mode (gptq_grid.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gptq_grid.h"
#include "lc_kmeans.h"

/* Allocation size of n elements, at least 1 (malloc(0) may return NULL). */
static size_t nz(int64_t n) { return n > 0 ? (size_t)n : 1; }

static const lc_param_desc params[] = {
    {"bits", LC_PARAM_INT, "4", 2, 8, NULL, "bits per weight"},
    {"grid", LC_PARAM_ENUM, "uniform", 0, 0, "uniform|kmeans",
     "uniform asymmetric min/max grid, or the k-means codebook of the weights (weighted by diag(H))"},
    {"granularity", LC_PARAM_ENUM, "auto", 0, 0, "auto|channel|tensor",
     "one grid per output channel, or one per layer (auto: channel for uniform, tensor for kmeans, whose "
     "per-channel codebooks cost 2^bits floats per channel in the file)"},
    {"block", LC_PARAM_INT, "128", 1, 1e6, NULL, "columns per block of lazy updates"},
    {"damp", LC_PARAM_FLOAT, "0.01", 0, 1e9, NULL, "damping added to H's diagonal, as a fraction of its mean"},
    {"act_order", LC_PARAM_BOOL, "false", 0, 0, NULL, "quantize columns in order of decreasing H_jj"},
    {"sequential", LC_PARAM_BOOL, "true", 0, 0, NULL,
     "quantize layer by layer, each seeing the inputs produced by the already quantized layers before it"},
    {"min_inputs", LC_PARAM_FLOAT, "0", 0, 1e9, NULL,
     "a layer whose calibration run gave fewer than min_inputs x its columns input vectors is rounded to the "
     "nearest grid point, without compensation (its H is rank-deficient: the compensation fits the calibration "
     "inputs and moves the weights freely along the directions they never took)"},
    LC_WEIGHT_PARAMS,
};

typedef struct state {
    const lc_context *ctx;
    int bits;
    bool kmeans, per_channel, act_order;
    int64_t block;
    double damp;
    double min_inputs; /* input vectors per column below which H is the identity */
} state;

static double quant_uniform(const lc_gptq_grid *q, int64_t row, int64_t col, double w)
{
    int64_t c = q->e->axis < 0 ? 0 : q->row0 + row;
    double v = nearbyint(w / (double)q->e->scale[c]) + q->e->zero_point[c];
    int code = v < 0 ? 0 : v > q->maxq ? q->maxq : (int)v;
    q->codes[row * q->cols + col] = (uint8_t)code;
    return lc_encoding_value(q->e, c, code);
}

static double quant_codebook(const lc_gptq_grid *q, int64_t row, int64_t col, double w)
{
    int64_t c = q->e->axis < 0 ? 0 : q->row0 + row;
    const float *cb = q->e->codebook + c * q->e->n_codes;
    /* codebook sorted ascending: first centroid >= w, then the nearer
     * neighbour (ties: the lower) */
    int lo = 0, hi = q->e->n_codes;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cb[mid] < w) lo = mid + 1;
        else hi = mid;
    }
    int code = lo >= q->e->n_codes ? q->e->n_codes - 1 : lo;
    if (lo > 0 && (lo >= q->e->n_codes || w - cb[lo - 1] <= cb[lo] - w)) code = lo - 1;
    while (code > 0 && cb[code - 1] == cb[code]) code--;
    q->codes[row * q->cols + col] = (uint8_t)code;
    return cb[code];
}

double lc_gptq_quant(void *user, int64_t row, int64_t col, double w)
{
    const lc_gptq_grid *q = user;
    return q->e->kind == LC_ENC_CODEBOOK ? quant_codebook(q, row, col, w) : quant_uniform(q, row, col, w);
}

/* The kept weights of channel c (all channels when per tensor) into x,
 * each with its input's H_jj (1 without statistics) in wt; returns the
 * count and the sum of the weights. */
static int64_t gather(const lc_encoding *e, const lc_hlayer *L, int64_t c, float *x, float *wt, double *wsum)
{
    const float *v = L->w.tensor->data;
    int64_t k = L->cols, cnt = 0;
    bool have = L->collected && L->h && L->n > 0;
    *wsum = 0;
    for (int64_t g = 0; g < L->groups; g++)
        for (int64_t r = 0; r < L->rows; r++) {
            if (e->axis >= 0 && g * L->rows + r != c) continue;
            for (int64_t j = 0; j < k; j++) {
                int64_t idx = lc_hlayer_index(L, g, r, j);
                if (e->mask && !e->mask[idx]) continue;
                x[cnt] = v[idx];
                wt[cnt] = have ? (float)L->h[(g * k + j) * k + j] : 1.0f;
                *wsum += wt[cnt++];
            }
        }
    return cnt;
}

/* GPTQ's asymmetric quantizer for the range [lo, hi] (which holds 0):
 * scale = (hi - lo) / maxq, zero point = round(-lo / scale). */
static void range_grid(double lo, double hi, int maxq, float *scale, int32_t *zero)
{
    if (lo == 0 && hi == 0) lo = -1, hi = 1;
    float sc = (float)(((double)(float)hi - (double)(float)lo) / maxq);
    if (!(sc > 0)) sc = 1e-30f;
    double z = nearbyint(-lo / (double)sc);
    *scale = sc;
    *zero = z < 0 ? 0 : z > maxq ? maxq : (int32_t)z;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* One zero point for every channel (the median of their own), each
 * channel's scale the smallest that still covers its range [lo[c], hi[c]]
 * with it. The codes of all channels are then centred on the same symbol,
 * so one Huffman table per tensor codes them near their per-channel
 * entropy (lenet300's first layer at 3 bits: 42.6 kB of codes whose
 * per-channel entropy is ~31.7 kB) for a coarser step on asymmetric
 * channels; uniform_grid keeps it where grid_cost says it pays
 * (benchmarks/results/auto.md, round 4). */
static lc_status share_zero(lc_encoding *e, const double *lo, const double *hi, int maxq)
{
    int32_t *z = malloc((size_t)e->channels * sizeof *z);
    if (!z) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    memcpy(z, e->zero_point, (size_t)e->channels * sizeof *z);
    qsort(z, (size_t)e->channels, sizeof *z, cmp_i32);
    int32_t zs = z[(e->channels - 1) / 2];
    free(z);
    for (int64_t c = 0; c < e->channels; c++) {
        double l = lo[c], h = hi[c];
        if (l == 0 && h == 0) l = -1, h = 1;
        double sc = 0;
        if (zs > 0) sc = -l / zs;
        if (zs < maxq && h / (maxq - zs) > sc) sc = h / (maxq - zs);
        float f = (float)sc;
        /* rounded up in float so that lo and hi stay within the codes */
        if ((double)f < sc) f = nextafterf(f, INFINITY);
        e->scale[c] = f > 0 ? f : 1e-30f;
        e->zero_point[c] = zs;
    }
    return LC_OK;
}

/* A grid's rate-distortion cost on the layer's kept weights before
 * compensation: ln D + 2 ln 2 R / n, with D the diag(H)-weighted squared
 * rounding error, R the bits of its codes (their entropy over the whole
 * tensor, as one Huffman table codes them, or raw when that is fewer) and
 * n the weights: two grids then compare at equal rate by the high-rate
 * slope of 6.02 dB per bit (no tuned constant). */
static double grid_cost(const lc_encoding *e, const lc_hlayer *L, int maxq, float *x, float *wt)
{
    uint64_t hist[256] = {0};
    double d = 0, n = 0;
    for (int64_t c = 0; c < e->channels; c++) {
        double wsum;
        int64_t cnt = gather(e, L, c, x, wt, &wsum);
        for (int64_t i = 0; i < cnt; i++) {
            double v = nearbyint(x[i] / (double)e->scale[c]) + e->zero_point[c];
            int q = v < 0 ? 0 : v > maxq ? maxq : (int)v;
            double r = x[i] - lc_encoding_value(e, c, q);
            d += wt[i] * r * r;
            hist[q]++;
        }
        n += (double)cnt;
    }
    if (n <= 0) return 0;
    double bits = 0;
    for (int q = 0; q <= maxq; q++)
        if (hist[q]) bits -= (double)hist[q] * log2((double)hist[q] / n);
    double raw = n * log2((double)maxq + 1);
    return log(d + 1e-300) + 2 * log(2.0) * (bits < raw ? bits : raw) / n;
}

/* Per-channel (or per-tensor) min/max grid over the kept weights and 0
 * (GPTQ's). A range shrunk to minimise the diag(H)-weighted rounding
 * error (GPTQ's "mse" grid) was measured worse after compensation, in
 * accuracy and in size (fewer weights round to zero): lenet300 3 bits
 * 0.18 -> 0.40 points, lenet5 0.37 -> 0.53. */
static lc_status uniform_grid(lc_encoding *e, const lc_hlayer *L, int maxq, bool shared_zero)
{
    int64_t n = lc_tensor_numel(L->w.tensor);
    float *x = malloc(nz(n) * sizeof *x), *wt = malloc(nz(n) * sizeof *wt);
    /* shared_zero: each channel's range, for share_zero */
    double *los = shared_zero && e->channels > 1 ? malloc(2 * (size_t)e->channels * sizeof *los) : NULL;
    double *his = los ? los + e->channels : NULL;
    if (!x || !wt || (shared_zero && e->channels > 1 && !los)) {
        free(x);
        free(wt);
        free(los);
        return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", L->w.tensor->name);
    }
    for (int64_t c = 0; c < e->channels; c++) {
        double wsum;
        int64_t cnt = gather(e, L, c, x, wt, &wsum);
        double lo = 0, hi = 0;
        for (int64_t i = 0; i < cnt; i++) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        range_grid(lo, hi, maxq, &e->scale[c], &e->zero_point[c]);
        if (los) los[c] = lo, his[c] = hi;
    }
    lc_status s = LC_OK;
    if (los) {
        /* shared only where it costs less than the channels' own zero
           points at equal rate (not on layers whose channels' ranges are
           too unlike, such as depthwise ones of 9 weights a channel) */
        float *own_s = malloc((size_t)e->channels * sizeof *own_s);
        int32_t *own_z = malloc((size_t)e->channels * sizeof *own_z);
        if (!own_s || !own_z) s = lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", L->w.tensor->name);
        if (!s) {
            memcpy(own_s, e->scale, (size_t)e->channels * sizeof *own_s);
            memcpy(own_z, e->zero_point, (size_t)e->channels * sizeof *own_z);
            double own = grid_cost(e, L, maxq, x, wt);
            s = share_zero(e, los, his, maxq);
            if (!s && grid_cost(e, L, maxq, x, wt) > own) {
                memcpy(e->scale, own_s, (size_t)e->channels * sizeof *own_s);
                memcpy(e->zero_point, own_z, (size_t)e->channels * sizeof *own_z);
            }
        }
        free(own_s);
        free(own_z);
    }
    free(x);
    free(wt);
    free(los);
    return s;
}

/* k-means codebook per channel (or per tensor) of the kept weights, each
 * weighted by its input's H_jj (how much an error on it costs): the exact
 * weighted optimum (lc_kmeans_1d_optimal), sorted ascending. */
static lc_status kmeans_grid(lc_encoding *e, const lc_hlayer *L)
{
    int64_t n = lc_tensor_numel(L->w.tensor);
    float *x = malloc(nz(n) * sizeof *x), *wt = malloc(nz(n) * sizeof *wt);
    lc_status s = LC_OK;
    if (!x || !wt) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int64_t c = 0; c < e->channels && !s; c++) {
        double wsum;
        int64_t cnt = gather(e, L, c, x, wt, &wsum);
        float *cb = e->codebook + c * e->n_codes;
        if (cnt == 0) {
            for (int q = 0; q < e->n_codes; q++) cb[q] = 0;
            continue;
        }
        s = lc_kmeans_1d_optimal(x, wsum > 0 && isfinite(wsum) ? wt : NULL, cnt, e->n_codes, cb, NULL);
    }
done:
    free(x);
    free(wt);
    return s;
}

lc_status lc_gptq_grid_init(lc_encoding *e, const lc_hlayer *L, bool kmeans, int bits, int axis, bool shared_zero)
{
    lc_tensor *t = L->w.tensor;
    lc_status s;
    if (kmeans) {
        if ((s = lc_encoding_set_kind(e, t, LC_ENC_CODEBOOK, bits, axis, 1 << bits))) return s;
        return kmeans_grid(e, L);
    }
    if ((s = lc_encoding_set_kind(e, t, LC_ENC_UNIFORM, bits, axis, 0))) return s;
    return uniform_grid(e, L, (1 << bits) - 1, shared_zero);
}

lc_status lc_gptq_prune_zeros(lc_tensor *t)
{
    lc_encoding *e = t->enc;
    if (!e || !e->mask) return LC_OK;
    lc_status s = lc_encoding_mask_from_zeros(t);
    if (s) return s;
    int64_t n = lc_tensor_numel(t);
    for (int64_t i = 0; e->codes && i < n; i++)
        if (!e->mask[i]) e->codes[i] = 0;
    return LC_OK;
}

static lc_status quantize_layer(void *user, lc_hlayer *L, int index)
{
    (void)index;
    state *st = user;
    lc_tensor *t = L->w.tensor;
    int64_t rows = L->rows, k = L->cols;
    int maxq = (1 << st->bits) - 1;
    lc_status s = LC_OK;
    if (L->collected && L->n > 0 && (double)L->n < st->min_inputs * (double)k) {
        /* n = 0 makes H the identity below (grid, Cholesky factor): GPTQ is
         * then round-to-nearest (8 samples of a 1536-input Gemm in a
         * wake-word head: 26.6 -> 12.0 dB with compensation) */
        lc_log(st->ctx, "quantize-gptq: '%s' rounded to nearest: %lld input vectors for %lld columns",
               lc_node_label(L->w.node), (long long)L->n, (long long)k);
        L->n = 0;
    }
    double *w = malloc(nz(rows * k) * sizeof *w);
    double *u = malloc(nz(k * k) * sizeof *u);
    uint8_t *keep = malloc(nz(rows * k));
    uint8_t *codes = calloc(nz(rows * k), 1);
    uint8_t *dead = malloc(nz(k));
    int64_t *perm = malloc(nz(k) * sizeof *perm);
    double *diag = malloc(nz(k) * sizeof *diag);
    lc_encoding *e = lc_tensor_encoding(t);
    if (!w || !u || !keep || !codes || !dead || !perm || !diag || !e) {
        s = lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory", lc_node_label(L->w.node));
        goto done;
    }
    /* as quantize-kmeans: pruned (mask 0) or exactly zero weights stay
     * zero, so sparsity survives an ONNX round trip between passes */
    const float *v0 = t->data;
    bool any_zero = e->mask != NULL;
    for (int64_t i = 0; i < lc_tensor_numel(t) && !any_zero; i++) any_zero = v0[i] == 0.0f;
    if (any_zero && (s = lc_encoding_mask_from_zeros(t))) goto done;
    int axis = st->per_channel ? L->w.out_axis : -1;
    if ((s = lc_gptq_grid_init(e, L, st->kmeans, st->bits, axis, false))) goto done;
    lc_gptq_grid qc = {e, 0, k, codes, maxq};
    lc_sweep_opts o = {st->block, 0, 0, 0, 0, lc_gptq_quant, &qc, NULL};
    float *v = t->data;
    double loss = 0, lambda = 0;
    bool failed = false;
    for (int64_t g = 0; g < L->groups; g++) {
        bool have = L->collected && L->h && L->n > 0;
        for (int64_t j = 0; j < k; j++) {
            perm[j] = j;
            diag[j] = have ? L->h[(g * k + j) * k + j] : 1.0;
        }
        if (st->act_order) {
            /* stable insertion by decreasing H_jj keeps ties in column order */
            for (int64_t i = 1; i < k; i++) {
                int64_t pj = perm[i];
                int64_t q = i;
                while (q > 0 && diag[perm[q - 1]] < diag[pj]) {
                    perm[q] = perm[q - 1];
                    q--;
                }
                perm[q] = pj;
            }
        }
        int tries = 0;
        double gl = 0;
        if ((s = lc_hessian_inverse_chol(L, g, perm, st->damp, u, dead, &lambda, &tries))) goto done;
        failed |= tries < 0;
        lc_hlayer_load(L, g, perm, w, keep);
        for (int64_t j = 0; j < k; j++)
            if (dead[j])
                for (int64_t r = 0; r < rows; r++) w[r * k + j] = 0;
        qc.row0 = g * rows;
        memset(codes, 0, (size_t)(rows * k));
        if ((s = lc_obs_sweep(w, rows, k, u, keep, &o, &gl))) goto done;
        loss += gl;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t i = 0; i < k; i++) {
                int64_t idx = lc_hlayer_index(L, g, r, perm[i]);
                bool kept = keep[r * k + i];
                e->codes[idx] = kept ? codes[r * k + i] : 0;
                v[idx] = kept ? (float)w[r * k + i] : 0.0f;
            }
    }
    if ((s = lc_gptq_prune_zeros(t))) goto done;
    lc_log(st->ctx, "quantize-gptq: '%s' %d bits (%s), damping %.3g%s, estimated error %.4g", lc_node_label(L->w.node),
           st->bits, st->kmeans ? "codebook" : "uniform", lambda,
           failed ? " (Cholesky failed: diagonal approximation)" : "", loss);
done:
    free(w);
    free(u);
    free(keep);
    free(codes);
    free(dead);
    free(perm);
    free(diag);
    return s;
}

static bool granularity_channel(const lc_params *p)
{
    const char *g = lc_params_str(p, "granularity");
    if (!strcmp(g, "auto")) return strcmp(lc_params_str(p, "grid"), "kmeans") != 0;
    return !strcmp(g, "channel");
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    lc_weight *w = NULL;
    lc_hlayer *L = NULL;
    int n = 0;
    state st = {ctx,
                (int)lc_params_num(p, "bits"),
                !strcmp(lc_params_str(p, "grid"), "kmeans"),
                granularity_channel(p),
                lc_params_num(p, "act_order") != 0,
                (int64_t)lc_params_num(p, "block"),
                lc_params_num(p, "damp"),
                lc_params_num(p, "min_inputs")};
    lc_status s = lc_layer_targets(m, p, &w, &n);
    if (s) return s;
    if (!(L = calloc(nz(n), sizeof *L))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-gptq: out of memory");
        goto done;
    }
    for (int i = 0; i < n && !s; i++) s = lc_hlayer_init(&L[i], &w[i]);
    if (!s) s = lc_hessian_compress(m, ctx, L, n, lc_params_num(p, "sequential") != 0, quantize_layer, &st);
    lc_log(ctx, "quantize-gptq: %d layers", n);
done:
    for (int i = 0; L && i < n; i++) lc_hlayer_release(&L[i]);
    free(L);
    free(w);
    return s;
}

const lc_pass lc_pass_quantize_gptq = {
    .name = "quantize-gptq",
    .summary = "GPTQ: column-wise quantization with Hessian error compensation from calibration data",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .knob = "bits",
    .knob_safe = LC_SAFE_HIGH,
    .grid = LC_GRID_BITS,
    .needs_calib = true,
    .weight_pass = true,
    .run = run,
};
