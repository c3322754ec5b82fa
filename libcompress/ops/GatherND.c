/* GatherND: indices [B..., M..., k] (int64; int32 accepted) pick slices
 * data[b..., i_1..i_k, :] after `batch_dims` (opset 12) shared leading
 * axes B; output shape B + M + data.shape[batch_dims + k:]. Indices may
 * be negative; out-of-range ones fail at run time. Any sized dtype. */
#include <string.h>

#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *ind = lc_input(a, 1);
    if (!x || !ind || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs data and indices and an output");
    lc_status s = lc_need_sized(x, "data");
    if (!s) s = lc_x_need_index(ind, "indices");
    if (s) return s;
    int64_t b = lc_node_attr_int(a->node, "batch_dims", 0);
    if (ind->ndim < 1 || x->ndim < 1) return lc_fail(LC_ERR_SHAPE, "data and indices must have rank >= 1");
    int64_t k = ind->dims[ind->ndim - 1];
    if (b < 0 || b >= ind->ndim || b >= x->ndim || k < 1 || b + k > x->ndim)
        return lc_fail(LC_ERR_SHAPE, "batch_dims %lld and index length %lld do not fit data rank %d, indices rank %d",
                       (long long)b, (long long)k, x->ndim, ind->ndim);
    for (int d = 0; d < b; d++)
        if (x->dims[d] != ind->dims[d])
            return lc_fail(LC_ERR_SHAPE, "batch dim %d differs: data %lld, indices %lld", d, (long long)x->dims[d],
                           (long long)ind->dims[d]);
    int64_t dims[LC_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < ind->ndim - 1; d++) dims[nd++] = ind->dims[d];
    for (int d = (int)(b + k); d < x->ndim; d++) {
        if (nd == LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "output rank exceeds %d", LC_MAX_DIMS);
        dims[nd++] = x->dims[d];
    }
    return lc_value_set_shape(a->out[0], x->dtype, nd, dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *ind = a->in[1];
    int b = (int)lc_node_attr_int(a->node, "batch_dims", 0);
    int k = (int)ind->dims[ind->ndim - 1];
    size_t es = lc_dtype_size(x->dtype);
    int64_t xs[LC_MAX_DIMS];
    lc_contig_strides(x->ndim, x->dims, xs);
    int64_t batches = lc_dims_prod(x->dims, 0, b), per_batch = lc_dims_prod(ind->dims, b, ind->ndim - 1);
    int64_t blk = lc_dims_prod(x->dims, b + k, x->ndim), bstride = b ? xs[b - 1] : 0;
    char *out = a->out[0]->data;
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t m = 0; m < per_batch; m++) {
            int64_t row = (bi * per_batch + m) * k, off = bi * bstride;
            for (int j = 0; j < k; j++) {
                int64_t i = lc_x_index(ind, row + j), dim = x->dims[b + j];
                if (i < -dim || i >= dim)
                    return lc_fail(LC_ERR_INVALID_ARGUMENT, "index %lld is out of range for axis %d of size %lld",
                                   (long long)i, b + j, (long long)dim);
                off += (i < 0 ? i + dim : i) * xs[b + j];
            }
            memcpy(out, (const char *)x->data + (size_t)off * es, (size_t)blk * es);
            out += (size_t)blk * es;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_GatherND_11 = {"GatherND", 11, 2, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_GatherND_12 = {"GatherND", 12, 2, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_GatherND_13 = {"GatherND", 13, 2, 0, prepare, run, NULL, NULL};
