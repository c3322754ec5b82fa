/* Elementwise kernels called directly (prepare/run on lc_values), checked
 * against brute-force oracles written here: index-by-index broadcasting
 * (numpy and the legacy opset < 7 rule), exhaustive nearest-value search
 * for float16 rounding, and C semantics spelled out per case. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_elementwise.h"
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
    for (int i = 0; i < n_out; i++)
        if (out[i]) out[i]->data = NULL;
    lc_status s = k->prepare(&a);
    if (!s) {
        for (int i = 0; i < n_out; i++) {
            if (!out[i]) continue;
            size_t nb = (size_t)lc_value_numel(out[i]) * lc_dtype_size(out[i]->dtype);
            out[i]->data = calloc(1, nb ? nb : 1);
            out[i]->nbytes = nb;
        }
        s = k->run(&a);
    }
    if (k->free_state && a.state) k->free_state(a.state);
    return s;
}

/* Flat offset into an input of rank n (dims d) for output multi-index idx
 * (rank ondim): numpy broadcasting, or the legacy rule when axis >= 0. */
static int64_t bcast_offset(int ondim, const int64_t *idx, int n, const int64_t *d, int axis)
{
    int64_t off = 0, numel = 1;
    for (int j = 0; j < n; j++) numel *= d[j];
    if (axis >= 0 && numel == 1) return 0;
    for (int j = 0; j < n; j++) {
        int oj = axis >= 0 ? axis + j : ondim - n + j;
        off = off * d[j] + (d[j] == 1 ? 0 : idx[oj]);
    }
    return off;
}

static void unravel(int64_t flat, int ndim, const int64_t *dims, int64_t *idx)
{
    for (int i = ndim - 1; i >= 0; i--) {
        idx[i] = flat % dims[i];
        flat /= dims[i];
    }
}

static int64_t numel(int n, const int64_t *d)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= d[i];
    return p;
}

/* Random pair of shapes that broadcast: each axis of the output gets a size
 * in 1..4 and each operand keeps it or 1; ranks are cut from the left. */
static void random_bcast_shapes(int *na, int64_t *a, int *nb, int64_t *b, int *no, int64_t *o)
{
    *no = (int)(rnd() % 6);
    for (int i = 0; i < *no; i++) o[i] = 1 + rnd() % 4;
    *na = *no - (int)(rnd() % (unsigned)(*no + 1));
    *nb = *no - (int)(rnd() % (unsigned)(*no + 1));
    if (rnd() % 2) *na = *no;
    else *nb = *no;
    for (int i = 0; i < *na; i++) a[i] = rnd() % 3 ? o[*no - *na + i] : 1;
    for (int i = 0; i < *nb; i++) b[i] = rnd() % 3 ? o[*no - *nb + i] : 1;
    /* the true output may be smaller where both operands chose 1 */
    for (int i = 0; i < *no; i++) {
        int ia = i - (*no - *na), ib = i - (*no - *nb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        o[i] = da > db ? da : db;
    }
}

/* ---- binary ops against the oracle, float32 ---- */

static double oracle_f32(const char *op, float x, float y)
{
    if (!strcmp(op, "Add")) return x + y;
    if (!strcmp(op, "Sub")) return x - y;
    if (!strcmp(op, "Mul")) return x * y;
    if (!strcmp(op, "Div")) return x / y;
    if (!strcmp(op, "Pow")) return powf(x, y);
    if (!strcmp(op, "Max")) return x > y ? x : y;
    if (!strcmp(op, "Min")) return x < y ? x : y;
    if (!strcmp(op, "Sum")) return x + y;
    if (!strcmp(op, "PRelu")) return x < 0 ? y * x : x;
    if (!strcmp(op, "Greater")) return x > y;
    if (!strcmp(op, "Less")) return x < y;
    if (!strcmp(op, "GreaterOrEqual")) return x >= y;
    if (!strcmp(op, "Equal")) return x == y;
    return NAN;
}

static void check_binary_f32(const char *op, int64_t opset, int na, const int64_t *da, int nb, const int64_t *db,
                             int legacy_axis)
{
    int64_t ea = numel(na, da), eb = numel(nb, db);
    float *xa = malloc((size_t)(ea ? ea : 1) * 4), *xb = malloc((size_t)(eb ? eb : 1) * 4);
    bool pow_op = !strcmp(op, "Pow");
    for (int64_t i = 0; i < ea; i++) xa[i] = pow_op ? rnd_range(0.1f, 3.0f) : rnd_range(-4, 4);
    for (int64_t i = 0; i < eb; i++) xb[i] = pow_op ? rnd_range(-2, 2) : (rnd() % 8 == 0 ? xa[0] : rnd_range(-4, 4));
    if (pow_op && eb == 1 && rnd() % 2) xb[0] = 2.0f;
    lc_value A = mkval("A", LC_DTYPE_FLOAT, na, da, xa), B = mkval("B", LC_DTYPE_FLOAT, nb, db, xb), O;
    memset(&O, 0, sizeof O);
    O.name = "O";
    lc_value *in[2] = {&A, &B}, *out[1] = {&O};
    lc_attr attrs[2] = {make_attr_int("broadcast", 1), make_attr_int("axis", legacy_axis)};
    int n_attrs = legacy_axis >= 0 ? 2 : 0;
    lc_status s = run_op(op, opset, attrs, n_attrs, 2, in, 1, out);
    ck_assert_msg(s == LC_OK, "%s [%s] x [%s]: %s", op, lc_dims_str(na, da), lc_dims_str(nb, db), lc_last_error());
    bool cmp = !strcmp(op, "Greater") || !strcmp(op, "Less") || !strcmp(op, "Equal") || !strcmp(op, "GreaterOrEqual");
    ck_assert_int_eq(O.dtype, cmp ? LC_DTYPE_BOOL : LC_DTYPE_FLOAT);
    int64_t idx[LC_MAX_DIMS];
    for (int64_t i = 0; i < lc_value_numel(&O); i++) {
        unravel(i, O.ndim, O.dims, idx);
        float x = xa[bcast_offset(O.ndim, idx, na, da, -1)];
        float y = xb[bcast_offset(O.ndim, idx, nb, db, legacy_axis)];
        double want = oracle_f32(op, x, y);
        double got = cmp ? ((uint8_t *)O.data)[i] : ((float *)O.data)[i];
        ck_assert_msg((float)want == (float)got, "%s [%s] x [%s] at %lld: %.9g, %.9g: got %.9g want %.9g", op, lc_dims_str(na, da),
                      lc_dims_str(nb, db), (long long)i, x, y, got, want);
    }
    free(O.data);
    free(xa);
    free(xb);
}

START_TEST(test_binary_broadcast_random)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Greater", "Less", "Equal",
                                "GreaterOrEqual"};
    for (int it = 0; it < 600; it++) {
        int na, nb, no;
        int64_t a[LC_MAX_DIMS], b[LC_MAX_DIMS], o[LC_MAX_DIMS];
        random_bcast_shapes(&na, a, &nb, b, &no, o);
        const char *op = ops[it % (int)(sizeof ops / sizeof *ops)];
        check_binary_f32(op, 16, na, a, nb, b, -1);
    }
}
END_TEST

