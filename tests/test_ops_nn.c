/* Neural-network kernels: fast paths against plain oracles. Conv's fast
 * path (im2col + sgemm, pointwise, depthwise) against lc_conv_ref on
 * random shapes, lc_sgemm against lc_sgemm_ref, and the kernels whose
 * opset or attribute corners the ONNX conformance cases do not reach
 * (Pad from inputs/axes/negative pads/wrap, MatMul broadcasting, Gemm's
 * C broadcast, ConvTranspose with groups/dilations/output_padding,
 * MaxPool indices, BatchNormalization spatial=0, Softmax's two
 * semantics, QuantizeLinear rounding and saturation) against brute-force
 * oracles written here. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_nn.h"
#include "lc_testutil.h"

/* ---- nodes and values ---- */

static lc_node *node_new(const char *op)
{
    lc_node *n = calloc(1, sizeof *n);
    ck_assert_ptr_nonnull(n);
    n->name = lc_strdup("n");
    n->op_type = lc_strdup(op);
    n->domain = lc_strdup("");
    return n;
}

static lc_value *val_new(int dtype, int ndim, const int64_t *dims, const void *data)
{
    lc_value *v = calloc(1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    v->name = "v";
    v->dtype = dtype;
    v->ndim = ndim;
    if (ndim) memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
    size_t bytes = (size_t)lc_value_numel(v) * lc_dtype_size(dtype);
    v->data = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(v->data);
    if (data && bytes) memcpy(v->data, data, bytes);
    v->nbytes = bytes;
    v->is_const = true;
    return v;
}

static lc_value *out_new(void)
{
    lc_value *v = calloc(1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    v->name = "out";
    return v;
}

static void val_free(lc_value *v)
{
    if (!v) return;
    free(v->data);
    free(v);
}

/* Plans and runs one node; allocates the outputs. */
static lc_status call(lc_node *n, int64_t opset, int nin, lc_value **in, int nout, lc_value **out)
{
    const lc_kernel *k = lc_kernel_find(n->op_type, opset, NULL);
    ck_assert_msg(k != NULL, "no kernel for %s at opset %lld", n->op_type, (long long)opset);
    lc_kernel_args a = {.node = n, .opset = opset, .n_in = nin, .in = (const lc_value *const *)in,
                        .n_out = nout, .out = out, .threads = 1};
    lc_status s = k->prepare(&a);
    if (s) {
        if (k->free_state) k->free_state(a.state);
        return s;
    }
    for (int i = 0; i < nout; i++) {
        if (!out[i]) continue;
        size_t bytes = (size_t)lc_value_numel(out[i]) * lc_dtype_size(out[i]->dtype);
        out[i]->data = calloc(bytes ? bytes : 1, 1);
        out[i]->nbytes = bytes;
    }
    s = k->run(&a);
    if (k->free_state) k->free_state(a.state);
    return s;
}

static void assert_close(const float *got, const float *want, int64_t n, double rtol, double atol)
{
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        ck_assert_msg(d <= atol + rtol * fabs(want[i]), "element %lld: got %.8g, want %.8g", (long long)i, got[i],
                      want[i]);
    }
}

/* ---- sgemm ---- */

START_TEST(sgemm_matches_reference)
{
    for (int iter = 0; iter < 60; iter++) {
        bool ta = rnd() & 1, tb = rnd() & 1;
        int64_t m = rnd_int(1, 70), n = rnd_int(1, 70), k = rnd_int(0, 90);
        int64_t lda = (ta ? m : k) + rnd_int(0, 3), ldb = (tb ? k : n) + rnd_int(0, 3), ldc = n + rnd_int(0, 3);
        float alpha = iter % 3 ? rnd_float() * 2 : 1.0f, beta = iter % 4 ? rnd_float() : 0.0f;
        float *a = rnd_array((ta ? k : m) * lda + 1), *b = rnd_array((tb ? n : k) * ldb + 1);
        float *c1 = rnd_array(m * ldc), *c2 = malloc((size_t)(m * ldc) * sizeof *c2);
        memcpy(c2, c1, (size_t)(m * ldc) * sizeof *c2);
        lc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
        lc_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
        for (int64_t i = 0; i < m; i++) assert_close(c1 + i * ldc, c2 + i * ldc, n, 1e-4, 1e-4);
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
}
END_TEST

/* ---- Conv: fast against reference ---- */

/* One random Conv through the kernel, checked against lc_conv_ref and an
 * independent output-size formula. kind: 0 general, 1 depthwise,
 * 2 pointwise, 3 auto_pad. */
static void conv_case(int nsp, int kind)
{
    int64_t n = rnd_int(1, 3), group = 1, cg = rnd_int(1, 5), mg = rnd_int(1, 5);
    if (kind == 0 && rnd() % 2) group = rnd_int(2, 3);
    if (kind == 1) {
        group = rnd_int(2, 6);
        cg = 1;
        mg = rnd_int(1, 3);
    }
    int64_t c = cg * group, m = mg * group;
    int64_t in[3], k[3], st[3], dl[3], pads[6];
    for (int i = 0; i < nsp; i++) {
        in[i] = rnd_int(1, kind == 1 ? 20 : 9); /* depthwise: reach the 8-wide path */
        k[i] = kind == 2 ? 1 : rnd_int(1, 4);
        st[i] = kind == 2 ? 1 : rnd_int(1, 3);
        dl[i] = kind == 2 ? 1 : rnd_int(1, 2);
        pads[i] = kind == 2 ? 0 : rnd_int(0, 2);
        pads[nsp + i] = kind == 2 ? 0 : rnd_int(0, 2);
        int64_t ek = (k[i] - 1) * dl[i] + 1;
        /* keep a valid output, also for VALID (no padding) */
        if (in[i] + (kind == 3 ? 0 : pads[i] + pads[nsp + i]) < ek) in[i] = ek;
    }
    lc_node *node = node_new("Conv");
    attr_int(node, "group", group);
    attr_ints(node, "kernel_shape", nsp, k);
    attr_ints(node, "strides", nsp, st);
    attr_ints(node, "dilations", nsp, dl);
    const char *ap = "NOTSET";
    if (kind == 3) {
        static const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
        ap = modes[rnd() % 3];
        attr_string(node, "auto_pad", ap);
    } else attr_ints(node, "pads", 2 * nsp, pads);

    int64_t xd[5] = {n, c}, wd[5] = {m, cg};
    for (int i = 0; i < nsp; i++) {
        xd[2 + i] = in[i];
        wd[2 + i] = k[i];
    }
    int64_t xn = lc_shape_numel(nsp + 2, xd, 0), wn = lc_shape_numel(nsp + 2, wd, 0);
    float *xdat = rnd_array(xn), *wdat = rnd_array(wn), *bdat = rnd_array(m);
    bool with_bias = rnd() % 2;
    lc_value *in_v[3] = {val_new(LC_DTYPE_FLOAT, nsp + 2, xd, xdat), val_new(LC_DTYPE_FLOAT, nsp + 2, wd, wdat),
                         with_bias ? val_new(LC_DTYPE_FLOAT, 1, &m, bdat) : NULL};
    lc_value *out = out_new();
    lc_status s = call(node, 11, 3, in_v, 1, &out);
    ck_assert_msg(s == LC_OK, "Conv failed: %s", lc_last_error());

    /* output sizes from the ONNX formulas */
    ck_assert_int_eq(out->ndim, nsp + 2);
    ck_assert_int_eq(out->dims[0], n);
    ck_assert_int_eq(out->dims[1], m);
    for (int i = 0; i < nsp; i++) {
        int64_t ek = (k[i] - 1) * dl[i] + 1, want;
        if (!strcmp(ap, "NOTSET")) want = (in[i] + pads[i] + pads[nsp + i] - ek) / st[i] + 1;
        else if (!strcmp(ap, "VALID")) want = (in[i] - ek) / st[i] + 1;
        else want = (in[i] + st[i] - 1) / st[i];
        ck_assert_int_eq(out->dims[2 + i], want);
    }

    lc_nn_geom g;
    ck_assert_int_eq(lc_nn_geom_init(node, nsp, in, k, false, &g), LC_OK);
    int64_t yn = lc_value_numel(out);
    float *ref = malloc((size_t)yn * sizeof *ref);
    lc_conv_ref(&g, n, c, m, group, xdat, wdat, with_bias ? bdat : NULL, ref);
    assert_close(out->data, ref, yn, 1e-4, 1e-5);

    free(ref);
    free(xdat);
    free(wdat);
    free(bdat);
    for (int i = 0; i < 3; i++) val_free(in_v[i]);
    val_free(out);
    lc_node_free(node);
}

START_TEST(conv_fast_matches_reference)
{
    for (int nsp = 1; nsp <= 3; nsp++)
        for (int kind = 0; kind < 4; kind++)
            for (int iter = 0; iter < (nsp == 3 ? 6 : 25); iter++) conv_case(nsp, kind);
}
END_TEST

/* Batches whose size is not a multiple of the images sharing one GEMM
 * (small outputs), with groups, straight through lc_conv_fast. */
START_TEST(conv_batched_gemm_remainder)
{
    const int64_t shapes[][5] = {/* n, c, m, hw, group */ {7, 3, 4, 10, 1}, {5, 4, 6, 5, 2}, {9, 2, 2, 3, 1}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int64_t n = shapes[t][0], c = shapes[t][1], m = shapes[t][2], hw = shapes[t][3], group = shapes[t][4];
        lc_node *node = node_new("Conv");
        int64_t k[2] = {3, 3}, in[2] = {hw, hw}, pads[4] = {1, 1, 1, 1};
        attr_ints(node, "pads", 4, pads);
        lc_nn_geom g;
        ck_assert_int_eq(lc_nn_geom_init(node, 2, in, k, false, &g), LC_OK);
        float *x = rnd_array(n * c * hw * hw), *w = rnd_array(m * c / group * 9), *b = rnd_array(m);
        const int64_t yn = n * m * g.out_size;
        float *y = malloc((size_t)yn * sizeof *y), *ref = malloc((size_t)yn * sizeof *ref);
        float *scratch = malloc((size_t)(lc_conv_scratch_floats(&g, n, c, m, group) + 1) * sizeof *scratch);
        lc_conv_fast(&g, n, c, m, group, x, w, b, y, scratch);
        lc_conv_ref(&g, n, c, m, group, x, w, b, ref);
        assert_close(y, ref, yn, 1e-4, 1e-5);
        free(x);
        free(w);
        free(b);
        free(y);
        free(ref);
        free(scratch);
        lc_node_free(node);
    }
}
END_TEST

/* Conv geometry against numbers worked out by hand (ONNX's examples). */
START_TEST(conv_geometry_examples)
{
    /* 5x5 input, 3x3 kernel, stride 2, pads 1 -> 3x3; SAME_UPPER with an
     * odd total puts the extra pad at the end, SAME_LOWER at the start. */
    lc_node *node = node_new("Conv");
    int64_t k[2] = {3, 3}, s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1}, in[2] = {5, 5};
    attr_ints(node, "strides", 2, s2);
    attr_ints(node, "pads", 4, p1);
    lc_nn_geom g;
    ck_assert_int_eq(lc_nn_geom_init(node, 2, in, k, false, &g), LC_OK);
    ck_assert_int_eq(g.out[1], 3);
    ck_assert_int_eq(g.out[2], 3);
    lc_node_free(node);

    node = node_new("Conv");
    int64_t in6[2] = {6, 6};
    attr_ints(node, "strides", 2, s2);
    attr_string(node, "auto_pad", "SAME_UPPER");
    ck_assert_int_eq(lc_nn_geom_init(node, 2, in6, k, false, &g), LC_OK);
    ck_assert_int_eq(g.out[2], 3); /* total pad (3-1)*2+3-6 = 1 */
    ck_assert_int_eq(g.pad_b[2], 0);
    ck_assert_int_eq(g.pad_e[2], 1);
    lc_node_free(node);

    node = node_new("Conv");
    attr_ints(node, "strides", 2, s2);
    attr_string(node, "auto_pad", "SAME_LOWER");
    ck_assert_int_eq(lc_nn_geom_init(node, 2, in6, k, false, &g), LC_OK);
    ck_assert_int_eq(g.pad_b[2], 1);
    ck_assert_int_eq(g.pad_e[2], 0);
    lc_node_free(node);

    /* ceil_mode: 4 wide, kernel 2, stride 2, end pad 1: ceil gives 3
     * windows, but the third would start in the padding, so 2 remain */
    node = node_new("MaxPool");
    int64_t k1[1] = {2}, in1[1] = {4}, s1[1] = {2}, pe[2] = {0, 1};
    attr_ints(node, "strides", 1, s1);
    attr_ints(node, "pads", 2, pe);
    ck_assert_int_eq(lc_nn_geom_init(node, 1, in1, k1, true, &g), LC_OK);
    ck_assert_int_eq(g.out[2], 2);
    lc_node_free(node);
}
END_TEST

/* ---- ConvTranspose against a brute-force scatter ---- */

START_TEST(convtranspose_matches_scatter)
{
    for (int iter = 0; iter < 30; iter++) {
        int64_t n = rnd_int(1, 2), group = rnd_int(1, 2), cg = rnd_int(1, 3), mg = rnd_int(1, 3);
        int64_t c = cg * group, m = mg * group, in[2], k[2], st[2], dl[2], pads[4], op[2];
        for (int i = 0; i < 2; i++) {
            in[i] = rnd_int(1, 5);
            k[i] = rnd_int(1, 3);
            st[i] = rnd_int(1, 3);
            dl[i] = rnd_int(1, 2);
            op[i] = rnd_int(0, st[i] - 1);
            pads[i] = rnd_int(0, 1);
            pads[2 + i] = rnd_int(0, 1);
        }
        lc_node *node = node_new("ConvTranspose");
        attr_int(node, "group", group);
        attr_ints(node, "strides", 2, st);
        attr_ints(node, "dilations", 2, dl);
        attr_ints(node, "pads", 4, pads);
        attr_ints(node, "output_padding", 2, op);
        int64_t xd[4] = {n, c, in[0], in[1]}, wd[4] = {c, mg, k[0], k[1]};
        float *x = rnd_array(lc_shape_numel(4, xd, 0)), *w = rnd_array(lc_shape_numel(4, wd, 0)), *b = rnd_array(m);
        lc_value *iv[3] = {val_new(LC_DTYPE_FLOAT, 4, xd, x), val_new(LC_DTYPE_FLOAT, 4, wd, w),
                           val_new(LC_DTYPE_FLOAT, 1, &m, b)};
        lc_value *out = out_new();
        lc_status s = call(node, 11, 3, iv, 1, &out);
        int64_t oh = st[0] * (in[0] - 1) + op[0] + (k[0] - 1) * dl[0] + 1 - pads[0] - pads[2];
        int64_t ow = st[1] * (in[1] - 1) + op[1] + (k[1] - 1) * dl[1] + 1 - pads[1] - pads[3];
        if (oh < 1 || ow < 1) {
            ck_assert_int_ne(s, LC_OK);
        } else {
            ck_assert_msg(s == LC_OK, "%s", lc_last_error());
            ck_assert_int_eq(out->dims[2], oh);
            ck_assert_int_eq(out->dims[3], ow);
            int64_t yn = n * m * oh * ow;
            double *want = calloc((size_t)yn, sizeof *want);
            for (int64_t i = 0; i < n * m; i++)
                for (int64_t j = 0; j < oh * ow; j++) want[i * oh * ow + j] = b[i % m];
            for (int64_t img = 0; img < n; img++)
                for (int64_t ci = 0; ci < c; ci++)
                    for (int64_t mi = 0; mi < mg; mi++)
                        for (int64_t ih = 0; ih < in[0]; ih++)
                            for (int64_t iw = 0; iw < in[1]; iw++)
                                for (int64_t kh = 0; kh < k[0]; kh++)
                                    for (int64_t kw = 0; kw < k[1]; kw++) {
                                        int64_t y0 = ih * st[0] - pads[0] + kh * dl[0];
                                        int64_t y1 = iw * st[1] - pads[1] + kw * dl[1];
                                        if (y0 < 0 || y0 >= oh || y1 < 0 || y1 >= ow) continue;
                                        int64_t oc = ci / cg * mg + mi;
                                        want[((img * m + oc) * oh + y0) * ow + y1] +=
                                            (double)x[((img * c + ci) * in[0] + ih) * in[1] + iw] *
                                            w[((ci * mg + mi) * k[0] + kh) * k[1] + kw];
                                    }
            float *wf = malloc((size_t)yn * sizeof *wf);
            for (int64_t i = 0; i < yn; i++) wf[i] = (float)want[i];
            assert_close(out->data, wf, yn, 1e-4, 1e-5);
            free(wf);
            free(want);
        }
        free(x);
        free(w);
        free(b);
        for (int i = 0; i < 3; i++) val_free(iv[i]);
        val_free(out);
        lc_node_free(node);
    }
}
END_TEST

/* ---- MatMul broadcasting and Gemm's C ---- */

START_TEST(matmul_broadcast_matches_oracle)
{
    /* A [2,1,3,4] x B [3,4,5] -> [2,3,3,5]; 1-D operands drop their axis */
    struct { int an, bn; int64_t ad[4], bd[4]; } cases[] = {
        {4, 3, {2, 1, 3, 4}, {3, 4, 5}},
        {1, 3, {4}, {2, 4, 3}},
        {3, 1, {2, 3, 4}, {4}},
        {1, 1, {4}, {4}},
        {3, 2, {2, 3, 4}, {4, 6}},
        {2, 3, {3, 4}, {2, 4, 6}},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int an = cases[t].an, bn = cases[t].bn;
        const int64_t *ad = cases[t].ad, *bd = cases[t].bd;
        float *a = rnd_array(lc_shape_numel(an, ad, 0)), *b = rnd_array(lc_shape_numel(bn, bd, 0));
        lc_value *iv[2] = {val_new(LC_DTYPE_FLOAT, an, ad, a), val_new(LC_DTYPE_FLOAT, bn, bd, b)};
        lc_node *node = node_new("MatMul");
        lc_value *out = out_new();
        ck_assert_int_eq(call(node, 13, 2, iv, 1, &out), LC_OK);
        /* promote to rank 4 and compute by broadcasting indices */
        int64_t A[4] = {1, 1, 1, 1}, B[4] = {1, 1, 1, 1};
        if (an == 1) A[3] = ad[0];
        else for (int i = 0; i < an; i++) A[4 - an + i] = ad[i];
        if (bn == 1) B[2] = bd[0];
        else for (int i = 0; i < bn; i++) B[4 - bn + i] = bd[i];
        int64_t b0 = A[0] > B[0] ? A[0] : B[0], b1 = A[1] > B[1] ? A[1] : B[1], M = A[2], K = A[3], N = B[3];
        int64_t expect_numel = b0 * b1 * M * N;
        ck_assert_int_eq(lc_value_numel(out), expect_numel);
        float *want = malloc((size_t)expect_numel * sizeof *want);
        for (int64_t i0 = 0; i0 < b0; i0++)
            for (int64_t i1 = 0; i1 < b1; i1++)
                for (int64_t r = 0; r < M; r++)
                    for (int64_t cc = 0; cc < N; cc++) {
                        double acc = 0;
                        for (int64_t p = 0; p < K; p++) {
                            int64_t ai = (((i0 % A[0]) * A[1] + i1 % A[1]) * M + r) * K + p;
                            int64_t bi = (((i0 % B[0]) * B[1] + i1 % B[1]) * K + p) * N + cc;
                            acc += (double)a[ai] * b[bi];
                        }
                        want[((i0 * b1 + i1) * M + r) * N + cc] = (float)acc;
                    }
        assert_close(out->data, want, expect_numel, 1e-4, 1e-5);
        int want_rank = an == 1 && bn == 1 ? 0 : (an > bn ? an : bn) - (an == 1) - (bn == 1);
        ck_assert_int_eq(out->ndim, want_rank);
        free(want);
        free(a);
        free(b);
        val_free(iv[0]);
        val_free(iv[1]);
        val_free(out);
        lc_node_free(node);
    }
}
END_TEST

START_TEST(gemm_broadcast_and_legacy)
{
    int64_t ad[2] = {4, 3}, bd[2] = {5, 4}, cd[1] = {5}; /* transA, transB */
    float *a = rnd_array(12), *b = rnd_array(20), *c = rnd_array(5);
    lc_value *iv[3] = {val_new(LC_DTYPE_FLOAT, 2, ad, a), val_new(LC_DTYPE_FLOAT, 2, bd, b),
                       val_new(LC_DTYPE_FLOAT, 1, cd, c)};
    lc_node *node = node_new("Gemm");
    attr_int(node, "transA", 1);
    attr_int(node, "transB", 1);
    attr_float(node, "alpha", 0.5f);
    attr_float(node, "beta", 2.0f);
    lc_value *out = out_new();
    ck_assert_int_eq(call(node, 13, 3, iv, 1, &out), LC_OK);
    ck_assert_int_eq(out->dims[0], 3);
    ck_assert_int_eq(out->dims[1], 5);
    float want[15];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            double acc = 0;
            for (int p = 0; p < 4; p++) acc += (double)a[p * 3 + i] * b[j * 4 + p];
            want[i * 5 + j] = (float)(0.5 * acc + 2.0 * c[j]);
        }
    assert_close(out->data, want, 15, 1e-5, 1e-6);
    val_free(out);

    /* opset 6 without broadcast=1: a vector C is refused; with it, allowed */
    out = out_new();
    ck_assert_int_eq(call(node, 6, 3, iv, 1, &out), LC_ERR_SHAPE);
    val_free(out);
    attr_int(node, "broadcast", 1);
    out = out_new();
    ck_assert_int_eq(call(node, 6, 3, iv, 1, &out), LC_OK);
    assert_close(out->data, want, 15, 1e-5, 1e-6);
    val_free(out);
    /* C is optional only from opset 11 */
    out = out_new();
    ck_assert_int_eq(call(node, 9, 2, iv, 1, &out), LC_ERR_INVALID_ARGUMENT);
    val_free(out);
    for (int i = 0; i < 3; i++) val_free(iv[i]);
    free(a);
    free(b);
    free(c);
    lc_node_free(node);
}
END_TEST

