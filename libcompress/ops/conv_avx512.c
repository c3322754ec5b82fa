/* AVX-512 Conv kernels for stride-1 convolutions that read the input
 * planes as they are: no padded copy. Masked loads supply the zeros of the
 * left and right padding (and never touch memory outside the row), taps
 * of rows in the top or bottom padding are skipped, and the outputs are
 * stored through the epilogue (bias, residual, activation) with masked
 * tail stores. Each output is b + the sum over (channel, kh, kw) in that
 * order, then + residual, then the activation: the same terms in the same
 * order as the padded kernels (conv_kernels.inc) minus the zero taps.
 * Compiled with a target attribute; only called when lc_nn_isa() says
 * AVX-512. */
#include "lc_nn.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "lc_avx512.h"

/* Lanes j of a 16-float load at column `start` that fall in [0, W). */
INLINE AVX512 __mmask16 col_mask(int64_t start, int64_t W)
{
    const int64_t lo = start < 0 ? -start : 0, hi = W - start < 16 ? W - start : 16;
    if (hi <= lo) return 0;
    return (__mmask16)((0xffffu >> (16 - hi)) & (0xffffu << lo));
}

/* A masked load at x + off: lanes outside the mask are never read. */
INLINE AVX512 __m512 load_at(__mmask16 m, const float *x, int64_t off)
{
    return _mm512_maskz_loadu_ps(m, (const void *)((uintptr_t)x + (uintptr_t)(off * (int64_t)sizeof(float))));
}

/* y[0..n) = act(v + r) (r may be NULL). */
INLINE AVX512 void store16(float *y, __m512 v, const float *r, __mmask16 m, const lc_nn_epilogue *e)
{
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
    _mm512_mask_storeu_ps(y, m, act16(v, e));
}

/* Per kernel column kw and vector v from output column ow: the lanes
 * whose input column lies inside the row. */
INLINE AVX512 void tap_masks(const lc_conv_s1 *s, int64_t ow, const int V, __mmask16 (*cm)[2])
{
    for (int64_t kw = 0; kw < s->KW; kw++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) cm[kw][v] = col_mask(ow + 16 * v + kw * s->dw - s->pl, s->W);
}

