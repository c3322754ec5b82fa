/* lc_calib_run_nodes: the observer sees exactly what a full lc_calib_run
 * shows it of the needed nodes, and no node after the last needed one
 * runs. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_pass.h"
#include "lc_testutil.h"

#define MAX_NODES 64

typedef struct seen {
    int calls[MAX_NODES];      /* observations per node */
    double sum[MAX_NODES];     /* sum of the node's first output over all batches */
    int last;                  /* highest node index observed */
} seen;

static lc_status record(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in, int n_out,
                        const lc_value *const *out)
{
    (void)node, (void)n_in, (void)in;
    seen *s = user;
    ck_assert_int_lt(node_index, MAX_NODES);
    s->calls[node_index]++;
    if (node_index > s->last) s->last = node_index;
    if (n_out > 0 && out[0] && out[0]->dtype == LC_DTYPE_FLOAT) {
        const float *v = out[0]->data;
        for (int64_t i = 0; i < lc_value_numel(out[0]); i++) s->sum[node_index] += v[i];
    }
    return LC_OK;
}

START_TEST(calib_run_stops_after_needed_nodes)
{
    const char *src = getenv("LC_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/benchmarks/zoo/resnet8.onnx", src);
    lc_model *m = NULL;
    ck_assert_int_eq(lc_model_load(path, &m), LC_OK);
    const int nn = m->graph->n_nodes;
    ck_assert_int_le(nn, MAX_NODES);
    /* 70 samples: a batch of 64 and one of 6 (two plans) */
    const int64_t dims[4] = {70, 1, 28, 28};
    float *data = rnd_array(70 * 28 * 28);
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("random", 4, dims, data, &d), LC_OK);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, d, 0);
    lc_context_set_batch(ctx, 64);
    /* needed: the first two Conv nodes of stage 1 and the BatchNorm after
     * the first (graph order is topological here) */
    bool need[MAX_NODES] = {false};
    int picked = 0, last = -1;
    for (int i = 0; i < nn && picked < 3; i++)
        if (i > 0 && (!strcmp(m->graph->nodes[i]->op_type, "Conv") ||
                      !strcmp(m->graph->nodes[i]->op_type, "BatchNormalization"))) {
            need[i] = true;
            last = i;
            picked++;
        }
    ck_assert_int_eq(picked, 3);
    ck_assert_int_lt(last, nn - 1);
    seen all = {.last = -1}, part = {.last = -1};
    ck_assert_int_eq(lc_calib_run(m, ctx, record, &all), LC_OK);
    ck_assert_int_eq(lc_calib_run_nodes(m, ctx, record, &part, need), LC_OK);
    ck_assert_int_eq(all.last, nn - 1);
    ck_assert_int_eq(part.last, last);
    for (int i = 0; i < nn; i++) {
        if (i <= last) {
            /* every node up to the last needed one ran once per batch, with the same values */
            ck_assert_int_eq(part.calls[i], 2);
            ck_assert_int_eq(all.calls[i], 2);
            ck_assert_msg(part.sum[i] == all.sum[i], "node %d: %g vs %g", i, part.sum[i], all.sum[i]);
        } else {
            ck_assert_int_eq(part.calls[i], 0);
        }
    }
    /* NULL need: the same as lc_calib_run */
    seen again = {.last = -1};
    ck_assert_int_eq(lc_calib_run_nodes(m, ctx, record, &again, NULL), LC_OK);
    ck_assert_int_eq(again.last, nn - 1);
    for (int i = 0; i < nn; i++) ck_assert(again.sum[i] == all.sum[i]);
    lc_context_free(ctx);
    lc_dataset_free(d);
    lc_model_free(m);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calib");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, calib_run_stops_after_needed_nodes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
