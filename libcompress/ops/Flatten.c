/* Flatten: [d0..dn) -> [d0*..*d(axis-1), daxis*..*d(n-1)]; axis may be
 * negative from opset 11 and equal to the rank. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    int64_t axis = lc_node_attr_int(a->node, "axis", 1);
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis > x->ndim)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "axis %lld is out of range for rank %d",
                       (long long)lc_node_attr_int(a->node, "axis", 1), x->ndim);
    int64_t dims[2] = {lc_dims_prod(x->dims, 0, (int)axis), lc_dims_prod(x->dims, (int)axis, x->ndim)};
    return lc_value_set_shape(a->out[0], x->dtype, 2, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_copy_value(a->out[0], a->in[0]);
    return LC_OK;
}

const lc_kernel lc_kernel_Flatten_1 = {"Flatten", 1, 1, 0, prepare, run, NULL, NULL};
