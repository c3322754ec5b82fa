/* prune-hessian: layer-wise second-order pruning (SparseGPT). Each
 * layer's inputs give H = (2/n) sum x x^T; columns are swept in blocks,
 * the mask of a block is chosen by the saliency w^2 / U_jj^2 (U the upper
 * Cholesky factor of H^-1) and every pruned weight's error is compensated
 * on the weights not yet processed, so the layer's output on the
 * calibration data changes as little as possible. See lc_hessian.h.
 *
 * Around the layer-wise solver (each measured on the zoo, see
 * benchmarks/results/hessian.md):
 *   - scope=global shares the sparsity between layers by ranking |w| of
 *     all layers together (rank=magnitude, the default): the OBS saliency
 *     w^2/[H^-1]_jj is in each layer's own output units, which later
 *     BatchNorms and nonlinearities rescale, so it is not comparable
 *     across layers;
 *   - sequential with correct=bn re-estimates the BatchNorm after each
 *     wave of pruned layers before the next wave's inputs are collected
 *     (bn_update), so later layers are fitted to the statistics they will
 *     have once the final correction has run;
 *   - with correct=bias, H is that of the centred inputs (center): the
 *     correction removes the mean of each output channel's error, so only
 *     its variance is left to minimise;
 *   - bits > 0 is SparseGPT's joint mode: the same sweep also rounds every
 *     kept weight onto quantize-gptq's grid (gptq_grid.h), so each
 *     column's pruning and rounding errors are compensated together on
 *     the columns not yet processed, and the layer leaves the pass with
 *     its final encoding (mask + codes; kept weights that round to exactly
 *     zero are pruned too). Measured on lenet300 at about 21x (e2e.md):
 *     better than pruning then quantize-gptq or quantize-kmeans;
 *   - rescale (sequential) gives layers no BatchNorm reads what bn_update
 *     gives the others: after each wave every output channel's standard
 *     deviation and mean on the calibration data go back to the float
 *     model's (wave_rescale), for models whose BatchNorm was folded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gptq_grid.h"
#include "lc_calib_cache.h"

/* Allocation size of n elements, at least 1 (malloc(0) may return NULL). */
static size_t nz(int64_t n) { return n > 0 ? (size_t)n : 1; }

static const lc_param_desc params[] = {
    {"sparsity", LC_PARAM_FLOAT, "0.5", 0, 1, NULL, "fraction of weights set to zero (ignored with nm)"},
    {"scope", LC_PARAM_ENUM, "global", 0, 0, "layer|global",
     "same sparsity in every layer, or per-layer sparsities from ranking the weights of all layers together "
     "(see rank)"},
    {"rank", LC_PARAM_ENUM, "magnitude", 0, 0, "magnitude|obs",
     "scope=global: how layers share the sparsity: by |w| as prune-magnitude's global ranking does, or by the "
     "OBS saliency w^2/[H^-1]_jj (the mask within each layer is always the Hessian sweep's)"},
    {"nm", LC_PARAM_NM, "", 0, 0, NULL,
     "keep N of every M consecutive weights along the input dimension (Conv: along input channels)"},
    {"block", LC_PARAM_INT, "128", 1, 1e6, NULL, "columns per block of lazy updates (the mask is chosen per block)"},
    {"damp", LC_PARAM_FLOAT, "0.01", 0, 1e9, NULL, "damping added to H's diagonal, as a fraction of its mean"},
    {"sequential", LC_PARAM_BOOL, "true", 0, 0, NULL,
     "compress layer by layer, each seeing the inputs produced by the already pruned layers before it"},
    {"center", LC_PARAM_ENUM, "auto", 0, 0, "auto|yes|no",
     "minimise the variance of each layer's output error instead of its second moment, whose mean the "
     "correction removes (auto: yes with correct=bias)"},
    {"bn_update", LC_PARAM_BOOL, "true", 0, 0, NULL,
     "sequential with correct=bn: re-estimate BatchNorm statistics after each wave of layers, so that later "
     "layers are fitted to the inputs they will see once the correction has run"},
    {"bn_weight", LC_PARAM_BOOL, "false", 0, 0, NULL,
     "rank the errors of a layer read only by a BatchNormalization after its gamma/sigma (per channel)"},
    {"rescale", LC_PARAM_BOOL, "false", 0, 0, NULL,
     "sequential: after each wave, scale every output channel of the compressed layers not read by a "
     "BatchNormalization so that its standard deviation on the calibration data is the float model's again, "
     "and shift its bias to the float mean (what BatchNorm re-estimation does, for models with BatchNorm "
     "folded); the encoding stays exact (per-channel uniform grids rescale their scale)"},
    {"bits", LC_PARAM_INT, "0", 0, 8, NULL,
     "joint mode (SparseGPT's): also quantize the kept weights to this many bits in the same sweep, each "
     "column's pruning and rounding errors compensated together (0: prune only)"},
    {"grid", LC_PARAM_ENUM, "uniform", 0, 0, "uniform|shared|kmeans",
     "bits > 0: quantize-gptq's grids: per-channel asymmetric min/max; shared: the same with one zero point "
     "for all channels (each channel's scale covering its range, so Huffman codes the channels' codes in fewer "
     "bytes) on the layers where a rate-distortion estimate says it costs less than their own; or one k-means "
     "codebook per layer (fitted to the weights a pruning-only sweep keeps, weighted by diag(H))"},
    {"fit", LC_PARAM_ENUM, "kept", 0, 0, "kept|all",
     "bits > 0, uniform grid: fit each channel's min/max to the weights a pruning-only sweep keeps (with "
     "their compensated values), or to all weights of the unpruned layer (one sweep less)"},
    LC_WEIGHT_PARAMS,
};

