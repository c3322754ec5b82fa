/* Softplus: ln(1 + e^x) (float types), as max(x, 0) + ln(1 + e^-|x|) so
 * that e^x never overflows and large inputs give x exactly. */
#include "lc_elementwise.h"

static inline float softplus_f(float x)
{
    return (x > 0 ? x : 0.0f) + log1pf(expf(-fabsf(x)));
}

static inline double softplus_d(double x)
{
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

#define SP_F32(T, x) softplus_f(x)
#define SP_F64(T, x) softplus_d(x)
LC_EW_ROW1(softplus_f32, float, float, SP_F32)
LC_EW_ROW1(softplus_f64, double, double, SP_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = softplus_f32, [LC_DTYPE_DOUBLE] = softplus_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Softplus, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Softplus, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
