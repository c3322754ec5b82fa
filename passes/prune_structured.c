/* prune-structured: remove whole output channels (filters) of Conv, Gemm
 * and MatMul layers and shrink the graph around them, so the saved model is
 * physically smaller and faster.
 *
 * Analysis. Every output channel of a prunable layer (a "producer") is an
 * atom. Walking the graph in order, each value that carries producer
 * channels gets an atom id per position of its channel axis (-1 for a
 * position no producer owns, e.g. a Concat input from the graph input).
 * Ops that treat channels independently and map a zero channel to zero
 * (Relu, Clip around 0, pooling, Dropout, BatchNormalization, Mul/Add with a
 * per-channel constant, ...) pass the atoms on; Flatten and flattening
 * Reshapes repeat each atom over the spatial positions; Concat concatenates
 * them. Channels that must stay aligned (the two sides of a residual Add, a
 * depthwise Conv's input and output) are tied with a union-find: tied atoms
 * form a class that is removed or kept as a whole, and the producers they
 * belong to form a group. Whatever the analysis cannot follow (an unknown
 * consumer, a grouped Conv, a graph output, a Reshape to another layout, a
 * shared weight, an op that does not keep zero at zero, ...) freezes the
 * atoms it sees, and a group with a frozen atom is left untouched (logged).
 *
 * Decision. Per group, each class scores the sum over its atoms of the
 * criterion (l1 or l2 norm of the producer's filter, or |gamma| of the
 * BatchNormalizations the channel passes through); the floor(ratio * K)
 * lowest-scoring of the group's K classes are removed, skipping any class
 * whose removal would leave a producer without channels.
 *
 * Rewrite. Every edit recorded during the analysis slices one stored tensor
 * along one axis by the kept positions (producer weight rows and biases,
 * consumer weight input channels, BatchNormalization parameters, per-channel
 * constants), or updates a depthwise Conv's group or a Reshape's target
 * shape. The removed channels are exactly those that, zeroed (filter,
 * bias, and every per-channel additive parameter on their path: BN scale and
 * bias, Add constants), contribute nothing downstream, so the shrunk model
 * computes the same function as that zeroed model. value_info entries of
 * shrunk values are updated (or dropped when they do not match). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"
#include "lc_plan_inputs.h"
#include "lc_strset.h"

static const lc_param_desc params[] = {
    {"ratio", LC_PARAM_FLOAT, "0.25", 0, 0.95, NULL, "fraction of each layer's (or tied group's) output channels removed"},
    {"criterion", LC_PARAM_ENUM, "l1", 0, 0, "l1|l2|bn-gamma",
     "filter ranking: L1 or L2 norm of the filter, or |gamma| of the following BatchNormalization"},
    LC_WEIGHT_PARAMS,
};

/* Channel tracking of one value. */
typedef struct chans {
    int axis;      /* channel axis in the value's planned shape */
    int64_t n;     /* positions along it */
    int *atom;     /* atom id per position; -1: not owned by a producer */
} chans;

typedef struct producer {
    int node;        /* index in the main graph */
    lc_tensor *w;    /* its weight */
    int out_axis;    /* output-channel axis of w */
    int64_t c;       /* output channels */
    int first;       /* id of its first atom */
    int kept;        /* channels left while deciding */
} producer;

enum { ED_SLICE, ED_SHAPE, ED_GROUP };

/* A rewrite decided during the analysis, applied once classes are chosen. */
typedef struct edit {
    int kind;
    lc_tensor *t;    /* ED_SLICE, ED_SHAPE */
    int axis;        /* ED_SLICE: the sliced axis; ED_SHAPE: index in the shape vector */
    lc_node *node;   /* ED_GROUP: the depthwise Conv */
    int64_t n;
    int *atom;       /* positions along the axis (owned copy); ED_SHAPE/ED_GROUP: count the kept ones */
} edit;

typedef struct ps {
    lc_model *m;
    const lc_context *ctx;
    lc_executor *ex;
    lc_strset vals;     /* value name -> chans* */
    lc_strset stored;   /* main-graph stored value name -> lc_tensor* */
    lc_strset sub_refs; /* names read inside subgraphs */
    bool *target;       /* per node: selected by ops/include/exclude */
    producer *prod;
    int n_prod, cap_prod;
    int *owner, *cls;   /* per atom: producer, class union-find parent */
    bool *frozen;
    double *bn;         /* per atom: sum of |gamma| of BNs it passes through */
    bool *has_bn;
    int n_atoms, cap_atoms;
    int *group;         /* per producer: group union-find parent */
    edit *ed;
    int n_ed, cap_ed;
    bool *removed;      /* per atom, after the decision */
} ps;

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

static int uf_find(int *p, int x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static void uf_union(int *p, int a, int b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) p[a > b ? a : b] = a < b ? a : b;
}

static chans *chans_of(ps *s, const char *name) { return *name ? lc_strset_get(&s->vals, name) : NULL; }

static const lc_value *planned(ps *s, const char *name) { return *name ? lc_executor_value(s->ex, name) : NULL; }

static void chans_free(chans *c)
{
    if (c) free(c->atom);
    free(c);
}

/* Records `name` as carrying atoms (takes `atom`). */
static lc_status chans_put(ps *s, const char *name, int axis, int64_t n, int *atom)
{
    chans *c = malloc(sizeof *c);
    if (!c) {
        free(atom);
        return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    }
    *c = (chans){axis, n, atom};
    bool added;
    lc_status st = lc_strset_add(&s->vals, name, c, &added);
    if (st || !added) {
        chans_free(c);
        return st ? st : lc_fail(LC_ERR_VERIFY, "prune-structured: value '%s' is defined twice", name);
    }
    return LC_OK;
}

static int *atoms_copy(const int *a, int64_t n)
{
    int *c = malloc((size_t)(n ? n : 1) * sizeof *c);
    if (c && n) memcpy(c, a, (size_t)n * sizeof *c);
    return c;
}

