/* Copy-on-write model copies (lc_model_clone_shared): on a real model,
 * writing a copy's tensors after lc_tensor_unshare never changes the
 * original nor another copy, in either direction and whichever is freed
 * first; the last holder keeps its buffer without a copy. Checked against
 * a deep copy (lc_model_clone) taken before anything changed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "lc_testutil.h"

/* Initializers of a equal b's (same order) bit for bit. */
static bool same_inits(const lc_model *a, const lc_model *b)
{
    ck_assert_int_eq(a->graph->n_inits, b->graph->n_inits);
    for (int i = 0; i < a->graph->n_inits; i++) {
        const lc_tensor *t = a->graph->inits[i], *u = b->graph->inits[i];
        if (strcmp(t->name, u->name) || t->nbytes != u->nbytes || memcmp(t->data, u->data, t->nbytes)) return false;
    }
    return true;
}

static void scribble(lc_tensor *t)
{
    ck_assert_int_eq(lc_tensor_unshare(t), LC_OK);
    unsigned char *b = t->data;
    for (size_t k = 0; k < t->nbytes; k++) b[k] ^= (unsigned char)(0x5a + k);
}

START_TEST(writing_a_copy_never_changes_the_original)
{
    lc_model *orig = load_zoo("resnet8.onnx"), *snap = NULL, *a = NULL, *b = NULL;
    ck_assert_int_eq(lc_model_clone(orig, &snap), LC_OK);
    ck_assert_int_eq(lc_model_clone_shared(orig, &a), LC_OK);
    ck_assert_int_eq(lc_model_clone_shared(orig, &b), LC_OK);
    int n = orig->graph->n_inits;
    ck_assert_int_gt(n, 10);
    /* the copies hold no data of their own */
    for (int i = 0; i < n; i++)
        if (orig->graph->inits[i]->nbytes) {
            ck_assert_ptr_eq(a->graph->inits[i]->data, orig->graph->inits[i]->data);
            ck_assert_ptr_eq(b->graph->inits[i]->data, orig->graph->inits[i]->data);
        }
    /* a changes every tensor: the original and b do not see it */
    for (int i = 0; i < n; i++) scribble(a->graph->inits[i]);
    ck_assert(!same_inits(a, snap));
    ck_assert(same_inits(orig, snap));
    ck_assert(same_inits(b, snap));
    /* the original changes its first tensor: b keeps the old values, and
       still shares the others */
    scribble(orig->graph->inits[0]);
    ck_assert(memcmp(b->graph->inits[0]->data, snap->graph->inits[0]->data, snap->graph->inits[0]->nbytes) == 0);
    ck_assert(memcmp(orig->graph->inits[0]->data, snap->graph->inits[0]->data, snap->graph->inits[0]->nbytes) != 0);
    ck_assert_ptr_eq(b->graph->inits[1]->data, orig->graph->inits[1]->data);
    /* the original goes first: b's shared buffers stay valid (ASan would
       see a use after free) and b, now their only holder, keeps them
       without copying */
    lc_model_free(orig);
    for (int i = 1; i < n; i++) ck_assert_ptr_nonnull(b->graph->inits[i]->shared);
    const void *kept = b->graph->inits[1]->data;
    ck_assert_int_eq(lc_model_unshare(b), LC_OK);
    ck_assert_ptr_eq(b->graph->inits[1]->data, kept);
    for (int i = 0; i < n; i++) ck_assert_ptr_null(b->graph->inits[i]->shared);
    ck_assert(same_inits(b, snap));
    /* a deep copy of a shared copy is independent too */
    lc_model *c = NULL;
    ck_assert_int_eq(lc_model_clone(a, &c), LC_OK);
    ck_assert(same_inits(c, a));
    lc_model_free(a);
    lc_model_free(b);
    lc_model_free(c);
    lc_model_free(snap);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cow_clone");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, writing_a_copy_never_changes_the_original);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
