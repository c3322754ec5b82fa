/* Planning: values, kernels (ONNX's since_version rule), input checks
 * against each kernel's min_inputs, prepare(), constant folding; then
 * lc_executor_create_ex runs the stages of lc_plan.h in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_plan.h"

int lc_exec_slot(const lc_executor *ex, const char *name)
{
    if (!name || !*name) return -1;
    return (int)(intptr_t)lc_strset_get(&ex->names, name) - 1;
}

/* Fails with the standard node prefix: "node 'NAME' (OP, opset N)". */
lc_status lc_exec_node_fail(const lc_executor *ex, lc_status s, int node_index, const lc_node *n)
{
    bool dflt = !n->domain || !*n->domain || strcmp(n->domain, "ai.onnx") == 0;
    char where[64];
    if (dflt) snprintf(where, sizeof where, "opset %lld", (long long)ex->opset);
    else snprintf(where, sizeof where, "domain '%.40s'", n->domain);
    if (n->name && *n->name) return lc_fail_prefix(s, "node '%s' (%s, %s)", n->name, n->op_type, where);
    return lc_fail_prefix(s, "node #%d (%s, %s)", node_index, n->op_type, where);
}

bool lc_exec_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static lc_status add_slot(lc_executor *ex, const char *name, int *out)
{
    bool added;
    lc_status s = lc_strset_add(&ex->names, name, (void *)(intptr_t)(ex->n_slots + 1), &added);
    if (s) return s;
    if (!added) return lc_fail(LC_ERR_VERIFY, "value '%s' is defined twice", name);
    slot *sl = &ex->slots[ex->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->v.name = name;
    sl->last_use = -1;
    sl->buf = -1;
    *out = ex->n_slots++;
    return LC_OK;
}

/* Slots for the values this graph reads from enclosing graphs (a
 * subgraph's implicit inputs), found through ex->scope. */
static lc_status collect_outer(lc_executor *ex)
{
    const lc_graph *g = ex->g;
    int cap = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_inputs; k++) {
            const char *name = g->nodes[i]->inputs[k];
            const lc_value *v;
            if (!*name || lc_exec_slot(ex, name) >= 0 || !(v = lc_exec_lookup(ex->scope, name))) continue;
            int sl;
            lc_status s = add_slot(ex, name, &sl);
            if (!s) s = lc_vec_reserve((void **)&ex->outer, &cap, ex->n_outer + 1, sizeof *ex->outer);
            if (s) return s;
            ex->slots[sl].v = *v;
            ex->slots[sl].v.name = name;
            ex->slots[sl].v.borrowed = true;
            ex->slots[sl].outer = v;
            ex->outer[ex->n_outer++] = sl;
        }
    return LC_OK;
}

/* The graph's values: initializers, inputs (`shapes` for those given at
 * run time; for a subgraph, `formal[i]` gives input i, a constant when
 * is_const), node outputs and values of enclosing graphs. */
