/* Extra-family kernels called directly (prepare/run on lc_values) on the
 * cases the ONNX backend data does not cover: Gelu and Mish (newer than
 * the data), overflow-prone inputs, integer Mod corner cases, reductions
 * on large or empty inputs, TopK ties and NaN, Einsum forms, and the
 * max/min Scatter reductions. Oracles are written here: long double
 * formulas, brute-force sums over all label assignments, and sorting by
 * exhaustive selection. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_testutil.h"

/* ---- harness ---- */

/* Finds the kernel for op@opset, prepares, allocates outputs (caller frees
 * out[i]->data) and runs. */
static lc_status run_op(const char *op, int64_t opset, lc_attr *attrs, int n_attrs, int n_in, lc_value **in, int n_out,
                        lc_value **out)
{
    const lc_kernel *k = lc_kernel_find(op, opset, NULL);
    ck_assert_msg(k != NULL, "no kernel for %s@%lld", op, (long long)opset);
    lc_node node;
    memset(&node, 0, sizeof node);
    node.op_type = (char *)op;
    node.domain = (char *)"";
    node.n_attrs = n_attrs;
    node.attrs = attrs;
    lc_kernel_args a;
    memset(&a, 0, sizeof a);
    a.node = &node;
    a.opset = opset;
    a.n_in = n_in;
    a.in = (const lc_value *const *)in;
    a.n_out = n_out;
    a.out = out;
    a.threads = 1;
    for (int i = 0; i < n_out; i++) out[i]->data = NULL;
    lc_status s = k->prepare(&a);
    if (!s) {
        for (int i = 0; i < n_out; i++) {
            size_t nb = (size_t)lc_value_numel(out[i]) * lc_dtype_size(out[i]->dtype);
            out[i]->data = calloc(1, nb ? nb : 1);
            out[i]->nbytes = nb;
        }
        s = k->run(&a);
    }
    if (k->free_state && a.state) k->free_state(a.state);
    return s;
}

static void unary_f32(const char *op, int64_t opset, lc_attr *attrs, int n_attrs, const float *x, int n, float *y)
{
    int64_t d[1] = {n};
    lc_value vx = mkval("x", LC_DTYPE_FLOAT, 1, d, (void *)x), vy = mkval("y", 0, 0, NULL, NULL);
    lc_value *in[1] = {&vx}, *out[1] = {&vy};
    ck_assert_int_eq(run_op(op, opset, attrs, n_attrs, 1, in, 1, out), LC_OK);
    memcpy(y, vy.data, (size_t)n * sizeof *y);
    free(vy.data);
}

static void assert_close(double got, double want, double rtol, const char *what, int i)
{
    ck_assert_msg(fabs(got - want) <= 1e-6 + rtol * fabs(want), "%s[%d]: got %.9g, want %.9g", what, i, got, want);
}

/* ---- activations on extreme inputs ---- */

static long double softplus_ref(long double x)
{
    /* ln(1 + e^x) = x + ln(1 + e^-x): exact for large |x| in long double */
    return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x));
}

START_TEST(test_activations_extreme)
{
    float x[] = {-200.f, -90.f, -20.f, -3.f, -1e-3f, -1e-8f, 0.f, 1e-8f, 1e-3f, 0.5f, 3.f, 20.f, 90.f, 200.f};
    int n = (int)(sizeof x / sizeof x[0]);
    float y[32];
    unary_f32("Softplus", 1, NULL, 0, x, n, y);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(isfinite(y[i]), "Softplus(%g) not finite", x[i]);
        assert_close(y[i], (double)softplus_ref(x[i]), 1e-6, "Softplus", i);
    }
    unary_f32("Mish", 18, NULL, 0, x, n, y);
    for (int i = 0; i < n; i++) assert_close(y[i], (double)(x[i] * tanhl(softplus_ref(x[i]))), 1e-6, "Mish", i);
    lc_attr none = make_attr_string("approximate", "none"), tanh_a = make_attr_string("approximate", "tanh");
    unary_f32("Gelu", 20, &none, 1, x, n, y);
    for (int i = 0; i < n; i++) {
        long double v = x[i];
        assert_close(y[i], (double)(0.5L * v * (1.0L + erfl(v / sqrtl(2.0L)))), 1e-6, "Gelu", i);
    }
    unary_f32("Gelu", 20, &tanh_a, 1, x, n, y);
    for (int i = 0; i < n; i++) {
        long double v = x[i];
        long double t = tanhl(sqrtl(2.0L / 3.14159265358979323846L) * (v + 0.044715L * v * v * v));
        assert_close(y[i], (double)(0.5L * v * (1.0L + t)), 1e-6, "Gelu tanh", i);
    }
    /* Gelu does not exist before opset 20 */
    ck_assert_ptr_null(lc_kernel_find("Gelu", 19, NULL));
    unary_f32("Elu", 6, NULL, 0, x, n, y);
    for (int i = 0; i < n; i++) assert_close(y[i], x[i] < 0 ? (double)expm1l(x[i]) : x[i], 1e-6, "Elu", i);
    lc_attr bad = make_attr_string("approximate", "fast");
    int64_t d[1] = {1};
    lc_value vx = mkval("x", LC_DTYPE_FLOAT, 1, d, x), vy = mkval("y", 0, 0, NULL, NULL);
    lc_value *in[1] = {&vx}, *out[1] = {&vy};
    ck_assert_int_eq(run_op("Gelu", 20, &bad, 1, 1, in, 1, out), LC_ERR_INVALID_ARGUMENT);
}
END_TEST

