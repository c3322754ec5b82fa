/* MaxPool over 1 to 3 spatial axes: kernel_shape, strides, pads, auto_pad,
 * dilations, ceil_mode, and the optional Indices output (flat indices
 * into X, row- or column-major per storage_order). Padding never wins:
 * only positions inside X take part. float, int8 and uint8. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

typedef struct pool_state {
    lc_nn_geom g;
    lc_nn_taps t;
    int64_t planes;         /* N * C */
    bool col_major;         /* storage_order = 1 */
} pool_state;

static void pool_free(void *state)
{
    pool_state *st = state;
    if (!st) return;
    lc_nn_taps_clear(&st->t);
    free(st);
}

/* With indices: the first maximum in window order wins, as in ONNX's
 * reference. Padding never takes part. */
#define MAXPOOL_IMPL(NAME, T, LOWEST)                                                                            \
    static void NAME(const pool_state *st, const T *x, T *y, int64_t *ind)                                    \
    {                                                                                                         \
        const lc_nn_geom *g = &st->g;                                                                         \
        const lc_nn_taps *t = &st->t;                                                                         \
        const int64_t D = g->in[0], H = g->in[1], W = g->in[2];                                               \
        const int64_t dd = g->dil[0], dh = g->dil[1], dw = g->dil[2];                                         \
        for (int64_t p = 0; p < st->planes; p++) {                                                            \
            const T *xp = x + p * g->in_size;                                                                 \
            for (int64_t od = 0; od < g->out[0]; od++)                                                        \
                for (int64_t oh = 0; oh < g->out[1]; oh++)                                                    \
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {                                              \
                        const int64_t w0 = t->start[2][ow], wlo = t->lo[2][ow], whi = t->hi[2][ow];           \
                        T best = LOWEST;                                                                      \
                        int64_t arg = -1;                                                                     \
                        for (int64_t kd = t->lo[0][od]; kd < t->hi[0][od]; kd++)                              \
                            for (int64_t kh = t->lo[1][oh]; kh < t->hi[1][oh]; kh++) {                        \
                                int64_t row = ((t->start[0][od] + kd * dd) * H + t->start[1][oh] + kh * dh) * W + w0; \
                                if (!ind) {                                                                   \
                                    for (int64_t kw = wlo; kw < whi; kw++) {                                  \
                                        T v = xp[row + kw * dw];                                              \
                                        best = v > best ? v : best;                                           \
                                    }                                                                         \
                                    continue;                                                                 \
                                }                                                                             \
                                for (int64_t kw = wlo; kw < whi; kw++) {                                      \
                                    int64_t i = row + kw * dw;                                                \
                                    if (arg < 0 || xp[i] > best) {                                            \
                                        best = xp[i];                                                         \
                                        arg = i;                                                              \
                                    }                                                                         \
                                }                                                                             \
                            }                                                                                 \
                        *y++ = best;                                                                          \
                        if (ind) {                                                                            \
                            int64_t r = arg < 0 ? 0 : arg;                                                    \
                            if (st->col_major) {                                                              \
                                int64_t iw = r % W, ih = r / W % H, id = r / (W * H);                         \
                                r = id + D * (ih + H * iw);                                                   \
                            }                                                                                 \
                            *ind++ = p * g->in_size + r;                                                      \
                        }                                                                                     \
                    }                                                                                         \
        }                                                                                                     \
    }

MAXPOOL_IMPL(maxpool_f32, float, -INFINITY)
MAXPOOL_IMPL(maxpool_u8, uint8_t, 0)
MAXPOOL_IMPL(maxpool_i8, int8_t, -128)

/* The common 2x2, stride 2, unpadded, undilated float case. */
static void maxpool_2x2(const pool_state *st, const float *x, float *y)
{
    const lc_nn_geom *g = &st->g;
    const int64_t W = g->in[2], OH = g->out[1], OW = g->out[2];
    for (int64_t p = 0; p < st->planes; p++) {
        const float *xp = x + p * g->in_size;
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
            for (int64_t ow = 0; ow < OW; ow++) {
                float a = r0[2 * ow] > r0[2 * ow + 1] ? r0[2 * ow] : r0[2 * ow + 1];
                float b = r1[2 * ow] > r1[2 * ow + 1] ? r1[2 * ow] : r1[2 * ow + 1];
                *y++ = a > b ? a : b;
            }
        }
    }
}

static bool is_2x2(const lc_nn_geom *g)
{
    return g->nsp == 2 && g->k[1] == 2 && g->k[2] == 2 && g->stride[1] == 2 && g->stride[2] == 2 && g->dil[1] == 1 &&
           g->dil[2] == 1 && !g->pad_b[1] && !g->pad_b[2] && 2 * g->out[1] <= g->in[1] && 2 * g->out[2] <= g->in[2];
}

static lc_status maxpool_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "MaxPool needs input X and output Y");
    const lc_value *x = a->in[0];
    if (x->dtype != LC_DTYPE_FLOAT && x->dtype != LC_DTYPE_UINT8 && x->dtype != LC_DTYPE_INT8)
        return lc_fail(LC_ERR_UNSUPPORTED, "input X has dtype %s (float, int8 and uint8 are supported)",
                       lc_dtype_name(x->dtype));
    if (x->ndim < 3 || x->ndim > 2 + LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "X has rank %d (3 to %d supported)", x->ndim, 2 + LC_NN_MAX_SPATIAL);
    pool_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    const int nsp = x->ndim - 2;
    const bool ceil_mode = lc_node_attr_int(a->node, "ceil_mode", 0) != 0;
    if ((s = lc_nn_geom_init(a->node, nsp, x->dims + 2, NULL, ceil_mode, &st->g)) ||
        (s = lc_nn_taps_init(&st->g, &st->t)))
        goto fail;
    st->planes = x->dims[0] * x->dims[1];
    st->col_major = lc_node_attr_int(a->node, "storage_order", 0) != 0;
    int64_t od[LC_MAX_DIMS] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < nsp; i++) od[2 + i] = st->g.out[3 - nsp + i];
    if ((s = lc_value_set_shape(a->out[0], x->dtype, x->ndim, od))) goto fail;
    if (a->n_out > 1 && a->out[1] && (s = lc_value_set_shape(a->out[1], LC_DTYPE_INT64, x->ndim, od))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    pool_free(st);
    return s;
}

static lc_status maxpool_run(lc_kernel_args *a)
{
    const pool_state *st = a->state;
    int64_t *ind = a->n_out > 1 && a->out[1] ? a->out[1]->data : NULL;
    switch (a->in[0]->dtype) {
    case LC_DTYPE_UINT8: maxpool_u8(st, a->in[0]->data, a->out[0]->data, ind); break;
    case LC_DTYPE_INT8: maxpool_i8(st, a->in[0]->data, a->out[0]->data, ind); break;
    default:
        if (!ind && is_2x2(&st->g)) maxpool_2x2(st, a->in[0]->data, a->out[0]->data);
        else maxpool_f32(st, a->in[0]->data, a->out[0]->data, ind);
        break;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_MaxPool_1 = {"MaxPool", 1, 1, 0, maxpool_prepare, maxpool_run, pool_free, NULL};
