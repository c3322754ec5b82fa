/* quantize-kmeans: weight sharing (Deep Compression). Each layer (or each
 * output channel) gets a codebook of 2^bits centroids found by 1-D k-means
 * over its weights; every weight becomes the index of its centroid.
 *
 * Sparsity is preserved: weights that are pruned (mask 0) or exactly zero
 * are not clustered and stay +0.0f; such a tensor reserves code 0 for the
 * value zero and clusters its kept weights into the other 2^bits - 1.
 *
 * hessian=true weights every weight's squared error by its importance
 * diag(H)_j = sum over the calibration inputs of x_j^2 (the diagonal of
 * the layer-wise Hessian of ||XW - XW'||^2), so the centroids follow the
 * weights that matter for the layer's output. A floor of 0.01 * the mean
 * importance of the layer is added to every weight's.
 *
 * compensate=gptq (the default; used with calibration data and bits >= 2)
 * hands the layers to quantize-gptq with its k-means grid: the codebook is
 * the exact diag(H)-weighted optimum (hessian=true's weighting) and the
 * weights are assigned column by column, each rounding error compensated
 * on the columns not yet assigned. At the same size this lost 0.70 point
 * less on average than nearest-centroid assignment over both zoos, 2 and 3
 * bits, never more beyond noise, for about 3x the CPU time
 * (benchmarks/results/defaults.md). Layers whose Hessian would be too large
 * keep the plain assignment, and so do layers with fewer calibration input
 * vectors than input columns (quantize-gptq's min_inputs=1): their H is
 * rank-deficient, and the compensation that fits those few inputs moves
 * the weights along directions they never took (8 samples into a
 * 1536-input Gemm, a wake-word head: 26.6 -> 12.3 dB against
 * nearest-centroid assignment on other inputs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_hessian.h"
#include "lc_kmeans.h"
#include "lc_nn.h"
#include "lc_pass.h"

static const lc_param_desc params[] = {
    {"bits", LC_PARAM_INT, "4", 1, 8, NULL, "bits per weight index: 2^bits centroids (code 0 is zero for a sparse weight)"},
    {"granularity", LC_PARAM_ENUM, "layer", 0, 0, "layer|channel", "one codebook per layer or per output channel"},
    {"init", LC_PARAM_ENUM, "linear", 0, 0, "linear|density|random",
     "initial centroids: evenly spaced in [min, max], at quantiles, or random weights (seeded)"},
    {"method", LC_PARAM_ENUM, "optimal", 0, 0, "lloyd|optimal",
     "Lloyd's iterations from `init`, or the exact optimum by dynamic programming"},
    {"max_iter", LC_PARAM_INT, "300", 1, 100000, NULL, "at most this many Lloyd iterations"},
    {"tol", LC_PARAM_FLOAT, "1e-10", 0, 1, NULL,
     "stop when the squared centroid shift is at most tol times the weights' variance"},
    {"hessian", LC_PARAM_BOOL, "false", 0, 0, NULL,
     "weight each weight by diag(H) = sum of its squared inputs on the calibration data (+1% of the mean)"},
    {"compensate", LC_PARAM_ENUM, "gptq", 0, 0, "gptq|none",
     "gptq: with calibration data and bits >= 2, assign the weights column by column with GPTQ's Hessian error "
     "compensation onto the diag(H)-weighted optimal codebook (as quantize-gptq:grid=kmeans; method, init, "
     "max_iter, tol and hessian then do not apply; nearest centroid for a layer whose calibration data gave fewer "
     "input vectors than it has input columns); none, or without calibration data: nearest centroid"},
    LC_WEIGHT_PARAMS,
};

/* ---- diag(H) of every target layer from the calibration data ---- */

enum { HK_MATRIX, HK_CONV, HK_CONVT };

typedef struct hdiag {
    int kind;       /* HK_* */
    int64_t len;    /* entries of h */
    double *h;      /* MATRIX: per input feature; CONV: per (input channel,
                       kernel offset); CONVT: per input channel */
    int64_t k_size; /* CONV: kernel elements */
} hdiag;

typedef struct hstate {
    const lc_weight *w;
    hdiag *d;
    int *by_node;   /* main-graph node index -> target, or -1 */
    int n_nodes;
    float *col;     /* im2col scratch */
    size_t col_cap;
} hstate;

