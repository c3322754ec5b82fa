/* The kernel table. Each kernels_*.inc file lists `LC_KERNEL(Op, since)`
 * lines, one per implementation, for one family of operators; each line
 * names a `const lc_kernel lc_kernel_<Op>_<since>` defined in <Op>.c.
 * Lookup happens once per node at plan time, so a linear scan is fine; a
 * test checks that (op, since) pairs are unique. */
#include <string.h>

#include "lc_exec.h"

#define LC_KERNEL(op, since) extern const lc_kernel lc_kernel_##op##_##since;
#include "kernels_elementwise.inc"
#include "kernels_extra.inc"
#include "kernels_nn.inc"
#include "kernels_shape.inc"
#undef LC_KERNEL

static const lc_kernel *const table[] = {
#define LC_KERNEL(op, since) &lc_kernel_##op##_##since,
#include "kernels_elementwise.inc"
#include "kernels_extra.inc"
#include "kernels_nn.inc"
#include "kernels_shape.inc"
#undef LC_KERNEL
    NULL};

const lc_kernel *const *lc_kernel_table(int *n)
{
    *n = (int)(sizeof table / sizeof table[0]) - 1;
    return table;
}

const lc_kernel *lc_kernel_find(const char *op, int64_t opset, int *lowest_since)
{
    const lc_kernel *best = NULL;
    int lowest = 0;
    for (const lc_kernel *const *k = table; *k; k++) {
        if (strcmp((*k)->op, op) != 0) continue;
        if (!lowest || (*k)->since < lowest) lowest = (*k)->since;
        if ((*k)->since <= opset && (!best || (*k)->since > best->since)) best = *k;
    }
    if (lowest_since) *lowest_since = lowest;
    return best;
}
