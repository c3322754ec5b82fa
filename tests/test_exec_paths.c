/* The executor's alternative paths: the matrix-vector path of lc_sgemm,
 * the depthwise and epilogue paths of Conv against the plain oracle, and
 * plan-time fusion (fused plans agree with unfused ones within 1e-5 relative, are
 * deterministic, and refuse observers). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_nn.h"
#include "lc_testutil.h"

/* ---- lc_sgemm with m == 1 or n == 1 (the sgemv path) ---- */

START_TEST(sgemv_path_matches_reference)
{
    for (int iter = 0; iter < 200; iter++) {
        bool ta = iter & 1, tb = iter & 2, row = iter & 4;
        int64_t m = row ? 1 : rnd_int(1, 90), n = row ? rnd_int(1, 90) : 1, k = rnd_int(1, 120);
        int64_t lda = (ta ? m : k) + rnd_int(0, 3), ldb = (tb ? k : n) + rnd_int(0, 3), ldc = n + rnd_int(0, 3);
        float alpha = iter % 3 ? rnd_float() * 2 : 1.0f, beta = iter % 5 < 2 ? 0.0f : rnd_float();
        float *a = rnd_array((ta ? k : m) * lda), *b = rnd_array((tb ? n : k) * ldb);
        float *c1 = rnd_array(m * ldc), *c2 = malloc((size_t)(m * ldc) * sizeof *c2);
        memcpy(c2, c1, (size_t)(m * ldc) * sizeof *c2);
        if (beta == 0.0f) c1[0] = NAN; /* stale data must not leak through beta = 0 */
        lc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
        lc_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double got = c1[i * ldc + j], want = c2[i * ldc + j];
                ck_assert_msg(fabs(got - want) <= 1e-4 + 1e-4 * fabs(want), "iter %d (%lld, %lld): got %g want %g",
                              iter, (long long)i, (long long)j, got, want);
            }
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
}
END_TEST

/* ---- Conv fast path with an epilogue against the oracle ---- */

static float act_ref(float x, const lc_nn_epilogue *e)
{
    switch (e->act) {
    case LC_NN_ACT_RELU: return x < 0 ? 0.0f : x;
    case LC_NN_ACT_CLIP: return x < e->lo ? e->lo : x > e->hi ? e->hi : x;
    case LC_NN_ACT_LEAKY: return x < 0 ? e->alpha * x : x;
    default: return x;
    }
}

/* Random 2-D conv (kind 0 general, 1 depthwise, 2 pointwise, 3 depthwise
 * 3x3 stride 1 without dilation, the in-place kernels' geometry, on rows
 * of 1 to 70: partial and whole 8- and 16-float column blocks, inputs
 * inside the row or across its edges, blocks of 4, 2 and 1 rows) through
 * lc_conv_fast_ex with a random epilogue, against lc_conv_ref followed by
 * the epilogue written out here. */
static void conv_epilogue_case(int kind)
{
    int64_t n = rnd_int(1, 3), cg = rnd_int(1, 4), mg = rnd_int(1, 4), group = 1;
    if (kind == 1 || kind == 3) {
        group = rnd_int(2, 6);
        cg = 1;
        mg = rnd_int(1, 2);
    }
    const int64_t c = cg * group, m = mg * group;
    lc_nn_geom g;
    memset(&g, 0, sizeof g);
    g.nsp = 2;
    g.in[0] = g.out[0] = g.k[0] = g.stride[0] = g.dil[0] = 1;
    for (int a = 1; a < 3; a++) {
        g.in[a] = kind == 3 ? rnd_int(1, a == 1 ? 20 : 70) : rnd_int(1, 30);
        g.k[a] = kind == 2 ? 1 : kind == 3 ? 3 : rnd_int(1, 5);
        g.stride[a] = kind >= 2 ? 1 : rnd_int(1, 3);
        g.dil[a] = kind >= 2 ? 1 : rnd_int(1, 2);
        g.pad_b[a] = kind == 2 ? 0 : rnd_int(0, 2);
        g.pad_e[a] = kind == 2 ? 0 : rnd_int(0, 2);
        int64_t span = g.in[a] + g.pad_b[a] + g.pad_e[a] - ((g.k[a] - 1) * g.dil[a] + 1);
        if (span < 0) {
            g.pad_e[a] -= span;
            span = 0;
        }
        g.out[a] = span / g.stride[a] + 1;
    }
    g.in_size = g.in[1] * g.in[2];
    g.out_size = g.out[1] * g.out[2];
    g.k_size = g.k[1] * g.k[2];
    lc_nn_epilogue e = {0};
    e.act = (int)rnd_int(0, 3);
    e.lo = -0.3f;
    e.hi = 0.5f;
    e.alpha = 0.1f;
    e.residual = rnd() & 1;
    const int64_t ny = n * m * g.out_size;
    float *x = rnd_array(n * c * g.in_size), *w = rnd_array(m * cg * g.k_size), *b = rnd_array(m);
    float *r = rnd_array(ny), *y = rnd_array(ny), *want = rnd_array(ny);
    float *scratch = malloc((size_t)(lc_conv_scratch_floats(&g, n, c, m, group) + 1) * sizeof *scratch);
    lc_conv_fast_ex(&g, n, c, m, group, x, w, b, r, &e, y, scratch);
    lc_conv_ref(&g, n, c, m, group, x, w, b, want);
    for (int64_t i = 0; i < ny; i++) {
        float v = act_ref(e.residual ? want[i] + r[i] : want[i], &e);
        ck_assert_msg(fabsf(y[i] - v) <= 1e-4f + 1e-4f * fabsf(v), "kind %d element %lld: got %g want %g", kind,
                      (long long)i, y[i], v);
    }
    free(x);
    free(w);
    free(b);
    free(r);
    free(y);
    free(want);
    free(scratch);
}

