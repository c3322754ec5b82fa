/* ReduceL1: the sum of absolute values over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_L1);
}

const lc_kernel lc_kernel_ReduceL1_1 = {"ReduceL1", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL1_11 = {"ReduceL1", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL1_13 = {"ReduceL1", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL1_18 = {"ReduceL1", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