static void freeze(ps *s, const chans *c)
{
    for (int64_t i = 0; c && i < c->n; i++)
        if (c->atom[i] >= 0) s->frozen[c->atom[i]] = true;
}

/* Freezes the atoms of every input of `n`, with a log line when any. */
static void freeze_inputs(ps *s, const lc_node *n, const char *why)
{
    bool any = false;
    for (int i = 0; i < n->n_inputs; i++) {
        chans *c = chans_of(s, n->inputs[i]);
        if (c) freeze(s, c), any = true;
    }
    if (any) lc_log(s->ctx, "prune-structured: channels reaching '%s' (%s) left alone: %s", lc_node_label(n), n->op_type, why);
}

/* Ties two positions: both removed or both kept. */
static void tie(ps *s, int a, int b)
{
    if (a < 0 && b < 0) return;
    if (a < 0 || b < 0) {
        s->frozen[a < 0 ? b : a] = true;
        return;
    }
    uf_union(s->cls, a, b);
}

static int use_count(const ps *s, const char *name)
{
    const lc_graph *g = s->m->graph;
    int k = lc_strset_has(&s->sub_refs, name) ? 2 : 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_inputs; j++) k += !strcmp(g->nodes[i]->inputs[j], name);
    for (int i = 0; i < g->n_outputs; i++) k += !strcmp(g->outputs[i].name, name);
    return k;
}

/* The stored tensor `name` if this pass may edit it: stored in the main
 * graph, read once, and without a quantized encoding. */
static lc_tensor *editable(ps *s, const char *name)
{
    lc_tensor *t = *name ? lc_strset_get(&s->stored, name) : NULL;
    if (!t || t->strings || (t->enc && t->enc->kind != LC_ENC_DENSE) || use_count(s, name) != 1) return NULL;
    return t;
}

static lc_status add_edit(ps *s, int kind, lc_tensor *t, int axis, lc_node *node, const int *atom, int64_t n)
{
    lc_status st = lc_vec_reserve((void **)&s->ed, &s->cap_ed, s->n_ed + 1, sizeof *s->ed);
    if (st) return st;
    int *a = atoms_copy(atom, n);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    s->ed[s->n_ed++] = (edit){kind, t, axis, node, n, a};
    return LC_OK;
}

/* Registers node `ni` as a producer of `c` channels of weight `w`; *first
 * gets the first atom id. */
static lc_status add_producer(ps *s, int ni, lc_tensor *w, int out_axis, int64_t c, int *first)
{
    lc_status st = lc_vec_reserve((void **)&s->prod, &s->cap_prod, s->n_prod + 1, sizeof *s->prod);
    int need = s->n_atoms + (int)c;
    int cap = s->cap_atoms;
    if (!st) st = lc_vec_reserve((void **)&s->owner, &cap, need, sizeof *s->owner);
    cap = s->cap_atoms;
    if (!st) st = lc_vec_reserve((void **)&s->cls, &cap, need, sizeof *s->cls);
    cap = s->cap_atoms;
    if (!st) st = lc_vec_reserve((void **)&s->frozen, &cap, need, sizeof *s->frozen);
    cap = s->cap_atoms;
    if (!st) st = lc_vec_reserve((void **)&s->bn, &cap, need, sizeof *s->bn);
    cap = s->cap_atoms;
    if (!st) st = lc_vec_reserve((void **)&s->has_bn, &cap, need, sizeof *s->has_bn);
    if (st) return st;
    s->cap_atoms = cap;
    int p = s->n_prod++;
    s->prod[p] = (producer){ni, w, out_axis, c, s->n_atoms, (int)c};
    for (int i = 0; i < (int)c; i++) {
        int a = s->n_atoms + i;
        s->owner[a] = p;
        s->cls[a] = a;
        s->frozen[a] = false;
        s->bn[a] = 0;
        s->has_bn[a] = false;
    }
    s->n_atoms = need;
    *first = s->prod[p].first;
    return LC_OK;
}

/* A new producer's atoms as a chans on output 0 of `n`, plus the edits of
 * its weight rows (axis `out_axis`) and of its bias `b` along `b_axis`
 * (b may be NULL: none). */
static lc_status new_channels(ps *s, int ni, lc_tensor *w, int out_axis, int64_t c, lc_tensor *b, int b_axis, int out_ch_axis,
                              int **atoms_out)
{
    const lc_node *n = s->m->graph->nodes[ni];
    int first;
    lc_status st = add_producer(s, ni, w, out_axis, c, &first);
    if (st) return st;
    int *a = malloc((size_t)(c ? c : 1) * sizeof *a);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int64_t i = 0; i < c; i++) a[i] = first + (int)i;
    if (!s->target[ni])
        for (int64_t i = 0; i < c; i++) s->frozen[a[i]] = true;
    st = add_edit(s, ED_SLICE, w, out_axis, NULL, a, c);
    if (!st && b) st = add_edit(s, ED_SLICE, b, b_axis, NULL, a, c);
    if (!st && atoms_out) {
        int *cp = atoms_copy(a, c);
        if (!cp) st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
        *atoms_out = cp;
    }
    if (!st) st = chans_put(s, n->outputs[0], out_ch_axis, c, a);
    else free(a);
    return st;
}

/* Conv: consumer of its input channels (group 1), a producer, or, when
 * depthwise, a producer tied to its input channels. */
