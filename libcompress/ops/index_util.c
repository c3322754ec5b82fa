/* Helpers for the indexing kernels (see lc_index.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_index.h"

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
