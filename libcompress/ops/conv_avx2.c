/* AVX2 + FMA Conv helpers, the counterparts of conv_avx512.c's for
 * machines without AVX-512: the padding copy into phase planes. Compiled
 * with a target attribute; only called when lc_nn_isa() says AVX2 or
 * better. */
#include "lc_nn.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

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
