/* InstanceNormalization: each (N, C) plane normalized by its own mean and
 * (population) variance, then scaled and shifted per channel. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

static lc_status in_prepare(lc_kernel_args *a)
{
    lc_status s;
    static const char *names[] = {"input", "scale", "B"};
    if (a->n_in < 3 || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "InstanceNormalization needs inputs input, scale, B and an output");
    for (int i = 0; i < 3; i++) {
        if (!a->in[i]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %s is missing", names[i]);
        if ((s = lc_nn_need_float(a->in[i], names[i]))) return s;
    }
    const lc_value *x = a->in[0];
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "input has rank %d (at least 2 expected)", x->ndim);
    for (int i = 1; i < 3; i++)
        if (lc_value_numel(a->in[i]) != x->dims[1])
            return lc_fail(LC_ERR_SHAPE, "%s has %lld values for %lld channels", names[i],
                           (long long)lc_value_numel(a->in[i]), (long long)x->dims[1]);
    return lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, x->dims);
}

static lc_status in_run(lc_kernel_args *a)
{
    const lc_value *xv = a->in[0];
    const float eps = lc_node_attr_float(a->node, "epsilon", 1e-5f);
    const int64_t n = xv->dims[0], c = xv->dims[1], size = lc_shape_numel(xv->ndim - 2, xv->dims + 2, 0);
    const float *scale = a->in[1]->data, *bias = a->in[2]->data, *x = xv->data;
    float *y = a->out[0]->data;
    for (int64_t p = 0; p < n * c; p++) {
        const float *xp = x + p * size;
        float *yp = y + p * size;
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < size; i++) sum += xp[i];
        const double mean = size ? sum / (double)size : 0;
        for (int64_t i = 0; i < size; i++) sq += (xp[i] - mean) * (xp[i] - mean);
        const double var = size ? sq / (double)size : 0;
        const double k = scale[p % c] / sqrt(var + eps);
        const float fk = (float)k, fb = (float)(bias[p % c] - mean * k);
        for (int64_t i = 0; i < size; i++) yp[i] = xp[i] * fk + fb;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_InstanceNormalization_1 = {"InstanceNormalization", 1, 3, 0, in_prepare, in_run, free, NULL};
