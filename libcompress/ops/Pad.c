/* Pad: constant, reflect, edge and wrap (opset 19) modes, negative pads
 * crop. Pads come from the `paddings` (opset 1) or `pads` attribute (2 to
 * 10) with a float `value`, then from the `pads` input with an optional
 * `constant_value` input (11), restricted to `axes` (18). Any fixed-width
 * dtype: the kernel only moves elements. Each axis gets a map from output
 * to source index (-1 = constant), built once in prepare(). */
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

enum { MODE_CONSTANT, MODE_REFLECT, MODE_EDGE, MODE_WRAP };

typedef struct pad_state {
    int ndim;
    int64_t in[LC_MAX_DIMS], out[LC_MAX_DIMS];
    int64_t *map[LC_MAX_DIMS]; /* out[d] source indices per axis */
    int64_t run_lo, run_hi;    /* last axis: outputs copied contiguously */
    size_t es;
    unsigned char value[16];   /* constant in the data's dtype */
} pad_state;

static void pad_free(void *state)
{
    pad_state *st = state;
    if (!st) return;
    for (int i = 0; i < LC_MAX_DIMS; i++) free(st->map[i]);
    free(st);
}

/* Writes `v` as one element of `dtype` into `out`. */
static lc_status convert_value(double v, int dtype, unsigned char *out)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT: { float f = (float)v; memcpy(out, &f, 4); break; }
    case LC_DTYPE_DOUBLE: memcpy(out, &v, 8); break;
    case LC_DTYPE_FLOAT16: { uint16_t h = lc_float_to_half((float)v); memcpy(out, &h, 2); break; }
    case LC_DTYPE_INT8: { int8_t t = (int8_t)v; memcpy(out, &t, 1); break; }
    case LC_DTYPE_UINT8: case LC_DTYPE_BOOL: { uint8_t t = (uint8_t)v; memcpy(out, &t, 1); break; }
    case LC_DTYPE_INT16: { int16_t t = (int16_t)v; memcpy(out, &t, 2); break; }
    case LC_DTYPE_UINT16: { uint16_t t = (uint16_t)v; memcpy(out, &t, 2); break; }
    case LC_DTYPE_INT32: { int32_t t = (int32_t)v; memcpy(out, &t, 4); break; }
    case LC_DTYPE_UINT32: { uint32_t t = (uint32_t)v; memcpy(out, &t, 4); break; }
    case LC_DTYPE_INT64: { int64_t t = (int64_t)v; memcpy(out, &t, 8); break; }
    case LC_DTYPE_UINT64: { uint64_t t = (uint64_t)v; memcpy(out, &t, 8); break; }
    default: return lc_fail(LC_ERR_UNSUPPORTED, "a pad value for dtype %s", lc_dtype_name(dtype));
    }
    return LC_OK;
}

static int64_t source_index(int mode, int64_t i, int64_t n)
{
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case MODE_EDGE: return i < 0 ? 0 : n - 1;
    case MODE_WRAP: return ((i % n) + n) % n;
    case MODE_REFLECT: {
        if (n == 1) return 0;
        int64_t period = 2 * (n - 1), j = ((i % period) + period) % period;
        return j < n ? j : period - j;
    }
    default: return -1;
    }
}