/* ---- Mod on integers ---- */

START_TEST(test_mod_integers)
{
    int32_t a[] = {7, -7, 7, -7, 5, 0, INT32_MIN, INT32_MIN, 13, -13};
    int32_t b[] = {3, 3, -3, -3, 0, 4, -1, 7, 1, 5};
    int n = (int)(sizeof a / sizeof a[0]);
    int64_t d[1] = {n};
    for (int f = 0; f <= 1; f++) {
        lc_attr at = make_attr_int("fmod", f);
        lc_value va = mkval("a", LC_DTYPE_INT32, 1, d, a), vb = mkval("b", LC_DTYPE_INT32, 1, d, b);
        lc_value vy = mkval("y", 0, 0, NULL, NULL);
        lc_value *in[2] = {&va, &vb}, *out[1] = {&vy};
        ck_assert_int_eq(run_op("Mod", 13, &at, 1, 2, in, 1, out), LC_OK);
        for (int i = 0; i < n; i++) {
            /* oracle: the definition in 64-bit arithmetic; x % 0 is 0 */
            int64_t x = a[i], y = b[i], r = 0;
            if (y != 0) {
                r = x - (x / y) * y; /* sign of x */
                if (!f && r != 0 && ((r < 0) != (y < 0))) r += y;
            }
            ck_assert_msg(((int32_t *)vy.data)[i] == (int32_t)r, "fmod=%d: %d mod %d = %d, want %lld", f, a[i], b[i],
                          ((int32_t *)vy.data)[i], (long long)r);
        }
        free(vy.data);
    }
}
END_TEST

/* ---- reductions ---- */

