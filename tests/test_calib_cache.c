/* The pipeline's repeated calibration work (issue 18, item 3):
 *   - the calibration cache (lc_calib_cache.h): a run resumed from saved
 *     activations shows its observer the same bits as a run from the
 *     input, it does resume (fewer nodes run), and a changed weight before
 *     the saved point makes it run from the input again; the same for
 *     lc_calib_run_inputs, which stops before the needed node runs;
 *   - prune-hessian and lc_correct_bn with and without the cache give the
 *     same model, bit for bit (resnet8: BatchNorm waves; lenet5: bias
 *     correction);
 *   - with correct=auto (bn_checked) the registry skips the correction
 *     after a prune-hessian whose waves re-estimated every BatchNorm:
 *     applying it again changes nothing;
 *   - the reference's outputs memoized across passes (bn_checked) give the
 *     same model as computed each time, and a stale memo is not used. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lc_calib_cache.h"
#include "lc_exec.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* One run needing only `node`, through ctx; returns what it saw
 * (inputs: lc_calib_run_inputs, else lc_calib_run_nodes). */
static seen_input observe_run(const lc_model *m, const lc_context *ctx, int node, bool inputs)
{
    bool need[256] = {false};
    ck_assert_int_lt(m->graph->n_nodes, 256);
    need[node] = true;
    seen_input s = {.node = node};
    if (inputs) ck_assert_int_eq(lc_calib_run_inputs(m, ctx, record_input, &s, need), LC_OK);
    else ck_assert_int_eq(lc_calib_run_nodes(m, ctx, record_input, &s, need), LC_OK);
    return s;
}

static seen_input observe_node(const lc_model *m, const lc_context *ctx, int node)
{
    return observe_run(m, ctx, node, false);
}

static bool same_seen(const seen_input *a, const seen_input *b)
{
    return a->n == b->n && a->n > 0 && !memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v);
}

/* 70 random samples by 32: batches of 32, 32 and 6 (two plans), and the
 * zoo model `zoo` as the reference. */
typedef struct fixture {
    lc_dataset *d;
    float *data;
    lc_context *ctx;
    lc_model *orig;
} fixture;

static fixture setup(const char *zoo)
{
    fixture f;
    const int64_t dims[4] = {70, 1, 28, 28};
    rnd_seed(7);
    f.data = rnd_array(70 * 28 * 28);
    ck_assert_int_eq(lc_dataset_create("calib", 4, dims, f.data, &f.d), LC_OK);
    ck_assert_int_eq(lc_context_create(&f.ctx), LC_OK);
    lc_context_set_calib(f.ctx, f.d, 0);
    lc_context_set_batch(f.ctx, 32);
    f.orig = load_zoo(zoo);
    lc_context_set_reference(f.ctx, f.orig);
    return f;
}

static void teardown(fixture *f)
{
    lc_model_free(f->orig);
    lc_context_free(f->ctx);
    lc_dataset_free(f->d);
    free(f->data);
}

START_TEST(resumed_runs_see_the_same_bits)
{
    fixture fx = setup("resnet8.onnx");
    lc_context *ctx = fx.ctx;
    lc_model *m = fx.orig;
    lc_calib_cache *cache = NULL;
    ck_assert_int_eq(lc_calib_cache_create(&cache), LC_OK);
    lc_context cached = *ctx;
    cached.calib_cache = cache;
    int conv1 = nth_node(m, "Conv", 1), conv4 = nth_node(m, "Conv", 4), conv2 = nth_node(m, "Conv", 2);
    ck_assert_int_lt(conv1, conv2);
    ck_assert_int_lt(conv2, conv4);

    /* the first cached run runs everything up to its node and saves */
    seen_input a = observe_node(m, &cached, conv1), a0 = observe_node(m, ctx, conv1);
    ck_assert(same_seen(&a, &a0));
    ck_assert_int_eq(a.calls, a0.calls);
    /* the next one resumes before conv1: fewer nodes run, same input seen */
    seen_input b = observe_node(m, &cached, conv4), b0 = observe_node(m, ctx, conv4);
    ck_assert(same_seen(&b, &b0));
    ck_assert_int_lt(b.calls, b0.calls);
    /* again from the saved point before conv4: nothing runs before it */
    seen_input c = observe_node(m, &cached, conv4);
    ck_assert(same_seen(&c, &b0));
    ck_assert_int_lt(c.calls, b.calls);

    /* conv4's own weight comes after the saved point: still resumed */
    lc_tensor *w4 = lc_graph_init(m->graph, m->graph->nodes[conv4]->inputs[1]);
    ((float *)w4->data)[0] += 1.0f;
    seen_input e = observe_node(m, &cached, conv4);
    ck_assert(same_seen(&e, &b0));
    ck_assert_int_eq(e.calls, c.calls);

    /* a weight before it (conv2's) changes conv4's input: the cache sees
     * it and runs from the input, giving what an uncached run gives */
    lc_tensor *w2 = lc_graph_init(m->graph, m->graph->nodes[conv2]->inputs[1]);
    for (int64_t i = 0; i < lc_tensor_numel(w2); i += 3) ((float *)w2->data)[i] = 0.0f;
    seen_input f = observe_node(m, &cached, conv4), f0 = observe_node(m, ctx, conv4);
    ck_assert(same_seen(&f, &f0));
    ck_assert(!same_seen(&f, &b0));
    ck_assert_int_eq(f.calls, b0.calls);
    /* a node before the saved point cannot be served from it */
    seen_input g = observe_node(m, &cached, conv1);
    ck_assert(same_seen(&g, &a0));
    ck_assert_int_eq(g.calls, a0.calls);

    seen_input *all[] = {&a, &a0, &b, &b0, &c, &e, &f, &f0, &g};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]->v);
    lc_calib_cache_free(cache);
    teardown(&fx);
}
END_TEST

