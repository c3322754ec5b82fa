/* ScatterElements: out = data, then for every position p of indices,
 * out[p with p[axis] = indices[p]] = combine(that, updates[p]), in order.
 * `reduction` none (any sized dtype), add/mul (opset 16), max/min (18).
 * Indices may be negative; out-of-range ones fail at run time. */
#include <string.h>

#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *ind = lc_input(a, 1), *upd = lc_input(a, 2);
    if (!x || !ind || !upd || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs data, indices, updates and an output");
    int axis, mode;
    lc_status s = lc_need_sized(x, "data");
    if (!s) s = lc_x_need_index(ind, "indices");
    if (!s) s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    if (!s) s = lc_x_reduction_attr(a, x->dtype, &mode);
    if (s) return s;
    if (upd->dtype != x->dtype)
        return lc_fail(LC_ERR_DTYPE, "updates are %s, data is %s", lc_dtype_name(upd->dtype), lc_dtype_name(x->dtype));
    if (ind->ndim != x->ndim || upd->ndim != x->ndim)
        return lc_fail(LC_ERR_SHAPE, "data, indices and updates must have the same rank");
    for (int d = 0; d < ind->ndim; d++)
        if (ind->dims[d] != upd->dims[d] || (d != axis && ind->dims[d] > x->dims[d]))
            return lc_fail(LC_ERR_SHAPE, "indices and updates must have the same shape, within data's");
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = a->in[1], *upd = a->in[2];
    lc_value *y = a->out[0];
    int axis, nd = x->ndim, mode;
    lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), nd, "axis", &axis);
    lc_x_reduction_attr(a, x->dtype, &mode);
    size_t es = lc_dtype_size(x->dtype);
    lc_copy_value(y, x);
    int64_t n = lc_value_numel(ind), xs[LC_MAX_DIMS], idx[LC_MAX_DIMS] = {0}, dim = x->dims[axis], base = 0;
    lc_contig_strides(nd, x->dims, xs);
    for (int64_t j = 0; j < n; j++) {
        int64_t i = lc_x_index(ind, j);
        if (i < -dim || i >= dim)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "index %lld is out of range for axis %d of size %lld", (long long)i,
                           axis, (long long)dim);
        if (i < 0) i += dim;
        lc_x_combine(x->dtype, mode, (char *)y->data + (size_t)(base + i * xs[axis]) * es,
                     (const char *)upd->data + (size_t)j * es, 1);
        for (int d = nd - 1; d >= 0; d--) {
            if (d != axis) base += xs[d];
            if (++idx[d] < ind->dims[d]) break;
            if (d != axis) base -= xs[d] * ind->dims[d];
            idx[d] = 0;
        }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_ScatterElements_11 = {"ScatterElements", 11, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterElements_13 = {"ScatterElements", 13, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterElements_16 = {"ScatterElements", 16, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterElements_18 = {"ScatterElements", 18, 3, 0, prepare, run, NULL, NULL};
