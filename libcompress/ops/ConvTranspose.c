/* ConvTranspose over 1 to 3 spatial axes: per image and group, sgemm
 * W^T * X into columns, then col2im scatters them into the output, which
 * starts as the bias. Pads may come out negative (output_shape larger
 * than the full result): those output positions only get the bias. */
#include <stdlib.h>
#include <string.h>

#include "lc_nn.h"

typedef struct convt_state {
    lc_nn_geom g; /* in = X's spatial sizes, out = Y's; pads may be < 0 */
    int64_t n, c, m, group;
    float *col;
} convt_state;

static void convt_free(void *state)
{
    convt_state *st = state;
    if (!st) return;
    free(st->col);
    free(st);
}

static int64_t floor_div2(int64_t v)
{
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

static lc_status read_list(const lc_node *node, const char *name, int want, int64_t def, int64_t *out)
{
    int64_t v[2 * LC_NN_MAX_SPATIAL];
    int n;
    lc_status s = lc_attr_ints(node, name, v, 2 * LC_NN_MAX_SPATIAL, &n);
    if (s) return s;
    if (n && n != want)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' has %d values, expected %d", name, n, want);
    for (int i = 0; i < want; i++) out[i] = n ? v[i] : def;
    return LC_OK;
}

static lc_status convt_prepare(lc_kernel_args *a)
{
    lc_status s;
    convt_state *st = NULL;
    if (a->n_in < 2 || !a->in[0] || !a->in[1] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "ConvTranspose needs inputs X and W and output Y");
    const lc_value *x = a->in[0], *w = a->in[1], *b = a->n_in > 2 ? a->in[2] : NULL;
    if ((s = lc_nn_need_float(x, "X")) || (s = lc_nn_need_float(w, "W")) || (b && (s = lc_nn_need_float(b, "B"))))
        return s;
    if (x->ndim < 3 || x->ndim > 2 + LC_NN_MAX_SPATIAL)
        return lc_fail(LC_ERR_UNSUPPORTED, "X has rank %d (3 to %d supported)", x->ndim, 2 + LC_NN_MAX_SPATIAL);
    if (w->ndim != x->ndim) return lc_fail(LC_ERR_SHAPE, "W has rank %d, X has rank %d", w->ndim, x->ndim);
    const int nsp = x->ndim - 2;
    int64_t group = lc_node_attr_int(a->node, "group", 1);
    int64_t c = x->dims[1];
    if (group < 1 || c % group)
        return lc_fail(LC_ERR_SHAPE, "group %lld does not divide %lld input channels", (long long)group, (long long)c);
    if (w->dims[0] != c)
        return lc_fail(LC_ERR_SHAPE, "W has %lld input channels, X has %lld", (long long)w->dims[0], (long long)c);
    int64_t m = w->dims[1] * group;
    if (b && (b->ndim != 1 || b->dims[0] != m))
        return lc_fail(LC_ERR_SHAPE, "B has shape [%s], expected [%lld]", lc_dims_str(b->ndim, b->dims), (long long)m);

    int64_t ks[3], st_[3], dl[3], pads[6], opad[3], oshape[LC_NN_MAX_SPATIAL + 2];
    int nk, nos, mode;
    if ((s = lc_attr_ints(a->node, "kernel_shape", ks, 3, &nk))) return s;
    for (int i = 0; i < nk; i++)
        if (nk != nsp || ks[i] != w->dims[2 + i])
            return lc_fail(LC_ERR_SHAPE, "kernel_shape does not match W's shape [%s]", lc_dims_str(w->ndim, w->dims));
    if ((s = read_list(a->node, "strides", nsp, 1, st_)) || (s = read_list(a->node, "dilations", nsp, 1, dl)) ||
        (s = read_list(a->node, "pads", 2 * nsp, 0, pads)) ||
        (s = read_list(a->node, "output_padding", nsp, 0, opad)) ||
        (s = lc_nn_auto_pad(a->node, &mode)))
        return s;
    if ((s = lc_attr_ints(a->node, "output_shape", oshape, LC_NN_MAX_SPATIAL + 2, &nos))) return s;
    if (nos && nos != nsp && nos != nsp + 2)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "output_shape has %d values for %d spatial axes", nos, nsp);
    const int64_t *os = nos ? oshape + (nos - nsp) : NULL;

    if (!(st = calloc(1, sizeof *st))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_nn_geom *g = &st->g;
    g->nsp = nsp;
    for (int i = 0; i < 3; i++) g->in[i] = g->out[i] = g->k[i] = g->stride[i] = g->dil[i] = 1;
    for (int i = 0; i < nsp; i++) {
        int j = 3 - nsp + i;
        int64_t k = w->dims[2 + i], in = x->dims[2 + i];
        if (st_[i] < 1 || dl[i] < 1 || k < 1 || opad[i] < 0) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "strides, dilations and kernel must be positive, output_padding >= 0");
            goto fail;
        }
        int64_t full = st_[i] * (in - 1) + opad[i] + (k - 1) * dl[i] + 1, out, pb, pe;
        if (os || mode == LC_PAD_SAME_UPPER || mode == LC_PAD_SAME_LOWER) {
            out = os ? os[i] : in * st_[i];
            int64_t total = full - out;
            if (mode == LC_PAD_SAME_UPPER) {
                pb = floor_div2(total);
                pe = total - pb;
            } else {
                pe = floor_div2(total);
                pb = total - pe;
            }
        } else if (mode == LC_PAD_VALID) {
            pb = pe = 0;
            out = full;
        } else {
            pb = pads[i];
            pe = pads[nsp + i];
            out = full - pb - pe;
        }
        if (out < 1) {
            s = lc_fail(LC_ERR_SHAPE, "spatial axis %d: output size %lld", i, (long long)out);
            goto fail;
        }
        g->in[j] = in;
        g->out[j] = out;
        g->k[j] = k;
        g->stride[j] = st_[i];
        g->dil[j] = dl[i];
        g->pad_b[j] = pb;
        g->pad_e[j] = pe;
    }
    g->in_size = g->in[0] * g->in[1] * g->in[2];
    g->out_size = g->out[0] * g->out[1] * g->out[2];
    g->k_size = g->k[0] * g->k[1] * g->k[2];
    st->n = x->dims[0];
    st->c = c;
    st->m = m;
    st->group = group;
    int64_t od[LC_MAX_DIMS] = {st->n, m};
    for (int i = 0; i < nsp; i++) od[2 + i] = g->out[3 - nsp + i];
    if ((s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, x->ndim, od))) goto fail;
    int64_t ncol = m / group * g->k_size * g->in_size;
    if (ncol > 0 && !(st->col = malloc((size_t)ncol * sizeof(float)))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory for %lld column values", (long long)ncol);
        goto fail;
    }
    a->state = st;
    return LC_OK;
