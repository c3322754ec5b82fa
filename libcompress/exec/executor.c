/* The reference executor: plan once (order, kernels, shapes, constant
 * folding, buffers), then run node by node. See lc_exec.h for the kernel
 * contract and libcompress.h for the public API. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_nn.h"
#include "lc_strset.h"

/* Buffers are handed out in multiples of this (also their alignment). */
#define BUF_ALIGN 64

/* Where empty constants point, so kernels never see a NULL data pointer. */
static _Alignas(BUF_ALIGN) const unsigned char empty_data[BUF_ALIGN];

typedef struct slot {
    lc_value v;
    int last_use;    /* position in `steps` of the last reader, -1 if none */
    int buf;         /* pooled buffer, -1 if none */
    void *owned;     /* own memory (folded constants, graph outputs) */
    bool is_input;   /* a non-initializer graph input */
    bool is_output;  /* a graph output */
} slot;

typedef struct step {
    int node_index;  /* in m->graph->nodes */
    const lc_node *node;
    const lc_kernel *kernel;
    lc_kernel_args args;
    const lc_value **in;
    lc_value **out;
    int *in_slots;   /* slot per input, -1 for omitted */
    int *out_slots;
    int n_extra;     /* outer values read by subgraphs (order and liveness) */
    int *extra_slots;
    bool removed;    /* merged into an earlier step by fusion */
    lc_value fw, fb; /* fused Conv: weights and bias with BatchNormalization folded in */
    float *fdata;    /* their memory */
} step;

struct lc_executor {
    const lc_model *m;
    int threads;
    int64_t opset;
    int n_slots;
    slot *slots;
    lc_strset names;   /* value name -> slot index + 1 */
    int n_steps;
    step *steps;
    int n_inputs;
    int *inputs;       /* slot per executor input */
    int n_outputs;
    int *outputs;      /* slot per graph output */
    int n_bufs;
    void **bufs;
    size_t *buf_size;
    bool *folded;      /* per graph node */
    lc_observe_fn observer;
    void *observer_user;
    unsigned flags;    /* LC_EXEC_* */
    int n_fused;       /* nodes merged into other steps */
};

/* ---------------------------------------------------------------- */
/* Small helpers                                                     */
/* ---------------------------------------------------------------- */

static int slot_of(const lc_executor *ex, const char *name)
{
    if (!name || !*name) return -1;
    return (int)(intptr_t)lc_strset_get(&ex->names, name) - 1;
}

static size_t round_up(size_t n)
{
    return n ? (n + BUF_ALIGN - 1) / BUF_ALIGN * BUF_ALIGN : BUF_ALIGN;
}

static void *alloc_buffer(size_t n)
{
    return aligned_alloc(BUF_ALIGN, round_up(n));
}

/* Fails with the standard node prefix: "node 'NAME' (OP, opset N)". */
static lc_status node_fail_prefix(const lc_executor *ex, lc_status s, int node_index, const lc_node *n)
{
    bool dflt = !n->domain || !*n->domain || strcmp(n->domain, "ai.onnx") == 0;
    char where[64];
    if (dflt) snprintf(where, sizeof where, "opset %lld", (long long)ex->opset);
    else snprintf(where, sizeof where, "domain '%.40s'", n->domain);
    if (n->name && *n->name) return lc_fail_prefix(s, "node '%s' (%s, %s)", n->name, n->op_type, where);
    return lc_fail_prefix(s, "node #%d (%s, %s)", node_index, n->op_type, where);
}

static bool is_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

/* Ops whose outputs may be computed at plan time from input shapes alone. */
static bool shape_only_op(const lc_node *n)
{
    return strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0;
}

/* Ops that must not be folded even with constant inputs. */
static bool nondeterministic_op(const lc_node *n)
{
    static const char *const ops[] = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                                      "Multinomial", "Bernoulli"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(n->op_type, ops[i]) == 0) return true;
    return false;
}

/* ---------------------------------------------------------------- */
/* Values                                                            */
/* ---------------------------------------------------------------- */

