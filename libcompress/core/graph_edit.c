/* Small IR graph editing helpers (see lc_graph_edit.h). Linear scans: the
 * graphs passes rewrite have at most a few thousand nodes, and the passes
 * call these a handful of times per layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_graph_edit.h"

lc_node *lc_node_make(const char *op_type, const char *name, int n_in, const char *const *inputs, int n_out,
                      const char *const *outputs)
{
    lc_node *n = calloc(1, sizeof *n);
    if (!n) goto fail;
    n->op_type = lc_strdup(op_type);
    n->domain = lc_strdup("");
    n->name = name ? lc_strdup(name) : NULL;
    n->inputs = calloc((size_t)(n_in ? n_in : 1), sizeof *n->inputs);
    n->outputs = calloc((size_t)(n_out ? n_out : 1), sizeof *n->outputs);
    if (!n->op_type || !n->domain || (name && !n->name) || !n->inputs || !n->outputs) goto fail;
    for (; n->n_inputs < n_in; n->n_inputs++)
        if (!(n->inputs[n->n_inputs] = lc_strdup(inputs[n->n_inputs] ? inputs[n->n_inputs] : ""))) goto fail;
    for (; n->n_outputs < n_out; n->n_outputs++)
        if (!(n->outputs[n->n_outputs] = lc_strdup(outputs[n->n_outputs] ? outputs[n->n_outputs] : ""))) goto fail;
    return n;
fail:
    lc_node_free(n);
    lc_fail(LC_ERR_NO_MEMORY, "out of memory creating a %s node", op_type);
    return NULL;
}

/* The attribute slot `name` of n, cleared for reuse, or a new one. */
static lc_attr *attr_slot(lc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) {
            lc_attr_clear(&n->attrs[i]);
            if (!(n->attrs[i].name = lc_strdup(name))) return NULL;
            return &n->attrs[i];
        }
    lc_attr *a = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (!a) return NULL;
    n->attrs = a;
    a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    if (!(a->name = lc_strdup(name))) return NULL;
    n->n_attrs++;
    return a;
}

lc_status lc_node_set_attr_int(lc_node *n, const char *name, int64_t v)
{
    lc_attr *a = attr_slot(n, name);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->type = LC_ATTR_INT;
    a->i = v;
    return LC_OK;
}

lc_status lc_node_set_attr_ints(lc_node *n, const char *name, int count, const int64_t *v)
{
    lc_attr *a = attr_slot(n, name);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->type = LC_ATTR_INTS;
    a->ints = malloc((size_t)(count ? count : 1) * sizeof *a->ints);
    if (!a->ints) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (count) memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->n = count;
    return LC_OK;
}

lc_status lc_node_set_attr_float(lc_node *n, const char *name, float v)
{
    lc_attr *a = attr_slot(n, name);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->type = LC_ATTR_FLOAT;
    a->f = v;
    return LC_OK;
}

static lc_status set_str(char **slot, const char *value)
{
    char *c = lc_strdup(value ? value : "");
    if (!c) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    free(*slot);
    *slot = c;
    return LC_OK;
}

lc_status lc_node_set_input(lc_node *n, int i, const char *value)
{
    if (i < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "node '%s': input index %d", lc_node_label(n), i);
    if (i >= n->n_inputs) {
        char **in = realloc(n->inputs, (size_t)(i + 1) * sizeof *in);
        if (!in) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        n->inputs = in;
        for (; n->n_inputs <= i; n->n_inputs++)
            if (!(n->inputs[n->n_inputs] = lc_strdup(""))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    return set_str(&n->inputs[i], value);
}

lc_status lc_node_set_output(lc_node *n, int i, const char *value)
{
    if (i < 0 || i >= n->n_outputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "node '%s': output index %d", lc_node_label(n), i);
    return set_str(&n->outputs[i], value);
}

lc_status lc_graph_insert_node_take(lc_graph *g, int pos, lc_node *node)
{
    if (!node) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_graph_insert_node_take: NULL node");
    if (pos < 0 || pos > g->n_nodes) pos = g->n_nodes;
    lc_status s = lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes);
    if (s) {
        lc_node_free(node);
        return s;
    }
    memmove(g->nodes + pos + 1, g->nodes + pos, (size_t)(g->n_nodes - pos) * sizeof *g->nodes);
    g->nodes[pos] = node;
    g->n_nodes++;
    return LC_OK;
}

void lc_graph_remove_node(lc_graph *g, int i)
{
    if (i < 0 || i >= g->n_nodes) return;
    lc_node_free(g->nodes[i]);
    memmove(g->nodes + i, g->nodes + i + 1, (size_t)(g->n_nodes - i - 1) * sizeof *g->nodes);
    g->n_nodes--;
}

int lc_graph_node_index(const lc_graph *g, const lc_node *node)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == node) return i;
    return -1;
}