START_TEST(test_reduce_edges)
{
    /* log-sum-exp of large values must not overflow */
    float x[6] = {1000.f, 1000.f, 999.f, -1000.f, -1000.f, -999.f};
    int64_t d[2] = {2, 3};
    int64_t axes[1] = {1}, ad[1] = {1};
    lc_value vx = mkval("x", LC_DTYPE_FLOAT, 2, d, x), va = mkval("axes", LC_DTYPE_INT64, 1, ad, axes);
    lc_value vy = mkval("y", 0, 0, NULL, NULL);
    lc_value *in[2] = {&vx, &va}, *out[1] = {&vy};
    ck_assert_int_eq(run_op("ReduceLogSumExp", 18, NULL, 0, 2, in, 1, out), LC_OK);
    ck_assert_int_eq(vy.ndim, 2);
    ck_assert_int_eq(vy.dims[1], 1);
    double want0 = 1000.0 + log(2.0 + exp(-1.0)), want1 = -999.0 + log(1.0 + 2.0 * exp(-1.0));
    assert_close(((float *)vy.data)[0], want0, 1e-6, "ReduceLogSumExp", 0);
    assert_close(((float *)vy.data)[1], want1, 1e-6, "ReduceLogSumExp", 1);
    free(vy.data);

    /* empty axis: product 1, sum of squares 0, min +inf */
    int64_t ed[2] = {2, 0};
    lc_value ve = mkval("x", LC_DTYPE_FLOAT, 2, ed, x);
    lc_attr keep = make_attr_int("keepdims", 0), ax = {0};
    int64_t one = 1;
    ax.name = (char *)"axes";
    ax.type = LC_ATTR_INTS;
    ax.n = 1;
    ax.ints = &one;
    lc_attr attrs[2] = {keep, ax};
    const char *ops[3] = {"ReduceProd", "ReduceSumSquare", "ReduceMin"};
    double want[3] = {1.0, 0.0, INFINITY};
    for (int k = 0; k < 3; k++) {
        lc_value *ein[1] = {&ve};
        ck_assert_int_eq(run_op(ops[k], 13, attrs, 2, 1, ein, 1, out), LC_OK);
        ck_assert_int_eq(vy.ndim, 1);
        ck_assert_int_eq(vy.dims[0], 2);
        for (int i = 0; i < 2; i++) ck_assert_msg(((float *)vy.data)[i] == (float)want[k], "%s empty", ops[k]);
        free(vy.data);
    }

    /* int32 min and product, noop_with_empty_axes at opset 18 */
    int32_t xi[6] = {4, -2, 9, 3, 3, -5};
    lc_value vi = mkval("x", LC_DTYPE_INT32, 2, d, xi);
    lc_value *iin[1] = {&vi};
    ck_assert_int_eq(run_op("ReduceMin", 13, attrs + 1, 1, 1, iin, 1, out), LC_OK);
    ck_assert_int_eq(((int32_t *)vy.data)[0], -2);
    ck_assert_int_eq(((int32_t *)vy.data)[1], -5);
    free(vy.data);
    ck_assert_int_eq(run_op("ReduceProd", 13, attrs + 1, 1, 1, iin, 1, out), LC_OK);
    ck_assert_int_eq(((int32_t *)vy.data)[0], -72);
    ck_assert_int_eq(((int32_t *)vy.data)[1], -45);
    free(vy.data);
    lc_attr noop = make_attr_int("noop_with_empty_axes", 1);
    ck_assert_int_eq(run_op("ReduceL1", 18, &noop, 1, 1, iin, 1, out), LC_OK);
    ck_assert_int_eq(vy.ndim, 2);
    for (int i = 0; i < 6; i++) ck_assert_int_eq(((int32_t *)vy.data)[i], xi[i]);
    free(vy.data);
    ck_assert_int_eq(run_op("ReduceL1", 18, NULL, 0, 1, iin, 1, out), LC_OK);
    ck_assert_int_eq(((int32_t *)vy.data)[0], 26);
    free(vy.data);
}
END_TEST

/* ---- TopK: ties keep the lower index, NaN is the largest ---- */

START_TEST(test_topk_ties)
{
    enum { R = 3, L = 9, K = 5 };
    float x[R * L];
    for (int i = 0; i < R * L; i++) x[i] = (float)(rnd() % 4); /* many ties */
    x[4] = NAN;
    x[L + 7] = NAN;
    int64_t d[2] = {R, L}, kd[1] = {1}, kv = K;
    for (int largest = 0; largest <= 1; largest++) {
        lc_attr at = make_attr_int("largest", largest);
        lc_value vx = mkval("x", LC_DTYPE_FLOAT, 2, d, x), vk = mkval("k", LC_DTYPE_INT64, 1, kd, &kv);
        lc_value vv = mkval("v", 0, 0, NULL, NULL), vi = mkval("i", 0, 0, NULL, NULL);
        lc_value *in[2] = {&vx, &vk}, *out[2] = {&vv, &vi};
        ck_assert_int_eq(run_op("TopK", 11, &at, 1, 2, in, 2, out), LC_OK);
        for (int r = 0; r < R; r++) {
            bool used[L] = {false};
            for (int j = 0; j < K; j++) {
                /* oracle: selection of the best unused element, first index on ties */
                int best = -1;
                for (int c = 0; c < L; c++) {
                    if (used[c]) continue;
                    float v = x[r * L + c], b = best < 0 ? 0 : x[r * L + best];
                    bool better;
                    if (best < 0) better = true;
                    else if (isnan(v) || isnan(b)) better = largest ? isnan(v) && !isnan(b) : isnan(b) && !isnan(v);
                    else better = largest ? v > b : v < b;
                    if (better) best = c;
                }
                used[best] = true;
                int64_t gi = ((int64_t *)vi.data)[r * K + j];
                ck_assert_msg(gi == best, "largest=%d row %d pos %d: index %lld, want %d", largest, r, j, (long long)gi,
                              best);
                float gv = ((float *)vv.data)[r * K + j];
                ck_assert(gv == x[r * L + best] || (isnan(gv) && isnan(x[r * L + best])));
            }
        }
        free(vv.data);
        free(vi.data);
    }
}
END_TEST

