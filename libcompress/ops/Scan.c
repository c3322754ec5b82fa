/* Scan: runs `body` once per slice of the scan inputs, carrying the state
 * values from slice to slice and stacking the body's scan outputs.
 *
 * From opset 9 the scan axis of each input and output is an attribute
 * (scan_input_axes, scan_output_axes, default 0; negative from 11) and
 * each can run backwards (scan_input_directions, scan_output_directions).
 * Opset 8 has a leading batch axis on every input and output, scans axis 1
 * (directions per scan input) and takes sequence_lens as input 0, which
 * must be omitted or give every batch the full length here. The body is
 * planned once for the slice shapes; the state must keep its shape. */
#include <stdlib.h>
#include <string.h>

#include "lc_control.h"

#define MAX_VALUES 64

/* A tensor seen as [outer, T, inner] around its scan axis (bytes). */
typedef struct {
    int64_t outer;
    size_t inner;
    bool reverse;
} geom;

typedef struct {
    lc_executor *body;
    int n_state, n_scan_in, n_scan_out, first; /* first: index of the first state input */
    bool batched;                               /* opset 8: axis 0 is the batch */
    int64_t batch, len;                         /* B (1 from opset 9) and T */
    geom in[MAX_VALUES], out[MAX_VALUES];       /* scan inputs and outputs */
    size_t state_bytes[MAX_VALUES];             /* one batch's state */
    void *buf[2 * MAX_VALUES];                  /* states, then slices */
    lc_array args[2 * MAX_VALUES];              /* the body's run-time inputs */
} scan_state;

static void scan_free(void *state)
{
    scan_state *st = state;
    if (!st) return;
    lc_executor_free(st->body);
    for (int i = 0; i < 2 * MAX_VALUES; i++) free(st->buf[i]);
    free(st);
}

static lc_status read_axes(const lc_kernel_args *a, const char *name, int n, int64_t *v, int64_t dflt)
{
    int got;
    lc_status s = lc_attr_ints(a->node, name, v, MAX_VALUES, &got);
    if (s) return s;
    if (!got)
        for (int i = 0; i < n; i++) v[i] = dflt;
    else if (got != n) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s has %d values, %d expected", name, got, n);
    return LC_OK;
}

