/* Conv: 1-D, 2-D and 3-D convolution with groups, dilations, strides, pads
 * and auto_pad. Fast path: a direct loop for depthwise convolutions, the
 * input itself as the GEMM operand for 1x1 stride-1 unpadded ones, im2col
 * + sgemm otherwise (per image and group). lc_conv_ref is the oracle. */
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "lc_nn.h"

static bool is_pointwise(const lc_nn_geom *g)
{
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->stride[i] != 1 || g->pad_b[i] || g->pad_e[i]) return false;
    return true;
}

/* One input channel per group, and no real depth axis (1-D and 2-D, or a
 * 3-D conv whose depth is a single unpadded slice). */
static bool is_depthwise(const lc_nn_geom *g, int64_t c, int64_t group)
{
    return group == c && c > 1 && g->in[0] == 1 && g->k[0] == 1 && g->out[0] == 1 && g->pad_b[0] == 0;
}

/* Depthwise scratch: the zero-padded input plane of one channel, split by
 * column phase (column j goes to plane j % stride_w at index j / stride_w)
 * so every tap of a strided row reads contiguous memory, and wide enough
 * for whole 8-output vectors (the output row rounded up to 8), so the inner
 * loops need no bounds checks and no scalar tail. */
typedef struct dw_layout {
    int64_t rows;   /* padded rows */
    int64_t width;  /* floats per row of one phase plane */
    int64_t phases; /* stride_w */
    int64_t ow8;    /* output row rounded up to a multiple of 8 */
} dw_layout;

static dw_layout dw_layout_of(const lc_nn_geom *g)
{
    dw_layout l;
    l.rows = (g->out[1] - 1) * g->stride[1] + (g->k[1] - 1) * g->dil[1] + 1;
    l.phases = g->stride[2];
    l.ow8 = (g->out[2] + 7) / 8 * 8;
    l.width = l.ow8 + (g->k[2] - 1) * g->dil[2] / l.phases + 1;
    return l;
}

static int64_t dw_scratch_floats(const lc_nn_geom *g)
{
    const dw_layout l = dw_layout_of(g);
    return l.rows * l.width * l.phases + 16; /* + two output vectors */
}

/* Images per GEMM: small outputs (deep layers, small inputs) make thin
 * matrices, so several images share one sgemm, their im2col columns side
 * by side, as long as the column buffer stays moderate. Measured with
 * OpenBLAS: a clear gain below ~256 output positions, a loss above, and
 * none for 1x1 convolutions (which would need a copy of the input). */
static int64_t images_per_gemm(const lc_nn_geom *g, int64_t n, int64_t cg)
{
    const int64_t P = g->out_size, K = cg * g->k_size;
    int64_t nb = 1;
    if (is_pointwise(g)) return 1;
    while (nb < n && nb * P < 256 && 2 * nb * P * K <= ((int64_t)1 << 22)) nb++;
    return nb;
}

static bool use_igemm(const lc_nn_geom *g, int64_t c, int64_t group);
static int64_t igemm_scratch_floats(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group);

int64_t lc_conv_scratch_floats(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group)
{
    if (is_depthwise(g, c, group)) return dw_scratch_floats(g);
    if (use_igemm(g, c, group)) return igemm_scratch_floats(g, c, m, group);
    const int64_t cg = c / group, nb = images_per_gemm(g, n, cg);
    if (nb > 1) return nb * g->out_size * (cg * g->k_size + m / group);
    if (is_pointwise(g)) return 0;
    return cg * g->k_size * g->out_size;
}

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

static inline __attribute__((always_inline)) v8f select8(v8i mask, v8f a, v8f b)
{
    return (v8f)((mask & (v8i)a) | (~mask & (v8i)b));
}

/* The activation of an epilogue on 8 values (same NaN behaviour as the
 * unfused kernels, see lc_nn_epilogue). */
static inline __attribute__((always_inline)) v8f act8(v8f x, const lc_nn_epilogue *e)
{
    const v8f zero = {0};
    switch (e->act) {
    case LC_NN_ACT_RELU: return select8(x < zero, zero, x);
    case LC_NN_ACT_CLIP: {
        const v8f lo = splat8(e->lo), hi = splat8(e->hi);
        x = select8(x < lo, lo, x);
        return select8(x > hi, hi, x);
    }
    case LC_NN_ACT_LEAKY: return select8(x < zero, x * e->alpha, x);
    default: return x;
    }
}

