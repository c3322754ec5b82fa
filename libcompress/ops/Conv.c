/* Conv: 1-D, 2-D and 3-D convolution with groups, dilations, strides, pads
 * and auto_pad. Fast path: a direct loop for depthwise convolutions, the
 * input itself as the GEMM operand for 1x1 stride-1 unpadded ones, im2col
 * + sgemm otherwise (per image and group). lc_conv_ref is the oracle. */
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

static bool is_pointwise(const lc_nn_geom *g)
{
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->stride[i] != 1 || g->pad_b[i] || g->pad_e[i]) return false;
    return true;
}

/* One input channel per group, and no real depth axis (1-D and 2-D, or a
 * 3-D conv whose depth is a single unpadded slice). */
static bool is_depthwise(const lc_nn_geom *g, int64_t c, int64_t group)
{
    return group == c && c > 1 && g->in[0] == 1 && g->k[0] == 1 && g->out[0] == 1 && g->pad_b[0] == 0;
}

/* Depthwise scratch: one zero-padded input plane, big enough for every
 * window, so the inner loops need no bounds checks. */
static void padded_plane_dims(const lc_nn_geom *g, int64_t *ph, int64_t *pw)
{
    *ph = (g->out[1] - 1) * g->stride[1] + (g->k[1] - 1) * g->dil[1] + 1;
    *pw = (g->out[2] - 1) * g->stride[2] + (g->k[2] - 1) * g->dil[2] + 1;
}

/* Images per GEMM: small outputs (deep layers, small inputs) make thin
 * matrices, so several images share one sgemm, their im2col columns side
 * by side, as long as the column buffer stays moderate. Measured with
 * OpenBLAS: a clear gain below ~256 output positions, a loss above, and
 * none for 1x1 convolutions (which would need a copy of the input). */
static int64_t images_per_gemm(const lc_nn_geom *g, int64_t n, int64_t cg)
{
    const int64_t P = g->out_size, K = cg * g->k_size;
    int64_t nb = 1;
    if (is_pointwise(g)) return 1;
    while (nb < n && nb * P < 256 && 2 * nb * P * K <= ((int64_t)1 << 22)) nb++;
    return nb;
}

int64_t lc_conv_scratch_floats(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group)
{
    if (is_depthwise(g, c, group)) {
        int64_t ph, pw;
        padded_plane_dims(g, &ph, &pw);
        return ph * pw;
    }
    const int64_t cg = c / group, nb = images_per_gemm(g, n, cg);
    if (nb > 1) return nb * g->out_size * (cg * g->k_size + m / group);
    if (is_pointwise(g)) return 0;
    return cg * g->k_size * g->out_size;
}

static void fill_bias(float *y, int64_t channels, int64_t size, const float *bias)
{
    for (int64_t ch = 0; ch < channels; ch++) {
        float b = bias ? bias[ch] : 0.0f;
        float *p = y + ch * size;
        for (int64_t i = 0; i < size; i++) p[i] = b;
    }
}

/* Four floats; loads and stores go through memcpy (unaligned). GCC and
 * Clang map this to SSE on x86-64 and NEON on AArch64. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* One channel of a 2-D (or 1-D) depthwise convolution into y (bias `b`);
 * xp is the channel's padded plane, ph x pw. */
static void depthwise_channel(const lc_nn_geom *g, const float *restrict xp, int64_t pw, const float *restrict w,
                              float b, float *restrict y)
{
    const int64_t OH = g->out[1], OW = g->out[2], KH = g->k[1], KW = g->k[2];
    const int64_t sh = g->stride[1], sw = g->stride[2], dh = g->dil[1], dw = g->dil[2];
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *xr = xp + oh * sh * pw;
        float *yr = y + oh * OW;
        int64_t ow = 0;
        if (sw == 1)
            for (; ow + 8 <= OW; ow += 8) {
                v4f a0 = {b, b, b, b}, a1 = a0;
                for (int64_t kh = 0; kh < KH; kh++) {
                    const float *xs = xr + kh * dh * pw + ow;
                    for (int64_t kw = 0; kw < KW; kw++) {
                        const float wv = w[kh * KW + kw];
                        a0 += wv * load4(xs + kw * dw);
                        a1 += wv * load4(xs + kw * dw + 4);
                    }
                }
                memcpy(yr + ow, &a0, sizeof a0);
                memcpy(yr + ow + 4, &a1, sizeof a1);
            }
        for (; ow < OW; ow++) {
            float acc = b;
            for (int64_t kh = 0; kh < KH; kh++) {
                const float *xs = xr + kh * dh * pw + ow * sw;
                for (int64_t kw = 0; kw < KW; kw++) acc += w[kh * KW + kw] * xs[kw * dw];
            }
            yr[ow] = acc;
        }
    }
}

