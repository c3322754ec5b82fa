/* Conv's direct path (2-D kernels larger than 1x1 with few output
 * channels: phase planes and register blocks of output channels) against a
 * naive double-precision loop with the epilogue (bias, residual,
 * activation) applied by hand, on shapes that reach every block size, row
 * chunk and tail; and the same bits on 1 and 3 threads. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_nn.h"
#include "lc_testutil.h"

/* y = act(sum over channels and taps of x * w + bias + residual), in
 * double, straight from the ONNX definition (2-D, NCHW). */
static void naive_conv(int64_t n, int64_t c, int64_t h, int64_t wd, int64_t m, int64_t group, const int64_t *k,
                       const int64_t *st, const int64_t *dl, const int64_t *pads, int64_t oh, int64_t ow,
                       const float *x, const float *w, const float *b, const float *r, const lc_nn_epilogue *e,
                       float *y)
{
    const int64_t cg = c / group, mg = m / group;
    for (int64_t img = 0; img < n; img++)
        for (int64_t o = 0; o < m; o++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t a = 0; a < k[0]; a++)
                            for (int64_t q = 0; q < k[1]; q++) {
                                int64_t ih = i * st[0] - pads[0] + a * dl[0], iw = j * st[1] - pads[1] + q * dl[1];
                                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                acc += (double)x[((img * c + (o / mg) * cg + ci) * h + ih) * wd + iw] *
                                       w[((o * cg + ci) * k[0] + a) * k[1] + q];
                            }
                    const int64_t at = ((img * m + o) * oh + i) * ow + j;
                    if (r) acc += r[at];
                    float v = (float)acc;
                    if (e->act == LC_NN_ACT_RELU) v = v < 0 ? 0 : v;
                    else if (e->act == LC_NN_ACT_CLIP) v = v < e->lo ? e->lo : v > e->hi ? e->hi : v;
                    else if (e->act == LC_NN_ACT_LEAKY) v = v < 0 ? e->alpha * v : v;
                    y[at] = v;
                }
}

/* One random 2-D Conv that takes the direct path (kernel larger than 1x1,
 * few output channels), with a random epilogue. */
static void direct_case(int iter)
{
    const int64_t n = rnd_int(1, 3), group = rnd() % 4 == 0 ? rnd_int(2, 3) : 1;
    const int64_t cg = rnd_int(1, 9), mg = rnd_int(1, 19), c = cg * group, m = mg * group;
    int64_t k[2], st[2], dl[2], pads[4], in[2];
    for (int i = 0; i < 2; i++) {
        k[i] = rnd_int(1, 5);
        st[i] = rnd_int(1, 3);
        dl[i] = rnd_int(1, 2);
        pads[i] = rnd_int(0, 2);
        pads[2 + i] = rnd_int(0, 2);
    }
    if (k[0] * k[1] == 1) k[1] = 3; /* 1x1 ones take im2col + sgemm */
    /* widths that give output rows of 1 to ~40: one or two 8-float
     * vectors per chunk, partial tails, the 6- and 8-channel blocks */
    in[0] = rnd_int(1, 12);
    in[1] = iter % 3 == 0 ? rnd_int(1, 9) : rnd_int(9, 40);
    for (int i = 0; i < 2; i++) {
        const int64_t ek = (k[i] - 1) * dl[i] + 1;
        if (in[i] + pads[i] + pads[2 + i] < ek) in[i] = ek;
    }
    lc_node *node = calloc(1, sizeof *node);
    ck_assert_ptr_nonnull(node);
    node->op_type = lc_strdup("Conv");
    attr_ints(node, "strides", 2, st);
    attr_ints(node, "dilations", 2, dl);
    attr_ints(node, "pads", 4, pads);
    lc_nn_geom g;
    ck_assert_int_eq(lc_nn_geom_init(node, 2, in, k, false, &g), LC_OK);
    const int64_t oh = g.out[1], ow = g.out[2], yn = n * m * oh * ow;
    float *x = rnd_array(n * c * in[0] * in[1]), *w = rnd_array(m * cg * k[0] * k[1]), *b = rnd_array(m);
    float *r = rnd_array(yn), *y = malloc((size_t)yn * sizeof *y), *want = malloc((size_t)yn * sizeof *want);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_nonnull(want);
    lc_nn_epilogue e = {(int)(rnd() % 4), -0.3f, 0.4f, 0.1f, rnd() % 2 == 0};
    const bool with_bias = rnd() % 4 != 0;
    float *scratch = malloc((size_t)(lc_conv_scratch_floats(&g, n, c, m, group) + 1) * sizeof *scratch);
    ck_assert_ptr_nonnull(scratch);
    /* stale values in the scratch and output must not leak through */
    for (int64_t i = 0; i < lc_conv_scratch_floats(&g, n, c, m, group); i++) scratch[i] = NAN;
    for (int64_t i = 0; i < yn; i++) y[i] = NAN;
    lc_conv_fast_ex(&g, n, c, m, group, x, w, with_bias ? b : NULL, e.residual ? r : NULL, &e, y, scratch);
    naive_conv(n, c, in[0], in[1], m, group, k, st, dl, pads, oh, ow, x, w, with_bias ? b : NULL,
               e.residual ? r : NULL, &e, want);
    for (int64_t i = 0; i < yn; i++)
        ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i]),
                      "case %d (n %lld c %lld m %lld group %lld in %lldx%lld k %lldx%lld stride %lldx%lld act %d "
                      "residual %d): y[%lld] = %g, want %g",
                      iter, (long long)n, (long long)c, (long long)m, (long long)group, (long long)in[0],
                      (long long)in[1], (long long)k[0], (long long)k[1], (long long)st[0], (long long)st[1], e.act,
                      e.residual, (long long)i, y[i], want[i]);
    free(x);
    free(w);
    free(b);
    free(r);
    free(y);
    free(want);
    free(scratch);
    lc_node_free(node);
}