/* ---- Einsum against a brute-force sum over all label values ---- */

/* eq uses letters only, explicit output; sizes per letter in sz['a'..]. */
static void einsum_oracle(const char *eq, int n_ops, const double *const *ops, const int *sz, double *out)
{
    char terms[3][16];
    int nt[3] = {0, 0, 0}, t = 0;
    for (const char *p = eq; *p; p++) {
        if (*p == ',') t++;
        else if (*p == '-') {
            t = 2;
            p++;
        } else terms[t][nt[t]++] = *p;
    }
    ck_assert_int_eq(t == 2 ? 1 : 0, 1);
    (void)n_ops;
    char labels[26];
    int nl = 0;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < nt[k]; i++)
            if (!memchr(labels, terms[k][i], (size_t)nl)) labels[nl++] = terms[k][i];
    int64_t on = 1;
    for (int i = 0; i < nt[2]; i++) on *= sz[terms[2][i] - 'a'];
    for (int64_t i = 0; i < on; i++) out[i] = 0;
    int val[26] = {0};
    for (;;) {
        double prod = 1;
        for (int k = 0; k < n_ops; k++) {
            int64_t off = 0;
            for (int i = 0; i < nt[k]; i++) off = off * sz[terms[k][i] - 'a'] + val[terms[k][i] - 'a'];
            prod *= ops[k][off];
        }
        int64_t off = 0;
        for (int i = 0; i < nt[2]; i++) off = off * sz[terms[2][i] - 'a'] + val[terms[2][i] - 'a'];
        out[off] += prod;
        int j = nl - 1;
        for (; j >= 0; j--) {
            int l = labels[j] - 'a';
            if (++val[l] < sz[l]) break;
            val[l] = 0;
        }
        if (j < 0) break;
    }
}

