/* lc_model_lcm_size (issue 18, item 2): the pipeline sizes .lcm candidates
 * without building the file. Its answer must be the length of the file
 * lc_model_save_lcm_buffer builds, with and without a META section, for
 * dense, pruned and entropy-coded models of the zoo. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "lc_testutil.h"

static const char *models[] = {"lenet300.onnx", "lenet5.onnx", "resnet8.onnx", "dscnn.onnx"};

/* The size against the built file's length, without and with META. */
static void check_size(const lc_model *m)
{
    lc_lcm_meta meta = {"test", "{\"passes\":[1,2,3]}", "{\"accuracy\":{\"float\":90.5}}"};
    const lc_lcm_meta *metas[2] = {NULL, &meta};
    for (int k = 0; k < 2; k++) {
        void *buf = NULL;
        size_t built = 0, sized = 1;
        ck_assert_msg(lc_model_save_lcm_buffer(m, metas[k], &buf, &built) == LC_OK, "%s", lc_last_error());
        ck_assert_msg(lc_model_lcm_size(m, metas[k], &sized) == LC_OK, "%s", lc_last_error());
        ck_assert_uint_gt(built, 16);
        ck_assert_uint_eq(sized, built);
        free(buf);
    }
}

START_TEST(size_equals_built_length)
{
    lc_model *m = load_zoo(models[_i]);
    check_size(m); /* dense floats */
    const char *recipes[][2] = {{"prune-magnitude", "sparsity=0.7,correct=none"},
                                {"quantize-kmeans", "bits=3,compensate=none,correct=none"},
                                {"huffman", ""}};
    for (int r = 0; r < 3; r++) { /* pruned; pruned + codebook; entropy-coded */
        lc_pipeline *pl = NULL;
        ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
        ck_assert_int_eq(lc_pipeline_set_format(pl, LC_FORMAT_LCM), LC_OK);
        for (int k = 0; k <= r; k++) ck_assert_int_eq(lc_pipeline_add_pass(pl, recipes[k][0], recipes[k][1]), LC_OK);
        lc_model *out = NULL;
        ck_assert_msg(lc_pipeline_run(pl, m, NULL, &out) == LC_OK, "%s", lc_last_error());
        check_size(out);
        lc_model_free(out);
        lc_pipeline_free(pl);
    }
    lc_model_free(m);
}
END_TEST

START_TEST(bad_arguments)
{
    size_t len;
    ck_assert_int_eq(lc_model_lcm_size(NULL, NULL, &len), LC_ERR_INVALID_ARGUMENT);
    lc_model *m = load_zoo("lenet5.onnx");
    ck_assert_int_eq(lc_model_lcm_size(m, NULL, NULL), LC_ERR_INVALID_ARGUMENT);
    lc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("lcm_size");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, size_equals_built_length, 0, (int)(sizeof models / sizeof *models));
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
