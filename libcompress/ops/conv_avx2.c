/* AVX2 + FMA Conv helpers, the counterparts of conv_avx512.c's for
 * machines without AVX-512: the 3x3 stride-1 depthwise kernel that reads
 * its input in place, and the padding copy into phase planes. Compiled
 * with a target attribute; only called when lc_nn_isa() says AVX2 or
 * better. */
#include "lc_nn.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "lc_avx2.h"

/* Lanes j of an 8-float load at column `start` that fall in [0, W). */
INLINE AVX2 __m256i col_mask8(int64_t start, int64_t W)
{
    const int64_t lo = start < 0 ? -start : 0, hi = W - start;
    return _mm256_andnot_si256(head_mask8(lo), head_mask8(hi));
}

/* A masked load at x + off: lanes outside the mask are never read (the
 * address may lie outside the plane, so it is formed as an integer). */
INLINE AVX2 __m256 load_at8(__m256i m, const float *x, int64_t off)
{
    return _mm256_maskload_ps((const float *)((uintptr_t)x + (uintptr_t)(off * (int64_t)sizeof(float))), m);
}

/* Depthwise 3x3, stride 1, no dilation: R output rows from oh, V 8-float
 * vectors from column ow. The R + 2 input rows are each loaded once (three
 * shifted loads per vector) and used by every output row they reach; rows
 * in the top or bottom padding are skipped (`check`). `edge`: some input
 * columns lie outside the row, so the loads are masked (the masks give
 * the left and right zero padding); elsewhere plain loads (a masked AVX2
 * load costs several plain ones on some cores). Each output is b + the
 * taps in (kh, kw) order, as in the other depthwise kernels, then + r,
 * then the activation. */
INLINE AVX2 void dw3_rows8(const lc_conv_s1 *s, const float *x, const __m256 *wk, float b, const float *r,
                           const lc_nn_epilogue *e, float *y, int64_t oh, int64_t ow, const int R, const int V,
                           const bool check, const bool edge)
{
    __m256 acc[4][2];
    __m256i cm[3][2];
    if (edge)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++)
#pragma GCC unroll 3
            for (int kw = 0; kw < 3; kw++) cm[kw][v] = col_mask8(ow + 8 * v + kw - s->pl, s->W);
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) acc[i][v] = _mm256_set1_ps(b);
#pragma GCC unroll 6
    for (int t = 0; t < R + 2; t++) {
        const int64_t ih = oh - s->pt + t;
        if (check && (ih < 0 || ih >= s->H)) continue;
        const float *row = x + ih * s->W + ow;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            __m256 xs[3];
#pragma GCC unroll 3
            for (int kw = 0; kw < 3; kw++)
                xs[kw] = edge ? load_at8(cm[kw][v], row, 8 * v + kw - s->pl) : _mm256_loadu_ps(row + 8 * v + kw - s->pl);
#pragma GCC unroll 4
            for (int i = 0; i < R; i++) {
                const int kh = t - i;
                if (kh < 0 || kh > 2) continue;
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) acc[i][v] = _mm256_fmadd_ps(wk[kh * 3 + kw], xs[kw], acc[i][v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const int64_t at = (oh + i) * s->OW + ow + 8 * v, n = s->OW - ow - 8 * v;
            __m256 o = acc[i][v];
            if (r) o = _mm256_add_ps(o, load_head8(r + at, n));
            store_head8(y + at, act8(o, e), n);
        }
}

/* R output rows from oh, left to right in 16 columns (8 at the end). */
INLINE AVX2 void dw3_band8(const lc_conv_s1 *s, const float *x, const __m256 *wk, float b, const float *r,
                           const lc_nn_epilogue *e, float *y, int64_t oh, const int R, const bool check)
{
    int64_t ow = 0;
    for (; ow + 8 < s->OW; ow += 16) {
        /* inputs of the 16 columns: [ow - pl, ow + 17 - pl] */
        if (ow - s->pl >= 0 && ow + 17 - s->pl < s->W) dw3_rows8(s, x, wk, b, r, e, y, oh, ow, R, 2, check, false);
        else dw3_rows8(s, x, wk, b, r, e, y, oh, ow, R, 2, check, true);
    }
    if (ow < s->OW) dw3_rows8(s, x, wk, b, r, e, y, oh, ow, R, 1, check, true);
}

AVX2 void lc_conv_dw3_s1_avx2(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                              const lc_nn_epilogue *e, float *y)
{
    /* 16 registers: 4 rows x 2 vectors of sums, the three shifted inputs,
     * the weights mostly read from memory by the FMAs */
    __m256 wk[9];
    for (int i = 0; i < 9; i++) wk[i] = _mm256_set1_ps(w[i]);
    /* blocks of 4 rows whose input rows all lie inside the plane skip the
     * row checks; the rows left over go in pairs, then one */
    int64_t oh = 0;
    for (; oh + 4 <= s->OH; oh += 4) {
        if (oh - s->pt >= 0 && oh - s->pt + 5 < s->H) dw3_band8(s, x, wk, b, r, e, y, oh, 4, false);
        else dw3_band8(s, x, wk, b, r, e, y, oh, 4, true);
    }
    for (; oh + 2 <= s->OH; oh += 2) dw3_band8(s, x, wk, b, r, e, y, oh, 2, true);
    for (; oh < s->OH; oh++) dw3_band8(s, x, wk, b, r, e, y, oh, 1, true);
}

/* The 64-bit elements of v in the order 0, 2, 1, 3. */
INLINE AVX2 __m256 order0213(__m256 v)
{
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

AVX2 bool lc_conv_pad_avx2(const float *x, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t rows, int64_t width,
                           int64_t phases, float *xp)
{
    if (pl < 0 || pt < 0 || (phases != 1 && phases != 2)) return false;
    const int64_t plane = rows * width;
    for (int64_t ih = 0; ih < H && ih + pt < rows; ih++) {
        const float *src = x + ih * W;
        float *row = xp + (ih + pt) * width;
        if (phases == 1) {
            const int64_t hi = W < width - pl ? W : width - pl;
            int64_t i = 0;
            for (; i + 8 <= hi; i += 8) _mm256_storeu_ps(row + pl + i, _mm256_loadu_ps(src + i));
            if (i < hi) store_head8(row + pl + i, _mm256_maskload_ps(src + i, head_mask8(hi - i)), hi - i);
            continue;
        }
        /* padded column j = iw + pl goes to phase j % 2, index j / 2 */
        for (int64_t iw0 = 0; iw0 < W; iw0 += 16) {
            const int64_t n = W - iw0 < 16 ? W - iw0 : 16;
            const __m256 a = _mm256_maskload_ps(src + iw0, head_mask8(n));
            const __m256 b = _mm256_maskload_ps(src + iw0 + 8, head_mask8(n - 8));
            const int64_t je = iw0 + pl, jo = je + 1;
            const int64_t ne = (n + 1) / 2 < width - je / 2 ? (n + 1) / 2 : width - je / 2;
            const int64_t no = n / 2 < width - jo / 2 ? n / 2 : width - jo / 2;
            store_head8(row + je % 2 * plane + je / 2, order0213(_mm256_shuffle_ps(a, b, 0x88)), ne);
            store_head8(row + jo % 2 * plane + jo / 2, order0213(_mm256_shuffle_ps(a, b, 0xdd)), no);
        }
    }
    return true;
}
#endif
