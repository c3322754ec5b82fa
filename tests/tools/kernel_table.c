/* Prints the executor's kernel table, one kernel a line, in table order:
 *   OP SINCE MIN_INPUTS FLAGS HOOKS
 * (FLAGS in hex; HOOKS the fusion hooks set, "-" for none), for
 * tests/kernel_table_test.py. */
#include <stdio.h>

#include "lc_exec.h"

int main(void)
{
    int n;
    const lc_kernel *const *t = lc_kernel_table(&n);
    for (int i = 0; i < n; i++) {
        const lc_kernel *k = t[i];
        const lc_fusion *f = k->fusion;
        char hooks[64];
        snprintf(hooks, sizeof hooks, "%s%s%s%s", f && f->set_epilogue ? "set_epilogue," : "",
                 f && f->as_epilogue ? "as_epilogue," : "", f && f->channel_affine ? "channel_affine," : "",
                 k->prepare && k->run ? "" : "NO_PREPARE_OR_RUN,");
        printf("%s %d %d 0x%x %s\n", k->op, k->since, k->min_inputs, k->flags, *hooks ? hooks : "-");
    }
    return 0;
}