START_TEST(conv_epilogue_matches_reference)
{
    for (int iter = 0; iter < 240; iter++) conv_epilogue_case(iter % 4);
}
END_TEST

/* ---- fusion: fused against unfused plans ---- */

static const char *source_dir(void)
{
    const char *d = getenv("LC_SOURCE_DIR");
    return d ? d : ".";
}

/* Runs `m` at batch `batch` with and without fusion on the same input;
 * returns the fused plan's count of merged nodes. */
static int compare_fused(lc_model *m, int batch, int threads)
{
    lc_executor *fused = NULL, *plain = NULL;
    ck_assert_int_eq(lc_executor_create_batch(m, batch, threads, &fused), LC_OK);
    lc_array in;
    const char *name;
    ck_assert_int_eq(lc_executor_input(fused, 0, &in, &name), LC_OK);
    ck_assert_int_eq(lc_executor_create_ex(m, &in, 1, threads, LC_EXEC_NO_FUSION, &plain), LC_OK);
    ck_assert_int_eq(lc_executor_fused_count(plain), 0);
    int64_t nx = 1;
    for (int d = 0; d < in.ndim; d++) nx *= in.dims[d];
    float *x = rnd_array(nx);
    in.data = x;
    ck_assert_int_eq(lc_executor_run(fused, &in, 1), LC_OK);
    ck_assert_int_eq(lc_executor_run(plain, &in, 1), LC_OK);
    for (int o = 0; o < lc_executor_output_count(fused); o++) {
        lc_array a, b;
        ck_assert_int_eq(lc_executor_output(fused, o, &a, NULL), LC_OK);
        ck_assert_int_eq(lc_executor_output(plain, o, &b, NULL), LC_OK);
        ck_assert_int_eq(a.ndim, b.ndim);
        int64_t cnt = 1;
        for (int d = 0; d < a.ndim; d++) {
            ck_assert_int_eq(a.dims[d], b.dims[d]);
            cnt *= a.dims[d];
        }
        const float *pa = a.data, *pb = b.data;
        double maxdiff = 0, maxabs = 0;
        for (int64_t i = 0; i < cnt; i++) {
            maxdiff = fmax(maxdiff, fabs((double)pa[i] - pb[i]));
            maxabs = fmax(maxabs, fabs((double)pb[i]));
        }
        ck_assert_msg(maxabs > 0, "output %d is all zeros", o);
        ck_assert_msg(maxdiff <= 1e-5 * maxabs, "output %d: max diff %g, max abs %g", o, maxdiff, maxabs);
    }
    /* same inputs, same thread count: bit-identical */
    lc_array first;
    ck_assert_int_eq(lc_executor_output(fused, 0, &first, NULL), LC_OK);
    int64_t cnt = 1;
    for (int d = 0; d < first.ndim; d++) cnt *= first.dims[d];
    float *copy = malloc((size_t)cnt * sizeof *copy);
    memcpy(copy, first.data, (size_t)cnt * sizeof *copy);
    ck_assert_int_eq(lc_executor_run(fused, &in, 1), LC_OK);
    ck_assert_int_eq(lc_executor_output(fused, 0, &first, NULL), LC_OK);
    ck_assert_mem_eq(first.data, copy, (size_t)cnt * sizeof *copy);
    int merged = lc_executor_fused_count(fused);
    free(copy);
    free(x);
    lc_executor_free(fused);
    lc_executor_free(plain);
    return merged;
}

