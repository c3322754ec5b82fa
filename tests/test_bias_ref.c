/* Bias correction without a copy of the model (lc_bias_ref): what it
 * collects before the pass gives the correction it gave with a copy of the
 * model before, through both entry points the pipeline uses, and a weight
 * change the fingerprint must see is seen. Values are checked against the
 * definition (the layer's output channel means on the calibration data,
 * measured independently through the executor's observer). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"
#include "lc_testutil.h"

static lc_context *calib_ctx(lc_dataset **d, float **data, int64_t n)
{
    const int64_t dims[4] = {n, 1, 28, 28};
    rnd_seed(99);
    *data = rnd_array(n * 28 * 28);
    for (int64_t i = 0; i < n * 28 * 28; i++) (*data)[i] = fabsf((*data)[i]); /* image-like: non-negative */
    ck_assert_int_eq(lc_dataset_create("calib", 4, dims, *data, d), LC_OK);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, *d, 0);
    lc_context_set_batch(ctx, 32);
    return ctx;
}

START_TEST(collected_reference_equals_copy)
{
    /* 70 samples: the gate (>= 64) compares outputs with the reference too */
    lc_dataset *d;
    float *data;
    lc_context *ctx = calib_ctx(&d, &data, 70);
    lc_model *orig = load_zoo("lenet300.onnx");
    const lc_pass *p = lc_pass_find("prune-magnitude");
    ck_assert_ptr_nonnull(p);
    lc_params pv, none;
    ck_assert_int_eq(lc_params_init(&pv, p->name, p->params, p->n_params), LC_OK);
    ck_assert_int_eq(lc_params_parse(&pv, "sparsity=0.6,correct=bias"), LC_OK);
    ck_assert_int_eq(lc_params_init(&none, p->name, p->params, p->n_params), LC_OK);
    ck_assert_int_eq(lc_params_parse(&none, "sparsity=0.6,correct=none"), LC_OK);
    lc_model *a = NULL, *b = NULL, *c = NULL, *plain = NULL;
    ck_assert_int_eq(lc_model_clone(orig, &a), LC_OK);
    ck_assert_int_eq(lc_model_clone(orig, &b), LC_OK);
    ck_assert_int_eq(lc_model_clone(orig, &c), LC_OK);
    ck_assert_int_eq(lc_model_clone(orig, &plain), LC_OK);
    /* a: statistics collected before the pass; b: the source read after it;
       c: the pass uncorrected, then lc_correct_bias against the original */
    ck_assert_int_eq(lc_pass_run_params(a, p, &pv, ctx), LC_OK);
    ck_assert_int_eq(lc_pass_run_copy(b, orig, p, &pv, ctx), LC_OK);
    ck_assert_int_eq(lc_pass_run_params(c, p, &none, ctx), LC_OK);
    ck_assert_int_eq(lc_pass_run_params(plain, p, &none, ctx), LC_OK);
    ck_assert_int_eq(lc_correct_bias(c, orig, ctx), LC_OK);
    ck_assert(inits_equal(a, b));
    ck_assert(inits_equal(a, c));
    ck_assert(!inits_equal(a, plain)); /* the correction did change biases */
    lc_params_clear(&pv);
    lc_params_clear(&none);
    lc_model_free(a);
    lc_model_free(b);
    lc_model_free(c);
    lc_model_free(plain);
    lc_model_free(orig);
    lc_context_free(ctx);
    lc_dataset_free(d);
    free(data);
}
END_TEST

/* Per-channel means of node `node`'s first output over the data. */
typedef struct means {
    int node;
    int64_t ch, count;
    double sum[512];
} means;

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                         const lc_value *const *out)
{
    (void)node, (void)n_in, (void)in, (void)n_out;
    means *mm = user;
    if (node_index != mm->node) return LC_OK;
    const lc_value *y = out[0];
    ck_assert_int_eq(y->ndim, 2);
    mm->ch = y->dims[1];
    ck_assert_int_le(mm->ch, 512);
    const float *v = y->data;
    for (int64_t r = 0; r < y->dims[0]; r++)
        for (int64_t c = 0; c < mm->ch; c++) mm->sum[c] += v[r * mm->ch + c];
    mm->count += y->dims[0];
    return LC_OK;
}

START_TEST(changed_weight_is_seen_and_corrected)
{
    /* 40 samples: no gate, the correction always applies */
    lc_dataset *d;
    float *data;
    lc_context *ctx = calib_ctx(&d, &data, 40);
    lc_model *orig = load_zoo("lenet300.onnx"), *m = NULL;
    ck_assert_int_eq(lc_model_clone(orig, &m), LC_OK);
    /* the second Gemm: one weight moved (the rest of the model as it was) */
    int layer = -1, seen = 0;
    for (int i = 0; i < m->graph->n_nodes && layer < 0; i++)
        if (!strcmp(m->graph->nodes[i]->op_type, "Gemm") && ++seen == 2) layer = i;
    ck_assert_int_ge(layer, 0);
    lc_tensor *w = lc_graph_init(m->graph, m->graph->nodes[layer]->inputs[1]);
    ck_assert_ptr_nonnull(w);
    ((float *)w->data)[17] += 0.75f;
    lc_bias_ref *ref = NULL;
    ck_assert_int_eq(lc_bias_ref_collect(orig, ctx, &ref), LC_OK);
    ck_assert_int_eq(lc_correct_bias_ref(m, ref, ctx), LC_OK);
    lc_bias_ref_free(ref);
    /* only that layer's bias moved */
    for (int i = 0; i < m->graph->n_nodes; i++) {
        const lc_node *n = m->graph->nodes[i];
        if (strcmp(n->op_type, "Gemm")) continue;
        const lc_tensor *b = lc_graph_init(m->graph, n->inputs[2]), *b0 = lc_graph_init(orig->graph, n->inputs[2]);
        ck_assert_ptr_nonnull(b);
        ck_assert_ptr_nonnull(b0);
        ck_assert_int_eq(memcmp(b->data, b0->data, b->nbytes) == 0, i != layer);
    }
    /* and its output channel means are the original model's again */
    means want = {.node = layer}, got = {.node = layer};
    ck_assert_int_eq(lc_calib_run(orig, ctx, observe, &want), LC_OK);
    ck_assert_int_eq(lc_calib_run(m, ctx, observe, &got), LC_OK);
    ck_assert_int_eq(want.count, got.count);
    for (int64_t c = 0; c < want.ch; c++)
        ck_assert_double_eq_tol(got.sum[c] / (double)got.count, want.sum[c] / (double)want.count, 1e-4);
    lc_model_free(m);
    lc_model_free(orig);
    lc_context_free(ctx);
    lc_dataset_free(d);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bias_ref");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, collected_reference_equals_copy);
    tcase_add_test(tc, changed_weight_is_seen_and_corrected);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
