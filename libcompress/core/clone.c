/* Deep copies of the IR (the pipeline tries passes on copies). */
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"

typedef struct cloner {
    bool oom;
    bool share;   /* tensor data copy-on-write (lc_model_clone_shared) */
} cloner;

static char *dup_str(cloner *c, const char *s)
{
    if (!s) return NULL;
    char *d = lc_strdup(s);
    if (!d) c->oom = true;
    return d;
}

static void *dup_mem(cloner *c, const void *p, size_t n)
{
    if (!p) return NULL;
    void *d = malloc(n ? n : 1);
    if (!d) {
        c->oom = true;
        return NULL;
    }
    if (n) memcpy(d, p, n);
    return d;
}

static void clone_blob(cloner *c, lc_blob *dst, const lc_blob *src)
{
    dst->len = src->len;
    dst->data = dup_mem(c, src->data, src->len);
}

static lc_blob *clone_blobs(cloner *c, const lc_blob *src, int n)
{
    if (!src || n <= 0) return NULL;
    lc_blob *b = calloc((size_t)n, sizeof *b);
    if (!b) {
        c->oom = true;
        return NULL;
    }
    for (int i = 0; i < n; i++) clone_blob(c, &b[i], &src[i]);
    return b;
}

static lc_tensor *clone_tensor(cloner *c, const lc_tensor *t)
{
    if (!t) return NULL;
    lc_tensor *d = c->share ? lc_tensor_clone_shared(t) : lc_tensor_clone(t);
    if (!d) c->oom = true;
    return d;
}

static void clone_type(cloner *c, lc_type *dst, const lc_type *src)
{
    *dst = *src;
    dst->denotation = dup_str(c, src->denotation);
    dst->dims = src->ndim ? calloc((size_t)src->ndim, sizeof *dst->dims) : NULL;
    if (src->ndim && !dst->dims) {
        c->oom = true;
        dst->ndim = 0;
    }
    for (int i = 0; dst->dims && i < src->ndim; i++) {
        dst->dims[i] = src->dims[i];
        dst->dims[i].param = dup_str(c, src->dims[i].param);
        dst->dims[i].denotation = dup_str(c, src->dims[i].denotation);
    }
    clone_blob(c, &dst->opaque, &src->opaque);
}

static lc_value_info *clone_vis(cloner *c, const lc_value_info *src, int n)
{
    lc_value_info *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (!v) {
        c->oom = true;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        v[i].name = dup_str(c, src[i].name);
        v[i].doc_string = dup_str(c, src[i].doc_string);
        clone_type(c, &v[i].type, &src[i].type);
    }
    return v;
}

static lc_graph *graph_clone(const lc_graph *g, bool share);

static lc_graph *clone_graph(cloner *c, const lc_graph *g)
{
    if (!g) return NULL;
    lc_graph *d = graph_clone(g, c->share);
    if (!d) c->oom = true;
    return d;
}

static void clone_attr(cloner *c, lc_attr *d, const lc_attr *a)
{
    *d = *a;
    d->name = dup_str(c, a->name);
    d->doc_string = dup_str(c, a->doc_string);
    d->ref_attr_name = dup_str(c, a->ref_attr_name);
    d->s.data = a->s.data ? lc_strndup(a->s.data, a->s.len) : NULL;
    if (a->s.data && !d->s.data) c->oom = true;
    d->t = clone_tensor(c, a->t);
    d->g = clone_graph(c, a->g);
    size_t n = (size_t)a->n;
    d->floats = dup_mem(c, a->floats, n * sizeof(float));
    d->ints = dup_mem(c, a->ints, n * sizeof(int64_t));
    d->strings = a->strings ? calloc(n ? n : 1, sizeof *d->strings) : NULL;
    d->tensors = a->tensors ? calloc(n ? n : 1, sizeof *d->tensors) : NULL;
    d->graphs = a->graphs ? calloc(n ? n : 1, sizeof *d->graphs) : NULL;
    if ((a->strings && !d->strings) || (a->tensors && !d->tensors) || (a->graphs && !d->graphs)) c->oom = true;
    for (size_t i = 0; i < n; i++) {
        if (d->strings) {
            d->strings[i].data = lc_strndup(a->strings[i].data, a->strings[i].len);
            d->strings[i].len = a->strings[i].len;
            if (!d->strings[i].data) c->oom = true;
        }
        if (d->tensors) d->tensors[i] = clone_tensor(c, a->tensors[i]);
        if (d->graphs) d->graphs[i] = clone_graph(c, a->graphs[i]);
    }
    int nblobs = (a->type == LC_ATTR_SPARSE_TENSOR || a->type == LC_ATTR_TYPE_PROTO) ? 1 : a->n;
    d->opaque = clone_blobs(c, a->opaque, nblobs);
}

