/* prune-structured on tiny hand-built graphs whose expected result is
 * written out by hand: which filters go (by L1 norm or |gamma|), the sliced
 * consumer weights, what must be left alone (a Sigmoid between layers, a
 * grouped Conv, a graph output, quantized weights), ratio limits, value_info
 * updates and sparsity masks carried through the slicing. The cross-check
 * against numpy/ONNX Runtime on real models is structured_crosscheck.py. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* ---- a tiny IR builder ---- */

static void type_set(lc_type *t, int ndim, const int64_t *dims)
{
    t->kind = LC_TYPE_TENSOR;
    t->elem_type = LC_DTYPE_FLOAT;
    t->has_shape = true;
    t->ndim = ndim;
    t->dims = calloc((size_t)ndim, sizeof *t->dims);
    for (int d = 0; d < ndim; d++) t->dims[d] = (lc_dim){LC_DIM_VALUE, dims[d], NULL, NULL};
}

static void add_vi(lc_value_info **arr, int *n, const char *name, int ndim, const int64_t *dims)
{
    *arr = realloc(*arr, (size_t)(*n + 1) * sizeof **arr);
    lc_value_info *v = &(*arr)[(*n)++];
    memset(v, 0, sizeof *v);
    v->name = lc_strdup(name);
    type_set(&v->type, ndim, dims);
}

static lc_node *add_node(lc_model *m, const char *name, const char *op, const char *ins, const char *out)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes), LC_OK);
    lc_node *n = calloc(1, sizeof *n);
    n->name = lc_strdup(name);
    n->op_type = lc_strdup(op);
    n->domain = lc_strdup("");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ins);
    n->inputs = calloc(8, sizeof *n->inputs);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) n->inputs[n->n_inputs++] = lc_strdup(tok);
    n->n_outputs = 1;
    n->outputs = calloc(1, sizeof *n->outputs);
    n->outputs[0] = lc_strdup(out);
    g->nodes[g->n_nodes++] = n;
    return n;
}

static void set_attr_int(lc_node *n, const char *name, int64_t v)
{
    n->attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    lc_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = lc_strdup(name);
    a->type = LC_ATTR_INT;
    a->i = v;
}

static lc_tensor *add_init(lc_model *m, const char *name, int ndim, const int64_t *dims, const float *v)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits), LC_OK);
    lc_tensor *t = lc_tensor_new(name, LC_DTYPE_FLOAT, ndim, dims);
    ck_assert_int_eq(lc_tensor_alloc_data(t), LC_OK);
    memcpy(t->data, v, t->nbytes);
    g->inits[g->n_inits++] = t;
    return t;
}

static lc_tensor *init(lc_model *m, const char *name)
{
    lc_tensor *t = lc_graph_init(m->graph, name);
    ck_assert_ptr_nonnull(t);
    return t;
}

static void expect_dims(lc_model *m, const char *name, int ndim, const int64_t *dims)
{
    lc_tensor *t = init(m, name);
    ck_assert_int_eq(t->ndim, ndim);
    for (int d = 0; d < ndim; d++) ck_assert_msg(t->dims[d] == dims[d], "%s dim %d: %lld, expected %lld", name, d, (long long)t->dims[d], (long long)dims[d]);
}

static void expect_values(lc_model *m, const char *name, int n, const float *v)
{
    lc_tensor *t = init(m, name);
    ck_assert_int_eq(lc_tensor_numel(t), n);
    for (int i = 0; i < n; i++) ck_assert_msg(((float *)t->data)[i] == v[i], "%s[%d] = %g, expected %g", name, i, ((float *)t->data)[i], v[i]);
}

/* x[1,2,4,4] -> conv1 (W1 [4,2,1,1], B1) -> ACT -> conv2 (W2 [3,4,1,1]) -> y.
 * Filter L1 norms of conv1: 2, 0.2, 3, 0.7. */
