/* Abs: |x| (all numeric types; |INT_MIN| wraps to INT_MIN). */
#include "lc_elementwise.h"

#define ABS_F(T, x) ((T)fabs(x))
#define ABS_S(T, x) ((x) < 0 ? (T)(0 - (uint64_t)(x)) : (x))
#define ABS_U(T, x) (x)
LC_EW_ROW1(abs_f32, float, float, ABS_F)
LC_EW_ROW1(abs_f64, double, double, ABS_F)
#define DEF_S(s, T, D) LC_EW_ROW1(abs_##s, T, T, ABS_S)
#define DEF_U(s, T, D) LC_EW_ROW1(abs_##s, T, T, ABS_U)
LC_EW_SINTS(DEF_S)
LC_EW_UINTS(DEF_U)

#define REG(s, T, D) [D] = abs_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Abs, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Abs, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Abs, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
