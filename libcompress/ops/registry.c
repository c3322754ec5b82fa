/* The kernel table: every kernel of the executor, sorted by (op, since).
 *
 * How to add an operator (or a new since_version of one):
 *   1. Write libcompress/ops/<Op>.c, named exactly like the ONNX op, with
 *      prepare() and run() (and free_state() if prepare() allocates), and
 *      define one descriptor per since_version you implement:
 *        const lc_kernel lc_kernel_<Op>_<since> =
 *            {"<Op>", since, min_inputs, flags, prepare, run, free_state, fusion};
 *      min_inputs is ONNX's min_input for that schema version (add a
 *      descriptor wherever it changes); flags are LC_OPF_* (usually 0);
 *      fusion is NULL unless the op takes part in plan-time fusion (see
 *      lc_fusion in lc_exec.h). Elementwise ops use LC_EW_KERNEL.
 *   2. Add `LC_KERNEL(<Op>, <since>)` to kernels.inc at its sorted place.
 * Nothing else: the executor finds the kernel by ONNX's rule (the highest
 * since_version not above the model's opset), checks the node's inputs
 * against min_inputs and fuses through the flags and hooks, never by op
 * name. tests/kernel_table_test.py checks that the table is sorted, that
 * every lc_kernel_* defined in the library is listed, and every
 * min_inputs against ONNX's schemas; the conformance test runs the ONNX
 * backend cases, and tests/conformance_unsupported.txt lists the cases
 * still expected to be unsupported (remove the op's lines there). */
#include <string.h>

#include "lc_exec.h"

#define LC_KERNEL(op, since) extern const lc_kernel lc_kernel_##op##_##since;
#include "kernels.inc"
#undef LC_KERNEL

static const lc_kernel *const table[] = {
#define LC_KERNEL(op, since) &lc_kernel_##op##_##since,
#include "kernels.inc"
#undef LC_KERNEL
    NULL};

#define N_KERNELS ((int)(sizeof table / sizeof table[0]) - 1)

const lc_kernel *const *lc_kernel_table(int *n)
{
    *n = N_KERNELS;
    return table;
}

const lc_kernel *lc_kernel_find(const char *op, int64_t opset, int *lowest_since)
{
    /* the first entry of `op` (lower bound over the sorted table) */
    int lo = 0, hi = N_KERNELS;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(table[mid]->op, op) < 0) lo = mid + 1;
        else hi = mid;
    }
    const lc_kernel *best = NULL;
    if (lowest_since) *lowest_since = lo < N_KERNELS && !strcmp(table[lo]->op, op) ? table[lo]->since : 0;
    for (int i = lo; i < N_KERNELS && !strcmp(table[i]->op, op) && table[i]->since <= opset; i++) best = table[i];
    return best;
}
