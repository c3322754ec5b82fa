/* Exp: e^x (float types). */
#include "lc_elementwise.h"

#define OP_F32(T, x) (expf(x))
#define OP_F64(T, x) (exp(x))
LC_EW_ROW1(exp_f32, float, float, OP_F32)
LC_EW_ROW1(exp_f64, double, double, OP_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = exp_f32, [LC_DTYPE_DOUBLE] = exp_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Exp, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Exp, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Exp, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
