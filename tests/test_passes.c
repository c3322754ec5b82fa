/* The pass framework: parameter parsing and validation, the pass table,
 * the seeded RNG, weight selection and graph levels. Expected values are
 * written out by hand from the definitions (or from published test
 * vectors), never read back from the code under test. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"
#include "lc_testutil.h"

static const lc_param_desc demo[] = {
    {"rate", LC_PARAM_FLOAT, "0.25", 0, 1, NULL, "a fraction"},
    {"k", LC_PARAM_INT, "3", 1, 10, NULL, "an integer"},
    {"flag", LC_PARAM_BOOL, "false", 0, 0, NULL, "a switch"},
    {"mode", LC_PARAM_ENUM, "fast", 0, 0, "fast|slow|auto", "a choice"},
    {"nm", LC_PARAM_NM, "", 0, 0, NULL, "a pattern"},
    {"names", LC_PARAM_LIST, "", 0, 0, NULL, "a list"},
    {"label", LC_PARAM_STRING, "", 0, 0, NULL, "text"},
};
enum { N_DEMO = (int)(sizeof demo / sizeof *demo) };

static lc_params demo_params(void)
{
    lc_params p;
    ck_assert_int_eq(lc_params_init(&p, "demo", demo, N_DEMO), LC_OK);
    return p;
}

/* Setting key=value fails with LC_ERR_PARAMETER and a message holding each
 * of the NULL-terminated fragments. */
static void expect_error(const char *key, const char *value, const char *const *fragments)
{
    lc_params p = demo_params();
    ck_assert_int_eq(lc_params_set(&p, key, value), LC_ERR_PARAMETER);
    const char *msg = lc_last_error();
    for (int i = 0; fragments[i]; i++) ck_assert_msg(strstr(msg, fragments[i]), "'%s' not in '%s'", fragments[i], msg);
    lc_params_clear(&p);
}

START_TEST(test_params_defaults)
{
    lc_params p = demo_params();
    ck_assert_double_eq(lc_params_num(&p, "rate"), 0.25);
    ck_assert_double_eq(lc_params_num(&p, "k"), 3);
    ck_assert_double_eq(lc_params_num(&p, "flag"), 0);
    ck_assert_str_eq(lc_params_str(&p, "mode"), "fast");
    ck_assert_int_eq(lc_params_get(&p, "nm")->nm_m, 0);
    ck_assert_int_eq(lc_params_get(&p, "names")->n_list, 0);
    ck_assert(!lc_params_get(&p, "rate")->given);
    ck_assert_ptr_null(lc_params_get(&p, "nope"));
    ck_assert_double_eq(lc_params_num(&p, "nope"), 0);

    ck_assert_int_eq(lc_params_parse(&p, "rate=1,k=10,flag=yes,mode=auto,nm=2:4,names=a*,names=b,label=x y"), LC_OK);
    ck_assert_double_eq(lc_params_num(&p, "rate"), 1);
    ck_assert_double_eq(lc_params_num(&p, "k"), 10);
    ck_assert_double_eq(lc_params_num(&p, "flag"), 1);
    ck_assert_str_eq(lc_params_str(&p, "mode"), "auto");
    const lc_param_value *nm = lc_params_get(&p, "nm");
    ck_assert_int_eq(nm->nm_n, 2);
    ck_assert_int_eq(nm->nm_m, 4);
    const lc_param_value *names = lc_params_get(&p, "names");
    ck_assert_int_eq(names->n_list, 2);
    ck_assert_str_eq(names->list[0], "a*");
    ck_assert_str_eq(names->list[1], "b");
    ck_assert_str_eq(lc_params_str(&p, "label"), "x y");
    ck_assert(lc_params_get(&p, "rate")->given);

    char *text = lc_params_to_string(&p);
    ck_assert_str_eq(text, "rate=1,k=10,flag=true,mode=auto,nm=2:4,names=a*+b,label=x y");
    free(text);

    /* a deep copy survives the original */
    lc_params q;
    ck_assert_int_eq(lc_params_copy(&q, &p), LC_OK);
    lc_params_clear(&p);
    ck_assert_str_eq(lc_params_get(&q, "names")->list[1], "b");
    ck_assert_str_eq(lc_params_str(&q, "mode"), "auto");
    lc_params_clear(&q);

    /* boolean spellings */
    const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
    p = demo_params();
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(lc_params_set(&p, "flag", yes[i]), LC_OK);
        ck_assert_double_eq(lc_params_num(&p, "flag"), 1);
        ck_assert_int_eq(lc_params_set(&p, "flag", no[i]), LC_OK);
        ck_assert_double_eq(lc_params_num(&p, "flag"), 0);
    }
    /* range ends are inclusive; the empty N:M clears the pattern */
    ck_assert_int_eq(lc_params_set(&p, "rate", "0"), LC_OK);
    ck_assert_int_eq(lc_params_set(&p, "k", "1"), LC_OK);
    ck_assert_int_eq(lc_params_set(&p, "nm", "1:64"), LC_OK);
    ck_assert_int_eq(lc_params_set(&p, "nm", ""), LC_OK);
    ck_assert_int_eq(lc_params_get(&p, "nm")->nm_m, 0);
    lc_params_clear(&p);
}
END_TEST