typedef struct state {
    const lc_context *ctx;
    const lc_model *model;
    bool bn_weight;      /* rank errors after a following BatchNormalization */
    double sparsity;     /* the requested one */
    bool global;
    lc_hlayer *layers;   /* all of them */
    double *unit;        /* sparsity per (layer, group): unit[off[i] + g] */
    int64_t *off;
    int nm_n, nm_m;
    int64_t block;
    double damp;
    bool rank_mag;       /* global shares by |w| */
    int n_layers;
    bool *pruned;        /* layers pruned since the last wave_bn */
    bool center;         /* H of the centred inputs */
    int bits;            /* joint mode: quantize in the sweep (0: off) */
    bool kmeans;         /* joint mode grid */
    bool shared_zero;    /* joint mode, uniform: one zero point */
    bool fit_all;        /* joint mode, uniform: grid of the unpruned layer */
    bool bn_update;      /* wave_bn after each wave */
    bool *fresh;         /* by node: BatchNorms wave_bn re-estimated */
    struct chstat *ref;  /* rescale: per layer, the float model's output
                            statistics (NULL: off) */
} state;

/* Per output channel sums of a layer's output on the calibration data. */
typedef struct chstat {
    int64_t ch;          /* channels; 0: the layer is not rescaled */
    double *sum, *sq;
    int64_t n;           /* values per channel */
} chstat;

static lc_status rank_units(lc_hlayer *L, int first, int last, state *st);

static const lc_node *next_bn(const lc_model *m, const lc_hlayer *L);

/* After a sequential wave: re-estimate the BatchNorms right after the
 * layers just pruned (those further down follow their own layer's wave),
 * one calibration run. */
static lc_status wave_bn(state *st, lc_model *m)
{
    int nn = m->graph->n_nodes;
    bool *sel = calloc(nz(nn), sizeof *sel), any = false;
    if (!sel) return lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
    for (int i = 0; i < st->n_layers; i++) {
        const lc_node *bn = st->pruned[i] ? next_bn(m, &st->layers[i]) : NULL;
        for (int q = 0; bn && q < nn; q++)
            if (m->graph->nodes[q] == bn) sel[q] = any = st->fresh[q] = true;
    }
    lc_status s = any ? lc_correct_bn_nodes(m, st->ctx, sel) : LC_OK;
    free(sel);
    return s;
}

static lc_status wave_rescale(state *st, lc_model *m);

/* lc_wave_fn: the corrections chosen (bn_update, rescale) for the layers
 * pruned since the last call. */
static lc_status after_wave(void *user, lc_model *m)
{
    state *st = user;
    lc_status s = LC_OK;
    if (st->ref) s = wave_rescale(st, m);
    if (!s && st->bn_update) s = wave_bn(st, m);
    for (int i = 0; i < st->n_layers; i++) st->pruned[i] = false;
    return s;
}

/* The BatchNormalization that is the only reader of the layer's output, or NULL. */
static const lc_node *next_bn(const lc_model *m, const lc_hlayer *L)
{
    const lc_graph *g = m->graph;
    const char *out = L->w.node->n_outputs > 0 ? L->w.node->outputs[0] : "";
    const lc_node *bn = NULL;
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_inputs; k++)
            if (*out && !strcmp(g->nodes[i]->inputs[k], out)) {
                uses++;
                bn = g->nodes[i];
            }
    for (int i = 0; i < g->n_outputs; i++) uses += !strcmp(g->outputs[i].name, out);
    if (uses != 1 || !bn || strcmp(bn->op_type, "BatchNormalization") || bn->n_inputs < 5 || strcmp(bn->inputs[0], out))
        return NULL;
    return bn;
}

