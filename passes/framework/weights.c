/* Which tensors are compressible weights: the float32 stored tensors read
 * as the weight input of Conv, ConvTranspose, Gemm and MatMul nodes, and
 * as W and R of LSTM, GRU and RNN nodes, in the main graph and in every
 * subgraph (If branches, Loop and Scan bodies), filtered by the common
 * pass parameters (ops, include, exclude).
 *
 * A node in a subgraph may read a tensor stored in an enclosing graph
 * (outer scope), and exporters write a recurrent cell's W/R as a 2-D
 * tensor unsqueezed to [1, gates*hidden, input], its gate blocks
 * reordered by Slice + Concat on the way (PyTorch's LSTMCell): both
 * resolve to the stored tensor. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lc_graph_edit.h"
#include "lc_pass.h"
#include "lc_strset.h"

static const char *const default_ops[] = {"Conv", "ConvTranspose", "GRU", "Gemm", "LSTM", "MatMul", "RNN"};
static const char *const layer_ops[] = {"Conv", "ConvTranspose", "Gemm", "MatMul"};

static bool in_table(const char *const *t, size_t n, const char *op)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i], op)) return true;
    return false;
}

static bool in_list(const lc_param_value *v, const char *s)
{
    for (int i = 0; v && i < v->n_list; i++)
        if (fnmatch(v->list[i], s, 0) == 0) return true;
    return false;
}

static bool op_selected(const lc_params *p, const char *op)
{
    const lc_param_value *ops = lc_params_get(p, "ops");
    if (ops && ops->n_list) {
        for (int i = 0; i < ops->n_list; i++)
            if (strcmp(ops->list[i], op) == 0) return true;
        return false;
    }
    return in_table(default_ops, sizeof default_ops / sizeof *default_ops, op);
}

static bool recurrent(const char *op) { return !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN"); }

/* Channel axes of the weight input `input` of a node holding tensor `t`;
 * false if we do not compress it. W and R of a recurrent node are
 * [directions, gates*hidden, input or hidden] (or that without the first
 * axis when unsqueezed): a channel is one gate row. */
static bool weight_axes(const lc_node *n, int input, const lc_tensor *t, int *out_axis, int *in_axis)
{
    const char *op = n->op_type;
    if (recurrent(op)) {
        if ((input != 1 && input != 2) || t->ndim < 2 || t->ndim > 3) return false;
        *out_axis = t->ndim - 2, *in_axis = t->ndim - 1;
        return true;
    }
    if (input != 1) return false;
    if (!strcmp(op, "Conv") && t->ndim >= 3) {
        *out_axis = 0, *in_axis = 1;
        return true;
    }
    if (!strcmp(op, "ConvTranspose") && t->ndim >= 3) {
        *out_axis = 1, *in_axis = 0;
        return true;
    }
    if (!strcmp(op, "Gemm") && t->ndim == 2) {
        bool tb = lc_node_attr_int(n, "transB", 0) != 0;
        *out_axis = tb ? 0 : 1, *in_axis = tb ? 1 : 0;
        return true;
    }
    if (!strcmp(op, "MatMul") && t->ndim >= 2) {
        *out_axis = t->ndim - 1, *in_axis = t->ndim - 2;
        return true;
    }
    return false;
}

/* The stored tensors of each graph by value name, and the chain of
 * enclosing graphs of the one being walked. */
typedef struct scope {
    const lc_graph **graphs;
    lc_strset *sets;
    int n_graphs;
    const lc_graph *chain[64];
    int depth;
} scope;

static lc_stored *lookup(const scope *sc, const char *value, const lc_stored *st)
{
    for (int d = sc->depth - 1; d >= 0; d--) {
        for (int k = 0; k < sc->n_graphs; k++) {
            if (sc->graphs[k] != sc->chain[d]) continue;
            void *v = lc_strset_get(&sc->sets[k], value);
            if (v) return (lc_stored *)st + ((intptr_t)v - 1);
        }
        /* a value produced or taken as input here shadows outer ones */
        if (lc_graph_producer(sc->chain[d], value) >= 0 || lc_graph_is_input(sc->chain[d], value)) return NULL;
    }
    return NULL;
}