START_TEST(test_einsum_forms)
{
    static const struct {
        const char *eq;     /* given to the kernel */
        const char *oracle; /* the same with "..." and implicit output spelled out */
        int n_ops;
    } cases[] = {
        {"ij,jk->ik", "ij,jk->ik", 2},       {"bij,bjk->bik", "bij,bjk->bik", 2}, {"ij,kj", "ij,kj->ik", 2},
        {"i,i", "i,i->", 2},                 {"ii->i", "ii->i", 1},               {"ii", "ii->", 1},
        {"ijk->kji", "ijk->kji", 1},         {"ab,bc->", "ab,bc->", 2},           {"iij,jk->ik", "iij,jk->ik", 2},
        {"...ij,...jk->...ik", "xyij,xyjk->xyik", 2}, {"ij,jk,->ik", NULL, 0}, {"ba,cd->dba", "ba,cd->dba", 2},
    };
    int sz[26];
    for (int i = 0; i < 26; i++) sz[i] = 2 + (i % 3);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (!cases[c].oracle) continue; /* three operands: not supported, checked below */
        /* shapes from the oracle's terms */
        char terms[2][16];
        int nt[2] = {0, 0}, t = 0;
        for (const char *p = cases[c].oracle; *p && *p != '-'; p++) {
            if (*p == ',') t++;
            else terms[t][nt[t]++] = *p;
        }
        for (int dtype = LC_DTYPE_FLOAT; dtype <= LC_DTYPE_DOUBLE; dtype += LC_DTYPE_DOUBLE - LC_DTYPE_FLOAT) {
            double *ops[2] = {NULL, NULL};
            void *raw[2] = {NULL, NULL};
            lc_value vin[2];
            lc_value *in[2];
            for (int k = 0; k < cases[c].n_ops; k++) {
                int64_t dims[8], n = 1;
                for (int i = 0; i < nt[k]; i++) n *= dims[i] = sz[terms[k][i] - 'a'];
                ops[k] = malloc((size_t)n * sizeof(double));
                raw[k] = malloc((size_t)n * sizeof(double));
                for (int64_t i = 0; i < n; i++) {
                    float v = rnd_range(-1, 1);
                    ops[k][i] = v;
                    if (dtype == LC_DTYPE_FLOAT) ((float *)raw[k])[i] = v;
                    else ((double *)raw[k])[i] = v;
                }
                vin[k] = mkval(k ? "b" : "a", dtype, nt[k], dims, raw[k]);
                in[k] = &vin[k];
            }
            double want[512];
            einsum_oracle(cases[c].oracle, cases[c].n_ops, (const double *const *)ops, sz, want);
            lc_attr eq = make_attr_string("equation", cases[c].eq);
            lc_value vy = mkval("y", 0, 0, NULL, NULL);
            lc_value *out[1] = {&vy};
            ck_assert_msg(run_op("Einsum", 12, &eq, 1, cases[c].n_ops, in, 1, out) == LC_OK, "%s", cases[c].eq);
            int64_t n = lc_value_numel(&vy);
            for (int64_t i = 0; i < n; i++) {
                double got = dtype == LC_DTYPE_FLOAT ? ((float *)vy.data)[i] : ((double *)vy.data)[i];
                ck_assert_msg(fabs(got - want[i]) <= 1e-5 + 1e-5 * fabs(want[i]), "%s [%lld]: got %g, want %g",
                              cases[c].eq, (long long)i, got, want[i]);
            }
            free(vy.data);
            for (int k = 0; k < cases[c].n_ops; k++) {
                free(ops[k]);
                free(raw[k]);
            }
        }
    }
    /* three operands are refused as unsupported at prepare */
    float v[2] = {1, 2};
    int64_t d[1] = {2};
    lc_value a = mkval("a", LC_DTYPE_FLOAT, 1, d, v), b = mkval("b", LC_DTYPE_FLOAT, 1, d, v);
    lc_value c3 = mkval("c", LC_DTYPE_FLOAT, 1, d, v), vy = mkval("y", 0, 0, NULL, NULL);
    lc_value *in3[3] = {&a, &b, &c3}, *out[1] = {&vy};
    lc_attr eq3 = make_attr_string("equation", "i,i,i->i");
    ck_assert_int_eq(run_op("Einsum", 12, &eq3, 1, 3, in3, 1, out), LC_ERR_UNSUPPORTED);
}
END_TEST

/* ---- Scatter reductions added in opset 18 ---- */

START_TEST(test_scatter_max_min)
{
    float data[6] = {1, 5, 3, 7, 2, 8};
    int64_t dd[2] = {2, 3};
    /* ScatterND: rows 1, 0, 1 of updates land on data rows */
    int64_t idx[3] = {1, 0, 1}, id[2] = {3, 1};
    float upd[9] = {9, 0, 4, 0, 6, 6, 5, 5, 9};
    int64_t ud[2] = {3, 3};
    for (int mode = 0; mode < 2; mode++) {
        lc_attr red = make_attr_string("reduction", mode ? "min" : "max");
        lc_value vd = mkval("d", LC_DTYPE_FLOAT, 2, dd, data), vi = mkval("i", LC_DTYPE_INT64, 2, id, idx);
        lc_value vu = mkval("u", LC_DTYPE_FLOAT, 2, ud, upd), vy = mkval("y", 0, 0, NULL, NULL);
        lc_value *in[3] = {&vd, &vi, &vu}, *out[1] = {&vy};
        ck_assert_int_eq(run_op("ScatterND", 18, &red, 1, 3, in, 1, out), LC_OK);
        float want[6];
        memcpy(want, data, sizeof want);
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 3; j++) {
                float *w = &want[idx[t] * 3 + j], u = upd[t * 3 + j];
                *w = mode ? fminf(*w, u) : fmaxf(*w, u);
            }
        for (int i = 0; i < 6; i++) ck_assert_msg(((float *)vy.data)[i] == want[i], "ScatterND mode %d [%d]", mode, i);
        free(vy.data);
        /* not available before opset 18 */
        ck_assert_int_eq(run_op("ScatterND", 16, &red, 1, 3, in, 1, out), LC_ERR_INVALID_ARGUMENT);

        /* ScatterElements along axis 1 with a negative index */
        int64_t ei[4] = {0, -1, 2, 2}, ed[2] = {2, 2};
        float eu[4] = {0.5f, 10, 4, 1};
        lc_attr attrs[2] = {red, make_attr_int("axis", 1)};
        lc_value vei = mkval("i", LC_DTYPE_INT64, 2, ed, ei), veu = mkval("u", LC_DTYPE_FLOAT, 2, ed, eu);
        lc_value *ein[3] = {&vd, &vei, &veu};
        ck_assert_int_eq(run_op("ScatterElements", 18, attrs, 2, 3, ein, 1, out), LC_OK);
        memcpy(want, data, sizeof want);
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 2; j++) {
                int64_t c = ei[r * 2 + j] < 0 ? ei[r * 2 + j] + 3 : ei[r * 2 + j];
                float *w = &want[r * 3 + c], u = eu[r * 2 + j];
                *w = mode ? fminf(*w, u) : fmaxf(*w, u);
            }
        for (int i = 0; i < 6; i++)
            ck_assert_msg(((float *)vy.data)[i] == want[i], "ScatterElements mode %d [%d]", mode, i);
        free(vy.data);
    }
}
END_TEST