/* The view of `dims` (rank nd) around axis ax: elements of es bytes. */
static geom view(const int64_t *dims, int nd, int ax, size_t es, bool reverse)
{
    geom g = {1, es, reverse};
    for (int d = 0; d < ax; d++) g.outer *= dims[d];
    for (int d = ax + 1; d < nd; d++) g.inner *= (size_t)dims[d];
    return g;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_graph *g;
    lc_status s = lc_cf_graph(a, "body", &g);
    if (s) return s;
    const bool v8 = a->opset < 9;
    const int first = v8 ? 1 : 0, m = (int)lc_node_attr_int(a->node, "num_scan_inputs", -1);
    const int n_state = a->n_in - first - m, k_out = a->n_out - n_state;
    if (m < 1 || n_state < 0 || k_out < 0 || m > MAX_VALUES || n_state > MAX_VALUES || k_out > MAX_VALUES)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "num_scan_inputs %d does not fit %d inputs and %d outputs", m, a->n_in,
                       a->n_out);
    if (g->n_inputs != n_state + m || g->n_outputs != n_state + k_out)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "the body has %d inputs and %d outputs, %d and %d expected", g->n_inputs,
                       g->n_outputs, n_state + m, n_state + k_out);
    for (int i = first; i < a->n_in; i++)
        if (!a->in[i]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %d is missing", i);
    scan_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    st->n_state = n_state;
    st->n_scan_in = m;
    st->n_scan_out = k_out;
    st->first = first;
    st->batched = v8;
    int64_t in_axes[MAX_VALUES], in_dirs[MAX_VALUES], out_axes[MAX_VALUES], out_dirs[MAX_VALUES];
    if ((s = read_axes(a, v8 ? "directions" : "scan_input_directions", m, in_dirs, 0))) return s;
    if ((s = read_axes(a, "scan_input_axes", m, in_axes, 0))) return s;
    if ((s = read_axes(a, "scan_output_axes", k_out, out_axes, 0))) return s;
    if ((s = read_axes(a, "scan_output_directions", k_out, out_dirs, 0))) return s;
    st->batch = v8 ? a->in[first]->dims[0] : 1;
    /* the body's inputs: one batch's states, then one slice of each scan input */
    lc_value formal[2 * MAX_VALUES];
    const lc_value *fp[2 * MAX_VALUES];
    for (int j = 0; j < n_state + m; j++) {
        const lc_value *x = a->in[first + j];
        const int skip = v8 ? 1 : 0; /* the batch axis */
        int ax = skip;
        if (j >= n_state) {
            int64_t want = v8 ? 1 : in_axes[j - n_state];
            if (!v8 && (s = lc_norm_axis(want, x->ndim, "scan_input_axes", &ax))) return s;
            if (v8) ax = 1;
            if (x->ndim <= ax) return lc_fail(LC_ERR_SHAPE, "scan input %d has rank %d", j - n_state, x->ndim);
            int64_t t = x->dims[ax];
            if (j > n_state && t != st->len)
                return lc_fail(LC_ERR_SHAPE, "scan inputs have lengths %lld and %lld", (long long)st->len, (long long)t);
            st->len = t;
        }
        if (v8 && (x->ndim < 1 || x->dims[0] != st->batch))
            return lc_fail(LC_ERR_SHAPE, "input %d does not have the batch size %lld", first + j, (long long)st->batch);
        lc_value *f = &formal[j];
        *f = (lc_value){.name = g->inputs[j].name, .dtype = x->dtype};
        for (int d = skip; d < x->ndim; d++)
            if (j < n_state || d != ax) f->dims[f->ndim++] = x->dims[d];
        f->nbytes = lc_cf_nbytes(f);
        fp[j] = f;
        if (j >= n_state) st->in[j - n_state] = view(x->dims, x->ndim, ax, lc_dtype_size(x->dtype), in_dirs[j - n_state]);
        else st->state_bytes[j] = f->nbytes;
        if (!(st->buf[j < n_state ? j : MAX_VALUES + j - n_state] = malloc(f->nbytes ? f->nbytes : 1)))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        lc_array *arg = &st->args[j];
        *arg = (lc_array){.dtype = f->dtype, .ndim = f->ndim,
                          .data = st->buf[j < n_state ? j : MAX_VALUES + j - n_state]};
        memcpy(arg->dims, f->dims, sizeof f->dims);
    }
    const lc_value *lens = v8 ? a->in[0] : NULL;
    if (lens && (!lens->is_const || lens->dtype != LC_DTYPE_INT32))
        return lc_fail(LC_ERR_UNSUPPORTED, "sequence_lens must be a constant int32 tensor");
    for (int64_t b = 0; lens && b < lc_value_numel(lens); b++)
        if (((const int32_t *)lens->data)[b] != st->len)
            return lc_fail(LC_ERR_UNSUPPORTED, "sequence_lens[%lld] = %d, only the full length %lld is supported",
                           (long long)b, ((const int32_t *)lens->data)[b], (long long)st->len);
    if ((s = lc_executor_create_graph(a->scope, g, n_state + m, fp, &st->body))) return lc_fail_prefix(s, "body");
    for (int j = 0; j < n_state; j++) {
        const lc_value *y = lc_cf_output_value(st->body, j);
        if (!lc_cf_same_type(y, &formal[j]))
            return lc_fail(LC_ERR_UNSUPPORTED, "state %d changes from %s [%s] to %s [%s]", j,
                           lc_dtype_name(formal[j].dtype), lc_dims_str(formal[j].ndim, formal[j].dims),
                           lc_dtype_name(y->dtype), lc_dims_str(y->ndim, y->dims));
        if (a->out[j] && (s = lc_value_set_shape(a->out[j], a->in[first + j]->dtype, a->in[first + j]->ndim,
                                                 a->in[first + j]->dims)))
            return s;
    }
    for (int k = 0; k < k_out; k++) {
        const lc_value *e = lc_cf_output_value(st->body, n_state + k);
        int64_t dims[LC_MAX_DIMS];
        int nd = 0, ax = v8 ? 1 : 0;
        if (e->ndim + 1 + (v8 ? 1 : 0) > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "scan output %d has too many dims", k);
        if (!v8 && (s = lc_norm_axis(out_axes[k], e->ndim + 1, "scan_output_axes", &ax))) return s;
        if (v8) dims[nd++] = st->batch;
        for (int d = 0; d <= e->ndim; d++) {
            if (d == ax - (v8 ? 1 : 0)) dims[nd++] = st->len;
            if (d < e->ndim) dims[nd++] = e->dims[d];
        }
        st->out[k] = view(dims, nd, ax, lc_dtype_size(e->dtype), !v8 && out_dirs[k]);
        if (a->out[n_state + k] && (s = lc_value_set_shape(a->out[n_state + k], e->dtype, nd, dims))) return s;
    }
    return LC_OK;
}