/* Copies one channel into its phase planes (see dw_layout), zeros around. */
static void dw_pad(const lc_nn_geom *g, const dw_layout *l, const float *x, float *xp)
{
    const int64_t H = g->in[1], W = g->in[2], pt = g->pad_b[1], pl = g->pad_b[2], s = l->phases;
    const int64_t plane = l->rows * l->width;
    for (int64_t r = 0; r < l->rows; r++) {
        const int64_t ih = r - pt;
        for (int64_t ph = 0; ph < s; ph++) {
            float *dst = xp + ph * plane + r * l->width;
            if (ih < 0 || ih >= H) {
                memset(dst, 0, (size_t)l->width * sizeof *dst);
                continue;
            }
            const float *src = x + ih * W;
            /* dst[q] holds padded column q * s + ph, input column q * s + ph - pl */
            int64_t q = 0;
            for (; q < l->width && q * s + ph - pl < 0; q++) dst[q] = 0.0f;
            if (s == 1) {
                int64_t cnt = W - (q - pl);
                if (cnt > l->width - q) cnt = l->width - q;
                if (cnt > 0) {
                    memcpy(dst + q, src + q - pl, (size_t)cnt * sizeof *dst);
                    q += cnt;
                }
            } else
                for (; q < l->width && q * s + ph - pl < W; q++) dst[q] = src[q * s + ph - pl];
            for (; q < l->width; q++) dst[q] = 0.0f;
        }
    }
}

/* One output channel of a 2-D (or 1-D) depthwise convolution from its
 * phase planes; y gets act(conv + b), or conv + b alone when `act` is
 * false (a residual follows). */