/* ---- ops without backend cases: GlobalLpPool, LpNormalization ---- */

START_TEST(test_lp_ops)
{
    enum { N = 2, C = 3, H = 4, W = 5 };
    float x[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++) x[i] = rnd_range(-2, 2);
    int64_t d[4] = {N, C, H, W};
    for (int p = 1; p <= 3; p++) {
        lc_attr pa = make_attr_int("p", p);
        lc_value vx = mkval("x", LC_DTYPE_FLOAT, 4, d, x), vy = mkval("y", 0, 0, NULL, NULL);
        lc_value *in[1] = {&vx}, *out[1] = {&vy};
        ck_assert_int_eq(run_op("GlobalLpPool", 2, &pa, 1, 1, in, 1, out), LC_OK);
        ck_assert_int_eq(vy.ndim, 4);
        ck_assert(vy.dims[0] == N && vy.dims[1] == C && vy.dims[2] == 1 && vy.dims[3] == 1);
        for (int q = 0; q < N * C; q++) {
            long double acc = 0;
            for (int i = 0; i < H * W; i++) acc += powl(fabsl(x[q * H * W + i]), p);
            assert_close(((float *)vy.data)[q], (double)powl(acc, 1.0L / p), 1e-5, "GlobalLpPool", q);
        }
        free(vy.data);
        if (p == 3) break;
        /* LpNormalization along axis 1 (C) */
        lc_attr attrs[2] = {pa, make_attr_int("axis", 1)};
        ck_assert_int_eq(run_op("LpNormalization", 1, attrs, 2, 1, in, 1, out), LC_OK);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++) {
                long double norm = 0;
                for (int c = 0; c < C; c++) norm += powl(fabsl(x[(n * C + c) * H * W + i]), p);
                norm = powl(norm, 1.0L / p);
                for (int c = 0; c < C; c++) {
                    int k = (n * C + c) * H * W + i;
                    assert_close(((float *)vy.data)[k], (double)(x[k] / norm), 1e-5, "LpNormalization", k);
                }
            }
        free(vy.data);
    }
}
END_TEST

/* ---- unsupported dtypes are named at prepare ---- */

START_TEST(test_unsupported_dtype)
{
    int32_t xi[4] = {1, 2, 3, 4};
    int64_t d[2] = {2, 2};
    lc_value vx = mkval("x", LC_DTYPE_INT32, 2, d, xi), vy = mkval("y", 0, 0, NULL, NULL);
    lc_value *in[1] = {&vx}, *out[1] = {&vy};
    lc_attr size = make_attr_int("size", 3);
    ck_assert_int_eq(run_op("LRN", 13, &size, 1, 1, in, 1, out), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "int32"));
    ck_assert_int_eq(run_op("Softplus", 1, NULL, 0, 1, in, 1, out), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "int32"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_extra");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_activations_extreme);
    tcase_add_test(tc, test_mod_integers);
    tcase_add_test(tc, test_reduce_edges);
    tcase_add_test(tc, test_topk_ties);
    tcase_add_test(tc, test_einsum_forms);
    tcase_add_test(tc, test_scatter_max_min);
    tcase_add_test(tc, test_lp_ops);
    tcase_add_test(tc, test_unsupported_dtype);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