static lc_status pad_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "Pad needs input data and an output");
    const lc_value *x = a->in[0];
    const int r = x->ndim;
    size_t es = lc_dtype_size(x->dtype);
    if (!es || es > 8 || x->dtype == LC_DTYPE_COMPLEX64)
        return lc_fail(LC_ERR_UNSUPPORTED, "input data has dtype %s", lc_dtype_name(x->dtype));
    const char *ms = lc_node_attr_string(a->node, "mode", "constant");
    int mode;
    if (!strcmp(ms, "constant")) mode = MODE_CONSTANT;
    else if (!strcmp(ms, "reflect")) mode = MODE_REFLECT;
    else if (!strcmp(ms, "edge")) mode = MODE_EDGE;
    else if (!strcmp(ms, "wrap") && a->opset >= 19) mode = MODE_WRAP;
    else return lc_fail(LC_ERR_INVALID_ARGUMENT, "mode '%s' is not constant, reflect, edge or wrap", ms);

    int64_t raw[2 * LC_MAX_DIMS], pads[2 * LC_MAX_DIMS] = {0}, axes[LC_MAX_DIMS];
    int np, nax = r;
    for (int i = 0; i < r; i++) axes[i] = i;
    double value = 0;
    if (a->opset < 11) {
        const char *an = lc_node_attr(a->node, "pads") ? "pads" : "paddings";
        if ((s = lc_attr_ints(a->node, an, raw, 2 * LC_MAX_DIMS, &np))) return s;
        value = lc_node_attr_float(a->node, "value", 0.0f);
    } else {
        if (a->n_in < 2 || !a->in[1]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input pads is missing");
        if ((s = lc_value_read_ints(a->in[1], raw, 2 * LC_MAX_DIMS, &np))) return s;
        if (a->opset >= 18 && a->n_in > 3 && a->in[3]) {
            int64_t ax[LC_MAX_DIMS];
            if ((s = lc_value_read_ints(a->in[3], ax, LC_MAX_DIMS, &nax))) return s;
            for (int i = 0; i < nax; i++) {
                int v;
                if ((s = lc_norm_axis(ax[i], r, "axis", &v))) return s;
                axes[i] = v;
            }
        }
    }
    if (np != 2 * nax) return lc_fail(LC_ERR_SHAPE, "%d pads for %d axes", np, nax);
    for (int i = 0; i < nax; i++) {
        pads[axes[i]] = raw[i];
        pads[r + axes[i]] = raw[nax + i];
    }

    pad_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->ndim = r;
    st->es = es;
    if (a->opset < 11) {
        if ((s = convert_value(value, x->dtype, st->value))) goto fail;
    }
    for (int d = 0; d < r; d++) {
        int64_t n = x->dims[d], o = n + pads[d] + pads[r + d];
        if (o < 0) {
            s = lc_fail(LC_ERR_SHAPE, "axis %d: pads %lld and %lld leave a negative size", d, (long long)pads[d],
                        (long long)pads[r + d]);
            goto fail;
        }
        if (n == 0 && o > 0 && mode != MODE_CONSTANT) {
            s = lc_fail(LC_ERR_SHAPE, "axis %d is empty, so mode '%s' has nothing to copy", d, ms);
            goto fail;
        }
        st->in[d] = n;
        st->out[d] = o;
        if (!(st->map[d] = malloc((size_t)(o ? o : 1) * sizeof(int64_t)))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        for (int64_t i = 0; i < o; i++) st->map[d][i] = source_index(mode, i - pads[d], n);
    }
    if (r > 0) {
        /* the identity run of the last axis: outputs lo..hi-1 read lo-pad.. */
        int64_t pb = pads[r - 1], lo = pb < 0 ? 0 : pb, hi = pb + st->in[r - 1];
        if (hi > st->out[r - 1]) hi = st->out[r - 1];
        if (hi < lo) hi = lo;
        st->run_lo = lo;
        st->run_hi = hi;
    }
    if ((s = lc_value_set_shape(a->out[0], x->dtype, r, st->out))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    pad_free(st);
    return s;
}

static lc_status pad_run(lc_kernel_args *a)
{
    pad_state *st = a->state;
    const lc_value *x = a->in[0];
    const size_t es = st->es;
    const int r = st->ndim;
    if (a->opset >= 11) {
        const lc_value *cv = a->n_in > 2 ? a->in[2] : NULL;
        memset(st->value, 0, sizeof st->value);
        if (cv && lc_value_numel(cv) > 0) {
            if (cv->dtype != x->dtype)
                return lc_fail(LC_ERR_DTYPE, "constant_value is %s, data is %s", lc_dtype_name(cv->dtype),
                               lc_dtype_name(x->dtype));
            memcpy(st->value, cv->data, es);
        }
    }
    unsigned char *y = a->out[0]->data;
    const unsigned char *src = x->data;
    if (r == 0) {
        memcpy(y, src, es);
        return LC_OK;
    }
    const int64_t ow = st->out[r - 1], iw = st->in[r - 1];
    const int64_t rows = lc_shape_numel(r - 1, st->out, 0);
    if (ow == 0) return LC_OK;
    int64_t idx[LC_MAX_DIMS] = {0};
    const int64_t *last = st->map[r - 1];
    for (int64_t row = 0; row < rows; row++, y += (size_t)ow * es) {
        int64_t off = 0;
        bool constant_row = false;
        for (int d = 0; d < r - 1; d++) {
            int64_t si = st->map[d][idx[d]];
            if (si < 0) {
                constant_row = true;
                break;
            }
            off = off * st->in[d] + si;
        }
        if (constant_row) {
            for (int64_t i = 0; i < ow; i++) memcpy(y + (size_t)i * es, st->value, es);
        } else {
            const unsigned char *sr = src + (size_t)(off * iw) * es;
            for (int64_t i = 0; i < st->run_lo; i++)
                memcpy(y + (size_t)i * es, last[i] < 0 ? st->value : sr + (size_t)last[i] * es, es);
            if (st->run_hi > st->run_lo)
                memcpy(y + (size_t)st->run_lo * es, sr + (size_t)last[st->run_lo] * es,
                       (size_t)(st->run_hi - st->run_lo) * es);
            for (int64_t i = st->run_hi; i < ow; i++)
                memcpy(y + (size_t)i * es, last[i] < 0 ? st->value : sr + (size_t)last[i] * es, es);
        }
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < st->out[d]) break;
            idx[d] = 0;
        }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_Pad_1 = {"Pad", 1, 1, 0, pad_prepare, pad_run, pad_free, NULL};
const lc_kernel lc_kernel_Pad_11 = {"Pad", 11, 2, 0, pad_prepare, pad_run, pad_free, NULL};
const lc_kernel lc_kernel_Pad_18 = {"Pad", 18, 2, 0, pad_prepare, pad_run, pad_free, NULL};
const lc_kernel lc_kernel_Pad_19 = {"Pad", 19, 2, 0, pad_prepare, pad_run, pad_free, NULL};