/* ---- Pad ---- */

/* numpy.pad's rule for one axis (modes 0 constant, 1 reflect, 2 edge,
 * 3 wrap): the source index of padded position i, or -1. */
static int64_t np_index(int mode, int64_t i, int64_t n)
{
    while (i < 0 || i >= n) {
        if (mode == 0) return -1;
        if (mode == 2) return i < 0 ? 0 : n - 1;
        if (mode == 3) i = i < 0 ? i + n : i - n;
        else if (n == 1) return 0;
        else i = i < 0 ? -i : 2 * (n - 1) - i; /* reflect step by step */
    }
    return i;
}

START_TEST(pad_modes_match_oracle)
{
    static const char *modes[] = {"constant", "reflect", "edge", "wrap"};
    int64_t xd[3] = {2, 3, 4};
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    for (int mode = 0; mode < 4; mode++)
        for (int variant = 0; variant < 3; variant++) {
            /* variant 0: all axes from input; 1: axes input (opset 18);
             * 2: negative pads (crop) */
            int64_t pads_all[6] = {0, 2, 5, 1, 0, 3}, ax[2] = {-2, 2}, pv[4] = {2, 5, 0, 3};
            if (variant == 2) {
                pads_all[1] = -1;
                pads_all[5] = -2;
            }
            lc_node *node = node_new("Pad");
            attr_string(node, "mode", modes[mode]);
            float cv = 7.5f;
            int64_t six = 6, four = 4, two = 2;
            lc_value *iv[4] = {val_new(LC_DTYPE_FLOAT, 3, xd, x),
                               variant == 1 ? val_new(LC_DTYPE_INT64, 1, &four, pv)
                                            : val_new(LC_DTYPE_INT64, 1, &six, pads_all),
                               val_new(LC_DTYPE_FLOAT, 0, NULL, &cv),
                               variant == 1 ? val_new(LC_DTYPE_INT64, 1, &two, ax) : NULL};
            lc_value *out = out_new();
            ck_assert_msg(call(node, 19, 4, iv, 1, &out) == LC_OK, "%s", lc_last_error());
            int64_t od[3];
            for (int d = 0; d < 3; d++) od[d] = xd[d] + pads_all[d] + pads_all[3 + d];
            if (variant == 1) { /* axes 1 and 2: pads 2,5 before, 0,3 after */
                od[0] = 2;
                od[1] = 3 + 2 + 0;
                od[2] = 4 + 5 + 3;
            }
            ck_assert_int_eq(out->dims[0], od[0]);
            ck_assert_int_eq(out->dims[1], od[1]);
            ck_assert_int_eq(out->dims[2], od[2]);
            int64_t pb[3] = {pads_all[0], pads_all[1], pads_all[2]};
            if (variant == 1) {
                pb[0] = 0;
                pb[1] = 2;
                pb[2] = 5;
            }
            const float *y = out->data;
            for (int64_t i = 0; i < od[0]; i++)
                for (int64_t j = 0; j < od[1]; j++)
                    for (int64_t k = 0; k < od[2]; k++) {
                        int64_t s0 = np_index(mode, i - pb[0], 2), s1 = np_index(mode, j - pb[1], 3),
                                s2 = np_index(mode, k - pb[2], 4);
                        float want = s0 < 0 || s1 < 0 || s2 < 0 ? 7.5f : x[(s0 * 3 + s1) * 4 + s2];
                        ck_assert_msg(y[(i * od[1] + j) * od[2] + k] == want, "%s variant %d at %lld,%lld,%lld",
                                      modes[mode], variant, (long long)i, (long long)j, (long long)k);
                    }
            for (int i = 0; i < 4; i++) val_free(iv[i]);
            val_free(out);
            lc_node_free(node);
        }

    /* opset 2 attribute form with value; opset 1 names it `paddings` */
    for (int v = 1; v <= 2; v++) {
        lc_node *node = node_new("Pad");
        int64_t p[6] = {0, 0, 1, 0, 0, 1};
        attr_ints(node, v == 1 ? "paddings" : "pads", 6, p);
        attr_float(node, "value", -3.0f);
        lc_value *iv[1] = {val_new(LC_DTYPE_FLOAT, 3, xd, x)};
        lc_value *out = out_new();
        ck_assert_int_eq(call(node, v, 1, iv, 1, &out), LC_OK);
        ck_assert_int_eq(out->dims[2], 6);
        const float *y = out->data;
        ck_assert_float_eq(y[0], -3.0f);
        ck_assert_float_eq(y[1], 0.0f);
        ck_assert_float_eq(y[5], -3.0f);
        val_free(iv[0]);
        val_free(out);
        lc_node_free(node);
    }
}
END_TEST

