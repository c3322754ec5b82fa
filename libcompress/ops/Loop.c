/* Loop: runs `body` while the iteration count is below M (input 0, when
 * given) and the condition (input 1, then the body's first output) holds;
 * the loop-carried values go from each iteration to the next and the scan
 * outputs of the iterations are stacked along a new first axis.
 *
 * The iteration count fixes the scan outputs' shapes, so it must be known
 * at plan time: M and the initial condition must be constants, and the body
 * is planned once per iteration with the iteration number and condition
 * bound as constants, whose plan must compute the next condition as a
 * constant (else "data-dependent shape"). Planning per iteration also lets
 * the body use the iteration number where a shape needs it (a Slice at
 * i..i+1). At most MAX_ITERS iterations are planned. Tensors only. */
#include <stdlib.h>
#include <string.h>

#include "lc_control.h"

#define MAX_ITERS 4096
#define MAX_CARRIED 64

typedef struct {
    int n_iters, n_carried, n_scan;
    lc_executor **body;  /* one plan per iteration */
    lc_value *formal;    /* per iteration: the body's 2 + n_carried inputs */
    int64_t *iter_num;   /* per iteration: its number (bound as a constant) */
    uint8_t *cond;       /* per iteration: its condition (true) */
} loop_state;

static void loop_free(void *state)
{
    loop_state *st = state;
    if (!st) return;
    for (int i = 0; i < st->n_iters; i++) lc_executor_free(st->body[i]);
    free(st->body);
    free(st->formal);
    free(st->iter_num);
    free(st->cond);
    free(st);
}

static lc_status grow(loop_state *st, int cap)
{
    const int nf = 2 + st->n_carried;
    lc_executor **b = realloc(st->body, (size_t)cap * sizeof *b);
    if (b) st->body = b;
    lc_value *f = realloc(st->formal, (size_t)cap * nf * sizeof *f);
    if (f) st->formal = f;
    int64_t *it = realloc(st->iter_num, (size_t)cap * sizeof *it);
    if (it) st->iter_num = it;
    uint8_t *c = realloc(st->cond, (size_t)cap * sizeof *c);
    if (c) st->cond = c;
    return b && f && it && c ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

/* A constant scalar value named `name` over `data`. */
static lc_value scalar(const char *name, int dtype, void *data)
{
    lc_value v = {.name = name, .dtype = dtype, .data = data, .nbytes = lc_dtype_size(dtype), .is_const = true};
    return v;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_graph *g;
    lc_status s = lc_cf_graph(a, "body", &g);
    if (s) return s;
    const int n_carried = a->n_in - 2, n_scan = a->n_out - n_carried;
    if (n_carried < 0 || n_scan < 0 || g->n_inputs != 2 + n_carried || g->n_outputs != 1 + n_carried + n_scan)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "the body has %d inputs and %d outputs, the node %d and %d", g->n_inputs,
                       g->n_outputs, a->n_in, a->n_out);
    const lc_value *m = a->in[0], *c = a->in[1];
    int64_t max_iters = INT64_MAX; /* no M: until the condition fails */
    if (m) {
        if (!m->is_const || lc_value_numel(m) != 1 || m->dtype != LC_DTYPE_INT64)
            return lc_fail(LC_ERR_UNSUPPORTED, "data-dependent shape: the trip count M must be a constant int64 scalar");
        max_iters = ((const int64_t *)m->data)[0];
    }
    bool cond = true;
    if (c) {
        if (!c->is_const || lc_value_numel(c) != 1 || c->dtype != LC_DTYPE_BOOL)
            return lc_fail(LC_ERR_UNSUPPORTED, "data-dependent shape: the condition must be a constant bool scalar");
        cond = ((const uint8_t *)c->data)[0] != 0;
    }
    if (!m && !c) return lc_fail(LC_ERR_UNSUPPORTED, "a Loop without trip count and condition never ends");
    if (n_carried > MAX_CARRIED)
        return lc_fail(LC_ERR_UNSUPPORTED, "%d loop-carried values (at most %d)", n_carried, MAX_CARRIED);
    for (int k = 0; k < n_carried; k++)
        if (!a->in[2 + k]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "loop-carried input %d is missing", k);
    loop_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    st->n_carried = n_carried;
    st->n_scan = n_scan;
    int cap = 0;
    /* values of the previous iteration (the node's inputs before the first) */
    const lc_value *prev[MAX_CARRIED];
    for (int k = 0; k < n_carried; k++) prev[k] = a->in[2 + k];
    while (cond && st->n_iters < max_iters) {
        const int i = st->n_iters, nf = 2 + n_carried;
        if (i == MAX_ITERS) return lc_fail(LC_ERR_UNSUPPORTED, "the loop runs more than %d iterations", MAX_ITERS);
        if (i == cap && (s = grow(st, cap = cap ? 2 * cap : 8))) return s;
        st->iter_num[i] = i;
        st->cond[i] = 1;
        lc_value *f = &st->formal[(size_t)i * nf];
        f[0] = scalar(g->inputs[0].name, LC_DTYPE_INT64, &st->iter_num[i]);
        f[1] = scalar(g->inputs[1].name, LC_DTYPE_BOOL, &st->cond[i]);
        for (int k = 0; k < n_carried; k++) f[2 + k] = *prev[k];
        const lc_value *fp[2 + MAX_CARRIED];
        for (int k = 0; k < nf; k++) fp[k] = &f[k];
        if ((s = lc_executor_create_graph(a->scope, g, nf, fp, &st->body[i])))
            return lc_fail_prefix(s, "body, iteration %d", i);
        st->n_iters++;
        const lc_value *next = lc_cf_output_value(st->body[i], 0);
        if (!next->is_const || next->dtype != LC_DTYPE_BOOL || lc_value_numel(next) != 1)
            return lc_fail(LC_ERR_UNSUPPORTED, "data-dependent shape: iteration %d computes its condition at run time", i);
        cond = ((const uint8_t *)next->data)[0] != 0;
        for (int k = 0; k < n_carried; k++) prev[k] = lc_cf_output_value(st->body[i], 1 + k);
    }
    for (int k = 0; k < n_carried; k++)
        if (a->out[k] && (s = lc_value_set_shape(a->out[k], prev[k]->dtype, prev[k]->ndim, prev[k]->dims))) return s;
    for (int k = 0; k < n_scan; k++) {
        if (!a->out[n_carried + k]) continue;
        int64_t dims[LC_MAX_DIMS] = {st->n_iters};
        if (!st->n_iters) {
            /* no iteration: an empty stack of the declared element type and
             * shape (of [0] when the body does not declare it) */
            const lc_type *t = &g->outputs[1 + n_carried + k].type;
            int nd = 1;
            for (int d = 0; t->has_shape && d < t->ndim && t->ndim < LC_MAX_DIMS; d++)
                dims[nd++] = t->dims[d].kind == LC_DIM_VALUE ? t->dims[d].value : 0;
            if ((s = lc_value_set_shape(a->out[n_carried + k], t->elem_type ? t->elem_type : LC_DTYPE_FLOAT, nd, dims)))
                return s;
            continue;
        }
        const lc_value *e = lc_cf_output_value(st->body[0], 1 + n_carried + k);
        for (int i = 1; i < st->n_iters; i++)
            if (!lc_cf_same_type(e, lc_cf_output_value(st->body[i], 1 + n_carried + k)))
                return lc_fail(LC_ERR_UNSUPPORTED, "scan output %d changes shape between iterations", k);
        if (e->ndim + 1 > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "scan output %d has too many dims", k);
        memcpy(dims + 1, e->dims, (size_t)e->ndim * sizeof *dims);
        if ((s = lc_value_set_shape(a->out[n_carried + k], e->dtype, e->ndim + 1, dims))) return s;
    }
    return LC_OK;
}

