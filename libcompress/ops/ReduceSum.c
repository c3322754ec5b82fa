/* ReduceSum over the listed axes (attribute before opset 13, optional
 * input from 13); see reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 13, LC_REDUCE_SUM);
}

const lc_kernel lc_kernel_ReduceSum_1 = {"ReduceSum", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceSum_13 = {"ReduceSum", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
