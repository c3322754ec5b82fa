/* Gemm with its weight matrix packed once at plan time (AVX-512): op(B)
 * is laid out in panels of 32 columns, so the kernel streams a panel
 * with two aligned-width loads per k and broadcasts A straight into the
 * FMAs; alpha, beta * C and the activation are applied while storing.
 * OpenBLAS packs both operands on every call, which at the executor's
 * sizes (batch 64 and a few hundred features) costs as much as the
 * product. Each output is the sum over k in order, then alpha, beta * C,
 * the activation: the same for any M, so any split by rows gives the
 * same bits. */
#include <string.h>

#include "lc_nn.h"

int64_t lc_gemm_packed_floats(int64_t k, int64_t n) { return (n + 31) / 32 * 32 * k; }

void lc_gemm_pack_b(bool tb, int64_t k, int64_t n, const float *b, int64_t ldb, float *packed)
{
    for (int64_t j0 = 0; j0 < n; j0 += 32) {
        float *pan = packed + j0 * k;
        for (int64_t kk = 0; kk < k; kk++)
            for (int64_t j = 0; j < 32; j++)
                pan[kk * 32 + j] = j0 + j < n ? (tb ? b[(j0 + j) * ldb + kk] : b[kk * ldb + j0 + j]) : 0.0f;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include "lc_avx512.h"

/* MR rows from i0 times one 32-column panel from j0. A(i, kk) is
 * a[i * ars + kk * aks]. */
INLINE AVX512 void micro(int64_t n, int64_t k, float alpha, const float *a, int64_t ars, int64_t aks, const float *pan, float beta,
      float *y, const lc_nn_epilogue *e, int64_t i0, int64_t j0, const int MR)
{
    __m512 acc[8][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float *ar = a + i0 * ars;
    for (int64_t kk = 0; kk < k; kk++) {
        const __m512 b0 = _mm512_loadu_ps(pan + kk * 32), b1 = _mm512_loadu_ps(pan + kk * 32 + 16);
        const float *ak = ar + kk * aks;
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512 av = _mm512_set1_ps(ak[r * ars]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < 2; v++) {
            float *yo = y + (i0 + r) * n + j0 + 16 * v;
            const __mmask16 m = head_mask(n - j0 - 16 * v);
            __m512 o = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) o = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, yo), o);
            _mm512_mask_storeu_ps(yo, m, act16(o, e));
        }
}

AVX512 void lc_gemm_packed_avx512(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                                  const float *bp, float beta, float *y, const lc_nn_epilogue *e)
{
    const int64_t ars = ta ? 1 : lda, aks = ta ? lda : 1;
    for (int64_t j0 = 0; j0 < n; j0 += 32) {
        const float *pan = bp + j0 * k;
        int64_t i0 = 0;
        for (; i0 + 8 <= m; i0 += 8) micro(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 8);
        for (; i0 + 4 <= m; i0 += 4) micro(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 4);
        for (; i0 < m; i0++) micro(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 1);
    }
}
#endif