static lc_status visit_conv(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *cx = chans_of(s, n->inputs[0]);
    const lc_value *x = planned(s, n->inputs[0]);
    lc_tensor *w = n->n_inputs > 1 ? editable(s, n->inputs[1]) : NULL;
    lc_tensor *b = n->n_inputs > 2 && *n->inputs[2] ? editable(s, n->inputs[2]) : NULL;
    bool bias_ok = !(n->n_inputs > 2 && *n->inputs[2]) || (b && b->ndim == 1);
    int64_t groups = lc_node_attr_int(n, "group", 1);
    if (!x || x->ndim < 3 || !w || w->dtype != LC_DTYPE_FLOAT || w->ndim != x->ndim || n->n_outputs < 1 ||
        (cx && cx->axis != 1)) {
        freeze_inputs(s, n, "Conv weight not a private stored float tensor, or channels not on axis 1");
        return LC_OK;
    }
    int64_t ci = x->dims[1], co = w->dims[0];
    if (groups == 1) {
        lc_status st = LC_OK;
        if (cx && cx->n == w->dims[1]) st = add_edit(s, ED_SLICE, w, 1, NULL, cx->atom, cx->n);
        else if (cx) freeze_inputs(s, n, "input channels do not match the weight");
        if (st || !bias_ok) return st;
        return new_channels(s, ni, w, 0, co, b, 0, 1, NULL);
    }
    if (groups == ci && ci > 1 && co % ci == 0 && w->dims[1] == 1 && cx && cx->n == ci && bias_ok) {
        int *own = NULL;
        lc_status st = new_channels(s, ni, w, 0, co, b, 0, 1, &own);
        if (!st) {
            int64_t mult = co / ci;
            for (int64_t o = 0; o < co; o++) tie(s, cx->atom[o / mult], own[o]);
            st = add_edit(s, ED_GROUP, NULL, 0, n, cx->atom, cx->n);
        }
        free(own);
        return st;
    }
    freeze_inputs(s, n, groups == 1 ? "bias not editable" : "grouped Conv (only depthwise Conv is followed)");
    return LC_OK;
}

/* Gemm: consumer of A's channels (rows of B), producer of its outputs. */
static lc_status visit_gemm(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *ca = chans_of(s, n->inputs[0]);
    const lc_value *a = planned(s, n->inputs[0]);
    lc_tensor *bw = n->n_inputs > 1 ? editable(s, n->inputs[1]) : NULL;
    bool ta = lc_node_attr_int(n, "transA", 0) != 0, tb = lc_node_attr_int(n, "transB", 0) != 0;
    if (!a || a->ndim != 2 || !bw || bw->dtype != LC_DTYPE_FLOAT || bw->ndim != 2 || (ca && (ta || ca->axis != 1)) ||
        (ca && ca->n != bw->dims[tb ? 1 : 0])) {
        freeze_inputs(s, n, "Gemm input channels not on B's rows, or B not a private stored float tensor");
        return LC_OK;
    }
    lc_status st = LC_OK;
    if (ca) st = add_edit(s, ED_SLICE, bw, tb ? 1 : 0, NULL, ca->atom, ca->n);
    int64_t N = bw->dims[tb ? 0 : 1];
    lc_tensor *c = n->n_inputs > 2 && *n->inputs[2] ? editable(s, n->inputs[2]) : NULL;
    bool has_c = n->n_inputs > 2 && *n->inputs[2];
    /* a bias broadcast across channels cannot be zeroed per channel: not prunable */
    if (st || (has_c && (!c || c->ndim < 1 || c->dims[c->ndim - 1] != N || lc_tensor_numel(c) != N))) return st;
    return new_channels(s, ni, bw, tb ? 0 : 1, N, c, c ? c->ndim - 1 : 0, 1, NULL);
}

/* MatMul with a stored 2-D B: consumer of A's last-axis channels, producer
 * of its own (last axis). */
static lc_status visit_matmul(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *ca = chans_of(s, n->inputs[0]);
    const lc_value *a = planned(s, n->inputs[0]);
    const lc_value *y = planned(s, n->outputs[0]);
    lc_tensor *bw = editable(s, n->inputs[1]);
    if (chans_of(s, n->inputs[1]) || !a || a->ndim < 2 || !y || !bw || bw->dtype != LC_DTYPE_FLOAT || bw->ndim != 2 ||
        (ca && (ca->axis != a->ndim - 1 || ca->n != bw->dims[0]))) {
        freeze_inputs(s, n, "MatMul channels not on A's last axis, or B not a private stored 2-D float tensor");
        return LC_OK;
    }
    lc_status st = LC_OK;
    if (ca) st = add_edit(s, ED_SLICE, bw, 0, NULL, ca->atom, ca->n);
    if (st) return st;
    return new_channels(s, ni, bw, 1, bw->dims[1], NULL, 0, y->ndim - 1, NULL);
}

static lc_status visit_bn(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *cx = chans_of(s, n->inputs[0]);
    if (!cx) return LC_OK;
    lc_tensor *p[4] = {NULL, NULL, NULL, NULL};
    bool ok = cx->axis == 1 && n->n_inputs == 5;
    for (int k = 0; ok && k < 4; k++) {
        p[k] = editable(s, n->inputs[k + 1]);
        ok = p[k] && p[k]->ndim == 1 && p[k]->dims[0] == cx->n && p[k]->dtype == LC_DTYPE_FLOAT;
    }
    for (int k = 1; ok && k < n->n_outputs; k++) ok = !*n->outputs[k] || use_count(s, n->outputs[k]) == 0;
    if (!ok) {
        freeze_inputs(s, n, "BatchNormalization parameters not private stored [C] float tensors, or training outputs used");
        return LC_OK;
    }
    const float *gamma = p[0]->data;
    for (int64_t i = 0; i < cx->n; i++)
        if (cx->atom[i] >= 0) {
            s->bn[cx->atom[i]] += fabs((double)gamma[i]);
            s->has_bn[cx->atom[i]] = true;
        }
    lc_status st = LC_OK;
    for (int k = 0; k < 4 && !st; k++) st = add_edit(s, ED_SLICE, p[k], 0, NULL, cx->atom, cx->n);
    int *a = st ? NULL : atoms_copy(cx->atom, cx->n);
    if (!st && !a) st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    if (!st) st = chans_put(s, n->outputs[0], cx->axis, cx->n, a);
    return st;
}