fail:
    convt_free(st);
    return s;
}

/* Adds the columns of one group (mg channels) into y. */
static void col2im(const lc_nn_geom *g, int64_t mg, const float *col, float *y)
{
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    for (int64_t mi = 0; mi < mg; mi++) {
        float *ym = y + mi * g->out_size;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
            for (int64_t kh = 0; kh < g->k[1]; kh++)
                for (int64_t kw = 0; kw < g->k[2]; kw++, col += g->in_size) {
                    int64_t woff = kw * g->dil[2] - g->pad_b[2], lo, hi;
                    lc_nn_valid_range(IW, OW, g->stride[2], woff, &lo, &hi);
                    if (lo >= hi) continue;
                    for (int64_t id = 0; id < ID; id++) {
                        int64_t od = id * g->stride[0] - g->pad_b[0] + kd * g->dil[0];
                        if (od < 0 || od >= OD) continue;
                        for (int64_t ih = 0; ih < IH; ih++) {
                            int64_t oh = ih * g->stride[1] - g->pad_b[1] + kh * g->dil[1];
                            if (oh < 0 || oh >= OH) continue;
                            float *yr = ym + (od * OH + oh) * OW;
                            const float *cr = col + (id * IH + ih) * IW;
                            for (int64_t iw = lo; iw < hi; iw++) yr[iw * g->stride[2] + woff] += cr[iw];
                        }
                    }
                }
    }
}

static lc_status convt_run(lc_kernel_args *a)
{
    convt_state *st = a->state;
    const lc_nn_geom *g = &st->g;
    const lc_value *bv = a->n_in > 2 ? a->in[2] : NULL;
    const float *x = a->in[0]->data, *w = a->in[1]->data, *bias = bv ? bv->data : NULL;
    float *y = a->out[0]->data;
    const int64_t cg = st->c / st->group, mg = st->m / st->group, rows = mg * g->k_size;
    for (int64_t img = 0; img < st->n; img++)
        for (int64_t gi = 0; gi < st->group; gi++) {
            float *yg = y + (img * st->m + gi * mg) * g->out_size;
            for (int64_t mi = 0; mi < mg; mi++) {
                float bval = bias ? bias[gi * mg + mi] : 0.0f;
                for (int64_t i = 0; i < g->out_size; i++) yg[mi * g->out_size + i] = bval;
            }
            lc_sgemm(true, false, rows, g->in_size, cg, 1.0f, w + gi * cg * rows, rows,
                     x + (img * st->c + gi * cg) * g->in_size, g->in_size, 0.0f, st->col, g->in_size);
            col2im(g, mg, st->col, yg);
        }
    return LC_OK;
}

const lc_kernel lc_kernel_ConvTranspose_1 = {"ConvTranspose", 1, 2, 0, convt_prepare, convt_run, convt_free, NULL};
