/* QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point)
 * to uint8 (default, or the zero point's dtype) or int8, per tensor or
 * (opset 13) per slice of `axis`. float32 input. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

static lc_status q_prepare(lc_kernel_args *a)
{
    lc_status s;
    if (a->n_in < 2 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "QuantizeLinear needs inputs x and y_scale and output y");
    const lc_value *x = a->in[0];
    if ((s = lc_nn_need_float(x, "x"))) return s;
    lc_nn_qparams *q = calloc(1, sizeof *q);
    if (!q) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if ((s = lc_nn_qparams_init(a, x, q))) goto fail;
    int dt = q->zero_dtype ? q->zero_dtype : LC_DTYPE_UINT8;
    if (dt != LC_DTYPE_UINT8 && dt != LC_DTYPE_INT8) {
        s = lc_fail(LC_ERR_UNSUPPORTED, "zero point dtype %s (uint8 and int8 are supported)", lc_dtype_name(dt));
        goto fail;
    }
    if ((s = lc_value_set_shape(a->out[0], dt, x->ndim, x->dims))) goto fail;
    a->state = q;
    return LC_OK;
fail:
    free(q);
    return s;
}

static lc_status q_run(lc_kernel_args *a)
{
    const lc_nn_qparams *q = a->state;
    const lc_value *zv = a->n_in > 2 ? a->in[2] : NULL;
    const float *x = a->in[0]->data, *scale = a->in[1]->data;
    const bool s8 = a->out[0]->dtype == LC_DTYPE_INT8;
    const float lo = s8 ? -128.0f : 0.0f, hi = s8 ? 127.0f : 255.0f;
    uint8_t *yu = a->out[0]->data;
    int8_t *yi = a->out[0]->data;
    int64_t i = 0;
    for (int64_t o = 0; o < q->outer; o++)
        for (int64_t c = 0; c < q->channels; c++) {
            const float sc = scale[c];
            float zp = 0.0f;
            if (zv) zp = s8 ? (float)((const int8_t *)zv->data)[c] : (float)((const uint8_t *)zv->data)[c];
            for (int64_t j = 0; j < q->inner; j++, i++) {
                float v = nearbyintf(x[i] / sc) + zp;
                if (!(v >= lo)) v = isnan(v) ? zp : lo; /* NaN maps to the zero point */
                if (v > hi) v = hi;
                if (s8) yi[i] = (int8_t)v;
                else yu[i] = (uint8_t)v;
            }
        }
    return LC_OK;
}

const lc_kernel lc_kernel_QuantizeLinear_10 = {"QuantizeLinear", 10, 2, 0, q_prepare, q_run, free, NULL};
