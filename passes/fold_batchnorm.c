/* fold-batchnorm: fold an inference BatchNormalization into the layer
 * before it (Conv, ConvTranspose, Gemm, MatMul), when that layer's output
 * feeds nothing but the BatchNormalization.
 *
 * BN(y) = s*y + t with s = gamma / sqrt(var + eps), t = beta - mean*s per
 * channel, so for y = W*x + b:  W' = W*s (per output channel), b' = s*b + t.
 * Each new value is computed in double from the float32 originals and
 * rounded once, so the folded layer equals the pair up to float rounding of
 * the layer's own arithmetic. A Gemm's beta is folded into the new bias
 * (beta becomes 1); a MatMul (no bias input) keeps its scaled weight and the
 * BatchNormalization becomes an Add of t. The layer takes over the
 * BatchNormalization's output name, so graph outputs and downstream names
 * are unchanged. Weights or biases shared with other nodes are copied
 * first; BatchNorm parameters nothing else reads are removed. Quantized
 * weights are left alone (their codes cannot take the factor), except a
 * per-output-channel uniform grid, whose step can: so a model compressed
 * with its BatchNorms (re-estimated after each wave) can still ship
 * without them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_graph_edit.h"
#include "lc_pass.h"
#include "lc_plan_inputs.h"

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

static bool real_dtype(const lc_tensor *t) { return t && (t->dtype == LC_DTYPE_FLOAT || t->dtype == LC_DTYPE_DOUBLE); }

static double get(const lc_tensor *t, int64_t i)
{
    return t->dtype == LC_DTYPE_DOUBLE ? ((const double *)t->data)[i] : (double)((const float *)t->data)[i];
}

/* The stored tensor of value `v`: an initializer or a Constant node's value
 * (exporters such as Paddle's write every weight as a Constant); NULL for
 * a graph input. */
static lc_tensor *stored(const lc_graph *g, const char *v)
{
    if (lc_graph_is_input(g, v)) return NULL;
    lc_tensor *t = lc_graph_init(g, v);
    int p = t ? -1 : lc_graph_producer(g, v);
    if (p < 0 || strcmp(g->nodes[p]->op_type, "Constant") || !default_domain(g->nodes[p])) return t;
    const lc_attr *a = lc_node_attr(g->nodes[p], "value");
    return a && a->type == LC_ATTR_TENSOR ? a->t : NULL;
}

/* Makes the Constant node defining `v` (if one does) an initializer of the
 * same name, so the fold can rewrite it like any other. */
static lc_status constant_to_init(lc_graph *g, const char *v)
{
    int p = lc_graph_init(g, v) ? -1 : lc_graph_producer(g, v);
    if (p < 0 || strcmp(g->nodes[p]->op_type, "Constant")) return LC_OK;
    lc_node *c = g->nodes[p];
    for (int a = 0; a < c->n_attrs; a++) {
        if (strcmp(c->attrs[a].name, "value") || c->attrs[a].type != LC_ATTR_TENSOR || !c->attrs[a].t) continue;
        lc_tensor *t = c->attrs[a].t;
        char *name = lc_strdup(v);
        if (!name) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        free(t->name);
        t->name = name;
        c->attrs[a].t = NULL;
        lc_graph_remove_node(g, p);
        return lc_graph_add_init_take(g, t);
    }
    return LC_OK;
}

/* The float32 initializer read as input `k` of node n, made private to n
 * (copied under a new name if another use reads it). NULL if absent or not
 * a float32 initializer. */
