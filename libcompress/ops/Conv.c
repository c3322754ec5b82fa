/* Conv: 1-D, 2-D and 3-D convolution with groups, dilations, strides, pads
 * and auto_pad. Fast path: a direct loop for depthwise convolutions (AVX2
 * and FMA when the CPU has them), the input itself as the GEMM operand for
 * 1x1 stride-1 unpadded ones, im2col + sgemm otherwise (per image and
 * group). Bias, and what the executor fuses (a residual, an activation),
 * are applied in one epilogue pass while the output block is in cache.
 * lc_conv_ref is the oracle. */
#include <stdatomic.h>
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
 * for whole 16-output vectors (the output row rounded up to 16), so the inner
 * loops need no bounds checks and no scalar tail. */
typedef struct dw_layout {
    int64_t rows;   /* padded rows */
    int64_t width;  /* floats per row of one phase plane */
    int64_t phases; /* stride_w */
    int64_t ow16;   /* output row rounded up to a multiple of 16 */
} dw_layout;

static dw_layout dw_layout_of(const lc_nn_geom *g)
{
    dw_layout l;
    l.rows = (g->out[1] - 1) * g->stride[1] + (g->k[1] - 1) * g->dil[1] + 1;
    l.phases = g->stride[2];
    l.ow16 = (g->out[2] + 15) / 16 * 16;
    l.width = l.ow16 + (g->k[2] - 1) * g->dil[2] / l.phases + 1;
    return l;
}