/* Ops applied per element or per channel window that keep a zero channel
 * at zero; channels pass through (output 0; other outputs must be unused). */
static const char *const passthrough_ops[] = {
    "AveragePool", "Dropout", "Elu", "Erf", "Gelu", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
    "HardSwish", "Identity", "LeakyRelu", "LpPool", "MaxPool", "Mish", "Neg", "Relu", "Selu", "Softsign",
    "Tanh", "ThresholdedRelu", "Abs",
};

static bool in_list(const char *op, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(op, list[i])) return true;
    return false;
}

/* Clip keeps zero at zero when min <= 0 <= max. */
static bool clip_keeps_zero(ps *s, const lc_node *n)
{
    double lo = lc_node_attr_float(n, "min", -INFINITY), hi = lc_node_attr_float(n, "max", INFINITY);
    for (int k = 1; k < 3 && k < n->n_inputs; k++) {
        if (!*n->inputs[k]) continue;
        const lc_value *v = planned(s, n->inputs[k]);
        lc_tensor *t = lc_strset_get(&s->stored, n->inputs[k]);
        double val;
        if (t && lc_tensor_numel(t) == 1 && t->dtype == LC_DTYPE_FLOAT) val = ((const float *)t->data)[0];
        else if (v && v->is_const && v->data && lc_value_numel(v) == 1) val = lc_value_scalar(v);
        else return false;
        if (k == 1) lo = val;
        else hi = val;
    }
    return lo <= 0 && hi >= 0;
}

static lc_status visit_passthrough(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *cx = chans_of(s, n->inputs[0]);
    if (!cx) return LC_OK;
    const lc_value *x = planned(s, n->inputs[0]), *y = planned(s, n->outputs[0]);
    bool ok = x && y && y->ndim == x->ndim && y->dims[cx->axis] == cx->n;
    for (int k = 1; ok && k < n->n_outputs; k++) ok = !*n->outputs[k] || use_count(s, n->outputs[k]) == 0;
    for (int k = 1; ok && k < n->n_inputs; k++) ok = !chans_of(s, n->inputs[k]);
    if (ok && !strcmp(n->op_type, "Clip")) ok = clip_keeps_zero(s, n);
    if (!ok) {
        freeze_inputs(s, n, "changes the channel axis, uses a secondary output, or does not keep zero at zero");
        return LC_OK;
    }
    int *a = atoms_copy(cx->atom, cx->n);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    return chans_put(s, n->outputs[0], cx->axis, cx->n, a);
}

/* Add/Sub/Mul/Div/PRelu with numpy broadcasting: inputs carrying channels
 * are tied position by position; a stored per-channel operand is sliced.
 * Additive operands broadcast across channels would make a removed
 * channel nonzero, so they freeze. */
static lc_status visit_binary(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    const lc_value *y = planned(s, n->outputs[0]);
    bool additive = !strcmp(n->op_type, "Add") || !strcmp(n->op_type, "Sub");
    chans *ref = NULL;
    int oax = -1;
    bool ok = y != NULL && n->n_inputs == 2;
    for (int i = 0; ok && i < n->n_inputs; i++) {
        chans *c = chans_of(s, n->inputs[i]);
        const lc_value *v = planned(s, n->inputs[i]);
        if (!c) continue;
        if (!v || (i == 1 && (!strcmp(n->op_type, "Div") || !strcmp(n->op_type, "PRelu")))) ok = false;
        else {
            int ax = y->ndim - v->ndim + c->axis;
            if (!ref) ref = c, oax = ax;
            else if (ax != oax || c->n != ref->n) ok = false;
        }
    }
    if (!ref) return LC_OK;
    if (ok) ok = y->dims[oax] == ref->n;
    lc_tensor *slice_t = NULL;
    int slice_axis = 0;
    for (int i = 0; ok && i < n->n_inputs; i++) {
        if (chans_of(s, n->inputs[i])) continue;
        lc_tensor *t = lc_strset_get(&s->stored, n->inputs[i]);
        const lc_value *v = planned(s, n->inputs[i]);
        int nd = t ? t->ndim : v ? v->ndim : -1;
        if (nd < 0) {
            ok = false;
            break;
        }
        int al = oax - (y->ndim - nd);
        int64_t d = al < 0 ? 1 : t ? t->dims[al] : v->dims[al];
        if (d == ref->n && ref->n > 1) {
            slice_t = editable(s, n->inputs[i]);
            slice_axis = al;
            ok = slice_t != NULL;
        } else {
            ok = d == 1 && !additive;
        }
    }
    if (!ok) {
        freeze_inputs(s, n, "channels misaligned, or an operand broadcast across channels / not a private constant");
        return LC_OK;
    }
    for (int i = 0; i < n->n_inputs; i++) {
        chans *c = chans_of(s, n->inputs[i]);
        if (c && c != ref)
            for (int64_t p = 0; p < ref->n; p++) tie(s, ref->atom[p], c->atom[p]);
    }
    lc_status st = slice_t ? add_edit(s, ED_SLICE, slice_t, slice_axis, NULL, ref->atom, ref->n) : LC_OK;
    int *a = st ? NULL : atoms_copy(ref->atom, ref->n);
    if (!st && !a) st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    if (!st) st = chans_put(s, n->outputs[0], oax, ref->n, a);
    return st;
}

