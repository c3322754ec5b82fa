/* Helpers shared by kernels: broadcasting, axes, attributes and lc_value
 * accessors (lc_sgemm and the worker threads live in libcompress/exec). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"

int64_t lc_value_numel(const lc_value *v)
{
    return lc_shape_numel(v->ndim, v->dims, 0);
}

lc_status lc_value_set_shape(lc_value *v, int dtype, int ndim, const int64_t *dims)
{
    if (ndim < 0 || ndim > LC_MAX_DIMS)
        return lc_fail(LC_ERR_UNSUPPORTED, "output '%s' would have rank %d (at most %d supported)", v->name, ndim, LC_MAX_DIMS);
    size_t es = lc_dtype_size(dtype);
    if (!es) return lc_fail(LC_ERR_DTYPE, "output '%s': unsupported dtype %s", v->name, lc_dtype_name(dtype));
    if (lc_shape_numel(ndim, dims, es) < 0)
        return lc_fail(LC_ERR_SHAPE, "output '%s': shape [%s] is negative or too large", v->name, lc_dims_str(ndim, dims));
    v->dtype = dtype;
    v->ndim = ndim;
    if (ndim) memmove(v->dims, dims, (size_t)ndim * sizeof *dims);
    return LC_OK;
}

lc_status lc_value_read_ints(const lc_value *v, int64_t *out, int max, int *n)
{
    *n = 0;
    if (!v->is_const)
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' must be known before running (data-dependent shape)", v->name);
    if (v->ndim > 1) return lc_fail(LC_ERR_SHAPE, "input '%s' must be 1-D, has rank %d", v->name, v->ndim);
    int64_t cnt = lc_value_numel(v);
    if (cnt > max) return lc_fail(LC_ERR_SHAPE, "input '%s' has %lld values (at most %d supported)", v->name, (long long)cnt, max);
    for (int64_t i = 0; i < cnt; i++) {
        if (v->dtype == LC_DTYPE_INT64) out[i] = ((const int64_t *)v->data)[i];
        else if (v->dtype == LC_DTYPE_INT32) out[i] = ((const int32_t *)v->data)[i];
        else return lc_fail(LC_ERR_DTYPE, "input '%s' must be int64 or int32, is %s", v->name, lc_dtype_name(v->dtype));
    }
    *n = (int)cnt;
    return LC_OK;
}

double lc_value_scalar(const lc_value *v)
{
    if (!v || !v->data || lc_value_numel(v) < 1) return 0;
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[0];
    case LC_DTYPE_DOUBLE: return ((const double *)v->data)[0];
    case LC_DTYPE_FLOAT16: return lc_half_to_float(((const uint16_t *)v->data)[0]);
    case LC_DTYPE_INT64: return (double)((const int64_t *)v->data)[0];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[0];
    case LC_DTYPE_INT16: return ((const int16_t *)v->data)[0];
    case LC_DTYPE_UINT16: return ((const uint16_t *)v->data)[0];
    case LC_DTYPE_INT8: return ((const int8_t *)v->data)[0];
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return ((const uint8_t *)v->data)[0];
    case LC_DTYPE_UINT32: return ((const uint32_t *)v->data)[0];
    case LC_DTYPE_UINT64: return (double)((const uint64_t *)v->data)[0];
    default: return 0;
    }
}

lc_status lc_broadcast_shape(int an, const int64_t *a, int bn, const int64_t *b, int *ondim, int64_t *out)
{
    int n = an > bn ? an : bn;
    if (n > LC_MAX_DIMS) return lc_fail(LC_ERR_SHAPE, "broadcast rank %d exceeds %d", n, LC_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        int ia = i - (n - an), ib = i - (n - bn);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[256];
            snprintf(sa, sizeof sa, "%s", lc_dims_str(an, a));
            return lc_fail(LC_ERR_SHAPE, "shapes [%s] and [%s] do not broadcast", sa, lc_dims_str(bn, b));
        }
        out[i] = da == 1 ? db : da;
    }
    *ondim = n;
    return LC_OK;
}

void lc_broadcast_strides(int ondim, const int64_t *odims, int n, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ondim - 1; i >= 0; i--) {
        int k = i - (ondim - n);
        int64_t d = k >= 0 ? dims[k] : 1;
        strides[i] = (d == 1 && odims[i] != 1) || k < 0 ? 0 : s;
        if (k >= 0) s *= d;
    }
}

lc_status lc_norm_axis(int64_t axis, int ndim, const char *what, int *out)
{
    int64_t r = ndim ? ndim : 1;
    if (axis < -r || axis >= r)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s %lld is out of range for rank %d", what, (long long)axis, ndim);
    *out = (int)(axis < 0 ? axis + r : axis);
    return LC_OK;
}

lc_status lc_attr_ints(const lc_node *node, const char *name, int64_t *out, int max, int *n)
{
    *n = 0;
    const lc_attr *a = lc_node_attr(node, name);
    if (!a) return LC_OK;
    if (a->type != LC_ATTR_INTS) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' must be a list of ints", name);
    if (a->n > max) return lc_fail(LC_ERR_UNSUPPORTED, "attribute '%s' has %d values (at most %d)", name, a->n, max);
    if (a->n) memcpy(out, a->ints, (size_t)a->n * sizeof *out);
    *n = a->n;
    return LC_OK;
}
