/* IsNaN: bool mask of NaN elements (float types). */
#include "lc_elementwise.h"

#define ISNAN(T, x) ((T)((x) != (x)))
LC_EW_ROW1(isnan_f32, float, uint8_t, ISNAN)
LC_EW_ROW1(isnan_f64, double, uint8_t, ISNAN)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = isnan_f32, [LC_DTYPE_DOUBLE] = isnan_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, LC_DTYPE_BOOL, NULL);
}

LC_EW_KERNEL(IsNaN, 9, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(IsNaN, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(IsNaN, 20, 1, 0, prepare, lc_ew_unary_run, NULL)
