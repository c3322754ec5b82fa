/* Scatter (opsets 9 and 10, deprecated for ScatterElements in 11): the
 * same operation as ScatterElements without `reduction`, so it runs
 * ScatterElements' kernel. */
#include "lc_exec.h"

extern const lc_kernel lc_kernel_ScatterElements_11;

static lc_status prepare(lc_kernel_args *a)
{
    return lc_kernel_ScatterElements_11.prepare(a);
}

static lc_status run(lc_kernel_args *a)
{
    return lc_kernel_ScatterElements_11.run(a);
}

const lc_kernel lc_kernel_Scatter_9 = {"Scatter", 9, 3, 0, prepare, run, NULL, NULL};
