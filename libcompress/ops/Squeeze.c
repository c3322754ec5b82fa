/* Squeeze: removes the listed axes (attribute before opset 13, optional
 * input from 13), which must have size 1; without axes, every size-1 axis. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t axes[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    bool mask[LC_MAX_DIMS];
    int n, nd = 0;
    bool given;
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = lc_read_axes(a, "axes", 13, 1, axes, LC_MAX_DIMS, &n, &given);
    if (!s) s = lc_axes_mask(axes, n, x->ndim, mask);
    if (s) return s;
    for (int d = 0; d < x->ndim; d++) {
        if (n == 0) mask[d] = x->dims[d] == 1;
        else if (mask[d] && x->dims[d] != 1)
            return lc_fail(LC_ERR_SHAPE, "axis %d has size %lld, not 1", d, (long long)x->dims[d]);
        if (!mask[d]) dims[nd++] = x->dims[d];
    }
    return lc_value_set_shape(a->out[0], x->dtype, nd, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_copy_value(a->out[0], a->in[0]);
    return LC_OK;
}

const lc_kernel lc_kernel_Squeeze_1 = {"Squeeze", 1, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_Squeeze_13 = {"Squeeze", 13, 1, 0, prepare, run, NULL, NULL};