static lc_status visit_concat(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    const lc_value *y = planned(s, n->outputs[0]);
    chans *ref = NULL;
    for (int i = 0; i < n->n_inputs && !ref; i++) ref = chans_of(s, n->inputs[i]);
    if (!ref) return LC_OK;
    int64_t axis = lc_node_attr_int(n, "axis", 0);
    if (y && axis < 0) axis += y->ndim;
    bool ok = y != NULL;
    for (int i = 0; ok && i < n->n_inputs; i++) {
        chans *c = chans_of(s, n->inputs[i]);
        const lc_value *v = planned(s, n->inputs[i]);
        ok = v && v->ndim == y->ndim && (!c || c->axis == ref->axis);
        if (ok && axis != ref->axis) ok = c && c->n == ref->n;
    }
    if (!ok) {
        freeze_inputs(s, n, "inputs with channels on different axes, or concatenated with a value without them");
        return LC_OK;
    }
    if (axis != ref->axis) {
        for (int i = 0; i < n->n_inputs; i++) {
            chans *c = chans_of(s, n->inputs[i]);
            for (int64_t p = 0; p < ref->n; p++) tie(s, ref->atom[p], c->atom[p]);
        }
        int *a = atoms_copy(ref->atom, ref->n);
        if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
        return chans_put(s, n->outputs[0], ref->axis, ref->n, a);
    }
    int64_t total = y->dims[axis], at = 0;
    int *a = malloc((size_t)(total ? total : 1) * sizeof *a);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int i = 0; i < n->n_inputs; i++) {
        chans *c = chans_of(s, n->inputs[i]);
        int64_t d = planned(s, n->inputs[i])->dims[axis];
        for (int64_t p = 0; p < d && at < total; p++) a[at++] = c ? c->atom[p] : -1;
    }
    return chans_put(s, n->outputs[0], (int)axis, total, a);
}

/* Flatten at axis f <= channel axis a: the output's axis 1 enumerates
 * dims[f..], so position q holds channel (q / inner) % C. */
static lc_status visit_flatten(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *cx = chans_of(s, n->inputs[0]);
    if (!cx) return LC_OK;
    const lc_value *x = planned(s, n->inputs[0]), *y = planned(s, n->outputs[0]);
    int64_t f = lc_node_attr_int(n, "axis", 1);
    if (x && f < 0) f += x->ndim;
    if (!x || !y || y->ndim != 2 || f < 1 || f > cx->axis) {
        freeze_inputs(s, n, "Flatten mixes the channel axis with the batch axis");
        return LC_OK;
    }
    int64_t inner = 1;
    for (int d = cx->axis + 1; d < x->ndim; d++) inner *= x->dims[d];
    int64_t len = y->dims[1];
    int *a = malloc((size_t)(len ? len : 1) * sizeof *a);
    if (!a) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int64_t q = 0; q < len; q++) a[q] = cx->atom[(q / inner) % cx->n];
    return chans_put(s, n->outputs[0], 1, len, a);
}

/* Reshape that keeps the dims before the channel axis and folds trailing
 * dims into it (e.g. [N,C,H,W] -> [N,C*H*W]), with a stored target shape. */
static lc_status visit_reshape(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    chans *cx = chans_of(s, n->inputs[0]);
    if (!cx) return LC_OK;
    const lc_value *x = planned(s, n->inputs[0]), *y = planned(s, n->outputs[0]);
    lc_tensor *shape = n->n_inputs > 1 ? editable(s, n->inputs[1]) : NULL;
    int a = cx->axis;
    bool ok = x && y && shape && shape->dtype == LC_DTYPE_INT64 && shape->ndim == 1 && shape->dims[0] == y->ndim &&
              y->ndim > a && !lc_node_attr_int(n, "allowzero", 0);
    for (int d = 0; ok && d < a; d++) ok = x->dims[d] == y->dims[d];
    int64_t in_inner = 1, out_inner = 1, r = 0;
    if (ok) {
        for (int d = a + 1; d < x->ndim; d++) in_inner *= x->dims[d];
        for (int d = a + 1; d < y->ndim; d++) out_inner *= y->dims[d];
        ok = out_inner > 0 && in_inner % out_inner == 0;
        if (ok) r = in_inner / out_inner, ok = y->dims[a] == cx->n * r;
    }
    int64_t entry = ok ? ((const int64_t *)shape->data)[a] : 0;
    if (ok && entry == 0) ok = r == 1;
    if (!ok) {
        freeze_inputs(s, n, "Reshape to a layout other than folding trailing dims into the channel axis");
        return LC_OK;
    }
    int64_t len = y->dims[a];
    int *at = malloc((size_t)(len ? len : 1) * sizeof *at);
    if (!at) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int64_t q = 0; q < len; q++) at[q] = cx->atom[q / r];
    lc_status st = entry > 0 ? add_edit(s, ED_SHAPE, shape, a, NULL, at, len) : LC_OK;
    if (st) {
        free(at);
        return st;
    }
    return chans_put(s, n->outputs[0], a, len, at);
}

static const char *const binary_ops[] = {"Add", "Div", "Mul", "PRelu", "Sub"};

static lc_status visit(ps *s, int ni)
{
    lc_node *n = s->m->graph->nodes[ni];
    const char *op = n->op_type;
    bool sub = false;
    for (int k = 0; k < n->n_attrs; k++) sub |= n->attrs[k].type == LC_ATTR_GRAPH || n->attrs[k].type == LC_ATTR_GRAPHS;
    if (!default_domain(n) || sub || n->n_outputs < 1 || !*n->outputs[0]) {
        freeze_inputs(s, n, "op not followed");
        return LC_OK;
    }
    if (!strcmp(op, "Conv") && n->n_inputs >= 2) return visit_conv(s, ni);
    if (!strcmp(op, "Gemm") && n->n_inputs >= 2) return visit_gemm(s, ni);
    if (!strcmp(op, "MatMul") && n->n_inputs == 2) return visit_matmul(s, ni);
    if (!strcmp(op, "BatchNormalization")) return visit_bn(s, ni);
    if (!strcmp(op, "Concat")) return visit_concat(s, ni);
    if (!strcmp(op, "Flatten")) return visit_flatten(s, ni);
    if (!strcmp(op, "Reshape") && n->n_inputs == 2 && !chans_of(s, n->inputs[1])) return visit_reshape(s, ni);
    if (!strcmp(op, "Clip") || in_list(op, passthrough_ops, sizeof passthrough_ops / sizeof *passthrough_ops))
        return visit_passthrough(s, ni);
    if (in_list(op, binary_ops, sizeof binary_ops / sizeof *binary_ops)) return visit_binary(s, ni);
    freeze_inputs(s, n, "op not followed");
    return LC_OK;
}

