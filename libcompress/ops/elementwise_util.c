/* Shared machinery of the elementwise kernels: the broadcasting engine,
 * dtype dispatch with the float16/bfloat16 adapter, ready-made unary,
 * binary and variadic kernel bodies, and dtype conversions (Cast, Pow). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_elementwise.h"

#define CHUNK 256 /* elements converted per step on the stack */

lc_status lc_ew_state_new(lc_kernel_args *a, lc_ew_state **st)
{
    *st = calloc(1, sizeof **st);
    if (!*st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = *st;
    return LC_OK;
}

void lc_ew_state_free(void *state)
{
    free(state);
}

bool lc_ew_is_half(int dtype)
{
    return dtype == LC_DTYPE_FLOAT16 || dtype == LC_DTYPE_BFLOAT16;
}

lc_status lc_ew_bad_dtype(const lc_kernel_args *a, const char *what, int dtype)
{
    return lc_fail(LC_ERR_UNSUPPORTED, "%s: %s dtype %s is not supported", a->node ? a->node->op_type : "?", what,
                   lc_dtype_name(dtype));
}

/* ---- half types ---- */

uint16_t lc_ew_float_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float lc_ew_bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t lc_ew_double_to_half(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    uint16_t sign = (uint16_t)((u >> 48) & 0x8000u);
    uint64_t absu = u & 0x7fffffffffffffffull;
    if (absu >= 0x7ff0000000000000ull) return (uint16_t)(sign | 0x7c00u | (absu > 0x7ff0000000000000ull ? 0x200u : 0));
    int e = (int)(absu >> 52) - 1023;
    if (e < -26) return sign; /* below half the smallest subnormal (also double subnormals) */
    uint64_t m = (absu & 0xfffffffffffffull) | (1ull << 52);
    /* value = m * 2^(e-52); the half keeps 11 significant bits when normal
     * (e >= -14), fewer as a subnormal with unit 2^-24. */
    int shift = e >= -14 ? 42 : 28 - e;
    uint64_t r = m >> shift, rem = m & ((1ull << shift) - 1), halfway = 1ull << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) r++;
    if (e < -14) return (uint16_t)(sign | r); /* r == 0x400 is the smallest normal */
    if (r == 0x800) {
        r = 0x400;
        e++;
    }
    if (e > 15) return (uint16_t)(sign | 0x7c00u);
    return (uint16_t)(sign | (uint16_t)((e + 15) << 10) | (uint16_t)(r & 0x3ffu));
}

static float half_at(int dtype, const void *p, int64_t i)
{
    uint16_t h = ((const uint16_t *)p)[i];
    return dtype == LC_DTYPE_FLOAT16 ? lc_half_to_float(h) : lc_ew_bf16_to_float(h);
}

static uint16_t half_from(int dtype, float f)
{
    return dtype == LC_DTYPE_FLOAT16 ? lc_float_to_half(f) : lc_ew_float_to_bf16(f);
}

/* Runs a float32 row on half-precision operands, CHUNK elements at a time. */
void lc_ew_adapter_row(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)
{
    const lc_ew_adapter *ad = ctx;
    float buf[LC_EW_MAX_IN][CHUNK], obuf[CHUNK];
    bool out_half = lc_ew_is_half(ad->out_dtype);
    size_t oes = lc_dtype_size(ad->out_dtype);
    for (int64_t c = 0; c < n; c += CHUNK) {
        int64_t m = n - c < CHUNK ? n - c : CHUNK;
        const void *pin[LC_EW_MAX_IN];
        int64_t pst[LC_EW_MAX_IN];
        for (int k = 0; k < ad->n_in; k++) {
            int dt = ad->in_dtype[k];
            if (lc_ew_is_half(dt)) {
                if (st[k] == 0) {
                    buf[k][0] = half_at(dt, in[k], 0);
                    pst[k] = 0;
                } else {
                    for (int64_t i = 0; i < m; i++) buf[k][i] = half_at(dt, in[k], (c + i) * st[k]);
                    pst[k] = 1;
                }
                pin[k] = buf[k];
            } else {
                pin[k] = (const char *)in[k] + (size_t)(c * st[k]) * lc_dtype_size(dt);
                pst[k] = st[k];
            }
        }
        if (out_half) {
            ad->fn(m, pin, pst, obuf, ad->ctx);
            uint16_t *o = (uint16_t *)out + c;
            for (int64_t i = 0; i < m; i++) o[i] = half_from(ad->out_dtype, obuf[i]);
        } else {
            ad->fn(m, pin, pst, (char *)out + (size_t)c * oes, ad->ctx);
        }
    }
}