/* bn_weight: when the layer's output feeds only a BatchNormalization, an
 * error in output channel c reaches the network multiplied by gamma_c /
 * sqrt(var_c + eps): rw[c] = that squared, so the mask (chosen across
 * rows and, with scope=global, across layers) ranks errors after the
 * normalization. Pre-BN scales differ wildly between channels and layers,
 * and ranking them raw prunes the low-variance channels that BN
 * amplifies. Returns false (rw untouched) for any other consumer. */
static bool bn_row_weight(const lc_model *m, const lc_hlayer *L, double *rw)
{
    const lc_graph *g = m->graph;
    const lc_node *bn = next_bn(m, L);
    if (!bn) return false;
    const lc_tensor *gamma = lc_graph_init(g, bn->inputs[1]), *var = lc_graph_init(g, bn->inputs[4]);
    int64_t ch = L->groups * L->rows;
    if (!gamma || !var || gamma->dtype != LC_DTYPE_FLOAT || var->dtype != LC_DTYPE_FLOAT ||
        lc_tensor_numel(gamma) != ch || lc_tensor_numel(var) != ch)
        return false;
    double eps = lc_node_attr_float(bn, "epsilon", 1e-5f);
    for (int64_t c = 0; c < ch; c++) {
        double gm = ((const float *)gamma->data)[c], v = ((const float *)var->data)[c];
        double f = gm * gm / (v + eps);
        rw[c] = isfinite(f) ? f : 1;
    }
    return true;
}

/* ---- rescale: per-channel output statistics ---- */

typedef struct stat_run {
    chstat *cs;          /* per layer */
    int *by_node;        /* main-graph node -> layer, or -1 */
    int n_nodes;
} stat_run;

static lc_status observe_out(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                             int n_out, const lc_value *const *out)
{
    (void)n_in;
    (void)in;
    stat_run *sr = user;
    if (node_index < 0 || node_index >= sr->n_nodes || sr->by_node[node_index] < 0) return LC_OK;
    chstat *c = &sr->cs[sr->by_node[node_index]];
    const lc_value *y = n_out > 0 ? out[0] : NULL;
    if (!y || y->dtype != LC_DTYPE_FLOAT || y->ndim < 2 || y->dims[1] != c->ch)
        return lc_fail(LC_ERR_SHAPE, "prune-hessian: layer '%s': output is not [N, %lld, ...]", lc_node_label(node),
                       (long long)c->ch);
    int64_t inner = 1;
    for (int d = 2; d < y->ndim; d++) inner *= y->dims[d];
    const float *v = y->data;
    for (int64_t o = 0; o < y->dims[0]; o++)
        for (int64_t ch = 0; ch < c->ch; ch++) {
            const float *p = v + (o * c->ch + ch) * inner;
            double a = 0, b = 0;
            for (int64_t i = 0; i < inner; i++) {
                a += p[i];
                b += (double)p[i] * p[i];
            }
            c->sum[ch] += a;
            c->sq[ch] += b;
        }
    c->n += y->dims[0] * inner;
    return LC_OK;
}

/* One calibration run of m filling cs[i] (reset first) for the layers
 * with sel[i] and cs[i].ch > 0. */
static lc_status collect_stats(state *st, const lc_model *m, chstat *cs, const bool *sel)
{
    int nn = m->graph->n_nodes;
    stat_run sr = {cs, malloc(nz(nn) * sizeof(int)), nn};
    bool *need = calloc(nz(nn), sizeof *need), any = false;
    lc_status s = LC_OK;
    if (!sr.by_node || !need) {
        s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        goto done;
    }
    for (int q = 0; q < nn; q++) sr.by_node[q] = -1;
    for (int i = 0; i < st->n_layers; i++) {
        if (!sel[i] || cs[i].ch == 0) continue;
        memset(cs[i].sum, 0, (size_t)cs[i].ch * sizeof *cs[i].sum);
        memset(cs[i].sq, 0, (size_t)cs[i].ch * sizeof *cs[i].sq);
        cs[i].n = 0;
        sr.by_node[st->layers[i].w.node_index] = i;
        need[st->layers[i].w.node_index] = any = true;
    }
    if (any) s = lc_calib_run_nodes(m, st->ctx, observe_out, &sr, need);
done:
    free(sr.by_node);
    free(need);
    return s;
}

static void chstat_free(chstat *cs, int n)
{
    for (int i = 0; cs && i < n; i++) {
        free(cs[i].sum);
        free(cs[i].sq);
    }
    free(cs);
}

/* Allocates statistics for the layers rescale can correct exactly: Conv
 * and Gemm not read by a BatchNormalization (ch = 0 for the others). */
