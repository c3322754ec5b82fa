/* bias-correct: shift the bias of each compressed layer's output channels
 * so that their mean over the calibration data equals the reference
 * model's (lc_correct_bias, also run after a weight pass by correct=bias).
 * Pruning or quantizing a layer's weights shifts the mean of its outputs,
 * and on models without BatchNorm nothing else puts it back.
 *
 * A layer is "compressed" when its weight (input 1 of Conv, ConvTranspose,
 * Gemm, MatMul) differs from the reference model's tensor of the same name
 * in the node with the same output. The bias is input 2 of Conv,
 * ConvTranspose and Gemm (Gemm's C is scaled by beta, so the shift is
 * divided by it); for MatMul it is the stored operand of an Add that is the
 * MatMul's only consumer. A missing bias is created as a new initializer; a
 * bias shared with other nodes is replaced by a private copy. A MatMul
 * without such an Add is logged and skipped.
 *
 * Order: a layer's output mean depends on the corrections upstream, so the
 * reference means come from one run of the reference model and the
 * compressed model is measured in waves (lc_graph_levels): wave l measures
 * and corrects the layers with l compressed layers on the longest path
 * before them, with every earlier wave's correction already in place. The
 * shift is exact for the measured layer (its output mean moves by exactly
 * the shift); what it does to later layers through nonlinearities is what
 * the next wave measures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"

typedef struct chan_sum {
    int64_t channels;   /* 0 until the first observation */
    double *sum;
    int64_t count;      /* elements per channel */
} chan_sum;

typedef struct layer {
    int node, ref_node, level; /* ref_node: the lc_bias_ref entry */
    bool last_axis;     /* channel axis: last (MatMul) or 1 */
    chan_sum got, want; /* compressed model, reference model */
} layer;

typedef struct bc_state {
    layer *l;
    int *of_node;       /* node index of the observed model -> layer, -1 */
    int wave;           /* layers of this level only; -1: all */
    bool ref;           /* observing the reference model */
} bc_state;

static const char *const layer_ops[] = {"Conv", "ConvTranspose", "Gemm", "MatMul"};

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

static bool is_layer(const lc_node *n)
{
    if (!default_domain(n)) return false;
    for (size_t i = 0; i < sizeof layer_ops / sizeof *layer_ops; i++)
        if (!strcmp(n->op_type, layer_ops[i])) return true;
    return false;
}

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                         const lc_value *const *out)
{
    (void)n_in;
    (void)in;
    bc_state *st = user;
    int k = st->of_node[node_index];
    if (k < 0 || n_out < 1 || !out[0]) return LC_OK;
    layer *L = &st->l[k];
    if (st->wave >= 0 && L->level != st->wave) return LC_OK;
    chan_sum *cs = st->ref ? &L->want : &L->got;
    const lc_value *y = out[0];
    if (y->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_DTYPE, "bias-correct: layer '%s' has a non-float32 output", lc_node_label(node));
    if (y->ndim < 2)
        return lc_fail(LC_ERR_SHAPE, "bias-correct: layer '%s' output %s has no channel axis", lc_node_label(node),
                       lc_dims_str(y->ndim, y->dims));
    int axis = L->last_axis ? y->ndim - 1 : 1;
    int64_t outer = 1, c_n = y->dims[axis], inner = 1;
    for (int d = 0; d < axis; d++) outer *= y->dims[d];
    for (int d = axis + 1; d < y->ndim; d++) inner *= y->dims[d];
    if (!cs->sum) {
        if (!(cs->sum = calloc((size_t)(c_n ? c_n : 1), sizeof *cs->sum)))
            return lc_fail(LC_ERR_NO_MEMORY, "bias-correct: out of memory");
        cs->channels = c_n;
    } else if (cs->channels != c_n) {
        return lc_fail(LC_ERR_SHAPE, "bias-correct: layer '%s' output channels changed between batches",
                       lc_node_label(node));
    }
    const float *v = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < c_n; c++) {
            /* four partial sums: one chain of dependent additions is what
             * limits this loop (the float terms are exact in double) */
            const float *p = v + (o * c_n + c) * inner;
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int64_t i = 0;
            for (; i + 4 <= inner; i += 4) {
                a0 += p[i];
                a1 += p[i + 1];
                a2 += p[i + 2];
                a3 += p[i + 3];
            }
            for (; i < inner; i++) a0 += p[i];
            cs->sum[c] += (a0 + a1) + (a2 + a3);
        }
    cs->count += outer * inner;
    return LC_OK;
}

