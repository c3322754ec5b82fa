/* Gelu (opset 20): x * Phi(x), exactly with erf (approximate="none") or
 * with the tanh approximation (approximate="tanh"); float types. */
#include "lc_elementwise.h"

static inline float gelu_erf_f(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

static inline double gelu_erf_d(double x)
{
    return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
}

/* sqrt(2 / pi) */
#define GELU_K 0.79788456080286535588

static inline float gelu_tanh_f(float x)
{
    return 0.5f * x * (1.0f + tanhf((float)GELU_K * (x + 0.044715f * x * x * x)));
}

static inline double gelu_tanh_d(double x)
{
    return 0.5 * x * (1.0 + tanh(GELU_K * (x + 0.044715 * x * x * x)));
}

#define GE_F32(T, x) gelu_erf_f(x)
#define GE_F64(T, x) gelu_erf_d(x)
#define GT_F32(T, x) gelu_tanh_f(x)
#define GT_F64(T, x) gelu_tanh_d(x)
LC_EW_ROW1(gelu_erf_f32, float, float, GE_F32)
LC_EW_ROW1(gelu_erf_f64, double, double, GE_F64)
LC_EW_ROW1(gelu_tanh_f32, float, float, GT_F32)
LC_EW_ROW1(gelu_tanh_f64, double, double, GT_F64)

static const lc_ew_rows rows_erf = {[LC_DTYPE_FLOAT] = gelu_erf_f32, [LC_DTYPE_DOUBLE] = gelu_erf_f64};
static const lc_ew_rows rows_tanh = {[LC_DTYPE_FLOAT] = gelu_tanh_f32, [LC_DTYPE_DOUBLE] = gelu_tanh_f64};

static lc_status prepare(lc_kernel_args *a)
{
    const char *mode = lc_node_attr_string(a->node, "approximate", "none");
    if (strcmp(mode, "none") == 0) return lc_ew_unary_prepare(a, rows_erf, 0, NULL);
    if (strcmp(mode, "tanh") == 0) return lc_ew_unary_prepare(a, rows_tanh, 0, NULL);
    return lc_fail(LC_ERR_INVALID_ARGUMENT, "approximate must be \"none\" or \"tanh\", is \"%s\"", mode);
}

LC_EW_KERNEL(Gelu, 20, 1, 0, prepare, lc_ew_unary_run, NULL)