static lc_status private_init(lc_graph *g, lc_node *n, int k, lc_tensor **out)
{
    *out = NULL;
    if (k >= n->n_inputs || !*n->inputs[k] || lc_graph_is_input(g, n->inputs[k])) return LC_OK;
    lc_status s = constant_to_init(g, n->inputs[k]);
    if (s) return s;
    lc_tensor *t = lc_graph_init(g, n->inputs[k]);
    if (!t || t->dtype != LC_DTYPE_FLOAT) return LC_OK;
    if (lc_graph_use_count(g, t->name) == 1 && !lc_graph_is_output(g, t->name)) {
        *out = t;
        return LC_OK;
    }
    char *name = NULL;
    s = lc_graph_unique_name(g, t->name, &name);
    if (s) return s;
    lc_tensor *c = lc_tensor_clone(t);
    if (!c) {
        free(name);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    free(c->name);
    c->name = name;
    if ((s = lc_graph_add_init_take(g, c))) return s;
    if ((s = lc_node_set_input(n, k, c->name))) return s;
    *out = c;
    return LC_OK;
}

/* Output channel of element idx of the layer's weight, or -1 if the layout
 * does not have `ch` output channels on the BatchNorm's axis. */
typedef struct layout {
    int kind;            /* 0 Conv, 1 ConvTranspose, 2 Gemm/MatMul rows, 3 columns */
    int64_t inner, d0, d1, group;
} layout;

static bool make_layout(const lc_node *n, const lc_tensor *w, int64_t ch, layout *l)
{
    const char *op = n->op_type;
    memset(l, 0, sizeof *l);
    if (!strcmp(op, "Conv") && w->ndim >= 3 && w->dims[0] == ch) {
        l->kind = 0;
        l->inner = lc_tensor_numel(w) / ch;
        return true;
    }
    if (!strcmp(op, "ConvTranspose") && w->ndim >= 3) {
        int64_t group = lc_node_attr_int(n, "group", 1);
        if (group < 1 || w->dims[0] % group || w->dims[1] * group != ch) return false;
        l->kind = 1;
        l->group = group;
        l->d0 = w->dims[0];
        l->d1 = w->dims[1];
        l->inner = lc_tensor_numel(w) / (w->dims[0] * w->dims[1]);
        return true;
    }
    if (!strcmp(op, "Gemm") && w->ndim == 2) {
        bool tb = lc_node_attr_int(n, "transB", 0) != 0;
        if (w->dims[tb ? 0 : 1] != ch) return false;
        l->kind = tb ? 2 : 3;
        l->d1 = w->dims[1];
        return true;
    }
    if (!strcmp(op, "MatMul") && w->ndim == 2 && w->dims[1] == ch) {
        l->kind = 3;
        l->d1 = w->dims[1];
        return true;
    }
    return false;
}

static int64_t channel_of(const layout *l, int64_t idx)
{
    switch (l->kind) {
    case 0: return idx / l->inner;
    case 1: {
        int64_t j = (idx / l->inner) % l->d1, ic = idx / (l->inner * l->d1);
        return ic / (l->d0 / l->group) * l->d1 + j;
    }
    case 2: return idx / l->d1;
    default: return idx % l->d1;
    }
}

/* Rank of `value` when the model is planned for batch 1, or -1 if unknown. */
static int value_rank(lc_executor **ex, const lc_model *m, const lc_context *ctx, const char *value)
{
    if (!*ex && lc_executor_create_ctx(m, ctx, 1, 1, ex)) return -1;
    const lc_value *v = lc_executor_value(*ex, value);
    return v ? v->ndim : -1;
}

typedef struct bn_params {
    double *s, *t;
    int64_t ch;
} bn_params;

/* s and t of an inference BatchNormalization with constant parameters;
 * false (no error) when it is not foldable. */
static lc_status read_bn(const lc_graph *g, const lc_node *bn, bn_params *bp, bool *ok)
{
    *ok = false;
    if (bn->n_inputs < 5 || lc_node_attr_int(bn, "training_mode", 0) != 0) return LC_OK;
    const lc_attr *sp = lc_node_attr(bn, "spatial");
    if (sp && sp->type == LC_ATTR_INT && sp->i == 0) return LC_OK;
    for (int k = 1; k < bn->n_outputs; k++)
        if (*bn->outputs[k]) return LC_OK;
    const lc_tensor *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = stored(g, bn->inputs[k + 1]);
        if (!real_dtype(p[k]) || lc_tensor_numel(p[k]) != lc_tensor_numel(p[0]) || p[k]->ndim != 1) return LC_OK;
    }
    int64_t ch = lc_tensor_numel(p[0]);
    double eps = lc_node_attr_float(bn, "epsilon", 1e-5f);
    bp->s = malloc((size_t)(ch ? ch : 1) * sizeof *bp->s);
    bp->t = malloc((size_t)(ch ? ch : 1) * sizeof *bp->t);
    if (!bp->s || !bp->t) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t c = 0; c < ch; c++) {
        bp->s[c] = get(p[0], c) / sqrt(get(p[3], c) + eps);
        bp->t[c] = get(p[1], c) - get(p[2], c) * bp->s[c];
    }
    bp->ch = ch;
    *ok = true;
    return LC_OK;
}

/* +0.0f for zeros, so pruned elements stay +0.0f after a negative scale. */
static float round_once(double v) { return v == 0.0 ? 0.0f : (float)v; }

/* A UNIFORM encoding folds exactly when its channels are the BatchNorm's
 * (per output channel) and every factor is finite and non-zero. */
