/* ReduceL2: the Euclidean norm over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_L2);
}

const lc_kernel lc_kernel_ReduceL2_1 = {"ReduceL2", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL2_11 = {"ReduceL2", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL2_13 = {"ReduceL2", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceL2_18 = {"ReduceL2", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