/* A stored main-graph tensor by value name (initializer or Constant). */
static lc_tensor *find_stored(const lc_graph *g, const char *name)
{
    lc_tensor *t = lc_graph_init(g, name);
    if (t) return t;
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        if (!strcmp(n->op_type, "Constant") && default_domain(n) && n->n_outputs > 0 && !strcmp(n->outputs[0], name)) {
            const lc_attr *a = lc_node_attr(n, "value");
            return a && a->type == LC_ATTR_TENSOR ? a->t : NULL;
        }
    }
    return NULL;
}

static int use_count(const lc_graph *g, const char *name)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_inputs; j++) k += strcmp(g->nodes[i]->inputs[j], name) == 0;
    for (int i = 0; i < g->n_outputs; i++) k += strcmp(g->outputs[i].name, name) == 0;
    return k;
}

static bool name_used(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inits; i++)
        if (!strcmp(g->inits[i]->name, name)) return true;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name)) return true;
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_outputs; k++)
            if (!strcmp(n->outputs[k], name)) return true;
        for (int a = 0; a < n->n_attrs; a++) {
            const lc_attr *at = &n->attrs[a];
            if (at->type == LC_ATTR_GRAPH && at->g && name_used(at->g, name)) return true;
            for (int k = 0; at->type == LC_ATTR_GRAPHS && k < at->n; k++)
                if (name_used(at->graphs[k], name)) return true;
        }
    }
    return false;
}

/* Adds `t` (taking it) as an initializer of the main graph; also as a
 * graph input for IR versions before 4, which require that. */
static lc_status add_init(lc_model *m, lc_tensor *t)
{
    lc_graph *g = m->graph;
    lc_status s = lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits);
    if (s) {
        lc_tensor_free(t);
        return s;
    }
    g->inits[g->n_inits++] = t;
    if (m->ir_version >= 4) return LC_OK;
    lc_value_info *in = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *in);
    if (!in) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    g->inputs = in;
    lc_value_info *v = &in[g->n_inputs];
    memset(v, 0, sizeof *v);
    v->name = lc_strdup(t->name);
    v->type.kind = LC_TYPE_TENSOR;
    v->type.elem_type = t->dtype;
    v->type.has_shape = true;
    v->type.ndim = t->ndim;
    v->type.dims = calloc((size_t)(t->ndim ? t->ndim : 1), sizeof *v->type.dims);
    if (!v->name || !v->type.dims) {
        lc_value_info_clear(v);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    for (int d = 0; d < t->ndim; d++) v->type.dims[d] = (lc_dim){LC_DIM_VALUE, t->dims[d], NULL, NULL};
    g->n_inputs++;
    return LC_OK;
}

/* Points input `k` of node `n` at `name`, growing the input list. */
static lc_status set_input(lc_node *n, int k, const char *name)
{
    if (k >= n->n_inputs) {
        char **in = realloc(n->inputs, (size_t)(k + 1) * sizeof *in);
        if (!in) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        n->inputs = in;
        for (int i = n->n_inputs; i <= k; i++) in[i] = NULL;
        for (int i = n->n_inputs; i <= k; i++)
            if (!(in[i] = lc_strdup(""))) {
                n->n_inputs = i;
                return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            }
        n->n_inputs = k + 1;
    }
    char *c = lc_strdup(name);
    if (!c) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    free(n->inputs[k]);
    n->inputs[k] = c;
    return LC_OK;
}

