/* Mul: A * B, numpy broadcasting (legacy `broadcast`/`axis` before opset 7).
 * Integers wrap modulo 2^bits. */
#include "lc_elementwise.h"

#define MUL_F(T, x, y) ((x) * (y))
#define DEF_F(s, T, D) LC_EW_ROW2(mul_##s, T, T, T, MUL_F)
#define DEF_I(s, T, D) LC_EW_ROW2(mul_##s, T, T, T, LC_EW_WRAP_MUL)
LC_EW_FLOATS(DEF_F)
LC_EW_INTS(DEF_I)

#define REG(s, T, D) [D] = mul_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Mul, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Mul, 6, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Mul, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Mul, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Mul, 14, 2, 0, prepare, lc_ew_binary_run, NULL)
