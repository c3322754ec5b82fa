/* Not: logical negation of a bool tensor. */
#include "lc_elementwise.h"

#define NOT(T, x) ((T)!(x))
LC_EW_ROW1(not_bool, uint8_t, uint8_t, NOT)

static const lc_ew_rows rows = {[LC_DTYPE_BOOL] = not_bool};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Not, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