static bool uniform_foldable(const lc_tensor *w, const layout *lay, const bn_params *bp)
{
    const lc_encoding *e = w->enc;
    if (e->axis < 0 || e->channels != bp->ch) return false;
    for (int64_t c = 0; c < bp->ch; c++)
        if (!isfinite(bp->s[c]) || bp->s[c] == 0 || !isfinite((float)(e->scale[c] * fabs(bp->s[c])))) return false;
    int64_t n = lc_tensor_numel(w);
    for (int64_t i = 0; i < n; i++)
        if (lc_encoding_channel(e, w, i) != channel_of(lay, i)) return false;
    return true;
}

/* w = (q - z) * scale per channel c becomes w * s_c: scale * |s_c|, and for
 * s_c < 0 the codes mirrored (q -> maxq - q, z -> maxq - z), which negates
 * (q - z) and keeps every code in range. The float view is decoded again,
 * so the encoding stays exact; pruned elements stay +0.0f. */
static void fold_uniform(lc_tensor *w, const bn_params *bp)
{
    lc_encoding *e = w->enc;
    int maxq = (1 << e->bits) - 1;
    int64_t n = lc_tensor_numel(w);
    float *wv = w->data;
    for (int64_t c = 0; c < bp->ch; c++) {
        e->scale[c] = (float)(e->scale[c] * fabs(bp->s[c]));
        if (bp->s[c] < 0) e->zero_point[c] = maxq - e->zero_point[c];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = lc_encoding_channel(e, w, i);
        if (e->mask && !e->mask[i]) continue;
        if (bp->s[c] < 0) e->codes[i] = (uint8_t)(maxq - e->codes[i]);
        wv[i] = lc_encoding_value(e, c, e->codes[i]);
    }
}

/* Folds BatchNorm `bi` into its producer; *done false when the pair does
 * not qualify. */
