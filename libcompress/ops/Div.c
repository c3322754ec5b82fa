/* Div: A / B, numpy broadcasting (legacy `broadcast`/`axis` before opset 7).
 * Integer division truncates toward zero as in C (and ONNX Runtime); a
 * zero divisor gives 0 and INT_MIN / -1 wraps, where C leaves both
 * undefined. */
#include "lc_elementwise.h"

#define DIV_F(T, x, y) ((x) / (y))
#define DIV_S(T, x, y) ((y) == 0 ? (T)0 : (y) == -1 ? (T)(0 - (uint64_t)(x)) : (T)((x) / (y)))
#define DIV_U(T, x, y) ((y) == 0 ? (T)0 : (T)((x) / (y)))
#define DEF_F(s, T, D) LC_EW_ROW2(div_##s, T, T, T, DIV_F)
#define DEF_S(s, T, D) LC_EW_ROW2(div_##s, T, T, T, DIV_S)
#define DEF_U(s, T, D) LC_EW_ROW2(div_##s, T, T, T, DIV_U)
LC_EW_FLOATS(DEF_F)
LC_EW_SINTS(DEF_S)
LC_EW_UINTS(DEF_U)

#define REG(s, T, D) [D] = div_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Div, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Div, 6, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Div, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Div, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Div, 14, 2, 0, prepare, lc_ew_binary_run, NULL)
