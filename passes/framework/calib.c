/* Batched runs of a model over a dataset: calibration (with an observer
 * watching every node) and prediction (arg-max of the first output). */
#include <stdlib.h>
#include <string.h>

#include "lc_calib_cache.h"
#include "lc_pass.h"
#include "lc_plan_inputs.h"
#include "lc_strset.h"

/* An observer that only needs some nodes: the batch stops once the last of
 * them ran, since nothing after it can change what it saw. STOP_BATCH is
 * what the wrapper returns to end the executor's run early; it never
 * leaves this file. */
#define STOP_BATCH ((lc_status)1)

typedef struct until_state {
    lc_observe_fn fn;
    void *user;
    const bool *need;   /* by main-graph node index */
    int n_nodes;
    int left;           /* needed nodes not yet run in this batch */
    lc_calib_cache *cache; /* NULL: none */
    lc_executor *ex;
    int capture_node;   /* the cache saves after this node (-1: never) */
    int64_t start, n;   /* the batch */
} until_state;

static lc_status until_observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                               int n_out, const lc_value *const *out)
{
    until_state *u = user;
    lc_status s = u->fn(u->user, node_index, node, n_in, in, n_out, out);
    if (s) return s;
    if (u->cache && node_index == u->capture_node) lc_calib_cache_capture(u->cache, u->ex, u->start, u->n);
    if (node_index >= 0 && node_index < u->n_nodes && u->need[node_index] && --u->left == 0) return STOP_BATCH;
    return LC_OK;
}

/* Needed nodes the plan runs (folded ones are never observed). */
static int count_needed(const lc_executor *ex, const bool *need)
{
    int k = 0, n = lc_executor_node_count(ex);
    for (int i = 0; i < n; i++) k += need[i] && !lc_executor_node_folded(ex, i);
    return k;
}

/* before: the observer sees each node's inputs before it runs
 * (LC_EXEC_OBSERVE_INPUTS), and a batch stops before its last needed node. */
static lc_status dataset_run(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                             lc_observe_fn observe, void *observe_user, const bool *need, bool before,
                             lc_batch_fn on_batch, void *batch_user, const lc_context *ctx)
{
    /* the data feeds the one input without a feed (libcompress/inputs.h) */
    lc_plan_inputs *pi = malloc(sizeof *pi);
    if (!pi) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_plan_inputs_resolve(m, ctx, d, 1, pi);
    if (s) {
        free(pi);
        return s;
    }
    lc_array *shape = &pi->shapes[pi->data];
    int64_t count = lc_dataset_count(d);
    if (limit > 0 && limit < count) count = limit;
    if (batch < 1) batch = 64;
    int64_t bsz = batch < count ? batch : count;
    lc_executor *ex = NULL;
    int64_t planned = 0;
    int needed = 0;
    until_state until = {observe, observe_user, need, m->graph->n_nodes, 0, NULL, NULL, -1, 0, 0};
    /* the calibration cache serves runs that stop after their needed nodes */
    lc_calib_cache *cache = observe && need && ctx && ctx->calib_cache && d == ctx->calib ? ctx->calib_cache : NULL;
    if (cache) lc_calib_cache_begin(cache, m, d, count, bsz);
    for (int64_t start = 0; start < count && !s; start += bsz) {
        int64_t n = count - start < bsz ? count - start : bsz;
        if (!ex || planned != n) {
            lc_executor_free(ex);
            ex = NULL;
            shape->dims[0] = n;
            /* an observer must see every node, so no fused plan for it */
            unsigned flags = observe ? LC_EXEC_NO_FUSION | (before ? LC_EXEC_OBSERVE_INPUTS : 0u) : 0u;
            if ((s = lc_executor_create_ex(m, pi->shapes, pi->n, threads, flags, &ex)))
                break;
            needed = observe && need ? count_needed(ex, need) : 0;
            if (observe) {
                if (needed > 0) lc_executor_set_observer(ex, until_observe, &until);
                else lc_executor_set_observer(ex, observe, observe_user);
            }
            planned = n;
        }
        shape->data = lc_dataset_sample(d, start);
        until.left = needed;
        int first = 0;
        until.cache = needed > 0 ? cache : NULL;
        if (until.cache) {
            first = lc_calib_cache_resume(cache, ex, need, start, n);
            until.ex = ex, until.start = start, until.n = n;
            until.capture_node = lc_calib_cache_capture_node(cache, ex, before);
        }
        s = lc_executor_run_from(ex, pi->shapes, pi->n, first);
        if (s == STOP_BATCH) s = LC_OK;
        if (s) break;
        if (on_batch) {
            lc_array out;
            if (!(s = lc_executor_output(ex, 0, &out, NULL))) s = on_batch(batch_user, start, n, &out);
        }
        lc_progress(ctx, observe ? "calibration" : "evaluation", start + n, count);
    }
    if (cache) s = lc_calib_cache_end(cache, s);
    lc_executor_free(ex);
    free(pi);
    return s;
}

lc_status lc_dataset_run(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                         lc_observe_fn observe, void *observe_user, lc_batch_fn on_batch, void *batch_user,
                         const lc_context *ctx)
{
    return dataset_run(m, d, limit, batch, threads, observe, observe_user, NULL, false, on_batch, batch_user, ctx);
}

