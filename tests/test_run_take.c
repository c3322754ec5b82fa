/* lc_pipeline_run_take (issue 18, item 2): the pipeline takes the caller's
 * model over and, when nothing needs the original, runs the passes in place
 * on it. The written file and the report's figures must be those of
 * lc_pipeline_run on the same model (the reference: the entry point that
 * never changes its input), the caller's pointer is consumed on success and
 * on failure, and the result is the given model itself exactly when the
 * run may change it in place. Leaks and use after free: ASan (scripts/test.sh). */
#ifndef LC_EXPERIMENTAL
#define LC_EXPERIMENTAL
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_testutil.h"

/* A zoo model by its name (benchmarks/zoo/NAME.onnx). */
static lc_model *load_zoo_onnx(const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "%s.onnx", name);
    return load_zoo(file);
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(*len ? *len : 1);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* The report without what differs between two runs by nature: the output
 * path and the timings. */
static char *report_figures(const lc_pipeline *pl)
{
    cJSON *j = cJSON_Parse(lc_pipeline_report(pl));
    ck_assert_ptr_nonnull(j);
    cJSON *keep = cJSON_CreateObject();
    const char *keys[] = {"input", "ratio", "accuracy", "budget_met", "layers", "overhead", "collapsed", "chance"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(j, keys[k]);
        if (v) cJSON_AddItemToObject(keep, keys[k], v);
    }
    cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "output");
    cJSON_AddNumberToObject(keep, "output_bytes", cJSON_GetObjectItemCaseSensitive(out, "bytes")->valuedouble);
    cJSON *passes = cJSON_GetObjectItemCaseSensitive(j, "passes"), *pj;
    cJSON_ArrayForEach(pj, passes) cJSON_DeleteItemFromObject(pj, "seconds");
    cJSON_AddItemToObject(keep, "passes", cJSON_DetachItemFromObject(j, "passes"));
    char *txt = cJSON_PrintUnformatted(keep);
    cJSON_Delete(j);
    cJSON_Delete(keep);
    return txt;
}

typedef struct take_case {
    const char *model;
    bool lcm, val;
    double budget; /* max_drop; < 0: none */
    bool in_place; /* expected: the result is the given model itself */
    const char *prune, *kmeans; /* the passes' parameters (NULL: sparsity=0.6, bits=4) */
    const char *expect; /* in the report (the case covers what it is for), or NULL */
    bool no_tmp; /* TMPDIR cannot hold files: nothing is parked (the input stays in memory) */
} take_case;

static const take_case cases[] = {
    {"lenet5", true, false, -1, true, NULL, NULL, NULL, false},   /* bias correction (no BatchNorm): collected before the pass */
    {"lenet300", false, true, -1, true, NULL, NULL, NULL, false}, /* validation without a budget: still in place */
    {"resnet8", true, false, -1, false, NULL, NULL, NULL, false}, /* BatchNorm: the checked re-estimation reads the input */
    /* a budget: the input and the model before each pass are parked on
       disk (lc_model_spill); the passes applied, backed off (the best
       setting parked while the next is tried), and run again with the
       budget shared (from the parked input) */
    {"lenet5", true, true, 5, false, NULL, NULL, "\"applied\"", false},
    /* the shared attempt runs when a later pass had to back off */
    {"lenet5", true, true, 0.5, false, "sparsity=0.9", "bits=2", "\"label\":\t\"shared\"", false},
    /* no temporary file: the input stays in memory, the same result */
    {"lenet5", true, true, 0.5, false, "sparsity=0.9", "bits=2", "\"backed off\"", true},
};

static lc_pipeline *make_pipeline(const take_case *c, const lc_dataset *val)
{
    lc_pipeline *pl = NULL;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "prune-magnitude", c->prune ? c->prune : "sparsity=0.6"), LC_OK);
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "quantize-kmeans", c->kmeans ? c->kmeans : "bits=4"), LC_OK);
    if (c->lcm) ck_assert_int_eq(lc_pipeline_add_pass(pl, "huffman", ""), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_format(pl, c->lcm ? LC_FORMAT_LCM : LC_FORMAT_ONNX), LC_OK);
    if (c->val) ck_assert_int_eq(lc_pipeline_set_validation(pl, val, NULL, 0, 0), LC_OK);
    if (c->budget >= 0) lc_pipeline_set_max_drop(pl, c->budget);
    return pl;
}

