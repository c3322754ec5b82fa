/* Helpers shared by the neural-network kernels: window geometry (kernel,
 * strides, dilations, pads, auto_pad), dtype checks and im2col. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

lc_status lc_nn_need_float(const lc_value *v, const char *what)
{
    if (v->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_UNSUPPORTED, "input %s has dtype %s (only float is supported)", what,
                       lc_dtype_name(v->dtype));
    return LC_OK;
}

lc_status lc_nn_auto_pad(const lc_node *node, int *mode)
{
    const char *s = lc_node_attr_string(node, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s) *mode = LC_PAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER")) *mode = LC_PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *mode = LC_PAD_SAME_LOWER;
    else if (!strcmp(s, "VALID")) *mode = LC_PAD_VALID;
    else return lc_fail(LC_ERR_INVALID_ARGUMENT, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", s);
    return LC_OK;
}

/* Reads an INTS attribute that must have `want` values when present;
 * fills `out` with `def` when absent. */
static lc_status read_axes_attr(const lc_node *node, const char *name, int want, int64_t def, int64_t min,
                                int64_t *out)
{
    int64_t v[2 * LC_NN_MAX_SPATIAL];
    int n;
    lc_status s = lc_attr_ints(node, name, v, 2 * LC_NN_MAX_SPATIAL, &n);
    if (s) return s;
    if (n && n != want)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' has %d values, expected %d", name, n, want);
    for (int i = 0; i < want; i++) {
        out[i] = n ? v[i] : def;
        if (out[i] < min)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' has value %lld (at least %lld expected)", name,
                           (long long)out[i], (long long)min);
    }
    return LC_OK;
}

lc_status lc_nn_geom_init(const lc_node *node, int nsp, const int64_t *in_sp, const int64_t *kernel, bool ceil_mode,
                          lc_nn_geom *g)
{
    lc_status s;
    int64_t k[3], st[3], dl[3], pads[6];
    int mode;
    memset(g, 0, sizeof *g);
    if (nsp < 1 || nsp > LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "%d spatial axes (1 to %d supported)", nsp, LC_NN_MAX_SPATIAL);
    if (kernel) memcpy(k, kernel, (size_t)nsp * sizeof *k);
    else {
        int n;
        if ((s = lc_attr_ints(node, "kernel_shape", k, 3, &n))) return s;
        if (n != nsp)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "kernel_shape has %d values, input has %d spatial axes", n, nsp);
    }
    for (int i = 0; i < nsp; i++)
        if (k[i] < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "kernel size %lld must be positive", (long long)k[i]);
    if ((s = read_axes_attr(node, "strides", nsp, 1, 1, st))) return s;
    if ((s = read_axes_attr(node, "dilations", nsp, 1, 1, dl))) return s;
    if ((s = read_axes_attr(node, "pads", 2 * nsp, 0, 0, pads))) return s;
    if ((s = lc_nn_auto_pad(node, &mode))) return s;

    g->nsp = nsp;
    int off = 3 - nsp;
    for (int i = 0; i < 3; i++) {
        g->in[i] = g->out[i] = g->k[i] = g->stride[i] = g->dil[i] = 1;
        g->pad_b[i] = g->pad_e[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = off + i;
        int64_t in = in_sp[i], ek = (k[i] - 1) * dl[i] + 1, out, pb = 0, pe = 0;
        if (mode == LC_PAD_SAME_UPPER || mode == LC_PAD_SAME_LOWER) {
            out = (in + st[i] - 1) / st[i];
            int64_t total = (out - 1) * st[i] + ek - in;
            if (total < 0) total = 0;
            if (mode == LC_PAD_SAME_UPPER) pb = total / 2;
            else pb = total - total / 2;
            pe = total - pb;
        } else {
            if (mode == LC_PAD_NOTSET) {
                pb = pads[i];
                pe = pads[nsp + i];
            }
            int64_t span = in + pb + pe - ek;
            if (span < 0)
                return lc_fail(LC_ERR_SHAPE, "window %lld (dilated) exceeds padded input %lld on spatial axis %d",
                               (long long)ek, (long long)(in + pb + pe), i);
            if (ceil_mode) {
                out = (span + st[i] - 1) / st[i] + 1;
                /* the last window must start inside the input or its
                 * leading padding, as in PyTorch and ONNX Runtime */
                if ((out - 1) * st[i] >= in + pb) out--;
            } else out = span / st[i] + 1;
        }
        if (in < 1 || out < 1)
            return lc_fail(LC_ERR_SHAPE, "spatial axis %d: input size %lld gives output size %lld", i, (long long)in,
                           (long long)out);
        g->in[j] = in;
        g->out[j] = out;
        g->k[j] = k[i];
        g->stride[j] = st[i];
        g->dil[j] = dl[i];
        g->pad_b[j] = pb;
        g->pad_e[j] = pe;
    }
    g->in_size = g->in[0] * g->in[1] * g->in[2];
    g->out_size = g->out[0] * g->out[1] * g->out[2];
    g->k_size = g->k[0] * g->k[1] * g->k[2];
    return LC_OK;
}