static lc_status grow_col(hstate *hs, size_t need)
{
    if (need <= hs->col_cap) return LC_OK;
    float *p = realloc(hs->col, need * sizeof *p);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory for the Hessian");
    hs->col = p;
    hs->col_cap = need;
    return LC_OK;
}

static lc_status observe_conv(hstate *hs, const lc_node *node, const lc_value *x, const lc_tensor *wt, hdiag *d)
{
    int nsp = x->ndim - 2;
    int64_t group = lc_node_attr_int(node, "group", 1), c = x->dims[1];
    if (nsp < 1 || nsp > LC_NN_MAX_SPATIAL || group < 1 || c % group || wt->ndim != x->ndim)
        return lc_fail(LC_ERR_SHAPE, "quantize-kmeans: unexpected Conv input shape [%s]", lc_dims_str(x->ndim, x->dims));
    lc_nn_geom g;
    lc_status s = lc_nn_geom_init(node, nsp, x->dims + 2, wt->dims + 2, false, &g);
    if (s) return s;
    int64_t cg = c / group, rows = cg * g.k_size;
    if (d->len != c * g.k_size) return lc_fail(LC_ERR_SHAPE, "quantize-kmeans: Conv input channels do not match its weight");
    if ((s = grow_col(hs, (size_t)(rows * g.out_size)))) return s;
    const float *xd = x->data;
    for (int64_t b = 0; b < x->dims[0]; b++)
        for (int64_t gi = 0; gi < group; gi++) {
            lc_nn_im2col(&g, cg, xd + (b * c + gi * cg) * g.in_size, hs->col, g.out_size);
            for (int64_t r = 0; r < rows; r++) {
                const float *row = hs->col + r * g.out_size;
                double acc = 0;
                for (int64_t o = 0; o < g.out_size; o++) acc += (double)row[o] * row[o];
                d->h[gi * rows + r] += acc;
            }
        }
    return LC_OK;
}

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                         const lc_value *const *out)
{
    (void)n_out, (void)out;
    hstate *hs = user;
    if (node_index < 0 || node_index >= hs->n_nodes || hs->by_node[node_index] < 0 || n_in < 1 || !in[0]) return LC_OK;
    int t = hs->by_node[node_index];
    hdiag *d = &hs->d[t];
    const lc_value *x = in[0];
    if (x->dtype != LC_DTYPE_FLOAT) return LC_OK;
    const float *xd = x->data;
    int64_t n = lc_value_numel(x);
    if (d->kind == HK_CONV) return observe_conv(hs, node, x, hs->w[t].tensor, d);
    if (d->kind == HK_CONVT) {
        if (x->ndim < 3 || x->dims[1] != d->len) return lc_fail(LC_ERR_SHAPE, "quantize-kmeans: unexpected ConvTranspose input");
        int64_t inner = n / (x->dims[0] * x->dims[1]);
        for (int64_t i = 0; i < n; i++) d->h[(i / inner) % d->len] += (double)xd[i] * xd[i];
        return LC_OK;
    }
    /* Gemm (A or A^T) and MatMul: the reduction axis of the input */
    bool trans = !strcmp(node->op_type, "Gemm") && lc_node_attr_int(node, "transA", 0);
    if (trans) {
        if (x->ndim != 2 || x->dims[0] != d->len) return lc_fail(LC_ERR_SHAPE, "quantize-kmeans: unexpected Gemm input");
        for (int64_t i = 0; i < n; i++) d->h[i / x->dims[1]] += (double)xd[i] * xd[i];
    } else {
        if (x->ndim < 1 || x->dims[x->ndim - 1] != d->len)
            return lc_fail(LC_ERR_SHAPE, "quantize-kmeans: unexpected %s input shape [%s]", node->op_type,
                           lc_dims_str(x->ndim, x->dims));
        for (int64_t i = 0; i < n; i++) d->h[i % d->len] += (double)xd[i] * xd[i];
    }
    return LC_OK;
}

static void hdiag_free(hdiag *d, int n)
{
    for (int i = 0; d && i < n; i++) free(d[i].h);
    free(d);
}

