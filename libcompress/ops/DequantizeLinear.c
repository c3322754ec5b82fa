/* DequantizeLinear: y = (x - zero_point) * scale from uint8, int8 or
 * int32 (whose zero point must be 0), per tensor or (opset 13) per slice
 * of `axis`; float32 output. */
#include <stdlib.h>

#include "lc_nn.h"

static lc_status dq_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 2 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "DequantizeLinear needs inputs x and x_scale and output y");
    const lc_value *x = a->in[0];
    if (x->dtype != LC_DTYPE_UINT8 && x->dtype != LC_DTYPE_INT8 && x->dtype != LC_DTYPE_INT32)
        return lc_fail(LC_ERR_UNSUPPORTED, "input x has dtype %s (uint8, int8 and int32 are supported)",
                       lc_dtype_name(x->dtype));
    lc_nn_qparams *q = calloc(1, sizeof *q);
    if (!q) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if ((s = lc_nn_qparams_init(a, x, q))) goto fail;
    if (q->zero_dtype && q->zero_dtype != x->dtype) {
        s = lc_fail(LC_ERR_DTYPE, "zero point is %s, x is %s", lc_dtype_name(q->zero_dtype), lc_dtype_name(x->dtype));
        goto fail;
    }
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, x->dims))) goto fail;
    a->state = q;
    return LC_OK;
fail:
    free(q);
    return s;
}

static int32_t load(const void *p, int dtype, int64_t i)
{
    switch (dtype) {
    case LC_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case LC_DTYPE_INT8: return ((const int8_t *)p)[i];
    default: return ((const int32_t *)p)[i];
    }
}

static lc_status dq_run(lc_kernel_args *a)
{
    const lc_nn_qparams *q = a->state;
    const lc_value *xv = a->in[0], *zv = a->n_in > 2 ? a->in[2] : NULL;
    const float *scale = a->in[1]->data;
    float *y = a->out[0]->data;
    const int dt = xv->dtype;
    int64_t i = 0;
    for (int64_t o = 0; o < q->outer; o++)
        for (int64_t c = 0; c < q->channels; c++) {
            const float sc = scale[c];
            const int32_t zp = zv ? load(zv->data, dt, c) : 0;
            if (dt == LC_DTYPE_UINT8) {
                const uint8_t *x = xv->data;
                for (int64_t j = 0; j < q->inner; j++, i++) y[i] = (float)((int32_t)x[i] - zp) * sc;
            } else
                for (int64_t j = 0; j < q->inner; j++, i++) y[i] = (float)((int64_t)load(xv->data, dt, i) - zp) * sc;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_DequantizeLinear_10 = {"DequantizeLinear", 10, 2, 0, dq_prepare, dq_run, free, NULL};
