/* Sum: elementwise sum of 1..N inputs, numpy broadcasting (opset 8+),
 * added left to right. */
#include "lc_elementwise.h"

#define ADD_F(T, x, y) ((x) + (y))
#define DEF_F(s, T, D) LC_EW_ROW2(sum_##s, T, T, T, ADD_F)
#define DEF_I(s, T, D) LC_EW_ROW2(sum_##s, T, T, T, LC_EW_WRAP_ADD)
LC_EW_FLOATS(DEF_F)
LC_EW_INTS(DEF_I)

#define REG(s, T, D) [D] = sum_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_variadic_prepare(a, rows);
}

LC_EW_KERNEL(Sum, 1, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Sum, 6, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Sum, 8, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Sum, 13, 1, 0, prepare, lc_ew_variadic_run, NULL)