static lc_status hessian_diag(lc_model *m, const lc_context *ctx, const lc_weight *w, int n, hdiag **out)
{
    *out = NULL;
    hstate hs = {w, calloc((size_t)(n ? n : 1), sizeof(hdiag)), malloc((size_t)(m->graph->n_nodes + 1) * sizeof(int)),
                 m->graph->n_nodes, NULL, 0};
    lc_status s = LC_OK;
    if (!hs.d || !hs.by_node) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory");
        goto fail;
    }
    for (int i = 0; i < hs.n_nodes; i++) hs.by_node[i] = -1;
    for (int i = 0; i < n; i++) {
        const lc_tensor *t = w[i].tensor;
        hdiag *d = &hs.d[i];
        const char *op = w[i].node->op_type;
        if (!strcmp(op, "Conv")) {
            int64_t group = lc_node_attr_int(w[i].node, "group", 1);
            d->kind = HK_CONV;
            d->k_size = 1;
            for (int a = 2; a < t->ndim; a++) d->k_size *= t->dims[a];
            d->len = t->dims[1] * (group > 0 ? group : 1) * d->k_size;
        } else if (!strcmp(op, "ConvTranspose")) {
            d->kind = HK_CONVT;
            d->len = t->dims[0];
        } else {
            d->kind = HK_MATRIX;
            d->len = t->dims[w[i].in_axis];
        }
        if (!(d->h = calloc((size_t)(d->len ? d->len : 1), sizeof *d->h))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory");
            goto fail;
        }
        /* weights in subgraphs and of recurrent nodes: no layer input to
         * observe, they are clustered plainly */
        if (lc_weight_is_layer(&w[i])) hs.by_node[w[i].node_index] = i;
    }
    if ((s = lc_calib_run(m, ctx, observe, &hs))) goto fail;
    *out = hs.d;
    hs.d = NULL;
fail:
    hdiag_free(hs.d, n);
    free(hs.by_node);
    free(hs.col);
    return s;
}

/* Importance of element i of target w (see hdiag). */
static double importance(const lc_weight *w, const hdiag *d, int64_t i)
{
    const lc_tensor *t = w->tensor;
    if (d->kind == HK_CONV) {
        int64_t per_oc = t->dims[1] * d->k_size, oc = i / per_oc;
        int64_t groups = d->len / per_oc, ocpg = t->dims[0] / groups;
        return d->h[(oc / ocpg) * per_oc + i % per_oc];
    }
    if (d->kind == HK_CONVT) return d->h[i / (lc_tensor_numel(t) / t->dims[0])];
    int64_t inner = 1;
    for (int a = w->in_axis + 1; a < t->ndim; a++) inner *= t->dims[a];
    return d->h[(i / inner) % t->dims[w->in_axis]];
}

/* ---- clustering ---- */

typedef struct kconf {
    int bits, init, optimal, max_iter;
    double tol;
    uint64_t seed;
} kconf;

/* Clusters one weight tensor: codebook per channel (or one), codes, and
 * the float view from the codebook. `imp` (may be NULL) holds each
 * element's importance. */
