/* Executor: ordering, constant folding, buffer reuse, errors. Graphs are
 * built in C with data-movement ops (Transpose, Reshape, Concat, ...), so
 * every expected output is computed exactly by a brute-force oracle here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_exec.h"
#include "lc_testutil.h"

/* ---- a tiny IR builder ---- */

static char **strs(int n, const char *const *v)
{
    char **out = calloc((size_t)(n ? n : 1), sizeof *out);
    for (int i = 0; i < n; i++) out[i] = lc_strdup(v[i]);
    return out;
}

static lc_node *add_node(lc_model *m, const char *name, const char *op, int nin, const char *const *ins, int nout,
                         const char *const *outs)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes), LC_OK);
    lc_node *n = calloc(1, sizeof *n);
    n->name = lc_strdup(name);
    n->op_type = lc_strdup(op);
    n->domain = lc_strdup("");
    n->n_inputs = nin;
    n->inputs = strs(nin, ins);
    n->n_outputs = nout;
    n->outputs = strs(nout, outs);
    g->nodes[g->n_nodes++] = n;
    return n;
}

static void set_type(lc_type *t, int dtype, int ndim, const int64_t *dims)
{
    t->kind = LC_TYPE_TENSOR;
    t->elem_type = dtype;
    t->has_shape = ndim >= 0;
    t->ndim = ndim > 0 ? ndim : 0;
    t->dims = calloc((size_t)(ndim > 0 ? ndim : 1), sizeof *t->dims);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] >= 0) {
            t->dims[i].kind = LC_DIM_VALUE;
            t->dims[i].value = dims[i];
        } else {
            t->dims[i].kind = LC_DIM_PARAM;
            t->dims[i].param = lc_strdup(dims[i] == -1 ? "N" : "M");
        }
    }
}

static void add_input(lc_model *m, const char *name, int dtype, int ndim, const int64_t *dims)
{
    lc_graph *g = m->graph;
    g->inputs = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *g->inputs);
    lc_value_info *vi = &g->inputs[g->n_inputs++];
    memset(vi, 0, sizeof *vi);
    vi->name = lc_strdup(name);
    set_type(&vi->type, dtype, ndim, dims);
}

static void add_output(lc_model *m, const char *name)
{
    lc_graph *g = m->graph;
    g->outputs = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof *g->outputs);
    lc_value_info *vi = &g->outputs[g->n_outputs++];
    memset(vi, 0, sizeof *vi);
    vi->name = lc_strdup(name);
}

static lc_tensor *add_init(lc_model *m, const char *name, int dtype, int ndim, const int64_t *dims, const void *data)
{
    lc_graph *g = m->graph;
    lc_tensor *t = NULL;
    ck_assert_int_eq(lc_tensor_create(name, dtype, ndim, dims, data, &t), LC_OK);
    ck_assert_int_eq(lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits), LC_OK);
    g->inits[g->n_inits++] = t;
    return t;
}

static lc_array array_of(int dtype, int ndim, const int64_t *dims, const void *data)
{
    lc_array a;
    memset(&a, 0, sizeof a);
    a.dtype = dtype;
    a.ndim = ndim;
    memcpy(a.dims, dims, (size_t)ndim * sizeof *dims);
    a.data = data;
    return a;
}

static void need_kernels(const char *const *ops, int64_t opset)
{
    for (int i = 0; ops[i]; i++) ck_assert_msg(lc_kernel_find(ops[i], opset, NULL), "no kernel for %s", ops[i]);
}

/* Brute-force transpose of a row-major tensor. */
static void transpose_ref(const float *x, int ndim, const int64_t *dims, const int64_t *perm, float *y, int64_t *ydims)
{
    int64_t n = 1, xs[LC_MAX_DIMS], idx[LC_MAX_DIMS] = {0};
    for (int i = 0; i < ndim; i++) ydims[i] = dims[perm[i]], n *= dims[i];
    xs[ndim - 1] = 1;
    for (int i = ndim - 2; i >= 0; i--) xs[i] = xs[i + 1] * dims[i + 1];
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < ndim; i++) off += idx[i] * xs[perm[i]];
        y[k] = x[off];
        for (int i = ndim - 1; i >= 0; i--) {
            if (++idx[i] < ydims[i]) break;
            idx[i] = 0;
        }
    }
}

