/* LRN: local response normalization across channels of an [N, C, ...]
 * float32 tensor: y = x / (bias + alpha / size * sum(x^2 over the
 * channels c - floor((size-1)/2) .. c + ceil((size-1)/2)))^beta. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

typedef struct {
    float alpha, beta, bias;
    int64_t size;
} lrn_state;

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    lc_status s = lc_nn_need_float(x, "X");
    if (s) return s;
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "X must have rank >= 2, has %d", x->ndim);
    int64_t size = lc_node_attr_int(a->node, "size", 0);
    if (size < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute size must be given and >= 1");
    lrn_state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->alpha = lc_node_attr_float(a->node, "alpha", 1e-4f);
    st->beta = lc_node_attr_float(a->node, "beta", 0.75f);
    st->bias = lc_node_attr_float(a->node, "bias", 1.0f);
    st->size = size;
    a->state = st;
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lrn_state *st = a->state;
    const lc_value *x = a->in[0];
    const float *xd = x->data;
    float *yd = a->out[0]->data;
    int64_t n = x->dims[0], c = x->dims[1], inner = 1;
    for (int d = 2; d < x->ndim; d++) inner *= x->dims[d];
    int64_t lo = (st->size - 1) / 2, hi = st->size - 1 - lo;
    double scale = (double)st->alpha / (double)st->size;
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            int64_t c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi >= c ? c - 1 : ch + hi;
            const float *xc = xd + (b * c + ch) * inner;
            float *yc = yd + (b * c + ch) * inner;
            for (int64_t i = 0; i < inner; i++) {
                double sq = 0;
                for (int64_t k = c0; k <= c1; k++) {
                    double v = xd[(b * c + k) * inner + i];
                    sq += v * v;
                }
                yc[i] = (float)(xc[i] / pow(st->bias + scale * sq, st->beta));
            }
        }
    return LC_OK;
}

const lc_kernel lc_kernel_LRN_1 = {"LRN", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_LRN_13 = {"LRN", 13, 1, 0, prepare, run, free, NULL};