/* ---- pools, batch norm, softmax, quantization ---- */

START_TEST(maxpool_indices_match_oracle)
{
    int64_t xd[4] = {2, 2, 5, 6};
    float x[120];
    for (int i = 0; i < 120; i++) x[i] = rnd_float();
    for (int order = 0; order < 2; order++) {
        lc_node *node = node_new("MaxPool");
        int64_t k[2] = {3, 2}, st[2] = {2, 2}, pads[4] = {1, 0, 1, 1};
        attr_ints(node, "kernel_shape", 2, k);
        attr_ints(node, "strides", 2, st);
        attr_ints(node, "pads", 4, pads);
        attr_int(node, "storage_order", order);
        lc_value *iv[1] = {val_new(LC_DTYPE_FLOAT, 4, xd, x)};
        lc_value *out[2] = {out_new(), out_new()};
        ck_assert_int_eq(call(node, 12, 1, iv, 2, out), LC_OK);
        int64_t oh = (5 + 2 - 3) / 2 + 1, ow = (6 + 1 - 2) / 2 + 1;
        ck_assert_int_eq(out[0]->dims[2], oh);
        ck_assert_int_eq(out[0]->dims[3], ow);
        ck_assert_int_eq(out[1]->dtype, LC_DTYPE_INT64);
        const float *y = out[0]->data;
        const int64_t *ind = out[1]->data;
        for (int64_t p = 0; p < 4; p++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    float best = -INFINITY;
                    int64_t bi = -1, bh = 0, bw = 0;
                    for (int64_t a = 0; a < 3; a++)
                        for (int64_t b = 0; b < 2; b++) {
                            int64_t h = i * 2 - 1 + a, w = j * 2 + b;
                            if (h < 0 || h >= 5 || w < 0 || w >= 6) continue;
                            if (x[p * 30 + h * 6 + w] > best) {
                                best = x[p * 30 + h * 6 + w];
                                bi = 1;
                                bh = h;
                                bw = w;
                            }
                        }
                    ck_assert_int_eq(bi, 1);
                    int64_t o = (p * oh + i) * ow + j;
                    ck_assert_float_eq(y[o], best);
                    ck_assert_int_eq(ind[o], p * 30 + (order ? bw * 5 + bh : bh * 6 + bw));
                }
        val_free(iv[0]);
        val_free(out[0]);
        val_free(out[1]);
        lc_node_free(node);
    }
}
END_TEST

