/* lc_pipeline_set_jobs (pipeline/target_jobs.c), the target-size search as
 * jobs, from C: a slice first..last runs exactly jobs first..last-1 (its
 * outputs are, text for text, those jobs' outputs in a run of every job,
 * numbered first..last-1 with the plan's job count and study), a slice
 * outside the plan fails the run, bad arguments fail at once, and slices'
 * results merge into the file one process writes without jobs (the
 * reference). The CLI and the cluster scripts: target_jobs_test.py. */
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

static float *cdata, *vdata;
static lc_dataset *calib, *val;
static lc_context *ctx;

static void setup(void)
{
    calib = random_images(16, 7, &cdata);
    val = random_images(64, 8, &vdata);
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, calib, 0);
    lc_context_set_seed(ctx, 3);
}

static void teardown(void)
{
    lc_context_free(ctx);
    lc_dataset_free(calib);
    lc_dataset_free(val);
    free(cdata);
    free(vdata);
}

/* LeNet-5 searched down to 40 KB with the default target recipe. */
static lc_pipeline *search(void)
{
    lc_pipeline *pl = NULL;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_load_recipe(pl, lc_pass_default_target_recipe(), "target recipe"), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_format(pl, LC_FORMAT_LCM), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_validation(pl, val, NULL, 0, 0), LC_OK);
    lc_pipeline_set_target_size(pl, 40000);
    return pl;
}

/* Runs the search with the given jobs setting; returns its status, and
 * the outputs (NULL-terminated, copied) when it succeeded. */
static lc_status run_jobs(lc_jobs_mode mode, int64_t first, int64_t last, char ***outs)
{
    lc_model *m = load_zoo("lenet5.onnx"), *out = (lc_model *)&out;
    lc_pipeline *pl = search();
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, mode, first, last, NULL, NULL, 0), LC_OK);
    lc_status s = lc_pipeline_run(pl, m, ctx, &out);
    ck_assert_ptr_null(out); /* planning and running jobs give no model */
    *outs = NULL;
    if (!s) {
        int n = 0;
        while (lc_pipeline_jobs_output(pl, n)) n++;
        *outs = calloc((size_t)n + 1, sizeof **outs);
        for (int i = 0; i < n; i++) (*outs)[i] = strdup(lc_pipeline_jobs_output(pl, i));
    }
    lc_pipeline_free(pl);
    lc_model_free(m);
    return s;
}

static int count(char **outs)
{
    int n = 0;
    while (outs[n]) n++;
    return n;
}

static void free_outs(char **outs)
{
    for (int i = 0; outs && outs[i]; i++) free(outs[i]);
    free(outs);
}

static int64_t int_of(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(j), "no number %s", key);
    return (int64_t)j->valuedouble;
}

/* Writes the search's result (lc_pipeline_run, with `merge` results or
 * none) and returns the file's bytes. */
static void *search_file(char **merge, size_t *len)
{
    lc_model *m = load_zoo("lenet5.onnx"), *out = NULL;
    lc_pipeline *pl = search();
    if (merge) ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_MERGE, 0, 0, (const char *const *)merge, NULL,
                                                     count(merge)), LC_OK);
    ck_assert_msg(lc_pipeline_run(pl, m, ctx, &out) == LC_OK, "%s", lc_last_error());
    char path[] = "/tmp/lc_set_jobs_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(lc_pipeline_write(pl, out, path), LC_OK);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(*len);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    unlink(path);
    lc_model_free(out);
    lc_model_free(m);
    lc_pipeline_free(pl);
    return buf;
}