lc_status lc_calib_run(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user)
{
    return lc_calib_run_nodes(m, ctx, fn, user, NULL);
}

lc_status lc_calib_run_nodes(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user, const bool *need)
{
    if (!ctx || !ctx->calib) return lc_fail(LC_ERR_INVALID_ARGUMENT, "this pass needs calibration data (lc_context_set_calib)");
    if (!fn) need = NULL;
    return dataset_run(m, ctx->calib, ctx->calib_limit, ctx->batch, ctx->threads, fn, user, need, false, NULL, NULL,
                       ctx);
}

lc_status lc_calib_run_inputs(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user, const bool *need)
{
    if (!ctx || !ctx->calib) return lc_fail(LC_ERR_INVALID_ARGUMENT, "this pass needs calibration data (lc_context_set_calib)");
    if (!fn || !need) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_calib_run_inputs: fn and need are required");
    return dataset_run(m, ctx->calib, ctx->calib_limit, ctx->batch, ctx->threads, fn, user, need, true, NULL, NULL,
                       ctx);
}

typedef struct predict_state {
    int64_t *pred;
    lc_predict_stop_fn stop;
    void *stop_user;
    int64_t done;
} predict_state;

static lc_status on_predict(void *user, int64_t start, int64_t n, const lc_array *out)
{
    predict_state *ps = user;
    if (out->dtype != LC_DTYPE_FLOAT || out->ndim < 1 || out->dims[0] != n)
        return lc_fail(LC_ERR_SHAPE, "the first output must be float32 with the batch as dim 0");
    int64_t k = 1;
    for (int d = 1; d < out->ndim; d++) k *= out->dims[d];
    const float *y = out->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (y[i * k + j] > y[i * k + best]) best = j;
        ps->pred[start + i] = best;
    }
    ps->done = start + n;
    return ps->stop && ps->stop(ps->stop_user, ps->pred, ps->done) ? STOP_BATCH : LC_OK;
}

lc_status lc_model_predict(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                           const lc_context *ctx, int64_t **pred, int64_t *n)
{
    return lc_model_predict_until(m, d, limit, batch, threads, ctx, NULL, NULL, pred, n, NULL);
}

lc_status lc_model_predict_until(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                                 const lc_context *ctx, lc_predict_stop_fn stop, void *stop_user, int64_t **pred,
                                 int64_t *n, int64_t *done)
{
    *pred = NULL;
    *n = 0;
    if (done) *done = 0;
    int64_t count = lc_dataset_count(d);
    if (limit > 0 && limit < count) count = limit;
    predict_state ps = {malloc((size_t)(count ? count : 1) * sizeof(int64_t)), stop, stop_user, 0};
    if (!ps.pred) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_dataset_run(m, d, count, batch, threads, NULL, NULL, on_predict, &ps, ctx);
    if (s == STOP_BATCH) s = LC_OK;
    if (s) {
        free(ps.pred);
        return s;
    }
    *pred = ps.pred;
    *n = count;
    if (done) *done = ps.done;
    return LC_OK;
}

lc_status lc_graph_levels(const lc_graph *g, const bool *marked, int *level, int *n_levels)
{
    /* producer[name] = node index + 1; out level of node i = level[i] + marked[i] */
    lc_strset producer = {0};
    lc_status s = LC_OK;
    *n_levels = 0;
    for (int i = 0; i < g->n_nodes; i++) level[i] = 0;
    for (int i = 0; i < g->n_nodes && !s; i++)
        for (int k = 0; k < g->nodes[i]->n_outputs && !s; k++)
            if (*g->nodes[i]->outputs[k])
                s = lc_strset_add(&producer, g->nodes[i]->outputs[k], (void *)(intptr_t)(i + 1), NULL);
    /* graph order is topological in valid ONNX; iterate to a fixed point in
     * case it is not (a cycle cannot make it grow past n_nodes rounds) */
    bool changed = true;
    for (int round = 0; changed && !s && round <= g->n_nodes; round++) {
        changed = false;
        int running_max = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const lc_node *n = g->nodes[i];
            int lv = 0;
            bool has_graph = false;
            for (int a = 0; a < n->n_attrs; a++)
                has_graph |= n->attrs[a].type == LC_ATTR_GRAPH || n->attrs[a].type == LC_ATTR_GRAPHS;
            if (has_graph) lv = running_max;
            for (int k = 0; k < n->n_inputs; k++) {
                if (!*n->inputs[k]) continue;
                intptr_t p = (intptr_t)lc_strset_get(&producer, n->inputs[k]);
                if (p > 0 && p - 1 != i) {
                    int o = level[p - 1] + (marked[p - 1] ? 1 : 0);
                    if (o > lv) lv = o;
                }
            }
            if (lv != level[i]) {
                level[i] = lv;
                changed = true;
            }
            int o = lv + (marked[i] ? 1 : 0);
            if (o > running_max) running_max = o;
        }
    }
    lc_strset_clear(&producer);
    if (s) return s;
    for (int i = 0; i < g->n_nodes; i++)
        if (marked[i] && level[i] + 1 > *n_levels) *n_levels = level[i] + 1;
    return LC_OK;
}
