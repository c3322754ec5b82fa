/* ReduceL2: the Euclidean norm over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See extra_util.c. */
#include "lc_extra.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_xred_prepare(a, 18, LC_XRED_L2);
}

const lc_kernel lc_kernel_ReduceL2_1 = {"ReduceL2", 1, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceL2_11 = {"ReduceL2", 11, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceL2_13 = {"ReduceL2", 13, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceL2_18 = {"ReduceL2", 18, prepare, lc_xred_run, lc_xred_free};
