/* lc_sgemm gives bit-identical results on 1, 2, 3 and 4 threads (issue 9,
 * determinism), for shapes below and above the split size, split along
 * rows or columns, with every transpose combination, beta != 0 and padded
 * leading dimensions; and it agrees with the plain-C reference
 * lc_sgemm_ref (float64 accumulation) within a tolerance scaled by k. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_testutil.h"

typedef struct shape {
    int64_t m, n, k;
} shape;

static const shape shapes[] = {
    {2, 3, 4},       /* tiny: one call */
    {6, 9216, 25},   /* lenet5 conv1 at batch 16: columns split */
    {16, 1024, 150}, /* conv2 */
    {300, 120, 400}, /* rows split, extents not multiples of 16 */
    {1000, 64, 33},  /* many rows */
    {37, 5000, 17},  /* columns, ragged last block */
    {64, 64, 512},   /* square, long k */
    {8, 8, 20000},   /* small C, huge k: not split */
};

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24)) - 0.5f;
}

START_TEST(test_threads_bit_identical)
{
    const shape *sh = &shapes[_i / 4];
    bool ta = _i & 1, tb = (_i >> 1) & 1;
    int64_t m = sh->m, n = sh->n, k = sh->k;
    int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
    size_t na = (size_t)((ta ? k : m) * lda), nb = (size_t)((tb ? n : k) * ldb), nc = (size_t)(m * ldc);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c0 = malloc(nc * sizeof *c0),
          *c = malloc(nc * sizeof *c), *ref = malloc(nc * sizeof *ref), *init = malloc(nc * sizeof *init);
    ck_assert(a && b && c0 && c && ref && init);
    uint64_t seed = 42 + (uint64_t)_i;
    for (size_t i = 0; i < na; i++) a[i] = frand(&seed);
    for (size_t i = 0; i < nb; i++) b[i] = frand(&seed);
    for (size_t i = 0; i < nc; i++) init[i] = frand(&seed);
    const float alpha = 0.75f, beta = _i % 3 == 0 ? 0.0f : 0.5f;

    memcpy(c0, init, nc * sizeof *c0);
    lc_sgemm_set_threads(1);
    lc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc);
    for (int threads = 2; threads <= 4; threads++) {
        memcpy(c, init, nc * sizeof *c);
        lc_sgemm_set_threads(threads);
        lc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        ck_assert_msg(memcmp(c, c0, nc * sizeof *c) == 0, "%lldx%lldx%lld ta=%d tb=%d: %d threads differ from 1",
                      (long long)m, (long long)n, (long long)k, ta, tb, threads);
    }
    lc_sgemm_set_threads(1);

    memcpy(ref, init, nc * sizeof *ref);
    lc_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
    /* |a|, |b| <= 0.5: each product is at most 0.25; float32 accumulation
     * over k terms errs by at most about k * eps * 0.25 * alpha */
    double tol = 1e-6 + (double)k * 0.25 * 0.75 * 1.2e-7 * 4;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++) {
            float got = c0[i * ldc + j], want = j < n ? ref[i * ldc + j] : init[i * ldc + j];
            if (j >= n) ck_assert_msg(got == want, "padding column %lld of row %lld was written", (long long)j,
                                      (long long)i);
            else
                ck_assert_msg(fabs((double)got - want) <= tol, "%lldx%lldx%lld ta=%d tb=%d: c[%lld,%lld] %g vs %g",
                              (long long)m, (long long)n, (long long)k, ta, tb, (long long)i, (long long)j, got,
                              want);
        }
    free(a);
    free(b);
    free(c0);
    free(c);
    free(ref);
    free(init);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sgemm_threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_threads_bit_identical, 0, (int)(sizeof shapes / sizeof *shapes) * 4);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
