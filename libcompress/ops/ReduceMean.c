/* ReduceMean over the listed axes (attribute before opset 18, optional
 * input from 18); see lc_reduce_prepare in shape_util.c. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18);
}

static lc_status run(lc_kernel_args *a)
{
    return lc_reduce_run(a, LC_REDUCE_MEAN);
}

const lc_kernel lc_kernel_ReduceMean_1 = {"ReduceMean", 1, 1, 0, prepare, run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceMean_18 = {"ReduceMean", 18, 1, 0, prepare, run, lc_reduce_free, NULL};
