/* The report's layer table: one row per weight layer of the input model
 * and how its weight is stored in the output model (found by node name in
 * any graph, through DequantizeLinear for int8 weights). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_encoding.h"
#include "lc_pipeline_internal.h"

/* The DequantizeLinear input behind `value` in `g` (`deep`: or its subgraphs). */
static const char *dq_source(const lc_graph *g, const char *value, bool deep)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        if (!strcmp(n->op_type, "DequantizeLinear") && n->n_outputs && !strcmp(n->outputs[0], value) && n->n_inputs)
            return n->inputs[0];
        for (int a = 0; deep && a < n->n_attrs; a++) {
            const lc_attr *at = &n->attrs[a];
            const char *src = at->type == LC_ATTR_GRAPH && at->g ? dq_source(at->g, value, true) : NULL;
            for (int j = 0; !src && at->type == LC_ATTR_GRAPHS && j < at->n; j++)
                src = dq_source(at->graphs[j], value, true);
            if (src) return src;
        }
    }
    return NULL;
}

/* The stored tensor holding weight value `value` read in graph `g`: the value
 * itself or the input of the DequantizeLinear producing it (QDQ keeps int8
 * weights), `g`'s own first (its names shadow outer ones). NULL if none. */
static const lc_tensor *stored_weight(const lc_model *m, const lc_graph *g, const lc_stored *st, int n_st,
                                      const char *value, int depth)
{
    const lc_tensor *any = NULL;
    for (int k = 0; k < n_st; k++)
        if (!strcmp(st[k].value, value)) {
            if (st[k].graph == g) return st[k].tensor;
            any = any ? any : st[k].tensor;
        }
    if (any || depth >= 2) return any;
    const char *src = dq_source(g, value, false);
    if (!src) src = dq_source(m->graph, value, true);
    return src ? stored_weight(m, g, st, n_st, src, depth + 1) : NULL;
}

/* The node named `name` in `g` or its subgraphs; *where gets its graph. */
static const lc_node *named_node(const lc_graph *g, const char *name, const lc_graph **where)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i], *f = NULL;
        if (n->name && !strcmp(n->name, name)) return *where = g, n;
        for (int a = 0; !f && a < n->n_attrs; a++) {
            const lc_attr *at = &n->attrs[a];
            if (at->type == LC_ATTR_GRAPH && at->g) f = named_node(at->g, name, where);
            for (int j = 0; !f && at->type == LC_ATTR_GRAPHS && j < at->n; j++) f = named_node(at->graphs[j], name, where);
        }
        if (f) return f;
    }
    return NULL;
}

/* A weight layer of the input model as the report needs it, copied: the
 * input may be changed by the passes afterwards (lc_pipeline_run_take). */
struct lc_layer_row {
    char *node_name; /* NULL or "" if unnamed */
    char *op;
    char *value;
    char *label;
    int node_index, input;
    int64_t bytes_before;
};

void lc_pipeline_layer_rows_free(lc_run_state *r)
{
    for (int i = 0; i < r->n_layer_rows; i++) {
        free(r->layer_rows[i].node_name);
        free(r->layer_rows[i].op);
        free(r->layer_rows[i].value);
        free(r->layer_rows[i].label);
    }
    free(r->layer_rows);
    r->layer_rows = NULL;
    r->n_layer_rows = 0;
}

void lc_pipeline_layer_rows_record(lc_run_state *r, const lc_model *in)
{
    lc_weight *w = NULL;
    int n = 0;
    if (lc_weight_targets((lc_model *)in, NULL, &w, &n)) return;
    struct lc_layer_row *rows = n ? calloc((size_t)n, sizeof *rows) : NULL;
    for (int i = 0; rows && i < n; i++) {
        const char *name = w[i].node->name;
        struct lc_layer_row *l = &rows[i];
        l->node_name = name ? strdup(name) : NULL;
        l->op = strdup(w[i].node->op_type);
        l->value = strdup(w[i].value);
        l->label = strdup(name && *name ? name : w[i].tensor->name);
        l->node_index = w[i].node_index;
        l->input = w[i].input;
        l->bytes_before = (int64_t)w[i].tensor->nbytes;
        r->n_layer_rows = i + 1;
        r->layer_rows = rows;
        if (!l->op || !l->value || !l->label || (name && !l->node_name)) {
            lc_pipeline_layer_rows_free(r);
            rows = NULL;
        }
    }
    free(w);
}

/* The node of `out` (*where: its graph) that is layer `w` of the input model:
 * same name in any graph, or for unnamed main-graph nodes position and op. */
static const lc_node *same_node(const lc_model *out, const struct lc_layer_row *w, const lc_graph **where)
{
    const char *name = w->node_name;
    *where = out->graph;
    if (name && *name) return named_node(out->graph, name, where);
    if (w->node_index >= 0 && w->node_index < out->graph->n_nodes &&
        !strcmp(out->graph->nodes[w->node_index]->op_type, w->op))
        return out->graph->nodes[w->node_index];
    return NULL;
}

/* One row per weight layer of the input model, describing how its weight
 * is stored in the output model. */
cJSON *lc_pipeline_layers_json(const lc_run_state *r, const lc_model *out)
{
    cJSON *arr = cJSON_CreateArray();
    const struct lc_layer_row *w = r->layer_rows;
    lc_stored *st = NULL;
    int n = r->n_layer_rows, n_st = 0;
    if (lc_model_stored_tensors(out, &st, &n_st)) return arr;
    for (int i = 0; i < n; i++) {
        const lc_graph *g;
        const lc_node *node = same_node(out, &w[i], &g);
        const lc_tensor *t = node && w[i].input < node->n_inputs
                                 ? stored_weight(out, g, st, n_st, node->inputs[w[i].input], 0) : NULL;
        /* unnamed subgraph nodes and unsqueezed recurrent weights: by the
         * value that holds them, in any graph */
        for (int k = 0; !t && k < n_st; k++)
            if (!strcmp(st[k].value, w[i].value)) t = st[k].tensor;
        if (!t) continue;
        const lc_encoding *e = t->enc;
        int64_t numel = lc_tensor_numel(t), kept = lc_encoding_kept(e, numel);
        int bits = (int)lc_dtype_size(t->dtype) * 8;
        if (e && e->kind != LC_ENC_DENSE) bits = e->bits;
        if (!e && t->dtype != LC_DTYPE_FLOAT && t->data) { /* quantized ints: zeros are the pruned weights */
            kept = 0;
            for (int64_t k = 0; k < numel; k++)
                kept += memcmp((const char *)t->data + k * (int64_t)lc_dtype_size(t->dtype), "\0\0\0\0\0\0\0\0",
                               lc_dtype_size(t->dtype)) != 0;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", w[i].label);
        cJSON_AddStringToObject(l, "op", w[i].op);
        cJSON_AddStringToObject(l, "weight", t->name);
        cJSON_AddNumberToObject(l, "params", (double)numel);
        cJSON_AddNumberToObject(l, "sparsity", numel ? 1.0 - (double)kept / (double)numel : 0);
        cJSON_AddNumberToObject(l, "bits", bits);
        cJSON_AddNumberToObject(l, "bytes_before", (double)w[i].bytes_before);
        /* dense storage in ONNX; the .lcm writer's accounting replaces this */
        cJSON_AddNumberToObject(l, "bytes_after", (double)t->nbytes);
        cJSON_AddItemToArray(arr, l);
    }
    free(st);
    return arr;
}