START_TEST(test_binary_fixed_shapes)
{
    /* the layouts the fast paths and dimension merging care about */
    static const int64_t shapes[][2][5] = {
        {{2, 3, 4, 5}, {2, 3, 4, 5}}, /* same shape */
        {{2, 3, 4, 5}, {1, 1, 1, 1}}, /* scalar-like */
        {{2, 3, 4, 5}, {1, 3, 1, 1}}, /* per-channel bias */
        {{2, 3, 4, 5}, {1, 1, 1, 5}}, /* row vector */
        {{2, 3, 4, 5}, {2, 1, 4, 1}}, /* alternating */
        {{1, 3, 1, 5}, {2, 1, 4, 1}}, /* both broadcast */
        {{2, 3, 0, 5}, {1, 3, 1, 1}}, /* empty */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        check_binary_f32("Add", 14, 4, shapes[i][0], 4, shapes[i][1], -1);
        check_binary_f32("Mul", 14, 4, shapes[i][1], 4, shapes[i][0], -1);
        if (i != 5) /* slope must broadcast to X's shape */
            check_binary_f32("PRelu", 16, 4, shapes[i][0], 4, shapes[i][1], -1);
    }
    int64_t scalar[1] = {1}, big[1] = {1000};
    check_binary_f32("Sub", 14, 1, big, 0, scalar, -1);
    check_binary_f32("Sub", 14, 0, scalar, 1, big, -1);
    check_binary_f32("Pow", 15, 1, big, 0, scalar, -1);
}
END_TEST

START_TEST(test_legacy_broadcast)
{
    /* opset 6 `broadcast`=1: B's shape lines up with A's at `axis` */
    int64_t a[4] = {2, 3, 4, 5};
    int64_t b1[1] = {5}, b2[2] = {4, 5}, b3[2] = {3, 4}, b4[1] = {2}, b5[2] = {3, 1}, b6[1] = {1};
    check_binary_f32("Add", 6, 4, a, 1, b1, 3);
    check_binary_f32("Sub", 6, 4, a, 2, b2, 2);
    check_binary_f32("Mul", 6, 4, a, 2, b3, 1);
    check_binary_f32("Div", 6, 4, a, 1, b4, 0);
    check_binary_f32("Pow", 1, 4, a, 2, b5, 1);
    check_binary_f32("Greater", 6, 4, a, 1, b6, 2);
    check_binary_f32("Equal", 1, 4, a, 2, b3, 1);

    /* default axis: suffix alignment */
    float xa[6] = {1, 2, 3, 4, 5, 6}, xb[3] = {10, 20, 30};
    int64_t da[2] = {2, 3}, db[1] = {3};
    lc_value A = mkval("A", LC_DTYPE_FLOAT, 2, da, xa), B = mkval("B", LC_DTYPE_FLOAT, 1, db, xb), O;
    memset(&O, 0, sizeof O);
    lc_value *in[2] = {&A, &B}, *out[1] = {&O};
    lc_attr bc = make_attr_int("broadcast", 1);
    ck_assert_int_eq(run_op("Add", 6, &bc, 1, 2, in, 1, out), LC_OK);
    float want[6] = {11, 22, 33, 14, 25, 36};
    ck_assert_mem_eq(O.data, want, sizeof want);
    free(O.data);

    /* a B that does not fit at axis is a shape error */
    int64_t dbad[1] = {2};
    B = mkval("B", LC_DTYPE_FLOAT, 1, dbad, xb);
    ck_assert_int_eq(run_op("Add", 6, &bc, 1, 2, in, 1, out), LC_ERR_SHAPE);
}
END_TEST

