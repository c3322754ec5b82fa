/* Unsqueeze: inserts size-1 axes at the listed positions of the output
 * (attribute before opset 13, required input from 13; negative from 11). */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t axes[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    bool mask[LC_MAX_DIMS];
    int n;
    bool given;
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = lc_read_axes(a, "axes", 13, 1, axes, LC_MAX_DIMS, &n, &given);
    if (s) return s;
    if (!given) return lc_fail(LC_ERR_INVALID_ARGUMENT, "axes are required");
    int rank = x->ndim + n;
    if (rank > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "output rank %d exceeds %d", rank, LC_MAX_DIMS);
    s = lc_axes_mask(axes, n, rank, mask);
    if (s) return s;
    for (int d = 0, k = 0; d < rank; d++) dims[d] = mask[d] ? 1 : x->dims[k++];
    return lc_value_set_shape(a->out[0], x->dtype, rank, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_copy_value(a->out[0], a->in[0]);
    return LC_OK;
}

const lc_kernel lc_kernel_Unsqueeze_1 = {"Unsqueeze", 1, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_Unsqueeze_13 = {"Unsqueeze", 13, 2, 0, prepare, run, NULL, NULL};
