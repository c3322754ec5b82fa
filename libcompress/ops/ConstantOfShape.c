/* ConstantOfShape: a tensor of the (constant) shape input filled with the
 * one-element `value` attribute (default float32 0). */
#include <string.h>

#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    int64_t dims[LC_MAX_DIMS];
    int n;
    const lc_attr *v = lc_node_attr(a->node, "value");
    int dtype = LC_DTYPE_FLOAT;
    if (v) {
        if (v->type != LC_ATTR_TENSOR || !v->t) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'value' must be a tensor");
        if (lc_shape_numel(v->t->ndim, v->t->dims, 0) != 1)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'value' must hold one element");
        dtype = v->t->dtype;
        if (!lc_dtype_size(dtype))
            return lc_fail(LC_ERR_UNSUPPORTED, "value of dtype %s is not supported", lc_dtype_name(dtype));
    }
    lc_status s = lc_value_read_ints(a->in[0], dims, LC_MAX_DIMS, &n);
    if (s) return s;
    for (int i = 0; i < n; i++)
        if (dims[i] < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "shape[%d] is negative", i);
    return lc_value_set_shape(a->out[0], dtype, n, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_value *y = a->out[0];
    const lc_attr *v = lc_node_attr(a->node, "value");
    size_t es = lc_dtype_size(y->dtype);
    int64_t n = lc_value_numel(y);
    if (!n) return LC_OK;
    if (!v) {
        memset(y->data, 0, (size_t)n * es);
        return LC_OK;
    }
    for (int64_t i = 0; i < n; i++) memcpy((char *)y->data + (size_t)i * es, v->t->data, es);
    return LC_OK;
}

const lc_kernel lc_kernel_ConstantOfShape_9 = {"ConstantOfShape", 9, 1, 0, prepare, run, NULL, NULL};