static lc_status collect_values(lc_executor *ex, const lc_array *shapes, int n_inputs, const lc_value *const *formal)
{
    const lc_graph *g = ex->g;
    int total = g->n_inits + g->n_inputs;
    for (int i = 0; i < g->n_nodes; i++) total += g->nodes[i]->n_outputs + (ex->scope ? g->nodes[i]->n_inputs : 0);
    ex->slots = calloc((size_t)(total ? total : 1), sizeof *ex->slots);
    ex->inputs = calloc((size_t)(g->n_inputs ? g->n_inputs : 1), sizeof *ex->inputs);
    ex->outputs = calloc((size_t)(g->n_outputs ? g->n_outputs : 1), sizeof *ex->outputs);
    if (!ex->slots || !ex->inputs || !ex->outputs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s;
    int k;
    for (int i = 0; i < g->n_inits; i++) {
        const lc_tensor *t = g->inits[i];
        if ((s = add_slot(ex, t->name, &k))) return s;
        lc_value *v = &ex->slots[k].v;
        v->dtype = t->dtype;
        v->ndim = t->ndim;
        memcpy(v->dims, t->dims, sizeof v->dims);
        /* Weights are read in place. */
        v->data = t->data ? t->data : (void *)lc_exec_empty_data;
        v->nbytes = t->nbytes;
        v->is_const = true;
        v->borrowed = true;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const lc_value_info *vi = &g->inputs[i];
        if (lc_exec_slot(ex, vi->name) >= 0) continue; /* an initializer (a default value) */
        if (formal && formal[i]->is_const) {
            if ((s = add_slot(ex, vi->name, &k))) return s;
            ex->slots[k].v = *formal[i];
            ex->slots[k].v.name = vi->name;
            ex->slots[k].v.borrowed = true;
            continue;
        }
        if (ex->n_inputs >= n_inputs)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "the model has more than the %d inputs given (input '%s')", n_inputs,
                           vi->name);
        const lc_array *a = &shapes[ex->n_inputs];
        size_t es = lc_dtype_size(a->dtype);
        if (!es) return lc_fail(LC_ERR_DTYPE, "input '%s': unsupported dtype %s", vi->name, lc_dtype_name(a->dtype));
        if (vi->type.kind == LC_TYPE_TENSOR && vi->type.elem_type && vi->type.elem_type != (int)a->dtype)
            return lc_fail(LC_ERR_DTYPE, "input '%s' is %s, got %s", vi->name, lc_dtype_name(vi->type.elem_type),
                           lc_dtype_name(a->dtype));
        if (a->ndim < 0 || a->ndim > LC_MAX_DIMS || lc_shape_numel(a->ndim, a->dims, es) < 0)
            return lc_fail(LC_ERR_SHAPE, "input '%s': invalid shape", vi->name);
        if (vi->type.kind == LC_TYPE_TENSOR && vi->type.has_shape && vi->type.ndim != a->ndim)
            return lc_fail(LC_ERR_SHAPE, "input '%s' has rank %d, got shape [%s]", vi->name, vi->type.ndim,
                           lc_dims_str(a->ndim, a->dims));
        if ((s = add_slot(ex, vi->name, &k))) return s;
        slot *sl = &ex->slots[k];
        sl->is_input = true;
        sl->v.dtype = a->dtype;
        sl->v.ndim = a->ndim;
        if (a->ndim) memcpy(sl->v.dims, a->dims, (size_t)a->ndim * sizeof a->dims[0]);
        sl->v.nbytes = (size_t)lc_shape_numel(a->ndim, a->dims, es) * es;
        ex->inputs[ex->n_inputs++] = k;
    }
    if (ex->n_inputs != n_inputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "the model has %d inputs, %d given", ex->n_inputs, n_inputs);
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        for (int o = 0; o < n->n_outputs; o++)
            if (*n->outputs[o] && (s = add_slot(ex, n->outputs[o], &k)))
                return lc_exec_node_fail(ex, s, i, n);
    }
    if (ex->scope && (s = collect_outer(ex))) return s;
    for (int i = 0; i < g->n_outputs; i++) {
        int o = lc_exec_slot(ex, g->outputs[i].name);
        if (o < 0) return lc_fail(LC_ERR_VERIFY, "graph output '%s' is not defined", g->outputs[i].name);
        ex->slots[o].is_output = true;
        ex->outputs[ex->n_outputs++] = o;
    }
    return LC_OK;
}

static const lc_kernel *find_kernel(const lc_executor *ex, const lc_node *n)
{
    if (!lc_exec_default_domain(n->domain)) {
        lc_fail(LC_ERR_UNSUPPORTED, "operators of domain '%s' are not supported", n->domain);
        return NULL;
    }
    int lowest = 0;
    const lc_kernel *k = lc_kernel_find(n->op_type, ex->opset, &lowest);
    if (k) return k;
    if (lowest)
        lc_fail(LC_ERR_UNSUPPORTED, "operator %s is supported from opset %d on, the model imports opset %lld", n->op_type,
                lowest, (long long)ex->opset);
    else lc_fail(LC_ERR_UNSUPPORTED, "operator %s is not supported", n->op_type);
    return NULL;
}

/* After a kernel refused a node: DTYPE and UNSUPPORTED refusals of a model
 * that loaded fine mean "we do not handle this", so both become
 * LC_ERR_UNSUPPORTED; dtype refusals get the input dtypes appended. */