START_TEST(batchnorm_spatial0_and_training)
{
    int64_t xd[3] = {2, 3, 4}, pd[2] = {3, 4};
    float x[24], sc[12], b[12], mean[12], var[12];
    for (int i = 0; i < 24; i++) x[i] = rnd_float();
    for (int i = 0; i < 12; i++) {
        sc[i] = rnd_float();
        b[i] = rnd_float();
        mean[i] = rnd_float();
        var[i] = rnd_float() + 1.5f;
    }
    lc_node *node = node_new("BatchNormalization");
    attr_int(node, "spatial", 0);
    attr_float(node, "epsilon", 1e-3f);
    lc_value *iv[5] = {val_new(LC_DTYPE_FLOAT, 3, xd, x), val_new(LC_DTYPE_FLOAT, 2, pd, sc),
                       val_new(LC_DTYPE_FLOAT, 2, pd, b), val_new(LC_DTYPE_FLOAT, 2, pd, mean),
                       val_new(LC_DTYPE_FLOAT, 2, pd, var)};
    lc_value *out = out_new();
    ck_assert_int_eq(call(node, 7, 5, iv, 1, &out), LC_OK);
    float want[24];
    for (int i = 0; i < 24; i++) {
        int e = i % 12;
        want[i] = (float)((x[i] - mean[e]) / sqrt(var[e] + 1e-3) * sc[e] + b[e]);
    }
    assert_close(out->data, want, 24, 1e-5, 1e-6);
    val_free(out);
    /* from opset 9 `spatial` is gone: [3, 4] statistics no longer fit */
    out = out_new();
    ck_assert_int_eq(call(node, 9, 5, iv, 1, &out), LC_ERR_SHAPE);
    val_free(out);
    for (int i = 0; i < 5; i++) val_free(iv[i]);
    lc_node_free(node);

    node = node_new("BatchNormalization");
    attr_int(node, "training_mode", 1);
    int64_t c3 = 3;
    lc_value *iv2[5] = {val_new(LC_DTYPE_FLOAT, 3, xd, x), val_new(LC_DTYPE_FLOAT, 1, &c3, sc),
                        val_new(LC_DTYPE_FLOAT, 1, &c3, b), val_new(LC_DTYPE_FLOAT, 1, &c3, mean),
                        val_new(LC_DTYPE_FLOAT, 1, &c3, var)};
    out = out_new();
    ck_assert_int_eq(call(node, 15, 5, iv2, 1, &out), LC_ERR_UNSUPPORTED);
    val_free(out);
    for (int i = 0; i < 5; i++) val_free(iv2[i]);
    lc_node_free(node);
}
END_TEST

