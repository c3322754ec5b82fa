/* recalibrate-bn: re-estimate every BatchNormalization's running mean and
 * variance from its input activations on the calibration data, with no
 * weight changed (lc_correct_bn, also run after a weight pass by
 * correct=bn).
 *
 * Order matters: a BatchNorm's input depends on the statistics of the
 * BatchNorms before it. The exact answer - each BatchNorm sees its input as
 * computed with the *new* statistics of every BatchNorm upstream - needs
 * the upstream statistics over the whole calibration set before the
 * downstream ones can be measured, so one batched run cannot give it. We
 * run in waves: wave l measures the BatchNorms with l BatchNorms on the
 * longest path before them (lc_graph_levels), after waves < l wrote
 * theirs. That costs one calibration run per BatchNorm depth (a plain
 * chain of k BatchNorms: k runs; siblings of a residual block share one).
 * PyTorch's usual recipe (train-mode forward with momentum=None) instead
 * normalizes each batch by its own statistics, which is only approximately
 * the same and depends on the batch size.
 *
 * Variance: the biased (population) variance, sum((x - mean)^2) / count -
 * what BatchNorm normalizes by, so the BatchNorm's output has exactly zero
 * mean and unit variance (before scale and bias) on the calibration data.
 * PyTorch stores the unbiased estimate in running_var; with count = samples
 * x height x width the two differ by a factor count/(count-1), i.e. nothing
 * measurable. Statistics are accumulated in double precision, per batch
 * with two passes (mean, then squared deviations) merged across batches
 * with Chan et al.'s pairwise update, so a large mean does not cancel the
 * variance away. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_calib_cache.h"
#include "lc_pass.h"
#include "lc_strset.h"

typedef struct bn_stat {
    int node;           /* index in the main graph */
    int level;
    lc_tensor *mean, *var;
    int64_t channels;   /* numel of mean/var */
    double *mu, *m2;    /* running mean and sum of squared deviations */
    int64_t count;      /* elements per channel so far */
} bn_stat;

typedef struct bn_state {
    bn_stat *bn;
    int n_bn;
    int *of_node;       /* node index -> bn index or -1 */
    int wave;
} bn_state;

static bool float_like(int dtype)
{
    return dtype == LC_DTYPE_FLOAT || dtype == LC_DTYPE_DOUBLE || dtype == LC_DTYPE_FLOAT16;
}

static void store(lc_tensor *t, int64_t i, double x)
{
    if (t->dtype == LC_DTYPE_FLOAT) ((float *)t->data)[i] = (float)x;
    else if (t->dtype == LC_DTYPE_DOUBLE) ((double *)t->data)[i] = x;
    else ((uint16_t *)t->data)[i] = lc_float_to_half((float)x);
}

/* Sum of n floats, and of their squared deviations from m, in double with
 * four partial sums: a single chain of dependent additions is what limits
 * these loops (only the rounding of the sums' last bits depends on the
 * grouping, far below what reaches the float32 statistics). */
static double sum_floats(const float *p, int64_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += p[i];
        a1 += p[i + 1];
        a2 += p[i + 2];
        a3 += p[i + 3];
    }
    for (; i < n; i++) a0 += p[i];
    return (a0 + a1) + (a2 + a3);
}