static inline __attribute__((always_inline)) void dw_body(const lc_nn_geom *g, const dw_layout *l,
                                                          const float *restrict xp, const float *restrict w, float b,
                                                          const lc_nn_epilogue *e, float *restrict y, float *tail)
{
    const int64_t OH = g->out[1], OW = g->out[2], KH = g->k[1], KW = g->k[2];
    const int64_t sh = g->stride[1], s = l->phases, dh = g->dil[1], dw = g->dil[2];
    const int64_t plane = l->rows * l->width;
    const v8f vb = splat8(b);
    for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = y + oh * OW;
        int64_t ow = 0;
        for (; ow + 16 <= l->ow8; ow += 16) {
            v8f a0 = vb, a1 = vb;
            for (int64_t kh = 0; kh < KH; kh++) {
                const float *xr = xp + (oh * sh + kh * dh) * l->width + ow;
                for (int64_t kw = 0; kw < KW; kw++) {
                    const int64_t t = kw * dw;
                    const float *xs = xr + (t % s) * plane + t / s;
                    const float wv = w[kh * KW + kw];
                    a0 += wv * load8(xs);
                    a1 += wv * load8(xs + 8);
                }
            }
            a0 = act8(a0, e);
            a1 = act8(a1, e);
            if (ow + 16 <= OW) {
                memcpy(yr + ow, &a0, sizeof a0);
                memcpy(yr + ow + 8, &a1, sizeof a1);
            } else {
                memcpy(tail, &a0, sizeof a0);
                memcpy(tail + 8, &a1, sizeof a1);
                memcpy(yr + ow, tail, (size_t)(OW - ow) * sizeof *yr);
            }
        }
        for (; ow < l->ow8; ow += 8) {
            v8f a0 = vb;
            for (int64_t kh = 0; kh < KH; kh++) {
                const float *xr = xp + (oh * sh + kh * dh) * l->width + ow;
                for (int64_t kw = 0; kw < KW; kw++) {
                    const int64_t t = kw * dw;
                    a0 += w[kh * KW + kw] * load8(xr + (t % s) * plane + t / s);
                }
            }
            a0 = act8(a0, e);
            if (ow + 8 <= OW) memcpy(yr + ow, &a0, sizeof a0);
            else {
                memcpy(tail, &a0, sizeof a0);
                memcpy(yr + ow, tail, (size_t)(OW - ow) * sizeof *yr);
            }
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static void dw_avx2(const lc_nn_geom *g, const dw_layout *l, const float *xp,
                                                        const float *w, float b, const lc_nn_epilogue *e, float *y,
                                                        float *tail)
{
    dw_body(g, l, xp, w, b, e, y, tail);
}
#endif

static void dw_generic(const lc_nn_geom *g, const dw_layout *l, const float *xp, const float *w, float b,
                       const lc_nn_epilogue *e, float *y, float *tail)
{
    dw_body(g, l, xp, w, b, e, y, tail);
}

static void conv_depthwise(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, const float *x, const float *w,
                           const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                           float *scratch)
{
    const int64_t mult = m / c, P = g->out_size;
    const dw_layout l = dw_layout_of(g);
    float *tail = scratch + l.rows * l.width * l.phases;
    /* with a residual the activation comes after the addition */
    const lc_nn_epilogue none = {0}, *in_loop = residual ? &none : e;
    void (*fn)(const lc_nn_geom *, const dw_layout *, const float *, const float *, float, const lc_nn_epilogue *,
               float *, float *) = dw_generic;
#if defined(__x86_64__) && defined(__GNUC__)
    if (lc_nn_have_avx2()) fn = dw_avx2;
#endif
    for (int64_t img = 0; img < n; img++)
        for (int64_t ci = 0; ci < c; ci++) {
            dw_pad(g, &l, x + (img * c + ci) * g->in_size, scratch);
            for (int64_t mi = 0; mi < mult; mi++) {
                const int64_t oc = ci * mult + mi;
                float *yc = y + (img * m + oc) * P;
                fn(g, &l, scratch, w + oc * g->k_size, bias ? bias[oc] : 0.0f, in_loop, yc, tail);
                if (residual) lc_nn_epilogue_row(yc, yc, P, 0.0f, residual + (img * m + oc) * P, e);
            }
        }
}


/* ---- implicit GEMM: direct convolution without OpenBLAS ----
 *
 * Y[m, p] = sum_k W[m, k] * B[k, p], where row k of B (one tap: input
 * channel ci, kernel offset kh, kw) is never materialized when the stride
 * is 1: for output row oh it is the padded input plane of ci read from
 * (oh + kh * dil_h, kw * dil_w) on, so B[k, oh, ow] = xpad[off[k] + oh * PW
 * + ow] with a per-tap offset. 1x1 convolutions read the input itself;
 * strided ones read an im2col matrix (off[k] = k * P). The micro-kernels
 * keep a 6 x 16 (or 12 x 8) block of Y in registers over the whole K and
 * apply the epilogue (bias, residual, activation) when they store it, so Y
 * is written once: no packing of B, no beta pass, no separate bias pass. */

#define IG_MR 6 /* rows of W per packed panel */

typedef struct ig_plan {
    int64_t K;        /* taps per output channel (cg * k_size) */
    int64_t rows;     /* output rows per image (1 when columns are flat) */
    int64_t len;      /* output columns per row */
    int64_t pitch;    /* B's step between output rows */
    int64_t panels;   /* packed panels per group (even) */
    bool padded;      /* stride 1: B is the padded input */
    bool pointwise;   /* B is the input itself */
    int64_t ph, pw;   /* padded plane */
} ig_plan;

static bool use_igemm(const lc_nn_geom *g, int64_t c, int64_t group)
{
    (void)c, (void)group;
    /* no real depth axis (1-D and 2-D) */
    return g->in[0] == 1 && g->k[0] == 1 && g->out[0] == 1 && g->pad_b[0] == 0;
}

static ig_plan ig_plan_of(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group)
{
    ig_plan pl;
    const int64_t cg = c / group, mg = m / group;
    pl.K = cg * g->k_size;
    pl.panels = (mg + IG_MR - 1) / IG_MR;
    pl.panels += pl.panels & 1;
    pl.pointwise = is_pointwise(g);
    pl.padded = !pl.pointwise && g->stride[1] == 1 && g->stride[2] == 1;
    pl.ph = g->in[1] + g->pad_b[1] + g->pad_e[1];
    pl.pw = g->in[2] + g->pad_b[2] + g->pad_e[2];
    if (pl.padded) {
        pl.rows = g->out[1];
        pl.len = g->out[2];
        pl.pitch = pl.pw;
    } else {
        pl.rows = 1;
        pl.len = g->out_size;
        pl.pitch = 0;
    }
    return pl;
}

/* B's buffer (padded input or im2col), with slack for the reads of a
 * partial last block. */
static int64_t ig_b_floats(const lc_nn_geom *g, const ig_plan *pl, int64_t c)
{
    if (pl->pointwise) return 0;
    if (pl->padded) return c * pl->ph * pl->pw + 32;
    return pl->K * g->out_size + 32;
}

static int64_t igemm_scratch_floats(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group)
{
    const ig_plan pl = ig_plan_of(g, c, m, group);
    return group * pl.panels * IG_MR * pl.K /* packed weights */ + 2 * pl.K /* two offset tables */ +
           16 * pl.K /* tail copy */ + ig_b_floats(g, &pl, c) + 16;
}

static inline __attribute__((always_inline)) float act1(float x, const lc_nn_epilogue *e)
{
    switch (e->act) {
    case LC_NN_ACT_RELU: return x < 0 ? 0.0f : x;
    case LC_NN_ACT_CLIP: x = x < e->lo ? e->lo : x; return x > e->hi ? e->hi : x;
    case LC_NN_ACT_LEAKY: return x < 0 ? x * e->alpha : x;
    default: return x;
    }
}

/* Stores one row of a register block: `w` valid columns of act(acc + b + r). */
static inline __attribute__((always_inline)) void ig_store(float *y, const float *r, int64_t w, int nv, const v8f *acc,
                                                           float b, const lc_nn_epilogue *e)
{
    v8f v[2];
    for (int j = 0; j < nv; j++) v[j] = acc[j] + splat8(b);
    if (w == 8 * nv) {
        for (int j = 0; j < nv; j++) {
            if (r) v[j] += load8(r + 8 * j);
            v[j] = act8(v[j], e);
            memcpy(y + 8 * j, &v[j], sizeof v[j]);
        }
        return;
    }
    float t[16];
    memcpy(t, v, (size_t)nv * sizeof v[0]);
    for (int64_t i = 0; i < w; i++) y[i] = act1(r ? t[i] + r[i] : t[i], e);
}

/* A 6 x 16 block: rows of panel `a` (K x 6), columns b[off[k] + 0..15]. */
static inline __attribute__((always_inline)) void ig_block16(int64_t K, const float *restrict a,
                                                             const int32_t *restrict off, const float *b, v8f *acc)
{
    v8f c00 = {0}, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00,
        c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < K; k++, a += IG_MR) {
        const float *bk = b + off[k];
        const v8f b0 = load8(bk), b1 = load8(bk + 8);
        v8f a0 = splat8(a[0]);
        c00 += a0 * b0, c01 += a0 * b1;
        a0 = splat8(a[1]);
        c10 += a0 * b0, c11 += a0 * b1;
        a0 = splat8(a[2]);
        c20 += a0 * b0, c21 += a0 * b1;
        a0 = splat8(a[3]);
        c30 += a0 * b0, c31 += a0 * b1;
        a0 = splat8(a[4]);
        c40 += a0 * b0, c41 += a0 * b1;
        a0 = splat8(a[5]);
        c50 += a0 * b0, c51 += a0 * b1;
    }
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
    acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
}

/* A 12 x 8 block: rows of panels `a` and `a2`, columns b[off[k] + 0..7]. */
static inline __attribute__((always_inline)) void ig_block8(int64_t K, const float *restrict a,
                                                            const float *restrict a2, const int32_t *restrict off,
                                                            const float *b, v8f *acc)
{
    v8f c0 = {0}, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0,
        c11 = c0;
    for (int64_t k = 0; k < K; k++, a += IG_MR, a2 += IG_MR) {
        const v8f b0 = load8(b + off[k]);
        c0 += splat8(a[0]) * b0, c1 += splat8(a[1]) * b0, c2 += splat8(a[2]) * b0;
        c3 += splat8(a[3]) * b0, c4 += splat8(a[4]) * b0, c5 += splat8(a[5]) * b0;
        c6 += splat8(a2[0]) * b0, c7 += splat8(a2[1]) * b0, c8 += splat8(a2[2]) * b0;
        c9 += splat8(a2[3]) * b0, c10 += splat8(a2[4]) * b0, c11 += splat8(a2[5]) * b0;
    }
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;
    acc[6] = c6, acc[7] = c7, acc[8] = c8, acc[9] = c9, acc[10] = c10, acc[11] = c11;
}

typedef struct ig_args {
    int64_t K, mg, P, rows, len, pitch, panels;
    const float *wp;     /* this group's panels */
    const int32_t *off;  /* tap offsets into B */
    const int32_t *off16; /* k * 16: offsets into `tail` */
    float *tail;         /* K x 16 copy of a block near the end of B */
    const float *b;      /* B for this image and group */
    int64_t b_end;       /* floats of B that may be read (from b) */
    const float *bias;   /* this group's (may be NULL) */
    const float *res;    /* residual for this image and group (may be NULL) */
    float *y;            /* output for this image and group */
    const lc_nn_epilogue *e;
} ig_args;

/* Columns [ow, ow + 16) of B for output row oh, or a copy in `tail` when
 * that would read past b_end. */
static inline __attribute__((always_inline)) const float *ig_cols(const ig_args *g, int64_t oh, int64_t ow,
                                                                  const int32_t **off)
{
    const int64_t base = oh * g->pitch + ow;
    *off = g->off;
    if (base + g->off[g->K - 1] + 16 <= g->b_end) return g->b + base;
    for (int64_t k = 0; k < g->K; k++)
        for (int64_t j = 0; j < 16; j++) {
            const int64_t i = base + g->off[k] + j;
            g->tail[k * 16 + j] = i < g->b_end ? g->b[i] : 0.0f;
        }
    *off = g->off16;
    return g->tail;
}

/* The loop over one image and group; BLOCK16(K, a, off, b, acc) and
 * BLOCK8(K, a, a2, off, b, acc) compute the register blocks. */
#define IG_BODY(g, BLOCK16, BLOCK8)                                                                          \
    do {                                                                                                     \
        v8f acc[12];                                                                                         \
        for (int64_t oh = 0; oh < g->rows; oh++)                                                             \
            for (int64_t ow = 0; ow < g->len;) {                                                             \
                const int64_t left = g->len - ow;                                                            \
                const int wide = left > 8 ? 2 : 1; /* vectors per row of the block */                        \
                const int64_t w = left < 8 * wide ? left : 8 * wide;                                         \
                const int32_t *off;                                                                          \
                const float *b = ig_cols(g, oh, ow, &off);                                                   \
                const int64_t col = oh * g->len + ow;                                                        \
                for (int64_t pnl = 0; pnl < g->panels; pnl += 3 - wide) {                                    \
                    const float *a = g->wp + pnl * IG_MR * g->K;                                             \
                    if (wide == 2) BLOCK16(g->K, a, off, b, acc);                                            \
                    else BLOCK8(g->K, a, a + IG_MR * g->K, off, b, acc);                                     \
                    const int nrow = wide == 2 ? IG_MR : 2 * IG_MR;                                          \
                    for (int r = 0; r < nrow; r++) {                                                         \
                        const int64_t mi = pnl * IG_MR + r;                                                  \
                        if (mi >= g->mg) break;                                                              \
                        ig_store(g->y + mi * g->P + col, g->res ? g->res + mi * g->P + col : NULL, w, wide,  \
                                 acc + r * wide, g->bias ? g->bias[mi] : 0.0f, g->e);                        \
                    }                                                                                        \
                }                                                                                            \
                ow += w;                                                                                     \
            }                                                                                                \
    } while (0)

#if defined(__x86_64__) && defined(__GNUC__)
/* The same blocks with AVX2/FMA intrinsics: GCC at -O2 builds the generic
 * vector code above with broadcasts through the stack. */
__attribute__((target("avx2,fma"))) static inline void ig_block16_avx2(int64_t K, const float *restrict a,
                                                                       const int32_t *restrict off, const float *b,
                                                                       v8f *acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
           c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < K; k++, a += IG_MR) {
        const float *bk = b + off[k];
        const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
        __m256 x = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    const __m256 r[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    memcpy(acc, r, sizeof r);
}

__attribute__((target("avx2,fma"))) static inline void ig_block8_avx2(int64_t K, const float *restrict a,
                                                                      const float *restrict a2,
                                                                      const int32_t *restrict off, const float *b,
                                                                      v8f *acc)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0,
           c9 = c0, c10 = c0, c11 = c0;
    for (int64_t k = 0; k < K; k++, a += IG_MR, a2 += IG_MR) {
        const __m256 b0 = _mm256_loadu_ps(b + off[k]);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, c5);
        c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2), b0, c6);
        c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 1), b0, c7);
        c8 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 2), b0, c8);
        c9 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 3), b0, c9);
        c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 4), b0, c10);
        c11 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 5), b0, c11);
    }
    const __m256 r[12] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    memcpy(acc, r, sizeof r);
}