static lc_status add_slot(lc_executor *ex, const char *name, int *out)
{
    bool added;
    lc_status s = lc_strset_add(&ex->names, name, (void *)(intptr_t)(ex->n_slots + 1), &added);
    if (s) return s;
    if (!added) return lc_fail(LC_ERR_VERIFY, "value '%s' is defined twice", name);
    slot *sl = &ex->slots[ex->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->v.name = name;
    sl->last_use = -1;
    sl->buf = -1;
    *out = ex->n_slots++;
    return LC_OK;
}

static lc_status collect_values(lc_executor *ex, const lc_array *shapes, int n_inputs)
{
    const lc_graph *g = ex->m->graph;
    int total = g->n_inits + g->n_inputs;
    for (int i = 0; i < g->n_nodes; i++) total += g->nodes[i]->n_outputs;
    ex->slots = calloc((size_t)(total ? total : 1), sizeof *ex->slots);
    ex->inputs = calloc((size_t)(g->n_inputs ? g->n_inputs : 1), sizeof *ex->inputs);
    ex->outputs = calloc((size_t)(g->n_outputs ? g->n_outputs : 1), sizeof *ex->outputs);
    if (!ex->slots || !ex->inputs || !ex->outputs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s;
    int k;
    for (int i = 0; i < g->n_inits; i++) {
        const lc_tensor *t = g->inits[i];
        if ((s = add_slot(ex, t->name, &k))) return s;
        lc_value *v = &ex->slots[k].v;
        v->dtype = t->dtype;
        v->ndim = t->ndim;
        memcpy(v->dims, t->dims, sizeof v->dims);
        /* Weights are read in place. */
        v->data = t->data ? t->data : (void *)empty_data;
        v->nbytes = t->nbytes;
        v->is_const = true;
        v->borrowed = true;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const lc_value_info *vi = &g->inputs[i];
        if (slot_of(ex, vi->name) >= 0) continue; /* an initializer (a default value) */
        if (ex->n_inputs >= n_inputs)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "the model has more than the %d inputs given (input '%s')", n_inputs,
                           vi->name);
        const lc_array *a = &shapes[ex->n_inputs];
        size_t es = lc_dtype_size(a->dtype);
        if (!es) return lc_fail(LC_ERR_DTYPE, "input '%s': unsupported dtype %s", vi->name, lc_dtype_name(a->dtype));
        if (vi->type.kind == LC_TYPE_TENSOR && vi->type.elem_type && vi->type.elem_type != a->dtype)
            return lc_fail(LC_ERR_DTYPE, "input '%s' is %s, got %s", vi->name, lc_dtype_name(vi->type.elem_type),
                           lc_dtype_name(a->dtype));
        if (a->ndim < 0 || a->ndim > LC_MAX_DIMS || lc_shape_numel(a->ndim, a->dims, es) < 0)
            return lc_fail(LC_ERR_SHAPE, "input '%s': invalid shape", vi->name);
        if (vi->type.kind == LC_TYPE_TENSOR && vi->type.has_shape && vi->type.ndim != a->ndim)
            return lc_fail(LC_ERR_SHAPE, "input '%s' has rank %d, got shape [%s]", vi->name, vi->type.ndim,
                           lc_dims_str(a->ndim, a->dims));
        if ((s = add_slot(ex, vi->name, &k))) return s;
        slot *sl = &ex->slots[k];
        sl->is_input = true;
        sl->v.dtype = a->dtype;
        sl->v.ndim = a->ndim;
        if (a->ndim) memcpy(sl->v.dims, a->dims, (size_t)a->ndim * sizeof a->dims[0]);
        sl->v.nbytes = (size_t)lc_shape_numel(a->ndim, a->dims, es) * es;
        ex->inputs[ex->n_inputs++] = k;
    }
    if (ex->n_inputs != n_inputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "the model has %d inputs, %d given", ex->n_inputs, n_inputs);
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        for (int o = 0; o < n->n_outputs; o++)
            if (*n->outputs[o] && (s = add_slot(ex, n->outputs[o], &k)))
                return node_fail_prefix(ex, s, i, n);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int o = slot_of(ex, g->outputs[i].name);
        if (o < 0) return lc_fail(LC_ERR_VERIFY, "graph output '%s' is not defined", g->outputs[i].name);
        ex->slots[o].is_output = true;
        ex->outputs[ex->n_outputs++] = o;
    }
    return LC_OK;
}

/* ---------------------------------------------------------------- */
/* Order                                                             */
/* ---------------------------------------------------------------- */

/* Appends to *list the main-graph values that the subgraphs of `n` read. */
static lc_status subgraph_reads(const lc_executor *ex, const lc_graph *sg, int **list, int *count, int *cap)
{
    for (int i = 0; i < sg->n_nodes; i++) {
        const lc_node *n = sg->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            /* Names defined inside the subgraph may shadow outer ones; being
             * conservative here only adds an ordering constraint. */
            int sl = slot_of(ex, n->inputs[k]);
            if (sl < 0) continue;
            lc_status s = lc_vec_reserve((void **)list, cap, *count + 1, sizeof **list);
            if (s) return s;
            (*list)[(*count)++] = sl;
        }
        for (int a = 0; a < n->n_attrs; a++) {
            const lc_attr *at = &n->attrs[a];
            lc_status s = LC_OK;
            if (at->type == LC_ATTR_GRAPH && at->g) s = subgraph_reads(ex, at->g, list, count, cap);
            for (int j = 0; at->type == LC_ATTR_GRAPHS && j < at->n && !s; j++)
                s = subgraph_reads(ex, at->graphs[j], list, count, cap);
            if (s) return s;
        }
    }
    return LC_OK;
}

static lc_status node_extra_reads(const lc_executor *ex, const lc_node *n, int **list, int *count)
{
    int cap = 0;
    *list = NULL;
    *count = 0;
    for (int a = 0; a < n->n_attrs; a++) {
        const lc_attr *at = &n->attrs[a];
        lc_status s = LC_OK;
        if (at->type == LC_ATTR_GRAPH && at->g) s = subgraph_reads(ex, at->g, list, count, &cap);
        for (int j = 0; at->type == LC_ATTR_GRAPHS && j < at->n && !s; j++)
            s = subgraph_reads(ex, at->graphs[j], list, count, &cap);
        if (s) return s;
    }
    return LC_OK;
}

/* Min-heap of node indices, so a sorted graph keeps its order. */
static void heap_push(int *h, int *n, int x)
{
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static int heap_pop(int *h, int *n)
{
    int top = h[0], x = h[--(*n)], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* Kahn's algorithm over node -> node edges. `extra[i]`/`n_extra[i]` are
 * the implicit reads of node i's subgraphs. */
static lc_status topo_sort(const lc_executor *ex, int *const *extra, const int *n_extra, int *order)
{
    const lc_graph *g = ex->m->graph;
    int nn = g->n_nodes;
    lc_status s = LC_OK;
    int *producer = malloc((size_t)(ex->n_slots ? ex->n_slots : 1) * sizeof *producer);
    int *pending = calloc((size_t)(nn ? nn : 1), sizeof *pending);
    int *heap = malloc((size_t)(nn ? nn : 1) * sizeof *heap);
    /* Consumers as a CSR list: edges from producer node to consumer node. */
    int *first = calloc((size_t)nn + 1, sizeof *first), *edges = NULL, *fill = NULL;
    if (!producer || !pending || !heap || !first) goto nomem;
    for (int i = 0; i < ex->n_slots; i++) producer[i] = -1;
    for (int i = 0; i < nn; i++)
        for (int o = 0; o < g->nodes[i]->n_outputs; o++) {
            int sl = slot_of(ex, g->nodes[i]->outputs[o]);
            if (sl >= 0) producer[sl] = i;
        }
    int n_edges = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nn; i++) {
            const lc_node *n = g->nodes[i];
            for (int k = 0; k < n->n_inputs + n_extra[i]; k++) {
                int sl = k < n->n_inputs ? slot_of(ex, n->inputs[k]) : extra[i][k - n->n_inputs];
                int p = sl >= 0 ? producer[sl] : -1;
                if (p < 0) continue;
                if (pass == 0) {
                    first[p + 1]++;
                    pending[i]++;
                    n_edges++;
                } else edges[fill[p]++] = i;
            }
        }
        if (pass == 0) {
            for (int i = 0; i < nn; i++) first[i + 1] += first[i];
            edges = malloc((size_t)(n_edges ? n_edges : 1) * sizeof *edges);
            fill = malloc((size_t)(nn ? nn : 1) * sizeof *fill);
            if (!edges || !fill) goto nomem;
            memcpy(fill, first, (size_t)nn * sizeof *fill);
        }
    }
    int hn = 0, done = 0;
    for (int i = 0; i < nn; i++)
        if (!pending[i]) heap_push(heap, &hn, i);
    while (hn) {
        int i = heap_pop(heap, &hn);
        order[done++] = i;
        for (int e = first[i]; e < first[i + 1]; e++)
            if (--pending[edges[e]] == 0) heap_push(heap, &hn, edges[e]);
    }
    if (done < nn) {
        int stuck = 0;
        while (stuck < nn && !pending[stuck]) stuck++;
        const lc_node *n = g->nodes[stuck < nn ? stuck : 0];
        s = lc_fail(LC_ERR_VERIFY, "the graph has a cycle (through node '%s' (%s))", lc_node_label(n), n->op_type);
    }
    goto out;
nomem:
    s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
out:
    free(producer);
    free(pending);
    free(heap);
    free(first);
    free(edges);
    free(fill);
    return s;
}

