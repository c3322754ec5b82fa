/* Min: elementwise minimum of 1..N inputs, numpy broadcasting (opset 8+),
 * evaluated pairwise left to right. NaN propagates, as in numpy. */
#include "lc_elementwise.h"

#define MIN_F(T, x, y) ((x) != (x) || (x) < (y) ? (x) : (y))
#define MIN_I(T, x, y) ((x) < (y) ? (x) : (y))
#define DEF_F(s, T, D) LC_EW_ROW2(min_##s, T, T, T, MIN_F)
#define DEF_I(s, T, D) LC_EW_ROW2(min_##s, T, T, T, MIN_I)
LC_EW_FLOATS(DEF_F)
LC_EW_INTS(DEF_I)

#define REG(s, T, D) [D] = min_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_variadic_prepare(a, rows);
}

LC_EW_KERNEL(Min, 1, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Min, 6, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Min, 8, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Min, 12, 1, 0, prepare, lc_ew_variadic_run, NULL)
LC_EW_KERNEL(Min, 13, 1, 0, prepare, lc_ew_variadic_run, NULL)