static lc_model *two_convs(const char *act)
{
    lc_model *m = empty_model("t", 13);
    add_vi(&m->graph->inputs, &m->graph->n_inputs, "x", 4, (int64_t[]){1, 2, 4, 4});
    add_vi(&m->graph->outputs, &m->graph->n_outputs, "y", 4, (int64_t[]){1, 3, 4, 4});
    add_init(m, "W1", 4, (int64_t[]){4, 2, 1, 1}, (float[]){1, -1, 0.1f, 0.1f, 3, 0, 0.5f, -0.2f});
    add_init(m, "B1", 1, (int64_t[]){4}, (float[]){0.1f, 0.2f, 0.3f, 0.4f});
    add_init(m, "W2", 4, (int64_t[]){3, 4, 1, 1}, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    add_node(m, "conv1", "Conv", "x W1 B1", "h");
    add_node(m, "act", act, "h", "a");
    add_node(m, "conv2", "Conv", "a W2", "y");
    return m;
}

static void run_pass(lc_model *m, const char *params)
{
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_status s = lc_pass_run(m, "prune-structured", params, ctx);
    ck_assert_msg(s == LC_OK, "%s", lc_last_error());
    lc_context_free(ctx);
}

START_TEST(test_l1_removes_smallest_filters)
{
    lc_model *m = two_convs("Relu");
    add_vi(&m->graph->value_info, &m->graph->n_value_info, "h", 4, (int64_t[]){1, 4, 4, 4});
    add_vi(&m->graph->value_info, &m->graph->n_value_info, "a", 4, (int64_t[]){1, 4, 4, 4});
    m->graph->value_info[1].type.dims[1] = (lc_dim){LC_DIM_PARAM, 0, lc_strdup("C"), NULL};
    run_pass(m, "ratio=0.5,correct=none");
    /* filters 1 (L1 0.2) and 3 (L1 0.7) go */
    expect_values(m, "W1", 4, (float[]){1, -1, 3, 0});
    expect_values(m, "B1", 2, (float[]){0.1f, 0.3f});
    expect_dims(m, "W2", 4, (int64_t[]){3, 2, 1, 1});
    expect_values(m, "W2", 6, (float[]){1, 3, 5, 7, 9, 11});
    /* value_info: the fixed channel count updated, the symbolic one dropped */
    ck_assert_int_eq(m->graph->n_value_info, 1);
    ck_assert_str_eq(m->graph->value_info[0].name, "h");
    ck_assert_int_eq(m->graph->value_info[0].type.dims[1].value, 2);
    lc_model_free(m);
}
END_TEST

START_TEST(test_not_followed_left_alone)
{
    /* Sigmoid(0) = 0.5: a removed channel would still feed conv2 */
    const char *ops[] = {"Sigmoid", "Softplus", "Exp"};
    for (int i = 0; i < 3; i++) {
        lc_model *m = two_convs(ops[i]);
        run_pass(m, "ratio=0.5,correct=none");
        expect_dims(m, "W1", 4, (int64_t[]){4, 2, 1, 1});
        expect_dims(m, "W2", 4, (int64_t[]){3, 4, 1, 1});
        lc_model_free(m);
    }
    /* a grouped (not depthwise) consumer */
    lc_model *m = two_convs("Relu");
    lc_tensor *w2 = init(m, "W2");
    w2->dims[0] = 2, w2->dims[1] = 2, w2->dims[2] = 1, w2->dims[3] = 2; /* [2,2,1,2]: 8 of the 12 floats */
    w2->nbytes = 8 * sizeof(float);
    m->graph->outputs[0].type.dims[1].value = 2;
    m->graph->outputs[0].type.dims[3].value = 3;
    set_attr_int(m->graph->nodes[2], "group", 2);
    run_pass(m, "ratio=0.5,correct=none");
    expect_dims(m, "W1", 4, (int64_t[]){4, 2, 1, 1});
    lc_model_free(m);
}
END_TEST

START_TEST(test_ratio_limits)
{
    lc_model *m = two_convs("Relu");
    run_pass(m, "ratio=0,correct=none");
    expect_values(m, "W1", 8, (float[]){1, -1, 0.1f, 0.1f, 3, 0, 0.5f, -0.2f});
    lc_model_free(m);
    /* floor(0.95 * 4) = 3 removed: only the largest filter (L1 3) stays */
    m = two_convs("LeakyRelu");
    run_pass(m, "ratio=0.95,correct=none");
    expect_values(m, "W1", 2, (float[]){3, 0});
    expect_values(m, "W2", 3, (float[]){3, 7, 11});
    expect_dims(m, "W2", 4, (int64_t[]){3, 1, 1, 1});
    lc_model_free(m);
    /* excluded: nothing changes */
    m = two_convs("Relu");
    run_pass(m, "ratio=0.5,correct=none,exclude=conv1");
    expect_dims(m, "W1", 4, (int64_t[]){4, 2, 1, 1});
    lc_model_free(m);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    m = two_convs("Relu");
    ck_assert_int_eq(lc_pass_run(m, "prune-structured", "ratio=0.96", ctx), LC_ERR_PARAMETER);
    ck_assert_int_eq(lc_pass_run(m, "prune-structured", "criterion=l3", ctx), LC_ERR_PARAMETER);
    lc_model_free(m);
    lc_context_free(ctx);
}
END_TEST

START_TEST(test_bn_gamma_and_residual)
{
    /* conv1 -> BN (gamma 0.1, -2, 0.5, 1) -> Relu -> Add with conv3 (same
     * 4 channels, a residual tie) -> Relu -> conv2. bn-gamma ranks conv1's
     * channels by |gamma|; conv3 (no BN on its own path, but tied) follows. */
    lc_model *m = empty_model("t", 13);
    add_vi(&m->graph->inputs, &m->graph->n_inputs, "x", 4, (int64_t[]){1, 2, 4, 4});
    add_vi(&m->graph->outputs, &m->graph->n_outputs, "y", 4, (int64_t[]){1, 3, 4, 4});
    add_init(m, "W1", 4, (int64_t[]){4, 2, 1, 1}, (float[]){1, 1, 1, 1, 1, 1, 1, 1});
    add_init(m, "W3", 4, (int64_t[]){4, 2, 1, 1}, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    add_init(m, "g", 1, (int64_t[]){4}, (float[]){0.1f, -2, 0.5f, 1});
    add_init(m, "b", 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    add_init(m, "mu", 1, (int64_t[]){4}, (float[]){5, 6, 7, 8});
    add_init(m, "var", 1, (int64_t[]){4}, (float[]){1, 1, 2, 2});
    add_init(m, "W2", 4, (int64_t[]){3, 4, 1, 1}, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    add_node(m, "conv1", "Conv", "x W1", "h");
    add_node(m, "bn", "BatchNormalization", "h g b mu var", "n");
    add_node(m, "r", "Relu", "n", "a");
    add_node(m, "conv3", "Conv", "x W3", "k");
    add_node(m, "add", "Add", "a k", "s");
    add_node(m, "r2", "Relu", "s", "t");
    add_node(m, "conv2", "Conv", "t W2", "y");
    run_pass(m, "ratio=0.5,criterion=bn-gamma,correct=none");
    expect_values(m, "g", 2, (float[]){-2, 1});
    expect_values(m, "var", 2, (float[]){1, 2});
    expect_values(m, "W3", 4, (float[]){3, 4, 7, 8});
    expect_values(m, "W2", 6, (float[]){2, 4, 6, 8, 10, 12});
    lc_model_free(m);
}
END_TEST

START_TEST(test_masks_and_quantized)
{
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    /* a magnitude mask is sliced with the values (lc_pass_run verifies the
     * encodings afterwards) */
    lc_model *m = two_convs("Relu");
    ck_assert_int_eq(lc_pass_run(m, "prune-magnitude", "sparsity=0.25,correct=none", ctx), LC_OK);
    ck_assert_int_eq(lc_pass_run(m, "prune-structured", "ratio=0.5,correct=none", ctx), LC_OK);
    lc_tensor *w2 = init(m, "W2");
    ck_assert_int_eq(lc_tensor_numel(w2), 6);
    ck_assert_ptr_nonnull(w2->enc);
    for (int i = 0; i < 6; i++) ck_assert_int_eq(w2->enc->mask[i], ((float *)w2->data)[i] != 0);
    lc_model_free(m);
    /* quantized weights are not sliced: the layers are left alone */
    m = two_convs("Relu");
    ck_assert_int_eq(lc_pass_run(m, "quantize-kmeans", "bits=2,correct=none", ctx), LC_OK);
    ck_assert_int_eq(lc_pass_run(m, "prune-structured", "ratio=0.5,correct=none", ctx), LC_OK);
    expect_dims(m, "W1", 4, (int64_t[]){4, 2, 1, 1});
    expect_dims(m, "W2", 4, (int64_t[]){3, 4, 1, 1});
    lc_model_free(m);
    lc_context_free(ctx);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("structured");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_l1_removes_smallest_filters);
    tcase_add_test(tc, test_not_followed_left_alone);
    tcase_add_test(tc, test_ratio_limits);
    tcase_add_test(tc, test_bn_gamma_and_residual);
    tcase_add_test(tc, test_masks_and_quantized);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