__attribute__((target("avx2,fma"))) static void ig_run_avx2(const ig_args *g)
{
    IG_BODY(g, ig_block16_avx2, ig_block8_avx2);
}
#endif

static void ig_run_generic(const ig_args *g)
{
    IG_BODY(g, ig_block16, ig_block8);
}

/* Copies one image's channels into zero-padded planes (stride-1 path). */
static void ig_pad(const lc_nn_geom *g, const ig_plan *pl, int64_t c, const float *x, float *xp)
{
    const int64_t H = g->in[1], W = g->in[2], pt = g->pad_b[1], pleft = g->pad_b[2];
    for (int64_t ci = 0; ci < c; ci++)
        for (int64_t r = 0; r < pl->ph; r++) {
            float *dst = xp + (ci * pl->ph + r) * pl->pw;
            const int64_t ih = r - pt;
            if (ih < 0 || ih >= H) {
                memset(dst, 0, (size_t)pl->pw * sizeof *dst);
                continue;
            }
            memset(dst, 0, (size_t)pleft * sizeof *dst);
            memcpy(dst + pleft, x + (ci * H + ih) * W, (size_t)W * sizeof *dst);
            memset(dst + pleft + W, 0, (size_t)(pl->pw - pleft - W) * sizeof *dst);
        }
    memset(xp + c * pl->ph * pl->pw, 0, 32 * sizeof *xp);
}

