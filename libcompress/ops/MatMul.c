/* MatMul with numpy semantics: batch axes broadcast, a 1-D A gains a
 * leading 1 and a 1-D B a trailing 1 that are dropped from the result.
 * When B has no batch axes, A's batch folds into the rows of one sgemm. */
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

typedef struct matmul_state {
    int64_t m, n, k;
    int64_t batch;      /* broadcast batch count */
    int64_t *a_off;     /* per batch: A's matrix index (NULL: fold) */
    int64_t *b_off;
} matmul_state;

static void matmul_free(void *state)
{
    matmul_state *st = state;
    if (!st) return;
    free(st->a_off);
    free(st->b_off);
    free(st);
}

static lc_status matmul_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "MatMul needs inputs A and B and output Y");
    const lc_value *A = a->in[0], *B = a->in[1];
    if ((s = lc_nn_need_float(A, "A")) || (s = lc_nn_need_float(B, "B"))) return s;
    if (A->ndim < 1 || B->ndim < 1) return lc_fail(LC_ERR_SHAPE, "MatMul inputs must have rank 1 or more");
    const bool a1 = A->ndim == 1, b1 = B->ndim == 1;
    int64_t m = a1 ? 1 : A->dims[A->ndim - 2], k = A->dims[A->ndim - 1];
    int64_t kb = b1 ? B->dims[0] : B->dims[B->ndim - 2], n = b1 ? 1 : B->dims[B->ndim - 1];
    if (k != kb)
        return lc_fail(LC_ERR_SHAPE, "inner dimensions differ: A [%s] gives %lld, B gives %lld",
                       lc_dims_str(A->ndim, A->dims), (long long)k, (long long)kb);
    int an = A->ndim > 2 ? A->ndim - 2 : 0, bn = B->ndim > 2 ? B->ndim - 2 : 0, nb;
    int64_t bd[LC_MAX_DIMS], od[LC_MAX_DIMS];
    if ((s = lc_broadcast_shape(an, A->dims, bn, B->dims, &nb, bd))) return s;
    memcpy(od, bd, (size_t)nb * sizeof *od);
    int on = nb;
    if (!a1) od[on++] = m;
    if (!b1) od[on++] = n;
    if (on > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "result rank %d too large", on);
    matmul_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->m = m;
    st->n = n;
    st->k = k;
    st->batch = lc_shape_numel(nb, bd, 0);
    if (bn > 0 && st->batch > 0) {
        int64_t as[LC_MAX_DIMS], bs[LC_MAX_DIMS];
        lc_broadcast_strides(nb, bd, an, A->dims, as);
        lc_broadcast_strides(nb, bd, bn, B->dims, bs);
        st->a_off = malloc((size_t)st->batch * sizeof *st->a_off);
        st->b_off = malloc((size_t)st->batch * sizeof *st->b_off);
        if (!st->a_off || !st->b_off) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        for (int64_t i = 0; i < st->batch; i++) {
            int64_t r = i, ao = 0, bo = 0;
            for (int d = nb - 1; d >= 0; d--) {
                int64_t idx = r % bd[d];
                r /= bd[d];
                ao += idx * as[d];
                bo += idx * bs[d];
            }
            st->a_off[i] = ao;
            st->b_off[i] = bo;
        }
    }
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, on, od))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    matmul_free(st);
    return s;
}

static lc_status matmul_run(lc_kernel_args *a)
{
    const matmul_state *st = a->state;
    const float *A = a->in[0]->data, *B = a->in[1]->data;
    float *y = a->out[0]->data;
    if (!st->a_off) { /* B is one matrix: A's batch rows stack */
        lc_sgemm(false, false, st->batch * st->m, st->n, st->k, 1.0f, A, st->k, B, st->n, 0.0f, y, st->n);
        return LC_OK;
    }
    const int64_t asz = st->m * st->k, bsz = st->k * st->n, ysz = st->m * st->n;
    for (int64_t i = 0; i < st->batch; i++)
        lc_sgemm(false, false, st->m, st->n, st->k, 1.0f, A + st->a_off[i] * asz, st->k, B + st->b_off[i] * bsz, st->n,
                 0.0f, y + i * ysz, st->n);
    return LC_OK;
}

const lc_kernel lc_kernel_MatMul_1 = {"MatMul", 1, 2, 0, matmul_prepare, matmul_run, matmul_free, NULL};