/* Depthwise: R output rows from oh, V 16-float vectors from column ow. */
INLINE AVX512 void dw_block(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                            const lc_nn_epilogue *e, float *y, int64_t oh, int64_t ow, const int R, const int V)
{
    __m512 acc[4][2];
    __mmask16 cm[LC_CONV_S1_MAX_KW][2];
    tap_masks(s, ow, V, cm);
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) acc[i][v] = _mm512_set1_ps(b);
    for (int64_t kh = 0; kh < s->KH; kh++) {
        const int64_t ih0 = oh + kh * s->dh - s->pt;
        for (int64_t kw = 0; kw < s->KW; kw++) {
            const __m512 wv = _mm512_set1_ps(w[kh * s->KW + kw]);
            const int64_t col = ow + kw * s->dw - s->pl;
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const int64_t ih = ih0 + i;
                if (ih < 0 || ih >= s->H) continue;
#pragma GCC unroll 2
                for (int v = 0; v < V; v++)
                    acc[i][v] = _mm512_fmadd_ps(wv, load_at(cm[kw][v], x, ih * s->W + col + 16 * v), acc[i][v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const int64_t at = (oh + i) * s->OW + ow + 16 * v;
            store16(y + at, acc[i][v], r ? r + at : NULL, head_mask(s->OW - ow - 16 * v), e);
        }
}

/* Depthwise 3x3, no dilation: R output rows from oh, V 16-float vectors
 * from column ow. The R + 2 input rows are each loaded once (three shifted
 * masked loads per vector, cm[kw][v] the lanes inside the row) and used
 * by every output row they reach. Same terms, same order (kh, then kw) as
 * dw_block. */
INLINE AVX512 void dw3_rows(const lc_conv_s1 *s, const float *x, const __m512 *wk, const __mmask16 (*cm)[2], float b,
                            const float *r, const lc_nn_epilogue *e, float *y, int64_t oh, int64_t ow, const int R,
                            const int V, const bool check)
{
    __m512 acc[4][2];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) acc[i][v] = _mm512_set1_ps(b);
#pragma GCC unroll 6
    for (int t = 0; t < R + 2; t++) {
        const int64_t ih = oh - s->pt + t;
        if (check && (ih < 0 || ih >= s->H)) continue;
        const float *row = x + ih * s->W + ow;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            __m512 xs[3];
#pragma GCC unroll 3
            for (int kw = 0; kw < 3; kw++) xs[kw] = load_at(cm[kw][v], row, 16 * v + kw - s->pl);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const int kh = t - i;
                if (kh < 0 || kh > 2) continue;
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) acc[i][v] = _mm512_fmadd_ps(wk[kh * 3 + kw], xs[kw], acc[i][v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const int64_t at = (oh + i) * s->OW + ow + 16 * v;
            store16(y + at, acc[i][v], r ? r + at : NULL, head_mask(s->OW - ow - 16 * v), e);
        }
}

/* The column masks of V vectors from column ow (all lanes when the
 * inputs lie inside the row). */
INLINE AVX512 void dw3_masks(const lc_conv_s1 *s, int64_t ow, const int V, __mmask16 (*cm)[2])
{
    const bool inside = ow - s->pl >= 0 && ow + 16 * V + 1 - s->pl < s->W;
#pragma GCC unroll 2
    for (int v = 0; v < V; v++)
#pragma GCC unroll 3
        for (int kw = 0; kw < 3; kw++) cm[kw][v] = inside ? 0xffff : col_mask(ow + 16 * v + kw - s->pl, s->W);
}

/* R output rows from oh: rows of up to 32 outputs with the masks `cm0`
 * computed once per plane, longer ones left to right in 32 columns (16 at
 * the end). */
INLINE AVX512 void dw3_band(const lc_conv_s1 *s, const float *x, const __m512 *wk, const __mmask16 (*cm0)[2], float b,
                            const float *r, const lc_nn_epilogue *e, float *y, int64_t oh, const int R,
                            const bool check)
{
    __mmask16 cm[3][2];
    if (s->OW <= 16) {
        dw3_rows(s, x, wk, cm0, b, r, e, y, oh, 0, R, 1, check);
        return;
    }
    if (s->OW <= 32) {
        dw3_rows(s, x, wk, cm0, b, r, e, y, oh, 0, R, 2, check);
        return;
    }
    int64_t ow = 0;
    for (; ow + 16 < s->OW; ow += 32) {
        dw3_masks(s, ow, 2, cm);
        dw3_rows(s, x, wk, (const __mmask16(*)[2])cm, b, r, e, y, oh, ow, R, 2, check);
    }
    if (ow < s->OW) {
        dw3_masks(s, ow, 1, cm);
        dw3_rows(s, x, wk, (const __mmask16(*)[2])cm, b, r, e, y, oh, ow, R, 1, check);
    }
}

/* Weights in registers for the whole plane; blocks of 4 rows whose input
 * rows all lie inside the plane skip the row checks, the leftover rows go
 * in pairs, then one. */
INLINE AVX512 void dw3_plane(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                             const lc_nn_epilogue *e, float *y)
{
    __m512 wk[9];
    __mmask16 cm0[3][2];
    for (int i = 0; i < 9; i++) wk[i] = _mm512_set1_ps(w[i]);
    dw3_masks(s, 0, 2, cm0);
    const __mmask16(*c0)[2] = (const __mmask16(*)[2])cm0;
    int64_t oh = 0;
    for (; oh + 4 <= s->OH; oh += 4) {
        if (oh - s->pt >= 0 && oh - s->pt + 5 < s->H) dw3_band(s, x, wk, c0, b, r, e, y, oh, 4, false);
        else dw3_band(s, x, wk, c0, b, r, e, y, oh, 4, true);
    }
    for (; oh + 2 <= s->OH; oh += 2) dw3_band(s, x, wk, c0, b, r, e, y, oh, 2, true);
    for (; oh < s->OH; oh++) dw3_band(s, x, wk, c0, b, r, e, y, oh, 1, true);
}

AVX512 void lc_conv_dw_s1_avx512(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                                 const lc_nn_epilogue *e, float *y)
{
    if (s->KH == 3 && s->KW == 3 && s->dh == 1 && s->dw == 1) {
        dw3_plane(s, x, w, b, r, e, y);
        return;
    }
    int64_t oh = 0;
    for (; oh + 4 <= s->OH; oh += 4) {
        int64_t ow = 0;
        for (; ow + 16 < s->OW; ow += 32) dw_block(s, x, w, b, r, e, y, oh, ow, 4, 2);
        for (; ow < s->OW; ow += 16) dw_block(s, x, w, b, r, e, y, oh, ow, 4, 1);
    }
    for (; oh < s->OH; oh++) {
        int64_t ow = 0;
        for (; ow + 16 < s->OW; ow += 32) dw_block(s, x, w, b, r, e, y, oh, ow, 1, 2);
        for (; ow < s->OW; ow += 16) dw_block(s, x, w, b, r, e, y, oh, ow, 1, 1);
    }
}

/* Direct: OCB output channels at output row oh, V vectors from column ow,
 * over the cg input planes of x (in_size floats apart) with the block's
 * packed weights wp ([cg * KH * KW][OCB]). */
INLINE AVX512 void dc_chunk(const lc_conv_s1 *s, int64_t cg, int64_t in_size, const float *x, const float *wp,
                            const float *b, int valid, int64_t out_size, const float *r, const lc_nn_epilogue *e,
                            float *y, int64_t oh, int64_t ow, const int OCB, const int V)
{
    __m512 acc[16][2], part[16][2];
    __mmask16 cm[LC_CONV_S1_MAX_KW][2];
    tap_masks(s, ow, V, cm);
#pragma GCC unroll 16
    for (int j = 0; j < OCB; j++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) acc[j][v] = _mm512_setzero_ps();
    const float *wt = wp;
    for (int64_t c0 = 0; c0 < cg; c0 += LC_CONV_SUM_CHANNELS) {
        const int64_t c1 = cg - c0 < LC_CONV_SUM_CHANNELS ? cg : c0 + LC_CONV_SUM_CHANNELS;
#pragma GCC unroll 16
        for (int j = 0; j < OCB; j++)
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) part[j][v] = _mm512_setzero_ps();
        for (int64_t ci = c0; ci < c1; ci++) {
            const float *xc = x + ci * in_size;
            for (int64_t kh = 0; kh < s->KH; kh++) {
                const int64_t ih = oh + kh * s->dh - s->pt;
                if (ih < 0 || ih >= s->H) {
                    wt += s->KW * OCB;
                    continue;
                }
                for (int64_t kw = 0; kw < s->KW; kw++, wt += OCB) {
                    const int64_t at = ih * s->W + ow + kw * s->dw - s->pl;
                    __m512 xv[2];
#pragma GCC unroll 2
                    for (int v = 0; v < V; v++) xv[v] = load_at(cm[kw][v], xc, at + 16 * v);
#pragma GCC unroll 16
                    for (int j = 0; j < OCB; j++) {
                        const __m512 wv = _mm512_set1_ps(wt[j]);
#pragma GCC unroll 2
                        for (int v = 0; v < V; v++) part[j][v] = _mm512_fmadd_ps(wv, xv[v], part[j][v]);
                    }
                }
            }
        }
#pragma GCC unroll 16
        for (int j = 0; j < OCB; j++)
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) acc[j][v] = _mm512_add_ps(acc[j][v], part[j][v]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < OCB; j++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) acc[j][v] = _mm512_add_ps(acc[j][v], _mm512_set1_ps(b[j]));
#pragma GCC unroll 16
    for (int j = 0; j < OCB; j++) {
        if (j >= valid) break;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const int64_t at = j * out_size + oh * s->OW + ow + 16 * v;
            store16(y + at, acc[j][v], r ? r + at : NULL, head_mask(s->OW - ow - 16 * v), e);
        }
    }
}