static void conv_igemm(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x,
                       const float *w, const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                       float *scratch)
{
    const ig_plan pl = ig_plan_of(g, c, m, group);
    const int64_t cg = c / group, mg = m / group, K = pl.K, P = g->out_size;
    float *wp = scratch;
    int32_t *off = (int32_t *)(wp + group * pl.panels * IG_MR * K), *off16 = off + K;
    float *tail = (float *)(off16 + K), *bbuf = tail + 16 * K;
    /* pack W: per group, panels of 6 rows stored k-major, zero rows past mg */
    for (int64_t gi = 0; gi < group; gi++)
        for (int64_t pnl = 0; pnl < pl.panels; pnl++) {
            float *dst = wp + (gi * pl.panels + pnl) * IG_MR * K;
            for (int64_t k = 0; k < K; k++)
                for (int r = 0; r < IG_MR; r++) {
                    const int64_t mi = pnl * IG_MR + r;
                    dst[k * IG_MR + r] = mi < mg ? w[(gi * mg + mi) * K + k] : 0.0f;
                }
        }
    /* tap offsets into B (per group; groups differ by a whole-plane shift) */
    for (int64_t k = 0; k < K; k++) {
        int64_t o;
        if (pl.pointwise) o = k * P;
        else if (pl.padded) {
            const int64_t ci = k / g->k_size, kh = k % g->k_size / g->k[2], kw = k % g->k[2];
            o = (ci * pl.ph + kh * g->dil[1]) * pl.pw + kw * g->dil[2];
        } else o = k * P;
        off[k] = (int32_t)o;
        off16[k] = (int32_t)(k * 16);
    }
    void (*run)(const ig_args *) = ig_run_generic;
#if defined(__x86_64__) && defined(__GNUC__)
    if (lc_nn_have_avx2()) run = ig_run_avx2;
#endif
    for (int64_t img = 0; img < n; img++) {
        const float *ximg = x + img * c * g->in_size;
        if (pl.padded) ig_pad(g, &pl, c, ximg, bbuf);
        for (int64_t gi = 0; gi < group; gi++) {
            ig_args a;
            a.K = K, a.mg = mg, a.P = P, a.rows = pl.rows, a.len = pl.len, a.pitch = pl.pitch, a.panels = pl.panels;
            a.wp = wp + gi * pl.panels * IG_MR * K;
            a.off = off, a.off16 = off16, a.tail = tail;
            if (pl.pointwise) {
                a.b = ximg + gi * cg * g->in_size;
                a.b_end = cg * g->in_size;
            } else if (pl.padded) {
                a.b = bbuf + gi * cg * pl.ph * pl.pw;
                a.b_end = (c - gi * cg) * pl.ph * pl.pw + 32;
            } else {
                lc_nn_im2col(g, cg, ximg + gi * cg * g->in_size, bbuf, P);
                memset(bbuf + K * P, 0, 32 * sizeof *bbuf);
                a.b = bbuf;
                a.b_end = K * P + 32;
            }
            a.bias = bias ? bias + gi * mg : NULL;
            a.res = residual ? residual + (img * m + gi * mg) * P : NULL;
            a.y = y + (img * m + gi * mg) * P;
            a.e = e;
            run(&a);
        }
    }
}

