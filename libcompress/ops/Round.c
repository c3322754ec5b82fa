/* Round: to the nearest integer, halves to even (float types). rint uses
 * the current rounding mode, which the library never changes from the
 * default round-to-nearest-even. */
#include "lc_elementwise.h"

#define ROUND_F32(T, x) rintf(x)
#define ROUND_F64(T, x) rint(x)
LC_EW_ROW1(round_f32, float, float, ROUND_F32)
LC_EW_ROW1(round_f64, double, double, ROUND_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = round_f32, [LC_DTYPE_DOUBLE] = round_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Round, 11, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Round, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
