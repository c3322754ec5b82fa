/* LessOrEqual: A <= B -> bool, numpy broadcasting (all numeric types). */
#include "lc_elementwise.h"

#define LE(T, x, y) ((T)((x) <= (y)))
#define DEF(s, T, D) LC_EW_ROW2(le_##s, T, T, uint8_t, LE)
LC_EW_NUMERIC(DEF)

#define REG(s, T, D) [D] = le_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, LC_DTYPE_BOOL, NULL);
}

LC_EW_KERNEL(LessOrEqual, 12, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(LessOrEqual, 16, 2, 0, prepare, lc_ew_binary_run, NULL)