static double sum_sq_dev(const float *p, int64_t n, double m)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const double d0 = p[i] - m, d1 = p[i + 1] - m, d2 = p[i + 2] - m, d3 = p[i + 3] - m;
        a0 += d0 * d0;
        a1 += d1 * d1;
        a2 += d2 * d2;
        a3 += d3 * d3;
    }
    for (; i < n; i++) {
        const double d = p[i] - m;
        a0 += d * d;
    }
    return (a0 + a1) + (a2 + a3);
}

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                         const lc_value *const *out)
{
    (void)n_out;
    (void)out;
    bn_state *st = user;
    int b = st->of_node[node_index];
    if (b < 0 || st->bn[b].level != st->wave || n_in < 1 || !in[0]) return LC_OK;
    bn_stat *s = &st->bn[b];
    const lc_value *x = in[0];
    if (x->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_DTYPE, "recalibrate-bn: BatchNormalization '%s' has a non-float32 input", lc_node_label(node));
    if (x->ndim < 2 || x->dims[1] != s->channels)
        return lc_fail(LC_ERR_SHAPE, "recalibrate-bn: BatchNormalization '%s': input %s does not have %lld channels on axis 1",
                       lc_node_label(node), lc_dims_str(x->ndim, x->dims), (long long)s->channels);
    int64_t outer = x->dims[0], c_n = x->dims[1], inner = 1;
    for (int d = 2; d < x->ndim; d++) inner *= x->dims[d];
    int64_t nb = outer * inner;
    if (nb == 0) return LC_OK;
    const float *v = x->data;
    for (int64_t c = 0; c < c_n; c++) {
        double sum = 0;
        for (int64_t o = 0; o < outer; o++) sum += sum_floats(v + (o * c_n + c) * inner, inner);
        double mb = sum / (double)nb, m2b = 0;
        for (int64_t o = 0; o < outer; o++) m2b += sum_sq_dev(v + (o * c_n + c) * inner, inner, mb);
        double na = (double)s->count, n = na + (double)nb, delta = mb - s->mu[c];
        s->mu[c] += delta * (double)nb / n;
        s->m2[c] += m2b + delta * delta * na * (double)nb / n;
    }
    s->count += nb;
    return LC_OK;
}

/* How many inputs of main-graph nodes read `name`. */
static int use_count(const lc_graph *g, const char *name)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_inputs; j++) k += strcmp(g->nodes[i]->inputs[j], name) == 0;
    return k;
}

/* The stored main-graph tensor behind a BatchNorm statistics input, or
 * NULL (with the reason logged) when it cannot be rewritten. */
static lc_tensor *stats_tensor(const lc_model *m, const lc_strset *stored, const lc_node *n, int input,
                               const lc_context *ctx)
{
    const char *what = input == 3 ? "mean" : "var";
    if (n->n_inputs <= input || !*n->inputs[input]) return NULL;
    lc_tensor *t = lc_strset_get(stored, n->inputs[input]);
    if (!t) {
        lc_log(ctx, "recalibrate-bn: skipping '%s': its %s is computed, not a stored tensor", lc_node_label(n), what);
        return NULL;
    }
    if (!float_like(t->dtype) || t->enc) {
        lc_log(ctx, "recalibrate-bn: skipping '%s': its %s is not a plain float tensor", lc_node_label(n), what);
        return NULL;
    }
    if (use_count(m->graph, n->inputs[input]) > 1) {
        lc_log(ctx, "recalibrate-bn: skipping '%s': its %s tensor '%s' is shared with other nodes", lc_node_label(n), what,
               n->inputs[input]);
        return NULL;
    }
    return t;
}

lc_status lc_correct_bn(lc_model *m, const lc_context *ctx) { return lc_correct_bn_nodes(m, ctx, NULL); }

