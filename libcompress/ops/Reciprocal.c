/* Reciprocal: 1 / x (float types; 1/0 is inf, as in IEEE). */
#include "lc_elementwise.h"

#define RECIP(T, x) ((T)1 / (x))
LC_EW_ROW1(recip_f32, float, float, RECIP)
LC_EW_ROW1(recip_f64, double, double, RECIP)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = recip_f32, [LC_DTYPE_DOUBLE] = recip_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Reciprocal, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Reciprocal, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Reciprocal, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