static char **clone_strs(cloner *c, char *const *src, int n)
{
    char **d = calloc((size_t)(n > 0 ? n : 1), sizeof *d);
    if (!d) {
        c->oom = true;
        return NULL;
    }
    for (int i = 0; i < n; i++) d[i] = dup_str(c, src[i]);
    return d;
}

static lc_node *node_clone(const lc_node *n, bool share)
{
    cloner c = {false, share};
    lc_node *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->name = dup_str(&c, n->name);
    d->op_type = dup_str(&c, n->op_type);
    d->domain = dup_str(&c, n->domain);
    d->doc_string = dup_str(&c, n->doc_string);
    d->inputs = clone_strs(&c, n->inputs, n->n_inputs);
    d->n_inputs = d->inputs ? n->n_inputs : 0;
    d->outputs = clone_strs(&c, n->outputs, n->n_outputs);
    d->n_outputs = d->outputs ? n->n_outputs : 0;
    d->attrs = calloc((size_t)(n->n_attrs > 0 ? n->n_attrs : 1), sizeof *d->attrs);
    if (d->attrs) {
        d->n_attrs = n->n_attrs;
        for (int i = 0; i < n->n_attrs; i++) clone_attr(&c, &d->attrs[i], &n->attrs[i]);
    } else c.oom = true;
    if (c.oom) {
        lc_node_free(d);
        return NULL;
    }
    return d;
}

lc_node *lc_node_clone(const lc_node *n) { return node_clone(n, false); }

lc_graph *lc_graph_clone(const lc_graph *g) { return graph_clone(g, false); }

static lc_graph *graph_clone(const lc_graph *g, bool share)
{
    cloner c = {false, share};
    lc_graph *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->name = dup_str(&c, g->name);
    d->doc_string = dup_str(&c, g->doc_string);
    if (lc_vec_reserve((void **)&d->nodes, &d->cap_nodes, g->n_nodes, sizeof *d->nodes)) c.oom = true;
    for (int i = 0; !c.oom && i < g->n_nodes; i++) {
        d->nodes[i] = node_clone(g->nodes[i], share);
        if (!d->nodes[i]) c.oom = true;
        else d->n_nodes = i + 1;
    }
    if (!c.oom && lc_vec_reserve((void **)&d->inits, &d->cap_inits, g->n_inits, sizeof *d->inits)) c.oom = true;
    for (int i = 0; !c.oom && i < g->n_inits; i++) {
        d->inits[i] = clone_tensor(&c, g->inits[i]);
        if (d->inits[i]) d->n_inits = i + 1;
    }
    d->inputs = clone_vis(&c, g->inputs, g->n_inputs);
    d->n_inputs = d->inputs ? g->n_inputs : 0;
    d->outputs = clone_vis(&c, g->outputs, g->n_outputs);
    d->n_outputs = d->outputs ? g->n_outputs : 0;
    d->value_info = clone_vis(&c, g->value_info, g->n_value_info);
    d->n_value_info = d->value_info ? g->n_value_info : 0;
    d->sparse_inits = clone_blobs(&c, g->sparse_inits, g->n_sparse_inits);
    d->n_sparse_inits = d->sparse_inits ? g->n_sparse_inits : 0;
    d->quant_annots = clone_blobs(&c, g->quant_annots, g->n_quant_annots);
    d->n_quant_annots = d->quant_annots ? g->n_quant_annots : 0;
    if (c.oom) {
        lc_graph_free(d);
        return NULL;
    }
    return d;
}