/* Adds shift[c] (channel = last axis) to the bias feeding input `k` of
 * `holder`, in place when the tensor is private and has the channel axis,
 * else in a new initializer. *applied stays false (logged) when it cannot. */
static lc_status shift_bias(lc_model *m, lc_node *layer_node, lc_node *holder, int k, const double *shift, int64_t C,
                            const lc_context *ctx, bool *applied)
{
    lc_graph *g = m->graph;
    *applied = false;
    const char *name = k < holder->n_inputs ? holder->inputs[k] : "";
    lc_tensor *t = *name ? find_stored(g, name) : NULL;
    if (*name && !t) {
        lc_log(ctx, "bias-correct: skipping '%s': its bias '%s' is computed, not stored", lc_node_label(layer_node), name);
        return LC_OK;
    }
    if (t && (t->dtype != LC_DTYPE_FLOAT || t->enc)) {
        lc_log(ctx, "bias-correct: skipping '%s': its bias '%s' is not a plain float32 tensor", lc_node_label(layer_node),
               name);
        return LC_OK;
    }
    int64_t old_last = t && t->ndim ? t->dims[t->ndim - 1] : 1;
    if (t && old_last != C && old_last != 1) {
        lc_log(ctx, "bias-correct: skipping '%s': bias '%s' has shape %s, not %lld channels", lc_node_label(layer_node),
               name, lc_dims_str(t->ndim, t->dims), (long long)C);
        return LC_OK;
    }
    if (t && old_last == C && use_count(g, name) == 1) {
        lc_status us = lc_tensor_unshare(t); /* the gate's copy shares it */
        if (us) return us;
        float *v = t->data;
        int64_t n = lc_tensor_numel(t);
        for (int64_t j = 0; j < n; j++) v[j] = (float)((double)v[j] + shift[j % C]);
        *applied = true;
        return LC_OK;
    }
    /* a new tensor: the old one's shape with the channel axis spelled out */
    int64_t dims[LC_MAX_DIMS];
    int nd = t && t->ndim ? t->ndim : 1;
    for (int d = 0; d < nd - 1; d++) dims[d] = t->dims[d];
    dims[nd - 1] = C;
    char base[256], fresh[300];
    snprintf(base, sizeof base, "%s_bias", layer_node->name && *layer_node->name ? layer_node->name : layer_node->outputs[0]);
    snprintf(fresh, sizeof fresh, "%s", base);
    for (int i = 1; name_used(g, fresh); i++) snprintf(fresh, sizeof fresh, "%s_%d", base, i);
    lc_tensor *nt = lc_tensor_new(fresh, LC_DTYPE_FLOAT, nd, dims);
    if (!nt) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_tensor_alloc_data(nt);
    if (s) {
        lc_tensor_free(nt);
        return s;
    }
    float *v = nt->data;
    const float *old = t ? t->data : NULL;
    int64_t n = lc_tensor_numel(nt);
    for (int64_t j = 0; j < n; j++) {
        double base_v = old ? old[old_last == C ? j : j / C] : 0.0;
        v[j] = (float)(base_v + shift[j % C]);
    }
    if ((s = add_init(m, nt))) return s;
    if ((s = set_input(holder, k, fresh))) return s;
    *applied = true;
    return LC_OK;
}

