/* Running a plan batch by batch, and the executor's accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_plan.h"

lc_status lc_executor_run(lc_executor *ex, const lc_array *inputs, int n_inputs)
{
    return lc_executor_run_from(ex, inputs, n_inputs, 0);
}

lc_status lc_executor_run_from(lc_executor *ex, const lc_array *inputs, int n_inputs, int first)
{
    if (!ex) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_run: executor is NULL");
    if (first < 0 || first > ex->n_steps)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_run_from: no step %d (the plan has %d)", first,
                       ex->n_steps);
    if (n_inputs != ex->n_inputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_run: the plan has %d inputs, %d given", ex->n_inputs, n_inputs);
    if (n_inputs && !inputs) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_run: inputs is NULL");
    if (ex->observer && ex->n_fused)
        return lc_fail(LC_ERR_INVALID_ARGUMENT,
                       "lc_executor_run: an observer needs a plan without fusion (lc_executor_create_ex with "
                       "LC_EXEC_NO_FUSION); this one merged %d nodes",
                       ex->n_fused);
    for (int i = 0; i < n_inputs; i++) {
        const lc_value *v = &ex->slots[ex->inputs[i]].v;
        const lc_array *a = &inputs[i];
        if ((int)a->dtype != v->dtype)
            return lc_fail(LC_ERR_DTYPE, "input '%s' must be %s, got %s", v->name, lc_dtype_name(v->dtype),
                           lc_dtype_name(a->dtype));
        bool same = a->ndim == v->ndim;
        for (int d = 0; same && d < v->ndim; d++) same = a->dims[d] == v->dims[d];
        if (!same) {
            char want[256];
            snprintf(want, sizeof want, "%s", lc_dims_str(v->ndim, v->dims));
            return lc_fail(LC_ERR_SHAPE, "input '%s' must have shape [%s] (as planned), got [%s]", v->name, want,
                           lc_dims_str(a->ndim, a->dims));
        }
        if (!a->data && v->nbytes) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input '%s': data is NULL", v->name);
    }
    for (int i = 0; i < n_inputs; i++) {
        slot *sl = &ex->slots[ex->inputs[i]];
        if (sl->owned) {
            if (sl->v.nbytes) memcpy(sl->owned, inputs[i].data, sl->v.nbytes);
            sl->v.data = sl->owned;
        } else {
            /* Kernels only read their inputs, so the caller's data is used
             * in place for the duration of the run. */
            sl->v.data = inputs[i].data ? (void *)inputs[i].data : (void *)lc_exec_empty_data;
        }
    }
    /* OpenBLAS runs single-threaded (its results depend on its thread
     * count); lc_sgemm spreads large products over ex->threads itself, with
     * a split that depends on the shapes alone: bit-identical on 1 or N. */
    lc_sgemm_set_threads(ex->threads);
    for (int i = 0; i < ex->n_outer; i++) {
        slot *sl = &ex->slots[ex->outer[i]];
        sl->v.data = sl->outer->data;
    }
    lc_status s = LC_OK;
    bool before = (ex->flags & LC_EXEC_OBSERVE_INPUTS) != 0;
    for (int p = first; p < ex->n_steps && !s; p++) {
        step *st = &ex->steps[p];
        if (before && ex->observer &&
            (s = ex->observer(ex->observer_user, st->node_index, st->node, st->args.n_in, st->args.in, 0, NULL)))
            break;
        s = st->kernel->run(&st->args);
        if (s) {
            lc_exec_node_fail(ex, s, st->node_index, st->node);
            break;
        }
        if (ex->observer && !before)
            s = ex->observer(ex->observer_user, st->node_index, st->node, st->args.n_in, st->args.in, st->args.n_out,
                             (const lc_value *const *)st->args.out);
    }
    for (int i = 0; i < n_inputs; i++) {
        slot *sl = &ex->slots[ex->inputs[i]];
        if (!sl->owned) sl->v.data = NULL;
    }
    return s;
}