void lc_conv_fast_ex(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x,
                     const float *w, const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                     float *scratch)
{
    const lc_nn_epilogue none = {0};
    if (!e) e = &none;
    if (!e->residual) residual = NULL;
    const int64_t cg = c / group, mg = m / group, K = cg * g->k_size, P = g->out_size;
    if (is_depthwise(g, c, group)) {
        conv_depthwise(g, n, c, m, x, w, bias, residual, e, y, scratch);
        return;
    }
    if (use_igemm(g, c, group)) {
        conv_igemm(g, n, c, m, group, x, w, bias, residual, e, y, scratch);
        return;
    }
    const bool pw = is_pointwise(g);
    const int64_t nb = images_per_gemm(g, n, cg);
    if (nb > 1) {
        /* columns of nb images side by side, product into a staging
         * matrix, then scattered to each image through the epilogue */
        for (int64_t i0 = 0; i0 < n; i0 += nb) {
            const int64_t cnt = n - i0 < nb ? n - i0 : nb, ld = cnt * P;
            float *col = scratch, *prod = scratch + K * ld;
            for (int64_t gi = 0; gi < group; gi++) {
                for (int64_t j = 0; j < cnt; j++) {
                    const float *xg = x + ((i0 + j) * c + gi * cg) * g->in_size;
                    lc_nn_im2col(g, cg, xg, col + j * P, ld);
                }
                lc_sgemm(false, false, mg, ld, K, 1.0f, w + gi * mg * K, K, col, ld, 0.0f, prod, ld);
                for (int64_t j = 0; j < cnt; j++)
                    for (int64_t mi = 0; mi < mg; mi++) {
                        const int64_t off = ((i0 + j) * m + gi * mg + mi) * P;
                        lc_nn_epilogue_row(y + off, prod + mi * ld + j * P, P, bias ? bias[gi * mg + mi] : 0.0f,
                                           residual ? residual + off : NULL, e);
                    }
            }
        }
        return;
    }
    const bool plain = !bias && !residual && e->act == LC_NN_ACT_NONE;
    for (int64_t img = 0; img < n; img++)
        for (int64_t gi = 0; gi < group; gi++) {
            const float *xg = x + (img * c + gi * cg) * g->in_size;
            float *yg = y + (img * m + gi * mg) * P;
            const float *b = xg;
            if (!pw) {
                lc_nn_im2col(g, cg, xg, scratch, P);
                b = scratch;
            }
            /* Column blocks small enough that the block of Y is still in
             * cache when the epilogue (bias, residual, activation) passes
             * over it. */
            int64_t blk = plain ? P : (int64_t)(64 * 1024) / (mg > 0 ? mg : 1);
            blk = blk < 64 ? 64 : blk / 16 * 16;
            if (blk > P) blk = P;
            for (int64_t p0 = 0; p0 < P; p0 += blk) {
                const int64_t nc = P - p0 < blk ? P - p0 : blk;
                lc_sgemm(false, false, mg, nc, K, 1.0f, w + gi * mg * K, K, b + p0, P, 0.0f, yg + p0, P);
                if (plain) continue;
                for (int64_t mi = 0; mi < mg; mi++) {
                    const int64_t off = mi * P + p0;
                    lc_nn_epilogue_row(yg + off, yg + off, nc, bias ? bias[gi * mg + mi] : 0.0f,
                                       residual ? residual + (yg - y) + off : NULL, e);
                }
            }
        }
}

