/* The array-level API: what a pass does to one layer's weight, for callers
 * (training loops, the Python binding) that hold the weight as an array.
 *
 * Every function wraps a copy of the array as the only weight of a
 * one-layer model (Gemm with transB=1 for [out, in], Conv for [out, in,
 * k...]) and runs the real pass through lc_pass_run, so the result is
 * exactly what the pass computes on a model's layer, verified encodings
 * included; nothing here re-implements a pass's arithmetic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_graph_edit.h"
#include "lc_pass.h"

#define WEIGHT_NAME "w"

/* "2x3x4" into buf (lc_dims_str's buffer is shared by every call in a
 * thread, and messages here print two shapes). */
static const char *dims_text(char *buf, size_t len, int ndim, const int64_t *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && used < len; d++) {
        int k = snprintf(buf + used, len - used, d ? "x%lld" : "%lld", (long long)dims[d]);
        if (k < 0) break;
        used += (size_t)k;
    }
    return buf;
}

/* A weight of rank 2 ([out, in]) or 3..5 ([out, in, kernel...]) with
 * positive dims; *numel receives its element count. */
static lc_status check_weight(const char *fn, const float *w, int ndim, const int64_t *dims, int64_t *numel)
{
    if (!w || !dims) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: the weight array is NULL", fn);
    if (ndim < 2 || ndim > 5)
        return lc_fail(LC_ERR_SHAPE,
                       "%s: the weight has %d dims; need 2 ([out, in], fully connected) or 3 to 5 ([out, in, "
                       "kernel...], convolution)",
                       fn, ndim);
    char buf[128];
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 1)
            return lc_fail(LC_ERR_SHAPE, "%s: weight shape [%s] has an empty dimension", fn,
                           dims_text(buf, sizeof buf, ndim, dims));
    *numel = lc_shape_numel(ndim, dims, sizeof(float));
    if (*numel < 0)
        return lc_fail(LC_ERR_SHAPE, "%s: weight shape [%s] is too large", fn, dims_text(buf, sizeof buf, ndim, dims));
    return LC_OK;
}

/* A float tensor type; dims[d] < 0 is the symbolic batch dimension "N"
 * (ndim < 0: rank unknown). */
