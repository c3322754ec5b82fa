/* Sign: -1, 0 or 1 by the sign of x (all numeric types; NaN stays NaN). */
#include "lc_elementwise.h"

#define SIGN_F(T, x) ((x) > 0 ? (T)1 : (x) < 0 ? (T)-1 : (x))
#define SIGN_S(T, x) ((T)(((x) > 0) - ((x) < 0)))
#define SIGN_U(T, x) ((T)((x) > 0))
LC_EW_ROW1(sign_f32, float, float, SIGN_F)
LC_EW_ROW1(sign_f64, double, double, SIGN_F)
#define DEF_S(s, T, D) LC_EW_ROW1(sign_##s, T, T, SIGN_S)
#define DEF_U(s, T, D) LC_EW_ROW1(sign_##s, T, T, SIGN_U)
LC_EW_SINTS(DEF_S)
LC_EW_UINTS(DEF_U)

#define REG(s, T, D) [D] = sign_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Sign, 9, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Sign, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