START_TEST(softmax_opset_semantics)
{
    int64_t xd[3] = {2, 3, 4};
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = rnd_float() * 3;
    for (int lg = 0; lg < 2; lg++)
        for (int v = 0; v < 2; v++) {
            int64_t opset = v ? 13 : 11;
            lc_node *node = node_new(lg ? "LogSoftmax" : "Softmax");
            attr_int(node, "axis", 1);
            lc_value *iv[1] = {val_new(LC_DTYPE_FLOAT, 3, xd, x)};
            lc_value *out = out_new();
            ck_assert_int_eq(call(node, opset, 1, iv, 1, &out), LC_OK);
            float want[24];
            for (int i = 0; i < 2; i++) {
                if (!v) { /* opset 11: rows of 12 */
                    double sum = 0;
                    for (int j = 0; j < 12; j++) sum += exp(x[i * 12 + j]);
                    for (int j = 0; j < 12; j++)
                        want[i * 12 + j] = (float)(lg ? x[i * 12 + j] - log(sum) : exp(x[i * 12 + j]) / sum);
                } else /* opset 13: along axis 1 only */
                    for (int k = 0; k < 4; k++) {
                        double sum = 0;
                        for (int j = 0; j < 3; j++) sum += exp(x[i * 12 + j * 4 + k]);
                        for (int j = 0; j < 3; j++) {
                            double xv = x[i * 12 + j * 4 + k];
                            want[i * 12 + j * 4 + k] = (float)(lg ? xv - log(sum) : exp(xv) / sum);
                        }
                    }
            }
            assert_close(out->data, want, 24, 1e-5, 1e-6);
            val_free(iv[0]);
            val_free(out);
            lc_node_free(node);
        }
}
END_TEST