/* Applies the measured shift of one layer. */
static lc_status correct_layer(lc_model *m, layer *L, const lc_context *ctx, bool *applied, double *max_shift)
{
    lc_graph *g = m->graph;
    lc_node *n = g->nodes[L->node];
    *applied = false;
    if (!L->got.count || !L->want.count) {
        lc_log(ctx, "bias-correct: skipping '%s': not executed on the calibration data", lc_node_label(n));
        return LC_OK;
    }
    int64_t C = L->got.channels;
    if (L->want.channels != C) {
        lc_log(ctx, "bias-correct: skipping '%s': %lld output channels, the reference has %lld", lc_node_label(n),
               (long long)C, (long long)L->want.channels);
        return LC_OK;
    }
    lc_node *holder = n;
    int k = 2;
    double scale = 1.0;
    if (!strcmp(n->op_type, "Gemm")) {
        double beta = lc_node_attr_float(n, "beta", 1.0f);
        if (beta == 0) {
            lc_log(ctx, "bias-correct: skipping '%s': Gemm with beta=0 ignores its bias", lc_node_label(n));
            return LC_OK;
        }
        scale = 1.0 / beta;
    } else if (!strcmp(n->op_type, "MatMul")) {
        /* the bias of a MatMul is the stored operand of its only consumer, an Add */
        holder = NULL;
        if (use_count(g, n->outputs[0]) == 1)
            for (int i = 0; i < g->n_nodes && !holder; i++) {
                lc_node *a = g->nodes[i];
                if (strcmp(a->op_type, "Add") || !default_domain(a) || a->n_inputs != 2) continue;
                for (int j = 0; j < 2; j++) {
                    lc_tensor *b = find_stored(g, a->inputs[1 - j]);
                    if (!strcmp(a->inputs[j], n->outputs[0]) && b && lc_tensor_numel(b) == C && b->ndim >= 1 &&
                        b->dims[b->ndim - 1] == C) {
                        holder = a;
                        k = 1 - j;
                    }
                }
            }
        if (!holder) {
            lc_log(ctx, "bias-correct: skipping MatMul '%s': no bias (an Add of a stored [%lld] tensor) follows it",
                   lc_node_label(n), (long long)C);
            return LC_OK;
        }
    }
    double *shift = malloc((size_t)C * sizeof *shift);
    if (!shift) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t c = 0; c < C; c++) {
        shift[c] = (L->want.sum[c] / (double)L->want.count - L->got.sum[c] / (double)L->got.count) * scale;
        if (fabs(shift[c]) > *max_shift) *max_shift = fabs(shift[c]);
    }
    lc_status s = shift_bias(m, n, holder, k, shift, C, ctx, applied);
    free(shift);
    return s;
}

/* What the correction needs of the model before the pass (lc_bias_ref):
 * per layer, its output name, op, the weight's shape and a 128-bit
 * fingerprint of its bytes (a weight "changed" when they differ: a
 * collision, at odds of 2^-128, would only leave one layer uncorrected),
 * and the per-channel sums of its output on the calibration data; with
 * the gate, the model's first output on it. No copy of the model. */
typedef struct ref_layer {
    char *output, *op;
    bool has_weight;    /* a stored float32 weight */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    uint64_t print[2];
    chan_sum want;
} ref_layer;

typedef struct out_buf {
    float *v;
    size_t n, cap;
} out_buf;

struct lc_bias_ref {
    int n;
    ref_layer *l;
    out_buf outs;       /* the gate's reference outputs (empty: no gate) */
};

static void fingerprint(const void *data, size_t nbytes, uint64_t out[2])
{
    const unsigned char *b = data;
    uint64_t h1 = 0x9e3779b97f4a7c15ull ^ nbytes, h2 = 0xc2b2ae3d27d4eb4full + nbytes;
    size_t i = 0;
    for (; i + 8 <= nbytes; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h1 = (h1 ^ w) * 0x100000001b3ull;
        h1 ^= h1 >> 29;
        h2 = (h2 + w) * 0xff51afd7ed558ccdull;
        h2 ^= h2 >> 32;
    }
    for (; i < nbytes; i++) {
        h1 = (h1 ^ b[i]) * 0x100000001b3ull;
        h2 = (h2 + b[i]) * 0xff51afd7ed558ccdull;
    }
    out[0] = h1 ^ (h1 >> 31);
    out[1] = h2 ^ (h2 >> 33);
}

