/* ReduceLogSumExp: ln(sum(e^x)) over the listed axes, computed with each
 * output's max subtracted (attribute before opset 18, optional input from
 * 18; keepdims, noop_with_empty_axes). See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_LOGSUMEXP);
}

const lc_kernel lc_kernel_ReduceLogSumExp_1 = {"ReduceLogSumExp", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_11 = {"ReduceLogSumExp", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_13 = {"ReduceLogSumExp", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSumExp_18 = {"ReduceLogSumExp", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