START_TEST(zoo_fused_matches_unfused)
{
    /* node counts merged: lenet300 2 Relu; lenet5 4 Relu; resnet8 BN, Add
     * and Relu chains (7 + 3 + 7); dscnn 9 BN + 9 Relu */
    static const struct {
        const char *name;
        int merged;
    } zoo[] = {{"lenet300", 2}, {"lenet5", 4}, {"resnet8", 17}, {"dscnn", 18}};
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/benchmarks/zoo/%s.onnx", source_dir(), zoo[i].name);
        lc_model *m = NULL;
        ck_assert_msg(lc_model_load(path, &m) == LC_OK, "%s: %s", path, lc_last_error());
        for (int threads = 1; threads <= 2; threads++) {
            int merged = compare_fused(m, 3, threads);
            ck_assert_msg(merged == zoo[i].merged, "%s: %d nodes merged, expected %d", zoo[i].name, merged,
                          zoo[i].merged);
        }
        lc_model_free(m);
    }
}
END_TEST

/* ---- a small graph built in memory: fusion of every supported kind ---- */

static char **strs(int n, const char *const *v)
{
    char **out = calloc((size_t)n, sizeof *out);
    for (int i = 0; i < n; i++) out[i] = lc_strdup(v[i]);
    return out;
}

static lc_node *add_node(lc_model *m, const char *op, int nin, const char *const *ins, const char *out)
{
    lc_graph *g = m->graph;
    ck_assert_int_eq(lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes), LC_OK);
    lc_node *n = calloc(1, sizeof *n);
    n->name = lc_strdup(out);
    n->op_type = lc_strdup(op);
    n->domain = lc_strdup("");
    n->n_inputs = nin;
    n->inputs = strs(nin, ins);
    n->n_outputs = 1;
    n->outputs = strs(1, &out);
    g->nodes[g->n_nodes++] = n;
    return n;
}

/* A random float initializer (values in [lo, lo + 1]). */
static void add_init(lc_model *m, const char *name, int ndim, const int64_t *dims, float lo)
{
    lc_graph *g = m->graph;
    int64_t cnt = 1;
    for (int d = 0; d < ndim; d++) cnt *= dims[d];
    float *v = rnd_array(cnt);
    for (int64_t i = 0; i < cnt; i++) v[i] = lo + 0.5f * (v[i] + 1.0f);
    lc_tensor *t = NULL;
    ck_assert_int_eq(lc_tensor_create(name, LC_DTYPE_FLOAT, ndim, dims, v, &t), LC_OK);
    free(v);
    ck_assert_int_eq(lc_vec_reserve((void **)&g->inits, &g->cap_inits, g->n_inits + 1, sizeof *g->inits), LC_OK);
    g->inits[g->n_inits++] = t;
}

static void add_value(lc_value_info **list, int *n, const char *name, int ndim, const int64_t *dims)
{
    *list = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    lc_value_info *vi = &(*list)[(*n)++];
    memset(vi, 0, sizeof *vi);
    vi->name = lc_strdup(name);
    if (ndim <= 0) return;
    vi->type.kind = LC_TYPE_TENSOR;
    vi->type.elem_type = LC_DTYPE_FLOAT;
    vi->type.has_shape = true;
    vi->type.ndim = ndim;
    vi->type.dims = calloc((size_t)ndim, sizeof *vi->type.dims);
    for (int d = 0; d < ndim; d++) {
        vi->type.dims[d].kind = LC_DIM_VALUE;
        vi->type.dims[d].value = dims[d];
    }
}