START_TEST(test_params_errors)
{
    expect_error("bogus", "1", (const char *[]){"demo", "unknown parameter 'bogus'",
                                                "valid: rate, k, flag, mode, nm, names, label", NULL});
    expect_error("rate", "1.5", (const char *[]){"'rate'", "1.5", "[0, 1]", NULL});
    expect_error("rate", "-0.1", (const char *[]){"[0, 1]", NULL});
    expect_error("rate", "abc", (const char *[]){"must be a number", "abc", NULL});
    expect_error("rate", "", (const char *[]){"must be a number", NULL});
    expect_error("rate", "nan", (const char *[]){"must be a number", NULL});
    expect_error("rate", "0.5x", (const char *[]){"must be a number", NULL});
    expect_error("k", "2.5", (const char *[]){"must be an integer", NULL});
    expect_error("k", "11", (const char *[]){"[1, 10]", NULL});
    expect_error("flag", "maybe", (const char *[]){"true or false", "maybe", NULL});
    expect_error("mode", "Fast", (const char *[]){"one of fast|slow|auto", "Fast", NULL});
    expect_error("mode", "fas", (const char *[]){"one of fast|slow|auto", NULL});
    expect_error("mode", "fast|slow", (const char *[]){"one of", NULL});
    const char *bad_nm[] = {"4:2", "2:2", "0:4", "2", "2:4x", "a:b", "2:65", "-1:4"};
    for (size_t i = 0; i < sizeof bad_nm / sizeof *bad_nm; i++)
        expect_error("nm", bad_nm[i], (const char *[]){"N:M", bad_nm[i], NULL});

    lc_params p = demo_params();
    ck_assert_int_eq(lc_params_parse(&p, "rate"), LC_ERR_PARAMETER);
    ck_assert_msg(strstr(lc_last_error(), "not key=value"), "%s", lc_last_error());
    ck_assert_int_eq(lc_params_parse(&p, "k=2,zzz=1"), LC_ERR_PARAMETER);
    ck_assert_msg(strstr(lc_last_error(), "'zzz'"), "%s", lc_last_error());
    ck_assert_int_eq(lc_params_parse(&p, ""), LC_OK);
    ck_assert_int_eq(lc_params_parse(&p, NULL), LC_OK);
    lc_params_clear(&p);

    /* a table without parameters says so */
    ck_assert_int_eq(lc_params_init(&p, "empty", NULL, 0), LC_OK);
    ck_assert_int_eq(lc_params_set(&p, "x", "1"), LC_ERR_PARAMETER);
    ck_assert_msg(strstr(lc_last_error(), "valid: none"), "%s", lc_last_error());
    lc_params_clear(&p);
}
END_TEST

START_TEST(test_pass_table)
{
    int n = 0;
    const lc_pass *const *t = lc_pass_table(&n);
    ck_assert_int_ge(n, 3);
    ck_assert_ptr_null(t[n]);
    for (int i = 0; i < n; i++) {
        const lc_pass *p = t[i];
        if (i) ck_assert_msg(strcmp(t[i - 1]->name, p->name) < 0, "%s before %s", t[i - 1]->name, p->name);
        ck_assert_ptr_eq(lc_pass_find(p->name), p);
        ck_assert(p->summary && *p->summary && p->run);
        for (const char *c = p->name; *c; c++) ck_assert_msg((*c >= 'a' && *c <= 'z') || *c == '-' || (*c >= '0' && *c <= '9'), "%s", p->name);
        /* every default parses, parameter names are unique, the knob exists */
        lc_params pv;
        ck_assert_msg(lc_params_init(&pv, p->name, p->params, p->n_params) == LC_OK, "%s: %s", p->name, lc_last_error());
        for (int a = 0; a < p->n_params; a++)
            for (int b = a + 1; b < p->n_params; b++) ck_assert_str_ne(p->params[a].name, p->params[b].name);
        if (p->knob) ck_assert_msg(lc_params_get(&pv, p->knob), "%s: knob %s", p->name, p->knob);
        /* a weight pass has all the common parameters */
        if (lc_params_get(&pv, "correct"))
            for (int k = 0; k < 3; k++)
                ck_assert_ptr_nonnull(lc_params_get(&pv, (const char *[]){"ops", "include", "exclude"}[k]));
        lc_params_clear(&pv);
    }
    ck_assert_ptr_null(lc_pass_find("no-such-pass"));
    ck_assert_int_eq(lc_pass_unknown("no-such-pass"), LC_ERR_PARAMETER);
    ck_assert_msg(strstr(lc_last_error(), "unknown pass 'no-such-pass'") && strstr(lc_last_error(), "prune-magnitude") &&
                      strstr(lc_last_error(), "recalibrate-bn"),
                  "%s", lc_last_error());
    const lc_pass *rb = lc_pass_find("recalibrate-bn"), *bc = lc_pass_find("bias-correct");
    ck_assert(rb && rb->needs_calib && bc && bc->needs_calib);
}
END_TEST

