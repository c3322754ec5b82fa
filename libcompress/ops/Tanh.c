/* Tanh: hyperbolic tangent (float types). */
#include "lc_elementwise.h"

#define OP_F32(T, x) (tanhf(x))
#define OP_F64(T, x) (tanh(x))
LC_EW_ROW1(tanh_f32, float, float, OP_F32)
LC_EW_ROW1(tanh_f64, double, double, OP_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = tanh_f32, [LC_DTYPE_DOUBLE] = tanh_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Tanh, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Tanh, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Tanh, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