/* ---------------------------------------------------------------- */
/* Planning                                                          */
/* ---------------------------------------------------------------- */

static const lc_kernel *find_kernel(const lc_executor *ex, const lc_node *n)
{
    if (!is_default_domain(n->domain)) {
        lc_fail(LC_ERR_UNSUPPORTED, "operators of domain '%s' are not supported", n->domain);
        return NULL;
    }
    int lowest = 0;
    const lc_kernel *k = lc_kernel_find(n->op_type, ex->opset, &lowest);
    if (k) return k;
    if (lowest)
        lc_fail(LC_ERR_UNSUPPORTED, "operator %s is supported from opset %d on, the model imports opset %lld", n->op_type,
                lowest, (long long)ex->opset);
    else lc_fail(LC_ERR_UNSUPPORTED, "operator %s is not supported", n->op_type);
    return NULL;
}

/* After a kernel refused a node: DTYPE and UNSUPPORTED refusals of a model
 * that loaded fine mean "we do not handle this", so both become
 * LC_ERR_UNSUPPORTED; dtype refusals get the input dtypes appended. */
static lc_status refusal(lc_status s, const step *st)
{
    if (s != LC_ERR_DTYPE && s != LC_ERR_UNSUPPORTED) return s;
    char msg[1024], types[256] = "";
    snprintf(msg, sizeof msg, "%s", lc_last_error());
    size_t used = 0;
    for (int i = 0; i < st->args.n_in && used < sizeof types - 32; i++)
        used += (size_t)snprintf(types + used, sizeof types - used, "%s%s", i ? ", " : "",
                                 st->in[i] ? lc_dtype_name(st->in[i]->dtype) : "-");
    if (s == LC_ERR_DTYPE || strstr(msg, "type"))
        return lc_fail(LC_ERR_UNSUPPORTED, "%s (input dtypes: %s)", msg, st->args.n_in ? types : "none");
    return lc_fail(LC_ERR_UNSUPPORTED, "%s", msg);
}

static void step_clear(step *st)
{
    if (st->kernel && st->kernel->free_state && st->args.state) st->kernel->free_state(st->args.state);
    st->args.state = NULL;
    free(st->in);
    free(st->out);
    free(st->in_slots);
    free(st->out_slots);
    free(st->extra_slots);
    free(st->fdata);
    memset(st, 0, sizeof *st);
}

static lc_status step_init(lc_executor *ex, step *st, int node_index)
{
    const lc_node *n = ex->m->graph->nodes[node_index];
    st->node_index = node_index;
    st->node = n;
    size_t ni = (size_t)(n->n_inputs ? n->n_inputs : 1), no = (size_t)(n->n_outputs ? n->n_outputs : 1);
    st->in = calloc(ni, sizeof *st->in);
    st->out = calloc(no, sizeof *st->out);
    st->in_slots = calloc(ni, sizeof *st->in_slots);
    st->out_slots = calloc(no, sizeof *st->out_slots);
    if (!st->in || !st->out || !st->in_slots || !st->out_slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n->n_inputs; i++) {
        st->in_slots[i] = slot_of(ex, n->inputs[i]);
        /* The model may not have been verified (built in memory). */
        if (st->in_slots[i] < 0 && *n->inputs[i])
            return lc_fail(LC_ERR_VERIFY, "input '%s' is not defined by any node, input or initializer", n->inputs[i]);
        st->in[i] = st->in_slots[i] >= 0 ? &ex->slots[st->in_slots[i]].v : NULL;
    }
    for (int i = 0; i < n->n_outputs; i++) {
        st->out_slots[i] = slot_of(ex, n->outputs[i]);
        st->out[i] = st->out_slots[i] >= 0 ? &ex->slots[st->out_slots[i]].v : NULL;
    }
    st->args.node = n;
    st->args.opset = ex->opset;
    st->args.n_in = n->n_inputs;
    st->args.in = st->in;
    st->args.n_out = n->n_outputs;
    st->args.out = st->out;
    st->args.threads = ex->threads;
    return LC_OK;
}

/* Runs a node whose inputs are all known, so its outputs become constants
 * of the plan. The outputs get their own memory (never pooled). */
static lc_status fold(lc_executor *ex, step *st)
{
    for (int o = 0; o < st->args.n_out; o++) {
        if (st->out_slots[o] < 0) continue;
        slot *sl = &ex->slots[st->out_slots[o]];
        sl->v.nbytes = (size_t)lc_value_numel(&sl->v) * lc_dtype_size(sl->v.dtype);
        sl->owned = alloc_buffer(sl->v.nbytes);
        if (!sl->owned) return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
        sl->v.data = sl->owned;
    }
    lc_status s = st->kernel->run(&st->args);
    if (s) return s;
    for (int o = 0; o < st->args.n_out; o++)
        if (st->out[o]) st->out[o]->is_const = true;
    return LC_OK;
}

