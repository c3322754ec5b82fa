/* Pow: X ^ Y with numpy broadcasting (legacy `broadcast`/`axis` before
 * opset 7); the output has X's dtype. From opset 12 Y may have another
 * numeric dtype: such mixes are computed in double (or, when both are
 * integers, by exact integer exponentiation wrapping modulo 2^64) and
 * stored into X's dtype (float -> integer truncates). We accept mixed and
 * integer dtypes at every opset. */
#include "lc_elementwise.h"

#define CHUNK 256

static void pow_f32(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)
{
    const float *x = in[0], *y = in[1];
    float *o = out;
    (void)ctx;
    /* no x*x shortcut for y == 2: glibc's powf is not always correctly
     * rounded, and results must not depend on whether y broadcasts */
    if (st[0] == 1 && st[1] == 1) {
        for (int64_t i = 0; i < n; i++) o[i] = powf(x[i], y[i]);
    } else {
        for (int64_t i = 0; i < n; i++) o[i] = powf(x[i * st[0]], y[i * st[1]]);
    }
}

static void pow_f64(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)
{
    const double *x = in[0], *y = in[1];
    double *o = out;
    (void)ctx;
    for (int64_t i = 0; i < n; i++) o[i] = pow(x[i * st[0]], y[i * st[1]]);
}

static int64_t ipow(int64_t x, int64_t y)
{
    if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x, e = (uint64_t)y;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

static void pow_mixed(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)
{
    const lc_ew_params *p = ctx;
    int dx = p->dtype[0], dy = p->dtype[1];
    size_t ex = lc_dtype_size(dx), ey = lc_dtype_size(dy), eo = lc_dtype_size(p->out_dtype);
    bool ints = lc_ew_kind(dx) != 'f' && lc_ew_kind(dy) != 'f';
    for (int64_t c = 0; c < n; c += CHUNK) {
        int64_t m = n - c < CHUNK ? n - c : CHUNK;
        const void *xs = (const char *)in[0] + (size_t)(c * st[0]) * ex;
        const void *ys = (const char *)in[1] + (size_t)(c * st[1]) * ey;
        void *os = (char *)out + (size_t)c * eo;
        if (ints) {
            int64_t xb[CHUNK], yb[CHUNK];
            lc_ew_load_i64(dx, xs, st[0], m, xb);
            lc_ew_load_i64(dy, ys, st[1], m, yb);
            for (int64_t i = 0; i < m; i++) xb[i] = ipow(xb[i], yb[i]);
            lc_ew_store_i64(p->out_dtype, xb, m, os);
        } else {
            double xb[CHUNK], yb[CHUNK];
            lc_ew_load_f64(dx, xs, st[0], m, xb);
            lc_ew_load_f64(dy, ys, st[1], m, yb);
            for (int64_t i = 0; i < m; i++) xb[i] = pow(xb[i], yb[i]);
            lc_ew_store_f64(p->out_dtype, xb, m, os);
        }
    }
}

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = pow_f32, [LC_DTYPE_DOUBLE] = pow_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_binary_args(a);
    if (s) return s;
    int dx = a->in[0]->dtype, dy = a->in[1]->dtype;
    if (!lc_ew_kind(dx) || dx == LC_DTYPE_BOOL) return lc_ew_bad_dtype(a, "X", dx);
    if (!lc_ew_kind(dy) || dy == LC_DTYPE_BOOL) return lc_ew_bad_dtype(a, "Y", dy);
    if ((s = lc_ew_state_new(a, &st))) return s;
    if (dx == dy && (rows[dx] || lc_ew_is_half(dx))) {
        if ((s = lc_ew_pick(a, st, rows, dx, 2, dx))) return s;
    } else {
        st->fn = pow_mixed;
        st->ctx = &st->p;
        st->out_dtype = dx;
        st->p.dtype[0] = dx;
        st->p.dtype[1] = dy;
        st->p.out_dtype = dx;
    }
    return lc_ew_binary_shape(a, st);
}

LC_EW_KERNEL(Pow, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Pow, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Pow, 12, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Pow, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Pow, 15, 2, 0, prepare, lc_ew_binary_run, NULL)