/* lc_calib_run_inputs (the Hessian collection's run: observers before each
 * node, stopping before the last needed one) shows the same inputs as
 * lc_calib_run_nodes, from the input and resumed through the cache. */
START_TEST(input_runs_see_the_same_bits)
{
    fixture fx = setup("resnet8.onnx");
    lc_calib_cache *cache = NULL;
    ck_assert_int_eq(lc_calib_cache_create(&cache), LC_OK);
    lc_context cached = *fx.ctx;
    cached.calib_cache = cache;
    int conv1 = nth_node(fx.orig, "Conv", 1), conv4 = nth_node(fx.orig, "Conv", 4);
    seen_input a0 = observe_node(fx.orig, fx.ctx, conv1), b0 = observe_node(fx.orig, fx.ctx, conv4);
    seen_input a = observe_run(fx.orig, fx.ctx, conv1, true), b = observe_run(fx.orig, fx.ctx, conv4, true);
    ck_assert(same_seen(&a, &a0));
    ck_assert(same_seen(&b, &b0));
    /* one call per node up to the needed one, which is seen but not run */
    ck_assert_int_eq(a.calls, a0.calls);
    seen_input c = observe_run(fx.orig, &cached, conv1, true), d = observe_run(fx.orig, &cached, conv4, true);
    seen_input e = observe_run(fx.orig, &cached, conv4, true), f = observe_node(fx.orig, &cached, conv4);
    ck_assert(same_seen(&c, &a0));
    ck_assert(same_seen(&d, &b0));
    ck_assert(same_seen(&e, &b0));
    ck_assert(same_seen(&f, &b0));
    ck_assert_int_lt(d.calls, b.calls);
    /* resumed exactly at the needed node: it is the only call, per batch */
    ck_assert_int_eq(e.calls, 3);
    seen_input *all[] = {&a0, &b0, &a, &b, &c, &d, &e, &f};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]->v);
    lc_calib_cache_free(cache);
    teardown(&fx);
}
END_TEST

static void run_pass(lc_model *m, const char *name, const char *params, const lc_context *ctx)
{
    const lc_pass *p = lc_pass_find(name);
    ck_assert_ptr_nonnull(p);
    lc_params pv;
    ck_assert_int_eq(lc_params_init(&pv, p->name, p->params, p->n_params), LC_OK);
    ck_assert_int_eq(lc_params_parse(&pv, params), LC_OK);
    ck_assert_int_eq(lc_pass_run_params(m, p, &pv, ctx), LC_OK);
    lc_params_clear(&pv);
}

static void pass_same_with_and_without_cache(const char *zoo, const char *params)
{
    fixture fx = setup(zoo);
    lc_model *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_model_clone(fx.orig, &a), LC_OK);
    ck_assert_int_eq(lc_model_clone(fx.orig, &b), LC_OK);
    run_pass(a, "prune-hessian", params, fx.ctx);
    fx.ctx->no_calib_cache = true;
    run_pass(b, "prune-hessian", params, fx.ctx);
    ck_assert(inits_equal(a, b));
    ck_assert(!inits_equal(a, fx.orig));
    lc_model_free(a);
    lc_model_free(b);
    teardown(&fx);
}

START_TEST(prune_hessian_same_without_cache_resnet8)
{
    pass_same_with_and_without_cache("resnet8.onnx", "sparsity=0.6");
}
END_TEST

START_TEST(prune_hessian_same_without_cache_lenet5)
{
    pass_same_with_and_without_cache("lenet5.onnx", "sparsity=0.6,scope=layer");
}
END_TEST