static int64_t dw_scratch_floats(const lc_nn_geom *g)
{
    const dw_layout l = dw_layout_of(g);
    /* + two output vectors + the tap offsets (int64, two floats each) */
    return (l.rows * l.width * l.phases + 1) / 2 * 2 + 16 + 2 * g->k[2];
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

/* Direct convolution (conv_direct) instead of im2col + sgemm: 2-D (or
 * 1-D) kernels larger than 1x1 with few output channels per group, where
 * the column matrix costs as much to build as the thin product that reads
 * it. Measured on the zoo's layers (16 to 64 channels, 7x7 to 28x28
 * outputs): 2-4x faster. */
#define DC_MAX_OUT 256
#define DC_MAX_CHANNELS 256

/* AVX-512 and a stride-1 geometry with rows longer than 8 outputs (an
 * unpadded 1x1 counts as one row of the whole plane): the kernels of
 * conv_avx512.c read the input planes as they are, no padded copy.
 * Shorter rows keep the padded 8-float kernels (16 lanes would mostly
 * compute padding). */
static bool unpadded(const lc_nn_geom *g, lc_conv_s1 *s)
{
    lc_conv_s1 t;
    return lc_nn_isa() >= LC_ISA_AVX512 && lc_conv_s1_of(g, s ? s : &t) && (s ? s : &t)->OW > 8;
}

/* 1x1 convolutions stay with sgemm: the direct AVX-512 kernel on them
 * (blocks of 8 or 16 output channels, 16 or 32 positions) took 1.2-1.9x
 * OpenBLAS's time on dscnn even counting the epilogue pass it saves. */
static bool use_dct(const lc_nn_geom *g, int64_t mg);

static bool use_direct(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group)
{
    const int64_t cg = c / group, mg = m / group;
    /* a strided or padded 1x1 one (a ResNet shortcut) too when the
     * channels-in-lanes kernel takes it: no im2col copy, no epilogue pass */
    return g->in[0] == 1 && g->k[0] == 1 && g->out[0] == 1 && g->pad_b[0] == 0 &&
           (g->k_size > 1 || (!is_pointwise(g) && use_dct(g, mg))) && mg <= DC_MAX_OUT && cg <= DC_MAX_CHANNELS;
}

/* Output channels per register block of the direct kernel (see
 * conv_kernels.inc; one of the instance's DC_OCB_A/B). AVX2 (16
 * registers): 6 when rows take two 8-float vectors or more, 8 for short
 * rows. AVX-512 (32 registers): rows of up to 8 outputs take one 8-float
 * vector and 16 channels, up to 16 outputs one 16-float vector and 16
 * channels, longer rows two vectors and 8 or 12 channels (whichever pads
 * the group's channels less). */
/* AVX-512 and whole blocks of 16 output channels: the direct path runs
 * lc_conv_dct_avx512 (channels in the lanes) on the padded planes. */
static bool use_dct(const lc_nn_geom *g, int64_t mg)
{
    return lc_nn_isa() >= LC_ISA_AVX512 && mg % 16 == 0 && !is_pointwise(g);
}

/* The direct path reads the input in place (see unpadded) */
static bool dc_unpadded(const lc_nn_geom *g, int64_t mg, lc_conv_s1 *s)
{
    return !use_dct(g, mg) && unpadded(g, s);
}

static int64_t dc_ocb(const lc_nn_geom *g, int64_t mg)
{
    lc_conv_s1 s;
    if (lc_nn_isa() < LC_ISA_AVX512) return g->out[2] > 8 ? 6 : 8;
    /* channels in lanes: rows longer than 8 take 16 channels x 14
     * positions (one weight load per 14 FMAs, the block's weights stay in
     * L1; 32 x 7 took 1.35x its time on resnet8's 14x14 layers), short
     * rows the most channels that divide the group */
    if (use_dct(g, mg)) return g->out[2] > 8 ? 16 : mg % 64 == 0 ? 64 : mg % 32 == 0 ? 32 : 16;
    if ((dc_unpadded(g, mg, &s) ? s.OW : g->out[2]) <= 16) return 16;
    return (mg + 11) / 12 * 12 <= (mg + 7) / 8 * 8 ? 12 : 8;
}

/* Direct scratch: the phase planes of every channel of one group (as the
 * depthwise path lays out one), the weights of one group packed by
 * output-channel block (padded with zero rows), the padded biases, two
 * output vectors and the tap offsets. */
static int64_t dc_scratch_floats(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group)
{
    const dw_layout l = dw_layout_of(g);
    const int64_t cg = c / group, mg = m / group, ocb = dc_ocb(g, mg), mpad = (mg + ocb - 1) / ocb * ocb;
    /* + 16: lc_conv_dct_avx512 reads up to 13 floats past the last row */
    const int64_t planes = dc_unpadded(g, mg, NULL) ? 0 : (cg * l.rows * l.width * l.phases + 16 + 1) / 2 * 2;
    return planes + (mpad * cg * g->k_size + mpad + 1) / 2 * 2 + 16 + 2 * g->k[2];
}

int64_t lc_conv_scratch_floats(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group)
{
    if (is_depthwise(g, c, group)) return dw_scratch_floats(g);
    if (use_direct(g, c, m, group)) return dc_scratch_floats(g, c, m, group);
    const int64_t cg = c / group, nb = images_per_gemm(g, n, cg);
    if (nb > 1) return nb * g->out_size * (cg * g->k_size + m / group);
    if (is_pointwise(g)) return 0;
    return cg * g->k_size * g->out_size;
}

/* Copies one channel into its phase planes (see dw_layout). Only the
 * positions that hold input values are written, the same ones for every
 * channel, so the zero border is laid down once per call (conv_depthwise).
 * Rows are short: inline copies, not memcpy calls (and GCC must not turn
 * the loops here and in the kernels below back into calls). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
static void dw_pad(const lc_nn_geom *g, const dw_layout *l, const float *x, float *xp)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (lc_nn_isa() >= LC_ISA_AVX512 &&
        lc_conv_pad_avx512(x, g->in[1], g->in[2], g->pad_b[1], g->pad_b[2], l->rows, l->width, l->phases, xp))
        return;
    if (lc_nn_isa() == LC_ISA_AVX2 &&
        lc_conv_pad_avx2(x, g->in[1], g->in[2], g->pad_b[1], g->pad_b[2], l->rows, l->width, l->phases, xp))
        return;
#endif
    const int64_t H = g->in[1], W = g->in[2], pt = g->pad_b[1], pl = g->pad_b[2], s = l->phases;
    const int64_t plane = l->rows * l->width;
    for (int64_t ih = 0; ih < H && ih + pt < l->rows; ih++) {
        const float *src = x + ih * W;
        if (ih + pt < 0) continue;
        if (s == 1) {
            float *dst = xp + (ih + pt) * l->width + pl;
            int64_t lo = pl < 0 ? -pl : 0, hi = W < l->width - pl ? W : l->width - pl, i = lo;
            for (; i + 8 <= hi; i += 8) memcpy(dst + i, src + i, 8 * sizeof *dst);
            for (; i < hi; i++) dst[i] = src[i];
            continue;
        }
        /* padded column j = iw + pl goes to phase j % s, index j / s;
         * both advance without divisions */
        float *row = xp + (ih + pt) * l->width;
        int64_t ph = pl % s, q = pl / s;
        for (int64_t iw = 0; iw < W && q < l->width; iw++) {
            row[ph * plane + q] = src[iw];
            if (++ph == s) {
                ph = 0;
                q++;
            }
        }
    }
}
/* Kernel instances (conv_kernels.inc), one per instruction set, chosen
 * at run time (lc_nn_isa; the build targets generic x86-64): 8 floats a
 * vector for the generic build (two SSE registers) and AVX2, 16 for
 * AVX-512 plus an 8-float AVX-512 instance for rows of 8 outputs or
 * fewer, where 16 lanes would mostly compute padding. The helpers taking
 * or returning vectors are always inlined, so the ABI note GCC gives for
 * wide vectors does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
/* a where mask, else b */
#define VSELECT(mask, a, b) ((VT)(((mask) & (VI)(a)) | (~(mask) & (VI)(b))))