START_TEST(test_prelu_legacy_channel)
{
    /* opset 6 PRelu with a 1-D slope of size C applies per channel (axis 1) */
    int64_t dx[3] = {2, 3, 4}, ds[1] = {3};
    float x[24], slope[3] = {0.5f, -2.0f, 3.0f};
    for (int i = 0; i < 24; i++) x[i] = (float)(i % 5) - 2.0f;
    lc_value X = mkval("X", LC_DTYPE_FLOAT, 3, dx, x), S = mkval("S", LC_DTYPE_FLOAT, 1, ds, slope), O;
    memset(&O, 0, sizeof O);
    lc_value *in[2] = {&X, &S}, *out[1] = {&O};
    ck_assert_int_eq(run_op("PRelu", 6, NULL, 0, 2, in, 1, out), LC_OK);
    for (int i = 0; i < 24; i++) {
        float s = slope[(i / 4) % 3];
        ck_assert_float_eq(((float *)O.data)[i], x[i] < 0 ? s * x[i] : x[i]);
    }
    free(O.data);
    /* opset 16: numpy rules, so slope [3] aligns with the last axis (4): error */
    ck_assert_int_eq(run_op("PRelu", 16, NULL, 0, 2, in, 1, out), LC_ERR_SHAPE);
}
END_TEST

/* ---- variadic and Where ---- */

START_TEST(test_variadic_three_inputs)
{
    static const char *ops[] = {"Sum", "Max", "Min"};
    for (int it = 0; it < 90; it++) {
        int64_t o[4], d[3][4];
        int n[3];
        int no = 1 + (int)(rnd() % 4);
        for (int i = 0; i < no; i++) o[i] = 1 + rnd() % 3;
        float *x[3];
        lc_value V[3], O;
        lc_value *in[3], *out[1] = {&O};
        for (int k = 0; k < 3; k++) {
            n[k] = no - (int)(rnd() % (unsigned)(no + 1));
            if (k == 2) n[k] = no; /* at least one full-rank operand */
            for (int i = 0; i < n[k]; i++) d[k][i] = rnd() % 2 ? o[no - n[k] + i] : 1;
            if (k == 2)
                for (int i = 0; i < no; i++) d[k][i] = o[i];
            int64_t e = numel(n[k], d[k]);
            x[k] = malloc((size_t)e * 4);
            for (int64_t i = 0; i < e; i++) x[k][i] = rnd_range(-3, 3);
            V[k] = mkval("V", LC_DTYPE_FLOAT, n[k], d[k], x[k]);
            in[k] = &V[k];
        }
        memset(&O, 0, sizeof O);
        const char *op = ops[it % 3];
        ck_assert_int_eq(run_op(op, 13, NULL, 0, 3, in, 1, out), LC_OK);
        ck_assert_int_eq(O.ndim, no);
        int64_t idx[4];
        for (int64_t i = 0; i < lc_value_numel(&O); i++) {
            unravel(i, no, O.dims, idx);
            float acc = x[0][bcast_offset(no, idx, n[0], d[0], -1)];
            for (int k = 1; k < 3; k++) acc = (float)oracle_f32(op, acc, x[k][bcast_offset(no, idx, n[k], d[k], -1)]);
            ck_assert_float_eq(((float *)O.data)[i], acc);
        }
        free(O.data);
        for (int k = 0; k < 3; k++) free(x[k]);
    }
    /* one input: a copy */
    float one[3] = {1, -2, 3};
    int64_t d1[1] = {3};
    lc_value V = mkval("V", LC_DTYPE_FLOAT, 1, d1, one), O;
    memset(&O, 0, sizeof O);
    lc_value *in[1] = {&V}, *out[1] = {&O};
    ck_assert_int_eq(run_op("Max", 13, NULL, 0, 1, in, 1, out), LC_OK);
    ck_assert_mem_eq(O.data, one, sizeof one);
    free(O.data);
}
END_TEST

