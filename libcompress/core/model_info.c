/* The summary `shrink info` shows: header facts, inputs/outputs, the op
 * histogram over all graphs, and per-layer parameter counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "lc_strset.h"

static void summarize_value(const lc_value_info *v, lc_value_summary *o)
{
    memset(o, 0, sizeof *o);
    o->name = v->name;
    o->ndim = -1;
    if (v->type.kind != LC_TYPE_TENSOR) return;
    o->dtype = v->type.elem_type;
    if (!v->type.has_shape) return;
    o->ndim = v->type.ndim < LC_MAX_DIMS ? v->type.ndim : LC_MAX_DIMS;
    for (int i = 0; i < o->ndim; i++) {
        const lc_dim *d = &v->type.dims[i];
        o->dims[i] = d->kind == LC_DIM_VALUE ? d->value : -1;
        o->dim_params[i] = d->kind == LC_DIM_PARAM ? d->param : NULL;
    }
}

static int cmp_ops(const void *a, const void *b)
{
    return strcmp(((const lc_op_count *)a)->op, ((const lc_op_count *)b)->op);
}

static lc_status count_ops(const lc_graph *g, lc_model_info *info, int *cap)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        int k = 0;
        while (k < info->n_ops && strcmp(info->ops[k].op, n->op_type) != 0) k++;
        if (k == info->n_ops) {
            lc_status s = lc_vec_reserve((void **)&info->ops, cap, k + 1, sizeof *info->ops);
            if (s) return s;
            info->ops[info->n_ops++] = (lc_op_count){n->op_type, 0};
        }
        info->ops[k].count++;
        for (int a = 0; a < n->n_attrs; a++) {
            lc_status s = LC_OK;
            if (n->attrs[a].type == LC_ATTR_GRAPH) s = count_ops(n->attrs[a].g, info, cap);
            for (int j = 0; n->attrs[a].type == LC_ATTR_GRAPHS && j < n->attrs[a].n && !s; j++)
                s = count_ops(n->attrs[a].graphs[j], info, cap);
            if (s) return s;
        }
    }
    return LC_OK;
}

/* Stored tensors are attributed to the first main-graph node consuming
 * them; those used only inside subgraphs go to the node owning the
 * subgraph (it is the first consumer reached in node order). */
static bool node_uses(const lc_node *n, const char *value)
{
    for (int k = 0; k < n->n_inputs; k++)
        if (strcmp(n->inputs[k], value) == 0) return true;
    for (int a = 0; a < n->n_attrs; a++) {
        const lc_attr *at = &n->attrs[a];
        const lc_graph *gs[1] = {at->type == LC_ATTR_GRAPH ? at->g : NULL};
        int ng = at->type == LC_ATTR_GRAPH ? 1 : at->type == LC_ATTR_GRAPHS ? at->n : 0;
        for (int j = 0; j < ng; j++) {
            const lc_graph *g = at->type == LC_ATTR_GRAPH ? gs[0] : at->graphs[j];
            for (int i = 0; i < g->n_inits; i++)
                if (strcmp(g->inits[i]->name, value) == 0) return true;
            for (int i = 0; i < g->n_nodes; i++)
                if (node_uses(g->nodes[i], value)) return true;
        }
    }
    return false;
}

static lc_status claim_subgraph_tensors(const lc_node *n, int node, const lc_stored *st, int n_st, int *owner)
{
    for (int a = 0; a < n->n_attrs; a++) {
        const lc_attr *at = &n->attrs[a];
        int ng = at->type == LC_ATTR_GRAPH ? 1 : at->type == LC_ATTR_GRAPHS ? at->n : 0;
        for (int j = 0; j < ng; j++) {
            lc_model sub_model = {0};
            sub_model.graph = at->type == LC_ATTR_GRAPH ? at->g : at->graphs[j];
            lc_stored *sub = NULL;
            int nsub = 0;
            lc_status s = lc_model_stored_tensors(&sub_model, &sub, &nsub);
            if (s) return s;
            for (int q = 0; q < nsub; q++)
                for (int k = 0; k < n_st; k++)
                    if (owner[k] < 0 && st[k].tensor == sub[q].tensor) owner[k] = node;
            free(sub);
        }
    }
    return LC_OK;
}