START_TEST(quantize_rounding_and_saturation)
{
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300.0f, -300.0f, 3.49f};
    int64_t d8 = 8;
    float scale = 1.0f;
    /* uint8, zero point 10: half to even, then clamp to [0, 255] */
    uint8_t zu = 10;
    lc_node *node = node_new("QuantizeLinear");
    lc_value *iv[3] = {val_new(LC_DTYPE_FLOAT, 1, &d8, x), val_new(LC_DTYPE_FLOAT, 0, NULL, &scale),
                       val_new(LC_DTYPE_UINT8, 0, NULL, &zu)};
    lc_value *out = out_new();
    ck_assert_int_eq(call(node, 13, 3, iv, 1, &out), LC_OK);
    ck_assert_int_eq(out->dtype, LC_DTYPE_UINT8);
    const uint8_t wu[8] = {10, 12, 12, 10, 8, 255, 0, 13};
    ck_assert_mem_eq(out->data, wu, 8);
    val_free(out);
    val_free(iv[2]);
    /* int8 without zero point given as int8 -3, per axis over 2 channels */
    int8_t zi[2] = {-3, 4};
    float sc2[2] = {0.5f, 2.0f};
    int64_t xd[2] = {2, 4}, two = 2;
    val_free(iv[0]);
    val_free(iv[1]);
    iv[0] = val_new(LC_DTYPE_FLOAT, 2, xd, x);
    iv[1] = val_new(LC_DTYPE_FLOAT, 1, &two, sc2);
    iv[2] = val_new(LC_DTYPE_INT8, 1, &two, zi);
    attr_int(node, "axis", 0);
    out = out_new();
    ck_assert_int_eq(call(node, 13, 3, iv, 1, &out), LC_OK);
    ck_assert_int_eq(out->dtype, LC_DTYPE_INT8);
    /* row 0: x/0.5 = 1,3,5,-1 -> -2,0,2,-4; row 1: x/2 = -0.75,150,-150,1.745
     * -> -1+4, 150+4 -> 127, -150+4 = -146 -> -128, 2+4 */
    const int8_t wi[8] = {-2, 0, 2, -4, 3, 127, -128, 6};
    ck_assert_mem_eq(out->data, wi, 8);
    val_free(out);
    /* per-axis parameters need opset 13 */
    out = out_new();
    ck_assert_int_eq(call(node, 10, 3, iv, 1, &out), LC_ERR_SHAPE);
    val_free(out);
    lc_node_free(node);

    /* DequantizeLinear inverts it: (q - zp) * scale per axis */
    node = node_new("DequantizeLinear");
    attr_int(node, "axis", 0);
    lc_value *dv[3] = {val_new(LC_DTYPE_INT8, 2, xd, wi), iv[1], iv[2]};
    out = out_new();
    ck_assert_int_eq(call(node, 13, 3, dv, 1, &out), LC_OK);
    const float wd[8] = {0.5f, 1.5f, 2.5f, -0.5f, -2.0f, 246.0f, -264.0f, 4.0f};
    assert_close(out->data, wd, 8, 0, 0);
    val_free(out);
    val_free(dv[0]);
    for (int i = 0; i < 3; i++) val_free(iv[i]);
    lc_node_free(node);
}
END_TEST