static lc_status quantize_tensor(const lc_weight *w, int layer, const kconf *kc, bool per_channel, const float *imp)
{
    lc_tensor *t = w->tensor;
    float *v = t->data;
    int64_t numel = lc_tensor_numel(t);
    lc_status s = LC_OK;
    bool any_zero = false;
    for (int64_t i = 0; i < numel && !any_zero; i++) any_zero = v[i] == 0.0f;
    lc_encoding *e = lc_tensor_encoding(t);
    if (!e) return LC_ERR_NO_MEMORY;
    if ((any_zero || e->mask) && (s = lc_encoding_mask_from_zeros(t))) return s;
    bool sparse = e->mask != NULL;
    int n_codes = 1 << kc->bits, k = n_codes - (sparse ? 1 : 0), first = sparse ? 1 : 0;
    int axis = per_channel ? w->out_axis : -1;
    if ((s = lc_encoding_set_kind(e, t, LC_ENC_CODEBOOK, kc->bits, axis, n_codes))) return s;
    int64_t ch = e->channels;
    /* 32-bit positions: half the scratch of the largest layers */
    if (numel > INT32_MAX)
        return lc_fail(LC_ERR_UNSUPPORTED, "quantize-kmeans: tensor '%s' has %lld elements (at most %d)", t->name,
                       (long long)numel, INT32_MAX);
    int64_t *count = calloc((size_t)ch + 1, sizeof *count);
    int32_t *idx = malloc((size_t)(numel ? numel : 1) * sizeof *idx);
    float *xs = malloc((size_t)(numel ? numel : 1) * sizeof *xs);
    float *ws = imp ? malloc((size_t)(numel ? numel : 1) * sizeof *ws) : NULL;
    uint8_t *as = malloc((size_t)(numel ? numel : 1));
    if (!count || !idx || !xs || (imp && !ws) || !as) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: tensor '%s': out of memory", t->name);
        goto fail;
    }
    /* bucket the kept elements by channel (counting sort keeps index order) */
    for (int64_t i = 0; i < numel; i++)
        if (!sparse || e->mask[i]) count[lc_encoding_channel(e, t, i) + 1]++;
    for (int64_t c = 0; c < ch; c++) count[c + 1] += count[c];
    {
        int64_t *pos = malloc((size_t)ch * sizeof *pos);
        if (!pos) {
            s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory");
            goto fail;
        }
        memcpy(pos, count, (size_t)ch * sizeof *pos);
        for (int64_t i = 0; i < numel; i++)
            if (!sparse || e->mask[i]) idx[pos[lc_encoding_channel(e, t, i)]++] = (int32_t)i;
        free(pos);
    }
    for (int64_t c = 0; c < ch && !s; c++) {
        int64_t a = count[c], n = count[c + 1] - a;
        float *cb = e->codebook + c * n_codes;
        if (n == 0) continue; /* all pruned: the codebook stays zero */
        double total = 0;
        for (int64_t j = 0; j < n; j++) {
            xs[j] = v[idx[a + j]];
            if (ws) total += ws[j] = imp[idx[a + j]];
        }
        /* no calibration signal reaches these weights: cluster them plainly */
        const float *wj = ws && total > 0 && isfinite(total) ? ws : NULL;
        lc_rng rng;
        lc_rng_seed(&rng, kc->seed, 0x6b6d65616e73ull ^ ((uint64_t)layer << 32) ^ (uint64_t)c);
        if (kc->optimal) s = lc_kmeans_1d_optimal(xs, wj, n, k, cb + first, as);
        else if (!(s = lc_kmeans_1d_init(xs, wj, n, k, kc->init, &rng, cb + first)))
            s = lc_kmeans_1d_lloyd(xs, wj, n, k, kc->max_iter, kc->tol, cb + first, as, NULL);
        if (s) {
            lc_fail_prefix(s, "quantize-kmeans: tensor '%s'", t->name);
            break;
        }
        for (int64_t j = 0; j < n; j++) {
            int64_t i = idx[a + j];
            e->codes[i] = (uint8_t)(as[j] + first);
            v[i] = lc_encoding_value(e, c, e->codes[i]);
        }
    }
fail:
    free(count);
    free(idx);
    free(xs);
    free(ws);
    free(as);
    return s;
}

/* quantize-gptq, defined in quantize_gptq.c */
extern const lc_pass lc_pass_quantize_gptq;

/* compensate=gptq: runs quantize-gptq (k-means grid, the same codebook
 * granularity) on the main-graph layers (lc_weight_is_layer: the ones
 * quantize-gptq takes) whose Hessian fits; marks the others (weights in
 * subgraphs, recurrent W/R, too many input columns) in plain[] for
 * nearest-centroid assignment, so no target is left unquantized. The statistics correction is
 * left to the caller, which applies this pass's `correct` once. */