START_TEST(synthetic_fusions_match_unfused)
{
    lc_model *m = empty_model("fusions", 13);
    lc_graph *g = m->graph;
    const int64_t xd[4] = {2, 3, 11, 13}, w1[4] = {4, 3, 3, 3}, c4[1] = {4}, w2[4] = {6, 3, 1, 1}, c6[1] = {6};
    const int64_t w3[4] = {4, 1, 3, 3}, none[1] = {0}, pads1[4] = {1, 1, 1, 1};
    add_value(&g->inputs, &g->n_inputs, "x", 4, xd);
    add_init(m, "w1", 4, w1, -0.5f);
    add_init(m, "scale", 1, c4, 0.5f);
    add_init(m, "beta", 1, c4, -0.5f);
    add_init(m, "mean", 1, c4, -0.5f);
    add_init(m, "var", 1, c4, 0.1f);
    add_init(m, "w2", 4, w2, -0.5f);
    add_init(m, "b2", 1, c6, -0.5f);
    add_init(m, "w3", 4, w3, -0.5f);
    add_init(m, "b3", 1, c4, -0.5f);
    add_init(m, "lo", 0, none, -0.6f); /* Clip bounds: scalars in [-0.6, -0.1] and [0.2, 0.7] */
    add_init(m, "hi", 0, none, 0.2f);
    /* Conv (no bias) -> BatchNormalization -> LeakyRelu */
    const char *i1[] = {"x", "w1"}, *i2[] = {"c1", "scale", "beta", "mean", "var"}, *i3[] = {"bn"};
    attr_ints(add_node(m, "Conv", 2, i1, "c1"), "pads", 4, pads1);
    add_node(m, "BatchNormalization", 5, i2, "bn");
    add_attr(add_node(m, "LeakyRelu", 1, i3, "y1"), "alpha", LC_ATTR_FLOAT)->f = 0.2f;
    /* 1x1 Conv -> Clip with constant bounds */
    const char *i4[] = {"x", "w2", "b2"}, *i5[] = {"c2", "lo", "hi"};
    add_node(m, "Conv", 3, i4, "c2");
    add_node(m, "Clip", 3, i5, "y2");
    /* depthwise Conv + residual (y1, computed earlier) -> Relu */
    const char *i6[] = {"y1", "w3", "b3"}, *i7[] = {"c3", "y1"}, *i8[] = {"s3"};
    lc_node *dw = add_node(m, "Conv", 3, i6, "c3");
    attr_ints(dw, "pads", 4, pads1);
    add_attr(dw, "group", LC_ATTR_INT)->i = 4;
    add_node(m, "Add", 2, i7, "s3");
    add_node(m, "Relu", 1, i8, "y3");
    add_value(&g->outputs, &g->n_outputs, "y1", 0, NULL);
    add_value(&g->outputs, &g->n_outputs, "y2", 0, NULL);
    add_value(&g->outputs, &g->n_outputs, "y3", 0, NULL);
    /* merged: BN, LeakyRelu, Clip, Add, Relu */
    for (int threads = 1; threads <= 2; threads++) ck_assert_int_eq(compare_fused(m, 2, threads), 5);
    lc_model_free(m);
}
END_TEST

static lc_status count_calls(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                             int n_out, const lc_value *const *out)
{
    (void)node_index, (void)node, (void)n_in, (void)in, (void)n_out, (void)out;
    ++*(int *)user;
    return LC_OK;
}

START_TEST(observer_needs_unfused_plan)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/benchmarks/zoo/resnet8.onnx", source_dir());
    lc_model *m = NULL;
    ck_assert_int_eq(lc_model_load(path, &m), LC_OK);
    lc_executor *ex = NULL;
    ck_assert_int_eq(lc_executor_create_batch(m, 2, 1, &ex), LC_OK);
    lc_array in;
    ck_assert_int_eq(lc_executor_input(ex, 0, &in, NULL), LC_OK);
    int64_t nx = 1;
    for (int d = 0; d < in.ndim; d++) nx *= in.dims[d];
    float *x = rnd_array(nx);
    in.data = x;
    int calls = 0;
    lc_executor_set_observer(ex, count_calls, &calls);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(calls, 0);
    lc_executor_free(ex);
    /* unfused: every node is observed */
    ck_assert_int_eq(lc_executor_create_ex(m, &in, 1, 1, LC_EXEC_NO_FUSION, &ex), LC_OK);
    lc_executor_set_observer(ex, count_calls, &calls);
    ck_assert_int_eq(lc_executor_run(ex, &in, 1), LC_OK);
    int executed = 0;
    for (int i = 0; i < lc_executor_node_count(ex); i++) executed += !lc_executor_node_folded(ex, i);
    ck_assert_int_eq(calls, executed);
    ck_assert_int_eq(executed, m->graph->n_nodes);
    lc_executor_free(ex);
    free(x);
    lc_model_free(m);
}
END_TEST