static void pad_plane(const lc_nn_geom *g, const float *x, float *xp, int64_t ph, int64_t pw)
{
    const int64_t H = g->in[1], W = g->in[2], pt = g->pad_b[1], pl = g->pad_b[2];
    for (int64_t r = 0; r < ph; r++) {
        float *dst = xp + r * pw;
        int64_t ih = r - pt;
        if (ih < 0 || ih >= H) {
            memset(dst, 0, (size_t)pw * sizeof *dst);
            continue;
        }
        int64_t lo = pl < pw ? pl : pw, hi = pl + W < pw ? pl + W : pw;
        memset(dst, 0, (size_t)lo * sizeof *dst);
        if (hi > lo) memcpy(dst + lo, x + ih * W, (size_t)(hi - lo) * sizeof *dst);
        if (pw > hi) memset(dst + hi, 0, (size_t)(pw - hi) * sizeof *dst);
    }
}

void lc_conv_fast(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                  const float *bias, float *y, float *scratch)
{
    const int64_t cg = c / group, mg = m / group, K = cg * g->k_size, P = g->out_size;
    if (is_depthwise(g, c, group)) {
        const int64_t mult = m / c;
        int64_t ph, pw;
        padded_plane_dims(g, &ph, &pw);
        for (int64_t img = 0; img < n; img++)
            for (int64_t ci = 0; ci < c; ci++) {
                pad_plane(g, x + (img * c + ci) * g->in_size, scratch, ph, pw);
                for (int64_t mi = 0; mi < mult; mi++) {
                    int64_t oc = ci * mult + mi;
                    depthwise_channel(g, scratch, pw, w + oc * g->k_size, bias ? bias[oc] : 0.0f,
                                      y + (img * m + oc) * P);
                }
            }
        return;
    }
    const bool pw = is_pointwise(g);
    const int64_t nb = images_per_gemm(g, n, cg);
    if (nb > 1) {
        /* columns of nb images side by side, product into a staging
         * matrix, then scattered to each image with the bias added */
        for (int64_t i0 = 0; i0 < n; i0 += nb) {
            const int64_t cnt = n - i0 < nb ? n - i0 : nb, ld = cnt * P;
            float *col = scratch, *prod = scratch + K * ld;
            for (int64_t gi = 0; gi < group; gi++) {
                for (int64_t j = 0; j < cnt; j++) {
                    const float *xg = x + ((i0 + j) * c + gi * cg) * g->in_size;
                    lc_nn_im2col(g, cg, xg, col + j * P, ld);
                }
                lc_sgemm(false, false, mg, ld, K, 1.0f, w + gi * mg * K, K, col, ld, 0.0f, prod, ld);
                for (int64_t j = 0; j < cnt; j++)
                    for (int64_t mi = 0; mi < mg; mi++) {
                        const float b = bias ? bias[gi * mg + mi] : 0.0f, *src = prod + mi * ld + j * P;
                        float *dst = y + ((i0 + j) * m + gi * mg + mi) * P;
                        for (int64_t p = 0; p < P; p++) dst[p] = src[p] + b;
                    }
            }
        }
        return;
    }
    for (int64_t img = 0; img < n; img++)
        for (int64_t gi = 0; gi < group; gi++) {
            const float *xg = x + (img * c + gi * cg) * g->in_size;
            float *yg = y + (img * m + gi * mg) * P;
            const float *b = xg;
            if (!pw) {
                lc_nn_im2col(g, cg, xg, scratch, P);
                b = scratch;
            }
            if (bias) fill_bias(yg, mg, P, bias + gi * mg);
            lc_sgemm(false, false, mg, P, K, 1.0f, w + gi * mg * K, K, b, P, bias ? 1.0f : 0.0f, yg, P);
        }
}

