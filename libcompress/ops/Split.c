/* Split along `axis` into the node's outputs. Part sizes come from the
 * `split` attribute (opset 1-12; opset 1 also accepted a second input), the
 * optional `split` input (13+), or `num_outputs` (18+: ceil-sized parts, the
 * last one smaller); otherwise the axis is divided equally. */
#include <stdlib.h>
#include <string.h>

#include "lc_shape.h"

typedef struct {
    int axis;
    int n;
    int64_t sizes[];
} state;

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    int axis, n = a->n_out, cnt = 0;
    s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    if (s) return s;
    if (x->ndim == 0) return lc_fail(LC_ERR_SHAPE, "cannot split a scalar");
    state *st = calloc(1, sizeof *st + (size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->axis = axis;
    st->n = n;
    int64_t d = x->dims[axis];
    const lc_value *sv = lc_input(a, 1);
    bool given = false;
    if (sv && (a->opset == 1 || a->opset >= 13)) {
        given = true;
        s = lc_value_read_ints(sv, st->sizes, n, &cnt);
    } else if (a->opset < 13 && lc_node_attr(a->node, "split")) {
        given = true;
        s = lc_attr_ints(a->node, "split", st->sizes, n, &cnt);
    }
    if (s) goto fail;
    if (given) {
        int64_t sum = 0;
        if (cnt != n) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "split has %d entries for %d outputs", cnt, n);
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            if (st->sizes[i] < 0) {
                s = lc_fail(LC_ERR_INVALID_ARGUMENT, "split[%d] is negative", i);
                goto fail;
            }
            sum += st->sizes[i];
        }
        if (sum != d) {
            s = lc_fail(LC_ERR_SHAPE, "split sums to %lld but axis %d has %lld", (long long)sum, axis, (long long)d);
            goto fail;
        }
    } else if (a->opset >= 18 && lc_node_attr(a->node, "num_outputs")) {
        int64_t k = lc_node_attr_int(a->node, "num_outputs", 0);
        if (k != n) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "num_outputs is %lld but the node has %d outputs", (long long)k, n);
            goto fail;
        }
        int64_t chunk = (d + n - 1) / n;
        for (int i = 0; i < n; i++) {
            int64_t left = d - chunk * i;
            st->sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
        }
    } else {
        if (n < 1 || d % n) {
            s = lc_fail(LC_ERR_SHAPE, "axis %d (%lld) does not split into %d equal parts", axis, (long long)d, n);
            goto fail;
        }
        for (int i = 0; i < n; i++) st->sizes[i] = d / n;
    }
    for (int i = 0; i < n; i++) {
        if (!a->out[i]) continue;
        int64_t dims[LC_MAX_DIMS];
        memcpy(dims, x->dims, (size_t)x->ndim * sizeof *dims);
        dims[axis] = st->sizes[i];
        s = lc_value_set_shape(a->out[i], x->dtype, x->ndim, dims);
        if (s) goto fail;
    }
    a->state = st;
    return LC_OK;
fail:
    free(st);
    return s;
}

static lc_status run(lc_kernel_args *a)
{
    const state *st = a->state;
    const lc_value *x = a->in[0];
    size_t es = lc_dtype_size(x->dtype);
    int64_t outer = lc_dims_prod(x->dims, 0, st->axis), inner = lc_dims_prod(x->dims, st->axis + 1, x->ndim);
    size_t row = (size_t)(x->dims[st->axis] * inner) * es, start = 0;
    for (int i = 0; i < st->n; i++) {
        size_t blk = (size_t)(st->sizes[i] * inner) * es;
        if (a->out[i] && blk)
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)a->out[i]->data + (size_t)o * blk, (const char *)x->data + (size_t)o * row + start, blk);
        start += blk;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_Split_1 = {"Split", 1, 1, 0, prepare, run, free, NULL};