static lc_status refusal(lc_status s, const step *st)
{
    if (s != LC_ERR_DTYPE && s != LC_ERR_UNSUPPORTED) return s;
    char msg[1024], types[256] = "";
    snprintf(msg, sizeof msg, "%s", lc_last_error());
    size_t used = 0;
    for (int i = 0; i < st->args.n_in && used < sizeof types - 32; i++)
        used += (size_t)snprintf(types + used, sizeof types - used, "%s%s", i ? ", " : "",
                                 st->in[i] ? lc_dtype_name(st->in[i]->dtype) : "-");
    if (s == LC_ERR_DTYPE || strstr(msg, "type"))
        return lc_fail(LC_ERR_UNSUPPORTED, "%s (input dtypes: %s)", msg, st->args.n_in ? types : "none");
    return lc_fail(LC_ERR_UNSUPPORTED, "%s", msg);
}

void lc_exec_step_clear(step *st)
{
    if (st->kernel && st->kernel->free_state && st->args.state) st->kernel->free_state(st->args.state);
    st->args.state = NULL;
    free(st->in);
    free(st->out);
    free(st->in_slots);
    free(st->out_slots);
    free(st->extra_slots);
    free(st->fdata);
    memset(st, 0, sizeof *st);
}

static lc_status step_init(lc_executor *ex, step *st, int node_index)
{
    const lc_node *n = ex->g->nodes[node_index];
    st->node_index = node_index;
    st->node = n;
    size_t ni = (size_t)(n->n_inputs ? n->n_inputs : 1), no = (size_t)(n->n_outputs ? n->n_outputs : 1);
    st->in = calloc(ni, sizeof *st->in);
    st->out = calloc(no, sizeof *st->out);
    st->in_slots = calloc(ni, sizeof *st->in_slots);
    st->out_slots = calloc(no, sizeof *st->out_slots);
    if (!st->in || !st->out || !st->in_slots || !st->out_slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n->n_inputs; i++) {
        st->in_slots[i] = lc_exec_slot(ex, n->inputs[i]);
        /* The model may not have been verified (built in memory). */
        if (st->in_slots[i] < 0 && *n->inputs[i])
            return lc_fail(LC_ERR_VERIFY, "input '%s' is not defined by any node, input or initializer", n->inputs[i]);
        st->in[i] = st->in_slots[i] >= 0 ? &ex->slots[st->in_slots[i]].v : NULL;
    }
    for (int i = 0; i < n->n_outputs; i++) {
        st->out_slots[i] = lc_exec_slot(ex, n->outputs[i]);
        st->out[i] = st->out_slots[i] >= 0 ? &ex->slots[st->out_slots[i]].v : NULL;
    }
    st->args.node = n;
    st->args.opset = ex->opset;
    st->args.n_in = n->n_inputs;
    st->args.in = st->in;
    st->args.n_out = n->n_outputs;
    st->args.out = st->out;
    st->args.threads = ex->threads;
    st->args.scope = ex;
    return LC_OK;
}

/* The inputs a node must have, present and named, before its kernel sees
 * it (kernels read their required inputs without checking, so a hostile
 * model that leaves one out, or names it "", is refused here). */
static lc_status check_inputs(const lc_node *n, const lc_kernel *k)
{
    int need = k->min_inputs;
    if (n->n_inputs < need)
        return lc_fail(LC_ERR_VERIFY, "has %d inputs, %s needs at least %d", n->n_inputs, n->op_type, need);
    for (int i = 0; i < need; i++)
        if (!*n->inputs[i] && !(i < 8 && (k->flags & LC_OPF_OPTIONAL_INPUT(i))))
            return lc_fail(LC_ERR_VERIFY, "input %d is required but empty", i);
    return LC_OK;
}