static lc_status chstat_alloc(state *st, const lc_model *m, chstat **out)
{
    chstat *cs = calloc(nz(st->n_layers), sizeof *cs);
    if (!cs) return lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
    for (int i = 0; i < st->n_layers; i++) {
        const lc_hlayer *L = &st->layers[i];
        if ((L->kind != LC_HL_CONV && L->kind != LC_HL_GEMM) || next_bn(m, L)) continue;
        cs[i].ch = L->groups * L->rows;
        cs[i].sum = calloc((size_t)cs[i].ch, sizeof *cs[i].sum);
        cs[i].sq = calloc((size_t)cs[i].ch, sizeof *cs[i].sq);
        if (!cs[i].sum || !cs[i].sq) {
            chstat_free(cs, st->n_layers);
            return lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        }
    }
    *out = cs;
    return LC_OK;
}

/* After a wave: each output channel c of the layers just pruned gets the
 * factor a = sd_float / sd_now (kept within [1/2, 2]) on its weights and
 * the bias that puts its mean back to the float model's. Pruning and
 * rounding shrink a channel's output (the kept weights cannot carry the
 * removed ones' share) and BatchNorm re-estimation undoes that; a folded
 * model has no BatchNorm left to re-estimate. The float view follows the
 * encoding: a per-channel uniform grid scales its step, a dense layer its
 * weights; layers with other encodings are left alone. */
static lc_status wave_rescale(state *st, lc_model *m)
{
    chstat *cur = NULL;
    bool *sel = calloc(nz(st->n_layers), sizeof *sel);
    lc_status s = LC_OK;
    if (!sel) return lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
    for (int i = 0; i < st->n_layers; i++) {
        const lc_tensor *t = st->layers[i].w.tensor;
        const lc_encoding *e = t->enc;
        sel[i] = st->pruned[i] && st->ref[i].ch > 0 &&
                 (!e || e->kind == LC_ENC_DENSE || (e->kind == LC_ENC_UNIFORM && e->axis == st->layers[i].w.out_axis));
    }
    if ((s = chstat_alloc(st, m, &cur)) || (s = collect_stats(st, m, cur, sel))) goto done;
    for (int i = 0; i < st->n_layers; i++) {
        if (!sel[i] || cur[i].n == 0 || st->ref[i].n == 0) continue;
        lc_hlayer *L = &st->layers[i];
        lc_tensor *t = L->w.tensor;
        lc_encoding *e = t->enc;
        lc_node *node = L->w.node;
        lc_tensor *bias = node->n_inputs > 2 && node->inputs[2][0] ? lc_graph_init(m->graph, node->inputs[2]) : NULL;
        if (bias && (bias->dtype != LC_DTYPE_FLOAT || lc_tensor_numel(bias) != cur[i].ch || bias->enc)) bias = NULL;
        float *v = t->data, *b = bias ? bias->data : NULL;
        int64_t numel = lc_tensor_numel(t), dim = t->dims[L->w.out_axis];
        double lo = INFINITY, hi = 0;
        for (int64_t c = 0; c < cur[i].ch; c++) {
            const chstat *r = &st->ref[i], *q = &cur[i];
            double mr = r->sum[c] / (double)r->n, mq = q->sum[c] / (double)q->n;
            double vr = r->sq[c] / (double)r->n - mr * mr, vq = q->sq[c] / (double)q->n - mq * mq;
            double a = vr > 0 && vq > 1e-12 * (vr > 0 ? vr : 1) ? sqrt(vr / vq) : 1.0;
            a = a < 0.5 ? 0.5 : a > 2.0 ? 2.0 : a;
            if (!isfinite(a)) a = 1.0;
            lo = a < lo ? a : lo;
            hi = a > hi ? a : hi;
            if (e && e->kind == LC_ENC_UNIFORM) e->scale[c] = (float)(e->scale[c] * a);
            for (int64_t idx = (c % dim) * L->inner; idx < numel; idx += dim * L->inner)
                for (int64_t j = 0; j < L->inner; j++) {
                    int64_t x = idx + j;
                    if (e && e->mask && !e->mask[x]) continue;
                    v[x] = e && e->kind == LC_ENC_UNIFORM ? lc_encoding_value(e, c, e->codes[x]) : (float)(v[x] * a);
                }
            /* the mean without bias scales with the weights */
            if (b) b[c] = (float)(mr - a * (mq - b[c]));
        }
        lc_log(st->ctx, "prune-hessian: '%s' rescaled, channel factors %.3g..%.3g%s", lc_node_label(node), lo, hi,
               b ? ", bias to the float mean" : "");
    }
done:
    chstat_free(cur, st->n_layers);
    free(sel);
    return s;
}

/* Conv with N:M: sweep columns kernel-position-major so that groups of M
 * consecutive columns are M input channels at one kernel position (the
 * same groups as prune-magnitude's). *seg = channels per group. */
