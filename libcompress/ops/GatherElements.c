/* GatherElements: out[p] = data[p with p[axis] replaced by indices[p]];
 * indices (int32/int64, may be negative) have data's rank and give the
 * output shape. Out-of-range indices fail at run time. Any sized dtype. */
#include <string.h>

#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *ind = lc_input(a, 1);
    if (!x || !ind || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs data and indices and an output");
    int axis;
    lc_status s = lc_need_sized(x, "data");
    if (!s) s = lc_x_need_index(ind, "indices");
    if (!s) s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    if (s) return s;
    if (ind->ndim != x->ndim)
        return lc_fail(LC_ERR_SHAPE, "indices have rank %d, data has rank %d", ind->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++)
        if (d != axis && ind->dims[d] > x->dims[d])
            return lc_fail(LC_ERR_SHAPE, "indices dim %d is %lld, data's is %lld", d, (long long)ind->dims[d],
                           (long long)x->dims[d]);
    return lc_value_set_shape(a->out[0], x->dtype, ind->ndim, ind->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = a->in[1];
    int axis, nd = x->ndim;
    lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), nd, "axis", &axis);
    size_t es = lc_dtype_size(x->dtype);
    int64_t n = lc_value_numel(ind), xs[LC_MAX_DIMS], idx[LC_MAX_DIMS] = {0}, dim = x->dims[axis], base = 0;
    lc_contig_strides(nd, x->dims, xs);
    char *out = a->out[0]->data;
    /* base: data offset of the current position without its axis term */
    for (int64_t j = 0; j < n; j++) {
        int64_t i = lc_x_index(ind, j);
        if (i < -dim || i >= dim)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "index %lld is out of range for axis %d of size %lld", (long long)i,
                           axis, (long long)dim);
        if (i < 0) i += dim;
        memcpy(out + (size_t)j * es, (const char *)x->data + (size_t)(base + i * xs[axis]) * es, es);
        for (int d = nd - 1; d >= 0; d--) {
            if (d != axis) base += xs[d];
            if (++idx[d] < ind->dims[d]) break;
            if (d != axis) base -= xs[d] * ind->dims[d];
            idx[d] = 0;
        }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_GatherElements_11 = {"GatherElements", 11, 2, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_GatherElements_13 = {"GatherElements", 13, 2, 0, prepare, run, NULL, NULL};
