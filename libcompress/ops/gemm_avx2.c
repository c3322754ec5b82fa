/* The packed-B Gemm of gemm_avx512.c with AVX2 + FMA, for machines without
 * AVX-512: the same 32-column panels (lc_gemm_pack_b), taken as two
 * halves of 16 columns so that MR = 6 rows x 2 vectors of sums, the two B
 * vectors and the broadcast A value fit the 16 registers. Each output is
 * the sum over k in order, then alpha, beta * C, the activation: the same
 * bits as the AVX-512 kernel, for any split by rows. */
#include "lc_nn.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "lc_avx2.h"

/* MR rows from i0 times the 16 columns from j0 (half h of a panel). */
INLINE AVX2 void micro8(int64_t n, int64_t k, float alpha, const float *a, int64_t ars, int64_t aks, const float *pan,
                        float beta, float *y, const lc_nn_epilogue *e, int64_t i0, int64_t j0, const int MR)
{
    __m256 acc[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *ar = a + i0 * ars;
    for (int64_t kk = 0; kk < k; kk++) {
        const __m256 b0 = _mm256_loadu_ps(pan + kk * 32), b1 = _mm256_loadu_ps(pan + kk * 32 + 8);
        const float *ak = ar + kk * aks;
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            const __m256 av = _mm256_broadcast_ss(ak + r * ars);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < 2; v++) {
            float *yo = y + (i0 + r) * n + j0 + 8 * v;
            const int64_t cnt = n - j0 - 8 * v;
            if (cnt <= 0) break;
            __m256 o = _mm256_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) o = _mm256_fmadd_ps(vb, load_head8(yo, cnt), o);
            store_head8(yo, act8(o, e), cnt);
        }
}

AVX2 void lc_gemm_packed_avx2(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                              const float *bp, float beta, float *y, const lc_nn_epilogue *e)
{
    const int64_t ars = ta ? 1 : lda, aks = ta ? lda : 1;
    for (int64_t j0 = 0; j0 < n; j0 += 16) {
        /* the half panel: rows of the panel are 32 floats apart */
        const float *pan = bp + j0 / 32 * 32 * k + j0 % 32;
        int64_t i0 = 0;
        for (; i0 + 6 <= m; i0 += 6) micro8(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 6);
        for (; i0 + 4 <= m; i0 += 4) micro8(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 4);
        for (; i0 < m; i0++) micro8(n, k, alpha, a, ars, aks, pan, beta, y, e, i0, j0, 1);
    }
}
#endif