/* Collects every value name read inside the subgraphs of `g`'s nodes. */
static lc_status collect_sub_refs(const lc_graph *g, bool inside, lc_strset *out)
{
    lc_status st = LC_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const lc_node *n = g->nodes[i];
        for (int j = 0; inside && j < n->n_inputs && !st; j++) st = lc_strset_add(out, n->inputs[j], NULL, NULL);
        for (int k = 0; k < n->n_attrs && !st; k++) {
            const lc_attr *a = &n->attrs[k];
            if (a->type == LC_ATTR_GRAPH && a->g) st = collect_sub_refs(a->g, true, out);
            for (int q = 0; a->type == LC_ATTR_GRAPHS && q < a->n && !st; q++) st = collect_sub_refs(a->graphs[q], true, out);
        }
        for (int j = 0; inside && j < g->n_outputs && !st; j++) st = lc_strset_add(out, g->outputs[j].name, NULL, NULL);
    }
    return st;
}

/* Nodes must come in topological order (as ONNX requires) for the single
 * forward walk; false (logged) otherwise. */
static lc_status check_order(ps *s, bool *sorted)
{
    const lc_graph *g = s->m->graph;
    lc_strset defined = {0};
    lc_status st = LC_OK;
    *sorted = true;
    for (int i = 0; i < g->n_inputs && !st; i++) st = lc_strset_add(&defined, g->inputs[i].name, NULL, NULL);
    for (int i = 0; i < g->n_inits && !st; i++) st = lc_strset_add(&defined, g->inits[i]->name, NULL, NULL);
    for (int i = 0; i < g->n_nodes && !st && *sorted; i++) {
        const lc_node *n = g->nodes[i];
        for (int j = 0; j < n->n_inputs && *sorted; j++)
            if (*n->inputs[j] && !lc_strset_has(&defined, n->inputs[j])) *sorted = false;
        for (int j = 0; j < n->n_outputs && !st; j++)
            if (*n->outputs[j]) st = lc_strset_add(&defined, n->outputs[j], NULL, NULL);
    }
    lc_strset_clear(&defined);
    if (!st && !*sorted) lc_log(s->ctx, "prune-structured: nodes not in topological order; model left unchanged");
    return st;
}

static double filter_norm(const producer *p, int64_t c, bool l2)
{
    const lc_tensor *w = p->w;
    int64_t inner = 1, outer = 1;
    for (int d = p->out_axis + 1; d < w->ndim; d++) inner *= w->dims[d];
    for (int d = 0; d < p->out_axis; d++) outer *= w->dims[d];
    const float *v = w->data;
    double acc = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double x = v[(o * p->c + c) * inner + i];
            acc += l2 ? x * x : fabs(x);
        }
    return l2 ? sqrt(acc) : acc;
}

typedef struct cls_rank {
    double score;
    int root;
    int start, end; /* range in the atom list sorted by class */
} cls_rank;

/* An atom with its class root, sorted to bring each class together. */
typedef struct atom_key {
    int root, atom;
} atom_key;

static int cmp_atoms(const void *a, const void *b)
{
    const atom_key *x = a, *y = b;
    if (x->root != y->root) return x->root < y->root ? -1 : 1;
    return x->atom < y->atom ? -1 : x->atom > y->atom;
}

static int cmp_cls(const void *a, const void *b)
{
    const cls_rank *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->root < y->root ? -1 : x->root > y->root;
}

/* Chooses the removed classes of every unfrozen group; *n_removed counts
 * removed channels over all producers. */