lc_status lc_ew_pick(lc_kernel_args *a, lc_ew_state *st, const lc_ew_row *rows, int dtype, int n_in, int out_dtype)
{
    st->dtype = dtype;
    st->out_dtype = out_dtype;
    if (dtype > 0 && dtype < LC_DTYPE_COUNT && rows[dtype]) {
        st->fn = rows[dtype];
        st->ctx = &st->p;
        return LC_OK;
    }
    if (lc_ew_is_half(dtype) && rows[LC_DTYPE_FLOAT]) {
        st->adapter.fn = rows[LC_DTYPE_FLOAT];
        st->adapter.ctx = &st->p;
        st->adapter.n_in = n_in;
        for (int k = 0; k < n_in && k < LC_EW_MAX_IN; k++) st->adapter.in_dtype[k] = dtype;
        st->adapter.out_dtype = out_dtype;
        st->fn = lc_ew_adapter_row;
        st->ctx = &st->adapter;
        return LC_OK;
    }
    return lc_ew_bad_dtype(a, "input", dtype);
}

/* ---- the broadcasting engine ---- */

void lc_ew_apply(int n_in, const void *const *data, const size_t *esize, const int64_t (*strides)[LC_MAX_DIMS],
                 int ondim, const int64_t *odims, void *out, size_t oes, lc_ew_row fn, const void *ctx)
{
    int64_t d[LC_MAX_DIMS], s[LC_EW_MAX_IN][LC_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < ondim; i++) {
        if (odims[i] == 0) return;
        if (odims[i] == 1) continue;
        /* merge into the previous (outer) axis when every input steps
         * through both as one: outer stride == inner stride * inner size */
        bool merge = nd > 0;
        for (int k = 0; merge && k < n_in; k++)
            if (s[k][nd - 1] != strides[k][i] * odims[i]) merge = false;
        if (merge) {
            d[nd - 1] *= odims[i];
            for (int k = 0; k < n_in; k++) s[k][nd - 1] = strides[k][i];
        } else {
            d[nd] = odims[i];
            for (int k = 0; k < n_in; k++) s[k][nd] = strides[k][i];
            nd++;
        }
    }
    if (nd == 0) {
        d[0] = 1;
        for (int k = 0; k < n_in; k++) s[k][0] = 0;
        nd = 1;
    }
    int64_t inner = d[nd - 1], ist[LC_EW_MAX_IN], off[LC_EW_MAX_IN] = {0}, idx[LC_MAX_DIMS] = {0};
    for (int k = 0; k < n_in; k++) ist[k] = s[k][nd - 1];
    char *o = out;
    for (;;) {
        const void *p[LC_EW_MAX_IN];
        for (int k = 0; k < n_in; k++) p[k] = (const char *)data[k] + (size_t)off[k] * esize[k];
        fn(inner, p, ist, o, ctx);
        o += (size_t)inner * oes;
        int j = nd - 2;
        for (; j >= 0; j--) {
            idx[j]++;
            for (int k = 0; k < n_in; k++) off[k] += s[k][j];
            if (idx[j] < d[j]) break;
            for (int k = 0; k < n_in; k++) off[k] -= s[k][j] * d[j];
            idx[j] = 0;
        }
        if (j < 0) break;
    }
}

void lc_ew_apply_values(int n_in, const lc_value *const *in, lc_value *out, lc_ew_row fn, const void *ctx)
{
    int64_t strides[LC_EW_MAX_IN][LC_MAX_DIMS];
    const void *data[LC_EW_MAX_IN];
    size_t es[LC_EW_MAX_IN];
    for (int k = 0; k < n_in; k++) {
        lc_broadcast_strides(out->ndim, out->dims, in[k]->ndim, in[k]->dims, strides[k]);
        data[k] = in[k]->data;
        es[k] = lc_dtype_size(in[k]->dtype);
    }
    lc_ew_apply(n_in, data, es, (const int64_t(*)[LC_MAX_DIMS])strides, out->ndim, out->dims, out->data,
                lc_dtype_size(out->dtype), fn, ctx);
}