int lc_graph_producer(const lc_graph *g, const char *value)
{
    if (!value || !*value) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_outputs; k++)
            if (!strcmp(g->nodes[i]->outputs[k], value)) return i;
    return -1;
}

/* Whether subgraph `g` defines `name` itself (shadowing an outer value). */
static bool defines(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name)) return true;
    for (int i = 0; i < g->n_inits; i++)
        if (!strcmp(g->inits[i]->name, name)) return true;
    return lc_graph_producer(g, name) >= 0;
}

/* The subgraphs held by a node's attributes, numbered 0..subgraph_count-1. */
static int subgraph_count(const lc_node *nd)
{
    int c = 0;
    for (int a = 0; a < nd->n_attrs; a++)
        c += nd->attrs[a].type == LC_ATTR_GRAPH ? 1 : nd->attrs[a].type == LC_ATTR_GRAPHS ? nd->attrs[a].n : 0;
    return c;
}

static lc_graph *subgraph_at(const lc_node *nd, int k)
{
    for (int a = 0; a < nd->n_attrs; a++) {
        const lc_attr *at = &nd->attrs[a];
        if (at->type == LC_ATTR_GRAPH && k-- == 0) return at->g;
        if (at->type == LC_ATTR_GRAPHS) {
            if (k < at->n) return at->graphs[k];
            k -= at->n;
        }
    }
    return NULL;
}

/* Uses of `value` by nodes of g and (unless shadowed) its subgraphs; with
 * `to`, renames them. Graph outputs of subgraphs count (they may return an
 * outer value). */
static lc_status walk_uses(lc_graph *g, const char *value, const char *to, const lc_node *skip, bool sub, int *n)
{
    lc_status s = LC_OK;
    if (sub) {
        if (defines(g, value)) return LC_OK;
        for (int i = 0; i < g->n_outputs && !s; i++)
            if (!strcmp(g->outputs[i].name, value)) {
                (*n)++;
                if (to) s = set_str(&g->outputs[i].name, to);
            }
    }
    for (int i = 0; i < g->n_nodes && !s; i++) {
        lc_node *nd = g->nodes[i];
        if (nd != skip)
            for (int k = 0; k < nd->n_inputs && !s; k++)
                if (*nd->inputs[k] && !strcmp(nd->inputs[k], value)) {
                    (*n)++;
                    if (to) s = set_str(&nd->inputs[k], to);
                }
        for (int k = 0; k < subgraph_count(nd) && !s; k++)
            if (subgraph_at(nd, k)) s = walk_uses(subgraph_at(nd, k), value, to, skip, true, n);
    }
    return s;
}

int lc_graph_use_count(const lc_graph *g, const char *value)
{
    int n = 0;
    walk_uses((lc_graph *)g, value, NULL, NULL, false, &n);
    return n;
}

bool lc_graph_is_output(const lc_graph *g, const char *value)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, value)) return true;
    return false;
}

bool lc_graph_is_input(const lc_graph *g, const char *value)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, value)) return true;
    return false;
}

bool lc_graph_has_name(const lc_graph *g, const char *name)
{
    if (lc_graph_is_input(g, name) || lc_graph_is_output(g, name) || lc_graph_init(g, name)) return true;
    for (int i = 0; i < g->n_value_info; i++)
        if (!strcmp(g->value_info[i].name, name)) return true;
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *nd = g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (!strcmp(nd->inputs[k], name)) return true;
        for (int k = 0; k < nd->n_outputs; k++)
            if (!strcmp(nd->outputs[k], name)) return true;
        for (int k = 0; k < subgraph_count(nd); k++)
            if (subgraph_at(nd, k) && lc_graph_has_name(subgraph_at(nd, k), name)) return true;
    }
    return false;
}

/* `base`, or base_1, base_2, ... : the first that `taken` says is free. */
static lc_status first_free(const lc_graph *g, const char *base, bool (*taken)(const lc_graph *, const char *),
                            char **out)
{
    *out = NULL;
    size_t len = strlen(base) + 24;
    char *buf = malloc(len);
    if (!buf) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    snprintf(buf, len, "%s", base);
    for (long k = 1; taken(g, buf); k++) snprintf(buf, len, "%s_%ld", base, k);
    *out = buf;
    return LC_OK;
}

