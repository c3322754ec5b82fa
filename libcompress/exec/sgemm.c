/* lc_sgemm: OpenBLAS products split into blocks fixed by the shape alone
 * (bit-identical on any thread count), the sgemv path for vector
 * products, and the plain-C reference lc_sgemm_ref. */
#include <cblas.h>
#include <stdatomic.h>

#include "lc_exec.h"

/* Worker threads lc_sgemm may use in this thread (set by the executor). */
static _Thread_local int sgemm_threads = 1;

void lc_sgemm_set_threads(int threads)
{
    openblas_set_num_threads(1); /* see below: our split, not OpenBLAS's */
    sgemm_threads = threads > 1 ? threads : 1;
}

/* Threaded OpenBLAS splits a product differently for each thread count,
 * and its result depends on the split (edge tiles take other kernels with
 * another rounding), so the same model gave different bits on 1 and 2
 * threads. Instead OpenBLAS runs single-threaded (the executor sets it) and
 * a large product is cut into blocks of C whose bounds depend on the shape
 * alone; threads only decide who computes which block. */
#define SGEMM_SPLIT_MACS (1 << 20) /* below this, one call (no thread start-up) */
#define SGEMM_MAX_BLOCKS 8
#define SGEMM_ALIGN 16             /* block bounds on multiples of the kernel tile */

typedef struct sgemm_job {
    bool ta, tb, rows;             /* rows: blocks of rows of C, else of columns */
    int64_t m, n, k, lda, ldb, ldc, block, extent;
    float alpha, beta;
    const float *a, *b;
    float *c;
    atomic_int next;
    int n_blocks;
} sgemm_job;

static void sgemm_block(const sgemm_job *j, int i)
{
    int64_t lo = (int64_t)i * j->block, len = j->extent - lo < j->block ? j->extent - lo : j->block;
    const float *a = j->a, *b = j->b;
    float *c = j->c;
    int64_t m = j->m, n = j->n;
    if (j->rows) {
        a += j->ta ? lo : lo * j->lda;
        c += lo * j->ldc;
        m = len;
    } else {
        b += j->tb ? lo * j->ldb : lo;
        c += lo;
        n = len;
    }
    cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, (blasint)m,
                (blasint)n, (blasint)j->k, j->alpha, a, (blasint)j->lda, b, (blasint)j->ldb, j->beta, c, (blasint)j->ldc);
}

static void *sgemm_worker(void *arg)
{
    sgemm_job *j = arg;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->n_blocks;) sgemm_block(j, i);
    return NULL;
}

static void sgemm_blocked(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    sgemm_job j = {trans_a, trans_b, m >= n, m, n, k, lda, ldb, ldc, 0, m >= n ? m : n, alpha, beta, a, b, c, 0, 1};
    double macs = (double)m * (double)n * (double)k;
    if (macs >= SGEMM_SPLIT_MACS && j.extent >= 2 * SGEMM_ALIGN) {
        int64_t blocks = j.extent / SGEMM_ALIGN < SGEMM_MAX_BLOCKS ? j.extent / SGEMM_ALIGN : SGEMM_MAX_BLOCKS;
        j.block = (j.extent + blocks - 1) / blocks;
        j.block = (j.block + SGEMM_ALIGN - 1) / SGEMM_ALIGN * SGEMM_ALIGN;
        j.n_blocks = (int)((j.extent + j.block - 1) / j.block);
    } else {
        j.block = j.extent;
    }
    lc_run_workers(sgemm_threads < j.n_blocks ? sgemm_threads : j.n_blocks, sgemm_worker, &j);
}

void lc_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    if (m == 1 || n == 1) {
        /* A matrix-vector product: sgemm would pack the whole matrix operand
         * on every call (most of the time of a batch-1 Gemm), sgemv streams
         * it once. The output is zeroed first when beta is 0 so that stale
         * NaNs in a reused buffer cannot leak through beta * y. */
        if (beta == 0.0f)
            for (int64_t i = 0; i < (m == 1 ? n : m); i++) c[m == 1 ? i : i * ldc] = 0.0f;
        if (m == 1) {
            /* c[1, n] = a[1, k] * op(B): B is k x n (y = B^T a) or n x k (y = B a) */
            const blasint inc_a = trans_a ? (blasint)lda : 1;
            if (trans_b)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, alpha, b, (blasint)ldb, a, inc_a, beta,
                            c, 1);
            else
                cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, alpha, b, (blasint)ldb, a, inc_a, beta, c,
                            1);
        } else {
            /* c[m, 1] = op(A) * b[k, 1]: A is m x k or k x m */
            const blasint inc_b = trans_b ? 1 : (blasint)ldb;
            if (trans_a)
                cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)m, alpha, a, (blasint)lda, b, inc_b, beta, c,
                            (blasint)ldc);
            else
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)m, (blasint)k, alpha, a, (blasint)lda, b, inc_b, beta,
                            c, (blasint)ldc);
        }
        return;
    }
    sgemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void lc_sgemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)(trans_a ? a[p * lda + i] : a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = (float)(alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j]));
        }
}

