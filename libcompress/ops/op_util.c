/* Helpers shared by kernels: broadcasting, axes, attributes, sgemm,
 * float16 conversion, and lc_value accessors. */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"

int64_t lc_value_numel(const lc_value *v)
{
    return lc_shape_numel(v->ndim, v->dims, 0);
}

lc_status lc_value_set_shape(lc_value *v, int dtype, int ndim, const int64_t *dims)
{
    if (ndim < 0 || ndim > LC_MAX_DIMS)
        return lc_fail(LC_ERR_UNSUPPORTED, "output '%s' would have rank %d (at most %d supported)", v->name, ndim, LC_MAX_DIMS);
    size_t es = lc_dtype_size(dtype);
    if (!es) return lc_fail(LC_ERR_DTYPE, "output '%s': unsupported dtype %s", v->name, lc_dtype_name(dtype));
    if (lc_shape_numel(ndim, dims, es) < 0)
        return lc_fail(LC_ERR_SHAPE, "output '%s': shape [%s] is negative or too large", v->name, lc_dims_str(ndim, dims));
    v->dtype = dtype;
    v->ndim = ndim;
    if (ndim) memmove(v->dims, dims, (size_t)ndim * sizeof *dims);
    return LC_OK;
}

lc_status lc_value_read_ints(const lc_value *v, int64_t *out, int max, int *n)
{
    *n = 0;
    if (!v->is_const)
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' must be known before running (data-dependent shape)", v->name);
    if (v->ndim > 1) return lc_fail(LC_ERR_SHAPE, "input '%s' must be 1-D, has rank %d", v->name, v->ndim);
    int64_t cnt = lc_value_numel(v);
    if (cnt > max) return lc_fail(LC_ERR_SHAPE, "input '%s' has %lld values (at most %d supported)", v->name, (long long)cnt, max);
    for (int64_t i = 0; i < cnt; i++) {
        if (v->dtype == LC_DTYPE_INT64) out[i] = ((const int64_t *)v->data)[i];
        else if (v->dtype == LC_DTYPE_INT32) out[i] = ((const int32_t *)v->data)[i];
        else return lc_fail(LC_ERR_DTYPE, "input '%s' must be int64 or int32, is %s", v->name, lc_dtype_name(v->dtype));
    }
    *n = (int)cnt;
    return LC_OK;
}

double lc_value_scalar(const lc_value *v)
{
    if (!v || !v->data || lc_value_numel(v) < 1) return 0;
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[0];
    case LC_DTYPE_DOUBLE: return ((const double *)v->data)[0];
    case LC_DTYPE_FLOAT16: return lc_half_to_float(((const uint16_t *)v->data)[0]);
    case LC_DTYPE_INT64: return (double)((const int64_t *)v->data)[0];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[0];
    case LC_DTYPE_INT16: return ((const int16_t *)v->data)[0];
    case LC_DTYPE_UINT16: return ((const uint16_t *)v->data)[0];
    case LC_DTYPE_INT8: return ((const int8_t *)v->data)[0];
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return ((const uint8_t *)v->data)[0];
    case LC_DTYPE_UINT32: return ((const uint32_t *)v->data)[0];
    case LC_DTYPE_UINT64: return (double)((const uint64_t *)v->data)[0];
    default: return 0;
    }
}

lc_status lc_broadcast_shape(int an, const int64_t *a, int bn, const int64_t *b, int *ondim, int64_t *out)
{
    int n = an > bn ? an : bn;
    if (n > LC_MAX_DIMS) return lc_fail(LC_ERR_SHAPE, "broadcast rank %d exceeds %d", n, LC_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        int ia = i - (n - an), ib = i - (n - bn);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[256];
            snprintf(sa, sizeof sa, "%s", lc_dims_str(an, a));
            return lc_fail(LC_ERR_SHAPE, "shapes [%s] and [%s] do not broadcast", sa, lc_dims_str(bn, b));
        }
        out[i] = da == 1 ? db : da;
    }
    *ondim = n;
    return LC_OK;
}

void lc_broadcast_strides(int ondim, const int64_t *odims, int n, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ondim - 1; i >= 0; i--) {
        int k = i - (ondim - n);
        int64_t d = k >= 0 ? dims[k] : 1;
        strides[i] = (d == 1 && odims[i] != 1) || k < 0 ? 0 : s;
        if (k >= 0) s *= d;
    }
}

lc_status lc_norm_axis(int64_t axis, int ndim, const char *what, int *out)
{
    int64_t r = ndim ? ndim : 1;
    if (axis < -r || axis >= r)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s %lld is out of range for rank %d", what, (long long)axis, ndim);
    *out = (int)(axis < 0 ? axis + r : axis);
    return LC_OK;
}

lc_status lc_attr_ints(const lc_node *node, const char *name, int64_t *out, int max, int *n)
{
    *n = 0;
    const lc_attr *a = lc_node_attr(node, name);
    if (!a) return LC_OK;
    if (a->type != LC_ATTR_INTS) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' must be a list of ints", name);
    if (a->n > max) return lc_fail(LC_ERR_UNSUPPORTED, "attribute '%s' has %d values (at most %d)", name, a->n, max);
    if (a->n) memcpy(out, a->ints, (size_t)a->n * sizeof *out);
    *n = a->n;
    return LC_OK;
}

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

void lc_run_workers(int threads, void *(*worker)(void *), void *job)
{
    pthread_t tid[LC_MAX_WORKERS];
    int started = 0;
    if (threads > LC_MAX_WORKERS) threads = LC_MAX_WORKERS;
    for (; started < threads - 1; started++)
        if (pthread_create(&tid[started], NULL, worker, job) != 0) break;
    worker(job);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
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