lc_status lc_correct_bn_nodes(lc_model *m, const lc_context *ctx, const bool *select)
{
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_correct_bn: NULL model");
    const lc_graph *g = m->graph;
    lc_stored *st = NULL;
    int n_st = 0, n_levels = 0, done = 0;
    lc_strset stored = {0};
    bn_state bs = {0};
    bool *marked = NULL;
    int *level = NULL;
    lc_status s = lc_model_stored_tensors(m, &st, &n_st);
    if (s) return s;
    for (int i = 0; i < n_st && !s; i++)
        if (st[i].graph == g) s = lc_strset_add(&stored, st[i].value, st[i].tensor, NULL);
    if (s) goto fail;
    int nn = g->n_nodes;
    marked = calloc((size_t)nn + 1, sizeof *marked);
    level = calloc((size_t)nn + 1, sizeof *level);
    bs.of_node = malloc(((size_t)nn + 1) * sizeof *bs.of_node);
    bs.bn = calloc((size_t)nn + 1, sizeof *bs.bn);
    if (!marked || !level || !bs.of_node || !bs.bn) goto oom;
    int64_t opset = lc_model_opset(m, "");
    for (int i = 0; i < nn; i++) {
        bs.of_node[i] = -1;
        const lc_node *n = g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") != 0 || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")))
            continue;
        /* every BatchNorm counts for the waves, even one we cannot rewrite:
         * its output still changes when its upstream statistics change */
        marked[i] = true;
        if (select && !select[i]) continue;
        if (opset < 9 && lc_node_attr_int(n, "spatial", 1) == 0) {
            lc_log(ctx, "recalibrate-bn: skipping '%s': spatial=0 (per-position statistics)", lc_node_label(n));
            continue;
        }
        lc_tensor *mean = stats_tensor(m, &stored, n, 3, ctx), *var = mean ? stats_tensor(m, &stored, n, 4, ctx) : NULL;
        if (!mean || !var) continue;
        int64_t c = lc_tensor_numel(mean);
        if (lc_tensor_numel(var) != c || c <= 0) {
            lc_log(ctx, "recalibrate-bn: skipping '%s': mean and var sizes differ", lc_node_label(n));
            continue;
        }
        bn_stat *b = &bs.bn[bs.n_bn];
        *b = (bn_stat){i, 0, mean, var, c, calloc((size_t)c, sizeof(double)), calloc((size_t)c, sizeof(double)), 0};
        bs.n_bn++;
        if (!b->mu || !b->m2) goto oom;
        bs.of_node[i] = bs.n_bn - 1;
    }
    if ((s = lc_graph_levels(g, marked, level, &n_levels))) goto fail;
    for (int b = 0; b < bs.n_bn; b++) bs.bn[b].level = level[bs.bn[b].node];
    /* each wave's run resumes where the previous one reached its
       BatchNorms (lc_calib_cache.h): nothing before them changed */
    lc_context local;
    lc_calib_cache *cache;
    const lc_context *wctx = lc_calib_cache_context(ctx, &local, &cache);
    for (int wave = 0; wave < n_levels && !s; wave++) {
        bool any = false;
        /* the wave's run stops after its last BatchNorm */
        memset(marked, 0, ((size_t)nn + 1) * sizeof *marked);
        for (int b = 0; b < bs.n_bn; b++)
            if (bs.bn[b].level == wave) any = marked[bs.bn[b].node] = true;
        if (!any) continue;
        bs.wave = wave;
        if ((s = lc_calib_run_nodes(m, wctx, observe, &bs, marked))) break;
        for (int b = 0; b < bs.n_bn; b++) {
            bn_stat *x = &bs.bn[b];
            if (x->level != wave) continue;
            if (x->count == 0) {
                lc_log(ctx, "recalibrate-bn: '%s' was not executed on the calibration data; left unchanged",
                       lc_node_label(g->nodes[x->node]));
                continue;
            }
            for (int64_t c = 0; c < x->channels; c++) {
                store(x->mean, c, x->mu[c]);
                store(x->var, c, x->m2[c] / (double)x->count);
            }
            done++;
        }
    }
    lc_calib_cache_free(cache);
    if (!s && !select)
        lc_log(ctx, "recalibrate-bn: re-estimated %d BatchNormalization node(s) in %d calibration wave(s)", done, n_levels);
    goto done;
oom:
    s = lc_fail(LC_ERR_NO_MEMORY, "recalibrate-bn: out of memory");
fail:
done:
    for (int b = 0; bs.bn && b < bs.n_bn; b++) {
        free(bs.bn[b].mu);
        free(bs.bn[b].m2);
    }
    free(bs.bn);
    free(bs.of_node);
    free(marked);
    free(level);
    lc_strset_clear(&stored);
    free(st);
    return s;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    (void)p;
    return lc_correct_bn(m, ctx);
}

const lc_pass lc_pass_recalibrate_bn = {
    .name = "recalibrate-bn",
    .summary = "re-estimate BatchNormalization mean and variance on calibration data",
    .needs_calib = true,
    .run = run,
};