/* The descriptor fields the pipeline and the target-size search go by
 * (they never compare pass names): consistent with the parameters, and as
 * written by hand here for the passes whose knobs they search. */
START_TEST(test_pass_descriptors)
{
    int n = 0;
    const lc_pass *const *t = lc_pass_table(&n);
    for (int i = 0; i < n; i++) {
        const lc_pass *p = t[i];
        lc_params pv;
        ck_assert_int_eq(lc_params_init(&pv, p->name, p->params, p->n_params), LC_OK);
        const lc_param_value *knob = p->knob ? lc_params_get(&pv, p->knob) : NULL;
        if (p->grid != LC_GRID_NONE) { /* a numeric knob, the bits grid safe upwards */
            ck_assert_msg(knob && (knob->desc->type == LC_PARAM_FLOAT || knob->desc->type == LC_PARAM_INT), "%s", p->name);
            ck_assert_msg(p->weight_pass, "%s: a searched knob on a pass the search cannot run", p->name);
            ck_assert_int_eq(p->knob_safe, p->grid == LC_GRID_BITS ? LC_SAFE_HIGH : LC_SAFE_LOW);
        }
        if (p->weight_pass) /* the search restricts it to layers with include */
            for (int k = 0; k < 3; k++)
                ck_assert_msg(lc_params_get(&pv, (const char *[]){"ops", "include", "exclude"}[k]), "%s", p->name);
        if (p->entropy) ck_assert_msg(p->weight_pass && !p->knob, "%s", p->name);
        if (p->defer_correction) ck_assert_msg(lc_params_get(&pv, "correct"), "%s", p->name);
        lc_params_clear(&pv);
    }
    static const struct {
        const char *name;
        const char *knob;
        lc_knob_safe safe;
        lc_grid_kind grid;
        bool weight, entropy;
    } want[] = {
        {"prune-magnitude", "sparsity", LC_SAFE_LOW, LC_GRID_SPARSITY, true, false},
        {"prune-hessian", "sparsity", LC_SAFE_LOW, LC_GRID_SPARSITY, true, false},
        {"prune-structured", "ratio", LC_SAFE_LOW, LC_GRID_NONE, false, false},
        {"quantize-kmeans", "bits", LC_SAFE_HIGH, LC_GRID_BITS, true, false},
        {"quantize-gptq", "bits", LC_SAFE_HIGH, LC_GRID_BITS, true, false},
        {"quantize-int8", "fallback", LC_SAFE_HIGH, LC_GRID_NONE, true, false},
        {"binarize", NULL, LC_SAFE_LOW, LC_GRID_NONE, true, false},
        {"huffman", NULL, LC_SAFE_LOW, LC_GRID_NONE, true, true},
        {"fold-batchnorm", NULL, LC_SAFE_LOW, LC_GRID_NONE, false, false},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const lc_pass *p = lc_pass_find(want[i].name);
        ck_assert_ptr_nonnull(p);
        if (want[i].knob) ck_assert_str_eq(p->knob, want[i].knob);
        else ck_assert_ptr_null(p->knob);
        ck_assert_msg(p->knob_safe == want[i].safe && p->grid == want[i].grid && p->weight_pass == want[i].weight &&
                          p->entropy == want[i].entropy,
                      "%s", p->name);
    }
    ck_assert_str_eq(lc_pass_find("fold-batchnorm")->target_removes, "BatchNormalization");

    /* the default target-size recipe loads, and names passes the search runs */
    lc_pipeline *pl = NULL;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_msg(lc_pipeline_load_recipe(pl, lc_pass_default_target_recipe(), "default") == LC_OK, "%s", lc_last_error());
    lc_pipeline_free(pl);
    ck_assert_ptr_nonnull(strstr(lc_pass_default_target_recipe(), "\"prune-hessian\""));
}
END_TEST

/* xoshiro256** as published (Blackman & Vigna), the oracle for lc_rng. */
static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t xoshiro_ref(uint64_t s[4])
{
    uint64_t r = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return r;
}