/* ---- unary ---- */

lc_status lc_ew_unary_prepare(lc_kernel_args *a, const lc_ew_row *rows, int out_dtype, lc_ew_state **st_out)
{
    lc_ew_state *st = NULL;
    if (st_out) *st_out = NULL;
    if (a->n_in < 1 || !a->in[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    const lc_value *x = a->in[0];
    lc_status s = lc_ew_state_new(a, &st);
    if (s) return s;
    s = lc_ew_pick(a, st, rows, x->dtype, 1, out_dtype ? out_dtype : x->dtype);
    if (s) return s;
    s = lc_value_set_shape(a->out[0], st->out_dtype, x->ndim, x->dims);
    if (s) return s;
    if (st_out) *st_out = st;
    return LC_OK;
}

lc_status lc_ew_unary_run(lc_kernel_args *a)
{
    const lc_ew_state *st = a->state;
    const void *p[1] = {a->in[0]->data};
    int64_t one = 1, n = lc_value_numel(a->in[0]);
    if (n > 0) st->fn(n, p, &one, a->out[0]->data, st->ctx);
    return LC_OK;
}

/* ---- binary ---- */

/* Strides of the legacy (opset < 7) broadcast operand: its dims line up
 * with the output's starting at `axis`; size-1 dims and a one-element
 * tensor repeat. */
static void legacy_strides(int ondim, const lc_value *b, int axis, int64_t *s)
{
    for (int i = 0; i < ondim; i++) s[i] = 0;
    if (lc_value_numel(b) == 1) return;
    int64_t stride = 1;
    for (int j = b->ndim - 1; j >= 0; j--) {
        s[axis + j] = b->dims[j] == 1 ? 0 : stride;
        stride *= b->dims[j];
    }
}

lc_status lc_ew_binary_shape(lc_kernel_args *a, lc_ew_state *st)
{
    const lc_value *x = a->in[0], *y = a->in[1];
    int ondim;
    int64_t odims[LC_MAX_DIMS];
    /* Before opset 7 broadcasting had to be asked for (broadcast=1) and
     * aligned B at `axis`; without it we still accept numpy-compatible
     * shapes (a superset of the equal shapes the old spec demands). */
    if (!st->legacy && a->opset < 7 && lc_node_attr_int(a->node, "broadcast", 0)) {
        st->legacy = true;
        st->axis = (int)lc_node_attr_int(a->node, "axis", x->ndim - y->ndim);
        if (st->axis < 0) st->axis += x->ndim;
    }
    if (st->legacy) {
        int axis = st->axis;
        if (lc_value_numel(y) != 1) {
            if (axis < 0 || axis + y->ndim > x->ndim) {
                char yd[256]; /* lc_dims_str's buffer is reused by the second call */
                snprintf(yd, sizeof yd, "%s", lc_dims_str(y->ndim, y->dims));
                return lc_fail(LC_ERR_SHAPE, "legacy broadcast of [%s] at axis %d does not fit [%s]", yd, axis,
                               lc_dims_str(x->ndim, x->dims));
            }
            for (int j = 0; j < y->ndim; j++)
                if (y->dims[j] != 1 && y->dims[j] != x->dims[axis + j])
                    return lc_fail(LC_ERR_SHAPE, "legacy broadcast: dim %d of B (%lld) does not match A's dim %d (%lld)",
                                   j, (long long)y->dims[j], axis + j, (long long)x->dims[axis + j]);
        }
        ondim = x->ndim;
        if (ondim) memcpy(odims, x->dims, (size_t)ondim * sizeof *odims);
    } else {
        lc_status s = lc_broadcast_shape(x->ndim, x->dims, y->ndim, y->dims, &ondim, odims);
        if (s) return s;
    }
    return lc_value_set_shape(a->out[0], st->out_dtype, ondim, odims);
}

lc_status lc_ew_binary_args(const lc_kernel_args *a)
{
    if (a->n_in < 2 || !a->in[0] || !a->in[1]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs two inputs");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    return LC_OK;
}

lc_status lc_ew_binary_prepare(lc_kernel_args *a, const lc_ew_row *rows, int out_dtype, lc_ew_state **st_out)
{
    lc_ew_state *st = NULL;
    if (st_out) *st_out = NULL;
    lc_status s = lc_ew_binary_args(a);
    if (s) return s;
    const lc_value *x = a->in[0], *y = a->in[1];
    if (x->dtype != y->dtype)
        return lc_fail(LC_ERR_DTYPE, "inputs have different dtypes (%s and %s)", lc_dtype_name(x->dtype),
                       lc_dtype_name(y->dtype));
    if ((s = lc_ew_state_new(a, &st))) return s;
    if ((s = lc_ew_pick(a, st, rows, x->dtype, 2, out_dtype ? out_dtype : x->dtype))) return s;
    if ((s = lc_ew_binary_shape(a, st))) return s;
    if (st_out) *st_out = st;
    return LC_OK;
}

lc_status lc_ew_binary_run(lc_kernel_args *a)
{
    const lc_ew_state *st = a->state;
    const lc_value *x = a->in[0], *y = a->in[1];
    lc_value *o = a->out[0];
    if (!st->legacy) {
        const lc_value *in[2] = {x, y};
        lc_ew_apply_values(2, in, o, st->fn, st->ctx);
        return LC_OK;
    }
    int64_t strides[2][LC_MAX_DIMS];
    lc_broadcast_strides(o->ndim, o->dims, x->ndim, x->dims, strides[0]);
    legacy_strides(o->ndim, y, st->axis, strides[1]);
    const void *data[2] = {x->data, y->data};
    size_t es[2] = {lc_dtype_size(x->dtype), lc_dtype_size(y->dtype)};
    lc_ew_apply(2, data, es, (const int64_t(*)[LC_MAX_DIMS])strides, o->ndim, o->dims, o->data,
                lc_dtype_size(o->dtype), st->fn, st->ctx);
    return LC_OK;
}

/* ---- variadic ---- */

lc_status lc_ew_variadic_prepare(lc_kernel_args *a, const lc_ew_row *rows)
{
    lc_ew_state *st = NULL;
    if (a->n_in < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs at least one input");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    for (int i = 0; i < a->n_in; i++)
        if (!a->in[i]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %d is missing", i);
    int dtype = a->in[0]->dtype, ondim = a->in[0]->ndim;
    int64_t odims[LC_MAX_DIMS];
    if (ondim) memcpy(odims, a->in[0]->dims, (size_t)ondim * sizeof *odims);
    for (int i = 1; i < a->n_in; i++) {
        if (a->in[i]->dtype != dtype)
            return lc_fail(LC_ERR_DTYPE, "input %d is %s, input 0 is %s", i, lc_dtype_name(a->in[i]->dtype),
                           lc_dtype_name(dtype));
        /* numpy broadcasting from opset 8; equal shapes before, which
         * broadcasting accepts as well */
        int64_t tmp[LC_MAX_DIMS];
        int tn;
        lc_status s = lc_broadcast_shape(ondim, odims, a->in[i]->ndim, a->in[i]->dims, &tn, tmp);
        if (s) return s;
        ondim = tn;
        if (tn) memcpy(odims, tmp, (size_t)tn * sizeof *tmp);
    }
    lc_status s = lc_ew_state_new(a, &st);
    if (s) return s;
    s = lc_ew_pick(a, st, rows, dtype, 2, dtype);
    if (s) return s;
    return lc_value_set_shape(a->out[0], dtype, ondim, odims);
}

static void copy_row(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)
{
    size_t es = *(const size_t *)ctx;
    if (st[0] == 0) {
        for (int64_t i = 0; i < n; i++) memcpy((char *)out + (size_t)i * es, in[0], es);
    } else {
        memcpy(out, in[0], (size_t)n * es);
    }
}

lc_status lc_ew_variadic_run(lc_kernel_args *a)
{
    const lc_ew_state *st = a->state;
    lc_value *o = a->out[0];
    if (a->n_in == 1) {
        size_t es = lc_dtype_size(o->dtype);
        const lc_value *in[1] = {a->in[0]};
        lc_ew_apply_values(1, in, o, copy_row, &es);
        return LC_OK;
    }
    const lc_value *in[2] = {a->in[0], a->in[1]};
    lc_ew_apply_values(2, in, o, st->fn, st->ctx);
    /* then out = op(out, in[k]): elementwise, so reading and writing the
     * same contiguous buffer is safe */
    for (int k = 2; k < a->n_in; k++) {
        in[0] = o;
        in[1] = a->in[k];
        lc_ew_apply_values(2, in, o, st->fn, st->ctx);
    }
    return LC_OK;
}

lc_status lc_ew_copy_run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_value *o = a->out[0];
    size_t n = (size_t)lc_value_numel(x) * lc_dtype_size(x->dtype);
    if (n && o->data != x->data) memcpy(o->data, x->data, n);
    return LC_OK;
}

/* ---- conversions ---- */

int lc_ew_kind(int dtype)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT:
    case LC_DTYPE_DOUBLE:
    case LC_DTYPE_FLOAT16:
    case LC_DTYPE_BFLOAT16: return 'f';
    case LC_DTYPE_INT8:
    case LC_DTYPE_INT16:
    case LC_DTYPE_INT32:
    case LC_DTYPE_INT64:
    case LC_DTYPE_BOOL: return 'i';
    case LC_DTYPE_UINT8:
    case LC_DTYPE_UINT16:
    case LC_DTYPE_UINT32:
    case LC_DTYPE_UINT64: return 'u';
    default: return 0;
    }
}

#define LOAD_LOOP(T, EXPR)                                                                                   \
    do {                                                                                                     \
        const T *s_ = src;                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                                    \
            T v = s_[i * stride];                                                                            \
            dst[i] = EXPR;                                                                                   \
        }                                                                                                    \
    } while (0)

void lc_ew_load_f64(int dtype, const void *src, int64_t stride, int64_t n, double *dst)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT: LOAD_LOOP(float, v); break;
    case LC_DTYPE_DOUBLE: LOAD_LOOP(double, v); break;
    case LC_DTYPE_FLOAT16: LOAD_LOOP(uint16_t, lc_half_to_float(v)); break;
    case LC_DTYPE_BFLOAT16: LOAD_LOOP(uint16_t, lc_ew_bf16_to_float(v)); break;
    case LC_DTYPE_INT8: LOAD_LOOP(int8_t, v); break;
    case LC_DTYPE_INT16: LOAD_LOOP(int16_t, v); break;
    case LC_DTYPE_INT32: LOAD_LOOP(int32_t, v); break;
    case LC_DTYPE_INT64: LOAD_LOOP(int64_t, (double)v); break;
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: LOAD_LOOP(uint8_t, v); break;
    case LC_DTYPE_UINT16: LOAD_LOOP(uint16_t, v); break;
    case LC_DTYPE_UINT32: LOAD_LOOP(uint32_t, v); break;
    case LC_DTYPE_UINT64: LOAD_LOOP(uint64_t, (double)v); break;
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = 0;
    }
}

