/* Feeds and input shapes of a context (libcompress/inputs.h), and how runs over a
 * dataset plan the model's inputs from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_plan_inputs.h"

static lc_input_binding *binding(const lc_context *ctx, const char *name)
{
    for (int i = 0; ctx && i < ctx->n_inputs; i++)
        if (!strcmp(ctx->inputs[i].name, name)) return &ctx->inputs[i];
    return NULL;
}

static lc_status binding_add(lc_context *ctx, const char *name, lc_input_binding **out)
{
    if ((*out = binding(ctx, name))) return LC_OK;
    lc_input_binding *b = realloc(ctx->inputs, (size_t)(ctx->n_inputs + 1) * sizeof *b);
    if (!b) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    ctx->inputs = b;
    b = &b[ctx->n_inputs];
    memset(b, 0, sizeof *b);
    b->ndim = -1;
    if (!(b->name = lc_strdup(name))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    ctx->n_inputs++;
    *out = b;
    return LC_OK;
}

void lc_context_clear_inputs(lc_context *ctx)
{
    for (int i = 0; i < ctx->n_inputs; i++) {
        free(ctx->inputs[i].name);
        lc_tensor_free(ctx->inputs[i].feed);
    }
    free(ctx->inputs);
    ctx->inputs = NULL;
    ctx->n_inputs = 0;
}

lc_status lc_context_set_feed(lc_context *ctx, const char *name, const lc_array *value)
{
    if (!ctx || !name) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_set_feed: NULL argument");
    lc_input_binding *b;
    if (!value) {
        if ((b = binding(ctx, name))) {
            lc_tensor_free(b->feed);
            b->feed = NULL;
        }
        return LC_OK;
    }
    lc_tensor *t = NULL;
    lc_status s = lc_tensor_create(name, value->dtype, value->ndim, value->dims, value->data, &t);
    if (s) return lc_fail_prefix(s, "lc_context_set_feed: input '%s'", name);
    if ((s = binding_add(ctx, name, &b))) {
        lc_tensor_free(t);
        return s;
    }
    lc_tensor_free(b->feed);
    b->feed = t;
    return LC_OK;
}

lc_status lc_context_set_input_shape(lc_context *ctx, const char *name, int ndim, const int64_t *dims)
{
    if (!ctx || !name || (ndim > 0 && !dims) || ndim > LC_MAX_DIMS)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_set_input_shape: bad argument");
    for (int d = 1; d < ndim; d++)
        if (dims[d] < 1)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_set_input_shape: input '%s': dim %d is %lld", name, d,
                           (long long)dims[d]);
    lc_input_binding *b;
    if (ndim < 0) {
        if ((b = binding(ctx, name))) b->ndim = -1;
        return LC_OK;
    }
    lc_status s = binding_add(ctx, name, &b);
    if (s) return s;
    b->ndim = ndim;
    if (ndim) memcpy(b->dims, dims, (size_t)ndim * sizeof *dims);
    return LC_OK;
}

/* The graph input named `name` that is no initializer, or NULL. */
static const lc_value_info *graph_input(const lc_model *m, const char *name)
{
    const lc_graph *g = m->graph;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name) && !lc_graph_init(g, name)) return &g->inputs[i];
    return NULL;
}