static bool weight_changed(const lc_graph *g, const lc_node *n, const ref_layer *r)
{
    lc_tensor *w = find_stored(g, n->inputs[1]);
    if (!w || w->dtype != LC_DTYPE_FLOAT) return false;
    if (!r->has_weight || r->ndim != w->ndim || memcmp(r->dims, w->dims, sizeof(int64_t) * (size_t)w->ndim)) return true;
    uint64_t print[2];
    fingerprint(w->data, w->nbytes, print);
    return print[0] != r->print[0] || print[1] != r->print[1];
}

static int ref_by_output(const lc_bias_ref *ref, const char *name)
{
    for (int i = 0; i < ref->n; i++)
        if (!strcmp(ref->l[i].output, name)) return i;
    return -1;
}

static lc_status correct_all(lc_model *m, const lc_bias_ref *ref, const lc_context *ctx)
{
    lc_graph *g = m->graph;
    int nn = g->n_nodes, n_layers = 0, n_levels = 0, done = 0;
    layer *l = calloc((size_t)nn + 1, sizeof *l);
    bool *marked = calloc((size_t)nn + 1, sizeof *marked);
    int *level = calloc((size_t)nn + 1, sizeof *level);
    int *of_m = malloc(((size_t)nn + 1) * sizeof *of_m);
    bool *need = calloc((size_t)nn + 1, sizeof *need);
    double max_shift = 0;
    lc_status s = LC_OK;
    if (!l || !marked || !level || !of_m || !need) {
        s = lc_fail(LC_ERR_NO_MEMORY, "bias-correct: out of memory");
        goto done;
    }
    for (int i = 0; i < nn; i++) {
        of_m[i] = -1;
        const lc_node *n = g->nodes[i];
        if (!is_layer(n) || n->n_inputs < 2 || !*n->inputs[1] || n->n_outputs < 1) continue;
        int r = ref_by_output(ref, n->outputs[0]);
        if (r < 0 || strcmp(ref->l[r].op, n->op_type) || !weight_changed(g, n, &ref->l[r])) continue;
        marked[i] = true;
        /* the reference sums are borrowed (never freed through l) */
        l[n_layers] = (layer){.node = i, .ref_node = r, .last_axis = !strcmp(n->op_type, "MatMul"), .want = ref->l[r].want};
        of_m[i] = n_layers++;
    }
    if (!n_layers) {
        lc_log(ctx, "bias-correct: no layer differs from the reference model");
        goto done;
    }
    if ((s = lc_graph_levels(g, marked, level, &n_levels))) goto done;
    for (int k = 0; k < n_layers; k++) l[k].level = level[l[k].node];
    bc_state st = {l, of_m, -1, false};
    for (int wave = 0; wave < n_levels && !s; wave++) {
        st.wave = wave;
        for (int i = 0; i < nn; i++) need[i] = false;
        for (int k = 0; k < n_layers; k++) need[l[k].node] = l[k].level == wave;
        if ((s = lc_calib_run_nodes(m, ctx, observe, &st, need))) break;
        for (int k = 0; k < n_layers && !s; k++) {
            bool applied = false;
            if (l[k].level == wave && !(s = correct_layer(m, &l[k], ctx, &applied, &max_shift)) && applied) done++;
        }
    }
    if (!s)
        lc_log(ctx, "bias-correct: corrected %d of %d changed layer(s) in %d wave(s); largest shift %.4g", done, n_layers,
               n_levels, max_shift);
done:
    for (int k = 0; l && k < n_layers; k++) free(l[k].got.sum);
    free(l);
    free(marked);
    free(level);
    free(of_m);
    free(need);
    return s;
}

static lc_status on_out(void *user, int64_t start, int64_t n, const lc_array *out)
{
    (void)start;
    (void)n;
    out_buf *o = user;
    if (out->dtype != LC_DTYPE_FLOAT) return lc_fail(LC_ERR_DTYPE, "bias-correct: the model's first output is not float32");
    size_t k = 1;
    for (int d = 0; d < out->ndim; d++) k *= (size_t)out->dims[d];
    if (o->n + k > o->cap) {
        size_t cap = (o->n + k) * 2;
        float *q = realloc(o->v, cap * sizeof *q);
        if (!q) return lc_fail(LC_ERR_NO_MEMORY, "bias-correct: out of memory");
        o->v = q;
        o->cap = cap;
    }
    memcpy(o->v + o->n, out->data, k * sizeof *o->v);
    o->n += k;
    return LC_OK;
}

