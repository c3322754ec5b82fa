/* GlobalMaxPool: the maximum over all spatial axes of each (N, C) plane. */
#include <stdlib.h>

#include "lc_nn.h"

static lc_status gmp_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "GlobalMaxPool needs input X and output Y");
    const lc_value *x = a->in[0];
    if ((s = lc_nn_need_float(x, "X"))) return s;
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "X has rank %d (at least 2 expected)", x->ndim);
    int64_t od[LC_MAX_DIMS];
    int64_t spatial = 1;
    for (int i = 0; i < x->ndim; i++) {
        od[i] = i < 2 ? x->dims[i] : 1;
        if (i >= 2) spatial *= x->dims[i];
    }
    if (spatial == 0 && x->dims[0] * x->dims[1] > 0)
        return lc_fail(LC_ERR_SHAPE, "X has an empty spatial axis");
    return lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od);
}

static lc_status gmp_run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    const int64_t planes = x->dims[0] * x->dims[1], size = planes ? lc_value_numel(x) / planes : 0;
    const float *xp = x->data;
    float *y = a->out[0]->data;
    for (int64_t p = 0; p < planes; p++, xp += size) {
        float m = xp[0];
        for (int64_t i = 1; i < size; i++)
            if (xp[i] > m) m = xp[i];
        y[p] = m;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_GlobalMaxPool_1 = {"GlobalMaxPool", 1, 1, 0, gmp_prepare, gmp_run, free, NULL};