/* Copies slice t of batch b between a [outer, T, inner] tensor and a
 * contiguous slice (to_slice: tensor -> slice). */
static void move_slice(const scan_state *st, const geom *g, char *tensor, char *slice, int64_t b, int64_t t, bool to_slice)
{
    if (g->reverse) t = st->len - 1 - t;
    int64_t o0 = st->batched ? b : 0, o1 = st->batched ? b + 1 : g->outer;
    for (int64_t o = o0; o < o1; o++) {
        char *x = tensor + (size_t)(o * st->len + t) * g->inner, *y = slice + (size_t)(o - o0) * g->inner;
        if (to_slice) memcpy(y, x, g->inner);
        else memcpy(x, y, g->inner);
    }
}

static lc_status run(lc_kernel_args *a)
{
    scan_state *st = a->state;
    const int ns = st->n_state, ni = st->n_scan_in;
    for (int64_t b = 0; b < st->batch; b++) {
        for (int j = 0; j < ns; j++)
            memcpy(st->buf[j], (const char *)a->in[st->first + j]->data + (size_t)b * st->state_bytes[j],
                   st->state_bytes[j]);
        for (int64_t t = 0; t < st->len; t++) {
            for (int j = 0; j < ni; j++)
                move_slice(st, &st->in[j], a->in[st->first + ns + j]->data, st->buf[MAX_VALUES + j], b, t, true);
            for (int j = 0; j < ni; j++) st->args[ns + j].data = st->buf[MAX_VALUES + j];
            lc_status s = lc_executor_run(st->body, st->args, ns + ni);
            if (s) return lc_fail_prefix(s, "body, slice %lld", (long long)t);
            for (int j = 0; j < ns; j++) lc_cf_copy_output(st->buf[j], st->body, j, st->state_bytes[j]);
            for (int k = 0; k < st->n_scan_out; k++) {
                lc_value *y = a->out[ns + k];
                if (!y) continue;
                lc_array o;
                lc_executor_output(st->body, ns + k, &o, NULL);
                move_slice(st, &st->out[k], y->data, (char *)o.data, b, t, false);
            }
        }
        for (int j = 0; j < ns; j++)
            if (a->out[j]) memcpy((char *)a->out[j]->data + (size_t)b * st->state_bytes[j], st->buf[j], st->state_bytes[j]);
    }
    return LC_OK;
}

/* sequence_lens */
const lc_kernel lc_kernel_Scan_8 = {"Scan", 8, 2, LC_OPF_OPTIONAL_INPUT(0), prepare, run, scan_free, NULL};
const lc_kernel lc_kernel_Scan_9 = {"Scan", 9, 1, 0, prepare, run, scan_free, NULL};