START_TEST(conv_direct_matches_naive)
{
    for (int iter = 0; iter < 300; iter++) direct_case(iter);
}
END_TEST

/* The zoo's layer shapes themselves (resnet8, lenet5), batch 3. */
START_TEST(conv_direct_zoo_shapes)
{
    const int64_t shapes[][6] = {/* c, hw, m, k, stride, pad */
                                 {1, 28, 16, 3, 1, 1},  {16, 28, 16, 3, 1, 1}, {16, 28, 32, 3, 2, 1},
                                 {32, 14, 32, 3, 1, 1}, {32, 14, 64, 3, 2, 1}, {64, 7, 64, 3, 1, 1},
                                 {1, 28, 6, 5, 1, 2},   {6, 14, 16, 5, 1, 0}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        const int64_t c = shapes[t][0], hw = shapes[t][1], m = shapes[t][2], n = 3;
        int64_t k[2] = {shapes[t][3], shapes[t][3]}, st[2] = {shapes[t][4], shapes[t][4]}, dl[2] = {1, 1};
        int64_t pads[4] = {shapes[t][5], shapes[t][5], shapes[t][5], shapes[t][5]}, in[2] = {hw, hw};
        lc_node *node = calloc(1, sizeof *node);
        node->op_type = lc_strdup("Conv");
        attr_ints(node, "strides", 2, st);
        attr_ints(node, "pads", 4, pads);
        lc_nn_geom g;
        ck_assert_int_eq(lc_nn_geom_init(node, 2, in, k, false, &g), LC_OK);
        const int64_t yn = n * m * g.out_size;
        float *x = rnd_array(n * c * hw * hw), *w = rnd_array(m * c * k[0] * k[1]), *b = rnd_array(m);
        float *y = malloc((size_t)yn * sizeof *y), *want = malloc((size_t)yn * sizeof *want);
        float *scratch = malloc((size_t)(lc_conv_scratch_floats(&g, n, c, m, 1) + 1) * sizeof *scratch);
        lc_nn_epilogue e = {LC_NN_ACT_RELU, 0, 0, 0, false};
        lc_conv_fast_ex(&g, n, c, m, 1, x, w, b, NULL, &e, y, scratch);
        naive_conv(n, c, hw, hw, m, 1, k, st, dl, pads, g.out[1], g.out[2], x, w, b, NULL, &e, want);
        for (int64_t i = 0; i < yn; i++)
            ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i]), "shape %zu: y[%lld] = %g, want %g",
                          t, (long long)i, y[i], want[i]);
        free(x);
        free(w);
        free(b);
        free(y);
        free(want);
        free(scratch);
        lc_node_free(node);
    }
}
END_TEST

/* Threads split a batch's images in Conv's direct and depthwise paths:
 * the outputs are the same bits on 1 and 3 threads, fused or not. */
START_TEST(conv_threads_same_bits)
{
    const char *src = getenv("LC_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    const char *models[] = {"resnet8", "dscnn", "lenet5"};
    for (size_t t = 0; t < sizeof models / sizeof *models; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/benchmarks/zoo/%s.onnx", src, models[t]);
        lc_model *m = NULL;
        ck_assert_int_eq(lc_model_load(path, &m), LC_OK);
        for (unsigned flags = 0; flags <= LC_EXEC_NO_FUSION; flags += LC_EXEC_NO_FUSION) {
            lc_array in = {LC_DTYPE_FLOAT, 4, {7, 1, 28, 28}, NULL};
            float *x = rnd_array(7 * 28 * 28);
            in.data = x;
            lc_executor *e1 = NULL, *e3 = NULL;
            ck_assert_int_eq(lc_executor_create_ex(m, &in, 1, 1, flags, &e1), LC_OK);
            ck_assert_int_eq(lc_executor_create_ex(m, &in, 1, 3, flags, &e3), LC_OK);
            ck_assert_int_eq(lc_executor_run(e1, &in, 1), LC_OK);
            ck_assert_int_eq(lc_executor_run(e3, &in, 1), LC_OK);
            lc_array o1, o3;
            ck_assert_int_eq(lc_executor_output(e1, 0, &o1, NULL), LC_OK);
            ck_assert_int_eq(lc_executor_output(e3, 0, &o3, NULL), LC_OK);
            int64_t k = 1;
            for (int d = 0; d < o1.ndim; d++) k *= o1.dims[d];
            ck_assert_int_eq(k, 70);
            ck_assert_msg(memcmp(o1.data, o3.data, (size_t)k * sizeof(float)) == 0, "%s: threads change the output",
                          models[t]);
            lc_executor_free(e1);
            lc_executor_free(e3);
            free(x);
        }
        lc_model_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_direct");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, conv_direct_matches_naive);
    tcase_add_test(tc, conv_direct_zoo_shapes);
    tcase_add_test(tc, conv_threads_same_bits);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