START_TEST(test_where_broadcast)
{
    for (int it = 0; it < 60; it++) {
        int64_t c_d[3], x_d[3], y_d[3], o[3];
        int no = 1 + (int)(rnd() % 3), nc = no, nx = no - (int)(rnd() % 2), ny = no - (int)(rnd() % (unsigned)(no + 1));
        for (int i = 0; i < no; i++) o[i] = 1 + rnd() % 3;
        for (int i = 0; i < nc; i++) c_d[i] = rnd() % 2 ? o[i] : 1;
        for (int i = 0; i < nx; i++) x_d[i] = rnd() % 2 ? o[no - nx + i] : 1;
        for (int i = 0; i < ny; i++) y_d[i] = o[no - ny + i];
        int64_t ec = numel(nc, c_d), ex = numel(nx, x_d), ey = numel(ny, y_d);
        uint8_t *c = malloc((size_t)ec);
        int64_t *x = malloc((size_t)ex * 8), *y = malloc((size_t)ey * 8);
        for (int64_t i = 0; i < ec; i++) c[i] = rnd() % 2;
        for (int64_t i = 0; i < ex; i++) x[i] = (int64_t)rnd() << 20;
        for (int64_t i = 0; i < ey; i++) y[i] = -(int64_t)rnd();
        lc_value C = mkval("C", LC_DTYPE_BOOL, nc, c_d, c), X = mkval("X", LC_DTYPE_INT64, nx, x_d, x),
                 Y = mkval("Y", LC_DTYPE_INT64, ny, y_d, y), O;
        memset(&O, 0, sizeof O);
        lc_value *in[3] = {&C, &X, &Y}, *out[1] = {&O};
        ck_assert_int_eq(run_op("Where", 16, NULL, 0, 3, in, 1, out), LC_OK);
        int64_t idx[3];
        for (int64_t i = 0; i < lc_value_numel(&O); i++) {
            unravel(i, O.ndim, O.dims, idx);
            int64_t want = c[bcast_offset(O.ndim, idx, nc, c_d, -1)] ? x[bcast_offset(O.ndim, idx, nx, x_d, -1)]
                                                                      : y[bcast_offset(O.ndim, idx, ny, y_d, -1)];
            ck_assert_int_eq(((int64_t *)O.data)[i], want);
        }
        free(O.data);
        free(c);
        free(x);
        free(y);
    }
}
END_TEST

/* ---- integer semantics ---- */

