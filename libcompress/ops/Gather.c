/* Gather along `axis`: out = data[:axis] + indices.shape + data[axis+1:].
 * Indices (int32/int64) may be negative (counted from the end); indices
 * out of range fail at run time. */
#include <string.h>

#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = lc_input(a, 1);
    int axis;
    lc_status s = lc_need_sized(x, "data");
    if (s) return s;
    if (!ind) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'indices'");
    if (ind->dtype != LC_DTYPE_INT64 && ind->dtype != LC_DTYPE_INT32)
        return lc_fail(LC_ERR_DTYPE, "indices must be int64 or int32, are %s", lc_dtype_name(ind->dtype));
    if (x->ndim == 0) return lc_fail(LC_ERR_SHAPE, "data must have rank >= 1");
    s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    if (s) return s;
    int rank = x->ndim - 1 + ind->ndim;
    if (rank > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "output rank %d exceeds %d", rank, LC_MAX_DIMS);
    int64_t dims[LC_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
    for (int d = 0; d < ind->ndim; d++) dims[k++] = ind->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) dims[k++] = x->dims[d];
    return lc_value_set_shape(a->out[0], x->dtype, rank, dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = a->in[1];
    int axis;
    lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    size_t es = lc_dtype_size(x->dtype);
    int64_t d = x->dims[axis], outer = lc_dims_prod(x->dims, 0, axis), nidx = lc_value_numel(ind);
    size_t blk = (size_t)lc_dims_prod(x->dims, axis + 1, x->ndim) * es;
    char *dst = a->out[0]->data;
    if (!blk || !nidx || !outer) return LC_OK;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++) {
            int64_t i = ind->dtype == LC_DTYPE_INT64 ? ((const int64_t *)ind->data)[j] : ((const int32_t *)ind->data)[j];
            if (i < -d || i >= d)
                return lc_fail(LC_ERR_INVALID_ARGUMENT, "index %lld is out of range for axis %d of size %lld", (long long)i,
                               axis, (long long)d);
            if (i < 0) i += d;
            memcpy(dst, (const char *)x->data + (size_t)(o * d + i) * blk, blk);
            dst += blk;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_Gather_1 = {"Gather", 1, 2, 0, prepare, run, NULL, NULL};
