/* Cos: cosine (float types). */
#include "lc_elementwise.h"

#define COS_F32(T, x) cosf(x)
#define COS_F64(T, x) cos(x)
LC_EW_ROW1(cos_f32, float, float, COS_F32)
LC_EW_ROW1(cos_f64, double, double, COS_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = cos_f32, [LC_DTYPE_DOUBLE] = cos_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Cos, 7, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Cos, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