/* ---- chain: order, reuse, determinism ---- */

#define CHAIN 6
static const int64_t chain_perms[CHAIN][3] = {{1, 0, 2}, {2, 1, 0}, {0, 2, 1}, {1, 2, 0}, {2, 0, 1}, {1, 0, 2}};

/* x[2,3,4] -> Transpose x6 -> y; `reversed` lists the nodes backwards. */
static lc_model *chain_model(bool reversed)
{
    lc_model *m = empty_model("test", 13);
    const int64_t dims[3] = {2, 3, 4};
    add_input(m, "x", LC_DTYPE_FLOAT, 3, dims);
    for (int j = 0; j < CHAIN; j++) {
        int i = reversed ? CHAIN - 1 - j : j;
        char in[16], out[16], name[16];
        snprintf(in, sizeof in, i ? "t%d" : "x", i);
        snprintf(out, sizeof out, i == CHAIN - 1 ? "y" : "t%d", i + 1);
        snprintf(name, sizeof name, "tr%d", i);
        const char *ins[] = {in}, *outs[] = {out};
        attr_ints(add_node(m, name, "Transpose", 1, ins, 1, outs), "perm", 3, chain_perms[i]);
    }
    add_output(m, "y");
    return m;
}

START_TEST(test_chain_sort_and_reuse)
{
    const char *ops[] = {"Transpose", NULL};
    need_kernels(ops, 13);
    float x[24], ref[24], tmp[24];
    int64_t dims[3] = {2, 3, 4}, rdims[3];
    for (int i = 0; i < 24; i++) x[i] = (float)(i * 7 % 24) - 3.5f;
    memcpy(tmp, x, sizeof x);
    for (int i = 0; i < CHAIN; i++) {
        transpose_ref(tmp, 3, dims, chain_perms[i], ref, rdims);
        memcpy(tmp, ref, sizeof ref);
        memcpy(dims, rdims, sizeof dims);
    }
    for (int rev = 0; rev < 2; rev++) {
        lc_model *m = chain_model(rev);
        lc_executor *ex = NULL;
        ck_assert_int_eq(lc_executor_create_batch(m, 2, 1, &ex), LC_OK);
        const int64_t xd[3] = {2, 3, 4};
        lc_array in = array_of(LC_DTYPE_FLOAT, 3, xd, x), out;
        ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
        ck_assert_int_eq(lc_executor_output(ex, 0, &out, NULL), LC_OK);
        ck_assert_int_eq(out.ndim, 3);
        for (int d = 0; d < 3; d++) ck_assert_int_eq(out.dims[d], dims[d]);
        ck_assert_mem_eq(out.data, ref, sizeof ref);
        /* Five 96-byte intermediates alternate between two buffers. */
        ck_assert_uint_le(lc_executor_buffer_bytes(ex), 2 * 128);
        float first[24];
        memcpy(first, out.data, sizeof first);
        ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
        ck_assert_int_eq(lc_executor_output(ex, 0, &out, NULL), LC_OK);
        ck_assert_mem_eq(out.data, first, sizeof first);
        lc_executor_free(ex);
        lc_model_free(m);
    }
}
END_TEST

/* ---- diamond: a value that stays alive across a branch ---- */

