/* Allocation, cloning and lookup helpers for the IR structs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"

lc_status lc_vec_reserve(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return LC_OK;
    int ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > (1 << 29)) return lc_fail(LC_ERR_NO_MEMORY, "array too large");
        ncap *= 2;
    }
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    *arr = p;
    *cap = ncap;
    return LC_OK;
}

char *lc_strdup(const char *s)
{
    return s ? lc_strndup(s, strlen(s)) : NULL;
}

char *lc_strndup(const char *s, size_t n)
{
    if (!s) return NULL;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

int64_t lc_shape_numel(int ndim, const int64_t *dims, size_t elem_size)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] && n > INT64_MAX / dims[i]) return -1;
        n *= dims[i];
    }
    if (elem_size && (uint64_t)n > (uint64_t)SIZE_MAX / elem_size / 2) return -1;
    return n;
}

void lc_blob_clear(lc_blob *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

void lc_type_clear(lc_type *t)
{
    for (int i = 0; i < t->ndim; i++) {
        free(t->dims[i].param);
        free(t->dims[i].denotation);
    }
    free(t->dims);
    free(t->denotation);
    lc_blob_clear(&t->opaque);
    memset(t, 0, sizeof *t);
}

void lc_value_info_clear(lc_value_info *v)
{
    free(v->name);
    free(v->doc_string);
    lc_type_clear(&v->type);
    memset(v, 0, sizeof *v);
}

void lc_attr_clear(lc_attr *a)
{
    free(a->name);
    free(a->doc_string);
    free(a->ref_attr_name);
    free(a->s.data);
    lc_tensor_free(a->t);
    lc_graph_free(a->g);
    free(a->floats);
    free(a->ints);
    int nblobs = (a->type == LC_ATTR_SPARSE_TENSOR || a->type == LC_ATTR_TYPE_PROTO) ? 1 : a->n;
    for (int i = 0; i < a->n; i++) {
        if (a->strings) free(a->strings[i].data);
        if (a->tensors) lc_tensor_free(a->tensors[i]);
        if (a->graphs) lc_graph_free(a->graphs[i]);
    }
    if (a->opaque)
        for (int i = 0; i < nblobs; i++) lc_blob_clear(&a->opaque[i]);
    free(a->strings);
    free(a->tensors);
    free(a->graphs);
    free(a->opaque);
    memset(a, 0, sizeof *a);
}

void lc_node_free(lc_node *n)
{
    if (!n) return;
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->doc_string);
    for (int i = 0; i < n->n_inputs; i++) free(n->inputs[i]);
    for (int i = 0; i < n->n_outputs; i++) free(n->outputs[i]);
    free(n->inputs);
    free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++) lc_attr_clear(&n->attrs[i]);
    free(n->attrs);
    free(n);
}

static void free_value_infos(lc_value_info *v, int n)
{
    for (int i = 0; i < n; i++) lc_value_info_clear(&v[i]);
    free(v);
}

static void free_blobs(lc_blob *b, int n)
{
    for (int i = 0; i < n; i++) lc_blob_clear(&b[i]);
    free(b);
}

void lc_graph_free(lc_graph *g)
{
    if (!g) return;
    free(g->name);
    free(g->doc_string);
    for (int i = 0; i < g->n_nodes; i++) lc_node_free(g->nodes[i]);
    free(g->nodes);
    for (int i = 0; i < g->n_inits; i++) lc_tensor_free(g->inits[i]);
    free(g->inits);
    free_value_infos(g->inputs, g->n_inputs);
    free_value_infos(g->outputs, g->n_outputs);
    free_value_infos(g->value_info, g->n_value_info);
    free_blobs(g->sparse_inits, g->n_sparse_inits);
    free_blobs(g->quant_annots, g->n_quant_annots);
    free(g);
}

void lc_model_free(lc_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_opsets; i++) free((char *)m->opsets[i].domain);
    free(m->opsets);
    free(m->producer_name);
    free(m->producer_version);
    free(m->domain);
    free(m->doc_string);
    for (int i = 0; i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->meta);
    lc_graph_free(m->graph);
    free_blobs(m->training_info, m->n_training_info);
    free_blobs(m->functions, m->n_functions);
    free(m->path);
    free(m);
}

const lc_attr *lc_node_attr(const lc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t lc_node_attr_int(const lc_node *n, const char *name, int64_t def)
{
    const lc_attr *a = lc_node_attr(n, name);
    return a && a->type == LC_ATTR_INT ? a->i : def;
}

float lc_node_attr_float(const lc_node *n, const char *name, float def)
{
    const lc_attr *a = lc_node_attr(n, name);
    return a && a->type == LC_ATTR_FLOAT ? a->f : def;
}

const char *lc_node_attr_string(const lc_node *n, const char *name, const char *def)
{
    const lc_attr *a = lc_node_attr(n, name);
    return a && a->type == LC_ATTR_STRING ? a->s.data : def;
}

lc_tensor *lc_graph_init(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inits; i++)
        if (strcmp(g->inits[i]->name, name) == 0) return g->inits[i];
    return NULL;
}

int64_t lc_model_opset(const lc_model *m, const char *domain)
{
    bool want_default = !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
    for (int i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        bool is_default = !d || !*d || strcmp(d, "ai.onnx") == 0;
        if (want_default ? is_default : (d && strcmp(d, domain) == 0)) return m->opsets[i].version;
    }
    return 0;
}

int lc_model_input_count(const lc_model *m)
{
    int n = 0;
    for (int i = 0; i < m->graph->n_inputs; i++)
        if (!lc_graph_init(m->graph, m->graph->inputs[i].name)) n++;
    return n;
}

int lc_model_output_count(const lc_model *m) { return m->graph->n_outputs; }

const char *lc_dims_str(int ndim, const int64_t *dims)
{
    static _Thread_local char buf[256];
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < ndim && used < sizeof buf - 24; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, i ? "x%lld" : "%lld", (long long)dims[i]);
    return buf;
}
