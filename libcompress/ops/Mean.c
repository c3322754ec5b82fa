/* Mean: elementwise mean of 1..N inputs, numpy broadcasting (opset 8+):
 * the inputs are summed pairwise, left to right, then divided by N
 * (float types). */
#include "lc_elementwise.h"

#define ADD(T, x, y) ((x) + (y))
LC_EW_ROW2(add_f32, float, float, float, ADD)
LC_EW_ROW2(add_f64, double, double, double, ADD)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = add_f32, [LC_DTYPE_DOUBLE] = add_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_variadic_prepare(a, rows);
}

static lc_status run(lc_kernel_args *a)
{
    lc_status s = lc_ew_variadic_run(a);
    if (s) return s;
    lc_value *o = a->out[0];
    int64_t n = lc_value_numel(o);
    double k = a->n_in;
    switch (o->dtype) {
    case LC_DTYPE_FLOAT:
        for (int64_t i = 0; i < n; i++) ((float *)o->data)[i] = (float)(((float *)o->data)[i] / k);
        break;
    case LC_DTYPE_DOUBLE:
        for (int64_t i = 0; i < n; i++) ((double *)o->data)[i] /= k;
        break;
    case LC_DTYPE_FLOAT16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t *h = (uint16_t *)o->data + i;
            *h = lc_float_to_half((float)(lc_half_to_float(*h) / k));
        }
        break;
    case LC_DTYPE_BFLOAT16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t *h = (uint16_t *)o->data + i;
            *h = lc_ew_float_to_bf16((float)(lc_ew_bf16_to_float(*h) / k));
        }
        break;
    default: return lc_ew_bad_dtype(a, "input", o->dtype);
    }
    return LC_OK;
}

LC_EW_KERNEL(Mean, 1, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Mean, 6, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Mean, 8, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Mean, 13, 1, 0, prepare, run, NULL)
