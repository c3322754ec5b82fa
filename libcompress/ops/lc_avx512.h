/*
 * lc_avx512.h - helpers shared by the AVX-512 kernels (conv_avx512.c,
 * gemm_avx512.c; internal). Include only on x86-64 with GCC: every
 * function carries the AVX-512 target attribute and is always inlined
 * into callers compiled for the same target.
 */
#ifndef LC_AVX512_H
#define LC_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "lc_nn.h"

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* The first n lanes (all when n >= 16, none when n <= 0). */
INLINE AVX512 __mmask16 head_mask(int64_t n)
{
    return n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

/* act(v) (the same NaN behaviour as lc_nn_epilogue_row). */
INLINE AVX512 __m512 act16(__m512 v, const lc_nn_epilogue *e)
{
    const __m512 zero = _mm512_setzero_ps();
    switch (e->act) {
    case LC_NN_ACT_RELU: return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, zero);
    case LC_NN_ACT_CLIP: {
        const __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), v, hi);
    }
    case LC_NN_ACT_LEAKY:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v,
                                    _mm512_mul_ps(v, _mm512_set1_ps(e->alpha)));
    default: return v;
    }
}

/* Transposes the 16 x 16 floats r[0..15] in place (r[i] lane j <-> r[j]
 * lane i): 64 shuffles, far cheaper than scattering 16 vectors. */
INLINE AVX512 void transpose16(__m512 *r)
{
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 16; i += 8)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            t[i + k] = _mm512_shuffle_f32x4(u[i + k], u[i + 4 + k], 0x88);
            t[i + 4 + k] = _mm512_shuffle_f32x4(u[i + k], u[i + 4 + k], 0xdd);
        }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xdd);
    }
}

#endif