/* ---- Gemm with B packed at plan time (AVX-512) against lc_sgemm_ref ---- */

START_TEST(packed_gemm_matches_reference)
{
    /* the kernel of the level in effect (test_exec_paths_avx2 takes the
     * AVX2 one); none for the generic build */
    if (lc_nn_isa() < LC_ISA_AVX2) return;
    void (*packed)(bool, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, float, float *,
                   const lc_nn_epilogue *) = lc_nn_isa() >= LC_ISA_AVX512 ? lc_gemm_packed_avx512 : lc_gemm_packed_avx2;
    for (int iter = 0; iter < 120; iter++) {
        const bool ta = iter & 1, tb = iter & 2;
        const int64_t m = rnd_int(1, 40), n = rnd_int(1, 100), k = rnd_int(1, 70);
        const int64_t lda = (ta ? m : k) + rnd_int(0, 3), ldb = (tb ? k : n) + rnd_int(0, 3);
        const float alpha = iter % 3 ? rnd_float() * 2 : 1.0f, beta = iter % 4 < 2 ? 0.0f : rnd_float();
        lc_nn_epilogue e = {0};
        e.act = (int)rnd_int(0, 3);
        e.lo = -0.3f;
        e.hi = 0.4f;
        e.alpha = 0.2f;
        float *a = rnd_array((ta ? k : m) * lda), *b = rnd_array((tb ? n : k) * ldb);
        float *c1 = rnd_array(m * n), *c2 = malloc((size_t)(m * n) * sizeof *c2);
        float *bp = malloc((size_t)lc_gemm_packed_floats(k, n) * sizeof *bp);
        memcpy(c2, c1, (size_t)(m * n) * sizeof *c2);
        if (beta == 0.0f) c1[0] = NAN; /* y is only written when beta = 0 */
        lc_gemm_pack_b(tb, k, n, b, ldb, bp);
        packed(ta, m, n, k, alpha, a, lda, bp, beta, c1, &e);
        lc_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, n);
        for (int64_t i = 0; i < m * n; i++) {
            const double got = c1[i], want = act_ref(c2[i], &e);
            ck_assert_msg(fabs(got - want) <= 1e-4 + 1e-4 * fabs(want), "iter %d (m %lld n %lld k %lld) [%lld]: got %g want %g",
                          iter, (long long)m, (long long)n, (long long)k, (long long)i, got, want);
        }
        free(a);
        free(b);
        free(c1);
        free(c2);
        free(bp);
    }
}
END_TEST

/* LC_ISA caps the kernels' instruction set (the _avx2 and _generic ctest
 * variants rely on it): the level in effect is the cap or below, and
 * exactly the cap on a CPU that has it (read from /proc/cpuinfo, not from
 * the code under test). */
START_TEST(isa_cap_is_honoured)
{
    const char *env = getenv("LC_ISA");
    const int isa = lc_nn_isa();
    ck_assert_int_ge(isa, LC_ISA_GENERIC);
    ck_assert_int_le(isa, LC_ISA_AVX512);
    if (!env) return;
    int cap = !strcmp(env, "generic") ? LC_ISA_GENERIC : !strcmp(env, "avx2") ? LC_ISA_AVX2 : LC_ISA_AVX512;
    ck_assert_int_le(isa, cap);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192];
    bool avx2 = false;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            avx2 = strstr(line, " avx2") && strstr(line, " fma");
            break;
        }
    fclose(f);
    if (cap == LC_ISA_GENERIC) ck_assert_int_eq(isa, LC_ISA_GENERIC);
    if (cap == LC_ISA_AVX2 && avx2) ck_assert_int_eq(isa, LC_ISA_AVX2);
    ck_assert_str_eq(lc_nn_isa_name(isa), isa == LC_ISA_AVX512 ? "avx512" : isa == LC_ISA_AVX2 ? "avx2" : "generic");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exec_paths");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sgemv_path_matches_reference);
    tcase_add_test(tc, conv_epilogue_matches_reference);
    tcase_add_test(tc, zoo_fused_matches_unfused);
    tcase_add_test(tc, synthetic_fusions_match_unfused);
    tcase_add_test(tc, observer_needs_unfused_plan);
    tcase_add_test(tc, isa_cap_is_honoured);
    tcase_add_test(tc, packed_gemm_matches_reference);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