START_TEST(test_rng)
{
    /* seed 0, stream 0: the state is splitmix64's first four outputs from
     * state 0, a published sequence */
    lc_rng r;
    lc_rng_seed(&r, 0, 0);
    ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(r.s[2], 0x06c45d188009454full);
    ck_assert_uint_eq(r.s[3], 0xf88bb8a8724c81ecull);
    uint64_t ref[4];
    memcpy(ref, r.s, sizeof ref);
    for (int i = 0; i < 1000; i++) ck_assert_uint_eq(lc_rng_next(&r), xoshiro_ref(ref));

    /* same seed and stream: same sequence; another stream or seed: another */
    lc_rng a, b, c, d;
    lc_rng_seed(&a, 42, 7);
    lc_rng_seed(&b, 42, 7);
    lc_rng_seed(&c, 42, 8);
    lc_rng_seed(&d, 43, 7);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = lc_rng_next(&a);
        ck_assert_uint_eq(x, lc_rng_next(&b));
        same_c += x == lc_rng_next(&c);
        same_d += x == lc_rng_next(&d);
    }
    ck_assert_int_eq(same_c, 0);
    ck_assert_int_eq(same_d, 0);

    /* uniform in [0, 1): range, mean, and a 16-bin chi-square test
     * (15 degrees of freedom: 37.7 is the 0.999 quantile) */
    lc_rng_seed(&a, 1, 2);
    enum { N = 160000, BINS = 16 };
    int hist[BINS] = {0};
    double sum = 0;
    for (int i = 0; i < N; i++) {
        double u = lc_rng_uniform(&a);
        ck_assert(u >= 0 && u < 1);
        sum += u;
        hist[(int)(u * BINS)]++;
    }
    double chi = 0, e = (double)N / BINS;
    for (int i = 0; i < BINS; i++) chi += (hist[i] - e) * (hist[i] - e) / e;
    ck_assert_double_lt(fabs(sum / N - 0.5), 0.005);
    ck_assert_double_lt(chi, 37.7);
}
END_TEST

/* ---- a tiny IR builder ---- */

static lc_node *add_node(lc_model *m, const char *name, const char *op, const char *ins, const char *out)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes), LC_OK);
    lc_node *n = calloc(1, sizeof *n);
    n->name = lc_strdup(name);
    n->op_type = lc_strdup(op);
    n->domain = lc_strdup("");
    /* ins: space-separated names; "-" is an omitted input */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ins);
    n->inputs = calloc(8, sizeof *n->inputs);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
        n->inputs[n->n_inputs++] = lc_strdup(strcmp(tok, "-") ? tok : "");
    n->n_outputs = 1;
    n->outputs = calloc(1, sizeof *n->outputs);
    n->outputs[0] = lc_strdup(out);
    g->nodes[g->n_nodes++] = n;
    return n;
}

static lc_tensor *tensor(const char *name, int dtype, int ndim, const int64_t *dims)
{
    lc_tensor *t = lc_tensor_new(name, dtype, ndim, dims);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(lc_tensor_alloc_data(t), LC_OK);
    return t;
}

static void add_init(lc_model *m, const char *name, int dtype, int ndim, const int64_t *dims)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits), LC_OK);
    g->inits[g->n_inits++] = tensor(name, dtype, ndim, dims);
}

static void set_attr_int(lc_node *n, const char *name, int64_t v)
{
    n->attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    lc_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = lc_strdup(name);
    a->type = LC_ATTR_INT;
    a->i = v;
}

/* Conv(W1,B1) -> BN -> Flatten -> Gemm fc1 (Wf, C) -> MatMul mm (Wm) -> Add
 * (Bm) -> Gemm fc2 (W2, transB) -> MatMul mm2 (Wm shared) -> Conv convk
 * (weight from a Constant) -> Conv convd (computed weight) -> MatMul mmh
 * (float16 weight). */
static lc_model *targets_model(void)
{
    lc_model *m = empty_model("t", 13);
    add_init(m, "W1", LC_DTYPE_FLOAT, 4, (int64_t[]){6, 4, 3, 3});
    add_init(m, "B1", LC_DTYPE_FLOAT, 1, (int64_t[]){6});
    const char *bn[] = {"s", "b", "mu", "var"};
    for (int i = 0; i < 4; i++) add_init(m, bn[i], LC_DTYPE_FLOAT, 1, (int64_t[]){6});
    add_init(m, "Wf", LC_DTYPE_FLOAT, 2, (int64_t[]){150, 8});
    add_init(m, "C", LC_DTYPE_FLOAT, 1, (int64_t[]){8});
    add_init(m, "Wm", LC_DTYPE_FLOAT, 2, (int64_t[]){8, 8});
    add_init(m, "Bm", LC_DTYPE_FLOAT, 1, (int64_t[]){8});
    add_init(m, "W2", LC_DTYPE_FLOAT, 2, (int64_t[]){8, 8});
    add_init(m, "Wh", LC_DTYPE_FLOAT16, 2, (int64_t[]){8, 8});
    add_node(m, "conv1", "Conv", "x W1 B1", "y1");
    add_node(m, "bn1", "BatchNormalization", "y1 s b mu var", "y2");
    add_node(m, "flat", "Flatten", "y2", "y3");
    add_node(m, "fc1", "Gemm", "y3 Wf C", "y4");
    add_node(m, "mm", "MatMul", "y4 Wm", "y5");
    add_node(m, "add", "Add", "y5 Bm", "y6");
    set_attr_int(add_node(m, "fc2", "Gemm", "y6 W2", "y7"), "transB", 1);
    add_node(m, "mm2", "MatMul", "y7 Wm", "y8");
    lc_node *k = add_node(m, "wk", "Constant", "", "Wk");
    k->attrs = calloc(1, sizeof *k->attrs);
    k->n_attrs = 1;
    k->attrs[0].name = lc_strdup("value");
    k->attrs[0].type = LC_ATTR_TENSOR;
    k->attrs[0].t = tensor("", LC_DTYPE_FLOAT, 4, (int64_t[]){2, 8, 1, 1});
    add_node(m, "convk", "Conv", "y8 Wk", "y9");
    add_node(m, "neg", "Neg", "Wk", "Wd");
    add_node(m, "convd", "Conv", "y9 Wd", "y10");
    add_node(m, "mmh", "MatMul", "y10 Wh", "y11");
    return m;
}

