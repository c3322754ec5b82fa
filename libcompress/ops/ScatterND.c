/* ScatterND: out = data, then for each index tuple (the last axis of
 * indices, length k) the slice out[i_1..i_k, :] = combine(it, the
 * matching updates slice), in order. `reduction` none (any sized dtype),
 * add/mul (opset 16), max/min (18). Indices may be negative. */
#include <string.h>

#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *ind = lc_input(a, 1), *upd = lc_input(a, 2);
    if (!x || !ind || !upd || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs data, indices, updates and an output");
    int mode;
    lc_status s = lc_need_sized(x, "data");
    if (!s) s = lc_x_need_index(ind, "indices");
    if (!s) s = lc_x_reduction_attr(a, x->dtype, &mode);
    if (s) return s;
    if (upd->dtype != x->dtype)
        return lc_fail(LC_ERR_DTYPE, "updates are %s, data is %s", lc_dtype_name(upd->dtype), lc_dtype_name(x->dtype));
    if (ind->ndim < 1) return lc_fail(LC_ERR_SHAPE, "indices must have rank >= 1");
    int64_t k = ind->dims[ind->ndim - 1];
    if (k > x->ndim) return lc_fail(LC_ERR_SHAPE, "index length %lld exceeds data rank %d", (long long)k, x->ndim);
    /* updates.shape == indices.shape[:-1] + data.shape[k:] */
    int want = ind->ndim - 1 + x->ndim - (int)k;
    bool ok = upd->ndim == want;
    for (int d = 0; ok && d < ind->ndim - 1; d++) ok = upd->dims[d] == ind->dims[d];
    for (int d = (int)k; ok && d < x->ndim; d++) ok = upd->dims[ind->ndim - 1 + d - k] == x->dims[d];
    if (!ok) return lc_fail(LC_ERR_SHAPE, "updates shape does not match indices and data");
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = a->in[1], *upd = a->in[2];
    lc_value *y = a->out[0];
    int mode;
    lc_x_reduction_attr(a, x->dtype, &mode);
    lc_copy_value(y, x);
    int k = (int)ind->dims[ind->ndim - 1];
    size_t es = lc_dtype_size(x->dtype);
    int64_t xs[LC_MAX_DIMS];
    lc_contig_strides(x->ndim, x->dims, xs);
    int64_t tuples = lc_dims_prod(ind->dims, 0, ind->ndim - 1), blk = lc_dims_prod(x->dims, k, x->ndim);
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off = 0;
        for (int j = 0; j < k; j++) {
            int64_t i = lc_x_index(ind, t * k + j), dim = x->dims[j];
            if (i < -dim || i >= dim)
                return lc_fail(LC_ERR_INVALID_ARGUMENT, "index %lld is out of range for axis %d of size %lld",
                               (long long)i, j, (long long)dim);
            off += (i < 0 ? i + dim : i) * xs[j];
        }
        lc_x_combine(x->dtype, mode, (char *)y->data + (size_t)off * es, (const char *)upd->data + (size_t)(t * blk) * es,
                     blk);
    }
    return LC_OK;
}

const lc_kernel lc_kernel_ScatterND_11 = {"ScatterND", 11, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterND_13 = {"ScatterND", 13, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterND_16 = {"ScatterND", 16, 3, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_ScatterND_18 = {"ScatterND", 18, 3, 0, prepare, run, NULL, NULL};
