/* Ceil: round toward +inf (float types). */
#include "lc_elementwise.h"

#define OP_F32(T, x) (ceilf(x))
#define OP_F64(T, x) (ceil(x))
LC_EW_ROW1(ceil_f32, float, float, OP_F32)
LC_EW_ROW1(ceil_f64, double, double, OP_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = ceil_f32, [LC_DTYPE_DOUBLE] = ceil_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Ceil, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Ceil, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Ceil, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
