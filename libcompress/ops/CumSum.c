/* CumSum: running sums along the axis given by input 1 (int32/int64
 * scalar, read at run time), optionally `exclusive` (each output omits its
 * own element) and `reverse` (sums from the end). float32, float64, int32,
 * int64, uint32, uint64; integers wrap. */
#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *ax = lc_input(a, 1);
    if (!x || !ax || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs x and axis and an output");
    switch (x->dtype) {
    case LC_DTYPE_FLOAT:
    case LC_DTYPE_DOUBLE:
    case LC_DTYPE_INT32:
    case LC_DTYPE_INT64:
    case LC_DTYPE_UINT32:
    case LC_DTYPE_UINT64: break;
    default:
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s, which is not supported", x->name,
                       lc_dtype_name(x->dtype));
    }
    lc_status s = lc_x_need_index(ax, "axis");
    if (s) return s;
    if (lc_value_numel(ax) != 1) return lc_fail(LC_ERR_SHAPE, "axis must be a single value");
    if (x->ndim < 1) return lc_fail(LC_ERR_SHAPE, "x must have rank >= 1");
    if (ax->is_const) {
        int axis;
        s = lc_norm_axis(lc_x_index(ax, 0), x->ndim, "axis", &axis);
        if (s) return s;
    }
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

/* U: the unsigned type the sums wrap in (same as T for floats). */
#define CUMSUM(T, U)                                                                     \
    for (int64_t o = 0; o < outer; o++)                                                  \
        for (int64_t i = 0; i < inner; i++) {                                            \
            const T *xs = (const T *)x->data + o * len * inner + i;                      \
            T *ys = (T *)y->data + o * len * inner + i;                                  \
            U acc = 0;                                                                   \
            for (int64_t j = 0; j < len; j++) {                                          \
                int64_t k = (rev ? len - 1 - j : j) * inner;                             \
                if (excl) {                                                              \
                    ys[k] = (T)acc;                                                      \
                    acc = (U)(acc + (U)xs[k]);                                           \
                } else {                                                                 \
                    acc = (U)(acc + (U)xs[k]);                                           \
                    ys[k] = (T)acc;                                                      \
                }                                                                        \
            }                                                                            \
        }

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    int axis;
    lc_status s = lc_norm_axis(lc_x_index(a->in[1], 0), x->ndim, "axis", &axis);
    if (s) return s;
    bool excl = lc_node_attr_int(a->node, "exclusive", 0) != 0, rev = lc_node_attr_int(a->node, "reverse", 0) != 0;
    int64_t outer = lc_dims_prod(x->dims, 0, axis), len = x->dims[axis], inner = lc_dims_prod(x->dims, axis + 1, x->ndim);
    switch (x->dtype) {
    case LC_DTYPE_FLOAT: CUMSUM(float, double) break;
    case LC_DTYPE_DOUBLE: CUMSUM(double, double) break;
    case LC_DTYPE_INT32: CUMSUM(int32_t, uint32_t) break;
    case LC_DTYPE_INT64: CUMSUM(int64_t, uint64_t) break;
    case LC_DTYPE_UINT32: CUMSUM(uint32_t, uint32_t) break;
    default: CUMSUM(uint64_t, uint64_t) break;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_CumSum_11 = {"CumSum", 11, 2, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_CumSum_14 = {"CumSum", 14, 2, 0, prepare, run, NULL, NULL};