void lc_conv_ref(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                 const float *bias, float *y)
{
    const int64_t cg = c / group, mg = m / group;
    const int64_t D = g->in[0], H = g->in[1], W = g->in[2];
    for (int64_t img = 0; img < n; img++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = 0; oh < g->out[1]; oh++)
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {
                        double acc = bias ? bias[oc] : 0.0;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t kd = 0; kd < g->k[0]; kd++)
                                for (int64_t kh = 0; kh < g->k[1]; kh++)
                                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                                        int64_t id = od * g->stride[0] - g->pad_b[0] + kd * g->dil[0];
                                        int64_t ih = oh * g->stride[1] - g->pad_b[1] + kh * g->dil[1];
                                        int64_t iw = ow * g->stride[2] - g->pad_b[2] + kw * g->dil[2];
                                        if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                        double xv = x[(((img * c + gi * cg + ci) * D + id) * H + ih) * W + iw];
                                        double wv = w[(((oc * cg + ci) * g->k[0] + kd) * g->k[1] + kh) * g->k[2] + kw];
                                        acc += xv * wv;
                                    }
                        y[(((img * m + oc) * g->out[0] + od) * g->out[1] + oh) * g->out[2] + ow] = (float)acc;
                    }
        }
}

typedef struct conv_state {
    lc_nn_geom g;
    int64_t n, c, m, group;
    float *scratch;
} conv_state;

static void conv_free(void *state)
{
    conv_state *st = state;
    if (!st) return;
    free(st->scratch);
    free(st);
}

static lc_status conv_prepare(lc_kernel_args *a)
{
    lc_status s;
    conv_state *st = NULL;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "Conv needs inputs X and W and output Y");
    const lc_value *x = a->in[0], *w = a->in[1], *b = a->n_in > 2 ? a->in[2] : NULL;
    if ((s = lc_nn_need_float(x, "X")) || (s = lc_nn_need_float(w, "W")) || (b && (s = lc_nn_need_float(b, "B"))))
        return s;
    if (x->ndim < 3 || x->ndim > 2 + LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "X has rank %d (3 to %d supported)", x->ndim, 2 + LC_NN_MAX_SPATIAL);
    if (w->ndim != x->ndim) return lc_fail(LC_ERR_SHAPE, "W has rank %d, X has rank %d", w->ndim, x->ndim);
    const int nsp = x->ndim - 2;
    int64_t group = lc_node_attr_int(a->node, "group", 1);
    int64_t n = x->dims[0], c = x->dims[1], m = w->dims[0];
    if (group < 1 || c % group || m % group)
        return lc_fail(LC_ERR_SHAPE, "group %lld does not divide %lld input and %lld output channels", (long long)group,
                       (long long)c, (long long)m);
    if (w->dims[1] != c / group)
        return lc_fail(LC_ERR_SHAPE, "W has %lld input channels per group, X gives %lld", (long long)w->dims[1],
                       (long long)(c / group));
    int64_t ks[3];
    int nk;
    if ((s = lc_attr_ints(a->node, "kernel_shape", ks, 3, &nk))) return s;
    for (int i = 0; i < nk; i++)
        if (nk != nsp || ks[i] != w->dims[2 + i])
            return lc_fail(LC_ERR_SHAPE, "kernel_shape does not match W's shape [%s]", lc_dims_str(w->ndim, w->dims));
    if (b && (b->ndim != 1 || b->dims[0] != m))
        return lc_fail(LC_ERR_SHAPE, "B has shape [%s], expected [%lld]", lc_dims_str(b->ndim, b->dims), (long long)m);

    if (!(st = calloc(1, sizeof *st))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if ((s = lc_nn_geom_init(a->node, nsp, x->dims + 2, w->dims + 2, false, &st->g))) goto fail;
    st->n = n;
    st->c = c;
    st->m = m;
    st->group = group;
    int64_t od[LC_MAX_DIMS] = {n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = st->g.out[3 - nsp + i];
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od))) goto fail;
    int64_t sn = lc_conv_scratch_floats(&st->g, n, c, m, group);
    if (sn > 0 && !(st->scratch = malloc((size_t)sn * sizeof(float)))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory for %lld im2col values", (long long)sn);
        goto fail;
    }
    a->state = st;
    return LC_OK;
fail:
    conv_free(st);
    return s;
}

static lc_status conv_run(lc_kernel_args *a)
{
    const conv_state *st = a->state;
    const lc_value *b = a->n_in > 2 ? a->in[2] : NULL;
    lc_conv_fast(&st->g, st->n, st->c, st->m, st->group, a->in[0]->data, a->in[1]->data, b ? b->data : NULL,
                 a->out[0]->data, st->scratch);
    return LC_OK;
}

const lc_kernel lc_kernel_Conv_1 = {"Conv", 1, conv_prepare, conv_run, conv_free};
