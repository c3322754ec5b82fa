/* Trilu: keeps the upper (upper=1, default) or lower triangle of the last
 * two axes, shifted by the diagonal offset k (optional int64 scalar
 * input, default 0): upper keeps j - i >= k, lower j - i <= k; the rest
 * becomes 0. Any sized dtype. */
#include <string.h>

#include "lc_index.h"
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0), *k = lc_input(a, 1);
    if (!x || a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    lc_status s = lc_need_sized(x, "input");
    if (!s && k) s = lc_x_need_index(k, "k");
    if (s) return s;
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "input must have rank >= 2, has %d", x->ndim);
    if (k && lc_value_numel(k) != 1) return lc_fail(LC_ERR_SHAPE, "k must be a single value");
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0], *kv = lc_input(a, 1);
    lc_value *y = a->out[0];
    bool upper = lc_node_attr_int(a->node, "upper", 1) != 0;
    int64_t k = kv ? lc_x_index(kv, 0) : 0;
    int64_t rows = x->dims[x->ndim - 2], cols = x->dims[x->ndim - 1];
    int64_t mats = lc_dims_prod(x->dims, 0, x->ndim - 2);
    size_t es = lc_dtype_size(x->dtype);
    lc_copy_value(y, x);
    char *yd = y->data;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            char *row = yd + (size_t)((m * rows + i) * cols) * es;
            /* zero the columns outside [lo, hi) */
            int64_t lo = upper ? i + k : 0, hi = upper ? cols : i + k + 1;
            lo = lo < 0 ? 0 : lo > cols ? cols : lo;
            hi = hi < 0 ? 0 : hi > cols ? cols : hi;
            if (hi < lo) hi = lo;
            memset(row, 0, (size_t)lo * es);
            memset(row + (size_t)hi * es, 0, (size_t)(cols - hi) * es);
        }
    return LC_OK;
}

const lc_kernel lc_kernel_Trilu_14 = {"Trilu", 14, 1, 0, prepare, run, NULL, NULL};