static int64_t *channel_order(const lc_hlayer *L, int64_t *seg)
{
    *seg = 0;
    if (L->kind != LC_HL_CONV) return NULL;
    const lc_tensor *t = L->w.tensor;
    int64_t ks = 1;
    for (int d = 2; d < t->ndim; d++) ks *= t->dims[d];
    int64_t cg = L->cols / ks;
    int64_t *perm = malloc((size_t)L->cols * sizeof *perm);
    if (!perm) return NULL;
    for (int64_t p = 0; p < ks; p++)
        for (int64_t c = 0; c < cg; c++) perm[p * cg + c] = c * ks + p;
    *seg = cg;
    return perm;
}

/* Scratch of one layer's sweeps. */
typedef struct sweep_buf {
    double *w, *u, *rw;
    uint8_t *keep, *dead, *codes;
    int64_t *perm;
    bool has_rw;
} sweep_buf;

/* Sweeps every group of the layer from its current float view and mask
 * and writes the result back (pruned weights +0.0f). With o->quant (the
 * joint mode, o->quant_user a lc_gptq_grid) the chosen codes go to the
 * tensor's encoding. Accumulates the OBS loss; reports the damping used. */
static lc_status sweep_groups(state *st, lc_hlayer *L, int index, sweep_buf *b, lc_sweep_opts *o, double *loss,
                              double *lambda, int *most, bool *failed)
{
    lc_tensor *t = L->w.tensor;
    int64_t rows = L->rows, k = L->cols;
    lc_gptq_grid *grid = o->quant ? o->quant_user : NULL;
    float *v = t->data;
    lc_status s = LC_OK;
    for (int64_t g = 0; g < L->groups; g++) {
        int tries = 0;
        double gl = 0;
        o->sparsity = st->nm_m ? 0 : st->unit[st->off[index] + g];
        o->row_weight = b->has_rw ? b->rw + g * rows : NULL;
        if ((s = lc_hessian_inverse_chol(L, g, b->perm, st->damp, b->u, b->dead, lambda, &tries))) return s;
        *failed |= tries < 0;
        *most = tries > *most ? tries : *most;
        lc_hlayer_load(L, g, b->perm, b->w, b->keep);
        /* dead inputs (zero diagonal) cannot matter: their weights go first */
        for (int64_t j = 0; j < k; j++)
            if (b->dead[j])
                for (int64_t r = 0; r < rows; r++) b->w[r * k + j] = 0;
        if (grid) {
            grid->row0 = g * rows;
            memset(b->codes, 0, (size_t)(rows * k));
        }
        if ((s = lc_obs_sweep(b->w, rows, k, b->u, b->keep, o, &gl))) return s;
        *loss += gl;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t i = 0; i < k; i++) {
                int64_t idx = lc_hlayer_index(L, g, r, b->perm ? b->perm[i] : i);
                bool kept = b->keep[r * k + i];
                v[idx] = kept ? (float)b->w[r * k + i] : 0.0f;
                if (grid) grid->e->codes[idx] = kept ? b->codes[r * k + i] : 0;
            }
    }
    return s;
}

/* Joint mode: the grid is fitted to what a pruning-only sweep keeps
 * (with the values compensation gave them: the weights a grid of the
 * unpruned layer would serve are mostly the ones pruning removes), then
 * the layer's float view and mask are restored for the joint sweep. */
static lc_status fit_grid(state *st, lc_hlayer *L, int index, sweep_buf *b, lc_sweep_opts *o)
{
    lc_tensor *t = L->w.tensor;
    lc_encoding *e = t->enc;
    int64_t numel = lc_tensor_numel(t);
    float *v0 = malloc(nz(numel) * sizeof *v0);
    uint8_t *m0 = e->mask ? malloc(nz(numel)) : NULL;
    lc_status s = LC_OK;
    double loss = 0, lambda = 0;
    int most = 0;
    bool failed = false;
    if (!v0 || (e->mask && !m0)) {
        s = lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory", lc_node_label(L->w.node));
        goto done;
    }
    memcpy(v0, t->data, (size_t)numel * sizeof *v0);
    if (m0) memcpy(m0, e->mask, (size_t)numel);
    lc_sweep_opts po = *o;
    po.quant = NULL;
    po.quant_user = NULL;
    if ((s = sweep_groups(st, L, index, b, &po, &loss, &lambda, &most, &failed))) goto done;
    if ((s = lc_encoding_mask_from_zeros(t))) goto done;
    if ((s = lc_gptq_grid_init(e, L, st->kmeans, st->bits, st->kmeans ? -1 : L->w.out_axis, st->shared_zero))) goto done;
    memcpy(t->data, v0, (size_t)numel * sizeof *v0);
    if (m0) memcpy(e->mask, m0, (size_t)numel);
    else {
        free(e->mask);
        e->mask = NULL;
    }
done:
    free(v0);
    free(m0);
    return s;
}

