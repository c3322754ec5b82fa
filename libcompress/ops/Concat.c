/* Concat along `axis` (default 1 before opset 4, required after; negative
 * from opset 11). Inputs share dtype, rank and all other dims. */
#include <stdio.h>
#include <string.h>

#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs at least one input");
    const lc_value *x0 = a->in[0];
    lc_status s = lc_need_sized(x0, "input");
    if (s) return s;
    if (a->opset >= 4 && !lc_node_attr(a->node, "axis")) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'axis' is required");
    int axis;
    s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 1), x0->ndim, "axis", &axis);
    if (s) return s;
    if (x0->ndim == 0) return lc_fail(LC_ERR_SHAPE, "cannot concatenate scalars");
    int64_t dims[LC_MAX_DIMS];
    for (int d = 0; d < x0->ndim; d++) dims[d] = x0->dims[d];
    dims[axis] = 0;
    for (int i = 0; i < a->n_in; i++) {
        const lc_value *x = a->in[i];
        if (!x) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %d is missing", i);
        if (x->dtype != x0->dtype)
            return lc_fail(LC_ERR_DTYPE, "input %d is %s, input 0 is %s", i, lc_dtype_name(x->dtype), lc_dtype_name(x0->dtype));
        if (x->ndim != x0->ndim) return lc_fail(LC_ERR_SHAPE, "input %d has rank %d, input 0 has rank %d", i, x->ndim, x0->ndim);
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && x->dims[d] != x0->dims[d]) {
                char buf[256];
                snprintf(buf, sizeof buf, "%s", lc_dims_str(x->ndim, x->dims));
                return lc_fail(LC_ERR_SHAPE, "input %d has shape [%s], input 0 [%s] (axis %d)", i, buf,
                               lc_dims_str(x0->ndim, x0->dims), axis);
            }
        dims[axis] += x->dims[axis];
    }
    return lc_value_set_shape(a->out[0], x0->dtype, x0->ndim, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_value *y = a->out[0];
    int axis;
    lc_norm_axis(lc_node_attr_int(a->node, "axis", 1), y->ndim, "axis", &axis);
    size_t es = lc_dtype_size(y->dtype);
    int64_t outer = lc_dims_prod(y->dims, 0, axis), inner = lc_dims_prod(y->dims, axis + 1, y->ndim);
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < a->n_in; i++) {
            size_t blk = (size_t)(a->in[i]->dims[axis] * inner) * es;
            if (!blk) continue;
            memcpy(dst, (const char *)a->in[i]->data + (size_t)o * blk, blk);
            dst += blk;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_Concat_1 = {"Concat", 1, 1, 0, prepare, run, NULL, NULL};