/* Node names of the selected weights, space-separated, with the weight's
 * tensor name and axes checked against `expect` ("node:tensor:out:in"). */
static void expect_targets(lc_model *m, const char *params, const char *expect)
{
    const lc_pass *p = lc_pass_find("prune-magnitude");
    lc_params pv;
    ck_assert_int_eq(lc_params_init(&pv, p->name, p->params, p->n_params), LC_OK);
    ck_assert_int_eq(lc_params_parse(&pv, params), LC_OK);
    lc_weight *w = NULL;
    int n = 0;
    ck_assert_int_eq(lc_weight_targets(m, &pv, &w, &n), LC_OK);
    char got[512] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s%s:%s:%d:%d", i ? " " : "", w[i].node->name, w[i].node->inputs[w[i].input],
                 w[i].out_axis, w[i].in_axis);
        ck_assert_ptr_eq(m->graph->nodes[w[i].node_index], w[i].node);
        ck_assert_int_eq(w[i].input, 1);
    }
    ck_assert_msg(!strcmp(got, expect), "%s: got '%s', expected '%s'", params, got, expect);
    free(w);
    lc_params_clear(&pv);
}

START_TEST(test_weight_targets)
{
    lc_model *m = targets_model();
    /* defaults: Conv/Gemm/MatMul float32 stored weights; a shared tensor
     * once (mm2 reuses Wm); not computed (convd) nor float16 (mmh) ones */
    expect_targets(m, "", "conv1:W1:0:1 fc1:Wf:1:0 mm:Wm:1:0 fc2:W2:0:1 convk:Wk:0:1");
    expect_targets(m, "ops=Gemm", "fc1:Wf:1:0 fc2:W2:0:1");
    expect_targets(m, "ops=Gemm,ops=Conv", "conv1:W1:0:1 fc1:Wf:1:0 fc2:W2:0:1 convk:Wk:0:1");
    expect_targets(m, "include=fc*", "fc1:Wf:1:0 fc2:W2:0:1");
    expect_targets(m, "include=W1,include=mm", "conv1:W1:0:1 mm:Wm:1:0");
    expect_targets(m, "include=Wk", "convk:Wk:0:1");
    expect_targets(m, "exclude=conv*", "fc1:Wf:1:0 mm:Wm:1:0 fc2:W2:0:1");
    expect_targets(m, "exclude=W[fm2]", "conv1:W1:0:1 convk:Wk:0:1");
    expect_targets(m, "exclude=W?", "");
    expect_targets(m, "ops=Gemm,exclude=fc2", "fc1:Wf:1:0");
    expect_targets(m, "include=fc*,exclude=*1", "fc2:W2:0:1");
    /* excluding mm leaves the shared tensor to mm2, its other reader */
    expect_targets(m, "ops=MatMul,exclude=mm", "mm2:Wm:1:0");
    /* biases and normalization parameters are never weights, whatever the ops */
    expect_targets(m, "ops=BatchNormalization,ops=Add,ops=Neg", "");
    expect_targets(m, "include=B1,include=C,include=Bm,include=s,include=mu", "");
    lc_weight *w = NULL;
    int n = -1;
    ck_assert_int_eq(lc_weight_targets(m, NULL, &w, &n), LC_OK);
    ck_assert_int_eq(n, 5);
    free(w);
    lc_model_free(m);
}
END_TEST