#define VT v8f
#define VI v8i
#define VL 8
#define SFX(name) name##_generic
#define DC_OCB_A 6
#define DC_OCB_B 8
#include "conv_kernels.inc"
#undef SFX
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SFX(name) name##_avx2
#include "conv_kernels.inc"
#undef SFX
#pragma GCC pop_options
#undef DC_OCB_A
#undef DC_OCB_B
#define DC_OCB_A 8
#define DC_OCB_B 16
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#define SFX(name) name##_avx512y
#include "conv_kernels.inc"
#undef SFX
#undef VT
#undef VI
#undef VL
#undef DC_OCB_A
#undef DC_OCB_B
#define DC_OCB_A 8
#define DC_OCB_B 12
#define DC_OCB_C 16
#define VT v16f
#define VI v16i
#define VL 16
#define VSTORE_PARTIAL(y, a, n) _mm512_mask_storeu_ps(y, (__mmask16)((1u << (n)) - 1), (__m512)(a))
#define SFX(name) name##_avx512
#include "conv_kernels.inc"
#pragma GCC pop_options
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* A 3x3 stride-1 depthwise geometry without dilation (lc_conv_dw3_s1_avx2
 * reads its input in place). */
static bool dw3_s1(const lc_nn_geom *g, lc_conv_s1 *s)
{
    return lc_conv_s1_of(g, s) && s->KH == 3 && s->KW == 3 && s->dh == 1 && s->dw == 1;
}

