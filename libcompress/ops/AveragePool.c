/* AveragePool over 1 to 3 spatial axes: kernel_shape, strides, pads,
 * auto_pad, ceil_mode, dilations (opset 19) and count_include_pad. The
 * divisor counts the window's positions inside X, or with
 * count_include_pad those inside the padded X (a window that ceil_mode
 * pushes past the end padding is not charged for the overhang). */
#include <stdlib.h>

#include "lc_nn.h"

typedef struct avgpool_state {
    lc_nn_geom g;
    lc_nn_taps t;
    int64_t planes;
    bool include_pad;
} avgpool_state;

static void avgpool_free(void *state)
{
    avgpool_state *st = state;
    if (!st) return;
    lc_nn_taps_clear(&st->t);
    free(st);
}

static lc_status avgpool_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "AveragePool needs input X and output Y");
    const lc_value *x = a->in[0];
    if ((s = lc_nn_need_float(x, "X"))) return s;
    if (x->ndim < 3 || x->ndim > 2 + LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "X has rank %d (3 to %d supported)", x->ndim, 2 + LC_NN_MAX_SPATIAL);
    avgpool_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    const int nsp = x->ndim - 2;
    const bool ceil_mode = lc_node_attr_int(a->node, "ceil_mode", 0) != 0;
    if ((s = lc_nn_geom_init(a->node, nsp, x->dims + 2, NULL, ceil_mode, &st->g)) ||
        (s = lc_nn_taps_init(&st->g, &st->t)))
        goto fail;
    st->planes = x->dims[0] * x->dims[1];
    st->include_pad = lc_node_attr_int(a->node, "count_include_pad", 0) != 0;
    int64_t od[LC_MAX_DIMS] = {x->dims[0], x->dims[1]};
    for (int i = 0; i < nsp; i++) od[2 + i] = st->g.out[3 - nsp + i];
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    avgpool_free(st);
    return s;
}

static lc_status avgpool_run(lc_kernel_args *a)
{
    const avgpool_state *st = a->state;
    const lc_nn_geom *g = &st->g;
    const lc_nn_taps *t = &st->t;
    const int64_t H = g->in[1], W = g->in[2], dd = g->dil[0], dh = g->dil[1], dw = g->dil[2];
    const float *x = a->in[0]->data;
    float *y = a->out[0]->data;
    for (int64_t p = 0; p < st->planes; p++) {
        const float *xp = x + p * g->in_size;
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++)
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    const int64_t dlo = t->lo[0][od], dhi = t->hi[0][od], hlo = t->lo[1][oh], hhi = t->hi[1][oh];
                    const int64_t wlo = t->lo[2][ow], whi = t->hi[2][ow];
                    float sum = 0.0f;
                    for (int64_t kd = dlo; kd < dhi; kd++)
                        for (int64_t kh = hlo; kh < hhi; kh++) {
                            int64_t row = ((t->start[0][od] + kd * dd) * H + t->start[1][oh] + kh * dh) * W +
                                          t->start[2][ow];
                            for (int64_t kw = wlo; kw < whi; kw++) sum += xp[row + kw * dw];
                        }
                    int64_t cnt = st->include_pad ? t->padded[0][od] * t->padded[1][oh] * t->padded[2][ow]
                                                  : (dhi - dlo) * (hhi - hlo) * (whi - wlo);
                    *y++ = cnt > 0 ? sum / (float)cnt : 0.0f;
                }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_AveragePool_1 = {"AveragePool", 1, 1, 0, avgpool_prepare, avgpool_run, avgpool_free, NULL};