void lc_nn_valid_range(int64_t n_out, int64_t n_in, int64_t stride, int64_t off, int64_t *lo, int64_t *hi)
{
    int64_t l = 0, h;
    if (off < 0) l = (-off + stride - 1) / stride;
    if (n_in - 1 - off < 0) h = 0;
    else h = (n_in - 1 - off) / stride + 1;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* im2col rows are short (7 to 112 floats): fixed-size chunk copies and
 * fills that the compiler inlines beat a memcpy/memset call per row, so
 * GCC must not turn these loops back into such calls. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
static inline void copy_floats(float *restrict dst, const float *restrict src, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) memcpy(dst + i, src + i, 8 * sizeof *dst);
    if (i + 4 <= n) {
        memcpy(dst + i, src + i, 4 * sizeof *dst);
        i += 4;
    }
    for (; i < n; i++) dst[i] = src[i];
}

static inline void zero_floats(float *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) memset(dst + i, 0, 8 * sizeof *dst);
    for (; i < n; i++) dst[i] = 0.0f;
}

/* The 2-D case (no depth axis): per (channel, kh, kw) row of `col`, the
 * output rows whose window row falls in the padding are zeroed as one
 * block, and each other row is zeros | copy | zeros with the valid column
 * range computed once. Copies and fills are inline: the rows are short, and
 * calls to memcpy/memset would dominate. */
static void im2col_2d(const lc_nn_geom *g, int64_t c, const float *x, float *col, int64_t ld)
{
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t sh = g->stride[1], sw = g->stride[2];
    for (int64_t ci = 0; ci < c; ci++) {
        const float *xc = x + ci * H * W;
        for (int64_t kh = 0; kh < g->k[1]; kh++) {
            const int64_t hoff = kh * g->dil[1] - g->pad_b[1];
            int64_t hlo, hhi;
            lc_nn_valid_range(OH, H, sh, hoff, &hlo, &hhi);
            for (int64_t kw = 0; kw < g->k[2]; kw++, col += ld) {
                const int64_t woff = kw * g->dil[2] - g->pad_b[2];
                int64_t lo, hi;
                lc_nn_valid_range(OW, W, sw, woff, &lo, &hi);
                zero_floats(col, hlo * OW);
                for (int64_t oh = hlo; oh < hhi; oh++) {
                    float *dst = col + oh * OW;
                    const float *src = xc + (oh * sh + hoff) * W + woff;
                    for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    if (sw == 1) copy_floats(dst + lo, src + lo, hi - lo);
                    else
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw];
                    for (int64_t ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
                }
                zero_floats(col + hhi * OW, (OH - hhi) * OW);
            }
        }
    }
}

