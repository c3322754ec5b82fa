/* prune-structured's channel analysis (see prune_structured.c for the
 * method): one forward walk over the main graph giving every producer
 * channel an atom id, passing atoms through the ops that keep channels
 * apart and map zero to zero, tying the channels that must stay aligned,
 * freezing what it cannot follow, and recording the edits the rewrite will
 * apply. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_plan_inputs.h"
#include "prune_structured.h"

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

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

lc_status lc_prune_structured_analyze(ps *s, bool *sorted)
{
    lc_graph *g = s->m->graph;
    lc_status st = collect_sub_refs(g, false, &s->sub_refs);
    if (!st) st = check_order(s, sorted);
    if (st || !*sorted) return st;
    if ((st = lc_executor_create_ctx(s->m, s->ctx, 1, 1, &s->ex))) return lc_fail_prefix(st, "prune-structured: planning the model");
    for (int i = 0; i < g->n_nodes && !st; i++) st = visit(s, i);
    if (st) return st;
    /* channels that leave the graph, or are read inside subgraphs, stay */
    for (int i = 0; i < g->n_outputs; i++) freeze(s, chans_of(s, g->outputs[i].name));
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_outputs; j++)
            if (lc_strset_has(&s->sub_refs, g->nodes[i]->outputs[j])) freeze(s, chans_of(s, g->nodes[i]->outputs[j]));
    s->group = malloc(((size_t)s->n_prod + 1) * sizeof *s->group);
    if (!s->group) return lc_fail(LC_ERR_NO_MEMORY, "prune-structured: out of memory");
    for (int i = 0; i < s->n_prod; i++) s->group[i] = i;
    /* ties were recorded on atoms only; rebuild the producer groups from them */
    for (int a = 0; a < s->n_atoms; a++) uf_union(s->group, s->owner[a], s->owner[uf_find(s->cls, a)]);
    return LC_OK;
}
