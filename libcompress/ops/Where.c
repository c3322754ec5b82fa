/* Where: condition ? X : Y with three-way numpy broadcasting. X and Y may
 * have any fixed-size dtype: values are only copied, so rows exist per
 * element size rather than per dtype. */
#include "lc_elementwise.h"

#define DEF(T)                                                                                               \
    static void where_##T(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)   \
    {                                                                                                        \
        const uint8_t *c = in[0];                                                                            \
        const T *x = in[1], *y = in[2];                                                                      \
        T *o = out;                                                                                          \
        (void)ctx;                                                                                           \
        if (st[0] == 1 && st[1] == 1 && st[2] == 1)                                                          \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                                       \
        else                                                                                                 \
            for (int64_t i = 0; i < n; i++) o[i] = c[i * st[0]] ? x[i * st[1]] : y[i * st[2]];               \
    }
DEF(uint8_t)
DEF(uint16_t)
DEF(uint32_t)
DEF(uint64_t)

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    if (a->n_in < 3 || !a->in[0] || !a->in[1] || !a->in[2]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs three inputs");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    const lc_value *c = a->in[0], *x = a->in[1], *y = a->in[2];
    if (c->dtype != LC_DTYPE_BOOL) return lc_ew_bad_dtype(a, "condition", c->dtype);
    if (x->dtype != y->dtype)
        return lc_fail(LC_ERR_DTYPE, "X is %s, Y is %s", lc_dtype_name(x->dtype), lc_dtype_name(y->dtype));
    lc_status s = lc_ew_state_new(a, &st);
    if (s) return s;
    switch (lc_dtype_size(x->dtype)) {
    case 1: st->fn = where_uint8_t; break;
    case 2: st->fn = where_uint16_t; break;
    case 4: st->fn = where_uint32_t; break;
    case 8: st->fn = where_uint64_t; break;
    default: return lc_ew_bad_dtype(a, "X", x->dtype);
    }
    int n1, n2;
    int64_t d1[LC_MAX_DIMS], d2[LC_MAX_DIMS];
    if ((s = lc_broadcast_shape(c->ndim, c->dims, x->ndim, x->dims, &n1, d1))) return s;
    if ((s = lc_broadcast_shape(n1, d1, y->ndim, y->dims, &n2, d2))) return s;
    return lc_value_set_shape(a->out[0], x->dtype, n2, d2);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_ew_state *st = a->state;
    lc_ew_apply_values(3, a->in, a->out[0], st->fn, NULL);
    return LC_OK;
}

LC_EW_KERNEL(Where, 9, 3, 0, prepare, run, NULL)
LC_EW_KERNEL(Where, 16, 3, 0, prepare, run, NULL)