static lc_status decide(ps *s, double ratio, const char *criterion, int64_t *n_removed)
{
    int na = s->n_atoms;
    lc_status st = LC_OK;
    double *crit = calloc((size_t)na + 1, sizeof *crit);
    int *root = malloc(((size_t)na + 1) * sizeof *root);
    atom_key *order = malloc(((size_t)na + 1) * sizeof *order);
    bool *gfrozen = calloc((size_t)s->n_prod + 1, sizeof *gfrozen);
    bool *gdone = calloc((size_t)s->n_prod + 1, sizeof *gdone);
    cls_rank *cr = malloc(((size_t)na + 1) * sizeof *cr);
    s->removed = calloc((size_t)na + 1, sizeof *s->removed);
    *n_removed = 0;
    if (!crit || !root || !order || !gfrozen || !gdone || !cr || !s->removed) {
        st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
        goto done;
    }
    bool use_bn = !strcmp(criterion, "bn-gamma"), l2 = !strcmp(criterion, "l2");
    for (int a = 0; a < na; a++) {
        root[a] = uf_find(s->cls, a);
        if (s->frozen[a]) gfrozen[uf_find(s->group, s->owner[a])] = true;
    }
    for (int p = 0; p < s->n_prod; p++)
        for (int64_t c = 0; c < s->prod[p].c; c++) crit[s->prod[p].first + c] = filter_norm(&s->prod[p], c, l2);
    for (int g = 0; g < s->n_prod; g++) {
        if (uf_find(s->group, g) != g || gdone[g]) continue;
        gdone[g] = true;
        int n_members = 0, n = 0, first_p = -1;
        for (int p = 0; p < s->n_prod; p++)
            if (uf_find(s->group, p) == g) {
                n_members++;
                if (first_p < 0) first_p = p;
                for (int64_t c = 0; c < s->prod[p].c; c++) {
                    int a = s->prod[p].first + (int)c;
                    order[n++] = (atom_key){root[a], a};
                }
            }
        const char *label = lc_node_label(s->m->graph->nodes[s->prod[first_p].node]);
        if (gfrozen[g]) {
            lc_log(s->ctx, "prune-structured: group of '%s' (%d layer(s)) left unchanged", label, n_members);
            continue;
        }
        qsort(order, (size_t)n, sizeof *order, cmp_atoms);
        int k_cls = 0;
        for (int k = 0; k < n; k++) {
            if (k == 0 || order[k].root != order[k - 1].root) cr[k_cls++] = (cls_rank){0, order[k].root, k, k};
            cr[k_cls - 1].end = k + 1;
        }
        /* bn-gamma needs a BatchNormalization on every class's path */
        bool bn_ok = use_bn;
        for (int c = 0; bn_ok && c < k_cls; c++) {
            bool any = false;
            for (int k = cr[c].start; k < cr[c].end; k++) any |= s->has_bn[order[k].atom];
            bn_ok = any;
        }
        if (use_bn && !bn_ok)
            lc_log(s->ctx, "prune-structured: group of '%s' has channels without a BatchNormalization; ranked by l1", label);
        for (int c = 0; c < k_cls; c++)
            for (int k = cr[c].start; k < cr[c].end; k++) cr[c].score += bn_ok ? s->bn[order[k].atom] : crit[order[k].atom];
        qsort(cr, (size_t)k_cls, sizeof *cr, cmp_cls);
        int target = (int)floor(ratio * k_cls + 1e-9), done_k = 0;
        for (int c = 0; c < k_cls && done_k < target; c++) {
            bool can = true;
            /* take the class from its producers; undo if one would be left empty */
            for (int k = cr[c].start; k < cr[c].end; k++) s->prod[s->owner[order[k].atom]].kept--;
            for (int k = cr[c].start; k < cr[c].end && can; k++) can = s->prod[s->owner[order[k].atom]].kept >= 1;
            if (!can) {
                for (int k = cr[c].start; k < cr[c].end; k++) s->prod[s->owner[order[k].atom]].kept++;
                continue;
            }
            for (int k = cr[c].start; k < cr[c].end; k++) s->removed[order[k].atom] = true;
            *n_removed += cr[c].end - cr[c].start;
            done_k++;
        }
        lc_log(s->ctx, "prune-structured: group of '%s' (%d layer(s)): removed %d of %d channel(s)", label, n_members, done_k,
               k_cls);
    }
done:
    free(crit);
    free(root);
    free(order);
    free(gfrozen);
    free(gdone);
    free(cr);
    return st;
}

static bool kept(const ps *s, int atom) { return atom < 0 || !s->removed[atom]; }

/* Keeps the positions of `t` along `axis` whose keep[] is true (data and
 * any sparsity mask). */
static lc_status slice_tensor(lc_tensor *t, int axis, const bool *keep)
{
    int64_t len = t->dims[axis], new_len = 0, outer = 1, inner = 1;
    for (int64_t i = 0; i < len; i++) new_len += keep[i];
    if (new_len == len) return LC_OK;
    for (int d = 0; d < axis; d++) outer *= t->dims[d];
    for (int d = axis + 1; d < t->ndim; d++) inner *= t->dims[d];
    size_t es = lc_dtype_size(t->dtype);
    size_t nbytes = (size_t)(outer * new_len * inner) * es;
    uint8_t *data = malloc(nbytes ? nbytes : 1);
    lc_encoding *e = t->enc;
    uint8_t *mask = e && e->mask ? malloc((size_t)(outer * new_len * inner) + 1) : NULL;
    if (!data || (e && e->mask && !mask)) {
        free(data);
        free(mask);
        return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory slicing '%s'", t->name);
    }
    const uint8_t *src = t->data;
    int64_t q = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < len; i++) {
            if (!keep[i]) continue;
            memcpy(data + (size_t)(q * inner) * es, src + (size_t)((o * len + i) * inner) * es, (size_t)inner * es);
            if (mask) memcpy(mask + q * inner, e->mask + (o * len + i) * inner, (size_t)inner);
            q++;
        }
    free(t->data);
    t->data = data;
    t->nbytes = nbytes;
    t->dims[axis] = new_len;
    if (mask) {
        free(e->mask);
        e->mask = mask;
    }
    if (e && e->axis == axis) e->channels = new_len;
    return LC_OK;
}

static int64_t count_kept(const ps *s, const edit *e)
{
    int64_t k = 0;
    for (int64_t i = 0; i < e->n; i++) k += kept(s, e->atom[i]);
    return k;
}

static lc_status apply_edit(ps *s, const edit *e)
{
    if (count_kept(s, e) == e->n) return LC_OK;
    if (e->kind == ED_SHAPE) {
        ((int64_t *)e->t->data)[e->axis] = count_kept(s, e);
        return LC_OK;
    }
    if (e->kind == ED_GROUP) {
        for (int k = 0; k < e->node->n_attrs; k++)
            if (!strcmp(e->node->attrs[k].name, "group")) e->node->attrs[k].i = count_kept(s, e);
        return LC_OK;
    }
    if (e->t->dims[e->axis] != e->n)
        return lc_fail(LC_ERR_INTERNAL, "prune-structured: '%s' axis %d has %lld positions, expected %lld", e->t->name, e->axis,
                       (long long)e->t->dims[e->axis], (long long)e->n);
    bool *keep = malloc((size_t)e->n + 1);
    if (!keep) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int64_t i = 0; i < e->n; i++) keep[i] = kept(s, e->atom[i]);
    lc_status st = slice_tensor(e->t, e->axis, keep);
    free(keep);
    return st;
}

static void set_type_dims(lc_type *ty, const lc_tensor *t)
{
    if (ty->kind != LC_TYPE_TENSOR || !ty->has_shape || ty->ndim != t->ndim) return;
    for (int d = 0; d < t->ndim; d++)
        if (ty->dims[d].kind == LC_DIM_VALUE) ty->dims[d].value = t->dims[d];
}