static lc_status set_value(lc_value_info *v, const char *name, int ndim, const int64_t *dims)
{
    v->name = lc_strdup(name);
    v->type.kind = LC_TYPE_TENSOR;
    v->type.elem_type = LC_DTYPE_FLOAT;
    v->type.has_shape = ndim >= 0;
    if (!v->name) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (ndim <= 0) return LC_OK;
    v->type.dims = calloc((size_t)ndim, sizeof *v->type.dims);
    if (!v->type.dims) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    v->type.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        lc_dim *dm = &v->type.dims[d];
        if (dims[d] >= 0) {
            dm->kind = LC_DIM_VALUE;
            dm->value = dims[d];
        } else {
            dm->kind = LC_DIM_PARAM;
            if (!(dm->param = lc_strdup("N"))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
    }
    return LC_OK;
}

/* The one-layer model y = layer(x, w) around a copy of w. The input's
 * sample shape is x_dims[1..] when x_dims is given (Hessian inputs), else
 * [in] for a fully connected weight and [in, kernel...] for a convolution
 * (a valid convolution: the model is never run then). */
static lc_status wrap(const float *w, int ndim, const int64_t *dims, const int64_t *x_dims, lc_model **out)
{
    lc_status s = LC_OK;
    lc_model *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    m->ir_version = 8;
    m->opsets = calloc(1, sizeof *m->opsets);
    m->graph = calloc(1, sizeof *m->graph);
    if (!m->opsets || !m->graph) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    m->n_opsets = 1;
    m->opsets[0].version = 13;
    lc_graph *g = m->graph;
    if (!(m->opsets[0].domain = lc_strdup("")) || !(g->name = lc_strdup("array"))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((s = lc_graph_add_init(g, WEIGHT_NAME, LC_DTYPE_FLOAT, ndim, dims, w, NULL))) goto fail;

    int64_t in_dims[LC_MAX_DIMS];
    in_dims[0] = -1;
    for (int d = 1; d < ndim; d++) in_dims[d] = x_dims ? x_dims[d] : dims[d];
    g->inputs = calloc(1, sizeof *g->inputs);
    g->outputs = calloc(1, sizeof *g->outputs);
    if (!g->inputs || !g->outputs) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    g->n_inputs = g->n_outputs = 1;
    if ((s = set_value(&g->inputs[0], "x", ndim, in_dims))) goto fail;
    if ((s = set_value(&g->outputs[0], "y", -1, NULL))) goto fail;

    const char *ins[2] = {"x", WEIGHT_NAME}, *outs[1] = {"y"};
    lc_node *node = lc_node_make(ndim == 2 ? "Gemm" : "Conv", "layer", 2, ins, 1, outs);
    if (!node) {
        s = LC_ERR_NO_MEMORY;
        goto fail;
    }
    if (ndim == 2 && (s = lc_node_set_attr_int(node, "transB", 1))) {
        lc_node_free(node);
        goto fail;
    }
    if ((s = lc_graph_insert_node_take(g, 0, node))) goto fail;
    *out = m;
    return LC_OK;
fail:
    lc_model_free(m);
    return s;
}

/* Runs `pass` on the wrapped weight; errors are prefixed with fn. */
static lc_status run_pass(const char *fn, lc_model *m, const char *pass, const char *params, const lc_context *ctx)
{
    lc_status s = lc_pass_run(m, pass, params, ctx);
    return s ? lc_fail_prefix(s, "%s", fn) : LC_OK;
}

/* The weight after a pass, with the float view and encoding it left. */
static lc_status wrapped_weight(const char *fn, const lc_model *m, lc_tensor **t)
{
    *t = lc_graph_init(m->graph, WEIGHT_NAME);
    if (!*t || (*t)->dtype != LC_DTYPE_FLOAT || !(*t)->data)
        return lc_fail(LC_ERR_INTERNAL, "%s: the pass left no float weight", fn);
    return LC_OK;
}

/* Copies the float view into out and the mask (1 where no mask) into mask
 * (either may be NULL). */
static void copy_view(const lc_tensor *t, int64_t numel, float *out, uint8_t *mask)
{
    if (out) memcpy(out, t->data, (size_t)numel * sizeof *out);
    if (!mask) return;
    const lc_encoding *e = t->enc;
    if (e && e->mask)
        memcpy(mask, e->mask, (size_t)numel);
    else
        memset(mask, 1, (size_t)numel);
}

/* ",nm=N:M" or "" (N:M sparsity along the input dimension). */
static lc_status nm_text(const char *fn, int nm_n, int nm_m, char *buf, size_t len)
{
    buf[0] = '\0';
    if (nm_m == 0 && nm_n == 0) return LC_OK;
    if (nm_m < 1 || nm_n < 1 || nm_n > nm_m)
        return lc_fail(LC_ERR_PARAMETER, "%s: N:M pattern %d:%d needs 1 <= N <= M", fn, nm_n, nm_m);
    snprintf(buf, len, ",nm=%d:%d", nm_n, nm_m);
    return LC_OK;
}

lc_status lc_array_prune_magnitude(const float *w, int ndim, const int64_t *dims, double sparsity, int nm_n, int nm_m,
                                   float *out, uint8_t *mask)
{
    static const char fn[] = "lc_array_prune_magnitude";
    int64_t numel = 0;
    lc_model *m = NULL;
    lc_tensor *t = NULL;
    char nm[64], params[192];
    lc_status s = check_weight(fn, w, ndim, dims, &numel);
    if (!s) s = nm_text(fn, nm_n, nm_m, nm, sizeof nm);
    if (s) return s;
    snprintf(params, sizeof params, "sparsity=%.17g,correct=none%s", nm_m ? 0.0 : sparsity, nm);
    if ((s = wrap(w, ndim, dims, NULL, &m))) goto fail;
    if ((s = run_pass(fn, m, "prune-magnitude", params, NULL))) goto fail;
    if ((s = wrapped_weight(fn, m, &t))) goto fail;
    copy_view(t, numel, out, mask);
fail:
    lc_model_free(m);
    return s;
}

lc_status lc_array_prune_hessian(const float *w, int ndim, const int64_t *dims, const lc_array *x, double sparsity,
                                 int nm_n, int nm_m, int64_t block, double damp, float *out, uint8_t *mask)
{
    static const char fn[] = "lc_array_prune_hessian";
    int64_t numel = 0;
    lc_model *m = NULL;
    lc_tensor *t = NULL;
    lc_dataset *d = NULL;
    lc_context *ctx = NULL;
    char nm[64], params[256], wb[128], xb[128];
    lc_status s = check_weight(fn, w, ndim, dims, &numel);
    if (!s) s = nm_text(fn, nm_n, nm_m, nm, sizeof nm);
    if (s) return s;
    if (!x || !x->data) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: the layer inputs x are NULL", fn);
    if (x->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_DTYPE, "%s: the layer inputs x are %s, need float32", fn, lc_dtype_name(x->dtype));
    bool fits = x->ndim == ndim && x->dims[0] >= 1 && x->dims[1] == dims[1];
    for (int k = 2; fits && k < ndim; k++) fits = x->dims[k] >= dims[k];
    if (!fits)
        return lc_fail(LC_ERR_SHAPE,
                       "%s: layer inputs x [%s] do not fit weight [%s]: need [n, %lld] for a fully connected weight, "
                       "[n, %lld, spatial...] (each spatial size >= the kernel's) for a convolution",
                       fn, dims_text(xb, sizeof xb, x->ndim, x->dims), dims_text(wb, sizeof wb, ndim, dims),
                       (long long)dims[1], (long long)dims[1]);
    if (block < 1) return lc_fail(LC_ERR_PARAMETER, "%s: block is %lld, need >= 1", fn, (long long)block);
    /* one layer: scope=layer pins the plain SparseGPT sweep */
    snprintf(params, sizeof params, "sparsity=%.17g,scope=layer,block=%lld,damp=%.17g,correct=none%s",
             nm_m ? 0.0 : sparsity, (long long)block, damp, nm);
    if ((s = wrap(w, ndim, dims, x->dims, &m))) goto fail;
    if ((s = lc_dataset_create("x", x->ndim, x->dims, x->data, &d))) goto fail;
    if ((s = lc_context_create(&ctx))) goto fail;
    lc_context_set_calib(ctx, d, 0);
    lc_context_set_batch(ctx, 256);
    if ((s = run_pass(fn, m, "prune-hessian", params, ctx))) goto fail;
    if ((s = wrapped_weight(fn, m, &t))) goto fail;
    copy_view(t, numel, out, mask);
fail:
    lc_context_free(ctx);
    lc_dataset_free(d);
    lc_model_free(m);
    return s;
}

/* Options may set any quantize-kmeans parameter but those the function
 * takes as arguments (or that make no sense for one array). */
static lc_status check_options(const char *fn, const char *options)
{
    static const char *const reserved[] = {"bits", "granularity", "correct", "hessian", "ops", "include", "exclude"};
    const char *p = options;
    while (p && *p) {
        size_t key = strcspn(p, "=,");
        for (size_t r = 0; r < sizeof reserved / sizeof *reserved; r++)
            if (strlen(reserved[r]) == key && !strncmp(p, reserved[r], key))
                return lc_fail(LC_ERR_PARAMETER, "%s: '%s' is not an option here (it is an argument, or fixed)", fn,
                               reserved[r]);
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return LC_OK;
}

lc_status lc_array_kmeans(const float *w, int ndim, const int64_t *dims, int bits, int per_channel,
                          const char *options, float *codebook, uint8_t *codes, float *out)
{
    static const char fn[] = "lc_array_kmeans";
    int64_t numel = 0;
    lc_model *m = NULL;
    lc_tensor *t = NULL;
    char *params = NULL;
    lc_status s = check_weight(fn, w, ndim, dims, &numel);
    if (!s) s = check_options(fn, options);
    if (s) return s;
    if (bits < 1 || bits > 8) return lc_fail(LC_ERR_PARAMETER, "%s: bits is %d, need 1..8", fn, bits);
    size_t len = (options ? strlen(options) : 0) + 96;
    if (!(params = malloc(len))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    snprintf(params, len, "bits=%d,granularity=%s,correct=none%s%s", bits, per_channel ? "channel" : "layer",
             options && *options ? "," : "", options ? options : "");
    if ((s = wrap(w, ndim, dims, NULL, &m))) goto fail;
    if ((s = run_pass(fn, m, "quantize-kmeans", params, NULL))) goto fail;
    if ((s = wrapped_weight(fn, m, &t))) goto fail;
    const lc_encoding *e = t->enc;
    int n_codes = 1 << bits;
    int64_t channels = per_channel ? dims[0] : 1;
    if (!e || e->kind != LC_ENC_CODEBOOK || e->n_codes != n_codes || e->channels != channels) {
        s = lc_fail(LC_ERR_INTERNAL, "%s: quantize-kmeans left no %d-entry codebook", fn, n_codes);
        goto fail;
    }
    copy_view(t, numel, out, NULL);
    if (codebook) memcpy(codebook, e->codebook, (size_t)(channels * n_codes) * sizeof *codebook);
    if (codes) memcpy(codes, e->codes, (size_t)numel);
fail:
    free(params);
    lc_model_free(m);
    return s;
}

lc_status lc_array_binarize(const float *w, int ndim, const int64_t *dims, float *alpha, uint8_t *signs, float *out)
{
    static const char fn[] = "lc_array_binarize";
    int64_t numel = 0;
    lc_model *m = NULL;
    lc_tensor *t = NULL;
    lc_status s = check_weight(fn, w, ndim, dims, &numel);
    if (s) return s;
    if ((s = wrap(w, ndim, dims, NULL, &m))) goto fail;
    /* the one layer is both the first and the last of its model */
    if ((s = run_pass(fn, m, "binarize", "first_last=true,correct=none", NULL))) goto fail;
    if ((s = wrapped_weight(fn, m, &t))) goto fail;
    const lc_encoding *e = t->enc;
    if (!e || e->kind != LC_ENC_BINARY || e->channels != dims[0]) {
        s = lc_fail(LC_ERR_INTERNAL, "%s: binarize left no per-channel binary encoding", fn);
        goto fail;
    }
    copy_view(t, numel, out, NULL);
    if (alpha) memcpy(alpha, e->alpha, (size_t)dims[0] * sizeof *alpha);
    if (signs)
        for (int64_t i = 0; i < numel; i++) signs[i] = (!e->mask || e->mask[i]) ? e->codes[i] : 0;
fail:
    lc_model_free(m);
    return s;
}

lc_status lc_array_quantize_int8(const float *w, int ndim, const int64_t *dims, int per_channel, int reduce_range,
                                 float *scale, int8_t *zero_point, int8_t *q)
{
    static const char fn[] = "lc_array_quantize_int8";
    int64_t numel = 0;
    lc_model *m = NULL;
    char params[128];
    lc_status s = check_weight(fn, w, ndim, dims, &numel);
    if (s) return s;
    snprintf(params, sizeof params, "weights_only=true,granularity=%s,reduce_range=%s,correct=none",
             per_channel ? "channel" : "tensor", reduce_range ? "true" : "false");
    if ((s = wrap(w, ndim, dims, NULL, &m))) goto fail;
    if ((s = run_pass(fn, m, "quantize-int8", params, NULL))) goto fail;
    /* the weight now feeds the layer through DequantizeLinear(q, scale, zero_point) */
    const lc_graph *g = m->graph;
    const lc_node *dq = NULL;
    for (int i = 0; i < g->n_nodes && !dq; i++)
        if (!strcmp(g->nodes[i]->op_type, "DequantizeLinear") && g->nodes[i]->n_inputs == 3) dq = g->nodes[i];
    int64_t channels = per_channel ? dims[0] : 1;
    const lc_tensor *tq = dq ? lc_graph_init(g, dq->inputs[0]) : NULL;
    const lc_tensor *ts = dq ? lc_graph_init(g, dq->inputs[1]) : NULL;
    const lc_tensor *tz = dq ? lc_graph_init(g, dq->inputs[2]) : NULL;
    if (!tq || !ts || !tz || tq->dtype != LC_DTYPE_INT8 || lc_tensor_numel(tq) != numel ||
        ts->dtype != LC_DTYPE_FLOAT || lc_tensor_numel(ts) != channels || tz->dtype != LC_DTYPE_INT8 ||
        lc_tensor_numel(tz) != channels) {
        s = lc_fail(LC_ERR_INTERNAL, "%s: quantize-int8 left no int8 weight with %lld scales", fn, (long long)channels);
        goto fail;
    }
    if (q) memcpy(q, tq->data, (size_t)numel);
    if (scale) memcpy(scale, ts->data, (size_t)channels * sizeof *scale);
    if (zero_point) memcpy(zero_point, tz->data, (size_t)channels);
fail:
    lc_model_free(m);
    return s;
}
