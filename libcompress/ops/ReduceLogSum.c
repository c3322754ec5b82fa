/* ReduceLogSum: the natural log of the sum over the listed axes (attribute before
 * opset 18, optional input from 18; keepdims, noop_with_empty_axes).
 * See extra_util.c. */
#include "lc_extra.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_xred_prepare(a, 18, LC_XRED_LOGSUM);
}

const lc_kernel lc_kernel_ReduceLogSum_1 = {"ReduceLogSum", 1, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceLogSum_11 = {"ReduceLogSum", 11, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceLogSum_13 = {"ReduceLogSum", 13, prepare, lc_xred_run, lc_xred_free};
const lc_kernel lc_kernel_ReduceLogSum_18 = {"ReduceLogSum", 18, prepare, lc_xred_run, lc_xred_free};
