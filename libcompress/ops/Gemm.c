/* Gemm: Y = alpha * op(A) * op(B) + beta * C through lc_sgemm. C is
 * broadcast into Y first (unidirectionally; before opset 7 only with
 * broadcast=1, otherwise it must have Y's shape); C is optional from
 * opset 11. With AVX2 or AVX-512, a constant B of up to GEMM_PACK_MAX
 * floats is packed once at plan time and the product runs in gemm_avx2.c
 * or gemm_avx512.c (for two rows of A or more; one row stays a
 * matrix-vector product). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

typedef struct gemm_state {
    bool ta, tb;
    int64_t m, n, k;
    float alpha, beta;
    int64_t c_stride[2]; /* C's strides over Y's [M, N]; 0 on broadcast */
    lc_nn_epilogue epi;  /* activation fused by the executor */
    float *packed;       /* op(B) in 32-column panels, or NULL */
    int threads;
} gemm_state;

#define GEMM_PACK_MAX (1 << 20)

static void gemm_free(void *state)
{
    gemm_state *st = state;
    if (st) free(st->packed);
    free(st);
}

static lc_status set_epilogue(void *state, const lc_nn_epilogue *e)
{
    gemm_state *st = state;
    if (e->residual) return lc_fail(LC_ERR_UNSUPPORTED, "Gemm does not fuse a residual");
    st->epi = *e;
    return LC_OK;
}

static lc_status gemm_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "Gemm needs inputs A and B and output Y");
    const lc_value *A = a->in[0], *B = a->in[1], *C = a->n_in > 2 ? a->in[2] : NULL;
    if ((s = lc_nn_need_float(A, "A")) || (s = lc_nn_need_float(B, "B")) || (C && (s = lc_nn_need_float(C, "C"))))
        return s;
    if (A->ndim != 2 || B->ndim != 2)
        return lc_fail(LC_ERR_SHAPE, "A and B must be 2-D, have ranks %d and %d", A->ndim, B->ndim);
    if (!C && a->opset < 11) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input C is required before opset 11");
    gemm_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->ta = lc_node_attr_int(a->node, "transA", 0) != 0;
    st->tb = lc_node_attr_int(a->node, "transB", 0) != 0;
    st->alpha = lc_node_attr_float(a->node, "alpha", 1.0f);
    st->beta = lc_node_attr_float(a->node, "beta", 1.0f);
    st->m = st->ta ? A->dims[1] : A->dims[0];
    st->k = st->ta ? A->dims[0] : A->dims[1];
    st->n = st->tb ? B->dims[0] : B->dims[1];
    int64_t kb = st->tb ? B->dims[1] : B->dims[0];
    if (kb != st->k) {
        s = lc_fail(LC_ERR_SHAPE, "inner dimensions differ: A gives %lld, B gives %lld", (long long)st->k,
                    (long long)kb);
        goto fail;
    }
    int64_t yd[2] = {st->m, st->n};
    if (C) {
        bool bcast = a->opset >= 7 || lc_node_attr_int(a->node, "broadcast", 0) != 0;
        bool ok = C->ndim <= 2;
        if (ok && !bcast) ok = C->ndim == 2 && C->dims[0] == st->m && C->dims[1] == st->n;
        for (int i = 0; ok && i < C->ndim; i++) {
            int64_t d = C->dims[i], want = yd[2 - C->ndim + i];
            if (d != want && d != 1) ok = false;
        }
        if (!ok) {
            s = lc_fail(LC_ERR_SHAPE, "C of shape [%s] does not %s to [%lld, %lld]", lc_dims_str(C->ndim, C->dims),
                        bcast ? "broadcast" : "match (broadcast=0)", (long long)st->m, (long long)st->n);
            goto fail;
        }
        lc_broadcast_strides(2, yd, C->ndim, C->dims, st->c_stride);
    }
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, 2, yd))) goto fail;
    st->threads = a->threads > 1 ? a->threads : 1;
#if defined(__x86_64__) && defined(__GNUC__)
    if (lc_nn_isa() >= LC_ISA_AVX2 && B->is_const && B->data && st->m >= 2 && st->k * st->n <= GEMM_PACK_MAX) {
        if (!(st->packed = malloc((size_t)lc_gemm_packed_floats(st->k, st->n) * sizeof(float)))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory packing B");
            goto fail;
        }
        lc_gemm_pack_b(st->tb, st->k, st->n, B->data, B->dims[1], st->packed);
    }
#endif
    a->state = st;
    return LC_OK;
fail:
    gemm_free(st);
    return s;
}

/* The packed product split into `parts` runs of rows (each output is
 * computed the same way whatever the split: same bits on any thread
 * count). */
typedef struct gemm_job {
    const gemm_state *st;
    const float *a;
    int64_t lda;
    float beta;
    float *y;
    int parts;
    atomic_int next;
} gemm_job;

#if defined(__x86_64__) && defined(__GNUC__)
static void *gemm_worker(void *arg)
{
    gemm_job *j = arg;
    const gemm_state *st = j->st;
    for (int t; (t = atomic_fetch_add(&j->next, 1)) < j->parts;) {
        const int64_t lo = st->m * t / j->parts, hi = st->m * (t + 1) / j->parts;
        const float *a = j->a + (st->ta ? lo : lo * j->lda);
        (lc_nn_isa() >= LC_ISA_AVX512 ? lc_gemm_packed_avx512 : lc_gemm_packed_avx2)(
            st->ta, hi - lo, st->n, st->k, st->alpha, a, j->lda, st->packed, j->beta, j->y + lo * st->n, &st->epi);
    }
    return NULL;
}
#endif

static lc_status gemm_run(lc_kernel_args *a)
{
    const gemm_state *st = a->state;
    const lc_value *C = a->n_in > 2 ? a->in[2] : NULL;
    float *y = a->out[0]->data;
    float beta = 0.0f;
    if (C && st->beta != 0.0f) {
        const float *c = C->data;
        for (int64_t i = 0; i < st->m; i++)
            for (int64_t j = 0; j < st->n; j++) y[i * st->n + j] = c[i * st->c_stride[0] + j * st->c_stride[1]];
        beta = st->beta;
    }
    const lc_value *A = a->in[0], *B = a->in[1];
#if defined(__x86_64__) && defined(__GNUC__)
    if (st->packed) {
        gemm_job job = {st, A->data, A->dims[1], beta, y, st->threads, 0};
        lc_run_workers(st->threads, gemm_worker, &job);
        return LC_OK;
    }
#endif
    lc_sgemm(st->ta, st->tb, st->m, st->n, st->k, st->alpha, A->data, A->dims[1], B->data, B->dims[1], beta, y, st->n);
    if (st->epi.act != LC_NN_ACT_NONE) lc_nn_epilogue_row(y, y, st->m * st->n, 0.0f, NULL, &st->epi);
    return LC_OK;
}

static const lc_fusion fusion = {.set_epilogue = set_epilogue};

const lc_kernel lc_kernel_Gemm_1 = {"Gemm", 1, 3, 0, gemm_prepare, gemm_run, gemm_free, &fusion};
/* C became optional in opset 11 */
const lc_kernel lc_kernel_Gemm_11 = {"Gemm", 11, 2, 0, gemm_prepare, gemm_run, gemm_free, &fusion};