static lc_status prune_layer(void *user, lc_hlayer *L, int index)
{
    state *st = user;
    lc_tensor *t = L->w.tensor;
    int64_t rows = L->rows, k = L->cols, seg = 0;
    lc_status s = LC_OK;
    sweep_buf b = {0};
    b.w = malloc(nz(rows * k) * sizeof *b.w);
    b.u = malloc(nz(k * k) * sizeof *b.u);
    b.keep = malloc(nz(rows * k));
    b.dead = malloc(nz(k));
    b.codes = st->bits ? malloc(nz(rows * k)) : NULL;
    b.rw = malloc(nz(L->groups * rows) * sizeof *b.rw);
    if (st->nm_m > 0 && L->kind == LC_HL_CONV && !(b.perm = channel_order(L, &seg))) s = LC_ERR_NO_MEMORY;
    if (!b.w || !b.u || !b.keep || !b.dead || !b.rw || (st->bits && !b.codes) || s) {
        s = lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory", lc_node_label(L->w.node));
        goto done;
    }
    if (t->enc && t->enc->kind != LC_ENC_DENSE &&
        (s = lc_encoding_set_kind(t->enc, t, LC_ENC_DENSE, t->enc->bits, -1, 0)))
        goto done;
    /* grouped layers (depthwise): how much of each group goes comes from
     * ranking the whole layer, not the same share of every small group */
    if (!st->global && !st->nm_m && L->groups > 1 && (s = rank_units(st->layers, index, index + 1, st)))
        goto done;
    lc_sweep_opts o = {st->block, 0, st->nm_n, st->nm_m, seg, NULL, NULL, NULL};
    b.has_rw = st->bn_weight && bn_row_weight(st->model, L, b.rw);
    lc_gptq_grid grid = {NULL, 0, k, b.codes, (1 << st->bits) - 1};
    if (st->bits) {
        if (!(grid.e = lc_tensor_encoding(t))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "layer '%s': out of memory", lc_node_label(L->w.node));
            goto done;
        }
        if (!st->kmeans && st->fit_all) s = lc_gptq_grid_init(grid.e, L, false, st->bits, L->w.out_axis, st->shared_zero);
        else s = fit_grid(st, L, index, &b, &o);
        if (s) goto done;
        o.quant = lc_gptq_quant;
        o.quant_user = &grid;
    }
    double loss = 0, lambda = 0;
    int most = 0;
    bool failed = false;
    if ((s = sweep_groups(st, L, index, &b, &o, &loss, &lambda, &most, &failed))) goto done;
    if ((s = lc_encoding_mask_from_zeros(t))) goto done;
    /* joint mode: kept weights rounded to exactly zero are pruned too */
    if (st->bits && (s = lc_gptq_prune_zeros(t))) goto done;
    st->pruned[index] = true;
    int64_t numel = lc_tensor_numel(t);
    lc_log(st->ctx, "prune-hessian: '%s' %s%lldx%lld%s sparsity %.3f%s, damping %.3g%s, estimated error %.4g",
           lc_node_label(L->w.node), L->groups > 1 ? "groups of " : "", (long long)rows, (long long)k,
           L->kind == LC_HL_IDENTITY ? " (no input model: magnitude order)" : "",
           numel ? 1.0 - (double)lc_encoding_kept(t->enc, numel) / (double)numel : 0.0,
           st->bits ? (st->kmeans ? ", k-means codebook" : ", uniform grid") : "", lambda,
           failed ? " (Cholesky failed: diagonal approximation)" : most > 1 ? " (raised)" : "", loss);
done:
    free(b.w);
    free(b.u);
    free(b.keep);
    free(b.dead);
    free(b.codes);
    free(b.rw);
    free(b.perm);
    return s;
}

