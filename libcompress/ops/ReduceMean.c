/* ReduceMean over the listed axes (attribute before opset 18, optional
 * input from 18); see reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_MEAN);
}

const lc_kernel lc_kernel_ReduceMean_1 = {"ReduceMean", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMean_18 = {"ReduceMean", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
