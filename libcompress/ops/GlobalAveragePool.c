/* GlobalAveragePool: the mean over all spatial axes of each (N, C) plane. */
#include <stdlib.h>

#include "lc_nn.h"

static lc_status gap_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "GlobalAveragePool needs input X and output Y");
    const lc_value *x = a->in[0];
    if ((s = lc_nn_need_float(x, "X"))) return s;
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "X has rank %d (at least 2 expected)", x->ndim);
    int64_t od[LC_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) od[i] = i < 2 ? x->dims[i] : 1;
    return lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od);
}

static lc_status gap_run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    const int64_t planes = x->dims[0] * x->dims[1], size = planes ? lc_value_numel(x) / planes : 0;
    const float *xp = x->data;
    float *y = a->out[0]->data;
    for (int64_t p = 0; p < planes; p++, xp += size) {
        /* eight running sums: independent chains the compiler can keep in
         * one vector register, then added pairwise */
        float acc[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= size; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += xp[i + j];
        for (int j = 0; i < size; i++, j++) acc[j] += xp[i];
        const float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        y[p] = size ? sum / (float)size : 0.0f;
    }
    return LC_OK;
}

const lc_kernel lc_kernel_GlobalAveragePool_1 = {"GlobalAveragePool", 1, 1, 0, gap_prepare, gap_run, free, NULL};
