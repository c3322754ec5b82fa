/* Helpers for the shape/index/reduction kernels (see lc_shape.h). */
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

/* ---- reductions ---- */

lc_status lc_reduce_setup(lc_kernel_args *a, int64_t axes_input_since, lc_reduce_axes *r)
{
    const lc_value *x = a->in[0];
    int64_t axes[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    int n, nd = 0;
    bool given;
    lc_status s = lc_read_axes(a, "axes", axes_input_since, 1, axes, LC_MAX_DIMS, &n, &given);
    if (s) return s;
    memset(r, 0, sizeof *r);
    bool keep = lc_node_attr_int(a->node, "keepdims", 1) != 0;
    if (n == 0) {
        r->noop = a->opset >= axes_input_since && lc_node_attr_int(a->node, "noop_with_empty_axes", 0) != 0;
        for (int d = 0; d < x->ndim; d++) r->mask[d] = !r->noop;
    } else if ((s = lc_axes_mask(axes, n, x->ndim, r->mask))) {
        return s;
    }
    for (int d = 0; d < x->ndim; d++) {
        if (!r->mask[d]) dims[nd++] = x->dims[d];
        else if (keep) dims[nd++] = 1;
    }
    return lc_value_set_shape(a->out[0], x->dtype, nd, dims);
}

void lc_reduce_walk_init(lc_reduce_walk *w, const lc_value *x, const bool *mask)
{
    int64_t kdims[LC_MAX_DIMS];
    memset(w, 0, sizeof *w);
    w->nd = x->ndim;
    w->count = 1;
    for (int d = 0; d < x->ndim; d++) {
        w->dims[d] = x->dims[d];
        kdims[d] = mask[d] ? 1 : x->dims[d];
        if (mask[d]) w->count *= x->dims[d];
    }
    lc_contig_strides(x->ndim, kdims, w->ostr);
    for (int d = 0; d < x->ndim; d++)
        if (mask[d]) w->ostr[d] = 0;
}

lc_status lc_reduce_prepare(lc_kernel_args *a, int64_t axes_input_since)
{
    lc_status s = lc_need_numeric(a->in[0], "input", true);
    if (s) return s;
    lc_reduce_axes *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if ((s = lc_reduce_setup(a, axes_input_since, st))) {
        free(st);
        return s;
    }
    a->state = st;
    return LC_OK;
}

void lc_reduce_free(void *state)
{
    free(state);
}

static double load_d(const lc_value *v, int64_t i)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[i];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    default: return (double)((const int64_t *)v->data)[i];
    }
}

lc_status lc_reduce_run(lc_kernel_args *a, lc_reduce_kind kind)
{
    const lc_reduce_axes *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    int64_t on = lc_value_numel(y), xn = lc_value_numel(x);
    if (st->noop) {
        lc_copy_value(y, x);
        return LC_OK;
    }
    if (!on) return LC_OK;
    bool i64 = x->dtype == LC_DTYPE_INT64;
    /* int64 accumulates exactly in int64; float32/int32 in double. */
    double *acc = i64 ? NULL : malloc((size_t)on * sizeof *acc);
    int64_t *iacc = i64 ? malloc((size_t)on * sizeof *iacc) : NULL;
    if (!acc && !iacc) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t o = 0; o < on; o++) {
        if (kind == LC_REDUCE_MAX) {
            if (acc) acc[o] = -INFINITY;
            else iacc[o] = INT64_MIN;
        } else if (acc) acc[o] = 0;
        else iacc[o] = 0;
    }
    lc_reduce_walk w;
    lc_reduce_walk_init(&w, x, st->mask);
    int64_t count = w.count;
    for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
        int64_t o = w.o;
        if (iacc) {
            int64_t v = ((const int64_t *)x->data)[i];
            if (kind == LC_REDUCE_MAX) iacc[o] = v > iacc[o] ? v : iacc[o];
            else iacc[o] += v;
        } else {
            double v = load_d(x, i);
            if (kind == LC_REDUCE_MAX) acc[o] = v > acc[o] || isnan(v) ? v : acc[o];
            else acc[o] += v;
        }
    }
    for (int64_t j = 0; j < on; j++) {
        if (iacc) {
            int64_t v = iacc[j];
            if (kind == LC_REDUCE_MEAN) v = count ? v / count : 0;
            ((int64_t *)y->data)[j] = v;
            continue;
        }
        double v = acc[j];
        if (kind == LC_REDUCE_MEAN) v = v / (double)count;
        if (y->dtype == LC_DTYPE_FLOAT) ((float *)y->data)[j] = (float)v;
        else ((int32_t *)y->data)[j] = isfinite(v) ? (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v) : INT32_MIN;
    }
    free(acc);
    free(iacc);
    return LC_OK;
}
