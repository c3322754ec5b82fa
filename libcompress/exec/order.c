/* The executor's node order: Kahn's algorithm over producer -> consumer
 * edges, with the values a node's subgraphs read counted as its inputs. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lc_plan.h"

/* The chain of subgraphs from the one being scanned outwards (stopping
 * below the planned graph): a name any of them defines is local there. */
typedef struct scope {
    const lc_graph *g;
    const struct scope *up;
} scope;

/* ONNX scoping: a subgraph's inputs, initializers and node outputs shadow
 * names of enclosing graphs. */
static bool defines(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name)) return true;
    if (lc_graph_init(g, name)) return true;
    for (int i = 0; i < g->n_nodes; i++)
        for (int o = 0; o < g->nodes[i]->n_outputs; o++)
            if (!strcmp(g->nodes[i]->outputs[o], name)) return true;
    return false;
}

static bool is_local(const scope *sc, const char *name)
{
    for (; sc; sc = sc->up)
        if (defines(sc->g, name)) return true;
    return false;
}

static lc_status node_reads(const lc_executor *ex, const lc_node *n, const scope *up, int **list, int *count, int *cap);

/* Appends to *list the planned graph's values that subgraph `sg` (inside
 * the chain `up`) and its own subgraphs read. */
static lc_status subgraph_reads(const lc_executor *ex, const lc_graph *sg, const scope *up, int **list, int *count,
                                int *cap)
{
    scope sc = {sg, up};
    for (int i = 0; i < sg->n_nodes; i++) {
        const lc_node *n = sg->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            if (!*n->inputs[k] || is_local(&sc, n->inputs[k])) continue;
            int sl = lc_exec_slot(ex, n->inputs[k]);
            if (sl < 0) continue;
            lc_status s = lc_vec_reserve((void **)list, cap, *count + 1, sizeof **list);
            if (s) return s;
            (*list)[(*count)++] = sl;
        }
        lc_status s = node_reads(ex, n, &sc, list, count, cap);
        if (s) return s;
    }
    return LC_OK;
}

/* The reads of the subgraphs held in the attributes of `n`. */
static lc_status node_reads(const lc_executor *ex, const lc_node *n, const scope *up, int **list, int *count, int *cap)
{
    for (int a = 0; a < n->n_attrs; a++) {
        const lc_attr *at = &n->attrs[a];
        lc_status s = LC_OK;
        if (at->type == LC_ATTR_GRAPH && at->g) s = subgraph_reads(ex, at->g, up, list, count, cap);
        for (int j = 0; at->type == LC_ATTR_GRAPHS && j < at->n && !s; j++)
            s = subgraph_reads(ex, at->graphs[j], up, list, count, cap);
        if (s) return s;
    }
    return LC_OK;
}

lc_status lc_exec_extra_reads(const lc_executor *ex, const lc_node *n, int **list, int *count)
{
    int cap = 0;
    *list = NULL;
    *count = 0;
    return node_reads(ex, n, NULL, list, count, &cap);
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
lc_status lc_exec_order(const lc_executor *ex, int *const *extra, const int *n_extra, int *order)
{
    const lc_graph *g = ex->g;
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
            int sl = lc_exec_slot(ex, g->nodes[i]->outputs[o]);
            if (sl >= 0) producer[sl] = i;
        }
    int n_edges = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nn; i++) {
            const lc_node *n = g->nodes[i];
            for (int k = 0; k < n->n_inputs + n_extra[i]; k++) {
                int sl = k < n->n_inputs ? lc_exec_slot(ex, n->inputs[k]) : extra[i][k - n->n_inputs];
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
