/* ReduceLogSum: the natural log of the sum over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_LOGSUM);
}

const lc_kernel lc_kernel_ReduceLogSum_1 = {"ReduceLogSum", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSum_11 = {"ReduceLogSum", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSum_13 = {"ReduceLogSum", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceLogSum_18 = {"ReduceLogSum", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