START_TEST(take_equals_run)
{
    const take_case *c = &cases[_i];
    float *cdata, *vdata;
    lc_dataset *calib = random_images(24, 7, &cdata), *val = random_images(200, 8, &vdata);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, calib, 0);
    lc_context_set_seed(ctx, 3);
    char dir[] = "/tmp/lc_take_XXXXXX", pa[256], pb[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(pa, sizeof pa, "%s/run.%s", dir, c->lcm ? "lcm" : "onnx");
    snprintf(pb, sizeof pb, "%s/take.%s", dir, c->lcm ? "lcm" : "onnx");

    /* the reference: lc_pipeline_run leaves its input as it was */
    lc_model *in = load_zoo_onnx(c->model), *ra = NULL;
    lc_pipeline *pla = make_pipeline(c, val);
    ck_assert_msg(lc_pipeline_run(pla, in, ctx, &ra) == LC_OK, "%s", lc_last_error());
    ck_assert_ptr_ne(ra, in);
    ck_assert_int_eq(lc_pipeline_write(pla, ra, pa), LC_OK);
    char *fa = report_figures(pla);

    lc_model *given = load_zoo_onnx(c->model), *m = given, *rb = NULL;
    lc_pipeline *plb = make_pipeline(c, val);
    if (c->no_tmp) ck_assert_int_eq(setenv("TMPDIR", "/nonexistent/lc_take_test", 1), 0);
    ck_assert_msg(lc_pipeline_run_take(plb, &m, ctx, &rb) == LC_OK, "%s", lc_last_error());
    if (c->no_tmp) unsetenv("TMPDIR");
    ck_assert_ptr_null(m); /* consumed */
    ck_assert_ptr_nonnull(rb);
    ck_assert_int_eq(rb == given, c->in_place); /* in place exactly when allowed (given is not read: only compared) */
    ck_assert_int_eq(lc_pipeline_write(plb, rb, pb), LC_OK);
    char *fb = report_figures(plb);
    if (c->expect) ck_assert_msg(strstr(lc_pipeline_report(plb), c->expect), "no %s in the report", c->expect);

    size_t la, lb;
    void *ba = read_all(pa, &la), *bb = read_all(pb, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(ba, bb, la), 0);
    ck_assert_str_eq(fa, fb);
    ck_assert_ptr_nonnull(strstr(fb, "\"layers\":[{")); /* the layer rows were recorded */

    free(ba);
    free(bb);
    free(fa);
    free(fb);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
    lc_model_free(in);
    lc_model_free(ra);
    lc_model_free(rb);
    lc_pipeline_free(pla);
    lc_pipeline_free(plb);
    lc_context_free(ctx);
    lc_dataset_free(calib);
    lc_dataset_free(val);
    free(cdata);
    free(vdata);
}
END_TEST

START_TEST(consumed_on_failure)
{
    lc_pipeline *pl = NULL;
    lc_model *m = NULL, *out = (lc_model *)&out;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_run_take(pl, &m, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(lc_pipeline_run_take(pl, NULL, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    /* a pass that needs calibration data, without any: fails before the
       passes; the model is freed all the same (ASan would see a leak) */
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "prune-magnitude", "sparsity=0.5,correct=bias"), LC_OK);
    m = load_zoo("lenet5.onnx");
    ck_assert_int_eq(lc_pipeline_run_take(pl, &m, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(out);
    lc_pipeline_free(pl);
}
END_TEST

START_TEST(consumed_when_a_pass_fails_in_place)
{
    /* the first pass fails while changing the given model: it is freed */
    float *cdata;
    lc_dataset *calib = random_images(8, 9, &cdata);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, calib, 0);
    lc_pipeline *pl = NULL;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "prune-magnitude", "sparsity=0.5,include=no_such_layer"), LC_OK);
    lc_model *m = load_zoo("lenet5.onnx"), *out = NULL;
    lc_status s = lc_pipeline_run_take(pl, &m, ctx, &out);
    ck_assert_ptr_null(m);
    if (s) ck_assert_ptr_null(out);
    else lc_model_free(out); /* a selection matching nothing may be no error: still consumed */
    lc_pipeline_free(pl);
    lc_context_free(ctx);
    lc_dataset_free(calib);
    free(cdata);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("run_take");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, take_equals_run, 0, (int)(sizeof cases / sizeof *cases));
    tcase_add_test(tc, consumed_on_failure);
    tcase_add_test(tc, consumed_when_a_pass_fails_in_place);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