START_TEST(test_diamond)
{
    const char *ops[] = {"Transpose", "Concat", NULL};
    need_kernels(ops, 13);
    lc_model *m = empty_model("test", 13);
    const int64_t dims[2] = {3, 3}, p10[2] = {1, 0};
    add_input(m, "x", LC_DTYPE_FLOAT, 2, dims);
    const char *n1i[] = {"x"}, *n1o[] = {"a"};
    attr_ints(add_node(m, "a", "Transpose", 1, n1i, 1, n1o), "perm", 2, p10);
    /* a -> b -> c -> d while a waits for the Concat. */
    const char *seq[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 3; i++) {
        const char *ii[] = {seq[i]}, *oo[] = {seq[i + 1]};
        attr_ints(add_node(m, seq[i + 1], "Transpose", 1, ii, 1, oo), "perm", 2, p10);
    }
    const char *ci[] = {"d", "a", "c"}, *co[] = {"y"};
    attr_int(add_node(m, "cat", "Concat", 3, ci, 1, co), "axis", 0);
    add_output(m, "y");

    float x[9], ref[27];
    for (int i = 0; i < 9; i++) x[i] = (float)i + 0.25f;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            ref[r * 3 + c] = x[r * 3 + c];      /* d = x^T^T^T^T = x */
            ref[9 + r * 3 + c] = x[c * 3 + r];  /* a = x^T */
            ref[18 + r * 3 + c] = x[c * 3 + r]; /* c = x^T^T^T */
        }
    lc_array in = array_of(LC_DTYPE_FLOAT, 2, dims, x), out;
    lc_executor *ex = NULL;
    ck_assert_int_eq(lc_executor_create(m, &in, 1, 2, &ex), LC_OK);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
    ck_assert_int_eq(lc_executor_output(ex, 0, &out, NULL), LC_OK);
    ck_assert_int_eq(out.ndim, 2);
    ck_assert_int_eq(out.dims[0], 9);
    ck_assert_int_eq(out.dims[1], 3);
    ck_assert_mem_eq(out.data, ref, sizeof ref);
    /* a, c, d are live together at the Concat; b is reused. */
    ck_assert_uint_le(lc_executor_buffer_bytes(ex), 3 * 64);
    lc_executor_free(ex);
    lc_model_free(m);
}
END_TEST

/* ---- constant folding ---- */

typedef struct observed {
    int calls;
    int last_node;
    int abort_at;
} observed;

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                         int n_out, const lc_value *const *out)
{
    observed *o = user;
    (void)node;
    (void)in;
    ck_assert_int_ge(n_in, 1);
    ck_assert_int_ge(n_out, 1);
    ck_assert_ptr_nonnull(out[0]->data);
    o->calls++;
    o->last_node = node_index;
    if (o->abort_at >= 0 && o->calls > o->abort_at) return lc_fail(LC_ERR_PARAMETER, "observer stops");
    return LC_OK;
}