START_TEST(float_only_kernels_refuse_other_dtypes)
{
    int64_t xd[4] = {1, 1, 3, 3};
    double xdat[9] = {0};
    lc_node *node = node_new("AveragePool");
    int64_t k[2] = {2, 2};
    attr_ints(node, "kernel_shape", 2, k);
    lc_value *iv[1] = {val_new(LC_DTYPE_DOUBLE, 4, xd, xdat)};
    lc_value *out = out_new();
    ck_assert_int_eq(call(node, 11, 1, iv, 1, &out), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "double"));
    val_free(iv[0]);
    val_free(out);
    lc_node_free(node);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_nn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sgemm_matches_reference);
    tcase_add_test(tc, conv_fast_matches_reference);
    tcase_add_test(tc, conv_batched_gemm_remainder);
    tcase_add_test(tc, conv_geometry_examples);
    tcase_add_test(tc, convtranspose_matches_scatter);
    tcase_add_test(tc, matmul_broadcast_matches_oracle);
    tcase_add_test(tc, gemm_broadcast_and_legacy);
    tcase_add_test(tc, pad_modes_match_oracle);
    tcase_add_test(tc, maxpool_indices_match_oracle);
    tcase_add_test(tc, batchnorm_spatial0_and_training);
    tcase_add_test(tc, softmax_opset_semantics);
    tcase_add_test(tc, quantize_rounding_and_saturation);
    tcase_add_test(tc, float_only_kernels_refuse_other_dtypes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