START_TEST(test_graph_levels)
{
    /* a -> b* -> c -> d* ; a -> e* -> d ; d -> f* ; g (no inputs) -> f
     * levels: a 0, b 0, e 0, c 1, d 1 (b and e before it), f 2, g 0 */
    lc_model *m = empty_model("t", 13);
    add_node(m, "a", "Relu", "x", "ya");
    add_node(m, "b", "Relu", "ya", "yb");
    add_node(m, "c", "Relu", "yb", "yc");
    add_node(m, "e", "Relu", "ya", "ye");
    add_node(m, "d", "Add", "yc ye", "yd");
    add_node(m, "g", "Constant", "", "yg");
    add_node(m, "f", "Add", "yd yg", "yf");
    bool marked[] = {false, true, false, true, true, false, true};
    int level[7], n = 0;
    ck_assert_int_eq(lc_graph_levels(m->graph, marked, level, &n), LC_OK);
    const int want[] = {0, 0, 1, 0, 1, 0, 2};
    for (int i = 0; i < 7; i++) ck_assert_msg(level[i] == want[i], "node %d: %d != %d", i, level[i], want[i]);
    ck_assert_int_eq(n, 3);
    /* the same graph listed out of order gives the same levels */
    lc_node *t = m->graph->nodes[1];
    m->graph->nodes[1] = m->graph->nodes[4];
    m->graph->nodes[4] = t;
    bool marked2[] = {false, true, false, true, true, false, true};
    ck_assert_int_eq(lc_graph_levels(m->graph, marked2, level, &n), LC_OK);
    const int want2[] = {0, 1, 1, 0, 0, 0, 2};
    for (int i = 0; i < 7; i++) ck_assert_msg(level[i] == want2[i], "node %d: %d != %d", i, level[i], want2[i]);
    bool none[7] = {false};
    ck_assert_int_eq(lc_graph_levels(m->graph, none, level, &n), LC_OK);
    ck_assert_int_eq(n, 0);
    lc_model_free(m);
}
END_TEST

/* ---- statistics correction on small graphs (values by hand) ---- */

static lc_model *bn_model(int64_t C)
{
    lc_model *m = empty_model("t", 13);
    lc_graph *g = m->graph;
    g->inputs = calloc(1, sizeof *g->inputs);
    g->n_inputs = 1;
    g->inputs[0].name = lc_strdup("x");
    g->inputs[0].type.kind = LC_TYPE_TENSOR;
    g->inputs[0].type.elem_type = LC_DTYPE_FLOAT;
    g->inputs[0].type.has_shape = true;
    g->inputs[0].type.ndim = 3;
    g->inputs[0].type.dims = calloc(3, sizeof(lc_dim));
    g->inputs[0].type.dims[0] = (lc_dim){LC_DIM_PARAM, 0, lc_strdup("N"), NULL};
    g->inputs[0].type.dims[1] = (lc_dim){LC_DIM_VALUE, C, NULL, NULL};
    g->inputs[0].type.dims[2] = (lc_dim){LC_DIM_VALUE, 2, NULL, NULL};
    g->outputs = calloc(1, sizeof *g->outputs);
    g->n_outputs = 1;
    g->outputs[0].name = lc_strdup("y");
    const char *names[] = {"s", "b", "mu", "var"};
    for (int i = 0; i < 4; i++) {
        add_init(m, names[i], LC_DTYPE_FLOAT, 1, (int64_t[]){C});
        for (int c = 0; c < C; c++) ((float *)g->inits[i]->data)[c] = i == 0 || i == 3 ? 1.0f : 0.0f;
    }
    add_node(m, "bn", "BatchNormalization", "x s b mu var", "y");
    return m;
}

static void log_to_buffer(void *user, const char *msg)
{
    char *buf = user;
    size_t l = strlen(buf);
    snprintf(buf + l, 2048 - l, "%s\n", msg);
}

/* correct=auto resolves by the model (BatchNormalization: bn, else bias)
 * and the context (none without calibration data); a pass run with the
 * correction deferred gets correct=none and, for prune-hessian, center
 * following the deferred correction. */
START_TEST(test_correction_resolve)
{
    lc_model *bn = bn_model(2), *plain = bn_model(2);
    free(plain->graph->nodes[0]->op_type); /* only the op types matter here */
    plain->graph->nodes[0]->op_type = lc_strdup("InstanceNormalization");
    const lc_pass *ph = lc_pass_find("prune-hessian");
    lc_params pv;
    ck_assert_int_eq(lc_params_init(&pv, ph->name, ph->params, ph->n_params), LC_OK);
    float x[4] = {1, 2, 3, 4};
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("x", 2, (int64_t[]){2, 2}, x, &d), LC_OK);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    ck_assert_int_eq(lc_correction_of(bn, ctx, &pv), LC_CORRECT_NONE); /* auto without data */
    lc_context_set_calib(ctx, d, 0);
    ck_assert_int_eq(lc_correction_of(bn, ctx, &pv), LC_CORRECT_BN_CHECKED);
    ck_assert_int_eq(lc_correction_of(plain, ctx, &pv), LC_CORRECT_BIAS);
    ck_assert_int_eq(lc_params_set(&pv, "correct", "bn"), LC_OK);
    ck_assert_int_eq(lc_correction_of(plain, ctx, &pv), LC_CORRECT_BN);
    ck_assert_int_eq(lc_correction_of(plain, NULL, &pv), LC_CORRECT_BN); /* explicit: kept, fails later */
    ck_assert_str_eq(lc_correction_name(LC_CORRECT_BIAS), "bias");

    ck_assert_int_eq(lc_pass_defer_correction(ph, &pv, LC_CORRECT_BIAS), LC_OK);
    ck_assert_str_eq(lc_params_str(&pv, "correct"), "none");
    ck_assert_str_eq(lc_params_str(&pv, "center"), "yes");
    ck_assert_int_eq(lc_params_set(&pv, "center", "auto"), LC_OK);
    ck_assert_int_eq(lc_pass_defer_correction(ph, &pv, LC_CORRECT_BN), LC_OK);
    ck_assert_str_eq(lc_params_str(&pv, "center"), "no");
    ck_assert_int_eq(lc_params_set(&pv, "center", "no"), LC_OK); /* a given center stays */
    ck_assert_int_eq(lc_pass_defer_correction(ph, &pv, LC_CORRECT_BIAS), LC_OK);
    ck_assert_str_eq(lc_params_str(&pv, "center"), "no");
    lc_params_clear(&pv);

    /* a pass without `correct` is left as it is */
    const lc_pass *fb = lc_pass_find("fold-batchnorm");
    ck_assert_int_eq(lc_params_init(&pv, fb->name, fb->params, fb->n_params), LC_OK);
    ck_assert_int_eq(lc_correction_of(bn, ctx, &pv), LC_CORRECT_NONE);
    ck_assert_int_eq(lc_pass_defer_correction(fb, &pv, LC_CORRECT_BIAS), LC_OK);
    lc_params_clear(&pv);
    lc_context_free(ctx);
    lc_dataset_free(d);
    lc_model_free(bn);
    lc_model_free(plain);
}
END_TEST