/* double -> integer in [lo, hi], truncating toward zero, NaN -> 0. The
 * bounds are compared in double: (double)INT64_MAX is 2^63, and anything
 * below it converts without overflow. */
static int64_t sat_i64(double v, int64_t lo, int64_t hi)
{
    if (v != v) return 0;
    if (v <= (double)lo) return lo;
    if (v >= (double)hi) return hi;
    return (int64_t)v;
}

static uint64_t sat_u64(double v, uint64_t hi)
{
    if (v != v || v <= 0) return 0;
    if (v >= (double)hi) return hi;
    return (uint64_t)v;
}

void lc_ew_load_i64(int dtype, const void *src, int64_t stride, int64_t n, int64_t *dst)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT: LOAD_LOOP(float, sat_i64(v, INT64_MIN, INT64_MAX)); break;
    case LC_DTYPE_DOUBLE: LOAD_LOOP(double, sat_i64(v, INT64_MIN, INT64_MAX)); break;
    case LC_DTYPE_FLOAT16: LOAD_LOOP(uint16_t, sat_i64(lc_half_to_float(v), INT64_MIN, INT64_MAX)); break;
    case LC_DTYPE_BFLOAT16: LOAD_LOOP(uint16_t, sat_i64(lc_ew_bf16_to_float(v), INT64_MIN, INT64_MAX)); break;
    case LC_DTYPE_INT8: LOAD_LOOP(int8_t, v); break;
    case LC_DTYPE_INT16: LOAD_LOOP(int16_t, v); break;
    case LC_DTYPE_INT32: LOAD_LOOP(int32_t, v); break;
    case LC_DTYPE_INT64: LOAD_LOOP(int64_t, v); break;
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: LOAD_LOOP(uint8_t, v); break;
    case LC_DTYPE_UINT16: LOAD_LOOP(uint16_t, v); break;
    case LC_DTYPE_UINT32: LOAD_LOOP(uint32_t, v); break;
    case LC_DTYPE_UINT64: LOAD_LOOP(uint64_t, (int64_t)v); break; /* keeps the bits (modular) */
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = 0;
    }
}

