/* Expand: broadcasts the input and the (constant) shape against each other
 * (numpy rules, either side may be 1). */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t shape[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    int n, nd;
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = lc_input(a, 1) ? lc_value_read_ints(a->in[1], shape, LC_MAX_DIMS, &n)
                               : lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'shape'");
    if (!s) s = lc_broadcast_shape(x->ndim, x->dims, n, shape, &nd, dims);
    if (s) return s;
    return lc_value_set_shape(a->out[0], x->dtype, nd, dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    int64_t strides[LC_MAX_DIMS];
    lc_broadcast_strides(y->ndim, y->dims, x->ndim, x->dims, strides);
    lc_copy_view(y->data, x->data, lc_dtype_size(x->dtype), y->ndim, y->dims, strides, 0);
    return LC_OK;
}

const lc_kernel lc_kernel_Expand_8 = {"Expand", 8, 2, 0, prepare, run, NULL, NULL};