static lc_status plan_nodes(lc_executor *ex, const int *order, int **extra, const int *n_extra)
{
    const lc_graph *g = ex->g;
    for (int p = 0; p < g->n_nodes; p++) {
        int ni = order[p];
        const lc_node *n = g->nodes[ni];
        step *st = &ex->steps[ex->n_steps];
        lc_status s = step_init(ex, st, ni);
        if (s) {
            s = lc_exec_node_fail(ex, s, ni, n);
            goto fail;
        }
        st->kernel = find_kernel(ex, n);
        if (!st->kernel) {
            s = lc_exec_node_fail(ex, LC_ERR_UNSUPPORTED, ni, n);
            goto fail;
        }
        /* an operator's first output is required (kernels write out[0])
         * unless its kernel says otherwise */
        if (n->n_outputs < 1 || (!*n->outputs[0] && !(st->kernel->flags & LC_OPF_OPTIONAL_FIRST_OUTPUT))) {
            s = lc_exec_node_fail(ex, lc_fail(LC_ERR_VERIFY, "has no output (%s needs at least one)", n->op_type), ni, n);
            goto fail;
        }
        if ((s = check_inputs(n, st->kernel))) {
            s = lc_exec_node_fail(ex, s, ni, n);
            goto fail;
        }
        if ((s = st->kernel->prepare(&st->args))) {
            s = lc_exec_node_fail(ex, refusal(s, st), ni, n);
            goto fail;
        }
        for (int o = 0; o < n->n_outputs && !s; o++)
            if (st->out[o] && !st->out[o]->dtype)
                s = lc_exec_node_fail(ex, lc_fail(LC_ERR_INTERNAL, "prepare left output '%s' without a type", n->outputs[o]),
                                     ni, n);
        if (s) goto fail;
        const unsigned flags = st->kernel->flags;
        bool all_const = !(flags & LC_OPF_NONDETERMINISTIC) && n_extra[ni] == 0;
        for (int i = 0; i < n->n_inputs && all_const; i++)
            if (st->in[i] && !st->in[i]->is_const) all_const = false;
        if (all_const || ((flags & LC_OPF_SHAPE_ONLY) && n_extra[ni] == 0)) {
            if ((s = lc_exec_fold(ex, st))) {
                s = lc_exec_node_fail(ex, s, ni, n);
                goto fail;
            }
            ex->folded[ni] = true;
            lc_exec_step_clear(st);
            continue;
        }
        st->extra_slots = extra[ni];
        st->n_extra = n_extra[ni];
        extra[ni] = NULL;
        ex->n_steps++;
        continue;
    fail:
        lc_exec_step_clear(st);
        return s;
    }
    return LC_OK;
}

lc_status lc_executor_create(const lc_model *m, const lc_array *shapes, int n_inputs, int threads, lc_executor **out)
{
    return lc_executor_create_ex(m, shapes, n_inputs, threads, 0, out);
}

const lc_value *lc_exec_lookup(const lc_executor *ex, const char *name)
{
    for (; ex; ex = ex->scope) {
        int sl = lc_exec_slot(ex, name);
        if (sl >= 0) return &ex->slots[sl].v;
    }
    return NULL;
}

/* Plans ex->g (ex's threads, flags, opset and scope set) through every
 * stage; frees ex on failure. */
static lc_status plan_graph(lc_executor *ex, const lc_array *shapes, int n_inputs, const lc_value *const *formal,
                            lc_executor **out)
{
    const lc_graph *g = ex->g;
    lc_status s;
    int **extra = NULL, *n_extra = NULL, *order = NULL;
    size_t nn = (size_t)(g->n_nodes ? g->n_nodes : 1);
    ex->steps = calloc(nn, sizeof *ex->steps);
    ex->folded = calloc(nn, sizeof *ex->folded);
    extra = calloc(nn, sizeof *extra);
    n_extra = calloc(nn, sizeof *n_extra);
    order = calloc(nn, sizeof *order);
    if (!ex->steps || !ex->folded || !extra || !n_extra || !order) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((s = collect_values(ex, shapes, n_inputs, formal))) goto fail;
    for (int i = 0; i < g->n_nodes; i++)
        if ((s = lc_exec_extra_reads(ex, g->nodes[i], &extra[i], &n_extra[i]))) goto fail;
    if ((s = lc_exec_order(ex, extra, n_extra, order))) goto fail;
    if ((s = plan_nodes(ex, order, extra, n_extra))) goto fail;
    if (!(ex->flags & LC_EXEC_NO_FUSION) && (s = lc_exec_fuse(ex))) goto fail;
    if ((s = lc_exec_plan_buffers(ex))) goto fail;
    lc_exec_drop_dead_constants(ex);
    *out = ex;
    goto done;
fail:
    lc_executor_free(ex);
done:
    for (size_t i = 0; extra && i < nn; i++) free(extra[i]);
    free(extra);
    free(n_extra);
    free(order);
    return s;
}