/* Whether stored `v` (looked up from g) is a 1-element int64 0: an axes list. */
static bool axis_zero(const scope *sc, const char *v, const lc_stored *st)
{
    lc_stored *ax = *v ? lookup(sc, v, st) : NULL;
    return ax && ax->tensor->dtype == LC_DTYPE_INT64 && lc_tensor_numel(ax->tensor) == 1 &&
           ((const int64_t *)ax->tensor->data)[0] == 0;
}

/* The 2-D stored tensor behind a value of graph g that PyTorch builds from
 * it by reordering gate blocks: Concat(axis 0) of Slices of it along axis
 * 0, or NULL. The rows stay whole, so gate rows are still channels. */
static lc_stored *gate_blocks(const scope *sc, const lc_graph *g, const char *value, const lc_stored *st)
{
    int p = lc_graph_producer(g, value);
    if (p < 0 || strcmp(g->nodes[p]->op_type, "Concat") || lc_node_attr_int(g->nodes[p], "axis", -1) != 0)
        return NULL;
    const lc_node *c = g->nodes[p];
    lc_stored *w = NULL;
    for (int k = 0; k < c->n_inputs; k++) {
        int q = lc_graph_producer(g, c->inputs[k]);
        const lc_node *sl = q >= 0 ? g->nodes[q] : NULL;
        /* Slice-10+: data, starts, ends, axes (absent: all axes from 0) */
        if (!sl || strcmp(sl->op_type, "Slice") || sl->n_inputs < 3 || lc_node_attr(sl, "starts")) return NULL;
        if (sl->n_inputs > 3 && !axis_zero(sc, sl->inputs[3], st)) return NULL;
        lc_stored *x = lookup(sc, sl->inputs[0], st);
        if (!x || (w && x != w)) return NULL;
        w = x;
    }
    return w;
}

/* The stored tensor behind a recurrent node's W/R written as
 * Unsqueeze(2-D, axes=[0]) in graph g (the 2-D stored, or gate blocks of
 * it), or NULL. */
static lc_stored *unsqueezed(const scope *sc, const lc_graph *g, const char *value, const lc_stored *st)
{
    int p = lc_graph_producer(g, value);
    if (p < 0) return NULL;
    const lc_node *u = g->nodes[p];
    if (strcmp(u->op_type, "Unsqueeze") || u->n_inputs < 1 || !*u->inputs[0]) return NULL;
    const lc_attr *a = lc_node_attr(u, "axes");
    if (a && a->type == LC_ATTR_INTS) {
        if (a->n != 1 || a->ints[0] != 0) return NULL;
    } else if (u->n_inputs < 2 || !axis_zero(sc, u->inputs[1], st)) {
        return NULL;
    }
    lc_stored *w = lookup(sc, u->inputs[0], st);
    if (!w) w = gate_blocks(sc, g, u->inputs[0], st);
    return w && w->tensor->ndim == 2 ? w : NULL;
}

typedef struct collect {
    lc_model *m;
    const lc_params *p;
    const lc_stored *st;
    scope sc;
    lc_weight *list;
    int n, cap;
} collect;