static lc_status fold_one(lc_model *m, const lc_context *ctx, int bi, lc_executor **shapes, bool *done)
{
    lc_graph *g = m->graph;
    lc_node *bn = g->nodes[bi];
    *done = false;
    bn_params bp = {0};
    lc_status s = LC_OK;
    bool ok;
    const char *x = bn->inputs[0];
    int li = lc_graph_producer(g, x);
    if (li < 0 || lc_graph_use_count(g, x) != 1 || lc_graph_is_output(g, x)) return LC_OK;
    lc_node *layer = g->nodes[li];
    const char *op = layer->op_type;
    bool is_matmul = !strcmp(op, "MatMul");
    if (!default_domain(layer) || layer->n_inputs < 2 ||
        (strcmp(op, "Conv") && strcmp(op, "ConvTranspose") && strcmp(op, "Gemm") && !is_matmul))
        return LC_OK;
    if ((s = read_bn(g, bn, &bp, &ok)) || !ok) goto done;
    lc_tensor *w0 = stored(g, layer->inputs[1]);
    layout lay;
    if (!w0 || w0->dtype != LC_DTYPE_FLOAT || !make_layout(layer, w0, bp.ch, &lay)) goto done;
    /* quantized codes cannot be rescaled, except a per-output-channel
     * uniform grid, whose step takes the factor (fold_uniform) */
    bool uniform = w0->enc && w0->enc->kind == LC_ENC_UNIFORM && uniform_foldable(w0, &lay, &bp);
    if (w0->enc && w0->enc->kind != LC_ENC_DENSE && !uniform) goto done;
    /* a MatMul's output features are on the BatchNorm's channel axis 1 only
     * for rank-2 outputs (a Gemm's output always has rank 2) */
    if (is_matmul && value_rank(shapes, m, ctx, x) != 2) goto done;
    double beta = 1.0;
    lc_tensor *b0 = NULL;
    if (!is_matmul && layer->n_inputs > 2 && *layer->inputs[2]) {
        b0 = stored(g, layer->inputs[2]);
        if (!b0 || b0->dtype != LC_DTYPE_FLOAT) goto done;
        int64_t bn_ = lc_tensor_numel(b0);
        bool row = b0->ndim == 1 || (b0->ndim == 2 && b0->dims[0] == 1);
        if (!(bn_ == bp.ch && row) && bn_ != 1) goto done;
        if (!strcmp(op, "Gemm")) beta = lc_node_attr_float(layer, "beta", 1.0f);
    }

    lc_tensor *w = NULL, *b = NULL;
    if ((s = private_init(g, layer, 1, &w))) goto done;
    int64_t n = lc_tensor_numel(w);
    float *wv = w->data;
    if (uniform) fold_uniform(w, &bp);
    else
        for (int64_t i = 0; i < n; i++) wv[i] = round_once((double)wv[i] * bp.s[channel_of(&lay, i)]);

    if (is_matmul) {
        /* the BatchNorm becomes y + t */
        char *tname = NULL;
        lc_tensor *tt = NULL;
        if ((s = lc_graph_unique_name(g, bn->inputs[1], &tname))) goto done;
        int64_t dim = bp.ch;
        s = lc_graph_add_init(g, tname, LC_DTYPE_FLOAT, 1, &dim, NULL, &tt);
        free(tname);
        if (s) goto done;
        for (int64_t c = 0; c < bp.ch; c++) ((float *)tt->data)[c] = round_once(bp.t[c]);
        const char *in[2] = {x, tt->name};
        const char *out[1] = {bn->outputs[0]};
        lc_node *add = lc_node_make("Add", bn->name, 2, in, 1, out);
        if (!add) {
            s = LC_ERR_NO_MEMORY;
            goto done;
        }
        bi = lc_graph_node_index(g, bn);
        lc_graph_remove_node(g, bi);
        if ((s = lc_graph_insert_node_take(g, bi, add))) goto done;
        *done = true;
        goto done;
    }

    if (b0 && lc_tensor_numel(b0) != bp.ch) {
        /* a scalar Gemm bias broadcast over channels: widen it first */
        char *bname = NULL;
        lc_tensor *wide = NULL;
        if ((s = lc_graph_unique_name(g, b0->name, &bname))) goto done;
        int64_t dim = bp.ch;
        s = lc_graph_add_init(g, bname, LC_DTYPE_FLOAT, 1, &dim, NULL, &wide);
        free(bname);
        if (s) goto done;
        for (int64_t c = 0; c < bp.ch; c++) ((float *)wide->data)[c] = ((const float *)b0->data)[0];
        if ((s = lc_node_set_input(layer, 2, wide->name))) goto done;
        b = wide;
    } else if (b0) {
        if ((s = private_init(g, layer, 2, &b))) goto done;
    } else {
        char *bname = NULL;
        size_t len = strlen(layer->inputs[1]) + 8;
        char *base = malloc(len);
        if (!base) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        snprintf(base, len, "%s_bias", layer->inputs[1]);
        s = lc_graph_unique_name(g, base, &bname);
        free(base);
        if (s) goto done;
        int64_t dim = bp.ch;
        s = lc_graph_add_init(g, bname, LC_DTYPE_FLOAT, 1, &dim, NULL, &b);
        free(bname);
        if (s || (s = lc_node_set_input(layer, 2, b->name))) goto done;
    }
    float *bv = b->data;
    for (int64_t c = 0; c < bp.ch; c++) bv[c] = round_once(bp.s[c] * beta * (double)bv[c] + bp.t[c]);
    if (!strcmp(op, "Gemm") && beta != 1.0 && (s = lc_node_set_attr_float(layer, "beta", 1.0f))) goto done;
    /* the layer now produces the BatchNorm's output directly */
    char *old = lc_strdup(x);
    if (!old) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    s = lc_node_set_output(layer, 0, bn->outputs[0]);
    if (!s) {
        lc_graph_remove_node(g, lc_graph_node_index(g, bn));
        lc_graph_drop_value_info(g, old);
        *done = true;
    }
    free(old);
done:
    free(bp.s);
    free(bp.t);
    return s;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    (void)p;
    lc_graph *g = m->graph;
    lc_executor *shapes = NULL;
    lc_status s = LC_OK;
    int folded = 0, left = 0;
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const lc_node *n = g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") || !default_domain(n)) continue;
        bool done = false;
        /* folding removes the BatchNorm and maybe Constant nodes before it */
        const lc_node *next = i + 1 < g->n_nodes ? g->nodes[i + 1] : NULL;
        s = fold_one(m, ctx, i, &shapes, &done);
        i = next ? lc_graph_node_index(g, next) - 1 : g->n_nodes;
        if (done) folded++;
        else left++;
        /* a plan made for shapes refers to the graph as it was */
        if (done && shapes) {
            lc_executor_free(shapes);
            shapes = NULL;
        }
    }
    lc_executor_free(shapes);
    if (!s) s = lc_graph_prune_unused(g, NULL);
    if (!s) lc_log(ctx, "fold-batchnorm: folded %d BatchNormalization node(s), %d left", folded, left);
    return s;
}

const lc_pass lc_pass_fold_batchnorm = {
    .name = "fold-batchnorm",
    .summary = "fold inference BatchNormalization into the preceding Conv/ConvTranspose/Gemm/MatMul",
    .target_removes = "BatchNormalization",
    .run = run,
};
