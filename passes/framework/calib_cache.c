/* The calibration cache (lc_calib_cache, see lc_pass.h): a pass that runs
 * the calibration data through its model many times, changing a few
 * layers in between (prune-hessian's waves: collect the inputs of wave k,
 * prune it, re-estimate the BatchNorms after it, collect wave k + 1, ...),
 * computes the unchanged start of the network again on every run. The
 * cache keeps, for each batch, the values live just before the first node
 * a run needed (the frontier), and the next run resumes there when the
 * weights of every node before it are still the same bytes. The frontier
 * values are then exactly what a full run would compute (same plan, same
 * inputs, same weights, deterministic kernels), so what the observer sees
 * is bit for bit the same. */
#include <stdlib.h>
#include <string.h>

#include "lc_calib_cache.h"

/* Frontier values of all batches together stay under this (resnet8's
 * widest frontier over 500 samples is about 50 MB); a run whose frontier
 * would need more saves nothing (decided before allocating). */
#define CACHE_MAX_BYTES ((size_t)64 << 20)

typedef struct entry {
    int64_t n;       /* samples in the batch (0: none saved) */
    int n_vals;
    void **data;     /* copies of the live values, in lc_executor_live_values order */
    size_t *bytes;
} entry;

/* A weight read before the frontier, as it was when the entries were made. */
typedef struct saved_weight {
    const char *name; /* the node's input name (the graph outlives the cache) */
    void *copy;
    size_t nbytes;
} saved_weight;

struct lc_calib_cache {
    const lc_model *m;
    const lc_graph *g;
    const struct lc_dataset *d;
    int64_t count, batch;
    int first;       /* the entries hold the values live before this step (0: empty) */
    int *order;      /* node index of steps [0, first) */
    saved_weight *w;
    int n_w;
    entry *e;        /* by batch: start / batch */
    int n_e;
    size_t bytes;    /* in the entries */
    /* the run in progress */
    int capture;     /* step before which this run saves its values (0: none) */
    int *new_order;  /* node index of steps [0, capture) of the plans captured */
    int captured;    /* batches saved */
    bool failed;     /* a capture did not fit or could not be made */
};

lc_status lc_calib_cache_create(lc_calib_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

static void drop_entry(lc_calib_cache *c, entry *e)
{
    for (int i = 0; i < e->n_vals; i++) {
        free(e->data[i]);
        c->bytes -= e->bytes[i];
    }
    free(e->data);
    free(e->bytes);
    memset(e, 0, sizeof *e);
}

static void drop_weights(lc_calib_cache *c)
{
    for (int i = 0; i < c->n_w; i++) free(c->w[i].copy);
    free(c->w);
    free(c->order);
    c->w = NULL;
    c->order = NULL;
    c->n_w = 0;
    c->first = 0;
}

static void clear(lc_calib_cache *c)
{
    free(c->new_order);
    c->new_order = NULL;
    for (int i = 0; i < c->n_e; i++) drop_entry(c, &c->e[i]);
    free(c->e);
    c->e = NULL;
    c->n_e = 0;
    drop_weights(c);
}

void lc_calib_cache_free(lc_calib_cache *c)
{
    if (!c) return;
    clear(c);
    free(c);
}

/* The initializer of m's main graph named `name`, or NULL. */
static const lc_tensor *weight(const lc_model *m, const char *name)
{
    return *name ? lc_graph_init(m->graph, name) : NULL;
}

/* Whether the weights read before the frontier are the bytes saved. */
static bool weights_same(const lc_calib_cache *c)
{
    for (int i = 0; i < c->n_w; i++) {
        const lc_tensor *t = weight(c->m, c->w[i].name);
        if (!t || t->nbytes != c->w[i].nbytes || (t->nbytes && memcmp(t->data, c->w[i].copy, t->nbytes))) return false;
    }
    return true;
}

/* Graphs with subgraphs read values across graph boundaries: never cached. */
static bool has_subgraphs(const lc_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int a = 0; a < g->nodes[i]->n_attrs; a++)
            if (g->nodes[i]->attrs[a].type == LC_ATTR_GRAPH || g->nodes[i]->attrs[a].type == LC_ATTR_GRAPHS)
                return true;
    return false;
}

int lc_calib_cache_begin(lc_calib_cache *c, const lc_model *m, const struct lc_dataset *d, int64_t count, int64_t batch)
{
    c->capture = 0;
    c->captured = 0;
    c->failed = false;
    free(c->new_order);
    c->new_order = NULL;
    if (c->m != m || c->g != m->graph || c->d != d || c->count != count || c->batch != batch || has_subgraphs(m->graph) ||
        !weights_same(c)) {
        clear(c);
        c->m = m, c->g = m->graph, c->d = d, c->count = count, c->batch = batch;
        return 0;
    }
    return c->first;
}

/* The first step whose node is needed (n_steps if none). */
static int first_needed(const lc_executor *ex, const bool *need)
{
    int n = lc_executor_step_count(ex);
    for (int p = 0; p < n; p++)
        if (need[lc_executor_step_node(ex, p)]) return p;
    return n;
}

static entry *entry_of(lc_calib_cache *c, int64_t start)
{
    int64_t k = start / c->batch;
    return k >= 0 && k < c->n_e ? &c->e[k] : NULL;
}

