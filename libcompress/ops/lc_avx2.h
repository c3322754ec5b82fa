/*
 * lc_avx2.h - helpers shared by the AVX2 + FMA kernels (conv_avx2.c,
 * gemm_avx2.c; internal). Include only on x86-64 with GCC: every function
 * carries the AVX2 target attribute and is always inlined into callers
 * compiled for the same target.
 */
#ifndef LC_AVX2_H
#define LC_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "lc_nn.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* Lanes [0, n) set (n clamped to [0, 8]), as a maskload/maskstore mask. */
INLINE AVX2 __m256i head_mask8(int64_t n)
{
    const int32_t k = (int32_t)(n < 0 ? 0 : n > 8 ? 8 : n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The first n lanes of v at y (nothing when n <= 0), in 4-, 2- and
 * 1-float pieces: a masked 256-bit store is microcoded and slow on AMD
 * cores. */
INLINE AVX2 void store_head8(float *y, __m256 v, int64_t n)
{
    if (n >= 8) {
        _mm256_storeu_ps(y, v);
        return;
    }
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(y, h);
        h = _mm256_extractf128_ps(v, 1);
        y += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)(void *)y, h);
        h = _mm_movehl_ps(h, h);
        y += 2;
        n -= 2;
    }
    if (n > 0) _mm_store_ss(y, h);
}

/* The first n (clamped to [0, 8]) floats at r, the other lanes zero. */
INLINE AVX2 __m256 load_head8(const float *r, int64_t n)
{
    return n >= 8 ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, head_mask8(n));
}

/* act(v) (the same NaN behaviour as lc_nn_epilogue_row: a NaN stays). */
INLINE AVX2 __m256 act8(__m256 v, const lc_nn_epilogue *e)
{
    const __m256 zero = _mm256_setzero_ps();
    switch (e->act) {
    case LC_NN_ACT_RELU: return _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    case LC_NN_ACT_CLIP: {
        const __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
        v = _mm256_blendv_ps(v, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
        return _mm256_blendv_ps(v, hi, _mm256_cmp_ps(v, hi, _CMP_GT_OQ));
    }
    case LC_NN_ACT_LEAKY:
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(e->alpha)), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    default: return v;
    }
}

#endif
