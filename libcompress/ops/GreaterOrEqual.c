/* GreaterOrEqual: A >= B -> bool, numpy broadcasting. */
#include "lc_elementwise.h"

#define GE(T, x, y) ((T)((x) >= (y)))
#define DEF(s, T, D) LC_EW_ROW2(ge_##s, T, T, uint8_t, GE)
LC_EW_NUMERIC(DEF)

#define REG(s, T, D) [D] = ge_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, LC_DTYPE_BOOL, NULL);
}

LC_EW_KERNEL(GreaterOrEqual, 12, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(GreaterOrEqual, 16, 2, 0, prepare, lc_ew_binary_run, NULL)