START_TEST(test_constant_folding)
{
    const char *ops[] = {"Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Transpose", NULL};
    need_kernels(ops, 13);
    lc_model *m = empty_model("test", 13);
    const int64_t dims[3] = {-1, 3, 4}, zero = 0, minus1 = -1, one = 1, wd[2] = {2, 3};
    const float w[6] = {1, 2, 3, 4, 5, 6};
    add_input(m, "x", LC_DTYPE_FLOAT, 3, dims);
    add_init(m, "zero", LC_DTYPE_INT64, 0, NULL, &zero);
    add_init(m, "minus1", LC_DTYPE_INT64, 1, &one, &minus1);
    add_init(m, "axes0", LC_DTYPE_INT64, 1, &one, &zero);
    add_init(m, "W", LC_DTYPE_FLOAT, 2, wd, w);
    /* y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): [N, 12] */
    const char *i0[] = {"x"}, *o0[] = {"shape"};
    add_node(m, "shape", "Shape", 1, i0, 1, o0);
    const char *i1[] = {"shape", "zero"}, *o1[] = {"n"};
    attr_int(add_node(m, "gather", "Gather", 2, i1, 1, o1), "axis", 0);
    const char *i2[] = {"n", "axes0"}, *o2[] = {"n1"};
    add_node(m, "unsq", "Unsqueeze", 2, i2, 1, o2);
    const char *i3[] = {"n1", "minus1"}, *o3[] = {"newshape"};
    attr_int(add_node(m, "cat", "Concat", 2, i3, 1, o3), "axis", 0);
    const char *i4[] = {"x", "newshape"}, *o4[] = {"y"};
    add_node(m, "reshape", "Reshape", 2, i4, 1, o4);
    /* A weight-only branch folds too: wt = W^T. */
    const char *i5[] = {"W"}, *o5[] = {"wt"};
    add_node(m, "wt", "Transpose", 1, i5, 1, o5);
    add_output(m, "y");
    add_output(m, "wt");
    add_output(m, "x"); /* a graph input that is also an output */
    add_output(m, "W"); /* an initializer that is also an output */

    lc_executor *ex = NULL;
    ck_assert_int_eq(lc_executor_create_batch(m, 5, 1, &ex), LC_OK);
    for (int i = 0; i < 4; i++) ck_assert_msg(lc_executor_node_folded(ex, i), "node %d not folded", i);
    ck_assert(!lc_executor_node_folded(ex, 4));
    ck_assert(lc_executor_node_folded(ex, 5));
    ck_assert_int_eq(lc_executor_node_count(ex), 6);
    ck_assert_str_eq(lc_executor_node(ex, 4)->op_type, "Reshape");
    ck_assert_ptr_null(lc_executor_node(ex, 6));
    const lc_value *ns = lc_executor_value(ex, "newshape");
    ck_assert_ptr_nonnull(ns);
    ck_assert(ns->is_const);
    ck_assert_int_eq(((const int64_t *)ns->data)[0], 5);
    ck_assert_int_eq(((const int64_t *)ns->data)[1], -1);

    observed ob = {0, -1, -1};
    lc_executor_set_observer(ex, observe, &ob);
    float x[60];
    for (int i = 0; i < 60; i++) x[i] = (float)i * 0.5f;
    const int64_t xd[3] = {5, 3, 4};
    lc_array in = array_of(LC_DTYPE_FLOAT, 3, xd, x), out;
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
    ck_assert_int_eq(ob.calls, 1);
    ck_assert_int_eq(ob.last_node, 4);
    ck_assert_int_eq(lc_executor_output_count(ex), 4);
    const char *name;
    ck_assert_int_eq(lc_executor_output(ex, 0, &out, &name), LC_OK);
    ck_assert_str_eq(name, "y");
    ck_assert_int_eq(out.ndim, 2);
    ck_assert_int_eq(out.dims[0], 5);
    ck_assert_int_eq(out.dims[1], 12);
    ck_assert_mem_eq(out.data, x, sizeof x);
    ck_assert_int_eq(lc_executor_output(ex, 1, &out, &name), LC_OK);
    const float wt[6] = {1, 4, 2, 5, 3, 6};
    ck_assert_int_eq(out.dims[0], 3);
    ck_assert_mem_eq(out.data, wt, sizeof wt);
    ck_assert_int_eq(lc_executor_output(ex, 2, &out, &name), LC_OK);
    ck_assert_str_eq(name, "x");
    ck_assert_mem_eq(out.data, x, sizeof x);
    ck_assert_ptr_ne(out.data, x); /* copied: stays valid after the caller's buffer */
    ck_assert_int_eq(lc_executor_output(ex, 3, &out, &name), LC_OK);
    ck_assert_str_eq(name, "W");
    ck_assert_ptr_eq(out.data, lc_graph_init(m->graph, "W")->data); /* weights are read in place */

    /* An observer's failure aborts the run with its status. */
    ob.abort_at = 0;
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_ERR_PARAMETER);
    ck_assert_str_eq(lc_last_error(), "observer stops");
    lc_executor_free(ex);
    lc_model_free(m);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_unsupported_messages)
{
    const int64_t dims[1] = {4};
    lc_array shape = array_of(LC_DTYPE_FLOAT, 1, dims, NULL);
    lc_executor *ex = (lc_executor *)&ex; /* must be reset to NULL */

    lc_model *m = empty_model("test", 13);
    add_input(m, "x", LC_DTYPE_FLOAT, 1, dims);
    const char *in[] = {"x"}, *out[] = {"y"};
    add_node(m, "mystery", "NoSuchOp", 1, in, 1, out);
    add_output(m, "y");
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ex);
    ck_assert_msg(strstr(lc_last_error(), "node 'mystery' (NoSuchOp, opset 13)"), "%s", lc_last_error());
    lc_model_free(m);

    /* Range exists from opset 11 on. */
    ck_assert_ptr_nonnull(lc_kernel_find("Range", 11, NULL));
    m = empty_model("test", 9);
    add_init(m, "a", LC_DTYPE_FLOAT, 0, NULL, (const float[]){0});
    add_init(m, "b", LC_DTYPE_FLOAT, 0, NULL, (const float[]){4});
    add_init(m, "c", LC_DTYPE_FLOAT, 0, NULL, (const float[]){1});
    const char *ri[] = {"a", "b", "c"}, *ro[] = {"r"};
    add_node(m, "range", "Range", 3, ri, 1, ro);
    add_output(m, "r");
    ck_assert_int_eq(lc_executor_create(m, NULL, 0, 1, &ex), LC_ERR_UNSUPPORTED);
    const char *msg = lc_last_error();
    ck_assert_msg(strstr(msg, "node 'range' (Range, opset 9)") && strstr(msg, "11"), "%s", msg);
    lc_model_free(m);

    /* Other domains. */
    m = empty_model("test", 13);
    add_input(m, "x", LC_DTYPE_FLOAT, 1, dims);
    lc_node *n = add_node(m, "ms", "Transpose", 1, in, 1, out);
    free(n->domain);
    n->domain = lc_strdup("com.example");
    add_output(m, "y");
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(lc_last_error(), "node 'ms' (Transpose, domain 'com.example')"), "%s", lc_last_error());
    lc_model_free(m);

    /* A kernel refusing a dtype: Conv on int32. */
    if (lc_kernel_find("Conv", 13, NULL)) {
        m = empty_model("test", 13);
        const int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 1, 1};
        add_input(m, "x", LC_DTYPE_INT32, 4, xd);
        add_init(m, "w", LC_DTYPE_INT32, 4, wd, (const int32_t[]){2});
        const char *ci[] = {"x", "w"};
        add_node(m, "conv1", "Conv", 2, ci, 1, out);
        add_output(m, "y");
        lc_array s4 = array_of(LC_DTYPE_INT32, 4, xd, NULL);
        ck_assert_int_eq(lc_executor_create(m, &s4, 1, 1, &ex), LC_ERR_UNSUPPORTED);
        msg = lc_last_error();
        ck_assert_msg(strstr(msg, "node 'conv1' (Conv, opset 13)") && strstr(msg, "int32"), "%s", msg);
        lc_model_free(m);
    }
}
END_TEST