int lc_calib_cache_resume(lc_calib_cache *c, lc_executor *ex, const bool *need, int64_t start, int64_t n)
{
    int f = first_needed(ex, need);
    /* a later frontier is worth saving for the next run */
    if (start == 0 && f > c->first && !c->failed) c->capture = f;
    entry *e = entry_of(c, start);
    if (c->first == 0 || c->first > f || !e || e->n != n) return 0;
    for (int p = 0; p < c->first; p++)
        if (lc_executor_step_node(ex, p) != c->order[p]) return 0;
    int k = lc_executor_live_values(ex, c->first, NULL, 0);
    lc_value **v = malloc(sizeof *v * (size_t)(k ? k : 1));
    if (!v) return 0;
    lc_executor_live_values(ex, c->first, v, k);
    bool fits = k == e->n_vals;
    for (int i = 0; fits && i < k; i++) fits = v[i]->nbytes == e->bytes[i];
    for (int i = 0; fits && i < k; i++) memcpy(v[i]->data, e->data[i], e->bytes[i]);
    free(v);
    return fits ? c->first : 0;
}

int lc_calib_cache_capture_node(const lc_calib_cache *c, const lc_executor *ex, bool before)
{
    return c->capture > 0 && !c->failed ? lc_executor_step_node(ex, c->capture - (before ? 0 : 1)) : -1;
}

void lc_calib_cache_capture(lc_calib_cache *c, lc_executor *ex, int64_t start, int64_t n)
{
    if (c->capture == 0 || c->failed) return;
    lc_value **v = NULL;
    int64_t k = start / c->batch;
    if (k >= c->n_e) {
        entry *e = realloc(c->e, (size_t)(k + 1) * sizeof *e);
        if (!e) {
            c->failed = true;
            return;
        }
        memset(e + c->n_e, 0, (size_t)(k + 1 - c->n_e) * sizeof *e);
        c->e = e;
        c->n_e = (int)(k + 1);
    }
    entry *e = &c->e[k];
    /* every batch's plan must run the same nodes before the frontier */
    if (!c->new_order && !(c->new_order = malloc(sizeof *c->new_order * (size_t)c->capture))) goto fail;
    for (int p = 0; p < c->capture; p++) {
        int node = lc_executor_step_node(ex, p);
        if (start == 0) c->new_order[p] = node;
        else if (c->new_order[p] != node) goto fail;
    }
    int nv = lc_executor_live_values(ex, c->capture, NULL, 0);
    v = malloc(sizeof *v * (size_t)(nv ? nv : 1));
    if (!v) goto fail;
    lc_executor_live_values(ex, c->capture, v, nv);
    if (start == 0) {
        /* the whole data set's frontier, from the first batch's */
        double per = 0;
        for (int i = 0; i < nv; i++) per += (double)v[i]->nbytes / (double)n;
        if (per * (double)c->count > (double)CACHE_MAX_BYTES) goto fail;
    }
    /* the previous frontier's memory is reused when the sizes agree (fresh
       allocations of this size cost a page fault per 4 KiB) */
    bool reuse = e->n_vals == nv;
    for (int i = 0; reuse && i < nv; i++) reuse = e->bytes[i] == v[i]->nbytes;
    if (!reuse) {
        drop_entry(c, e);
        e->data = calloc((size_t)(nv ? nv : 1), sizeof *e->data);
        e->bytes = calloc((size_t)(nv ? nv : 1), sizeof *e->bytes);
        if (!e->data || !e->bytes) goto fail;
        for (int i = 0; i < nv; i++) {
            size_t b = v[i]->nbytes;
            if (c->bytes + b > CACHE_MAX_BYTES || !(e->data[i] = malloc(b ? b : 1))) goto fail;
            e->bytes[i] = b;
            e->n_vals = i + 1;
            c->bytes += b;
        }
    }
    for (int i = 0; i < nv; i++)
        if (e->bytes[i]) memcpy(e->data[i], v[i]->data, e->bytes[i]);
    e->n = n;
    c->captured++;
    free(v);
    return;
fail:
    free(v);
    c->failed = true;
}

lc_status lc_calib_cache_end(lc_calib_cache *c, lc_status s)
{
    if (s || c->failed) {
        /* entries of mixed frontiers: start again next run */
        clear(c);
        return s;
    }
    if (c->capture == 0) return LC_OK;
    if (c->captured != (c->count + c->batch - 1) / c->batch) {
        clear(c);
        return LC_OK;
    }
    /* every batch saved the values before step `capture`: remember the
     * plan order and the weights they were computed with */
    drop_weights(c);
    int f = c->capture;
    c->order = c->new_order;
    c->new_order = NULL;
    for (int p = 0; p < f; p++) {
        const lc_node *nd = c->g->nodes[c->order[p]];
        for (int i = 0; i < nd->n_inputs; i++) {
            const lc_tensor *t = weight(c->m, nd->inputs[i]);
            if (!t) continue;
            saved_weight *w = realloc(c->w, sizeof *w * (size_t)(c->n_w + 1));
            if (!w) goto oom;
            c->w = w;
            w[c->n_w] = (saved_weight){nd->inputs[i], malloc(t->nbytes ? t->nbytes : 1), t->nbytes};
            if (!w[c->n_w].copy) goto oom;
            if (t->nbytes) memcpy(w[c->n_w].copy, t->data, t->nbytes);
            c->n_w++;
        }
    }
    c->first = f;
    return LC_OK;
oom:
    /* the cache is only a shortcut: without memory, run in full */
    clear(c);
    return LC_OK;
}

const lc_context *lc_calib_cache_context(const lc_context *ctx, lc_context *local, lc_calib_cache **cache)
{
    *cache = NULL;
    if (!ctx || ctx->no_calib_cache || ctx->calib_cache || lc_calib_cache_create(cache)) return ctx;
    *local = *ctx;
    local->calib_cache = *cache;
    return local;
}
