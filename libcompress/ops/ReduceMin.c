/* ReduceMin: the minimum (NaN propagates) over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_MIN);
}

const lc_kernel lc_kernel_ReduceMin_1 = {"ReduceMin", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMin_11 = {"ReduceMin", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMin_12 = {"ReduceMin", 12, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMin_13 = {"ReduceMin", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMin_18 = {"ReduceMin", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMin_20 = {"ReduceMin", 20, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
