/* BatchNormalization, inference form: y = (x - mean) / sqrt(var + eps) *
 * scale + B per channel, folded into y = x * a + b. Before opset 9,
 * spatial=0 makes the statistics per element of [C, D1, ...]. Training
 * (training_mode=1 from opset 14, or the running/saved statistics outputs
 * requested in older opsets) is refused as unsupported. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

typedef struct bn_state {
    int64_t n, c, inner; /* X as [n, c, inner] */
    int64_t groups;      /* coefficient pairs: c, or c * inner (spatial=0) */
    float *coef;         /* a[groups] then b[groups] */
} bn_state;

static void bn_free(void *state)
{
    bn_state *st = state;
    if (!st) return;
    free(st->coef);
    free(st);
}

static lc_status bn_prepare(lc_kernel_args *a)
{
    lc_status s;
    static const char *names[] = {"X", "scale", "B", "mean", "var"};
    if (a->n_in < 5 || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "BatchNormalization needs inputs X, scale, B, mean, var and output Y");
    for (int i = 0; i < 5; i++) {
        if (!a->in[i]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %s is missing", names[i]);
        if ((s = lc_nn_need_float(a->in[i], names[i]))) return s;
    }
    bool extra = false;
    for (int i = 1; i < a->n_out; i++) extra |= a->out[i] != NULL;
    if (a->opset >= 14 && lc_node_attr_int(a->node, "training_mode", 0) != 0)
        return lc_fail(LC_ERR_UNSUPPORTED, "training_mode=1 is not supported (inference only)");
    if (extra)
        return lc_fail(LC_ERR_UNSUPPORTED, "the mean/var outputs of training mode are not supported (inference only)");
    const lc_value *x = a->in[0];
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "X has rank %d (at least 2 expected)", x->ndim);
    bn_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->n = x->dims[0];
    st->c = x->dims[1];
    st->inner = lc_shape_numel(x->ndim - 2, x->dims + 2, 0);
    bool per_elem = a->opset < 9 && lc_node_attr_int(a->node, "spatial", 1) == 0;
    st->groups = per_elem ? st->c * st->inner : st->c;
    for (int i = 1; i < 5; i++)
        if (lc_value_numel(a->in[i]) != st->groups) {
            s = lc_fail(LC_ERR_SHAPE, "%s has %lld values, expected %lld", names[i],
                        (long long)lc_value_numel(a->in[i]), (long long)st->groups);
            goto fail;
        }
    if (!(st->coef = malloc((size_t)(2 * st->groups + 1) * sizeof *st->coef))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, x->dims))) goto fail;
    a->state = st;
    return LC_OK;
fail:
    bn_free(st);
    return s;
}

static lc_status bn_run(lc_kernel_args *a)
{
    bn_state *st = a->state;
    const float eps = lc_node_attr_float(a->node, "epsilon", 1e-5f);
    const float *scale = a->in[1]->data, *bias = a->in[2]->data, *mean = a->in[3]->data, *var = a->in[4]->data;
    float *ca = st->coef, *cb = st->coef + st->groups;
    for (int64_t i = 0; i < st->groups; i++) {
        double k = scale[i] / sqrt((double)var[i] + eps);
        ca[i] = (float)k;
        cb[i] = (float)(bias[i] - mean[i] * k);
    }
    const float *x = a->in[0]->data;
    float *y = a->out[0]->data;
    for (int64_t img = 0; img < st->n; img++)
        for (int64_t ch = 0; ch < st->c; ch++) {
            const int64_t base = (img * st->c + ch) * st->inner;
            if (st->groups != st->c) { /* spatial=0: coefficients per element */
                const float *pa = ca + ch * st->inner, *pb = cb + ch * st->inner;
                for (int64_t i = 0; i < st->inner; i++) y[base + i] = x[base + i] * pa[i] + pb[i];
            } else {
                const float k = ca[ch], b = cb[ch];
                for (int64_t i = 0; i < st->inner; i++) y[base + i] = x[base + i] * k + b;
            }
        }
    return LC_OK;
}

/* Fusion: y = (x - mean) * k + B with k = scale / sqrt(var + eps), per
 * channel, when the statistics are float32 constants (the executor folds
 * it into the preceding Conv's weights). Not for spatial=0. */
static bool channel_affine(const lc_kernel_args *a, int64_t channels, double *k, double *sub, double *add)
{
    for (int i = 1; i < 5; i++)
        if (i >= a->n_in || !a->in[i] || !a->in[i]->is_const || a->in[i]->dtype != LC_DTYPE_FLOAT) return false;
    if (lc_value_numel(a->in[1]) != channels) return false;
    if (a->opset < 9 && lc_node_attr_int(a->node, "spatial", 1) == 0) return false;
    const float eps = lc_node_attr_float(a->node, "epsilon", 1e-5f);
    const float *scale = a->in[1]->data, *beta = a->in[2]->data, *mean = a->in[3]->data, *var = a->in[4]->data;
    for (int64_t c = 0; c < channels; c++) {
        k[c] = scale[c] / sqrt((double)var[c] + eps);
        sub[c] = mean[c];
        add[c] = beta[c];
    }
    return true;
}

static const lc_fusion fusion = {.channel_affine = channel_affine};

const lc_kernel lc_kernel_BatchNormalization_1 = {"BatchNormalization", 1, 5, 0, bn_prepare, bn_run, bn_free, &fusion};