static lc_status outputs(const lc_model *m, const lc_context *ctx, out_buf *o)
{
    return lc_dataset_run(m, ctx->calib, ctx->calib_limit, ctx->batch, ctx->threads, NULL, NULL, on_out, o, ctx);
}

/* Samples whose arg-max (of the first output) equals the reference's. */
static int64_t agreement(const out_buf *want, const out_buf *got, int64_t n)
{
    int64_t agree = 0;
    size_t k = n > 0 ? want->n / (size_t)n : 0;
    if (!k || got->n != want->n) return 0;
    for (int64_t i = 0; i < n; i++) {
        const float *a = want->v + (size_t)i * k, *b = got->v + (size_t)i * k;
        size_t ia = 0, ib = 0;
        for (size_t j = 1; j < k; j++) {
            if (a[j] > a[ia]) ia = j;
            if (b[j] > b[ib]) ib = j;
        }
        agree += ia == ib;
    }
    return agree;
}

/* Below this many calibration samples a difference in agreement is noise:
 * the correction is always kept. */
#define GATE_MIN_SAMPLES 64

static int64_t calib_count(const lc_context *ctx)
{
    int64_t n = lc_dataset_count(ctx->calib);
    return ctx->calib_limit > 0 && ctx->calib_limit < n ? ctx->calib_limit : n;
}

void lc_bias_ref_free(lc_bias_ref *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        free(r->l[i].output);
        free(r->l[i].op);
        free(r->l[i].want.sum);
    }
    free(r->l);
    free(r->outs.v);
    free(r);
}

lc_status lc_bias_ref_collect(const lc_model *m, const lc_context *ctx, lc_bias_ref **out)
{
    *out = NULL;
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_bias_ref_collect: NULL model");
    if (!ctx || !ctx->calib) return lc_fail(LC_ERR_INVALID_ARGUMENT, "bias-correct needs calibration data");
    const lc_graph *g = m->graph;
    int nn = g->n_nodes;
    lc_bias_ref *r = calloc(1, sizeof *r);
    int *of_node = malloc(((size_t)nn + 1) * sizeof *of_node);
    bool *need = calloc((size_t)nn + 1, sizeof *need);
    layer *obs = calloc((size_t)nn + 1, sizeof *obs);
    lc_status s = LC_OK;
    if (!r || !of_node || !need || !obs || !(r->l = calloc((size_t)nn + 1, sizeof *r->l))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "bias-correct: out of memory");
        goto done;
    }
    /* every layer: which ones the pass changes is known only after it */
    for (int i = 0; i < nn && !s; i++) {
        of_node[i] = -1;
        const lc_node *n = g->nodes[i];
        if (!is_layer(n) || n->n_outputs < 1) continue;
        ref_layer *L = &r->l[r->n];
        if (!(L->output = lc_strdup(n->outputs[0])) || !(L->op = lc_strdup(n->op_type))) {
            free(L->output);
            s = lc_fail(LC_ERR_NO_MEMORY, "bias-correct: out of memory");
            break;
        }
        lc_tensor *w = n->n_inputs > 1 && *n->inputs[1] ? find_stored(g, n->inputs[1]) : NULL;
        if (w && w->dtype == LC_DTYPE_FLOAT) {
            L->has_weight = true;
            L->ndim = w->ndim;
            memcpy(L->dims, w->dims, sizeof(int64_t) * (size_t)w->ndim);
            fingerprint(w->data, w->nbytes, L->print);
        }
        obs[r->n] = (layer){.node = i, .level = 0, .last_axis = !strcmp(n->op_type, "MatMul")};
        need[i] = true;
        of_node[i] = r->n++;
    }
    bc_state st = {obs, of_node, -1, true};
    /* the run stops after the last layer */
    if (!s && r->n) s = lc_calib_run_nodes(m, ctx, observe, &st, need);
    for (int k = 0; k < r->n; k++) {
        r->l[k].want = obs[k].want;
        obs[k].want.sum = NULL;
    }
    if (!s && calib_count(ctx) >= GATE_MIN_SAMPLES) s = outputs(m, ctx, &r->outs);
