/* Unit tests of the graph-edit helpers (lc_graph_edit.h) and the int8
 * calibrators (passes/int8_calibrate.h), each against a brute-force or
 * hand-derived expectation. The numpy cross-checks live in
 * int8_crosscheck.py. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/int8_calibrate.h"
#include "lc_graph_edit.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* x -> Relu(a) -> Add(a, w) -> y, with initializers w and dead. */
static lc_model *small_model(void)
{
    lc_model *m = calloc(1, sizeof *m);
    m->graph = calloc(1, sizeof *m->graph);
    m->ir_version = 7;
    ck_assert_int_eq(lc_model_set_opset(m, 11), LC_OK);
    lc_graph *g = m->graph;
    g->n_inputs = 1;
    g->inputs = calloc(1, sizeof *g->inputs);
    g->inputs[0].name = lc_strdup("x");
    g->n_outputs = 1;
    g->outputs = calloc(1, sizeof *g->outputs);
    g->outputs[0].name = lc_strdup("y");
    const char *r_in[1] = {"x"}, *r_out[1] = {"a"}, *a_in[2] = {"a", "w"}, *a_out[1] = {"y"};
    ck_assert_int_eq(lc_graph_insert_node_take(g, 0, lc_node_make("Relu", "relu", 1, r_in, 1, r_out)), LC_OK);
    ck_assert_int_eq(lc_graph_insert_node_take(g, 1, lc_node_make("Add", "add", 2, a_in, 1, a_out)), LC_OK);
    float one = 1.0f;
    ck_assert_int_eq(lc_graph_add_init(g, "w", LC_DTYPE_FLOAT, 0, NULL, &one, NULL), LC_OK);
    ck_assert_int_eq(lc_graph_add_init(g, "dead", LC_DTYPE_FLOAT, 0, NULL, &one, NULL), LC_OK);
    return m;
}

START_TEST(test_edit_queries)
{
    lc_model *m = small_model();
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_graph_producer(g, "a"), 0);
    ck_assert_int_eq(lc_graph_producer(g, "x"), -1);
    ck_assert_int_eq(lc_graph_use_count(g, "a"), 1);
    ck_assert_int_eq(lc_graph_use_count(g, "y"), 0);
    ck_assert(lc_graph_is_output(g, "y") && !lc_graph_is_output(g, "a"));
    ck_assert(lc_graph_is_input(g, "x") && !lc_graph_is_input(g, "w"));
    char *u = NULL;
    ck_assert_int_eq(lc_graph_unique_name(g, "a", &u), LC_OK);
    ck_assert_str_eq(u, "a_1");
    free(u);
    ck_assert_int_eq(lc_graph_unique_name(g, "fresh", &u), LC_OK);
    ck_assert_str_eq(u, "fresh");
    free(u);
    ck_assert_int_eq(lc_graph_add_init(g, "w", LC_DTYPE_FLOAT, 0, NULL, NULL, NULL), LC_ERR_VERIFY);
    lc_model_free(m);
}
END_TEST