/* A cycle, and a use of an undefined value. */
START_TEST(test_cycle)
{
    lc_model *m = empty_model("test", 13);
    const int64_t dims[1] = {4};
    add_input(m, "x", LC_DTYPE_FLOAT, 1, dims);
    const char *i1[] = {"x", "b"}, *o1[] = {"a"}, *i2[] = {"a"}, *o2[] = {"b"};
    add_node(m, "n1", "Concat", 2, i1, 1, o1);
    add_node(m, "n2", "Transpose", 1, i2, 1, o2);
    add_output(m, "b");
    lc_array shape = array_of(LC_DTYPE_FLOAT, 1, dims, NULL);
    lc_executor *ex = NULL;
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_ERR_VERIFY);
    ck_assert_msg(strstr(lc_last_error(), "cycle"), "%s", lc_last_error());
    ck_assert_ptr_null(ex);
    lc_model_free(m);

    /* An input nobody defines (a model built in memory, never verified). */
    m = empty_model("test", 13);
    add_input(m, "x", LC_DTYPE_FLOAT, 1, dims);
    const char *i3[] = {"nowhere"}, *o3[] = {"y"};
    add_node(m, "lost", "Transpose", 1, i3, 1, o3);
    add_output(m, "y");
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_ERR_VERIFY);
    ck_assert_msg(strstr(lc_last_error(), "node 'lost'") && strstr(lc_last_error(), "'nowhere'"), "%s", lc_last_error());
    lc_model_free(m);
}
END_TEST

