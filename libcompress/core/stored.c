/* Enumerates stored tensors: initializers and Constant-node values, in the
 * main graph and every subgraph. */
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"

typedef struct list {
    lc_stored *items;
    int n, cap;
} list;

static lc_status push(list *l, lc_tensor *t, const char *value, lc_graph *g, lc_node *c)
{
    lc_status s = lc_vec_reserve((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items);
    if (s) return s;
    l->items[l->n++] = (lc_stored){t, value, g, c};
    return LC_OK;
}

static lc_status walk(lc_graph *g, list *l)
{
    lc_status s = LC_OK;
    for (int i = 0; i < g->n_inits && !s; i++) s = push(l, g->inits[i], g->inits[i]->name, g, NULL);
    for (int i = 0; i < g->n_nodes && !s; i++) {
        lc_node *n = g->nodes[i];
        if (strcmp(n->op_type, "Constant") == 0 && (!n->domain || !*n->domain) && n->n_outputs >= 1) {
            const lc_attr *a = lc_node_attr(n, "value");
            if (a && a->type == LC_ATTR_TENSOR && a->t) s = push(l, a->t, n->outputs[0], g, n);
        }
    }
    for (int i = 0; i < g->n_nodes && !s; i++) {
        lc_node *n = g->nodes[i];
        for (int a = 0; a < n->n_attrs && !s; a++) {
            if (n->attrs[a].type == LC_ATTR_GRAPH) s = walk(n->attrs[a].g, l);
            for (int k = 0; n->attrs[a].type == LC_ATTR_GRAPHS && k < n->attrs[a].n && !s; k++)
                s = walk(n->attrs[a].graphs[k], l);
        }
    }
    return s;
}

lc_status lc_model_stored_tensors(const lc_model *m, lc_stored **out, int *n)
{
    list l = {0};
    *out = NULL;
    *n = 0;
    lc_status s = walk(m->graph, &l);
    if (s) {
        free(l.items);
        return s;
    }
    *out = l.items;
    *n = l.n;
    return LC_OK;
}
