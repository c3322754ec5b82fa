/* Constant folding: a node whose inputs are all known at plan time runs
 * once while planning, and its outputs become constants of the plan. */
#include <stdlib.h>

#include "lc_plan.h"

/* Runs a node whose inputs are all known, so its outputs become constants
 * of the plan. The outputs get their own memory (never pooled). */
lc_status lc_exec_fold(lc_executor *ex, step *st)
{
    for (int o = 0; o < st->args.n_out; o++) {
        if (st->out_slots[o] < 0) continue;
        slot *sl = &ex->slots[st->out_slots[o]];
        sl->v.nbytes = (size_t)lc_value_numel(&sl->v) * lc_dtype_size(sl->v.dtype);
        sl->owned = lc_exec_alloc(sl->v.nbytes);
        if (!sl->owned) return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
        sl->v.data = sl->owned;
    }
    lc_status s = st->kernel->run(&st->args);
    if (s) return s;
    for (int o = 0; o < st->args.n_out; o++)
        if (st->out[o]) st->out[o]->is_const = true;
    return LC_OK;
}

/* Folded values that only fed other folded nodes (e.g. a weight transform
 * chain) are not needed to run: free them. */
void lc_exec_drop_dead_constants(lc_executor *ex)
{
    for (int i = 0; i < ex->n_slots; i++) {
        slot *sl = &ex->slots[i];
        if (sl->owned && sl->v.is_const && !sl->is_output && sl->last_use < 0) {
            free(sl->owned);
            sl->owned = NULL;
            sl->v.data = NULL;
        }
    }
}
