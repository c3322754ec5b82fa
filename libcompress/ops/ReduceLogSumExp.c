/* ReduceLogSumExp: ln(sum(e^x)) over the listed axes, computed with each
 * output's max subtracted (attribute before opset 18, optional input from
 * 18; keepdims, noop_with_empty_axes). See extra_util.c. */
#include "lc_extra.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_xred_prepare(a, 18, LC_XRED_LOGSUMEXP);
}

const lc_kernel lc_kernel_ReduceLogSumExp_1 = {"ReduceLogSumExp", 1, 1, 0, prepare, lc_xred_run, lc_xred_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_11 = {"ReduceLogSumExp", 11, 1, 0, prepare, lc_xred_run, lc_xred_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_13 = {"ReduceLogSumExp", 13, 1, 0, prepare, lc_xred_run, lc_xred_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_18 = {"ReduceLogSumExp", 18, 1, 0, prepare, lc_xred_run, lc_xred_free, NULL};
