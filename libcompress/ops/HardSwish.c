/* HardSwish: x * clamp(x / 6 + 1/2, 0, 1) (float types). */
#include "lc_elementwise.h"

static inline float hswish_f(float x)
{
    float v = x * (1.0f / 6.0f) + 0.5f;
    v = v < 0 ? 0 : v;
    return x * (v > 1 ? 1 : v);
}

static inline double hswish_d(double x)
{
    double v = x * (1.0 / 6.0) + 0.5;
    v = v < 0 ? 0 : v;
    return x * (v > 1 ? 1 : v);
}

#define HSW_F32(T, x) hswish_f(x)
#define HSW_F64(T, x) hswish_d(x)
LC_EW_ROW1(hswish_f32, float, float, HSW_F32)
LC_EW_ROW1(hswish_f64, double, double, HSW_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = hswish_f32, [LC_DTYPE_DOUBLE] = hswish_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(HardSwish, 14, 1, 0, prepare, lc_ew_unary_run, NULL)
