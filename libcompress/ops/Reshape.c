/* Reshape: the target shape is an attribute before opset 5 and a constant
 * input from then on. 0 copies the input's dim (or means 0 with allowzero,
 * opset 14), -1 is inferred from the element count. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t shape[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    int n = 0;
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    if (a->opset < 5) {
        s = lc_attr_ints(a->node, "shape", shape, LC_MAX_DIMS, &n);
    } else {
        const lc_value *sv = lc_input(a, 1);
        if (!sv) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'shape'");
        s = lc_value_read_ints(sv, shape, LC_MAX_DIMS, &n);
    }
    if (s) return s;
    bool allowzero = lc_node_attr_int(a->node, "allowzero", 0) != 0;
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "shape has more than one -1");
            infer = i;
            continue;
        }
        if (shape[i] == 0 && !allowzero) {
            if (i >= x->ndim)
                return lc_fail(LC_ERR_SHAPE, "shape[%d] is 0 but the input has rank %d", i, x->ndim);
            dims[i] = x->dims[i];
        } else if (shape[i] < 0) {
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "shape[%d] is %lld", i, (long long)shape[i]);
        } else {
            dims[i] = shape[i];
        }
        if (dims[i] && known > INT64_MAX / dims[i]) return lc_fail(LC_ERR_SHAPE, "shape [%s] is too large", lc_dims_str(n, shape));
        known *= dims[i];
    }
    int64_t numel = lc_value_numel(x);
    if (infer >= 0) {
        if (known == 0 || numel % known)
            return lc_fail(LC_ERR_SHAPE, "cannot infer the -1 in shape [%s] from %lld elements",
                           lc_dims_str(n, shape), (long long)numel);
        dims[infer] = numel / known;
        known = numel;
    }
    if (known != numel)
        return lc_fail(LC_ERR_SHAPE, "cannot reshape [%s] (%lld elements) to [%s]", lc_dims_str(x->ndim, x->dims),
                       (long long)numel, lc_dims_str(n, dims));
    return lc_value_set_shape(a->out[0], x->dtype, n, dims);
}

static lc_status run(lc_kernel_args *a)
{
    lc_copy_value(a->out[0], a->in[0]);
    return LC_OK;
}

const lc_kernel lc_kernel_Reshape_1 = {"Reshape", 1, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_Reshape_5 = {"Reshape", 5, 2, 0, prepare, run, NULL, NULL};