/* Inputs a node must have, present and named, before its kernel sees it:
 * ONNX's min_input for each operator with a kernel, from the schema version
 * on which it last changed (onnx.defs, sorted by op then since). Kernels
 * read their required inputs without checking, so a hostile model that
 * leaves one out (no input, or "") is refused here. */
static const struct {
    const char *op;
    int since, min_inputs;
} required_inputs[] = {
    {"Abs", 1, 1},
    {"Add", 1, 2},
    {"And", 1, 2},
    {"ArgMax", 1, 1},
    {"AveragePool", 1, 1},
    {"BatchNormalization", 1, 5},
    {"Cast", 1, 1},
    {"Ceil", 1, 1},
    {"Celu", 12, 1},
    {"Clip", 1, 1},
    {"Concat", 1, 1},
    {"Constant", 1, 0},
    {"ConstantOfShape", 9, 1},
    {"Conv", 1, 2},
    {"ConvTranspose", 1, 2},
    {"Cos", 7, 1},
    {"CumSum", 11, 2},
    {"DepthToSpace", 1, 1},
    {"DequantizeLinear", 10, 2},
    {"Div", 1, 2},
    {"Dropout", 1, 1},
    {"Einsum", 12, 1},
    {"Elu", 1, 1},
    {"Equal", 1, 2},
    {"Erf", 9, 1},
    {"Exp", 1, 1},
    {"Expand", 8, 2},
    {"Flatten", 1, 1},
    {"Floor", 1, 1},
    {"GRU", 1, 3},
    {"Gather", 1, 2},
    {"GatherElements", 11, 2},
    {"GatherND", 11, 2},
    {"Gemm", 1, 3},
    {"Gemm", 11, 2},
    {"GlobalAveragePool", 1, 1},
    {"GlobalLpPool", 1, 1},
    {"GlobalMaxPool", 1, 1},
    {"Greater", 1, 2},
    {"GreaterOrEqual", 12, 2},
    {"HardSigmoid", 1, 1},
    {"HardSwish", 14, 1},
    {"Hardmax", 1, 1},
    {"Identity", 1, 1},
    {"InstanceNormalization", 1, 3},
    {"IsInf", 10, 1},
    {"IsNaN", 9, 1},
    {"LRN", 1, 1},
    {"LSTM", 1, 3},
    {"LayerNormalization", 17, 2},
    {"LeakyRelu", 1, 1},
    {"Less", 1, 2},
    {"LessOrEqual", 12, 2},
    {"Log", 1, 1},
    {"LogSoftmax", 1, 1},
    {"LpNormalization", 1, 1},
    {"MatMul", 1, 2},
    {"Max", 1, 1},
    {"MaxPool", 1, 1},
    {"Mean", 1, 1},
    {"MeanVarianceNormalization", 9, 1},
    {"Min", 1, 1},
    {"Mod", 10, 2},
    {"Mul", 1, 2},
    {"Neg", 1, 1},
    {"Not", 1, 1},
    {"Or", 1, 2},
    {"PRelu", 1, 2},
    {"Pad", 1, 1},
    {"Pad", 11, 2},
    {"Pow", 1, 2},
    {"QuantizeLinear", 10, 2},
    {"RNN", 1, 3},
    {"Range", 11, 3},
    {"Reciprocal", 1, 1},
    {"ReduceLogSum", 1, 1},
    {"ReduceLogSumExp", 1, 1},
    {"ReduceMax", 1, 1},
    {"ReduceMean", 1, 1},
    {"ReduceMin", 1, 1},
    {"ReduceProd", 1, 1},
    {"ReduceSum", 1, 1},
    {"ReduceSumSquare", 1, 1},
    {"Relu", 1, 1},
    {"Reshape", 1, 1},
    {"Reshape", 5, 2},
    {"Resize", 10, 2},
    {"Resize", 11, 3},
    {"Resize", 13, 1},
    {"Round", 11, 1},
    {"Scatter", 9, 3},
    {"ScatterElements", 11, 3},
    {"ScatterND", 11, 3},
    {"Selu", 1, 1},
    {"Shape", 1, 1},
    {"Shrink", 9, 1},
    {"Sigmoid", 1, 1},
    {"Sign", 9, 1},
    {"Sin", 7, 1},
    {"Size", 1, 1},
    {"Slice", 1, 1},
    {"Slice", 10, 3},
    {"Softmax", 1, 1},
    {"Softplus", 1, 1},
    {"Softsign", 1, 1},
    {"SpaceToDepth", 1, 1},
    {"Split", 1, 1},
    {"Sqrt", 1, 1},
    {"Squeeze", 1, 1},
    {"Sub", 1, 2},
    {"Sum", 1, 1},
    {"Tanh", 1, 1},
    {"ThresholdedRelu", 10, 1},
    {"Tile", 1, 3},
    {"Tile", 6, 2},
    {"TopK", 1, 1},
    {"TopK", 10, 2},
    {"Transpose", 1, 1},
    {"Trilu", 14, 1},
    {"Unsqueeze", 1, 1},
    {"Unsqueeze", 13, 2},
    {"Upsample", 1, 1},
    {"Upsample", 9, 2},
    {"Where", 9, 3},
    {"Xor", 1, 2},
};

static bool is_recurrent_op(const char *op)
{
    return !strcmp(op, "GRU") || !strcmp(op, "LSTM") || !strcmp(op, "RNN");
}

static lc_status check_required_inputs(const lc_node *n, int64_t opset)
{
    int need = -1;
    for (size_t i = 0; i < sizeof required_inputs / sizeof required_inputs[0]; i++)
        if (!strcmp(required_inputs[i].op, n->op_type) && required_inputs[i].since <= opset)
            need = required_inputs[i].min_inputs;
    if (need < 0) return LC_OK;
    if (n->n_inputs < need)
        return lc_fail(LC_ERR_VERIFY, "has %d inputs, %s needs at least %d", n->n_inputs, n->op_type, need);
    for (int i = 0; i < need; i++)
        if (!*n->inputs[i]) return lc_fail(LC_ERR_VERIFY, "input %d is required but empty", i);
    return LC_OK;
}