done:
    free(of_node);
    free(need);
    free(obs);
    if (s) lc_bias_ref_free(r);
    else *out = r;
    return s;
}

/* The correction is kept unless it makes the model agree (top-1, first
 * graph output) with the reference on fewer calibration samples than
 * without it. Mean matching restores a channel's mean but not its
 * variance: after heavy pruning (>= 90%) it turns ReLU units that fired
 * sometimes into near-constants and was measured to cost accuracy (though
 * it still lowers the outputs' squared error), while it helps at moderate
 * sparsity. */
lc_status lc_correct_bias_ref(lc_model *m, const lc_bias_ref *ref, const lc_context *ctx)
{
    if (!m || !ref) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_correct_bias_ref: NULL argument");
    if (!ctx || !ctx->calib) return lc_fail(LC_ERR_INVALID_ARGUMENT, "bias-correct needs calibration data");
    lc_model *plain = NULL;
    out_buf got_plain = {0}, got = {0};
    int64_t n = calib_count(ctx);
    bool gate = n >= GATE_MIN_SAMPLES;
    if (gate && ref->outs.n == 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_correct_bias_ref: the reference was collected on other calibration data");
    /* the uncorrected model shares m's tensors: the correction changes only
       biases (unshared as it writes them) */
    lc_status s = gate ? lc_model_clone_shared(m, &plain) : LC_OK;
    if (!s) s = correct_all(m, ref, ctx);
    if (!s && gate) s = outputs(plain, ctx, &got_plain);
    if (!s && gate) s = outputs(m, ctx, &got);
    if (!s && gate) {
        int64_t a_plain = agreement(&ref->outs, &got_plain, n), a = agreement(&ref->outs, &got, n);
        if (a < a_plain) {
            /* revert: m takes the uncorrected model's contents */
            lc_model tmp = *m;
            *m = *plain;
            *plain = tmp;
        }
        lc_log(ctx, "bias-correct: %s (calibration top-1 agreement with the reference %lld/%lld with it, %lld without)",
               a < a_plain ? "not applied" : "kept", (long long)a, (long long)n, (long long)a_plain);
    }
    lc_model_free(plain);
    /* m holds every buffer alone again: drop the counters */
    if (gate && !s) s = lc_model_unshare(m);
    free(got_plain.v);
    free(got.v);
    return s;
}

lc_status lc_correct_bias(lc_model *m, const lc_model *ref, const lc_context *ctx)
{
    if (!m || !ref) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_correct_bias: NULL model");
    if (!ctx || !ctx->calib) return lc_fail(LC_ERR_INVALID_ARGUMENT, "bias-correct needs calibration data");
    lc_bias_ref *r;
    lc_status s = lc_bias_ref_collect(ref, ctx, &r);
    if (!s) s = lc_correct_bias_ref(m, r, ctx);
    lc_bias_ref_free(r);
    return s;
}

/* Standalone, the reference is the model the pipeline started from (the
 * context's reference): passes never read files themselves. */
static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    (void)p;
    if (!ctx || !ctx->reference)
        return lc_fail(LC_ERR_INVALID_ARGUMENT,
                       "bias-correct needs the model before compression as its reference: run it in a pipeline "
                       "(shrink run) or set one with lc_context_set_reference, or use a weight pass's correct=bias");
    return lc_correct_bias(m, ctx->reference, ctx);
}

const lc_pass lc_pass_bias_correct = {
    .name = "bias-correct",
    .summary = "shift output-channel biases so layer output means match a reference model on calibration data",
    .needs_calib = true,
    .run = run,
};