void lc_conv_fast(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                  const float *bias, float *y, float *scratch)
{
    lc_conv_fast_ex(g, n, c, m, group, x, w, bias, NULL, NULL, y, scratch);
}

void lc_conv_ref(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                 const float *bias, float *y)
{
    const int64_t cg = c / group, mg = m / group;
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    for (int64_t img = 0; img < n; img++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = 0; oh < g->out[1]; oh++)
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {
                        double acc = bias ? bias[oc] : 0.0;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t kd = 0; kd < g->k[0]; kd++)
                                for (int64_t kh = 0; kh < g->k[1]; kh++)
                                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                                        int64_t id = od * g->stride[0] - g->pad_b[0] + kd * g->dil[0];
                                        int64_t ih = oh * g->stride[1] - g->pad_b[1] + kh * g->dil[1];
                                        int64_t iw = ow * g->stride[2] - g->pad_b[2] + kw * g->dil[2];
                                        if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                        double xv = x[(((img * c + gi * cg + ci) * D + id) * H + ih) * W + iw];
                                        double wv = w[(((oc * cg + ci) * g->k[0] + kd) * g->k[1] + kh) * g->k[2] + kw];
                                        acc += xv * wv;
                                    }
                        y[(((img * m + oc) * g->out[0] + od) * g->out[1] + oh) * g->out[2] + ow] = (float)acc;
                    }
        }
}

