/* Neg: -x (float and signed integer types; integers wrap, so -INT_MIN is
 * INT_MIN as in two's complement hardware). */
#include "lc_elementwise.h"

#define NEG_F(T, x) (-(x))
#define NEG_I(T, x) ((T)(0 - (uint64_t)(x)))
#define DEF_F(s, T, D) LC_EW_ROW1(neg_##s, T, T, NEG_F)
#define DEF_I(s, T, D) LC_EW_ROW1(neg_##s, T, T, NEG_I)
LC_EW_FLOATS(DEF_F)
LC_EW_SINTS(DEF_I)

#define REG(s, T, D) [D] = neg_##s,
static const lc_ew_rows rows = {LC_EW_FLOATS(REG) LC_EW_SINTS(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Neg, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Neg, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Neg, 13, 1, 0, prepare, lc_ew_unary_run, NULL)