typedef struct ranked {
    double s;
    int64_t unit;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* Ranks every weight of layers [first, last) by w^2 / [H^-1]_jj (its OBS
 * error when removed alone; within a single layer by the sweep's own
 * w^2 / U_jj^2), times the row weight of a following BatchNormalization,
 * and gives each (layer, group) the share of the round(sparsity * total)
 * smallest that falls in it. Used across all layers for scope=global (on
 * the statistics before any pruning) and within a grouped layer. The
 * layers' H must be collected. */
static lc_status rank_units(lc_hlayer *L, int first, int last, state *st)
{
    int64_t total = 0, kmax = 0, at = 0, chmax = 0;
    for (int i = first; i < last; i++) {
        total += lc_tensor_numel(L[i].w.tensor);
        kmax = L[i].cols > kmax ? L[i].cols : kmax;
        chmax = L[i].groups * L[i].rows > chmax ? L[i].groups * L[i].rows : chmax;
    }
    double *rw = malloc(nz(chmax) * sizeof *rw);
    ranked *r = malloc(nz(total) * sizeof *r);
    double *u = malloc(nz(kmax * kmax) * sizeof *u);
    double *hinv = malloc(nz(kmax) * sizeof *hinv);
    lc_status s = LC_OK;
    if (!r || !u || !hinv || !rw) {
        s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory for %lld weights", (long long)total);
        goto done;
    }
    for (int i = first; i < last && !s; i++) {
        const float *v = L[i].w.tensor->data;
        const uint8_t *mask = L[i].w.tensor->enc ? L[i].w.tensor->enc->mask : NULL;
        int64_t k = L[i].cols;
        bool has_rw = st->bn_weight && bn_row_weight(st->model, &L[i], rw);
        for (int64_t g = 0; g < L[i].groups && !s; g++) {
            bool by_mag = st->rank_mag && last - first > 1;
            if (!by_mag && (s = lc_hessian_inverse_chol(&L[i], g, NULL, st->damp, u, NULL, NULL, NULL))) break;
            /* [H^-1]_jj = sum_q U_qj^2 */
            for (int64_t j = 0; j < k && !by_mag; j++) {
                hinv[j] = 0;
                for (int64_t q = 0; q <= j; q++) hinv[j] += u[q * k + j] * u[q * k + j];
                /* within one layer: the sweep's own saliency (measured to
                 * share depthwise layers' pruning better than [H^-1]_jj) */
                if (last - first == 1) hinv[j] = u[j * k + j] * u[j * k + j];
            }
            for (int64_t row = 0; row < L[i].rows; row++) {
                for (int64_t j = 0; j < k; j++) {
                    int64_t idx = lc_hlayer_index(&L[i], g, row, j);
                    double x = v[idx];
                    double sc = by_mag ? x * x
                                : x * x / hinv[j] * (has_rw ? rw[g * L[i].rows + row] : 1.0);
                    r[at++] = (ranked){mask && !mask[idx] ? -1.0 : sc,
                                      st->off[i] + g};
                }
            }
        }
    }
    if (s) goto done;
    int64_t kill = (int64_t)llround(st->sparsity * (double)total);
    qsort(r, (size_t)total, sizeof *r, cmp_ranked);
    for (int64_t q = st->off[first]; q < st->off[last]; q++) st->unit[q] = 0;
    for (int64_t q = 0; q < kill && q < total; q++) st->unit[r[q].unit] += 1;
    for (int i = first; i < last; i++) {
        double per = (double)(L[i].rows * L[i].cols), sum = 0;
        for (int64_t g = 0; g < L[i].groups; g++) {
            sum += st->unit[st->off[i] + g];
            st->unit[st->off[i] + g] /= per;
        }
        if (last - first > 1)
            lc_log(st->ctx, "prune-hessian: global ranking gives '%s' sparsity %.3f", lc_node_label(L[i].w.node),
                   sum / (double)lc_tensor_numel(L[i].w.tensor));
    }
done:
    free(r);
    free(u);
    free(hinv);
    free(rw);
    return s;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    lc_weight *w = NULL;
    lc_hlayer *L = NULL;
    int n = 0;
    /* the waves' calibration runs resume from the activations the previous
       run computed before the layers it looked at (lc_calib_cache.h) */
    lc_context local;
    lc_calib_cache *cache;
    ctx = lc_calib_cache_context(ctx, &local, &cache);
    const lc_param_value *nm = lc_params_get(p, "nm");
    state st = {.ctx = ctx,
                .model = m,
                .bn_weight = lc_params_num(p, "bn_weight") != 0,
                .sparsity = lc_params_num(p, "sparsity"),
                .global = !strcmp(lc_params_str(p, "scope"), "global") && !nm->nm_m,
                .nm_n = nm->nm_m ? nm->nm_n : 0,
                .nm_m = nm->nm_m,
                .block = (int64_t)lc_params_num(p, "block"),
                .damp = lc_params_num(p, "damp"),
                .bits = (int)lc_params_num(p, "bits"),
                .kmeans = !strcmp(lc_params_str(p, "grid"), "kmeans"),
                .shared_zero = !strcmp(lc_params_str(p, "grid"), "shared"),
                .fit_all = !strcmp(lc_params_str(p, "fit"), "all")};
    /* center=auto follows the correction lc_pass_run_params will apply
     * (auto: bn when the model has BatchNormalization, else bias) */
    const char *center = lc_params_str(p, "center"), *correct = lc_params_str(p, "correct");
    bool has_bn = false;
    for (int i = 0; i < m->graph->n_nodes; i++) has_bn |= !strcmp(m->graph->nodes[i]->op_type, "BatchNormalization");
    if (!strcmp(correct, "auto")) correct = has_bn ? "bn" : "bias";
    st.rank_mag = !strcmp(lc_params_str(p, "rank"), "magnitude");
    /* auto centres only under bias correction: with BatchNorm re-estimation
     * it was measured worse (dscnn 80%: 38.6 -> 35.3) */
    st.center = !strcmp(center, "yes") || (!strcmp(center, "auto") && !strcmp(correct, "bias"));
    lc_status s = lc_layer_targets(m, p, &w, &n);
    if (s) goto done;
    L = calloc(nz(n), sizeof *L);
    st.off = malloc(nz(n + 1) * sizeof *st.off);
    if (!L || !st.off) {
        s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        goto done;
    }
    st.off[0] = 0;
    for (int i = 0; i < n && !s; i++) {
        s = lc_hlayer_init(&L[i], &w[i]);
        st.off[i + 1] = st.off[i] + L[i].groups;
    }
    if (s) goto done;
    st.layers = L;
    st.n_layers = n;
    if (!(st.pruned = calloc(nz(n), sizeof *st.pruned)) || !(st.fresh = calloc(nz(m->graph->n_nodes), sizeof *st.fresh))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) L[i].center = st.center;
    if (!(st.unit = malloc(nz(st.off[n]) * sizeof *st.unit))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        goto done;
    }
    for (int64_t q = 0; q < st.off[n]; q++) st.unit[q] = st.sparsity;
    /* scope=global: one ranking of every weight (rank=obs: on the float
     * model's statistics, kept for the first wave of the sequential sweep) */
    if (st.global && n > 0 && (st.rank_mag || !(s = lc_hessian_collect(m, ctx, L, n, NULL))))
        s = rank_units(L, 0, n, &st);
    bool sequential = lc_params_num(p, "sequential") != 0;
    st.bn_update = has_bn && !strcmp(correct, "bn") && lc_params_num(p, "bn_update") != 0;
    /* rescale: the float model's output statistics, before any pruning */
    if (!s && sequential && lc_params_num(p, "rescale") != 0) {
        bool *all = malloc(nz(n) * sizeof *all);
        if (!all) s = lc_fail(LC_ERR_NO_MEMORY, "prune-hessian: out of memory");
        for (int i = 0; all && i < n; i++) all[i] = true;
        if (!s && !(s = chstat_alloc(&st, m, &st.ref))) s = collect_stats(&st, m, st.ref, all);
        free(all);
    }
    if (!s)
        s = lc_hessian_compress_ex(m, ctx, L, n, sequential, prune_layer,
                                   st.bn_update || st.ref ? after_wave : NULL, &st);
    /* the last wave's layers (lc_hessian_compress_ex corrects between waves) */
    if (!s && st.ref) s = wave_rescale(&st, m);
    /* correct=bn (corrects_bn): the last wave's BatchNorms, and then each
       BatchNorm has been re-estimated after every change upstream of it,
       which is what lc_correct_bn would find again; otherwise the
       correction the registry would have applied (bn, or bn_checked) */
    if (!s && sequential && st.bn_update) {
        s = wave_bn(&st, m);
        bool all = true;
        for (int i = 0; i < m->graph->n_nodes; i++)
            all &= st.fresh[i] || strcmp(m->graph->nodes[i]->op_type, "BatchNormalization");
        if (!s && !all) s = lc_correction_apply(m, lc_correction_of(m, ctx, p), NULL, ctx);
    }
    lc_log(ctx, "prune-hessian: %d layers", n);
done:
    for (int i = 0; L && i < n; i++) lc_hlayer_release(&L[i]);
    chstat_free(st.ref, n);
    free(L);
    free(st.unit);
    free(st.off);
    free(st.pruned);
    free(st.fresh);
    free(w);
    lc_calib_cache_free(cache);
    return s;
}

/* correct=bn with the sequential sweep's bn_update: run() re-estimates
 * every BatchNorm itself (see the end of run) */
static bool corrects_bn(const lc_params *p)
{
    return lc_params_num(p, "sequential") != 0 && lc_params_num(p, "bn_update") != 0;
}

/* Run with correct=none while the caller applies correction c: center=auto
 * still follows c (it would follow correct=none otherwise). */
static lc_status defer_correction(lc_params *p, lc_correction c)
{
    if (strcmp(lc_params_str(p, "center"), "auto")) return LC_OK;
    return lc_params_set(p, "center", c == LC_CORRECT_BIAS ? "yes" : "no");
}

const lc_pass lc_pass_prune_hessian = {
    .name = "prune-hessian",
    .summary = "second-order pruning with error compensation from calibration data (SparseGPT)",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .knob = "sparsity",
    .knob_safe = LC_SAFE_LOW,
    .grid = LC_GRID_SPARSITY,
    .knob2 = "bits",
    .grid2 = LC_GRID_BITS,
    .needs_calib = true,
    .weight_pass = true,
    .defer_correction = defer_correction,
    .corrects_bn = corrects_bn,
    .run = run,
};
