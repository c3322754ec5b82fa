/* Sigmoid: 1 / (1 + e^-x) (float types), evaluated so that exp never
 * overflows: for x < 0 as e^x / (1 + e^x). */
#include "lc_elementwise.h"

static inline float sig_f(float x)
{
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline double sig_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

#define SIG_F32(T, x) sig_f(x)
#define SIG_F64(T, x) sig_d(x)
LC_EW_ROW1(sigmoid_f32, float, float, SIG_F32)
LC_EW_ROW1(sigmoid_f64, double, double, SIG_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = sigmoid_f32, [LC_DTYPE_DOUBLE] = sigmoid_f64};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Sigmoid, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Sigmoid, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Sigmoid, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
