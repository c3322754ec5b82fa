/* Softsign: x / (1 + |x|) (float types). */
#include "lc_elementwise.h"

#define SS_F32(T, x) ((x) / (1.0f + fabsf(x)))
#define SS_F64(T, x) ((x) / (1.0 + fabs(x)))
LC_EW_ROW1(softsign_f32, float, float, SS_F32)
LC_EW_ROW1(softsign_f64, double, double, SS_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = softsign_f32, [LC_DTYPE_DOUBLE] = softsign_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Softsign, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Softsign, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