START_TEST(test_integer_arithmetic)
{
    int32_t a[6] = {-7, 7, -7, 5, INT32_MIN, INT32_MAX}, b[6] = {2, -2, -2, 0, -1, 1};
    int64_t d[1] = {6};
    lc_value A = mkval("A", LC_DTYPE_INT32, 1, d, a), B = mkval("B", LC_DTYPE_INT32, 1, d, b), O;
    memset(&O, 0, sizeof O);
    lc_value *in[2] = {&A, &B}, *out[1] = {&O};
    ck_assert_int_eq(run_op("Div", 14, NULL, 0, 2, in, 1, out), LC_OK);
    /* C truncation; x/0 -> 0 and INT_MIN/-1 wraps (both undefined in C) */
    int32_t want_div[6] = {-3, -3, 3, 0, INT32_MIN, INT32_MAX};
    ck_assert_mem_eq(O.data, want_div, sizeof want_div);
    free(O.data);
    ck_assert_int_eq(run_op("Add", 14, NULL, 0, 2, in, 1, out), LC_OK);
    int32_t want_add[6] = {-5, 5, -9, 5, INT32_MAX, INT32_MIN}; /* wraps */
    ck_assert_mem_eq(O.data, want_add, sizeof want_add);
    free(O.data);

    uint16_t u[2] = {65535, 3}, v[2] = {65535, 5};
    int64_t d2[1] = {2};
    A = mkval("A", LC_DTYPE_UINT16, 1, d2, u);
    B = mkval("B", LC_DTYPE_UINT16, 1, d2, v);
    ck_assert_int_eq(run_op("Mul", 14, NULL, 0, 2, in, 1, out), LC_OK);
    uint16_t want_mul[2] = {1, 15}; /* 65535^2 mod 2^16 */
    ck_assert_mem_eq(O.data, want_mul, sizeof want_mul);
    free(O.data);
    ck_assert_int_eq(run_op("Sub", 14, NULL, 0, 2, in, 1, out), LC_OK);
    uint16_t want_sub[2] = {0, 65534};
    ck_assert_mem_eq(O.data, want_sub, sizeof want_sub);
    free(O.data);

    /* integer Pow (exact, by squaring) and mixed int^float (truncated) */
    int64_t p[4] = {3, -2, 7, 2}, e[4] = {4, 3, 0, 62};
    int64_t d4[1] = {4};
    A = mkval("A", LC_DTYPE_INT64, 1, d4, p);
    B = mkval("B", LC_DTYPE_INT64, 1, d4, e);
    ck_assert_int_eq(run_op("Pow", 15, NULL, 0, 2, in, 1, out), LC_OK);
    int64_t want_pow[4] = {81, -8, 1, (int64_t)1 << 62};
    ck_assert_mem_eq(O.data, want_pow, sizeof want_pow);
    free(O.data);
    float ef[4] = {0.5f, 2.0f, 1.5f, 3.0f};
    B = mkval("B", LC_DTYPE_FLOAT, 1, d4, ef);
    ck_assert_int_eq(run_op("Pow", 15, NULL, 0, 2, in, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_INT64);
    int64_t want_powf[4] = {1, 4, 18, 8}; /* sqrt(3)=1.73 -> 1; 7^1.5=18.52 -> 18 */
    ck_assert_mem_eq(O.data, want_powf, sizeof want_powf);
    free(O.data);
    /* float ^ int64 */
    float xf[4] = {2.0f, -3.0f, 0.5f, 10.0f};
    A = mkval("A", LC_DTYPE_FLOAT, 1, d4, xf);
    B = mkval("B", LC_DTYPE_INT64, 1, d4, e);
    ck_assert_int_eq(run_op("Pow", 15, NULL, 0, 2, in, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_FLOAT);
    float want_pf[4] = {16.0f, -27.0f, 1.0f, (float)pow(10.0, 62.0)};
    ck_assert_mem_eq(O.data, want_pf, sizeof want_pf);
    free(O.data);
}
END_TEST

/* ---- float16 ---- */

/* Value of half bits, computed from the definition (independent of the
 * library's converters). */
static double half_value(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Nearest half to d by exhaustive search over the finite positive halves,
 * ties to the even significand; overflow past 65520 to inf. */
static uint16_t half_nearest(double d)
{
    if (d != d) return 0x7e00;
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    double a = fabs(d);
    if (a >= 65520.0) return sign | 0x7c00;
    uint16_t best = 0;
    for (uint16_t h = 0; h < 0x7c00; h++) {
        double err = fabs(half_value(h) - a), berr = fabs(half_value(best) - a);
        if (err < berr || (err == berr && !(h & 1))) best = h;
    }
    return sign | best;
}

START_TEST(test_half_rounding)
{
    for (int it = 0; it < 400; it++) {
        double d;
        switch (it % 4) {
        case 0: d = ldexp(rnd_range(-1, 1), (int)(rnd() % 40) - 26); break; /* wide range incl. subnormals */
        case 1: d = half_value((uint16_t)(rnd() % 0x7c00)); break;      /* exact */
        case 2: {                                                       /* exact ties */
            uint16_t h = (uint16_t)(rnd() % 0x7bff);
            d = (half_value(h) + half_value(h + 1)) / 2;
            break;
        }
        default: d = rnd_range(-70000, 70000);
        }
        uint16_t want = half_nearest(d);
        ck_assert_msg(lc_ew_double_to_half(d) == want, "double_to_half(%.17g) = %04x, want %04x", d,
                      lc_ew_double_to_half(d), want);
        float f = (float)d;
        if ((double)f == d) /* the shared float converter must agree where d is a float */
            ck_assert_msg(lc_float_to_half(f) == want, "float_to_half(%.9g) = %04x, want %04x", f, lc_float_to_half(f),
                          want);
    }
    ck_assert_uint_eq(lc_ew_double_to_half(INFINITY), 0x7c00);
    ck_assert_uint_eq(lc_ew_double_to_half(-0.0), 0x8000);
    ck_assert(isnan(lc_half_to_float(lc_ew_double_to_half(NAN))));
}
END_TEST

START_TEST(test_half_adapter)
{
    /* Add and Greater on float16 go through the float row: each result is
     * the float result rounded once to half */
    enum { N = 700 }; /* more than one adapter chunk */
    uint16_t a[N], b[1];
    for (int i = 0; i < N; i++) a[i] = half_nearest(rnd_range(-100, 100));
    b[0] = half_nearest(1.0 / 3.0);
    int64_t da[1] = {N}, db[1] = {1};
    lc_value A = mkval("A", LC_DTYPE_FLOAT16, 1, da, a), B = mkval("B", LC_DTYPE_FLOAT16, 1, db, b), O;
    memset(&O, 0, sizeof O);
    lc_value *in[2] = {&A, &B}, *out[1] = {&O};
    ck_assert_int_eq(run_op("Add", 14, NULL, 0, 2, in, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_FLOAT16);
    for (int i = 0; i < N; i++) {
        float sum = (float)half_value(a[i]) + (float)half_value(b[0]);
        ck_assert_uint_eq(((uint16_t *)O.data)[i], half_nearest(sum));
    }
    free(O.data);
    ck_assert_int_eq(run_op("Greater", 13, NULL, 0, 2, in, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_BOOL);
    for (int i = 0; i < N; i++) ck_assert_int_eq(((uint8_t *)O.data)[i], half_value(a[i]) > half_value(b[0]));
    free(O.data);
}
END_TEST

/* ---- unary ---- */

static double sigmoid_ref(double x)
{
    return 1 / (1 + exp(-x));
}

START_TEST(test_unary_float)
{
    enum { N = 257 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = rnd_range(-12, 12);
    x[0] = 0;
    x[1] = -0.0f;
    x[2] = 88.0f;
    x[3] = -100.0f;
    int64_t d[1] = {N};
    struct {
        const char *op;
        int64_t opset;
        lc_attr attrs[2];
        int n_attrs;
    } cases[] = {
        {"Sqrt", 13, {{0}}, 0},       {"Exp", 13, {{0}}, 0},       {"Log", 13, {{0}}, 0},
        {"Neg", 13, {{0}}, 0},        {"Abs", 13, {{0}}, 0},       {"Relu", 14, {{0}}, 0},
        {"Sigmoid", 13, {{0}}, 0},    {"Tanh", 13, {{0}}, 0},      {"Erf", 13, {{0}}, 0},
        {"Floor", 13, {{0}}, 0},      {"Ceil", 13, {{0}}, 0},      {"HardSwish", 14, {{0}}, 0},
        {"LeakyRelu", 16, {{0}}, 0},  {"HardSigmoid", 6, {{0}}, 0},
        {"LeakyRelu", 6, {make_attr_float("alpha", 0.3f)}, 1},
        {"HardSigmoid", 6, {make_attr_float("alpha", 0.1f), make_attr_float("beta", 0.25f)}, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *op = cases[c].op;
        lc_value X = mkval("X", LC_DTYPE_FLOAT, 1, d, x), O;
        memset(&O, 0, sizeof O);
        lc_value *in[1] = {&X}, *out[1] = {&O};
        ck_assert_int_eq(run_op(op, cases[c].opset, cases[c].attrs, cases[c].n_attrs, 1, in, 1, out), LC_OK);
        double alpha = cases[c].n_attrs ? cases[c].attrs[0].f : !strcmp(op, "LeakyRelu") ? 0.01 : 0.2;
        double beta = cases[c].n_attrs > 1 ? cases[c].attrs[1].f : 0.5;
        for (int i = 0; i < N; i++) {
            double v = x[i], w;
            if (!strcmp(op, "Sqrt")) w = sqrt(v);
            else if (!strcmp(op, "Exp")) w = exp(v);
            else if (!strcmp(op, "Log")) w = log(v);
            else if (!strcmp(op, "Neg")) w = -v;
            else if (!strcmp(op, "Abs")) w = fabs(v);
            else if (!strcmp(op, "Relu")) w = v > 0 ? v : 0;
            else if (!strcmp(op, "Sigmoid")) w = sigmoid_ref(v);
            else if (!strcmp(op, "Tanh")) w = tanh(v);
            else if (!strcmp(op, "Erf")) w = erf(v);
            else if (!strcmp(op, "Floor")) w = floor(v);
            else if (!strcmp(op, "Ceil")) w = ceil(v);
            else if (!strcmp(op, "HardSwish")) w = v * fmax(0, fmin(1, v / 6 + 0.5));
            else if (!strcmp(op, "LeakyRelu")) w = v < 0 ? (float)alpha * v : v;
            else w = fmax(0, fmin(1, (float)alpha * v + (float)beta));
            double g = ((float *)O.data)[i];
            bool ok = (isnan(w) && isnan(g)) || (isinf(w) && isinf((float)w) && g == (float)w) ||
                      fabs(g - w) <= 1e-6 + 2e-6 * fabs(w) || g == (float)w;
            ck_assert_msg(ok, "%s(%.9g) = %.9g, want %.9g", op, v, g, w);
        }
        free(O.data);
    }
}
END_TEST

START_TEST(test_unary_double_and_int)
{
    double x[4] = {-1.5, 0.25, 2, -0.0};
    int64_t d[1] = {4};
    lc_value X = mkval("X", LC_DTYPE_DOUBLE, 1, d, x), O;
    memset(&O, 0, sizeof O);
    lc_value *in[1] = {&X}, *out[1] = {&O};
    ck_assert_int_eq(run_op("Sigmoid", 13, NULL, 0, 1, in, 1, out), LC_OK);
    for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(((double *)O.data)[i], sigmoid_ref(x[i]), 1e-15);
    free(O.data);

    int8_t xi[4] = {-128, -5, 0, 127};
    X = mkval("X", LC_DTYPE_INT8, 1, d, xi);
    ck_assert_int_eq(run_op("Abs", 13, NULL, 0, 1, in, 1, out), LC_OK);
    int8_t want_abs[4] = {-128, 5, 0, 127}; /* |-128| wraps */
    ck_assert_mem_eq(O.data, want_abs, 4);
    free(O.data);
    ck_assert_int_eq(run_op("Neg", 13, NULL, 0, 1, in, 1, out), LC_OK);
    int8_t want_neg[4] = {-128, 5, 0, -127};
    ck_assert_mem_eq(O.data, want_neg, 4);
    free(O.data);
    ck_assert_int_eq(run_op("Relu", 14, NULL, 0, 1, in, 1, out), LC_OK);
    int8_t want_relu[4] = {0, 0, 0, 127};
    ck_assert_mem_eq(O.data, want_relu, 4);
    free(O.data);

    /* unsupported dtypes are refused at prepare with the dtype named */
    int32_t xs[4] = {1, 4, 9, 16};
    X = mkval("X", LC_DTYPE_INT32, 1, d, xs);
    ck_assert_int_eq(run_op("Sqrt", 13, NULL, 0, 1, in, 1, out), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "int32"));
    uint8_t xb[4] = {1, 0, 1, 1};
    X = mkval("X", LC_DTYPE_BOOL, 1, d, xb);
    ck_assert_int_eq(run_op("Not", 1, NULL, 0, 1, in, 1, out), LC_OK);
    uint8_t want_not[4] = {0, 1, 0, 0};
    ck_assert_mem_eq(O.data, want_not, 4);
    free(O.data);
    X = mkval("X", LC_DTYPE_FLOAT, 1, d, xs);
    ck_assert_int_eq(run_op("Not", 1, NULL, 0, 1, in, 1, out), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "float"));
}
END_TEST

/* ---- Clip, Cast, Dropout, Identity ---- */

START_TEST(test_clip)
{
    float x[6] = {-3, -0.5f, 0, 0.7f, 9, NAN};
    int64_t d[1] = {6};
    lc_value X = mkval("X", LC_DTYPE_FLOAT, 1, d, x), O;
    memset(&O, 0, sizeof O);
    lc_value *in[3] = {&X, NULL, NULL}, *out[1] = {&O};
    /* opset 6: attributes */
    lc_attr at[2] = {make_attr_float("min", -1), make_attr_float("max", 0.5f)};
    ck_assert_int_eq(run_op("Clip", 6, at, 2, 1, in, 1, out), LC_OK);
    float w6[5] = {-1, -0.5f, 0, 0.5f, 0.5f};
    ck_assert_mem_eq(O.data, w6, sizeof w6);
    ck_assert(isnan(((float *)O.data)[5]));
    free(O.data);
    /* opset 13: optional inputs; only max given */
    float mx = 0.0f;
    lc_value MX = mkval("max", LC_DTYPE_FLOAT, 0, NULL, &mx);
    in[2] = &MX;
    ck_assert_int_eq(run_op("Clip", 13, NULL, 0, 3, in, 1, out), LC_OK);
    float w13[5] = {-3, -0.5f, 0, 0, 0};
    ck_assert_mem_eq(O.data, w13, sizeof w13);
    free(O.data);
    /* int8 with both bounds */
    int8_t xi[5] = {-128, -3, 0, 4, 127}, lo = -2, hi = 3;
    int64_t d5[1] = {5};
    lc_value XI = mkval("X", LC_DTYPE_INT8, 1, d5, xi), LO = mkval("min", LC_DTYPE_INT8, 0, NULL, &lo),
             HI = mkval("max", LC_DTYPE_INT8, 0, NULL, &hi);
    lc_value *in2[3] = {&XI, &LO, &HI};
    ck_assert_int_eq(run_op("Clip", 13, NULL, 0, 3, in2, 1, out), LC_OK);
    int8_t wi[5] = {-2, -2, 0, 3, 3};
    ck_assert_mem_eq(O.data, wi, sizeof wi);
    free(O.data);
}
END_TEST

START_TEST(test_cast)
{
    float x[8] = {1.7f, -1.7f, 300.0f, -300.0f, NAN, 0.0f, 65519.0f, 1e-8f};
    int64_t d[1] = {8};
    lc_value X = mkval("X", LC_DTYPE_FLOAT, 1, d, x), O;
    memset(&O, 0, sizeof O);
    lc_value *in[1] = {&X}, *out[1] = {&O};
    lc_attr to = make_attr_int("to", LC_DTYPE_INT8);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, in, 1, out), LC_OK);
    int8_t w8[8] = {1, -1, 127, -128, 0, 0, 127, 0}; /* truncate, saturate, NaN -> 0 */
    ck_assert_mem_eq(O.data, w8, sizeof w8);
    free(O.data);
    to = make_attr_int("to", LC_DTYPE_BOOL);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, in, 1, out), LC_OK);
    uint8_t wb[8] = {1, 1, 1, 1, 1, 0, 1, 1};
    ck_assert_mem_eq(O.data, wb, sizeof wb);
    free(O.data);
    to = make_attr_int("to", LC_DTYPE_FLOAT16);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, in, 1, out), LC_OK);
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(((uint16_t *)O.data)[i], half_nearest(x[i]));
    free(O.data);
    /* opset 1 names the type */
    lc_attr ts;
    memset(&ts, 0, sizeof ts);
    ts.name = (char *)"to";
    ts.type = LC_ATTR_STRING;
    ts.s.data = (char *)"DOUBLE";
    ts.s.len = 6;
    ck_assert_int_eq(run_op("Cast", 1, &ts, 1, 1, in, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_DOUBLE);
    ck_assert_double_eq(((double *)O.data)[0], (double)1.7f);
    free(O.data);

    /* integer to integer is exact and wraps; uint64 keeps all 64 bits */
    uint64_t u[3] = {UINT64_MAX, 1ull << 63, 300};
    int64_t d3[1] = {3};
    lc_value U = mkval("U", LC_DTYPE_UINT64, 1, d3, u);
    lc_value *inu[1] = {&U};
    to = make_attr_int("to", LC_DTYPE_INT64);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, inu, 1, out), LC_OK);
    int64_t wi64[3] = {-1, INT64_MIN, 300};
    ck_assert_mem_eq(O.data, wi64, sizeof wi64);
    free(O.data);
    to = make_attr_int("to", LC_DTYPE_UINT8);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, inu, 1, out), LC_OK);
    uint8_t wu8[3] = {255, 0, 44};
    ck_assert_mem_eq(O.data, wu8, sizeof wu8);
    free(O.data);
    to = make_attr_int("to", LC_DTYPE_DOUBLE);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, inu, 1, out), LC_OK);
    ck_assert_double_eq(((double *)O.data)[0], 18446744073709551616.0);
    ck_assert_double_eq(((double *)O.data)[1], 9223372036854775808.0);
    free(O.data);
    to = make_attr_int("to", LC_DTYPE_STRING);
    ck_assert_int_eq(run_op("Cast", 13, &to, 1, 1, inu, 1, out), LC_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_dropout_identity)
{
    float x[5] = {1, 2, 3, 4, 5};
    int64_t d[1] = {5};
    lc_value X = mkval("X", LC_DTYPE_FLOAT, 1, d, x), O, M;
    memset(&O, 0, sizeof O);
    memset(&M, 0, sizeof M);
    lc_value *in[3] = {&X, NULL, NULL}, *out[2] = {&O, &M};
    ck_assert_int_eq(run_op("Dropout", 13, NULL, 0, 1, in, 2, out), LC_OK);
    ck_assert_mem_eq(O.data, x, sizeof x);
    ck_assert_int_eq(M.dtype, LC_DTYPE_BOOL);
    uint8_t ones[5] = {1, 1, 1, 1, 1};
    ck_assert_mem_eq(M.data, ones, 5);
    free(O.data);
    free(M.data);
    /* opset 7: mask has x's dtype */
    ck_assert_int_eq(run_op("Dropout", 7, NULL, 0, 1, in, 2, out), LC_OK);
    ck_assert_int_eq(M.dtype, LC_DTYPE_FLOAT);
    float fones[5] = {1, 1, 1, 1, 1};
    ck_assert_mem_eq(M.data, fones, sizeof fones);
    free(O.data);
    free(M.data);
    /* training_mode: constant false runs, true is refused */
    uint8_t t = 0;
    float r = 0.5f;
    lc_value T = mkval("t", LC_DTYPE_BOOL, 0, NULL, &t), R = mkval("r", LC_DTYPE_FLOAT, 0, NULL, &r);
    in[1] = &R;
    in[2] = &T;
    ck_assert_int_eq(run_op("Dropout", 13, NULL, 0, 3, in, 2, out), LC_OK);
    ck_assert_mem_eq(O.data, x, sizeof x);
    free(O.data);
    free(M.data);
    t = 1;
    ck_assert_int_eq(run_op("Dropout", 13, NULL, 0, 3, in, 2, out), LC_ERR_UNSUPPORTED);
    t = 0;
    T.is_const = false;
    ck_assert_int_eq(run_op("Dropout", 13, NULL, 0, 3, in, 2, out), LC_ERR_UNSUPPORTED);

    int16_t xi[3] = {-1, 2, 300};
    int64_t d3[1] = {3};
    lc_value XI = mkval("X", LC_DTYPE_INT16, 1, d3, xi);
    lc_value *ini[1] = {&XI};
    ck_assert_int_eq(run_op("Identity", 16, NULL, 0, 1, ini, 1, out), LC_OK);
    ck_assert_int_eq(O.dtype, LC_DTYPE_INT16);
    ck_assert_mem_eq(O.data, xi, sizeof xi);
    free(O.data);
}
END_TEST