START_TEST(test_run_checks_inputs)
{
    const char *ops[] = {"Transpose", NULL};
    need_kernels(ops, 13);
    lc_model *m = chain_model(false);
    lc_executor *ex = NULL;
    const int64_t good[3] = {2, 3, 4}, bad[3] = {2, 4, 3};
    float x[24] = {0};
    int32_t xi[24] = {0};
    lc_array shape = array_of(LC_DTYPE_FLOAT, 3, good, NULL);
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_OK);
    ck_assert_int_eq(lc_executor_input_count(ex), 1);
    lc_array got;
    const char *name;
    ck_assert_int_eq(lc_executor_input(ex, 0, &got, &name), LC_OK);
    ck_assert_str_eq(name, "x");
    ck_assert_int_eq(got.dims[2], 4);
    ck_assert_int_eq(lc_executor_input(ex, 1, &got, &name), LC_ERR_INVALID_ARGUMENT);

    lc_array in = array_of(LC_DTYPE_FLOAT, 3, bad, x);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_ERR_SHAPE);
    ck_assert_msg(strstr(lc_last_error(), "'x'") && strstr(lc_last_error(), "2x4x3"), "%s", lc_last_error());
    in = array_of(LC_DTYPE_FLOAT, 2, good, x);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_ERR_SHAPE);
    in = array_of(LC_DTYPE_INT32, 3, good, xi);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_ERR_DTYPE);
    ck_assert_int_eq(lc_executor_run(ex, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    in = array_of(LC_DTYPE_FLOAT, 3, good, x);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
    lc_executor_free(ex);

    /* Planning with the wrong count or dtype of inputs. */
    ck_assert_int_eq(lc_executor_create(m, NULL, 0, 1, &ex), LC_ERR_INVALID_ARGUMENT);
    shape.dtype = LC_DTYPE_INT32;
    ck_assert_int_eq(lc_executor_create(m, &shape, 1, 1, &ex), LC_ERR_DTYPE);
    lc_model_free(m);
}
END_TEST

START_TEST(test_create_batch_symbolic)
{
    lc_model *m = empty_model("test", 13);
    const int64_t dims[3] = {-1, -2, 4};
    add_input(m, "img", LC_DTYPE_FLOAT, 3, dims);
    const char *in[] = {"img"}, *out[] = {"y"};
    add_node(m, "t", "Transpose", 1, in, 1, out);
    add_output(m, "y");
    lc_executor *ex = NULL;
    ck_assert_int_eq(lc_executor_create_batch(m, 2, 1, &ex), LC_ERR_SHAPE);
    ck_assert_msg(strstr(lc_last_error(), "input 'img'") && strstr(lc_last_error(), "dim 1"), "%s", lc_last_error());
    ck_assert_ptr_null(ex);
    ck_assert_int_eq(lc_executor_create_batch(m, 0, 1, &ex), LC_ERR_INVALID_ARGUMENT);
    lc_model_free(m);
}
END_TEST

/* ---- lc_tensor_load_pb ---- */

static void write_bytes(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

START_TEST(test_tensor_load_pb)
{
    /* TensorProto{dims: [2], data_type: FLOAT, name: "t", raw_data: 1.5f, -2f},
     * encoded by hand: tag (field << 3 | wire type), then the payload. */
    const unsigned char pb[] = {0x08, 0x02,                    /* dims = 2 */
                                0x10, 0x01,                    /* data_type = 1 */
                                0x42, 0x01, 't',               /* name = "t" (field 8) */
                                0x4a, 0x08,                    /* raw_data (field 9), 8 bytes */
                                0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    char dir[] = "/tmp/lc_exec_pbXXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/input_0.pb", dir);
    write_bytes(path, pb, sizeof pb);
    lc_tensor *t = NULL;
    ck_assert_int_eq(lc_tensor_load_pb(path, &t), LC_OK);
    ck_assert_str_eq(lc_tensor_name(t), "t");
    ck_assert_int_eq(lc_tensor_dtype(t), LC_DTYPE_FLOAT);
    ck_assert_int_eq(lc_tensor_ndim(t), 1);
    ck_assert_int_eq(lc_tensor_dims(t)[0], 2);
    const float *v = lc_tensor_data(t);
    ck_assert(v[0] == 1.5f && v[1] == -2.0f);
    lc_tensor_free(t);

    /* Truncated inside raw_data: not a TensorProto. */
    write_bytes(path, pb, sizeof pb - 3);
    ck_assert_int_eq(lc_tensor_load_pb(path, &t), LC_ERR_FORMAT);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(lc_last_error(), path), "%s", lc_last_error());
    /* raw_data shorter than the dims need. */
    unsigned char short_pb[sizeof pb];
    memcpy(short_pb, pb, sizeof pb);
    short_pb[1] = 3;
    write_bytes(path, short_pb, sizeof short_pb);
    ck_assert_int_eq(lc_tensor_load_pb(path, &t), LC_ERR_FORMAT);
    ck_assert_msg(strstr(lc_last_error(), path), "%s", lc_last_error());
    remove(path);
    ck_assert_int_eq(lc_tensor_load_pb(path, &t), LC_ERR_IO);
    ck_assert_msg(strstr(lc_last_error(), path), "%s", lc_last_error());
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("executor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_chain_sort_and_reuse);
    tcase_add_test(tc, test_diamond);
    tcase_add_test(tc, test_constant_folding);
    tcase_add_test(tc, test_unsupported_messages);
    tcase_add_test(tc, test_cycle);
    tcase_add_test(tc, test_run_checks_inputs);
    tcase_add_test(tc, test_create_batch_symbolic);
    tcase_add_test(tc, test_tensor_load_pb);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
