/* Sin: sine (float types). */
#include "lc_elementwise.h"

#define SIN_F32(T, x) sinf(x)
#define SIN_F64(T, x) sin(x)
LC_EW_ROW1(sin_f32, float, float, SIN_F32)
LC_EW_ROW1(sin_f64, double, double, SIN_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = sin_f32, [LC_DTYPE_DOUBLE] = sin_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Sin, 7, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Sin, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
