/* ReduceProd: the product over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See reduce.c. */
#include "lc_reduce.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_reduce_prepare(a, 18, LC_REDUCE_PROD);
}

const lc_kernel lc_kernel_ReduceProd_1 = {"ReduceProd", 1, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceProd_11 = {"ReduceProd", 11, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceProd_13 = {"ReduceProd", 13, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
const lc_kernel lc_kernel_ReduceProd_18 = {"ReduceProd", 18, 1, 0, prepare, lc_reduce_run, lc_reduce_free, NULL};