void lc_nn_im2col(const lc_nn_geom *g, int64_t c, const float *x, float *col, int64_t ld)
{
    if (g->in[0] == 1 && g->k[0] == 1 && g->out[0] == 1 && g->pad_b[0] == 0) {
        im2col_2d(g, c, x, col, ld);
        return;
    }
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    for (int64_t ci = 0; ci < c; ci++) {
        const float *xc = x + ci * D * H * W;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
            for (int64_t kh = 0; kh < g->k[1]; kh++)
                for (int64_t kw = 0; kw < g->k[2]; kw++) {
                    int64_t woff = kw * g->dil[2] - g->pad_b[2], lo, hi;
                    lc_nn_valid_range(OW, W, g->stride[2], woff, &lo, &hi);
                    float *row_start = col;
                    for (int64_t od = 0; od < OD; od++) {
                        int64_t id = od * g->stride[0] - g->pad_b[0] + kd * g->dil[0];
                        for (int64_t oh = 0; oh < OH; oh++, col += OW) {
                            int64_t ih = oh * g->stride[1] - g->pad_b[1] + kh * g->dil[1];
                            if (id < 0 || id >= D || ih < 0 || ih >= H) {
                                memset(col, 0, (size_t)OW * sizeof *col);
                                continue;
                            }
                            const float *src = xc + (id * H + ih) * W;
                            int64_t ow = 0;
                            for (; ow < lo; ow++) col[ow] = 0;
                            if (g->stride[2] == 1 && hi > lo)
                                copy_floats(col + lo, src + lo + woff, hi - lo);
                            else
                                for (ow = lo; ow < hi; ow++) col[ow] = src[ow * g->stride[2] + woff];
                            for (ow = hi; ow < OW; ow++) col[ow] = 0;
                        }
                    }
                    col = row_start + ld;
                }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* ---- fused epilogue ---- */

/* Eight floats (one AVX register, two SSE ones in the generic build).
 * The helpers taking or returning them are always inlined, so the ABI
 * note GCC gives for 32-byte vectors without AVX does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v8f splat8(float x)
{
    return (v8f){x, x, x, x, x, x, x, x};
}

static inline __attribute__((always_inline)) v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* a where mask, else b */
static inline __attribute__((always_inline)) v8f select8(v8i mask, v8f a, v8f b)
{
    return (v8f)((mask & (v8i)a) | (~mask & (v8i)b));
}

/* One loop per activation so the loop body has no branch on it. */
#define EPI_LOOP(VEXPR, SEXPR)                                                                               \
    do {                                                                                                     \
        int64_t i = 0;                                                                                       \
        for (; i + 8 <= n; i += 8) {                                                                         \
            v8f x = load8(src + i) + vb;                                                                     \
            if (r) x += load8(r + i);                                                                        \
            x = VEXPR;                                                                                       \
            memcpy(dst + i, &x, sizeof x);                                                                   \
        }                                                                                                    \
        for (; i < n; i++) {                                                                                 \
            float x = src[i] + b;                                                                            \
            if (r) x += r[i];                                                                                \
            dst[i] = SEXPR;                                                                                  \
        }                                                                                                    \
    } while (0)

static inline __attribute__((always_inline)) void epilogue_body(float *dst, const float *src, int64_t n, float b,
                                                                const float *r, const lc_nn_epilogue *e)
{
    const v8f zero = {0}, vb = splat8(b);
    switch (e ? e->act : LC_NN_ACT_NONE) {
    case LC_NN_ACT_RELU: EPI_LOOP(select8(x < zero, zero, x), x < 0 ? 0.0f : x); break;
    case LC_NN_ACT_CLIP: {
        const float lo = e->lo, hi = e->hi;
        const v8f vlo = splat8(lo), vhi = splat8(hi);
        EPI_LOOP((x = select8(x < vlo, vlo, x), select8(x > vhi, vhi, x)), (x = x < lo ? lo : x, x > hi ? hi : x));
        break;
    }
    case LC_NN_ACT_LEAKY: {
        const float al = e->alpha;
        EPI_LOOP(select8(x < zero, x * al, x), x < 0 ? x * al : x);
        break;
    }
    default: EPI_LOOP(x, x); break;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static void epilogue_avx2(float *dst, const float *src, int64_t n, float b,
                                                              const float *r, const lc_nn_epilogue *e)
{
    epilogue_body(dst, src, n, b, r, e);
}
#endif

void lc_nn_epilogue_row(float *dst, const float *src, int64_t n, float b, const float *r, const lc_nn_epilogue *e)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (lc_nn_have_avx2()) {
        epilogue_avx2(dst, src, n, b, r, e);
        return;
    }
#endif
    epilogue_body(dst, src, n, b, r, e);
}

/* The widest SIMD level this CPU has, capped by the environment variable
 * LC_ISA (generic, avx2 or avx512; unset or anything else: no cap), so
 * that every kernel variant can be run, and tested, on one machine.
 * avx512 means AVX-512 F/VL/BW/DQ plus FMA; avx2 means AVX2 plus FMA. */
int lc_nn_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int isa = -1; /* racy but idempotent: every thread computes the same value */
    if (isa < 0) {
        int have = LC_ISA_GENERIC, cap = LC_ISA_AVX512;
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            have = LC_ISA_AVX2;
            if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
                have = LC_ISA_AVX512;
        }
        const char *env = getenv("LC_ISA");
        if (env && !strcmp(env, "generic")) cap = LC_ISA_GENERIC;
        else if (env && !strcmp(env, "avx2")) cap = LC_ISA_AVX2;
        isa = have < cap ? have : cap;
    }
    return isa;
#else
    return LC_ISA_GENERIC;
#endif
}

const char *lc_nn_isa_name(int isa)
{
    return isa == LC_ISA_AVX512 ? "avx512" : isa == LC_ISA_AVX2 ? "avx2" : "generic";
}

bool lc_nn_have_avx2(void) { return lc_nn_isa() >= LC_ISA_AVX2; }

/* ---- Softmax / LogSoftmax ---- */

typedef struct softmax_state {
    int64_t outer, n, inner; /* X as [outer, n, inner], reduced over n */
    float *acc;              /* 2 * inner scratch values when inner > 1 */
} softmax_state;

void lc_nn_softmax_free(void *state)
{
    softmax_state *st = state;
    if (!st) return;
    free(st->acc);
    free(st);
}

lc_status lc_nn_softmax_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    if ((s = lc_nn_need_float(x, "input"))) return s;
    const bool coerce = a->opset < 13;
    int axis;
    if ((s = lc_norm_axis(lc_node_attr_int(a->node, "axis", coerce ? 1 : -1), x->ndim, "axis", &axis))) return s;
    softmax_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->outer = lc_shape_numel(axis, x->dims, 0);
    if (coerce) {
        st->n = lc_shape_numel(x->ndim - axis, x->dims + axis, 0);
        st->inner = 1;
    } else {
        st->n = x->ndim ? x->dims[axis] : 1;
        st->inner = lc_shape_numel(x->ndim - axis - 1, x->dims + axis + 1, 0);
    }
    if (st->inner > 1 && !(st->acc = malloc((size_t)(2 * st->inner) * sizeof *st->acc))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, x->dims))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    lc_nn_softmax_free(st);
    return s;
}