lc_status lc_graph_unique_name(const lc_graph *g, const char *base, char **out)
{
    return first_free(g, base, lc_graph_has_name, out);
}

static bool has_node_name(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *nd = g->nodes[i];
        if (nd->name && !strcmp(nd->name, name)) return true;
        for (int k = 0; k < subgraph_count(nd); k++)
            if (subgraph_at(nd, k) && has_node_name(subgraph_at(nd, k), name)) return true;
    }
    return false;
}

lc_status lc_graph_unique_node_name(const lc_graph *g, const char *base, char **out)
{
    return first_free(g, base, has_node_name, out);
}

lc_status lc_graph_add_init_take(lc_graph *g, lc_tensor *t)
{
    lc_status s = LC_OK;
    if (lc_graph_init(g, t->name)) {
        s = lc_fail(LC_ERR_VERIFY, "initializer '%s' already exists", t->name);
        goto fail;
    }
    if ((s = lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits))) goto fail;
    g->inits[g->n_inits++] = t;
    return LC_OK;
fail:
    lc_tensor_free(t);
    return s;
}

lc_status lc_graph_add_init(lc_graph *g, const char *name, int dtype, int ndim, const int64_t *dims, const void *data,
                            lc_tensor **out)
{
    if (out) *out = NULL;
    lc_tensor *t = lc_tensor_new(name, dtype, ndim, dims);
    if (!t) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_tensor_alloc_data(t);
    if (s) {
        lc_tensor_free(t);
        return s;
    }
    if (data && t->nbytes) memcpy(t->data, data, t->nbytes);
    if ((s = lc_graph_add_init_take(g, t))) return s;
    if (out) *out = t;
    return LC_OK;
}

lc_status lc_graph_rename_uses(lc_graph *g, const char *from, const char *to, const lc_node *skip, bool outputs,
                               int *n)
{
    int count = 0;
    lc_status s = walk_uses(g, from, to, skip, false, &count);
    for (int i = 0; outputs && i < g->n_outputs && !s; i++)
        if (!strcmp(g->outputs[i].name, from)) {
            count++;
            s = set_str(&g->outputs[i].name, to);
        }
    if (n) *n = count;
    return s;
}

void lc_graph_drop_value_info(lc_graph *g, const char *value)
{
    int j = 0;
    for (int i = 0; i < g->n_value_info; i++) {
        if (!strcmp(g->value_info[i].name, value)) {
            lc_value_info_clear(&g->value_info[i]);
            continue;
        }
        g->value_info[j++] = g->value_info[i];
    }
    g->n_value_info = j;
}

/* Read anywhere: node inputs (and subgraph uses) or a graph output. */
static bool is_read(const lc_graph *g, const char *value)
{
    return lc_graph_is_output(g, value) || lc_graph_use_count(g, value) > 0;
}

lc_status lc_graph_prune_unused(lc_graph *g, int *n_removed)
{
    int removed = 0;
    /* a dead Constant may be the only reader of nothing, but removing one
     * never makes another initializer dead, so one sweep of each suffices */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const lc_node *nd = g->nodes[i];
        if (strcmp(nd->op_type, "Constant") || (nd->domain && *nd->domain) || nd->n_outputs != 1) continue;
        if (!is_read(g, nd->outputs[0])) {
            lc_graph_remove_node(g, i);
            removed++;
        }
    }
    int j = 0;
    for (int i = 0; i < g->n_inits; i++) {
        lc_tensor *t = g->inits[i];
        if (!lc_graph_is_input(g, t->name) && !is_read(g, t->name)) {
            lc_graph_drop_value_info(g, t->name);
            lc_tensor_free(t);
            removed++;
            continue;
        }
        g->inits[j++] = t;
    }
    g->n_inits = j;
    if (n_removed) *n_removed = removed;
    return LC_OK;
}

lc_status lc_model_set_opset(lc_model *m, int64_t version)
{
    for (int i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        if (!d || !*d || !strcmp(d, "ai.onnx")) {
            m->opsets[i].version = version;
            return LC_OK;
        }
    }
    lc_opset *o = realloc(m->opsets, (size_t)(m->n_opsets + 1) * sizeof *o);
    if (!o) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    m->opsets = o;
    char *d = lc_strdup("");
    if (!d) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    m->opsets[m->n_opsets++] = (lc_opset){d, version};
    return LC_OK;
}
