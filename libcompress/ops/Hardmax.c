/* Hardmax: 1 at the first maximum, 0 elsewhere. Opsets 1 to 12 coerce the
 * input to 2-D at `axis` (default 1) and work on each row; from opset 13
 * along the single axis `axis` (default -1). float32 and float64. */
#include <stdlib.h>

#include "lc_nn.h"

typedef struct {
    int64_t outer, len, inner;
} hardmax_state;

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    if (x->dtype != LC_DTYPE_FLOAT && x->dtype != LC_DTYPE_DOUBLE)
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s; supported: float, double", x->name,
                       lc_dtype_name(x->dtype));
    bool legacy = a->opset < 13;
    int axis;
    lc_status s = lc_norm_axis(lc_node_attr_int(a->node, "axis", legacy ? 1 : -1), x->ndim + (legacy && x->ndim == 0),
                               "axis", &axis);
    if (s) return s;
    hardmax_state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    st->outer = st->len = st->inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < axis) st->outer *= x->dims[d];
        else if (legacy || d == axis) st->len *= x->dims[d];
        else st->inner *= x->dims[d];
    }
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

#define HARDMAX(T)                                                                            \
    for (int64_t o = 0; o < st->outer; o++)                                                   \
        for (int64_t i = 0; i < st->inner; i++) {                                             \
            const T *xs = (const T *)x->data + o * st->len * st->inner + i;                   \
            T *ys = (T *)y->data + o * st->len * st->inner + i;                               \
            int64_t best = 0;                                                                 \
            for (int64_t k = 1; k < st->len; k++)                                             \
                if (xs[k * st->inner] > xs[best * st->inner]) best = k;                       \
            for (int64_t k = 0; k < st->len; k++) ys[k * st->inner] = k == best ? 1 : 0;      \
        }

static lc_status run(lc_kernel_args *a)
{
    const hardmax_state *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    if (!lc_value_numel(x)) return LC_OK;
    if (x->dtype == LC_DTYPE_FLOAT) {
        HARDMAX(float)
    } else {
        HARDMAX(double)
    }
    return LC_OK;
}

const lc_kernel lc_kernel_Hardmax_1 = {"Hardmax", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_Hardmax_11 = {"Hardmax", 11, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_Hardmax_13 = {"Hardmax", 13, 1, 0, prepare, run, free, NULL};