static lc_status clone_model(const lc_model *m, bool share, lc_model **out);

lc_status lc_model_clone(const lc_model *m, lc_model **out) { return clone_model(m, false, out); }

lc_status lc_model_clone_shared(const lc_model *m, lc_model **out) { return clone_model(m, true, out); }

static lc_status each_tensor(lc_graph *g, lc_status (*fn)(lc_tensor *, void *), void *user)
{
    lc_status s = LC_OK;
    for (int i = 0; g && i < g->n_inits && !s; i++) s = fn(g->inits[i], user);
    for (int i = 0; g && i < g->n_nodes && !s; i++)
        for (int a = 0; a < g->nodes[i]->n_attrs && !s; a++) {
            lc_attr *at = &g->nodes[i]->attrs[a];
            if (at->type == LC_ATTR_TENSOR && at->t) s = fn(at->t, user);
            for (int k = 0; at->type == LC_ATTR_TENSORS && k < at->n && !s; k++) s = fn(at->tensors[k], user);
            if (at->type == LC_ATTR_GRAPH && !s) s = each_tensor(at->g, fn, user);
            for (int k = 0; at->type == LC_ATTR_GRAPHS && k < at->n && !s; k++) s = each_tensor(at->graphs[k], fn, user);
        }
    return s;
}

lc_status lc_model_each_tensor(lc_model *m, lc_status (*fn)(lc_tensor *t, void *user), void *user)
{
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_each_tensor: NULL model");
    return each_tensor(m->graph, fn, user);
}

static lc_status unshare(lc_tensor *t, void *user)
{
    (void)user;
    return lc_tensor_unshare(t);
}

lc_status lc_model_unshare(lc_model *m)
{
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_unshare: NULL model");
    return each_tensor(m->graph, unshare, NULL);
}

static lc_status clone_model(const lc_model *m, bool share, lc_model **out)
{
    *out = NULL;
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_clone: NULL model");
    cloner c = {false, share};
    lc_model *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    d->ir_version = m->ir_version;
    d->opsets = calloc((size_t)(m->n_opsets > 0 ? m->n_opsets : 1), sizeof *d->opsets);
    if (!d->opsets) c.oom = true;
    for (int i = 0; d->opsets && i < m->n_opsets; i++) {
        d->opsets[i].domain = dup_str(&c, m->opsets[i].domain);
        d->opsets[i].version = m->opsets[i].version;
        d->n_opsets = i + 1;
    }
    d->producer_name = dup_str(&c, m->producer_name);
    d->producer_version = dup_str(&c, m->producer_version);
    d->domain = dup_str(&c, m->domain);
    d->model_version = m->model_version;
    d->has_model_version = m->has_model_version;
    d->doc_string = dup_str(&c, m->doc_string);
    d->meta = calloc((size_t)(m->n_meta > 0 ? m->n_meta : 1), sizeof *d->meta);
    if (!d->meta) c.oom = true;
    for (int i = 0; d->meta && i < m->n_meta; i++) {
        d->meta[i].key = dup_str(&c, m->meta[i].key);
        d->meta[i].value = dup_str(&c, m->meta[i].value);
        d->n_meta = i + 1;
    }
    d->graph = clone_graph(&c, m->graph);
    d->training_info = clone_blobs(&c, m->training_info, m->n_training_info);
    d->n_training_info = d->training_info ? m->n_training_info : 0;
    d->functions = clone_blobs(&c, m->functions, m->n_functions);
    d->n_functions = d->functions ? m->n_functions : 0;
    d->path = dup_str(&c, m->path);
    if (c.oom) {
        lc_model_free(d);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory copying the model");
    }
    *out = d;
    return LC_OK;
}
