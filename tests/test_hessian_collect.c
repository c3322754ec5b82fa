/* lc_hessian_collect on real Conv layers (resnet8, 24 random images by
 * 8) against a brute force in double from the layers' inputs as the
 * executor shows them: every entry of H = sum x x^T and of sum x.
 *   - uncentred H (prune-hessian with BatchNorm re-estimation) is
 *     accumulated by ssyrk over chunks of at most 1024 positions, added up
 *     in double: each entry is within gamma_1025 = 1025 u / (1 - 1025 u)
 *     (u = 2^-24) of sum |x_i x_j| (the standard bound of a float dot
 *     product), and in practice within 2e-6 of sqrt(H_ii H_jj) (measured:
 *     at most 2.4e-7 on these layers);
 *   - centred H (bias correction subtracts n m m^T, which cancels) stays
 *     in double: within gamma_(n+1) in double of sum |x_i x_j|. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_hessian.h"
#include "lc_testutil.h"

/* Column (c, ky, kx) of output position (oy, ox) of image b: the padded
 * input pixel, for square kernels, symmetric pads and no dilation (what
 * resnet8's Conv layers use). */
static double patch(const seen_input *x, int64_t b, int64_t c, int64_t iy, int64_t ix)
{
    const int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3];
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) return 0;
    return x->v[((b * C + c) * H + iy) * W + ix];
}

static void check_layer(lc_model *m, const lc_context *ctx, int node, bool center)
{
    lc_node *nd = m->graph->nodes[node];
    lc_tensor *w = lc_graph_init(m->graph, nd->inputs[1]);
    ck_assert_ptr_nonnull(w);
    lc_weight wt = {.tensor = w, .node = nd, .node_index = node, .input = 1, .out_axis = 0, .in_axis = 1};
    lc_hlayer L;
    ck_assert_int_eq(lc_hlayer_init(&L, &wt), LC_OK);
    ck_assert_int_eq(L.kind, LC_HL_CONV);
    L.center = center;
    ck_assert_int_eq(lc_hessian_collect(m, ctx, &L, 1, NULL), LC_OK);

    bool need[256] = {false};
    ck_assert_int_lt(m->graph->n_nodes, 256);
    need[node] = true;
    seen_input x = {.node = node};
    ck_assert_int_eq(lc_calib_run_inputs(m, ctx, record_input, &x, need), LC_OK);
    ck_assert_int_eq(x.ndim, 4);

    const int64_t ks = w->dims[2], C = w->dims[1], k = L.cols;
    int64_t strides[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    const lc_attr *sa = lc_node_attr(nd, "strides"), *pa = lc_node_attr(nd, "pads");
    for (int i = 0; sa && i < 2; i++) strides[i] = sa->ints[i];
    for (int i = 0; pa && i < 4; i++) pads[i] = pa->ints[i];
    ck_assert_int_eq(pads[0], pads[2]);
    const int64_t OH = (x.dims[2] + 2 * pads[0] - ks) / strides[0] + 1, OW = (x.dims[3] + 2 * pads[1] - ks) / strides[1] + 1;
    const int64_t npos = x.dims[0] * OH * OW;
    ck_assert_int_eq(L.n, npos);
    ck_assert_int_eq(k, C * ks * ks);

    double *col = malloc((size_t)(npos * k) * sizeof *col);
    for (int64_t b = 0, p = 0; b < x.dims[0]; b++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++, p++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t ky = 0; ky < ks; ky++)
                        for (int64_t kx = 0; kx < ks; kx++)
                            col[p * k + (c * ks + ky) * ks + kx] =
                                patch(&x, b, c, oy * strides[0] - pads[0] + ky, ox * strides[1] - pads[1] + kx);
    const double u = center ? ldexp(1, -53) : ldexp(1, -24);
    const double nt = center ? (double)npos + 1 : 1025;
    const double gamma = nt * u / (1 - nt * u);
    double worst_rel = 0, *diag = calloc((size_t)k, sizeof *diag);
    for (int64_t p = 0; p < npos; p++)
        for (int64_t i = 0; i < k; i++) diag[i] += col[p * k + i] * col[p * k + i];
    for (int64_t i = 0; i < k; i++) {
        double s = 0, sa_ = 0;
        for (int64_t p = 0; p < npos; p++) {
            s += col[p * k + i];
            sa_ += fabs(col[p * k + i]);
        }
        ck_assert_msg(fabs(L.xsum[i] - s) <= 1e-12 * sa_ + 1e-300, "sum x[%lld]: %.17g, brute force %.17g", (long long)i,
                      L.xsum[i], s);
        for (int64_t j = i; j < k; j++) {
            double h = 0, ha = 0;
            for (int64_t p = 0; p < npos; p++) {
                double a = col[p * k + i] * col[p * k + j];
                h += a;
                ha += fabs(a);
            }
            double e = fabs(L.h[i * k + j] - h);
            ck_assert_msg(e <= gamma * ha, "H[%lld,%lld] = %.17g, brute force %.17g (bound %.3g)", (long long)i,
                          (long long)j, L.h[i * k + j], h, gamma * ha);
            if (diag[i] > 0 && diag[j] > 0) worst_rel = fmax(worst_rel, e / sqrt(diag[i] * diag[j]));
        }
    }
    ck_assert_msg(worst_rel <= (center ? 1e-13 : 2e-6), "relative error %.3g", worst_rel);
    free(diag);
    free(col);
    free(x.v);
    lc_hlayer_release(&L);
}

static void run(bool center)
{
    const int64_t dims[4] = {24, 1, 28, 28};
    rnd_seed(11);
    float *data = rnd_array(24 * 28 * 28);
    lc_dataset *d = NULL;
    lc_context *ctx = NULL;
    ck_assert_int_eq(lc_dataset_create("calib", 4, dims, data, &d), LC_OK);
    ck_assert_int_eq(lc_context_create(&ctx), LC_OK);
    lc_context_set_calib(ctx, d, 0);
    lc_context_set_batch(ctx, 8);
    lc_model *m = load_zoo("resnet8.onnx");
    /* 3x3 stride 1 (k = 144, one image per chunk), 3x3 stride 2, and the
       widest (k = 576, 20 images of 7x7 side by side) */
    check_layer(m, ctx, nth_node(m, "Conv", 1), center);
    check_layer(m, ctx, nth_node(m, "Conv", 3), center);
    check_layer(m, ctx, nth_node(m, "Conv", 7), center);
    lc_model_free(m);
    lc_context_free(ctx);
    lc_dataset_free(d);
    free(data);
}

START_TEST(conv_hessian_uncentred_float_chunks) { run(false); }
END_TEST

START_TEST(conv_hessian_centred_double) { run(true); }
END_TEST

int main(void)
{
    Suite *s = suite_create("hessian_collect");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv_hessian_uncentred_float_chunks);
    tcase_add_test(tc, conv_hessian_centred_double);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
