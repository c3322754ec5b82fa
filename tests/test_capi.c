/* Small contracts of the public API that 0.2 introduced: the format setter
 * refuses a value that is no lc_format (0.1 accepted any int), the typed
 * dtype getters refuse values outside the enum, every status has its name,
 * and lc_version_number agrees with the header's macros. */
#include <check.h>
#include <string.h>

#include <libcompress.h>

#include "lc_testutil.h"

START_TEST(set_format_refuses_unknown_values)
{
    lc_pipeline *p = NULL;
    ck_assert_int_eq(lc_pipeline_create(&p), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_format(p, LC_FORMAT_LCM), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_format(p, LC_FORMAT_ONNX), LC_OK);
    ck_assert_int_eq(lc_pipeline_set_format(p, (lc_format)7), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "lc_pipeline_set_format: format 7"));
    ck_assert_int_eq(lc_pipeline_set_format(p, (lc_format)-1), LC_ERR_INVALID_ARGUMENT);
    lc_pipeline_free(p);
}
END_TEST

START_TEST(dtype_getters_refuse_values_outside_the_enum)
{
    ck_assert_str_eq(lc_dtype_name(LC_DTYPE_BFLOAT16), "bfloat16");
    ck_assert_uint_eq(lc_dtype_size(LC_DTYPE_COMPLEX128), 16);
    ck_assert_str_eq(lc_dtype_name(LC_DTYPE_COUNT), "?");
    ck_assert_str_eq(lc_dtype_name((lc_dtype)-1), "?");
    ck_assert_uint_eq(lc_dtype_size((lc_dtype)-1), 0);
}
END_TEST

START_TEST(every_status_has_its_name)
{
    static const struct {
        lc_status s;
        const char *name;
    } all[] = {
        {LC_OK, "LC_OK"}, {LC_ERR_INVALID_ARGUMENT, "LC_ERR_INVALID_ARGUMENT"}, {LC_ERR_NO_MEMORY, "LC_ERR_NO_MEMORY"},
        {LC_ERR_IO, "LC_ERR_IO"}, {LC_ERR_FORMAT, "LC_ERR_FORMAT"}, {LC_ERR_UNSUPPORTED, "LC_ERR_UNSUPPORTED"},
        {LC_ERR_SHAPE, "LC_ERR_SHAPE"}, {LC_ERR_DTYPE, "LC_ERR_DTYPE"}, {LC_ERR_NOT_FOUND, "LC_ERR_NOT_FOUND"},
        {LC_ERR_PARAMETER, "LC_ERR_PARAMETER"}, {LC_ERR_VERIFY, "LC_ERR_VERIFY"}, {LC_ERR_INTERNAL, "LC_ERR_INTERNAL"},
        {LC_ERR_BUDGET, "LC_ERR_BUDGET"},
    };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) ck_assert_str_eq(lc_status_name(all[i].s), all[i].name);
    ck_assert_str_eq(lc_status_name((lc_status)(LC_ERR_BUDGET - 1)), "LC_ERR_UNKNOWN");
    ck_assert_str_eq(lc_status_name((lc_status)1), "LC_ERR_UNKNOWN");
}
END_TEST

START_TEST(version_number_matches_the_header)
{
    ck_assert_int_eq(lc_version_number(), LC_VERSION_NUMBER);
    ck_assert_int_eq(LC_VERSION_NUMBER, LC_VERSION_MAJOR * 10000 + LC_VERSION_MINOR * 100 + LC_VERSION_PATCH);
    ck_assert_str_eq(lc_version(), LC_VERSION_STRING);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("capi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, set_format_refuses_unknown_values);
    tcase_add_test(tc, dtype_getters_refuse_values_outside_the_enum);
    tcase_add_test(tc, every_status_has_its_name);
    tcase_add_test(tc, version_number_matches_the_header);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