lc_status lc_nn_softmax_run(lc_kernel_args *a, bool log)
{
    const softmax_state *st = a->state;
    const float *x = a->in[0]->data;
    float *y = a->out[0]->data;
    const int64_t n = st->n, inner = st->inner;
    if (n == 0) return LC_OK;
    for (int64_t o = 0; o < st->outer; o++) {
        const float *xb = x + o * n * inner;
        float *yb = y + o * n * inner;
        if (inner == 1) {
            float mx = xb[0];
            for (int64_t i = 1; i < n; i++)
                if (xb[i] > mx) mx = xb[i];
            double sum = 0;
            for (int64_t i = 0; i < n; i++) {
                float e = expf(xb[i] - mx);
                sum += e;
                if (!log) yb[i] = e;
            }
            if (log) {
                const float ls = (float)logf((float)sum);
                for (int64_t i = 0; i < n; i++) yb[i] = xb[i] - mx - ls;
            } else {
                const float r = (float)(1.0 / sum);
                for (int64_t i = 0; i < n; i++) yb[i] *= r;
            }
            continue;
        }
        /* reduce over the middle axis with contiguous inner rows */
        float *mx = st->acc, *sum = st->acc + inner;
        for (int64_t j = 0; j < inner; j++) {
            mx[j] = xb[j];
            sum[j] = 0.0f;
        }
        for (int64_t i = 1; i < n; i++)
            for (int64_t j = 0; j < inner; j++)
                if (xb[i * inner + j] > mx[j]) mx[j] = xb[i * inner + j];
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < inner; j++) {
                float e = expf(xb[i * inner + j] - mx[j]);
                sum[j] += e;
                if (!log) yb[i * inner + j] = e;
            }
        if (log) {
            for (int64_t j = 0; j < inner; j++) sum[j] = mx[j] + logf(sum[j]);
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < inner; j++) yb[i * inner + j] = xb[i * inner + j] - sum[j];
        } else {
            for (int64_t j = 0; j < inner; j++) sum[j] = 1.0f / sum[j];
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < inner; j++) yb[i * inner + j] *= sum[j];
        }
    }
    return LC_OK;
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