lc_status lc_model_info_compute(const lc_model *m, lc_model_info *info)
{
    memset(info, 0, sizeof *info);
    const lc_graph *g = m->graph;
    static _Thread_local char producer[512];
    snprintf(producer, sizeof producer, "%s%s%s", m->producer_name ? m->producer_name : "",
             m->producer_version && *m->producer_version ? " " : "", m->producer_version ? m->producer_version : "");
    info->ir_version = m->ir_version;
    info->producer = producer;
    info->n_opsets = m->n_opsets;
    info->opsets = m->opsets;
    info->nodes = g->n_nodes;
    lc_status s = LC_ERR_NO_MEMORY;
    lc_stored *st = NULL;
    int n_st = 0, cap_ops = 0;
    lc_strset inits = {0};
    info->inputs = calloc((size_t)g->n_inputs + 1, sizeof *info->inputs);
    info->outputs = calloc((size_t)g->n_outputs + 1, sizeof *info->outputs);
    info->layers = calloc((size_t)g->n_nodes + 1, sizeof *info->layers);
    if (!info->inputs || !info->outputs || !info->layers) goto fail;
    for (int i = 0; i < g->n_inits; i++)
        if ((s = lc_strset_add(&inits, g->inits[i]->name, NULL, NULL))) goto fail;
    for (int i = 0; i < g->n_inputs; i++)
        if (!lc_strset_has(&inits, g->inputs[i].name)) summarize_value(&g->inputs[i], &info->inputs[info->n_inputs++]);
    for (int i = 0; i < g->n_outputs; i++) summarize_value(&g->outputs[i], &info->outputs[info->n_outputs++]);
    if ((s = count_ops(g, info, &cap_ops))) goto fail;
    if (info->n_ops) qsort(info->ops, (size_t)info->n_ops, sizeof *info->ops, cmp_ops);
    if ((s = lc_model_stored_tensors(m, &st, &n_st))) goto fail;

    int *owner = calloc((size_t)n_st + 1, sizeof *owner);
    if (!owner) goto fail;
    for (int k = 0; k < n_st; k++) {
        int64_t numel = lc_tensor_numel(st[k].tensor);
        info->params += numel;
        info->bytes += (int64_t)st[k].tensor->nbytes;
        owner[k] = -1;
        if (st[k].graph != g) continue; /* subgraph: found through its owner */
        for (int i = 0; i < g->n_nodes && owner[k] < 0; i++)
            if (g->nodes[i] != st[k].constant && node_uses(g->nodes[i], st[k].value)) owner[k] = i;
    }
    /* subgraph tensors belong to the main-graph node holding the subgraph */
    for (int i = 0; i < g->n_nodes; i++)
        if ((s = claim_subgraph_tensors(g->nodes[i], i, st, n_st, owner))) goto fail_owner;
    for (int i = 0; i < g->n_nodes; i++) {
        lc_layer_summary *L = &info->layers[info->n_layers];
        const lc_tensor *largest = NULL;
        const char *largest_value = NULL;
        memset(L, 0, sizeof *L);
        for (int k = 0; k < n_st; k++) {
            if (owner[k] != i) continue;
            const lc_tensor *t = st[k].tensor;
            L->params += lc_tensor_numel(t);
            L->bytes += (int64_t)t->nbytes;
            if (!largest || lc_tensor_numel(t) > lc_tensor_numel(largest)) {
                largest = t;
                largest_value = st[k].value;
            }
        }
        if (!largest) continue;
        const lc_node *n = g->nodes[i];
        L->name = n->name ? n->name : "";
        L->node = i;
        L->op = n->op_type;
        L->weight = largest_value;
        L->ndim = largest->ndim;
        memcpy(L->dims, largest->dims, sizeof L->dims);
        L->dtype = largest->dtype;
        info->n_layers++;
    }
    free(owner);
    free(st);
    lc_strset_clear(&inits);
    return LC_OK;
fail_owner:
    free(owner);
fail:
    free(st);
    lc_strset_clear(&inits);
    lc_model_info_clear(info);
    return s ? s : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

void lc_model_info_clear(lc_model_info *info)
{
    if (!info) return;
    free(info->inputs);
    free(info->outputs);
    free(info->ops);
    free(info->layers);
    memset(info, 0, sizeof *info);
}
