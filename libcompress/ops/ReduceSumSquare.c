/* ReduceSumSquare: the sum of squares over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_SUMSQUARE);
}

const lc_kernel lc_kernel_ReduceSumSquare_1 = {"ReduceSumSquare", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceSumSquare_11 = {"ReduceSumSquare", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceSumSquare_13 = {"ReduceSumSquare", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceSumSquare_18 = {"ReduceSumSquare", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