/* Library messages name the C call that supplies what is missing, never
 * a CLI flag (the CLI maps them to its flags). */
START_TEST(test_messages_name_c_calls)
{
    lc_model *m = bn_model(2);
    ck_assert_int_eq(lc_pass_run(m, "recalibrate-bn", "", NULL), LC_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(lc_last_error(), "(lc_context_set_calib)") && !strstr(lc_last_error(), "--"), "%s",
                  lc_last_error());
    lc_pipeline *pl = NULL;
    lc_model *out = NULL;
    ck_assert_int_eq(lc_pipeline_create(&pl), LC_OK);
    ck_assert_int_eq(lc_pipeline_run(pl, m, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(lc_last_error(), "lc_pipeline_add_pass") && !strstr(lc_last_error(), "--"), "%s", lc_last_error());
    ck_assert_int_eq(lc_pipeline_add_pass(pl, "fold-batchnorm", ""), LC_OK);
    lc_pipeline_set_max_drop(pl, 1);
    ck_assert_int_eq(lc_pipeline_run(pl, m, NULL, &out), LC_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(lc_last_error(), "(lc_pipeline_set_validation)") && !strstr(lc_last_error(), "--"), "%s",
                  lc_last_error());
    ck_assert_ptr_null(out);
    lc_pipeline_free(pl);
    lc_model_free(m);
}
END_TEST

START_TEST(test_correct_bn_values)
{
    /* x: 3 samples x 2 channels x 2 positions. Channel 0 holds 1..6 (mean
     * 3.5, biased variance 35/12); channel 1 holds 1e4 + {0,1,0,1,0,1}
     * (mean 1e4 + 0.5, variance 0.25: no cancellation with a large mean).
     * Batches of 2 then 1 sample exercise the merge across batches. */
    lc_model *m = bn_model(2);
    float x[12] = {1, 2, 10000, 10001, 3, 4, 10000, 10001, 5, 6, 10000, 10001};
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("x", 3, (int64_t[]){3, 2, 2}, x, &d), LC_OK);
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    char logbuf[2048] = "";
    lc_context_set_log(ctx, log_to_buffer, logbuf);
    ck_assert_int_eq(lc_correct_bn(m, ctx), LC_ERR_INVALID_ARGUMENT); /* no calibration data */
    lc_context_set_calib(ctx, d, 0);
    lc_context_set_batch(ctx, 2);
    ck_assert_int_eq(lc_pass_run(m, "recalibrate-bn", "", ctx), LC_OK);
    const float *mu = lc_graph_init(m->graph, "mu")->data, *var = lc_graph_init(m->graph, "var")->data;
    ck_assert_float_eq_tol(mu[0], 3.5f, 1e-6f);
    ck_assert_float_eq_tol(var[0], 35.0f / 12.0f, 1e-6f);
    ck_assert_float_eq(mu[1], 10000.5f);
    ck_assert_float_eq_tol(var[1], 0.25f, 1e-6f);
    ck_assert_msg(strstr(logbuf, "re-estimated 1 BatchNormalization"), "%s", logbuf);

    /* a mean that is computed, not stored, is skipped with a log line */
    lc_model_free(m);
    m = bn_model(2);
    free(m->graph->nodes[0]->inputs[3]);
    m->graph->nodes[0]->inputs[3] = lc_strdup("mu2");
    add_node(m, "id", "Identity", "mu", "mu2");
    lc_node *t = m->graph->nodes[0];
    m->graph->nodes[0] = m->graph->nodes[1];
    m->graph->nodes[1] = t;
    logbuf[0] = 0;
    ck_assert_int_eq(lc_correct_bn(m, ctx), LC_OK);
    ck_assert_msg(strstr(logbuf, "skipping 'bn'") && strstr(logbuf, "re-estimated 0"), "%s", logbuf);
    ck_assert_float_eq(((float *)lc_graph_init(m->graph, "mu")->data)[0], 0.0f);
    lc_model_free(m);
    lc_context_free(ctx);
    lc_dataset_free(d);
}
END_TEST