START_TEST(test_kernel_table)
{
    /* every op of the family resolves at the opsets the backend tests use */
    static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Max",
                                "Min", "Sum", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid",
                                "HardSwish", "Tanh", "Erf", "Equal", "Greater", "GreaterOrEqual", "Less", "Not",
                                "Where", "Floor", "Ceil", "Cast", "Identity", "Dropout"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        const lc_kernel *k = lc_kernel_find(ops[i], 17, NULL);
        ck_assert_msg(k != NULL, "%s@17 missing", ops[i]);
        ck_assert_str_eq(k->op, ops[i]);
    }
    ck_assert_int_eq(lc_kernel_find("Add", 6, NULL)->since, 6);
    ck_assert_int_eq(lc_kernel_find("Add", 12, NULL)->since, 7);
    ck_assert_int_eq(lc_kernel_find("Clip", 10, NULL)->since, 6);
    ck_assert_ptr_null(lc_kernel_find("HardSwish", 13, NULL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_elementwise");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_binary_broadcast_random);
    tcase_add_test(tc, test_binary_fixed_shapes);
    tcase_add_test(tc, test_legacy_broadcast);
    tcase_add_test(tc, test_prelu_legacy_channel);
    tcase_add_test(tc, test_variadic_three_inputs);
    tcase_add_test(tc, test_where_broadcast);
    tcase_add_test(tc, test_integer_arithmetic);
    tcase_add_test(tc, test_half_rounding);
    tcase_add_test(tc, test_half_adapter);
    tcase_add_test(tc, test_unary_float);
    tcase_add_test(tc, test_unary_double_and_int);
    tcase_add_test(tc, test_clip);
    tcase_add_test(tc, test_cast);
    tcase_add_test(tc, test_dropout_identity);
    tcase_add_test(tc, test_kernel_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
