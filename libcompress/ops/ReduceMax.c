/* ReduceMax over the listed axes (attribute before opset 18, optional
 * input from 18); see reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_MAX);
}

const lc_kernel lc_kernel_ReduceMax_1 = {"ReduceMax", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMax_18 = {"ReduceMax", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