static lc_status plan_nodes(lc_executor *ex, const int *order, int **extra, const int *n_extra)
{
    const lc_graph *g = ex->m->graph;
    for (int p = 0; p < g->n_nodes; p++) {
        int ni = order[p];
        const lc_node *n = g->nodes[ni];
        step *st = &ex->steps[ex->n_steps];
        lc_status s = step_init(ex, st, ni);
        if (s) {
            s = node_fail_prefix(ex, s, ni, n);
            goto fail;
        }
        st->kernel = find_kernel(ex, n);
        if (!st->kernel) {
            s = node_fail_prefix(ex, LC_ERR_UNSUPPORTED, ni, n);
            goto fail;
        }
        /* every operator's first output is required (kernels write out[0]),
         * except the recurrent ops' Y, which their kernels treat as optional */
        if (n->n_outputs < 1 || (!*n->outputs[0] && !is_recurrent_op(n->op_type))) {
            s = node_fail_prefix(ex, lc_fail(LC_ERR_VERIFY, "has no output (%s needs at least one)", n->op_type), ni, n);
            goto fail;
        }
        if (is_default_domain(n->domain) && (s = check_required_inputs(n, st->args.opset))) {
            s = node_fail_prefix(ex, s, ni, n);
            goto fail;
        }
        if ((s = st->kernel->prepare(&st->args))) {
            s = node_fail_prefix(ex, refusal(s, st), ni, n);
            goto fail;
        }
        for (int o = 0; o < n->n_outputs && !s; o++)
            if (st->out[o] && !st->out[o]->dtype)
                s = node_fail_prefix(ex, lc_fail(LC_ERR_INTERNAL, "prepare left output '%s' without a type", n->outputs[o]),
                                     ni, n);
        if (s) goto fail;
        bool all_const = !nondeterministic_op(n) && n_extra[ni] == 0;
        for (int i = 0; i < n->n_inputs && all_const; i++)
            if (st->in[i] && !st->in[i]->is_const) all_const = false;
        if (all_const || (shape_only_op(n) && n_extra[ni] == 0)) {
            if ((s = fold(ex, st))) {
                s = node_fail_prefix(ex, s, ni, n);
                goto fail;
            }
            ex->folded[ni] = true;
            step_clear(st);
            continue;
        }
        st->extra_slots = extra[ni];
        st->n_extra = n_extra[ni];
        extra[ni] = NULL;
        ex->n_steps++;
        continue;
    fail:
        step_clear(st);
        return s;
    }
    return LC_OK;
}


/* ---------------------------------------------------------------- */
/* Fusion                                                            */
/* ---------------------------------------------------------------- */

/* Readers of each slot among the planned steps, for fusion. */
typedef struct fuse_ctx {
    int *n_reads;  /* reads per slot (an input listed twice counts twice) */
    int *reader;   /* the (last) reading step */
    int *producer; /* the producing step, -1 for inputs and constants */
} fuse_ctx;

static bool is_op(const step *st, const char *op)
{
    return strcmp(st->node->op_type, op) == 0;
}

static bool is_float_value(const lc_value *v)
{
    return v && v->dtype == LC_DTYPE_FLOAT;
}

/* The step that alone consumes slot `sl` (only as its input 0 unless
 * `any_input`), when the value is not a graph output; else -1. */
static int sole_reader(const lc_executor *ex, const fuse_ctx *fc, int sl, bool any_input)
{
    if (sl < 0 || ex->slots[sl].is_output || fc->n_reads[sl] != 1) return -1;
    int q = fc->reader[sl];
    const step *st = &ex->steps[q];
    if (st->removed || st->n_extra) return -1;
    if (!any_input && (st->args.n_in < 1 || st->in_slots[0] != sl)) return -1;
    for (int o = 1; o < st->args.n_out; o++)
        if (st->out[o]) return -1;
    return st->out_slots[0] >= 0 ? q : -1;
}

static bool all_const_float(const step *st, int from, int to)
{
    for (int i = from; i < to; i++)
        if (i >= st->args.n_in || !st->in[i] || !st->in[i]->is_const || !is_float_value(st->in[i])) return false;
    return true;
}

/* Folds inference BatchNormalization step `bn` into Conv step `cv`:
 * W' = W * k, B' = (B - mean) * k + beta with k = scale / sqrt(var + eps),
 * per output channel, into memory of the conv step (the model is not
 * touched). */
static lc_status fold_bn(step *cv, const step *bn)
{
    const lc_value *w = cv->in[1], *b = cv->args.n_in > 2 ? cv->in[2] : NULL;
    const int64_t m = w->dims[0], per = lc_value_numel(w) / (m ? m : 1);
    const float eps = lc_node_attr_float(bn->node, "epsilon", 1e-5f);
    const float *scale = bn->in[1]->data, *beta = bn->in[2]->data, *mean = bn->in[3]->data, *var = bn->in[4]->data;
    float *mem = malloc((size_t)(m * per + m) * sizeof *mem);
    if (!mem) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    const float *wd = w->data, *bd = b ? b->data : NULL;
    for (int64_t oc = 0; oc < m; oc++) {
        const double k = scale[oc] / sqrt((double)var[oc] + eps);
        for (int64_t i = 0; i < per; i++) mem[oc * per + i] = (float)(wd[oc * per + i] * k);
        mem[m * per + oc] = (float)(((bd ? bd[oc] : 0.0) - mean[oc]) * k + beta[oc]);
    }
    free(cv->fdata);
    cv->fdata = mem;
    cv->fw = *w;
    cv->fw.data = mem;
    cv->fw.borrowed = false;
    cv->fb = *w;
    cv->fb.name = bn->node->outputs[0];
    cv->fb.ndim = 1;
    cv->fb.dims[0] = m;
    cv->fb.data = mem + m * per;
    cv->fb.nbytes = (size_t)m * sizeof(float);
    cv->fb.borrowed = false;
    return LC_OK;
}

