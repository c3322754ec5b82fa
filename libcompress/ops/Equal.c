/* Equal: A == B -> bool, numpy broadcasting (legacy before opset 7). */
#include "lc_elementwise.h"

#define EQ(T, x, y) ((T)((x) == (y)))
#define DEF(s, T, D) LC_EW_ROW2(eq_##s, T, T, uint8_t, EQ)
LC_EW_NUMERIC(DEF)

#define REG(s, T, D) [D] = eq_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)[LC_DTYPE_BOOL] = eq_u8};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, LC_DTYPE_BOOL, NULL);
}

LC_EW_KERNEL(Equal, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Equal, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Equal, 11, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Equal, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