/* lc_correct_bn's waves resume from each other: the same statistics */
START_TEST(correct_bn_same_without_cache)
{
    fixture fx = setup("resnet8.onnx");
    lc_model *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_model_clone(fx.orig, &a), LC_OK);
    run_pass(a, "prune-magnitude", "sparsity=0.7,correct=none", fx.ctx);
    ck_assert_int_eq(lc_model_clone(a, &b), LC_OK);
    ck_assert_int_eq(lc_correct_bn(a, fx.ctx), LC_OK);
    fx.ctx->no_calib_cache = true;
    ck_assert_int_eq(lc_correct_bn(b, fx.ctx), LC_OK);
    ck_assert(inits_equal(a, b));
    lc_model_free(a);
    lc_model_free(b);
    teardown(&fx);
}
END_TEST

START_TEST(skipped_bn_checked_correction_changes_nothing)
{
    fixture fx = setup("resnet8.onnx");
    lc_model *orig = fx.orig, *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_model_clone(orig, &a), LC_OK);
    run_pass(a, "prune-hessian", "sparsity=0.5,correct=auto", fx.ctx);
    /* the pass re-estimated the BatchNorms (their running means moved) */
    const lc_node *bn = orig->graph->nodes[nth_node(orig, "BatchNormalization", 0)];
    const lc_tensor *mu0 = lc_graph_init(orig->graph, bn->inputs[3]), *mu1 = lc_graph_init(a->graph, bn->inputs[3]);
    ck_assert(memcmp(mu0->data, mu1->data, mu0->nbytes) != 0);
    /* what the registry skipped: the checked re-estimation, run again */
    ck_assert_int_eq(lc_model_clone(a, &b), LC_OK);
    ck_assert_int_eq(lc_correction_apply(b, LC_CORRECT_BN_CHECKED, NULL, fx.ctx), LC_OK);
    ck_assert(inits_equal(a, b));
    lc_model_free(a);
    lc_model_free(b);
    teardown(&fx);
}
END_TEST

/* The reference's outputs on the calibration data, memoized for all the
 * passes of a run (ctx->reference_outputs), give the model computed
 * without the memo, also once the memo is filled; a memo filled with
 * another reference's outputs (which would change the outcome) is not used
 * for this one. */
START_TEST(reference_outputs_memo_same_as_computed)
{
    fixture fx = setup("resnet8.onnx");
    const char *params = "bits=2,correct=auto";
    lc_model *want = NULL, *got = NULL, *other = NULL, *got_other = NULL;
    ck_assert_int_eq(lc_model_clone(fx.orig, &want), LC_OK);
    run_pass(want, "quantize-kmeans", params, fx.ctx);
    lc_reference_outputs *memo = lc_reference_outputs_create();
    ck_assert_ptr_nonnull(memo);
    fx.ctx->reference_outputs = memo;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(lc_model_clone(fx.orig, &got), LC_OK);
        run_pass(got, "quantize-kmeans", params, fx.ctx);
        ck_assert(inits_equal(got, want));
        lc_model_free(got);
    }
    /* another reference: its outputs fill the memo, and change the outcome */
    ck_assert_int_eq(lc_model_clone(fx.orig, &other), LC_OK);
    run_pass(other, "prune-magnitude", "sparsity=0.97,correct=none", fx.ctx);
    lc_context_set_reference(fx.ctx, other);
    ck_assert_int_eq(lc_model_clone(fx.orig, &got_other), LC_OK);
    run_pass(got_other, "quantize-kmeans", params, fx.ctx);
    ck_assert(!inits_equal(got_other, want));
    lc_context_set_reference(fx.ctx, fx.orig);
    ck_assert_int_eq(lc_model_clone(fx.orig, &got), LC_OK);
    run_pass(got, "quantize-kmeans", params, fx.ctx);
    ck_assert(inits_equal(got, want));
    fx.ctx->reference_outputs = NULL;
    lc_reference_outputs_free(memo);
    lc_model_free(got);
    lc_model_free(got_other);
    lc_model_free(other);
    lc_model_free(want);
    teardown(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calib_cache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, resumed_runs_see_the_same_bits);
    tcase_add_test(tc, input_runs_see_the_same_bits);
    tcase_add_test(tc, prune_hessian_same_without_cache_resnet8);
    tcase_add_test(tc, prune_hessian_same_without_cache_lenet5);
    tcase_add_test(tc, correct_bn_same_without_cache);
    tcase_add_test(tc, skipped_bn_checked_correction_changes_nothing);
    tcase_add_test(tc, reference_outputs_memo_same_as_computed);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