static lc_status add_target(collect *c, const lc_graph *g, int i, int input)
{
    lc_node *node = g->nodes[i];
    const char *v = node->inputs[input];
    lc_stored *w = lookup(&c->sc, v, c->st);
    if (!w && recurrent(node->op_type)) w = unsqueezed(&c->sc, g, v, c->st);
    int oa, ia;
    if (!w || w->tensor->dtype != LC_DTYPE_FLOAT || !weight_axes(node, input, w->tensor, &oa, &ia)) return LC_OK;
    const lc_param_value *inc = lc_params_get(c->p, "include"), *exc = lc_params_get(c->p, "exclude");
    const char *nname = node->name ? node->name : "";
    const lc_tensor *t = w->tensor;
    if (inc && inc->n_list && !in_list(inc, nname) && !in_list(inc, t->name) && !in_list(inc, w->value) &&
        !in_list(inc, v))
        return LC_OK;
    if (in_list(exc, nname) || in_list(exc, t->name) || in_list(exc, w->value) || in_list(exc, v)) return LC_OK;
    /* a tensor shared by several layers is compressed once, for its first */
    for (int k = 0; k < c->n; k++)
        if (c->list[k].tensor == t) return LC_OK;
    lc_status s = lc_vec_reserve((void **)&c->list, &c->cap, c->n + 1, sizeof *c->list);
    if (s) return s;
    c->list[c->n++] = (lc_weight){.tensor = w->tensor, .node = node, .node_index = g == c->m->graph ? i : -1,
                                  .input = input, .out_axis = oa, .in_axis = ia, .value = w->value,
                                  .graph = (lc_graph *)g, .home = w->graph};
    return LC_OK;
}

static lc_status walk(collect *c, const lc_graph *g)
{
    if (c->sc.depth >= (int)(sizeof c->sc.chain / sizeof *c->sc.chain)) return LC_OK;
    c->sc.chain[c->sc.depth++] = g;
    lc_status s = LC_OK;
    for (int i = 0; i < g->n_nodes && !s; i++) {
        lc_node *node = g->nodes[i];
        bool std = !node->domain || !*node->domain || !strcmp(node->domain, "ai.onnx");
        if (std && op_selected(c->p, node->op_type))
            for (int k = 1; k <= (recurrent(node->op_type) ? 2 : 1) && !s; k++)
                if (k < node->n_inputs && *node->inputs[k]) s = add_target(c, g, i, k);
        for (int a = 0; a < node->n_attrs && !s; a++) {
            if (node->attrs[a].type == LC_ATTR_GRAPH && node->attrs[a].g) s = walk(c, node->attrs[a].g);
            for (int k = 0; node->attrs[a].type == LC_ATTR_GRAPHS && k < node->attrs[a].n && !s; k++)
                s = walk(c, node->attrs[a].graphs[k]);
        }
    }
    c->sc.depth--;
    return s;
}

lc_status lc_weight_targets(lc_model *m, const lc_params *p, lc_weight **out, int *n)
{
    *out = NULL;
    *n = 0;
    lc_stored *st = NULL;
    int n_st = 0;
    collect c = {.m = m, .p = p};
    lc_status s = lc_model_stored_tensors(m, &st, &n_st);
    if (s) return s;
    c.st = st;
    c.sc.graphs = calloc((size_t)n_st + 1, sizeof *c.sc.graphs);
    c.sc.sets = calloc((size_t)n_st + 1, sizeof *c.sc.sets);
    if (!c.sc.graphs || !c.sc.sets) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n_st && !s; i++) {
        int k = 0;
        while (k < c.sc.n_graphs && c.sc.graphs[k] != st[i].graph) k++;
        if (k == c.sc.n_graphs) c.sc.graphs[c.sc.n_graphs++] = st[i].graph;
        s = lc_strset_add(&c.sc.sets[k], st[i].value, (void *)(intptr_t)(i + 1), NULL);
    }
    if (!s) s = walk(&c, m->graph);
    for (int k = 0; k < c.sc.n_graphs; k++) lc_strset_clear(&c.sc.sets[k]);
    free(c.sc.sets);
    free(c.sc.graphs);
    free(st);
    if (s) {
        free(c.list);
        return s;
    }
    *out = c.list;
    *n = c.n;
    return LC_OK;
}

bool lc_weight_is_layer(const lc_weight *w)
{
    return w->node_index >= 0 && in_table(layer_ops, sizeof layer_ops / sizeof *layer_ops, w->node->op_type);
}

lc_status lc_layer_targets(lc_model *m, const lc_params *p, lc_weight **out, int *n)
{
    lc_status s = lc_weight_targets(m, p, out, n);
    int k = 0;
    for (int i = 0; !s && i < *n; i++)
        if (lc_weight_is_layer(&(*out)[i])) (*out)[k++] = (*out)[i];
    if (!s) *n = k;
    return s;
}