START_TEST(test_correct_bias_adds_bias)
{
    /* y = MatMul-free Gemm: x[N,2] . W[2,3] with no C. Halving W shifts the
     * output mean by -0.5 * mean(x) . W; the correction must create C with
     * exactly that back (here mean(x) = (1, 2), W rows (1,0,2), (0,1,1):
     * ref means (1, 2, 4), pruned (0.5, 1, 2), so C = (0.5, 1, 2)); with
     * beta = 2 the created C is halved. IR 3 also lists C as a graph input. */
    for (int beta2 = 0; beta2 < 2; beta2++) {
        lc_model *ref = empty_model("t", 13);
        ref->ir_version = 3;
        lc_graph *g = ref->graph;
        g->inputs = calloc(1, sizeof *g->inputs);
        g->n_inputs = 1;
        g->inputs[0].name = lc_strdup("x");
        g->inputs[0].type.kind = LC_TYPE_TENSOR;
        g->inputs[0].type.elem_type = LC_DTYPE_FLOAT;
        g->inputs[0].type.has_shape = true;
        g->inputs[0].type.ndim = 2;
        g->inputs[0].type.dims = calloc(2, sizeof(lc_dim));
        g->inputs[0].type.dims[0] = (lc_dim){LC_DIM_PARAM, 0, lc_strdup("N"), NULL};
        g->inputs[0].type.dims[1] = (lc_dim){LC_DIM_VALUE, 2, NULL, NULL};
        g->outputs = calloc(1, sizeof *g->outputs);
        g->n_outputs = 1;
        g->outputs[0].name = lc_strdup("y");
        add_init(ref, "W", LC_DTYPE_FLOAT, 2, (int64_t[]){2, 3});
        float w[6] = {1, 0, 2, 0, 1, 1};
        memcpy(g->inits[0]->data, w, sizeof w);
        lc_node *gemm = add_node(ref, "fc", "Gemm", "x W", "y");
        if (beta2) {
            gemm->attrs = calloc(1, sizeof *gemm->attrs);
            gemm->n_attrs = 1;
            gemm->attrs[0].name = lc_strdup("beta");
            gemm->attrs[0].type = LC_ATTR_FLOAT;
            gemm->attrs[0].f = 2.0f;
        }
        lc_model *m = NULL;
        ck_assert_int_eq(lc_model_clone(ref, &m), LC_OK);
        float *mw = m->graph->inits[0]->data;
        for (int i = 0; i < 6; i++) mw[i] *= 0.5f;
        float x[8] = {0, 1, 2, 3, 1, 2, 1, 2}; /* column means 1, 2 */
        lc_dataset *d = NULL;
        ck_assert_int_eq(lc_dataset_create("x", 2, (int64_t[]){4, 2}, x, &d), LC_OK);
        lc_context *ctx = NULL;
        ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
        lc_context_set_calib(ctx, d, 0);
        lc_context_set_batch(ctx, 3);
        ck_assert_int_eq(lc_correct_bias(m, ref, ctx), LC_OK);
        lc_node *n = m->graph->nodes[0];
        ck_assert_int_eq(n->n_inputs, 3);
        lc_tensor *c = lc_graph_init(m->graph, n->inputs[2]);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->name, "fc_bias");
        ck_assert_int_eq(c->ndim, 1);
        ck_assert_int_eq(c->dims[0], 3);
        const float want[3] = {0.5f, 1.0f, 2.0f};
        for (int k = 0; k < 3; k++) ck_assert_float_eq_tol(((float *)c->data)[k], want[k] / (beta2 ? 2.0f : 1.0f), 1e-6f);
        ck_assert_int_eq(m->graph->n_inputs, 2);
        ck_assert_str_eq(m->graph->inputs[1].name, "fc_bias");
        ck_assert_int_eq(lc_model_verify(m, "after bias-correct"), LC_OK);
        lc_model_free(m);
        lc_model_free(ref);
        lc_context_free(ctx);
        lc_dataset_free(d);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("passes");
    TCase *tc = tcase_create("framework");
    tcase_add_test(tc, test_params_defaults);
    tcase_add_test(tc, test_params_errors);
    tcase_add_test(tc, test_pass_table);
    tcase_add_test(tc, test_pass_descriptors);
    tcase_add_test(tc, test_correction_resolve);
    tcase_add_test(tc, test_messages_name_c_calls);
    tcase_add_test(tc, test_rng);
    tcase_add_test(tc, test_weight_targets);
    tcase_add_test(tc, test_graph_levels);
    tcase_add_test(tc, test_correct_bn_values);
    tcase_add_test(tc, test_correct_bias_adds_bias);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