START_TEST(slices_run_exactly_their_jobs)
{
    char **plan, **all, **a, **b;
    ck_assert_msg(run_jobs(LC_JOBS_PLAN, 0, 0, &plan) == LC_OK, "%s", lc_last_error());
    ck_assert_int_eq(count(plan), 1);
    /* the plan: one line per job, numbered 0..n-1, one study */
    int64_t n = 0;
    char study[64] = "";
    for (char *line = plan[0], *nl; *line; line = nl + 1) {
        ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
        *nl = 0;
        cJSON *j = cJSON_Parse(line);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(int_of(j, "job"), n);
        if (!n) snprintf(study, sizeof study, "%s", cJSON_GetObjectItemCaseSensitive(j, "study")->valuestring);
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "study")->valuestring, study);
        n++;
        cJSON_Delete(j);
    }
    ck_assert_int_ge(n, 3);
    /* every job once: the reference for the slices */
    ck_assert_msg(run_jobs(LC_JOBS_RUN, 0, n, &all) == LC_OK, "%s", lc_last_error());
    ck_assert_int_eq(count(all), n);
    for (int64_t k = 0; k < n; k++) {
        cJSON *r = cJSON_Parse(all[k]), *res = cJSON_GetObjectItemCaseSensitive(r, "results");
        ck_assert_int_eq(int_of(r, "jobs"), n);
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "study")->valuestring, study);
        ck_assert_int_eq(cJSON_GetArraySize(res), 1);
        ck_assert_int_eq(int_of(cJSON_GetArrayItem(res, 0), "job"), k);
        cJSON_Delete(r);
    }
    /* two slices split in the middle: exactly their jobs' outputs */
    int64_t mid = n / 2;
    ck_assert_int_eq(run_jobs(LC_JOBS_RUN, mid, n, &b), LC_OK);
    ck_assert_int_eq(count(b), n - mid);
    for (int64_t k = mid; k < n; k++) ck_assert_str_eq(b[k - mid], all[k]);
    ck_assert_int_eq(run_jobs(LC_JOBS_RUN, 0, mid, &a), LC_OK);
    ck_assert_int_eq(count(a), mid);
    for (int64_t k = 0; k < mid; k++) ck_assert_str_eq(a[k], all[k]);
    /* slices outside the plan fail the run */
    char **none;
    ck_assert_int_eq(run_jobs(LC_JOBS_RUN, n - 1, n + 1, &none), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "jobs"));
    ck_assert_int_eq(run_jobs(LC_JOBS_RUN, n, n + 1, &none), LC_ERR_INVALID_ARGUMENT);
    /* the slices' results, merged (in any order), write what one process
       writes without jobs */
    char **merged = calloc((size_t)n + 1, sizeof *merged);
    for (int64_t k = 0; k < n - mid; k++) merged[k] = b[k];
    for (int64_t k = 0; k < mid; k++) merged[n - mid + k] = a[k];
    size_t l1, l2;
    void *single = search_file(NULL, &l1), *joined = search_file(merged, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(single, joined, l1), 0);
    /* a job missing: the merge names it */
    merged[n - 1] = NULL;
    lc_model *m = load_zoo("lenet5.onnx"), *out = NULL;
    lc_pipeline *pl = search();
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_MERGE, 0, 0, (const char *const *)merged, NULL, (int)n - 1),
                     LC_OK);
    ck_assert_int_eq(lc_pipeline_run(pl, m, ctx, &out), LC_ERR_NOT_FOUND);
    ck_assert_ptr_null(out);
    lc_pipeline_free(pl);
    lc_model_free(m);
    free(merged);
    free(single);
    free(joined);
    free_outs(plan);
    free_outs(all);
    free_outs(a);
    free_outs(b);
}
END_TEST

START_TEST(bad_arguments)
{
    lc_pipeline *pl = NULL;
    const char *one[] = {"{}"};
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_jobs(NULL, LC_JOBS_PLAN, 0, 0, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, (lc_jobs_mode)-1, 0, 1, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, (lc_jobs_mode)4, 0, 1, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    /* empty slices */
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_RUN, -1, 2, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_RUN, 3, 3, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_RUN, 5, 2, NULL, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "5..1"));
    /* nothing to merge from */
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_MERGE, 0, 0, NULL, NULL, 1), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_MERGE, 0, 0, one, NULL, -1), LC_ERR_INVALID_ARGUMENT);
    /* valid settings; jobs split a search only: a plain run refuses them */
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_RUN, 2, 3, NULL, NULL, 0), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_MERGE, 0, 0, one, NULL, 1), LC_OK);
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "prune-magnitude", "sparsity=0.5"), LC_OK);
    lc_model *m = load_zoo("lenet5.onnx"), *out = NULL;
    ck_assert_int_eq(lc_pipeline_run(pl, m, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "lc_pipeline_set_jobs"));
    ck_assert_ptr_null(out);
    /* LC_JOBS_NONE clears them: the plain run goes through */
    ck_assert_int_eq(lc_pipeline_set_jobs(pl, LC_JOBS_NONE, 0, 0, NULL, NULL, 0), LC_OK);
    ck_assert_msg(lc_pipeline_run(pl, m, NULL, &out) == LC_OK, "%s", lc_last_error());
    ck_assert_ptr_null(lc_pipeline_jobs_output(pl, 0));
    lc_model_free(out);
    lc_model_free(m);
    lc_pipeline_free(pl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("set_jobs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, slices_run_exactly_their_jobs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