#define STORE_LOOP(T, EXPR)                                                                                  \
    do {                                                                                                     \
        T *d_ = dst;                                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                                    \
            __typeof__(src[0]) v = src[i];                                                                   \
            d_[i] = EXPR;                                                                                    \
        }                                                                                                    \
    } while (0)

void lc_ew_store_f64(int dtype, const double *src, int64_t n, void *dst)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT: STORE_LOOP(float, (float)v); break;
    case LC_DTYPE_DOUBLE: STORE_LOOP(double, v); break;
    case LC_DTYPE_FLOAT16: STORE_LOOP(uint16_t, lc_ew_double_to_half(v)); break;
    case LC_DTYPE_BFLOAT16: STORE_LOOP(uint16_t, lc_ew_float_to_bf16((float)v)); break;
    case LC_DTYPE_INT8: STORE_LOOP(int8_t, (int8_t)sat_i64(v, INT8_MIN, INT8_MAX)); break;
    case LC_DTYPE_INT16: STORE_LOOP(int16_t, (int16_t)sat_i64(v, INT16_MIN, INT16_MAX)); break;
    case LC_DTYPE_INT32: STORE_LOOP(int32_t, (int32_t)sat_i64(v, INT32_MIN, INT32_MAX)); break;
    case LC_DTYPE_INT64: STORE_LOOP(int64_t, sat_i64(v, INT64_MIN, INT64_MAX)); break;
    case LC_DTYPE_UINT8: STORE_LOOP(uint8_t, (uint8_t)sat_u64(v, UINT8_MAX)); break;
    case LC_DTYPE_UINT16: STORE_LOOP(uint16_t, (uint16_t)sat_u64(v, UINT16_MAX)); break;
    case LC_DTYPE_UINT32: STORE_LOOP(uint32_t, (uint32_t)sat_u64(v, UINT32_MAX)); break;
    case LC_DTYPE_UINT64: STORE_LOOP(uint64_t, sat_u64(v, UINT64_MAX)); break;
    case LC_DTYPE_BOOL: STORE_LOOP(uint8_t, v != 0); break;
    default: break;
    }
}