INLINE AVX512 void dc_rows(const lc_conv_s1 *s, int64_t cg, int64_t in_size, const float *x, const float *wp,
                           const float *b, int valid, int64_t out_size, const float *r, const lc_nn_epilogue *e,
                           float *y, const int OCB, const int V)
{
    for (int64_t oh = 0; oh < s->OH; oh++)
        for (int64_t ow = 0; ow < s->OW; ow += 16 * V)
            dc_chunk(s, cg, in_size, x, wp, b, valid, out_size, r, e, y, oh, ow, OCB, V);
}

AVX512 void lc_conv_dc_s1_avx512(const lc_conv_s1 *s, int64_t cg, int64_t in_size, const float *x, const float *wp,
                                 const float *b, int valid, int ocb, int64_t out_size, const float *r,
                                 const lc_nn_epilogue *e, float *y)
{
    if (ocb == 16) dc_rows(s, cg, in_size, x, wp, b, valid, out_size, r, e, y, 16, 1);
    else if (ocb == 12) dc_rows(s, cg, in_size, x, wp, b, valid, out_size, r, e, y, 12, 2);
    else dc_rows(s, cg, in_size, x, wp, b, valid, out_size, r, e, y, 8, 2);
}
#endif

bool lc_conv_s1_of(const lc_nn_geom *g, lc_conv_s1 *s)
{
    if (g->in[0] != 1 || g->k[0] != 1 || g->out[0] != 1 || g->pad_b[0] || g->stride[1] != 1 || g->stride[2] != 1 ||
        g->k[2] > LC_CONV_S1_MAX_KW)
        return false;
    *s = (lc_conv_s1){g->in[1], g->in[2], g->out[1], g->out[2], g->k[1], g->k[2],
                      g->dil[1], g->dil[2], g->pad_b[1], g->pad_b[2]};
    if (g->k_size == 1 && !g->pad_b[1] && !g->pad_b[2] && g->out[1] == g->in[1] && g->out[2] == g->in[2]) {
        /* pointwise: the whole plane is one row */
        s->W = s->OW = g->in[1] * g->in[2];
        s->H = s->OH = 1;
    }
    return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Direct convolution with output channels in the lanes (the layout of
 * ONNX Runtime's NCHWc kernels, here only inside the kernel): a block of
 * 16 * CV output channels at R consecutive positions of output row oh,
 * each input value broadcast straight from the padded phase planes into
 * the FMA, one load of weights per tap and CV. The R x CV sums go to the
 * NCHW output through an in-register transpose. The sum is
 * that of every direct kernel (LC_CONV_SUM_CHANNELS in lc_nn.h). */
INLINE AVX512 void dct_chunk(const lc_conv_planes *p, const float *xp, const float *wp, const float *b, int valid,
                             const float *r, const lc_nn_epilogue *e, float *y, int64_t oh, int64_t ow0, int64_t n,
                             const int R, const int CV)
{
    const int OCB = 16 * CV;
    __m512 acc[14][4], part[14][4];
#pragma GCC unroll 4
    for (int c = 0; c < CV; c++)
#pragma GCC unroll 14
        for (int q = 0; q < R; q++) acc[q][c] = _mm512_setzero_ps();
    const float *wt = wp;
    for (int64_t c0 = 0; c0 < p->cg; c0 += LC_CONV_SUM_CHANNELS) {
        const int64_t c1 = p->cg - c0 < LC_CONV_SUM_CHANNELS ? p->cg : c0 + LC_CONV_SUM_CHANNELS;
#pragma GCC unroll 4
        for (int c = 0; c < CV; c++)
#pragma GCC unroll 14
            for (int q = 0; q < R; q++) part[q][c] = _mm512_setzero_ps();
        for (int64_t ci = c0; ci < c1; ci++) {
            const float *xc = xp + ci * p->plane + oh * p->sh * p->width + ow0;
            for (int64_t kh = 0; kh < p->KH; kh++) {
                const float *xr = xc + kh * p->dh * p->width;
                for (int64_t kw = 0; kw < p->KW; kw++, wt += OCB) {
                    const float *xs = xr + p->toff[kw];
                    __m512 wv[4];
#pragma GCC unroll 4
                    for (int c = 0; c < CV; c++) wv[c] = _mm512_loadu_ps(wt + 16 * c);
#pragma GCC unroll 14
                    for (int q = 0; q < R; q++) {
                        const __m512 xv = _mm512_set1_ps(xs[q]);
#pragma GCC unroll 4
                        for (int c = 0; c < CV; c++) part[q][c] = _mm512_fmadd_ps(xv, wv[c], part[q][c]);
                    }
                }
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < CV; c++)
#pragma GCC unroll 14
            for (int q = 0; q < R; q++) acc[q][c] = _mm512_add_ps(acc[q][c], part[q][c]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < CV; c++) {
        const __m512 bv = _mm512_loadu_ps(b + 16 * c);
#pragma GCC unroll 14
        for (int q = 0; q < R; q++) acc[q][c] = _mm512_add_ps(acc[q][c], bv);
    }
    /* to NCHW: per 16 channels, a transpose turns the R position vectors
     * into one vector of positions per channel, stored (residual added,
     * activation applied) with a masked store; a scatter per position
     * cost a quarter of resnet8's time */
    const __mmask16 pm = head_mask(n < R ? n : R);
#pragma GCC unroll 4
    for (int c = 0; c < CV; c++) {
        __m512 t[16];
#pragma GCC unroll 16
        for (int q = 0; q < 16; q++) t[q] = q < R ? acc[q][c] : _mm512_setzero_ps();
        transpose16(t);
        const int64_t base = 16 * c * p->P + oh * p->OW + ow0;
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            if (16 * c + j >= valid) break;
            const int64_t at = base + j * p->P;
            store16(y + at, t[j], r ? r + at : NULL, pm, e);
        }
    }
}

INLINE AVX512 void dct_rows(const lc_conv_planes *p, const float *xp, const float *wp, const float *b, int valid,
                            const float *r, const lc_nn_epilogue *e, float *y, const int R, const int CV)
{
    const int64_t share = p->next ? (p->next_floats + p->OH - 1) / p->OH : 0;
    for (int64_t oh = 0; oh < p->OH; oh++) {
        /* this row's share of the next image's input, into L2 */
        for (int64_t i = oh * share; i < (oh + 1) * share && i < p->next_floats; i += 16)
            _mm_prefetch((const char *)(p->next + i), _MM_HINT_T0);
        for (int64_t ow = 0; ow < p->OW; ow += R)
            dct_chunk(p, xp, wp, b, valid, r, e, y, oh, ow, p->OW - ow, R, CV);
    }
}

AVX512 void lc_conv_dct_avx512(const lc_conv_planes *p, const float *xp, const float *wp, const float *b, int valid,
                               int ocb, const float *r, const lc_nn_epilogue *e, float *y)
{
    /* 32 and 64 channels (Conv.c gives them to rows of up to 8) take 7
       positions: 32 then fits the block sums and running totals (2 x 14
       vectors) in the registers; 64 spills the totals, added once per
       block, and still took 0.7x the time of 32 on resnet8's 7x7 layers */
    const bool narrow = p->OW <= 8;
    if (ocb == 64) dct_rows(p, xp, wp, b, valid, r, e, y, 7, 4);
    else if (ocb == 32) dct_rows(p, xp, wp, b, valid, r, e, y, 7, 2);
    else if (narrow) dct_rows(p, xp, wp, b, valid, r, e, y, 7, 1);
    else dct_rows(p, xp, wp, b, valid, r, e, y, 14, 1);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* The first n (clamped to [0, 16]) lanes of v at dst. */
INLINE AVX512 void store_head(float *dst, __m512 v, int64_t n)
{
    if (n > 0) _mm512_mask_storeu_ps(dst, head_mask(n), v);
}

AVX512 bool lc_conv_pad_avx512(const float *x, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t rows,
                               int64_t width, int64_t phases, float *xp)
{
    if (pl < 0 || pt < 0 || (phases != 1 && phases != 2)) return false;
    const int64_t plane = rows * width;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t ih = 0; ih < H && ih + pt < rows; ih++) {
        const float *src = x + ih * W;
        float *row = xp + (ih + pt) * width;
        if (phases == 1) {
            const int64_t hi = W < width - pl ? W : width - pl;
            for (int64_t i = 0; i < hi; i += 16) {
                const __mmask16 m = head_mask(hi - i);
                _mm512_mask_storeu_ps(row + pl + i, m, _mm512_maskz_loadu_ps(m, src + i));
            }
            continue;
        }
        /* padded column j = iw + pl goes to phase j % 2, index j / 2 */
        for (int64_t iw0 = 0; iw0 < W; iw0 += 32) {
            const int64_t n = W - iw0 < 32 ? W - iw0 : 32;
            const __m512 a = _mm512_maskz_loadu_ps(head_mask(n), src + iw0);
            const __m512 b = _mm512_maskz_loadu_ps(head_mask(n - 16), src + iw0 + 16);
            const int64_t je = iw0 + pl, jo = je + 1;
            store_head(row + je % 2 * plane + je / 2, _mm512_permutex2var_ps(a, even, b),
                       ((n + 1) / 2 < width - je / 2 ? (n + 1) / 2 : width - je / 2));
            store_head(row + jo % 2 * plane + jo / 2, _mm512_permutex2var_ps(a, odd, b),
                       (n / 2 < width - jo / 2 ? n / 2 : width - jo / 2));
        }
    }
    return true;
}
#endif
