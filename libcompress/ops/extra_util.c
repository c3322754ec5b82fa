/* Helpers for the extra-family kernels (see lc_extra.h): reductions
 * beyond Sum/Mean/Max. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_extra.h"
#include "lc_shape.h"

typedef struct {
    lc_xred_kind kind;
    lc_reduce_axes axes;
} xred_state;

static bool xred_dtype_ok(int dtype, lc_xred_kind kind)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT:
    case LC_DTYPE_DOUBLE:
    case LC_DTYPE_INT32:
    case LC_DTYPE_INT64: return true;
    case LC_DTYPE_INT8:
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return kind == LC_XRED_MIN;
    default: return false;
    }
}

lc_status lc_xred_prepare(lc_kernel_args *a, int64_t axes_input_since, lc_xred_kind kind)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    if (!xred_dtype_ok(x->dtype, kind))
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s, which is not supported", x->name,
                       lc_dtype_name(x->dtype));
    xred_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->kind = kind;
    lc_status s = lc_reduce_setup(a, axes_input_since, &st->axes);
    if (s) {
        free(st);
        return s;
    }
    a->state = st;
    return LC_OK;
}

void lc_xred_free(void *state)
{
    free(state);
}

static double load_f(const lc_value *v, int64_t i)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[i];
    case LC_DTYPE_DOUBLE: return ((const double *)v->data)[i];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    case LC_DTYPE_INT8: return ((const int8_t *)v->data)[i];
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return ((const uint8_t *)v->data)[i];
    default: return (double)((const int64_t *)v->data)[i];
    }
}

static int64_t load_i(const lc_value *v, int64_t i)
{
    switch (v->dtype) {
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    case LC_DTYPE_INT8: return ((const int8_t *)v->data)[i];
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return ((const uint8_t *)v->data)[i];
    default: return ((const int64_t *)v->data)[i];
    }
}

static void store(lc_value *v, int64_t i, double f, int64_t k)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: ((float *)v->data)[i] = (float)f; break;
    case LC_DTYPE_DOUBLE: ((double *)v->data)[i] = f; break;
    case LC_DTYPE_INT64: ((int64_t *)v->data)[i] = k; break;
    case LC_DTYPE_INT32: ((int32_t *)v->data)[i] = (int32_t)k; break;
    case LC_DTYPE_INT8: ((int8_t *)v->data)[i] = (int8_t)k; break;
    default: ((uint8_t *)v->data)[i] = (uint8_t)k; break;
    }
}

/* Integer kinds that stay exact in int64 (products and squares wrap). */
static bool exact_int(lc_xred_kind k)
{
    return k == LC_XRED_MIN || k == LC_XRED_PROD || k == LC_XRED_L1 || k == LC_XRED_SUMSQUARE;
}

lc_status lc_xred_run(lc_kernel_args *a)
{
    const xred_state *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    int64_t on = lc_value_numel(y), xn = lc_value_numel(x);
    if (st->axes.noop) {
        lc_copy_value(y, x);
        return LC_OK;
    }
    if (!on) return LC_OK;
    lc_xred_kind kind = st->kind;
    bool is_int = x->dtype != LC_DTYPE_FLOAT && x->dtype != LC_DTYPE_DOUBLE;
    bool ints = is_int && exact_int(kind);
    double *acc = malloc((size_t)on * sizeof *acc);
    double *mx = kind == LC_XRED_LOGSUMEXP ? malloc((size_t)on * sizeof *mx) : NULL;
    int64_t *iacc = ints ? malloc((size_t)on * sizeof *iacc) : NULL;
    lc_status s = LC_OK;
    if (!acc || (kind == LC_XRED_LOGSUMEXP && !mx) || (ints && !iacc)) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    lc_reduce_walk w;
    if (mx) {
        /* pass 1 of log-sum-exp: the max of each output's inputs */
        for (int64_t j = 0; j < on; j++) mx[j] = -INFINITY;
        lc_reduce_walk_init(&w, x, st->axes.mask);
        for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
            double v = load_f(x, i);
            if (v > mx[w.o]) mx[w.o] = v;
        }
        for (int64_t j = 0; j < on; j++)
            if (!isfinite(mx[j])) mx[j] = 0; /* all -inf (or +inf): no shift */
    }
    for (int64_t j = 0; j < on; j++) {
        acc[j] = kind == LC_XRED_MIN ? INFINITY : kind == LC_XRED_PROD ? 1 : 0;
        if (iacc) iacc[j] = kind == LC_XRED_MIN ? INT64_MAX : kind == LC_XRED_PROD ? 1 : 0;
    }
    lc_reduce_walk_init(&w, x, st->axes.mask);
    for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
        int64_t o = w.o;
        if (iacc) {
            int64_t v = load_i(x, i);
            switch (kind) {
            case LC_XRED_MIN: iacc[o] = v < iacc[o] ? v : iacc[o]; break;
            case LC_XRED_PROD: iacc[o] = (int64_t)((uint64_t)iacc[o] * (uint64_t)v); break;
            case LC_XRED_L1: iacc[o] = (int64_t)((uint64_t)iacc[o] + (v < 0 ? 0 - (uint64_t)v : (uint64_t)v)); break;
            default: iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)v * (uint64_t)v); break;
            }
            continue;
        }
        double v = load_f(x, i);
        switch (kind) {
        case LC_XRED_MIN: acc[o] = v < acc[o] || isnan(v) ? v : acc[o]; break;
        case LC_XRED_PROD: acc[o] *= v; break;
        case LC_XRED_L1: acc[o] += fabs(v); break;
        case LC_XRED_L2:
        case LC_XRED_SUMSQUARE: acc[o] += v * v; break;
        case LC_XRED_LOGSUM: acc[o] += v; break;
        case LC_XRED_LOGSUMEXP: acc[o] += exp(v - mx[o]); break;
        }
    }
    for (int64_t j = 0; j < on; j++) {
        if (iacc) {
            int64_t v = iacc[j];
            /* an empty min of a narrow type is the type's max */
            if (kind == LC_XRED_MIN && v == INT64_MAX) {
                switch (y->dtype) {
                case LC_DTYPE_INT32: v = INT32_MAX; break;
                case LC_DTYPE_INT8: v = INT8_MAX; break;
                case LC_DTYPE_UINT8: v = UINT8_MAX; break;
                case LC_DTYPE_BOOL: v = 1; break;
                default: break;
                }
            }
            store(y, j, 0, v);
            continue;
        }
        double v = acc[j];
        if (kind == LC_XRED_L2) v = sqrt(v);
        else if (kind == LC_XRED_LOGSUM) v = log(v);
        else if (kind == LC_XRED_LOGSUMEXP) v = log(v) + mx[j];
        /* integer results of the float-valued kinds truncate toward zero */
        int64_t k = 0;
        if (is_int) k = isfinite(v) ? (int64_t)(v < -9.2e18 ? -9.2e18 : v > 9.2e18 ? 9.2e18 : v) : INT64_MIN;
        store(y, j, v, k);
    }