/* Reads an activation step into `e`; false if it is not one we fuse. */
static bool activation_of(const step *st, lc_nn_epilogue *e)
{
    if (!is_float_value(st->in[0]) || !is_float_value(st->out[0])) return false;
    if (is_op(st, "Relu")) {
        e->act = LC_NN_ACT_RELU;
        return true;
    }
    if (is_op(st, "LeakyRelu")) {
        e->act = LC_NN_ACT_LEAKY;
        e->alpha = lc_node_attr_float(st->node, "alpha", 0.01f);
        return true;
    }
    if (!is_op(st, "Clip")) return false;
    e->lo = -INFINITY;
    e->hi = INFINITY;
    if (st->args.opset < 11) {
        e->lo = lc_node_attr_float(st->node, "min", -INFINITY);
        e->hi = lc_node_attr_float(st->node, "max", INFINITY);
    } else {
        for (int k = 1; k <= 2 && k < st->args.n_in; k++) {
            const lc_value *v = st->in[k];
            if (!v) continue;
            if (!v->is_const || !is_float_value(v) || lc_value_numel(v) != 1) return false;
            *(k == 1 ? &e->lo : &e->hi) = ((const float *)v->data)[0];
        }
    }
    e->act = LC_NN_ACT_CLIP;
    return true;
}