lc_status lc_context_check_inputs(const lc_context *ctx, const lc_model *m)
{
    if (!ctx || !m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_check_inputs: NULL argument");
    for (int i = 0; i < ctx->n_inputs; i++) {
        const lc_input_binding *b = &ctx->inputs[i];
        const lc_value_info *v = graph_input(m, b->name);
        if (!v) {
            char names[512] = "";
            size_t at = 0;
            for (int k = 0; k < m->graph->n_inputs && at + 4 < sizeof names; k++)
                if (!lc_graph_init(m->graph, m->graph->inputs[k].name))
                    at += (size_t)snprintf(names + at, sizeof names - at, "%s'%s'", at ? ", " : "",
                                           m->graph->inputs[k].name);
            return lc_fail(LC_ERR_NOT_FOUND, "%s has no input '%s' (its inputs: %s)", m->path ? m->path : "the model",
                           b->name, names);
        }
        bool typed = v->type.kind == LC_TYPE_TENSOR;
        int rank = typed && v->type.has_shape ? v->type.ndim : -1;
        if (b->ndim >= 0 && rank >= 0 && b->ndim != rank)
            return lc_fail(LC_ERR_SHAPE, "input '%s' has rank %d, the shape given (%s) has %d", b->name, rank,
                           lc_dims_str(b->ndim, b->dims), b->ndim);
        if (b->feed && rank >= 0 && b->feed->ndim != rank)
            return lc_fail(LC_ERR_SHAPE, "input '%s' has rank %d, the value fed (%s) has %d", b->name, rank,
                           lc_dims_str(b->feed->ndim, b->feed->dims), b->feed->ndim);
        if (b->feed && typed && v->type.elem_type != b->feed->dtype)
            return lc_fail(LC_ERR_DTYPE, "input '%s' is %s, the value fed is %s", b->name,
                           lc_dtype_name(v->type.elem_type), lc_dtype_name(b->feed->dtype));
    }
    return LC_OK;
}

/* Dims of a graph input not fed: the context's shape, else the declared
 * dims (dim 0 = batch), symbolic ones from the dataset's samples. */
static lc_status input_dims(const lc_value_info *v, const lc_input_binding *b, const lc_dataset *d, int batch,
                            lc_array *a)
{
    const lc_type *t = &v->type;
    if (t->kind != LC_TYPE_TENSOR) return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' is not a tensor", v->name);
    a->dtype = t->elem_type;
    if (b && b->ndim >= 0) {
        a->ndim = b->ndim;
        memcpy(a->dims, b->dims, sizeof a->dims);
        if (a->ndim) a->dims[0] = batch;
        return LC_OK;
    }
    bool from_data = d && (!t->has_shape || lc_dataset_sample_ndim(d) == t->ndim - 1);
    if (!t->has_shape && !from_data) return lc_fail(LC_ERR_SHAPE, "input '%s' has no declared shape", v->name);
    a->ndim = t->has_shape ? t->ndim : lc_dataset_sample_ndim(d) + 1;
    if (a->ndim > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has rank %d", v->name, a->ndim);
    for (int k = 0; k < a->ndim; k++) {
        const lc_dim *dim = t->has_shape ? &t->dims[k] : NULL;
        if (k == 0) a->dims[0] = batch;
        else if (dim && dim->kind == LC_DIM_VALUE && dim->value >= 0) a->dims[k] = dim->value;
        else if (from_data) a->dims[k] = lc_dataset_sample_dims(d)[k - 1];
        else if (dim && dim->kind == LC_DIM_PARAM)
            return lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is symbolic ('%s'); give the shape explicitly (lc_context_set_input_shape)", v->name, k,
                           dim->param);
        else return lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is unknown; give the shape explicitly (lc_context_set_input_shape)", v->name, k);
    }
    return LC_OK;
}

lc_status lc_plan_inputs_resolve(const lc_model *m, const lc_context *ctx, const lc_dataset *d, int batch,
                                 lc_plan_inputs *p)
{
    memset(p, 0, sizeof *p);
    p->data = -1;
    const lc_graph *g = m->graph;
    lc_status s = LC_OK;
    if (ctx && (s = lc_context_check_inputs(ctx, m))) return s;
    for (int i = 0; i < g->n_inputs && !s; i++) {
        const lc_value_info *v = &g->inputs[i];
        if (lc_graph_init(g, v->name)) continue;
        if (p->n == LC_PLAN_MAX_INPUTS) return lc_fail(LC_ERR_UNSUPPORTED, "more than %d inputs", LC_PLAN_MAX_INPUTS);
        const lc_input_binding *b = binding(ctx, v->name);
        lc_array *a = &p->shapes[p->n];
        p->names[p->n] = v->name;
        if (b && b->feed) {
            *a = (lc_array){b->feed->dtype, b->feed->ndim, {0}, b->feed->data};
            memcpy(a->dims, b->feed->dims, sizeof a->dims);
        } else if (p->data >= 0 && d) {
            return lc_fail(LC_ERR_UNSUPPORTED,
                           "inputs '%s' and '%s' have no value: one takes the data, feed the others (lc_context_set_feed)",
                           p->names[p->data], g->inputs[i].name);
        } else {
            const lc_dataset *src = d ? d : (ctx ? ctx->calib : NULL);
            s = input_dims(v, b, src, batch, a);
            if (!s && d) {
                int nd = a->ndim > 0 ? a->ndim - 1 : 0;
                s = lc_dataset_check_shape(d, nd, a->dims + 1, v->name);
            }
            if (d) p->data = p->n;
        }
        p->n++;
    }
    if (!s && d && p->data < 0) s = lc_fail(LC_ERR_UNSUPPORTED, "every input is fed: no input takes the data");
    if (!s && d && p->shapes[p->data].dtype != LC_DTYPE_FLOAT)
        s = lc_fail(LC_ERR_UNSUPPORTED, "running on a dataset needs a float input for the data; '%s' is %s",
                    p->names[p->data], lc_dtype_name(p->shapes[p->data].dtype));
    return s;
}

lc_status lc_context_input_shapes(const lc_context *ctx, const lc_model *m, int batch, lc_array *shapes, int cap,
                                  int *n)
{
    if (!m || !shapes || !n) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_input_shapes: NULL argument");
    *n = 0;
    lc_plan_inputs *p = malloc(sizeof *p);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_plan_inputs_resolve(m, ctx, NULL, batch, p);
    if (!s && p->n > cap)
        s = lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_input_shapes: %d inputs, room for %d", p->n, cap);
    if (!s) {
        memcpy(shapes, p->shapes, (size_t)p->n * sizeof *shapes);
        *n = p->n;
    }
    free(p);
    return s;
}

lc_status lc_executor_create_ctx(const lc_model *m, const lc_context *ctx, int batch, int threads, lc_executor **out)
{
    *out = NULL;
    lc_plan_inputs *p = malloc(sizeof *p);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_plan_inputs_resolve(m, ctx, NULL, batch, p);
    if (!s) s = lc_executor_create(m, p->shapes, p->n, threads, out);
    free(p);
    return s;
}