done:
    free(acc);
    free(mx);
    free(iacc);
    return s;
}

/* ---- indexing ---- */

int64_t lc_x_index(const lc_value *v, int64_t j)
{
    return v->dtype == LC_DTYPE_INT64 ? ((const int64_t *)v->data)[j] : ((const int32_t *)v->data)[j];
}

lc_status lc_x_need_index(const lc_value *v, const char *what)
{
    if (v->dtype != LC_DTYPE_INT64 && v->dtype != LC_DTYPE_INT32)
        return lc_fail(LC_ERR_DTYPE, "%s must be int64 or int32, is %s", what, lc_dtype_name(v->dtype));
    return LC_OK;
}

lc_status lc_x_reduction_attr(const lc_kernel_args *a, int dtype, int *mode)
{
    static const struct {
        const char *name;
        int mode;
        int64_t since;
    } modes[] = {{"none", LC_XCOMB_NONE, 1}, {"add", LC_XCOMB_ADD, 16}, {"mul", LC_XCOMB_MUL, 16},
                 {"max", LC_XCOMB_MAX, 18}, {"min", LC_XCOMB_MIN, 18}};
    const char *r = lc_node_attr_string(a->node, "reduction", "none");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(r, modes[i].name) != 0 || a->opset < modes[i].since) continue;
        *mode = modes[i].mode;
        if (*mode == LC_XCOMB_NONE) return LC_OK;
        if (dtype == LC_DTYPE_FLOAT || dtype == LC_DTYPE_DOUBLE || dtype == LC_DTYPE_INT32 || dtype == LC_DTYPE_INT64)
            return LC_OK;
        return lc_fail(LC_ERR_UNSUPPORTED, "reduction '%s' on dtype %s is not supported", r, lc_dtype_name(dtype));
    }
    return lc_fail(LC_ERR_INVALID_ARGUMENT, "reduction '%s' is not valid at opset %lld", r, (long long)a->opset);
}

#define COMBINE(T)                                                                      \
    {                                                                                   \
        T *d = dst;                                                                     \
        const T *s = src;                                                               \
        for (int64_t i = 0; i < n; i++) {                                               \
            switch (mode) {                                                             \
            case LC_XCOMB_ADD: d[i] = (T)(d[i] + s[i]); break;                          \
            case LC_XCOMB_MUL: d[i] = (T)(d[i] * s[i]); break;                          \
            case LC_XCOMB_MAX: d[i] = s[i] > d[i] ? s[i] : d[i]; break;                 \
            default: d[i] = s[i] < d[i] ? s[i] : d[i]; break;                           \
            }                                                                           \
        }                                                                               \
    }

void lc_x_combine(int dtype, int mode, void *dst, const void *src, int64_t n)
{
    if (mode == LC_XCOMB_NONE) {
        memcpy(dst, src, (size_t)n * lc_dtype_size(dtype));
        return;
    }
    switch (dtype) {
    case LC_DTYPE_FLOAT: COMBINE(float) break;
    case LC_DTYPE_DOUBLE: COMBINE(double) break;
    case LC_DTYPE_INT32: {
        /* wrap instead of overflowing (signed overflow is undefined) */
        int32_t *d = dst;
        const int32_t *s = src;
        for (int64_t i = 0; i < n; i++) {
            if (mode == LC_XCOMB_ADD) d[i] = (int32_t)((uint32_t)d[i] + (uint32_t)s[i]);
            else if (mode == LC_XCOMB_MUL) d[i] = (int32_t)((uint32_t)d[i] * (uint32_t)s[i]);
            else if (mode == LC_XCOMB_MAX) d[i] = s[i] > d[i] ? s[i] : d[i];
            else d[i] = s[i] < d[i] ? s[i] : d[i];
        }
        break;
    }
    default: {
        int64_t *d = dst;
        const int64_t *s = src;
        for (int64_t i = 0; i < n; i++) {
            if (mode == LC_XCOMB_ADD) d[i] = (int64_t)((uint64_t)d[i] + (uint64_t)s[i]);
            else if (mode == LC_XCOMB_MUL) d[i] = (int64_t)((uint64_t)d[i] * (uint64_t)s[i]);
            else if (mode == LC_XCOMB_MAX) d[i] = s[i] > d[i] ? s[i] : d[i];
            else d[i] = s[i] < d[i] ? s[i] : d[i];
        }
        break;
    }
    }
}