static lc_status run_gptq(lc_model *m, const lc_context *ctx, const lc_params *p, const lc_weight *w, int n,
                          bool per_channel, bool *plain)
{
    const lc_pass *gp = &lc_pass_quantize_gptq;
    lc_params g;
    lc_status s = lc_params_init(&g, gp->name, gp->params, gp->n_params);
    if (s) return s;
    char bits[16];
    snprintf(bits, sizeof bits, "%d", (int)lc_params_num(p, "bits"));
    if (!(s = lc_params_set(&g, "bits", bits)) && !(s = lc_params_set(&g, "grid", "kmeans")) &&
        !(s = lc_params_set(&g, "granularity", per_channel ? "channel" : "tensor")) &&
        !(s = lc_params_set(&g, "min_inputs", "1")))
        s = lc_params_set(&g, "correct", "none");
    const lc_param_value *ops = lc_params_get(p, "ops");
    for (int i = 0; ops && i < ops->n_list && !s; i++) s = lc_params_set(&g, "ops", ops->list[i]);
    int k = 0;
    for (int i = 0; i < n && !s; i++) {
        lc_hlayer L;
        /* lc_hlayer_init fails on too many input columns and allocates nothing */
        plain[i] = !lc_weight_is_layer(&w[i]) || lc_hlayer_init(&L, &w[i]) != LC_OK;
        if (!plain[i] && !(s = lc_params_set(&g, "include", w[i].tensor->name))) k++;
    }
    if (!s && k) s = gp->run(m, ctx, &g);
    if (s) lc_fail_prefix(s, "quantize-kmeans (compensate=gptq)");
    lc_params_clear(&g);
    return s;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    lc_weight *w = NULL;
    hdiag *hd = NULL;
    float *imp = NULL;
    bool *plain = NULL; /* compensate=gptq: the targets left to nearest-centroid assignment */
    int n = 0;
    lc_status s = lc_weight_targets(m, p, &w, &n);
    if (s) return s;
    const char *init = lc_params_str(p, "init");
    kconf kc = {(int)lc_params_num(p, "bits"),
                !strcmp(init, "density") ? LC_KMEANS_DENSITY : !strcmp(init, "random") ? LC_KMEANS_RANDOM : LC_KMEANS_LINEAR,
                !strcmp(lc_params_str(p, "method"), "optimal"), (int)lc_params_num(p, "max_iter"),
                lc_params_num(p, "tol"), ctx ? ctx->seed : 0};
    bool per_channel = !strcmp(lc_params_str(p, "granularity"), "channel");
    bool hessian = lc_params_num(p, "hessian") != 0;
    bool gptq = !strcmp(lc_params_str(p, "compensate"), "gptq") && ctx && ctx->calib && kc.bits >= 2;
    if (gptq) {
        if (!(plain = calloc((size_t)(n ? n : 1), sizeof *plain))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory");
            goto fail;
        }
        if ((s = run_gptq(m, ctx, p, w, n, per_channel, plain))) goto fail;
        hessian = false; /* the plain remainder: too large for the Hessian */
    }
    if (hessian) {
        if (!ctx || !ctx->calib) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "quantize-kmeans: hessian=true needs calibration data (lc_context_set_calib)");
            goto fail;
        }
        if ((s = hessian_diag(m, ctx, w, n, &hd))) goto fail;
    }
    for (int l = 0; l < n && !s; l++) {
        if (plain && !plain[l]) continue; /* done by GPTQ */
        int64_t numel = lc_tensor_numel(w[l].tensor);
        if (hd) {
            free(imp);
            if (!(imp = malloc((size_t)(numel ? numel : 1) * sizeof *imp))) {
                s = lc_fail(LC_ERR_NO_MEMORY, "quantize-kmeans: out of memory");
                break;
            }
            /* a floor of 1% of the mean (GPTQ's usual damping) keeps weights
             * whose inputs were always zero on the calibration data from
             * dropping out of the clustering entirely */
            double mean = 0;
            for (int64_t i = 0; i < numel; i++) mean += importance(&w[l], &hd[l], i);
            double damp = 0.01 * mean / (double)(numel ? numel : 1);
            for (int64_t i = 0; i < numel; i++) imp[i] = (float)(importance(&w[l], &hd[l], i) + damp);
        }
        s = quantize_tensor(&w[l], l, &kc, per_channel, hd ? imp : NULL);
        lc_progress(ctx, "quantize-kmeans", l + 1, n);
    }
    if (!s)
        lc_log(ctx, "quantize-kmeans: %d layers, %d bits, %s codebooks%s", n, kc.bits, per_channel ? "per-channel" : "per-layer",
               gptq ? ", GPTQ-compensated" : hessian ? ", Hessian-weighted" : "");
fail:
    free(plain);
    hdiag_free(hd, n);
    free(imp);
    free(w);
    return s;
}

const lc_pass lc_pass_quantize_kmeans = {
    .name = "quantize-kmeans",
    .summary = "weight sharing: a k-means codebook of 2^bits values per layer or channel",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .knob = "bits",
    .knob_safe = LC_SAFE_HIGH,
    .grid = LC_GRID_BITS,
    .weight_pass = true,
    .run = run,
};
