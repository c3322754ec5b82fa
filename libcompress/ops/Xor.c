/* Xor: logical A xor B of bool tensors, numpy broadcasting (legacy
 * broadcast/axis attributes before opset 7). */
#include "lc_elementwise.h"

#define OP(T, x, y) ((T)(!(x) != !(y)))
LC_EW_ROW2(xor_bool, uint8_t, uint8_t, uint8_t, OP)

static const lc_ew_rows rows = {[LC_DTYPE_BOOL] = xor_bool};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_binary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Xor, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Xor, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