#define STORE_INT_CASES                                                                                      \
    case LC_DTYPE_FLOAT: STORE_LOOP(float, (float)v); break;                                                 \
    case LC_DTYPE_DOUBLE: STORE_LOOP(double, (double)v); break;                                              \
    case LC_DTYPE_FLOAT16: STORE_LOOP(uint16_t, lc_ew_double_to_half((double)v)); break;                     \
    case LC_DTYPE_BFLOAT16: STORE_LOOP(uint16_t, lc_ew_float_to_bf16((float)v)); break;                      \
    case LC_DTYPE_INT8: STORE_LOOP(int8_t, (int8_t)v); break;                                                \
    case LC_DTYPE_INT16: STORE_LOOP(int16_t, (int16_t)v); break;                                             \
    case LC_DTYPE_INT32: STORE_LOOP(int32_t, (int32_t)v); break;                                             \
    case LC_DTYPE_INT64: STORE_LOOP(int64_t, (int64_t)v); break;                                             \
    case LC_DTYPE_UINT8: STORE_LOOP(uint8_t, (uint8_t)v); break;                                             \
    case LC_DTYPE_UINT16: STORE_LOOP(uint16_t, (uint16_t)v); break;                                          \
    case LC_DTYPE_UINT32: STORE_LOOP(uint32_t, (uint32_t)v); break;                                          \
    case LC_DTYPE_UINT64: STORE_LOOP(uint64_t, (uint64_t)v); break;                                          \
    case LC_DTYPE_BOOL: STORE_LOOP(uint8_t, v != 0); break;                                                  \
    default: break;

void lc_ew_store_i64(int dtype, const int64_t *src, int64_t n, void *dst)
{
    switch (dtype) { STORE_INT_CASES }
}

void lc_ew_store_u64(int dtype, const uint64_t *src, int64_t n, void *dst)
{
    switch (dtype) { STORE_INT_CASES }
}