static void conv_depthwise(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, const float *x, const float *w,
                           const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                           float *scratch)
{
    const int64_t mult = m / c, P = g->out_size;
    const dw_layout l = dw_layout_of(g);
    /* tail vectors after the planes, from an even offset so the int64 tap
     * offsets that follow are aligned */
    float *tail = scratch + (l.rows * l.width * l.phases + 1) / 2 * 2;
    /* with a residual the activation comes after the addition */
    const lc_nn_epilogue none = {0}, *in_loop = residual ? &none : e;
    void (*fn)(const lc_nn_geom *, const dw_layout *, const float *, const float *, float, const lc_nn_epilogue *,
               float *, float *, const int64_t *) = dw_generic;
    /* per kernel column: where its tap starts (phase plane, then index) */
    int64_t *toff = (int64_t *)(tail + 16);
    for (int64_t kw = 0; kw < g->k[2]; kw++) {
        const int64_t t = kw * g->dil[2];
        toff[kw] = t % l.phases * l.rows * l.width + t / l.phases;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    const int isa = lc_nn_isa();
    if (isa >= LC_ISA_AVX512) fn = g->out[2] <= 8 ? dw_avx512y : dw_avx512;
    else if (isa >= LC_ISA_AVX2) fn = dw_avx2;
#endif
#if defined(__x86_64__) && defined(__GNUC__)
    lc_conv_s1 s1;
    const bool s1_512 = unpadded(g, &s1), s1_avx2 = !s1_512 && isa == LC_ISA_AVX2 && dw3_s1(g, &s1);
    if (s1_512 || s1_avx2) {
        for (int64_t img = 0; img < n; img++)
            for (int64_t oc = 0; oc < m; oc++) {
                const int64_t at = (img * m + oc) * P;
                (s1_512 ? lc_conv_dw_s1_avx512 : lc_conv_dw3_s1_avx2)(&s1, x + (img * c + oc / mult) * g->in_size,
                                                                      w + oc * g->k_size, bias ? bias[oc] : 0.0f,
                                                                      residual ? residual + at : NULL, e, y + at);
            }
        return;
    }
#endif
    memset(scratch, 0, (size_t)(l.rows * l.width * l.phases) * sizeof *scratch);
    for (int64_t img = 0; img < n; img++)
        for (int64_t ci = 0; ci < c; ci++) {
            dw_pad(g, &l, x + (img * c + ci) * g->in_size, scratch);
            for (int64_t mi = 0; mi < mult; mi++) {
                const int64_t oc = ci * mult + mi;
                float *yc = y + (img * m + oc) * P;
                fn(g, &l, scratch, w + oc * g->k_size, bias ? bias[oc] : 0.0f, in_loop, yc, tail, toff);
                if (residual) lc_nn_epilogue_row(yc, yc, P, 0.0f, residual + (img * m + oc) * P, e);
            }
        }
}

/* The direct convolution (see use_direct): per group, the weights packed
 * by blocks of output channels, then per image the input channels padded
 * into phase planes and each block computed row by row. A residual is
 * added afterwards, per channel, before the activation. */
static void conv_direct(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x,
                        const float *w, const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                        float *scratch)
{
    const dw_layout l = dw_layout_of(g);
    const int64_t cg = c / group, mg = m / group, K = cg * g->k_size, P = g->out_size, ocb = dc_ocb(g, mg);
    const int64_t mpad = (mg + ocb - 1) / ocb * ocb, plane = l.rows * l.width * l.phases;
    lc_conv_s1 s1;
    const bool direct_input = dc_unpadded(g, mg, &s1), dct = use_dct(g, mg);
    float *planes = scratch, *wp = scratch + (direct_input ? 0 : (cg * plane + 16 + 1) / 2 * 2), *bp = wp + mpad * K;
    float *tail = wp + (mpad * K + mpad + 1) / 2 * 2;
    int64_t *toff = (int64_t *)(tail + 16);
    const lc_nn_epilogue none = {0}, *in_loop = residual ? &none : e;
    void (*fn)(const lc_nn_geom *, const dw_layout *, int64_t, int64_t, const float *, const float *, const float *,
               int, const lc_nn_epilogue *, float *, float *, const int64_t *, int64_t) = dc_generic;
#if defined(__x86_64__) && defined(__GNUC__)
    const int isa = lc_nn_isa();
    if (isa >= LC_ISA_AVX512) fn = g->out[2] <= 8 ? dc_avx512y : dc_avx512;
    else if (isa >= LC_ISA_AVX2) fn = dc_avx2;
#endif
    for (int64_t kw = 0; kw < g->k[2]; kw++) {
        const int64_t t = kw * g->dil[2];
        toff[kw] = t % l.phases * l.rows * l.width + t / l.phases;
    }
    /* dw_pad writes the same positions for every channel: the zero border
     * is laid once */
    if (!direct_input) memset(planes, 0, (size_t)(cg * plane) * sizeof *planes);
    for (int64_t gi = 0; gi < group; gi++) {
        for (int64_t o = 0; o < mpad; o++) {
            const int64_t blk = o / ocb, j = o % ocb;
            float *dst = wp + blk * ocb * K + j;
            for (int64_t t = 0; t < K; t++) dst[t * ocb] = o < mg ? w[(gi * mg + o) * K + t] : 0.0f;
            bp[o] = o < mg && bias ? bias[gi * mg + o] : 0.0f;
        }
        for (int64_t img = 0; img < n; img++) {
            const float *xg = x + (img * c + gi * cg) * g->in_size;
#if defined(__x86_64__) && defined(__GNUC__)
            if (direct_input) {
                for (int64_t o0 = 0; o0 < mg; o0 += ocb) {
                    const int64_t at = (img * m + gi * mg + o0) * P;
                    const int valid = (int)(mg - o0 < ocb ? mg - o0 : ocb);
                    lc_conv_dc_s1_avx512(&s1, cg, g->in_size, xg, wp + o0 * K, bp + o0, valid, (int)ocb, P,
                                         residual ? residual + at : NULL, e, y + at);
                }
                continue;
            }
#endif
            for (int64_t ci = 0; ci < cg; ci++) dw_pad(g, &l, xg + ci * g->in_size, planes + ci * plane);
            /* the next image's input, on its way to the cache while this
             * one is computed: its padding copy then reads from cache */
            if (!dct && img + 1 < n)
                for (int64_t i = 0; i < cg * g->in_size; i += 16) __builtin_prefetch(xg + c * g->in_size + i, 0, 3);
#if defined(__x86_64__) && defined(__GNUC__)
            if (dct) {
                lc_conv_planes pl = {cg,        plane,     l.width,   g->stride[1], g->dil[1], g->k[1],
                                     g->k[2],   g->out[1], g->out[2], P,            toff,
                                     img + 1 < n ? xg + c * g->in_size : NULL, cg * g->in_size};
                for (int64_t o0 = 0; o0 < mg; o0 += ocb, pl.next = NULL) {
                    const int64_t at = (img * m + gi * mg + o0) * P;
                    const int valid = (int)(mg - o0 < ocb ? mg - o0 : ocb);
                    lc_conv_dct_avx512(&pl, planes, wp + o0 * K, bp + o0, valid, (int)ocb,
                                       residual ? residual + at : NULL, e, y + at);
                }
                continue;
            }
#endif
            for (int64_t o0 = 0; o0 < mg; o0 += ocb) {
                float *yo = y + (img * m + gi * mg + o0) * P;
                const int valid = (int)(mg - o0 < ocb ? mg - o0 : ocb);
                fn(g, &l, cg, plane, planes, wp + o0 * K, bp + o0, valid, in_loop, yo, tail, toff, ocb);
                if (residual)
                    for (int j = 0; j < valid; j++)
                        lc_nn_epilogue_row(yo + j * P, yo + j * P, P, 0.0f, residual + (yo - y) + j * P, e);
            }
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
    if (use_direct(g, c, m, group)) {
        conv_direct(g, n, c, m, group, x, w, bias, residual, e, y, scratch);
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
    float *scratch;     /* `workers` blocks of `scratch_floats` */
    int64_t scratch_floats;
    int workers;        /* > 1: images split between threads */
    lc_nn_epilogue epi; /* set by the executor when it fuses */
} conv_state;

/* The direct and depthwise paths compute each image on its own, so
 * splitting the batch between threads gives the same bits as one thread. */
static bool per_image(const lc_nn_geom *g, int64_t c, int64_t m, int64_t group)
{
    return is_depthwise(g, c, group) || use_direct(g, c, m, group);
}

/* One run split into st->workers parts of consecutive images; part t
 * uses scratch block t, whichever thread takes it. */
typedef struct conv_job {
    const conv_state *st;
    const float *x, *w, *bias, *residual;
    float *y;
    atomic_int next;
} conv_job;

static void *conv_worker(void *arg)
{
    conv_job *j = arg;
    const conv_state *st = j->st;
    const int64_t xi = st->c * st->g.in_size, yi = st->m * st->g.out_size;
    for (int t; (t = atomic_fetch_add(&j->next, 1)) < st->workers;) {
        const int64_t lo = st->n * t / st->workers, hi = st->n * (t + 1) / st->workers;
        lc_conv_fast_ex(&st->g, hi - lo, st->c, st->m, st->group, j->x + lo * xi, j->w, j->bias,
                        j->residual ? j->residual + lo * yi : NULL, &st->epi, j->y + lo * yi,
                        st->scratch + t * st->scratch_floats);
    }
    return NULL;
}

static lc_status set_epilogue(void *state, const lc_nn_epilogue *e)
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
    st->workers = 1;
    if (a->threads > 1 && n > 1 && per_image(&st->g, c, m, group))
        st->workers = a->threads < n ? a->threads : (int)n;
    if (st->workers > LC_MAX_WORKERS) st->workers = LC_MAX_WORKERS;
    st->scratch_floats = sn;
    if (sn > 0 && !(st->scratch = malloc((size_t)(sn * st->workers) * sizeof(float)))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory for %lld im2col values", (long long)(sn * st->workers));
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
    conv_job job = {st, a->in[0]->data, a->in[1]->data, b ? b->data : NULL, r, a->out[0]->data, 0};
    lc_run_workers(st->workers, conv_worker, &job);
    return LC_OK;
}

/* The executor folds BatchNormalization into the weights, passes a
 * residual as in[3] and hands over the activation (lc_nn_epilogue). */
static const lc_fusion fusion = {.set_epilogue = set_epilogue};

const lc_kernel lc_kernel_Conv_1 = {"Conv", 1, 2, LC_OPF_FOLD_AFFINE | LC_OPF_TAKES_RESIDUAL, conv_prepare, conv_run, conv_free, &fusion};
