/* Greater: A > B -> bool, numpy broadcasting (legacy before opset 7). */
#include "lc_elementwise.h"

#define GT(T, x, y) ((T)((x) > (y)))
#define DEF(s, T, D) LC_EW_ROW2(gt_##s, T, T, uint8_t, GT)
LC_EW_NUMERIC(DEF)

#define REG(s, T, D) [D] = gt_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, LC_DTYPE_BOOL, NULL);
}

LC_EW_KERNEL(Greater, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Greater, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Greater, 9, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Greater, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