int lc_executor_input_count(const lc_executor *ex) { return ex ? ex->n_inputs : 0; }

lc_status lc_executor_input(const lc_executor *ex, int i, lc_array *shape_out, const char **name)
{
    if (name) *name = NULL;
    if (!ex || i < 0 || i >= ex->n_inputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_input: no input %d", i);
    const lc_value *v = &ex->slots[ex->inputs[i]].v;
    if (shape_out) {
        memset(shape_out, 0, sizeof *shape_out);
        shape_out->dtype = v->dtype;
        shape_out->ndim = v->ndim;
        memcpy(shape_out->dims, v->dims, sizeof v->dims);
    }
    if (name) *name = v->name;
    return LC_OK;
}

int lc_executor_output_count(const lc_executor *ex) { return ex ? ex->n_outputs : 0; }

lc_status lc_executor_output(const lc_executor *ex, int i, lc_array *out, const char **name)
{
    if (name) *name = NULL;
    if (!ex || i < 0 || i >= ex->n_outputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_output: no output %d", i);
    const lc_value *v = &ex->slots[ex->outputs[i]].v;
    if (out) {
        out->dtype = v->dtype;
        out->ndim = v->ndim;
        memcpy(out->dims, v->dims, sizeof v->dims);
        out->data = v->data;
    }
    if (name) *name = v->name;
    return LC_OK;
}

void lc_executor_free(lc_executor *ex)
{
    if (!ex) return;
    for (int i = 0; i < ex->n_steps; i++) lc_exec_step_clear(&ex->steps[i]);
    free(ex->steps);
    for (int i = 0; i < ex->n_slots; i++) free(ex->slots[i].owned);
    free(ex->slots);
    lc_strset_clear(&ex->names);
    free(ex->inputs);
    free(ex->outputs);
    for (int b = 0; ex->bufs && b < ex->n_bufs; b++) free(ex->bufs[b]);
    free(ex->bufs);
    free(ex->buf_size);
    free(ex->folded);
    free(ex->outer);
    free(ex);
}

void lc_executor_set_observer(lc_executor *ex, lc_observe_fn fn, void *user)
{
    ex->observer = fn;
    ex->observer_user = user;
}

int lc_executor_node_count(const lc_executor *ex) { return ex->g->n_nodes; }

int lc_executor_fused_count(const lc_executor *ex) { return ex->n_fused; }

const lc_node *lc_executor_node(const lc_executor *ex, int i)
{
    return i >= 0 && i < ex->g->n_nodes ? ex->g->nodes[i] : NULL;
}

bool lc_executor_node_folded(const lc_executor *ex, int i)
{
    return i >= 0 && i < ex->g->n_nodes && ex->folded[i];
}

const lc_value *lc_executor_value(const lc_executor *ex, const char *name)
{
    int sl = lc_exec_slot(ex, name);
    return sl >= 0 ? &ex->slots[sl].v : NULL;
}

size_t lc_executor_buffer_bytes(const lc_executor *ex)
{
    size_t total = 0;
    for (int b = 0; b < ex->n_bufs; b++) total += ex->buf_size[b];
    return total;
}

int lc_executor_step_count(const lc_executor *ex) { return ex->n_steps; }

int lc_executor_step_node(const lc_executor *ex, int p)
{
    return p >= 0 && p < ex->n_steps ? ex->steps[p].node_index : -1;
}

int lc_executor_live_values(lc_executor *ex, int first, lc_value **vals, int max)
{
    int n = 0;
    for (int p = 0; p < first && p < ex->n_steps; p++) {
        const step *st = &ex->steps[p];
        for (int o = 0; o < st->args.n_out; o++) {
            int si = st->out_slots[o];
            if (si < 0 || (ex->slots[si].last_use < first && !ex->slots[si].is_output)) continue;
            if (n < max) vals[n] = &ex->slots[si].v;
            n++;
        }
    }
    return n;
}
