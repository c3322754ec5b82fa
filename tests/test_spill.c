/* Models parked on disk (lc_model_spill, core/spill.c): every model loaded
 * back equals the parked one bit for bit (tensor data, masks, codes, and
 * the .lcm file it writes), against a deep copy taken before parking; a
 * parked copy-on-write copy leaves the models it shares with intact; a
 * loaded model is independent of the parking and of other loads; without
 * a temporary file the model is left as it was. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_ir.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* Every initializer of a and b equal: data, mask and codes. */
static void assert_same(const lc_model *a, const lc_model *b)
{
    ck_assert_int_eq(a->graph->n_inits, b->graph->n_inits);
    for (int i = 0; i < a->graph->n_inits; i++) {
        const lc_tensor *t = a->graph->inits[i], *u = b->graph->inits[i];
        ck_assert_str_eq(t->name, u->name);
        ck_assert_uint_eq(t->nbytes, u->nbytes);
        ck_assert(t->nbytes == 0 || memcmp(t->data, u->data, t->nbytes) == 0);
        ck_assert_int_eq(!t->enc, !u->enc);
        if (!t->enc) continue;
        size_t n = (size_t)lc_shape_numel(t->ndim, t->dims, 0);
        ck_assert_int_eq(!t->enc->mask, !u->enc->mask);
        ck_assert_int_eq(!t->enc->codes, !u->enc->codes);
        ck_assert(!t->enc->mask || memcmp(t->enc->mask, u->enc->mask, n) == 0);
        ck_assert(!t->enc->codes || memcmp(t->enc->codes, u->enc->codes, n) == 0);
    }
}

static void *lcm_bytes(const lc_model *m, size_t *len)
{
    void *buf = NULL;
    ck_assert_msg(lc_model_save_lcm_buffer(m, NULL, &buf, len) == LC_OK, "%s", lc_last_error());
    return buf;
}

/* lenet5 pruned and clustered: masks and codes on its weights. */
static lc_model *compressed_lenet5(void)
{
    lc_model *m = load_zoo("lenet5.onnx");
    ck_assert_int_eq(lc_pass_run(m, "prune-magnitude", "sparsity=0.7", NULL), LC_OK);
    ck_assert_msg(lc_pass_run(m, "quantize-kmeans", "bits=3,correct=none", NULL) == LC_OK, "%s", lc_last_error());
    return m;
}

START_TEST(loads_equal_the_parked_model)
{
    lc_model *m = compressed_lenet5(), *snap = NULL;
    ck_assert_int_eq(lc_model_clone(m, &snap), LC_OK);
    int masks = 0, codes = 0;
    for (int i = 0; i < snap->graph->n_inits; i++) {
        const lc_encoding *e = snap->graph->inits[i]->enc;
        masks += e && e->mask;
        codes += e && e->codes;
    }
    ck_assert_int_gt(masks, 0); /* the case covers masks and codes */
    ck_assert_int_gt(codes, 0);
    size_t la, lb;
    void *fa = lcm_bytes(snap, &la);

    lc_spilled *sp = NULL;
    ck_assert_int_eq(lc_model_spill(&m, &sp), LC_OK);
    ck_assert_ptr_null(m); /* taken */
    lc_model *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_spilled_load(sp, &a), LC_OK);
    ck_assert_int_eq(lc_spilled_load(sp, &b), LC_OK);
    assert_same(a, snap);
    assert_same(b, snap);
    void *fb = lcm_bytes(a, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(fa, fb, la), 0);
    /* loads are independent of each other and of the parking */
    lc_tensor *t = a->graph->inits[0];
    ((unsigned char *)t->data)[0] ^= 0xff;
    lc_spilled_free(sp);
    assert_same(b, snap);
    lc_model_free(a);
    lc_model_free(b);
    lc_model_free(snap);
    free(fa);
    free(fb);
}
END_TEST

START_TEST(parking_a_shared_copy_keeps_the_original)
{
    lc_model *orig = load_zoo("resnet8.onnx"), *snap = NULL, *copy = NULL;
    ck_assert_int_eq(lc_model_clone(orig, &snap), LC_OK);
    ck_assert_int_eq(lc_model_clone_shared(orig, &copy), LC_OK);
    lc_spilled *sp = NULL;
    ck_assert_int_eq(lc_model_spill(&copy, &sp), LC_OK);
    assert_same(orig, snap); /* its buffers stay (ASan: no use after free) */
    lc_model *back = NULL;
    ck_assert_int_eq(lc_spilled_load(sp, &back), LC_OK);
    assert_same(back, snap);
    lc_model_free(orig); /* the last holder of the shared buffers */
    assert_same(back, snap);
    lc_spilled_free(sp);
    lc_model_free(back);
    lc_model_free(snap);
}
END_TEST

START_TEST(no_temporary_file)
{
    /* the file cannot be created: the model is left as it was */
    lc_model *m = load_zoo("lenet5.onnx"), *snap = NULL;
    ck_assert_int_eq(lc_model_clone(m, &snap), LC_OK);
    ck_assert_int_eq(setenv("TMPDIR", "/nonexistent/lc_spill_test", 1), 0);
    lc_spilled *sp = (lc_spilled *)&sp;
    ck_assert_int_eq(lc_model_spill(&m, &sp), LC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "temporary file"));
    unsetenv("TMPDIR");
    ck_assert_ptr_null(sp);
    ck_assert_ptr_nonnull(m);
    assert_same(m, snap);
    lc_model_free(m);
    lc_model_free(snap);
}
END_TEST

START_TEST(bad_arguments)
{
    lc_spilled *sp = (lc_spilled *)&sp;
    lc_model *m = NULL, *out = (lc_model *)&out;
    ck_assert_int_eq(lc_model_spill(&m, &sp), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(sp);
    ck_assert_int_eq(lc_spilled_load(NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    lc_spilled_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spill");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, loads_equal_the_parked_model);
    tcase_add_test(tc, parking_a_shared_copy_keeps_the_original);
    tcase_add_test(tc, no_temporary_file);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