/* value_info of shrunk values: the new channel count, or dropped when its
 * recorded shape does not line up with the planned one. Graph inputs that
 * declare a sliced initializer (IR < 4) get its new shape. */
static void update_value_info(ps *s)
{
    lc_graph *g = s->m->graph;
    int w = 0;
    for (int i = 0; i < g->n_value_info; i++) {
        lc_value_info *vi = &g->value_info[i];
        chans *c = chans_of(s, vi->name);
        bool drop = false;
        if (c) {
            int64_t k = 0;
            for (int64_t p = 0; p < c->n; p++) k += kept(s, c->atom[p]);
            const lc_value *v = planned(s, vi->name);
            if (k != c->n) {
                lc_type *ty = &vi->type;
                if (ty->kind == LC_TYPE_TENSOR && ty->has_shape && v && ty->ndim == v->ndim && c->axis < ty->ndim &&
                    ty->dims[c->axis].kind == LC_DIM_VALUE && ty->dims[c->axis].value == c->n)
                    ty->dims[c->axis].value = k;
                else if (ty->kind == LC_TYPE_TENSOR && ty->has_shape)
                    drop = true;
            }
        }
        if (drop) lc_value_info_clear(vi);
        else g->value_info[w++] = *vi;
    }
    g->n_value_info = w;
    for (int i = 0; i < g->n_inputs; i++) {
        lc_tensor *t = lc_strset_get(&s->stored, g->inputs[i].name);
        if (t) set_type_dims(&g->inputs[i].type, t);
    }
}

static int64_t count_params(const lc_model *m)
{
    lc_stored *st = NULL;
    int n = 0;
    int64_t k = 0;
    if (lc_model_stored_tensors(m, &st, &n)) return -1;
    for (int i = 0; i < n; i++)
        if (st[i].graph == m->graph) k += lc_tensor_numel(st[i].tensor);
    free(st);
    return k;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    ps s = {.m = m, .ctx = ctx};
    lc_stored *st_list = NULL;
    lc_weight *w = NULL;
    int n_st = 0, n_w = 0;
    bool sorted = true;
    lc_graph *g = m->graph;
    int64_t before = count_params(m), n_removed = 0;
    lc_status st = lc_model_stored_tensors(m, &st_list, &n_st);
    for (int i = 0; i < n_st && !st; i++)
        if (st_list[i].graph == g) st = lc_strset_add(&s.stored, st_list[i].value, st_list[i].tensor, NULL);
    if (!st) st = lc_weight_targets(m, p, &w, &n_w);
    if (!st && !(s.target = calloc((size_t)g->n_nodes + 1, sizeof *s.target)))
        st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int i = 0; i < n_w && !st; i++) s.target[w[i].node_index] = true;
    if (!st) st = collect_sub_refs(g, false, &s.sub_refs);
    if (!st) st = check_order(&s, &sorted);
    if (st || !sorted) goto done;
    if ((st = lc_executor_create_ctx(m, ctx, 1, 1, &s.ex))) {
        lc_fail_prefix(st, "prune-structured: planning the model");
        goto done;
    }
    for (int i = 0; i < g->n_nodes && !st; i++) st = visit(&s, i);
    if (st) goto done;
    /* channels that leave the graph, or are read inside subgraphs, stay */
    for (int i = 0; i < g->n_outputs; i++) freeze(&s, chans_of(&s, g->outputs[i].name));
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_outputs; j++)
            if (lc_strset_has(&s.sub_refs, g->nodes[i]->outputs[j])) freeze(&s, chans_of(&s, g->nodes[i]->outputs[j]));
    s.group = malloc(((size_t)s.n_prod + 1) * sizeof *s.group);
    if (!s.group) {
        st = lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
        goto done;
    }
    for (int i = 0; i < s.n_prod; i++) s.group[i] = i;
    /* ties were recorded on atoms only; rebuild the producer groups from them */
    for (int a = 0; a < s.n_atoms; a++) uf_union(s.group, s.owner[a], s.owner[uf_find(s.cls, a)]);
    if ((st = decide(&s, lc_params_num(p, "ratio"), lc_params_str(p, "criterion"), &n_removed))) goto done;
    for (int i = 0; i < s.n_ed && !st; i++) st = apply_edit(&s, &s.ed[i]);
    if (st) goto done;
    update_value_info(&s);
    lc_executor_free(s.ex);
    s.ex = NULL;
    /* the rewritten graph must plan: shapes line up everywhere */
    if ((st = lc_executor_create_ctx(m, ctx, 1, 1, &s.ex))) {
        st = lc_fail_prefix(LC_ERR_INTERNAL, "prune-structured: the rewritten graph does not plan");
        goto done;
    }
    lc_log(ctx, "prune-structured: removed %lld channel(s) of %d layer(s); parameters %lld -> %lld", (long long)n_removed,
           s.n_prod, (long long)before, (long long)count_params(m));
done:
    if (s.ex) lc_executor_free(s.ex);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_outputs; j++) {
            chans *c = *g->nodes[i]->outputs[j] ? lc_strset_get(&s.vals, g->nodes[i]->outputs[j]) : NULL;
            chans_free(c);
        }
    for (int i = 0; i < s.n_ed; i++) free(s.ed[i].atom);
    free(s.ed);
    free(s.prod);
    free(s.owner);
    free(s.cls);
    free(s.frozen);
    free(s.bn);
    free(s.has_bn);
    free(s.group);
    free(s.removed);
    free(st_list);
    free(w);
    lc_strset_clear(&s.vals);
    lc_strset_clear(&s.stored);
    lc_strset_clear(&s.sub_refs);
    free(s.target);
    return st;
}

const lc_pass lc_pass_prune_structured = {
    "prune-structured", "remove whole output channels of Conv/Gemm/MatMul and shrink the graph around them",
    params, (int)(sizeof params / sizeof *params), "ratio", false, run,
};