lc_status lc_executor_create_ex(const lc_model *m, const lc_array *shapes, int n_inputs, int threads, unsigned flags,
                                lc_executor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: out is NULL");
    *out = NULL;
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: no model");
    if (n_inputs < 0 || (n_inputs && !shapes))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create: %d input shapes but shapes is NULL", n_inputs);
    lc_executor *ex = calloc(1, sizeof *ex);
    if (!ex) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    ex->g = m->graph;
    ex->threads = threads < 1 ? 1 : threads;
    ex->flags = flags;
    ex->opset = lc_model_opset(m, "");
    return plan_graph(ex, shapes, n_inputs, NULL, out);
}

lc_status lc_executor_create_graph(const lc_executor *scope, const lc_graph *g, int n_in, const lc_value *const *in,
                                   lc_executor **out)
{
    *out = NULL;
    if (n_in != g->n_inputs)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "subgraph '%s' has %d inputs, %d given", g->name ? g->name : "",
                       g->n_inputs, n_in);
    lc_array *shapes = calloc((size_t)(n_in ? n_in : 1), sizeof *shapes);
    lc_executor *ex = calloc(1, sizeof *ex);
    if (!shapes || !ex) {
        free(shapes);
        free(ex);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    int n = 0;
    for (int i = 0; i < n_in; i++) {
        if (in[i]->is_const) continue;
        shapes[n].dtype = in[i]->dtype;
        shapes[n].ndim = in[i]->ndim;
        memcpy(shapes[n].dims, in[i]->dims, sizeof in[i]->dims);
        n++;
    }
    ex->g = g;
    ex->scope = scope;
    ex->threads = scope->threads;
    ex->flags = scope->flags;
    ex->opset = scope->opset;
    lc_status s = plan_graph(ex, shapes, n, in, out);
    free(shapes);
    return s;
}

lc_status lc_executor_create_batch(const lc_model *m, int batch, int threads, lc_executor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: out is NULL");
    *out = NULL;
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: no model");
    if (batch < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_executor_create_batch: batch %d must be >= 1", batch);
    const lc_graph *g = m->graph;
    lc_array *shapes = calloc((size_t)(g->n_inputs ? g->n_inputs : 1), sizeof *shapes);
    if (!shapes) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    int n = 0;
    lc_status s = LC_OK;
    for (int i = 0; i < g->n_inputs && !s; i++) {
        const lc_value_info *vi = &g->inputs[i];
        if (lc_graph_init(g, vi->name)) continue;
        const lc_type *t = &vi->type;
        if (t->kind != LC_TYPE_TENSOR) {
            s = lc_fail(LC_ERR_UNSUPPORTED, "input '%s' is not a tensor", vi->name);
            break;
        }
        if (!t->has_shape) {
            s = lc_fail(LC_ERR_SHAPE, "input '%s' has no declared shape", vi->name);
            break;
        }
        if (t->ndim > LC_MAX_DIMS) {
            s = lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has rank %d (at most %d supported)", vi->name, t->ndim, LC_MAX_DIMS);
            break;
        }
        lc_array *a = &shapes[n++];
        a->dtype = t->elem_type;
        a->ndim = t->ndim;
        for (int d = 0; d < t->ndim && !s; d++) {
            if (d == 0) a->dims[d] = batch;
            else if (t->dims[d].kind == LC_DIM_VALUE && t->dims[d].value >= 0) a->dims[d] = t->dims[d].value;
            else if (t->dims[d].kind == LC_DIM_PARAM)
                s = lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is symbolic ('%s'); give the shape explicitly", vi->name, d,
                            t->dims[d].param);
            else s = lc_fail(LC_ERR_SHAPE, "input '%s': dim %d is unknown; give the shape explicitly", vi->name, d);
        }
    }
    if (!s) s = lc_executor_create(m, shapes, n, threads, out);
    free(shapes);
    return s;
}