static bool same_shape(const lc_value *a, const lc_value *b)
{
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* Makes room for a fourth input (a Conv's residual). */
static lc_status add_residual_input(lc_executor *ex, step *st, int sl)
{
    const lc_value **in = realloc(st->in, 4 * sizeof *in);
    if (!in) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->in = in;
    int *slots = realloc(st->in_slots, 4 * sizeof *slots);
    if (!slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->in_slots = slots;
    for (int i = st->args.n_in; i < 3; i++) {
        st->in[i] = NULL;
        st->in_slots[i] = -1;
    }
    st->in[3] = &ex->slots[sl].v;
    st->in_slots[3] = sl;
    st->args.n_in = 4;
    st->args.in = st->in;
    return LC_OK;
}

/* Tries the chains Conv [-> BN] [-> Add(residual)] [-> activation] and
 * Gemm -> activation starting at step p. */
static lc_status fuse_at(lc_executor *ex, const fuse_ctx *fc, int p)
{
    step *st = &ex->steps[p];
    const bool conv = st->kernel == &lc_kernel_Conv_1, gemm = st->kernel == &lc_kernel_Gemm_1;
    if ((!conv && !gemm) || st->args.n_out != 1 || !st->out[0] || st->n_extra) return LC_OK;
    lc_nn_epilogue e = {0};
    int cur = st->out_slots[0], q, bn = -1, add = -1, act = -1, residual = -1;
    if (conv && (q = sole_reader(ex, fc, cur, false)) >= 0 && is_op(&ex->steps[q], "BatchNormalization") &&
        all_const_float(&ex->steps[q], 1, 5) && st->in[1]->is_const &&
        (st->args.n_in < 3 || !st->in[2] || st->in[2]->is_const) &&
        lc_value_numel(ex->steps[q].in[1]) == st->in[1]->dims[0] &&
        !(ex->steps[q].args.opset < 9 && lc_node_attr_int(ex->steps[q].node, "spatial", 1) == 0)) {
        bn = q;
        cur = ex->steps[q].out_slots[0];
    }
    if (conv && (q = sole_reader(ex, fc, cur, true)) >= 0 && is_op(&ex->steps[q], "Add") &&
        ex->steps[q].args.n_in == 2) {
        const step *a = &ex->steps[q];
        int other = a->in_slots[0] == cur ? a->in_slots[1] : a->in_slots[0];
        const lc_value *r = other >= 0 ? &ex->slots[other].v : NULL;
        /* the residual must exist when the conv runs, and be a plain
         * same-shape float tensor (no broadcasting, no aliasing) */
        if (r && other != cur && is_float_value(r) && same_shape(r, &ex->slots[cur].v) &&
            same_shape(a->out[0], r) && fc->producer[other] < p) {
            add = q;
            residual = other;
            cur = a->out_slots[0];
        }
    }
    if ((q = sole_reader(ex, fc, cur, false)) >= 0 && activation_of(&ex->steps[q], &e)) {
        act = q;
        cur = ex->steps[q].out_slots[0];
    }
    if (bn < 0 && add < 0 && act < 0) return LC_OK;
    lc_status s;
    if (bn >= 0) {
        if ((s = fold_bn(st, &ex->steps[bn]))) return s;
        if (st->args.n_in < 3) {
            /* the folded bias becomes input 2 */
            const lc_value **in = realloc(st->in, 3 * sizeof *in);
            int *slots = in ? realloc(st->in_slots, 3 * sizeof *slots) : NULL;
            if (in) st->in = in;
            if (!in || !slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            st->in_slots = slots;
            st->args.n_in = 3;
            st->args.in = st->in;
        }
        st->in[1] = &st->fw;
        st->in[2] = &st->fb;
        /* the original weights are no longer read by this step */
        st->in_slots[1] = -1;
        st->in_slots[2] = -1;
    }
    if (residual >= 0) {
        e.residual = true;
        if ((s = add_residual_input(ex, st, residual))) return s;
    }
    s = conv ? lc_conv_set_epilogue(st->args.state, &e) : lc_gemm_set_epilogue(st->args.state, &e);
    if (s) return s;
    const int merged[3] = {bn, add, act};
    for (int i = 0; i < 3; i++)
        if (merged[i] >= 0) {
            ex->steps[merged[i]].removed = true;
            ex->n_fused++;
        }
    st->out_slots[0] = cur;
    st->out[0] = &ex->slots[cur].v;
    return LC_OK;
}

static lc_status fuse_steps(lc_executor *ex)
{
    fuse_ctx fc = {0};
    lc_status s = LC_OK;
    size_t ns = (size_t)(ex->n_slots ? ex->n_slots : 1);
    fc.n_reads = calloc(ns, sizeof *fc.n_reads);
    fc.reader = calloc(ns, sizeof *fc.reader);
    fc.producer = malloc(ns * sizeof *fc.producer);
    if (!fc.n_reads || !fc.reader || !fc.producer) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < ex->n_slots; i++) fc.producer[i] = -1;
    for (int p = 0; p < ex->n_steps; p++) {
        const step *st = &ex->steps[p];
        for (int i = 0; i < st->args.n_in + st->n_extra; i++) {
            int sl = i < st->args.n_in ? st->in_slots[i] : st->extra_slots[i - st->args.n_in];
            if (sl < 0) continue;
            fc.n_reads[sl]++;
            fc.reader[sl] = p;
        }
        for (int o = 0; o < st->args.n_out; o++)
            if (st->out_slots[o] >= 0) fc.producer[st->out_slots[o]] = p;
    }
    for (int p = 0; p < ex->n_steps && !s; p++)
        if (!ex->steps[p].removed && (s = fuse_at(ex, &fc, p)))
            s = node_fail_prefix(ex, s, ex->steps[p].node_index, ex->steps[p].node);
    if (s) goto done;
    /* drop the merged steps */
    int k = 0;
    for (int p = 0; p < ex->n_steps; p++) {
        if (ex->steps[p].removed) {
            step_clear(&ex->steps[p]);
            continue;
        }
        if (k != p) {
            ex->steps[k] = ex->steps[p];
            memset(&ex->steps[p], 0, sizeof ex->steps[p]);
        }
        k++;
    }
    ex->n_steps = k;
    /* the struct moved: re-point the fused weights and the args arrays */
    for (int p = 0; p < ex->n_steps; p++) {
        step *st = &ex->steps[p];
        if (st->fdata) {
            st->in[1] = &st->fw;
            st->in[2] = &st->fb;
        }
    }
done:
    free(fc.n_reads);
    free(fc.reader);
    free(fc.producer);
    return s;
}

/* Assigns pooled buffers to step outputs by liveness: a buffer returns to
 * the pool after the last step that reads its value. Graph outputs get
 * their own memory so they stay valid after the run. */
static lc_status plan_buffers(lc_executor *ex)
{
    lc_status s = LC_OK;
    int cap = 0, n_free = 0, free_cap = 0;
    int *free_list = NULL;
    for (int p = 0; p < ex->n_steps; p++) {
        const step *st = &ex->steps[p];
        for (int i = 0; i < st->args.n_in + st->n_extra; i++) {
            int sl = i < st->args.n_in ? st->in_slots[i] : st->extra_slots[i - st->args.n_in];
            if (sl >= 0) ex->slots[sl].last_use = p;
        }
    }
    for (int p = 0; p < ex->n_steps && !s; p++) {
        const step *st = &ex->steps[p];
        for (int o = 0; o < st->args.n_out && !s; o++) {
            if (st->out_slots[o] < 0) continue;
            slot *sl = &ex->slots[st->out_slots[o]];
            sl->v.nbytes = (size_t)lc_value_numel(&sl->v) * lc_dtype_size(sl->v.dtype);
            if (sl->is_output) {
                if (!(sl->owned = alloc_buffer(sl->v.nbytes)))
                    s = lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
                sl->v.data = sl->owned;
                continue;
            }
            /* Best fit among free buffers; else grow the largest free one;
             * else a new buffer. */
            size_t need = round_up(sl->v.nbytes);
            int best = -1, largest = -1;
            for (int f = 0; f < n_free; f++) {
                size_t have = ex->buf_size[free_list[f]];
                if (have >= need && (best < 0 || have < ex->buf_size[free_list[best]])) best = f;
                if (largest < 0 || have > ex->buf_size[free_list[largest]]) largest = f;
            }
            if (best < 0) best = largest;
            if (best >= 0) {
                sl->buf = free_list[best];
                free_list[best] = free_list[--n_free];
                if (ex->buf_size[sl->buf] < need) ex->buf_size[sl->buf] = need;
            } else {
                if ((s = lc_vec_reserve((void **)&ex->buf_size, &cap, ex->n_bufs + 1, sizeof *ex->buf_size))) break;
                ex->buf_size[ex->n_bufs] = need;
                sl->buf = ex->n_bufs++;
            }
        }
        /* Release what died at this step: inputs read for the last time and
         * outputs nobody reads. */
        for (int i = 0; i < st->args.n_in + st->n_extra + st->args.n_out && !s; i++) {
            int k = i - st->args.n_in - st->n_extra;
            int si = i < st->args.n_in ? st->in_slots[i]
                     : k < 0          ? st->extra_slots[i - st->args.n_in]
                                      : st->out_slots[k];
            if (si < 0) continue;
            slot *sl = &ex->slots[si];
            if (sl->buf < 0 || sl->is_output || sl->last_use > p) continue;
            bool already = false;
            for (int f = 0; f < n_free && !already; f++) already = free_list[f] == sl->buf;
            if (already) continue;
            if ((s = lc_vec_reserve((void **)&free_list, &free_cap, n_free + 1, sizeof *free_list))) break;
            free_list[n_free++] = sl->buf;
        }
    }
    free(free_list);
    if (s) return s;
    ex->bufs = calloc((size_t)(ex->n_bufs ? ex->n_bufs : 1), sizeof *ex->bufs);
    if (!ex->bufs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int b = 0; b < ex->n_bufs; b++)
        if (!(ex->bufs[b] = alloc_buffer(ex->buf_size[b])))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", ex->buf_size[b]);
    for (int i = 0; i < ex->n_slots; i++)
        if (ex->slots[i].buf >= 0) ex->slots[i].v.data = ex->bufs[ex->slots[i].buf];
    /* A graph input that is also a graph output is copied in at run. */
    for (int i = 0; i < ex->n_inputs; i++) {
        slot *sl = &ex->slots[ex->inputs[i]];
        if (sl->is_output && !(sl->owned = alloc_buffer(sl->v.nbytes)))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
    }
    return LC_OK;
}

/* Folded values that only fed other folded nodes (e.g. a weight transform
 * chain) are not needed to run: free them. */
static void drop_dead_constants(lc_executor *ex)
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

/* ---------------------------------------------------------------- */
/* Public API                                                        */
/* ---------------------------------------------------------------- */

lc_status lc_executor_create(const lc_model *m, const lc_array *shapes, int n_inputs, int threads, lc_executor **out)
{
    return lc_executor_create_ex(m, shapes, n_inputs, threads, 0, out);
}

lc_status lc_executor_create_ex(const lc_model *m, const lc_array *shapes, int n_inputs, int threads, unsigned flags,
                                lc_executor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: out is NULL");
    *out = NULL;
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: no model");
    if (n_inputs < 0 || (n_inputs && !shapes))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: %d input shapes but shapes is NULL", n_inputs);
    const lc_graph *g = m->graph;
    lc_status s;
    int **extra = NULL, *n_extra = NULL, *order = NULL;
    lc_executor *ex = calloc(1, sizeof *ex);
    if (!ex) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    ex->m = m;
    ex->threads = threads < 1 ? 1 : threads;
    ex->flags = flags;
    ex->opset = lc_model_opset(m, "");
    size_t nn = (size_t)(g->n_nodes ? g->n_nodes : 1);
    ex->steps = calloc(nn, sizeof *ex->steps);
    ex->folded = calloc(nn, sizeof *ex->folded);
    extra = calloc(nn, sizeof *extra);
    n_extra = calloc(nn, sizeof *n_extra);
    order = calloc(nn, sizeof *order);
    if (!ex->steps || !ex->folded || !extra || !n_extra || !order) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((s = collect_values(ex, shapes, n_inputs))) goto fail;
    for (int i = 0; i < g->n_nodes; i++)
        if ((s = node_extra_reads(ex, g->nodes[i], &extra[i], &n_extra[i]))) goto fail;
    if ((s = topo_sort(ex, extra, n_extra, order))) goto fail;
    if ((s = plan_nodes(ex, order, extra, n_extra))) goto fail;
    if (!(flags & LC_EXEC_NO_FUSION) && (s = fuse_steps(ex))) goto fail;
    if ((s = plan_buffers(ex))) goto fail;
    drop_dead_constants(ex);
    *out = ex;
    goto done;
fail:
    lc_executor_free(ex);
done:
    for (size_t i = 0; extra && i < nn; i++) free(extra[i]);
    free(extra);
    free(n_extra);
    free(order);
    return s;
}

lc_status lc_executor_create_batch(const lc_model *m, int batch, int threads, lc_executor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: out is NULL");
    *out = NULL;
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: no model");
    if (batch < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: batch %d must be >= 1", batch);
    const lc_graph *g = m->graph;
    lc_array *shapes = calloc((size_t)(g->n_inputs ? g->n_inputs : 1), sizeof *shapes);
    if (!shapes) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    int n = 0;
    lc_status s = LC_OK;
    for (int i = 0; i < g->n_inputs && !s; i++) {
        const lc_value_info *vi = &g->inputs[i];
        if (lc_graph_init(g, vi->name)) continue;
        const lc_type *t = &vi->type;
        if (t->kind != LC_TYPE_TENSOR) {
            s = lc_fail(LC_ERR_UNSUPPORTED, "input '%s' is not a tensor", vi->name);
            break;
        }
        if (!t->has_shape) {
            s = lc_fail(LC_ERR_SHAPE, "input '%s' has no declared shape", vi->name);
            break;
        }
        if (t->ndim > LC_MAX_DIMS) {
            s = lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has rank %d (at most %d supported)", vi->name, t->ndim, LC_MAX_DIMS);
            break;
        }
        lc_array *a = &shapes[n++];
        a->dtype = t->elem_type;
        a->ndim = t->ndim;
        for (int d = 0; d < t->ndim && !s; d++) {
            if (d == 0) a->dims[d] = batch;
            else if (t->dims[d].kind == LC_DIM_VALUE && t->dims[d].value >= 0) a->dims[d] = t->dims[d].value;
            else if (t->dims[d].kind == LC_DIM_PARAM)
                s = lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is symbolic ('%s'); give the shape explicitly", vi->name, d,
                            t->dims[d].param);
            else s = lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is unknown; give the shape explicitly", vi->name, d);
        }
    }
    if (!s) s = lc_executor_create(m, shapes, n, threads, out);
    free(shapes);
    return s;
}

lc_status lc_executor_run(lc_executor *ex, const lc_array *inputs, int n_inputs)
{
    if (!ex) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_run: executor is NULL");
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
        if (a->dtype != v->dtype)
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
            sl->v.data = inputs[i].data ? (void *)inputs[i].data : (void *)empty_data;
        }
    }
    /* OpenBLAS runs single-threaded (its results depend on its thread
     * count); lc_sgemm spreads large products over ex->threads itself, with
     * a split that depends on the shapes alone: bit-identical on 1 or N. */
    lc_sgemm_set_threads(ex->threads);
    lc_status s = LC_OK;
    for (int p = 0; p < ex->n_steps && !s; p++) {
        step *st = &ex->steps[p];
        s = st->kernel->run(&st->args);
        if (s) {
            node_fail_prefix(ex, s, st->node_index, st->node);
            break;
        }
        if (ex->observer)
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
    for (int i = 0; i < ex->n_steps; i++) step_clear(&ex->steps[i]);
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
    free(ex);
}

/* ---------------------------------------------------------------- */
/* Internal API (lc_exec.h)                                          */
/* ---------------------------------------------------------------- */

void lc_executor_set_observer(lc_executor *ex, lc_observe_fn fn, void *user)
{
    ex->observer = fn;
    ex->observer_user = user;
}

int lc_executor_node_count(const lc_executor *ex) { return ex->m->graph->n_nodes; }

int lc_executor_fused_count(const lc_executor *ex) { return ex->n_fused; }

const lc_node *lc_executor_node(const lc_executor *ex, int i)
{
    return i >= 0 && i < ex->m->graph->n_nodes ? ex->m->graph->nodes[i] : NULL;
}

bool lc_executor_node_folded(const lc_executor *ex, int i)
{
    return i >= 0 && i < ex->m->graph->n_nodes && ex->folded[i];
}

const lc_value *lc_executor_value(const lc_executor *ex, const char *name)
{
    int sl = slot_of(ex, name);
    return sl >= 0 ? &ex->slots[sl].v : NULL;
}

size_t lc_executor_buffer_bytes(const lc_executor *ex)
{
    size_t total = 0;
    for (int b = 0; b < ex->n_bufs; b++) total += ex->buf_size[b];
    return total;
}