typedef struct conv_state {
    lc_nn_geom g;
    int64_t n, c, m, group;
    float *scratch;
    lc_nn_epilogue epi; /* set by the executor when it fuses */
} conv_state;

lc_status lc_conv_set_epilogue(void *state, const lc_nn_epilogue *e)
{
    conv_state *st = state;
    st->epi = *e;
    return LC_OK;
}

static void conv_free(void *state)
{
    conv_state *st = state;
    if (!st) return;
    free(st->scratch);
    free(st);
}

static lc_status conv_prepare(lc_kernel_args *a)
{
    lc_status s;
    conv_state *st = NULL;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "Conv needs inputs X and W and output Y");
    const lc_value *x = a->in[0], *w = a->in[1], *b = a->n_in > 2 ? a->in[2] : NULL;
    if ((s = lc_nn_need_float(x, "X")) || (s = lc_nn_need_float(w, "W")) || (b && (s = lc_nn_need_float(b, "B"))))
        return s;
    if (x->ndim < 3 || x->ndim > 2 + LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "X has rank %d (3 to %d supported)", x->ndim, 2 + LC_NN_MAX_SPATIAL);
    if (w->ndim != x->ndim) return lc_fail(LC_ERR_SHAPE, "W has rank %d, X has rank %d", w->ndim, x->ndim);
    const int nsp = x->ndim - 2;
    int64_t group = lc_node_attr_int(a->node, "group", 1);
    int64_t n = x->dims[0], c = x->dims[1], m = w->dims[0];
    if (group < 1 || c % group || m % group)
        return lc_fail(LC_ERR_SHAPE, "group %lld does not divide %lld input and %lld output channels", (long long)group,
                       (long long)c, (long long)m);
    if (w->dims[1] != c / group)
        return lc_fail(LC_ERR_SHAPE, "W has %lld input channels per group, X gives %lld", (long long)w->dims[1],
                       (long long)(c / group));
    int64_t ks[3];
    int nk;
    if ((s = lc_attr_ints(a->node, "kernel_shape", ks, 3, &nk))) return s;
    for (int i = 0; i < nk; i++)
        if (nk != nsp || ks[i] != w->dims[2 + i])
            return lc_fail(LC_ERR_SHAPE, "kernel_shape does not match W's shape [%s]", lc_dims_str(w->ndim, w->dims));
    if (b && (b->ndim != 1 || b->dims[0] != m))
        return lc_fail(LC_ERR_SHAPE, "B has shape [%s], expected [%lld]", lc_dims_str(b->ndim, b->dims), (long long)m);

    if (!(st = calloc(1, sizeof *st))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if ((s = lc_nn_geom_init(a->node, nsp, x->dims + 2, w->dims + 2, false, &st->g))) goto fail;
    st->n = n;
    st->c = c;
    st->m = m;
    st->group = group;
    int64_t od[LC_MAX_DIMS] = {n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = st->g.out[3 - nsp + i];
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od))) goto fail;
    int64_t sn = lc_conv_scratch_floats(&st->g, n, c, m, group);
    if (sn > 0 && !(st->scratch = malloc((size_t)sn * sizeof(float)))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory for %lld im2col values", (long long)sn);
        goto fail;
    }
    a->state = st;
    return LC_OK;
fail:
    conv_free(st);
    return s;
}

static lc_status conv_run(lc_kernel_args *a)
{
    const conv_state *st = a->state;
    const lc_value *b = a->n_in > 2 ? a->in[2] : NULL;
    const float *r = st->epi.residual && a->n_in > 3 && a->in[3] ? a->in[3]->data : NULL;
    lc_conv_fast_ex(&st->g, st->n, st->c, st->m, st->group, a->in[0]->data, a->in[1]->data, b ? b->data : NULL, r,
                    &st->epi, a->out[0]->data, st->scratch);
    return LC_OK;
}

const lc_kernel lc_kernel_Conv_1 = {"Conv", 1, conv_prepare, conv_run, conv_free};
