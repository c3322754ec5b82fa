/* Mish: x * tanh(softplus(x)) (float types); softplus as in Softplus.c,
 * overflow-free. */
#include "lc_elementwise.h"

static inline float mish_f(float x)
{
    return x * tanhf((x > 0 ? x : 0.0f) + log1pf(expf(-fabsf(x))));
}

static inline double mish_d(double x)
{
    return x * tanh((x > 0 ? x : 0.0) + log1p(exp(-fabs(x))));
}

#define MISH_F32(T, x) mish_f(x)
#define MISH_F64(T, x) mish_d(x)
LC_EW_ROW1(mish_f32, float, float, MISH_F32)
LC_EW_ROW1(mish_f64, double, double, MISH_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = mish_f32, [LC_DTYPE_DOUBLE] = mish_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Mish, 18, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Mish, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