static lc_status run(lc_kernel_args *a)
{
    const loop_state *st = a->state;
    const int nc = st->n_carried, nf = 2 + nc;
    lc_array in[MAX_CARRIED];
    for (int i = 0; i < st->n_iters; i++) {
        /* the run-time inputs of this iteration's plan: the carried values
         * that were not constants, from the node or the previous iteration */
        int n = 0;
        for (int k = 0; k < nc; k++) {
            const lc_value *f = &st->formal[(size_t)i * nf + 2 + k];
            if (f->is_const) continue;
            in[n] = (lc_array){.dtype = f->dtype, .ndim = f->ndim};
            memcpy(in[n].dims, f->dims, sizeof f->dims);
            lc_array o;
            if (i == 0) in[n].data = a->in[2 + k]->data;
            else if (lc_executor_output(st->body[i - 1], 1 + k, &o, NULL) == LC_OK) in[n].data = o.data;
            n++;
        }
        lc_status s = lc_executor_run(st->body[i], in, n);
        if (s) return lc_fail_prefix(s, "body, iteration %d", i);
        for (int k = 0; k < st->n_scan; k++) {
            lc_value *y = a->out[nc + k];
            if (!y) continue;
            size_t per = lc_cf_nbytes(y) / (size_t)st->n_iters;
            lc_cf_copy_output((char *)y->data + (size_t)i * per, st->body[i], 1 + nc + k, per);
        }
    }
    for (int k = 0; k < nc; k++) {
        if (!a->out[k]) continue;
        size_t nb = lc_cf_nbytes(a->out[k]);
        if (st->n_iters) lc_cf_copy_output(a->out[k]->data, st->body[st->n_iters - 1], 1 + k, nb);
        else if (nb) memcpy(a->out[k]->data, a->in[2 + k]->data, nb);
    }
    return LC_OK;
}

#define FLAGS (LC_OPF_OPTIONAL_INPUT(0) | LC_OPF_OPTIONAL_INPUT(1)) /* M, cond */
const lc_kernel lc_kernel_Loop_1 = {"Loop", 1, 3, FLAGS, prepare, run, loop_free, NULL};
const lc_kernel lc_kernel_Loop_11 = {"Loop", 11, 2, FLAGS, prepare, run, loop_free, NULL};