lc_status lc_nn_qparams_init(lc_kernel_args *a, const lc_value *data, lc_nn_qparams *q)
{
    lc_status s;
    const lc_value *scale = a->n_in > 1 ? a->in[1] : NULL, *zero = a->n_in > 2 ? a->in[2] : NULL;
    memset(q, 0, sizeof *q);
    if (!scale) return lc_fail(LC_ERR_INVALID_ARGUMENT, "the scale input is missing");
    if ((s = lc_nn_need_float(scale, "scale"))) return s;
    const int64_t total = lc_value_numel(data), ns = lc_value_numel(scale);
    if (ns == 1 && scale->ndim <= 1) {
        q->outer = 1;
        q->channels = 1;
        q->inner = total;
    } else {
        int axis;
        if (a->opset < 13 || scale->ndim != 1)
            return lc_fail(LC_ERR_SHAPE, "scale has shape [%s]; a scalar%s is expected",
                           lc_dims_str(scale->ndim, scale->dims), a->opset < 13 ? "" : " or a 1-D tensor");
        if ((s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 1), data->ndim, "axis", &axis))) return s;
        if (data->dims[axis] != ns)
            return lc_fail(LC_ERR_SHAPE, "scale has %lld values, axis %d has size %lld", (long long)ns, axis,
                           (long long)data->dims[axis]);
        q->outer = lc_shape_numel(axis, data->dims, 0);
        q->channels = ns;
        q->inner = lc_shape_numel(data->ndim - axis - 1, data->dims + axis + 1, 0);
    }
    if (zero) {
        if (lc_value_numel(zero) != ns || zero->ndim != scale->ndim)
            return lc_fail(LC_ERR_SHAPE, "zero point has shape [%s], scale [%s]", lc_dims_str(zero->ndim, zero->dims),
                           lc_dims_str(scale->ndim, scale->dims));
        q->zero_dtype = zero->dtype;
    }
    return LC_OK;
}

/* ---- pooling window tables ---- */

lc_status lc_nn_taps_init(const lc_nn_geom *g, lc_nn_taps *t)
{
    memset(t, 0, sizeof *t);
    for (int a = 0; a < 3; a++) {
        const int64_t n = g->out[a], st = g->stride[a], pb = g->pad_b[a], dil = g->dil[a], k = g->k[a];
        const int64_t in = g->in[a], pe = g->pad_e[a];
        int64_t *buf = malloc((size_t)(4 * n) * sizeof *buf);
        if (!buf) {
            lc_nn_taps_clear(t);
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
        t->start[a] = buf;
        t->lo[a] = buf + n;
        t->hi[a] = buf + 2 * n;
        t->padded[a] = buf + 3 * n;
        for (int64_t o = 0; o < n; o++) {
            int64_t s = o * st - pb, l = 0, h, cnt = 0;
            if (s < 0) l = (-s + dil - 1) / dil;
            h = in - 1 - s < 0 ? 0 : (in - 1 - s) / dil + 1;
            if (h > k) h = k;
            if (l > h) l = h;
            for (int64_t tp = 0; tp < k; tp++) {
                int64_t pos = s + tp * dil;
                if (pos >= -pb && pos < in + pe) cnt++;
            }
            t->start[a][o] = s;
            t->lo[a][o] = l;
            t->hi[a][o] = h;
            t->padded[a][o] = cnt;
        }
    }
    return LC_OK;
}

void lc_nn_taps_clear(lc_nn_taps *t)
{
    for (int a = 0; a < 3; a++) free(t->start[a]);
    memset(t, 0, sizeof *t);
}
