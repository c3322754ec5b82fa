/* Helpers for the shape/index kernels (see lc_shape.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_shape.h"

const lc_value *lc_input(const lc_kernel_args *a, int i)
{
    return i >= 0 && i < a->n_in ? a->in[i] : NULL;
}

lc_status lc_need_sized(const lc_value *v, const char *what)
{
    if (!lc_dtype_size(v->dtype))
        return lc_fail(LC_ERR_UNSUPPORTED, "%s '%s' has dtype %s, which is not supported", what, v->name,
                       lc_dtype_name(v->dtype));
    return LC_OK;
}

lc_status lc_need_numeric(const lc_value *v, const char *what, bool ints)
{
    if (v->dtype == LC_DTYPE_FLOAT) return LC_OK;
    if (ints && (v->dtype == LC_DTYPE_INT32 || v->dtype == LC_DTYPE_INT64)) return LC_OK;
    return lc_fail(LC_ERR_UNSUPPORTED, "%s '%s' has dtype %s; supported: float%s", what, v->name,
                   lc_dtype_name(v->dtype), ints ? ", int32, int64" : "");
}

void lc_contig_strides(int ndim, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

int64_t lc_dims_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= dims[i];
    return p;
}

void lc_copy_view(void *dst, const void *src, size_t es, int ndim, const int64_t *dims, const int64_t *strides,
                  int64_t offset)
{
    int64_t d[LC_VIEW_MAX_DIMS], s[LC_VIEW_MAX_DIMS], idx[LC_VIEW_MAX_DIMS];
    int n = 0;
    /* Drop unit axes and merge axes that are contiguous with each other, so
     * most views reduce to a few long memcpy runs. */
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0) return;
        if (dims[i] == 1) continue;
        if (n > 0 && s[n - 1] == strides[i] * dims[i]) {
            d[n - 1] *= dims[i];
            s[n - 1] = strides[i];
        } else {
            d[n] = dims[i];
            s[n] = strides[i];
            n++;
        }
    }
    const char *base = src;
    char *out = dst;
    int64_t run = 1, inner_n = 1, inner_s = 0;
    if (n > 0 && s[n - 1] == 1) {
        run = d[--n];
    } else if (n > 0) {
        /* Strided innermost axis: copied element by element in a loop whose
         * element size is a compile-time constant for the common sizes. */
        inner_n = d[n - 1];
        inner_s = s[--n];
    }
    size_t run_bytes = (size_t)run * es;
    for (int i = 0; i < n; i++) idx[i] = 0;
    int64_t off = offset;
    for (;;) {
        if (inner_s == 0 && inner_n == 1) {
            memcpy(out, base + off * (int64_t)es, run_bytes);
            out += run_bytes;
        } else {
#define STRIDED(SZ)                                                                          \
    for (int64_t j = 0; j < inner_n; j++) memcpy(out + j * (SZ), base + (off + j * inner_s) * (SZ), SZ); \
    break;
            switch (es) {
            case 1: STRIDED(1)
            case 2: STRIDED(2)
            case 4: STRIDED(4)
            case 8: STRIDED(8)
            default:
                for (int64_t j = 0; j < inner_n; j++)
                    memcpy(out + j * (int64_t)es, base + (off + j * inner_s) * (int64_t)es, es);
            }
#undef STRIDED
            out += inner_n * (int64_t)es;
        }
        int k = n - 1;
        for (; k >= 0; k--) {
            off += s[k];
            if (++idx[k] < d[k]) break;
            off -= s[k] * d[k];
            idx[k] = 0;
        }
        if (k < 0) break;
    }
}

void lc_copy_value(lc_value *out, const lc_value *in)
{
    size_t n = (size_t)lc_value_numel(in) * lc_dtype_size(in->dtype);
    if (n && out->data != in->data) memmove(out->data, in->data, n);
}

lc_status lc_value_read_doubles(const lc_value *v, double *out, int max, int *n)
{
    *n = 0;
    if (!v->is_const)
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' must be known before running (data-dependent shape)", v->name);
    if (v->ndim > 1) return lc_fail(LC_ERR_SHAPE, "input '%s' must be 1-D, has rank %d", v->name, v->ndim);
    int64_t cnt = lc_value_numel(v);
    if (cnt > max) return lc_fail(LC_ERR_SHAPE, "input '%s' has %lld values (at most %d supported)", v->name, (long long)cnt, max);
    for (int64_t i = 0; i < cnt; i++) {
        switch (v->dtype) {
        case LC_DTYPE_FLOAT: out[i] = ((const float *)v->data)[i]; break;
        case LC_DTYPE_DOUBLE: out[i] = ((const double *)v->data)[i]; break;
        case LC_DTYPE_FLOAT16: out[i] = lc_half_to_float(((const uint16_t *)v->data)[i]); break;
        case LC_DTYPE_INT64: out[i] = (double)((const int64_t *)v->data)[i]; break;
        case LC_DTYPE_INT32: out[i] = ((const int32_t *)v->data)[i]; break;
        default:
            return lc_fail(LC_ERR_DTYPE, "input '%s' must be a float or int tensor, is %s", v->name, lc_dtype_name(v->dtype));
        }
    }
    *n = (int)cnt;
    return LC_OK;
}

lc_status lc_read_axes(const lc_kernel_args *a, const char *attr, int64_t input_since, int input_index, int64_t *axes,
                       int max, int *n, bool *given)
{
    *n = 0;
    *given = false;
    if (a->opset < input_since) {
        *given = lc_node_attr(a->node, attr) != NULL;
        return lc_attr_ints(a->node, attr, axes, max, n);
    }
    const lc_value *v = lc_input(a, input_index);
    if (!v) return LC_OK;
    *given = true;
    return lc_value_read_ints(v, axes, max, n);
}

lc_status lc_axes_mask(const int64_t *axes, int n, int ndim, bool *mask)
{
    for (int i = 0; i < ndim; i++) mask[i] = false;
    for (int i = 0; i < n; i++) {
        if (axes[i] < -ndim || axes[i] >= ndim)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axes[i], ndim);
        int ax = (int)(axes[i] < 0 ? axes[i] + ndim : axes[i]);
        if (mask[ax]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "axis %lld is listed twice", (long long)axes[i]);
        mask[ax] = true;
    }
    return LC_OK;
}
