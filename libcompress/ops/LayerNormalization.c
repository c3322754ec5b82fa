/* LayerNormalization (opset 17): normalize over the axes from `axis` on,
 * then Y = normalized * Scale + B, Scale and B broadcasting to the
 * normalized shape. Optional outputs Mean and InvStdDev keep X's leading
 * axes and have 1s for the normalized ones. Statistics in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

typedef struct ln_state {
    int64_t outer, size;   /* X as [outer, size] */
    int64_t *s_idx, *b_idx; /* Scale/B index per normalized element, or NULL if dense */
} ln_state;

static void ln_free(void *state)
{
    ln_state *st = state;
    if (!st) return;
    free(st->s_idx);
    free(st->b_idx);
    free(st);
}

/* Index map for a value broadcasting to the normalized shape; NULL in
 * *idx when it already has that many elements in order. */
static lc_status bcast_map(const lc_value *v, const char *what, int nn, const int64_t *nd, int64_t size, int64_t **idx)
{
    *idx = NULL;
    int on;
    int64_t od[LC_MAX_DIMS], strides[LC_MAX_DIMS];
    lc_status s = lc_broadcast_shape(nn, nd, v->ndim, v->dims, &on, od);
    if (s || on != nn || lc_shape_numel(on, od, 0) != size)
        return lc_fail(LC_ERR_SHAPE, "%s of shape [%s] does not broadcast to the normalized shape", what,
                       lc_dims_str(v->ndim, v->dims));
    if (lc_value_numel(v) == size) return LC_OK;
    if (!(*idx = malloc((size_t)(size ? size : 1) * sizeof **idx))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_broadcast_strides(nn, nd, v->ndim, v->dims, strides);
    for (int64_t i = 0; i < size; i++) {
        int64_t r = i, off = 0;
        for (int d = nn - 1; d >= 0; d--) {
            off += r % nd[d] * strides[d];
            r /= nd[d];
        }
        (*idx)[i] = off;
    }
    return LC_OK;
}

static lc_status ln_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "LayerNormalization needs inputs X and Scale and output Y");
    const lc_value *x = a->in[0], *sc = a->in[1], *b = a->n_in > 2 ? a->in[2] : NULL;
    if ((s = lc_nn_need_float(x, "X")) || (s = lc_nn_need_float(sc, "Scale")) || (b && (s = lc_nn_need_float(b, "B"))))
        return s;
    int64_t st_type = lc_node_attr_int(a->node, "stash_type", 1);
    if (st_type != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_UNSUPPORTED, "stash_type %s (only float is supported)", lc_dtype_name((int)st_type));
    int axis;
    if ((s = lc_norm_axis(lc_node_attr_int(a->node, "axis", -1), x->ndim, "axis", &axis))) return s;
    ln_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->outer = lc_shape_numel(axis, x->dims, 0);
    st->size = lc_shape_numel(x->ndim - axis, x->dims + axis, 0);
    if ((s = bcast_map(sc, "Scale", x->ndim - axis, x->dims + axis, st->size, &st->s_idx))) goto fail;
    if (b && (s = bcast_map(b, "B", x->ndim - axis, x->dims + axis, st->size, &st->b_idx))) goto fail;
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, x->dims))) goto fail;
    int64_t sd[LC_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) sd[i] = i < axis ? x->dims[i] : 1;
    for (int i = 1; i < 3 && i < a->n_out; i++)
        if (a->out[i] && (s = lc_value_set_shape(a->out[i], LC_DTYPE_FLOAT, x->ndim, sd))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    ln_free(st);
    return s;
}

static lc_status ln_run(lc_kernel_args *a)
{
    const ln_state *st = a->state;
    const float eps = lc_node_attr_float(a->node, "epsilon", 1e-5f);
    const lc_value *bv = a->n_in > 2 ? a->in[2] : NULL;
    const float *x = a->in[0]->data, *sc = a->in[1]->data, *b = bv ? bv->data : NULL;
    float *y = a->out[0]->data;
    float *mean_out = a->n_out > 1 && a->out[1] ? a->out[1]->data : NULL;
    float *inv_out = a->n_out > 2 && a->out[2] ? a->out[2]->data : NULL;
    const int64_t n = st->size;
    for (int64_t o = 0; o < st->outer; o++) {
        const float *xr = x + o * n;
        float *yr = y + o * n;
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++) sum += xr[i];
        const double mean = n ? sum / (double)n : 0;
        for (int64_t i = 0; i < n; i++) sq += (xr[i] - mean) * (xr[i] - mean);
        const double inv = 1.0 / sqrt((n ? sq / (double)n : 0) + eps);
        for (int64_t i = 0; i < n; i++) {
            float v = (float)((xr[i] - mean) * inv) * sc[st->s_idx ? st->s_idx[i] : i];
            if (b) v += b[st->b_idx ? st->b_idx[i] : i];
            yr[i] = v;
        }
        if (mean_out) mean_out[o] = (float)mean;
        if (inv_out) inv_out[o] = (float)inv;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_LayerNormalization_17 = {"LayerNormalization", 17, 2, 0, ln_prepare, ln_run, ln_free, NULL};