START_TEST(test_edit_rewire)
{
    lc_model *m = small_model();
    lc_graph *g = m->graph;
    /* put an Identity between Relu and Add: a -> Identity -> b */
    const char *in[1] = {"a"}, *out[1] = {"b"};
    lc_node *id = lc_node_make("Identity", NULL, 1, in, 1, out);
    ck_assert_ptr_nonnull(id);
    int n = 0;
    ck_assert_int_eq(lc_graph_rename_uses(g, "a", "b", NULL, false, &n), LC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(lc_graph_insert_node_take(g, lc_graph_producer(g, "a") + 1, id), LC_OK);
    ck_assert_int_eq(g->n_nodes, 3);
    ck_assert_str_eq(g->nodes[1]->op_type, "Identity");
    ck_assert_str_eq(g->nodes[2]->inputs[0], "b");
    ck_assert_int_eq(lc_model_verify(m, "edit"), LC_OK);
    /* prune: "dead" goes, "w" stays */
    int removed = 0;
    ck_assert_int_eq(lc_graph_prune_unused(g, &removed), LC_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert_ptr_null(lc_graph_init(g, "dead"));
    ck_assert_ptr_nonnull(lc_graph_init(g, "w"));
    /* remove the Identity again */
    ck_assert_int_eq(lc_graph_rename_uses(g, "b", "a", NULL, false, NULL), LC_OK);
    lc_graph_remove_node(g, 1);
    ck_assert_int_eq(g->n_nodes, 2);
    ck_assert_int_eq(lc_graph_use_count(g, "a"), 1);
    /* graph output rename */
    ck_assert_int_eq(lc_graph_rename_uses(g, "y", "z", NULL, true, &n), LC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(g->outputs[0].name, "z");
    /* attributes */
    int64_t v[2] = {3, 4};
    ck_assert_int_eq(lc_node_set_attr_ints(g->nodes[1], "k", 2, v), LC_OK);
    ck_assert_int_eq(lc_node_set_attr_int(g->nodes[1], "axis", 1), LC_OK);
    ck_assert_int_eq(lc_node_set_attr_int(g->nodes[1], "axis", 2), LC_OK);
    ck_assert_int_eq(g->nodes[1]->n_attrs, 2);
    ck_assert_int_eq(lc_node_attr_int(g->nodes[1], "axis", 0), 2);
    ck_assert_int_eq(lc_model_opset(m, ""), 11);
    ck_assert_int_eq(lc_model_set_opset(m, 13), LC_OK);
    ck_assert_int_eq(lc_model_opset(m, ""), 13);
    lc_model_free(m);
}
END_TEST

START_TEST(test_hist_bin)
{
    ck_assert_int_eq(lc_int8_hist_bin(0.0, 2.0, 8), 0);
    ck_assert_int_eq(lc_int8_hist_bin(0.25, 2.0, 8), 1); /* lower edge belongs to the bin */
    ck_assert_int_eq(lc_int8_hist_bin(1.99, 2.0, 8), 7);
    ck_assert_int_eq(lc_int8_hist_bin(2.0, 2.0, 8), 7); /* absmax falls in the last bin */
    ck_assert_int_eq(lc_int8_hist_bin(1.0, 0.0, 8), 0);
}
END_TEST

START_TEST(test_percentile)
{
    double h[10] = {10, 20, 30, 20, 10, 5, 3, 1, 0, 1}; /* total 100 */
    ck_assert_int_eq(lc_int8_percentile_edge(h, 10, 50.0), 3);  /* 10+20+30 = 60 >= 50 */
    ck_assert_int_eq(lc_int8_percentile_edge(h, 10, 60.0), 3);
    ck_assert_int_eq(lc_int8_percentile_edge(h, 10, 99.0), 8);
    ck_assert_int_eq(lc_int8_percentile_edge(h, 10, 100.0), 10);
}
END_TEST

/* KL(P||Q) of the definition, written out for one k: the entropy
 * calibrator must return the arg-min of these over k. */
static double kl_ref(const double *h, int n, int nq, int k)
{
    double p[64], q[64], qb[64];
    double beyond = 0;
    for (int i = k; i < n; i++) beyond += h[i];
    for (int i = 0; i < k; i++) p[i] = h[i];
    p[k - 1] += beyond;
    int merged = k / nq;
    for (int j = 0; j < nq; j++) {
        qb[j] = 0;
        int stop = j == nq - 1 ? k : (j + 1) * merged;
        for (int i = j * merged; i < stop; i++) qb[j] += h[i];
    }
    for (int j = 0; j < nq; j++) {
        int start = j * merged, stop = j == nq - 1 ? k : start + merged, nz = 0;
        for (int i = start; i < stop; i++) nz += p[i] != 0;
        for (int i = start; i < stop; i++) q[i] = p[i] != 0 ? qb[j] / nz : 0;
    }
    double *d[2] = {p, q};
    for (int t = 0; t < 2; t++) {
        int zeros = 0;
        for (int i = 0; i < k; i++) zeros += d[t][i] == 0;
        double e1 = 1e-4 * zeros / (k - zeros), sum = 0;
        for (int i = 0; i < k; i++) sum += d[t][i] = d[t][i] == 0 ? 1e-4 : d[t][i] - e1;
        for (int i = 0; i < k; i++) d[t][i] /= sum;
    }
    double kl = 0;
    for (int i = 0; i < k; i++) kl += p[i] * log(p[i] / q[i]);
    return kl;
}

START_TEST(test_entropy_small)
{
    /* a peaked distribution with a long thin tail: clipping the tail wins */
    double h[32];
    for (int i = 0; i < 32; i++) h[i] = i < 8 ? 1000.0 / (1 + i) : (i % 5 == 0 ? 1 : 0);
    double kl[33];
    lc_status st;
    int k = lc_int8_entropy_edge(h, 32, 4, kl, &st);
    ck_assert_int_eq(st, LC_OK);
    int best = 4;
    for (int j = 4; j <= 32; j++) {
        double r = kl_ref(h, 32, 4, j);
        ck_assert_msg(fabs(kl[j] - r) <= 1e-12 * fmax(1, fabs(r)), "k=%d: kl %.17g vs %.17g", j, kl[j], r);
        if (r < kl_ref(h, 32, 4, best)) best = j;
    }
    ck_assert_int_eq(k, best);
    ck_assert_int_lt(k, 32);
}
END_TEST

START_TEST(test_mse_uniform)
{
    /* uniform data on [0, 1): clipping only adds error, so the full range
     * is best; with a far outlier bin the threshold stops below it */
    double h[64] = {0};
    for (int i = 0; i < 32; i++) h[i] = 100;
    ck_assert_int_ge(lc_int8_mse_edge(h, 64, 2.0, 0.0, 1.0, 255), 32);
    h[63] = 1e-3;
    int k = lc_int8_mse_edge(h, 64, 2.0, 0.0, 2.0, 3); /* very few levels: an outlier is not worth the range */
    ck_assert_int_lt(k, 64);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("int8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_edit_queries);
    tcase_add_test(tc, test_edit_rewire);
    tcase_add_test(tc, test_hist_bin);
    tcase_add_test(tc, test_percentile);
    tcase_add_test(tc, test_entropy_small);
    tcase_add_test(tc, test_mse_uniform);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
