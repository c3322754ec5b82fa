/* float32 kernels (see mc.h). Tensors are CHW, batch 1. */
#include "mc.h"

#include <math.h>
#include <string.h>

float mc_act_apply(const mc_act *act, float v)
{
    switch (act->kind) {
    case MC_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case MC_ACT_CLIP: return v < act->a ? act->a : (v > act->b ? act->b : v);
    case MC_ACT_LEAKY: return v >= 0.0f ? v : v * act->a;
    case MC_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case MC_ACT_HARDSIGMOID: {
        float h = act->a * v + act->b;
        return h < 0.0f ? 0.0f : (h > 1.0f ? 1.0f : h);
    }
    case MC_ACT_HARDSWISH: {
        float h = v / 6.0f + 0.5f;
        return v * (h < 0.0f ? 0.0f : (h > 1.0f ? 1.0f : h));
    }
    case MC_ACT_TANH: return tanhf(v);
    default: return v;
    }
}

static float epilogue(const float *oscale, const float *bias, const mc_act *act, uint32_t m, float acc)
{
    if (oscale) acc *= oscale[m];
    if (bias) acc += bias[m];
    return act->kind ? mc_act_apply(act, acc) : acc;
}

/* One output row at a time, weight by weight: each nonzero weight adds
 * itself times a strided run of an input row into the output row, so the
 * inner loop has no bounds checks and pruned weights cost nothing. */
void mc_conv_f32(const mc_conv *p, const float *x, float *y, float *scratch)
{
    const mc_conv_dims *d = &p->d;
    uint32_t cg = (uint32_t)d->c_in / d->groups, mg = (uint32_t)d->c_out / d->groups;
    uint32_t plane = (uint32_t)d->h_in * d->w_in;
    mc_cursor cur;
    mc_cursor_init(&cur);
    for (uint32_t m = 0; m < d->c_out; m++) {
        mc_row_f32(p->w, &cur, scratch);
        const float *xg = x + (m / mg) * cg * plane;
        for (uint32_t oy = 0; oy < d->h_out; oy++, y += d->w_out) {
            for (uint32_t ox = 0; ox < d->w_out; ox++) y[ox] = 0.0f;
            const float *wr = scratch;
            for (uint32_t c = 0; c < cg; c++) {
                for (uint32_t ky = 0; ky < d->kh; ky++, wr += d->kw) {
                    int32_t iy = (int32_t)(oy * d->sh + ky * d->dh) - d->pt;
                    if (iy < 0 || iy >= d->h_in) continue;
                    const float *row = xg + c * plane + (uint32_t)iy * d->w_in;
                    for (uint32_t kx = 0; kx < d->kw; kx++) {
                        float w = wr[kx];
                        if (w == 0.0f) continue;
                        uint32_t lo, hi;
                        mc_conv_span(kx, d, &lo, &hi);
                        const float *xi = row + lo * d->sw + kx * d->dw - d->pl;
                        for (uint32_t ox = lo; ox < hi; ox++, xi += d->sw) y[ox] += w * *xi;
                    }
                }
            }
            for (uint32_t ox = 0; ox < d->w_out; ox++) y[ox] = epilogue(p->oscale, p->bias, &p->act, m, y[ox]);
        }
    }
}

void mc_dense_f32(const mc_dense *p, const float *x, float *y, float *scratch)
{
    mc_cursor cur;
    mc_cursor_init(&cur);
    for (uint32_t n = 0; n < p->n; n++) {
        if (p->m == 1) {
            y[n] = epilogue(p->oscale, p->bias, &p->act, n, mc_row_dot_f32(p->w, &cur, x));
            continue;
        }
        mc_row_f32(p->w, &cur, scratch);
        for (uint32_t i = 0; i < p->m; i++) {
            const float *xi = x + i * p->k;
            float acc = 0.0f;
            for (uint32_t k = 0; k < p->k; k++) acc += xi[k] * scratch[k];
            y[i * p->n + n] = epilogue(p->oscale, p->bias, &p->act, n, acc);
        }
    }
}

void mc_act_f32(const mc_act *act, const float *x, float *y, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) y[i] = mc_act_apply(act, x[i]);
}

void mc_affine_f32(const float *x, float *y, uint32_t channels, uint32_t inner, const float *scale,
                   const float *shift)
{
    for (uint32_t c = 0; c < channels; c++)
        for (uint32_t i = 0; i < inner; i++, x++, y++) *y = *x * scale[c] + shift[c];
}

void mc_binary_f32(const mc_binary *p, const float *a, const float *b, float *y)
{
    for (uint32_t i0 = 0; i0 < p->dims[0]; i0++)
        for (uint32_t i1 = 0; i1 < p->dims[1]; i1++)
            for (uint32_t i2 = 0; i2 < p->dims[2]; i2++) {
                const float *pa = a + i0 * p->sa[0] + i1 * p->sa[1] + i2 * p->sa[2];
                const float *pb = b + i0 * p->sb[0] + i1 * p->sb[1] + i2 * p->sb[2];
                for (uint32_t i3 = 0; i3 < p->dims[3]; i3++) {
                    float u = pa[i3 * p->sa[3]], v = pb[i3 * p->sb[3]];
                    *y++ = p->op == MC_BIN_MUL ? u * v : u + v;
                }
            }
}

/* Calls f(acc, value) over the window of output (oy, ox) of channel plane x;
 * returns the number of input cells visited. */
#define MC_POOL_WINDOW(p, x, oy, ox, BODY)                                         \
    for (uint32_t ky = 0; ky < (p)->kh; ky++) {                                    \
        int32_t iy = (int32_t)((oy) * (p)->sh + ky * (p)->dh) - (p)->pt;           \
        if (iy < 0 || iy >= (p)->h_in) continue;                                   \
        for (uint32_t kx = 0; kx < (p)->kw; kx++) {                                \
            int32_t ix = (int32_t)((ox) * (p)->sw + kx * (p)->dw) - (p)->pl;       \
            if (ix < 0 || ix >= (p)->w_in) continue;                               \
            BODY((x)[(uint32_t)iy * (p)->w_in + (uint32_t)ix]);                    \
        }                                                                          \
    }

void mc_maxpool_f32(const mc_pool *p, const float *x, float *y)
{
    for (uint32_t c = 0; c < p->c; c++, x += (uint32_t)p->h_in * p->w_in)
        for (uint32_t oy = 0; oy < p->h_out; oy++)
            for (uint32_t ox = 0; ox < p->w_out; ox++) {
                float best = -INFINITY;
#define MC_MAX(v) if ((v) > best) best = (v)
                MC_POOL_WINDOW(p, x, oy, ox, MC_MAX)
#undef MC_MAX
                *y++ = best;
            }
}

void mc_avgpool_f32(const mc_pool *p, const float *x, float *y)
{
    for (uint32_t c = 0; c < p->c; c++, x += (uint32_t)p->h_in * p->w_in)
        for (uint32_t oy = 0; oy < p->h_out; oy++)
            for (uint32_t ox = 0; ox < p->w_out; ox++) {
                float sum = 0.0f;
                uint32_t count = 0;
#define MC_SUM(v) sum += (v), count++
                MC_POOL_WINDOW(p, x, oy, ox, MC_SUM)
#undef MC_SUM
                if (p->count_include_pad) {
                    /* the window clipped to the padded input */
                    int32_t y0 = (int32_t)(oy * p->sh) - p->pt, x0 = (int32_t)(ox * p->sw) - p->pl;
                    int32_t y1 = y0 + (int32_t)((p->kh - 1u) * p->dh) + 1, x1 = x0 + (int32_t)((p->kw - 1u) * p->dw) + 1;
                    int32_t ylim = (int32_t)p->h_in + p->pb, xlim = (int32_t)p->w_in + p->pr;
                    if (y1 > ylim) y1 = ylim;
                    if (x1 > xlim) x1 = xlim;
                    count = (uint32_t)(((y1 - y0 - 1) / p->dh + 1) * ((x1 - x0 - 1) / p->dw + 1));
                }
                *y++ = count ? sum / (float)count : 0.0f;
            }
}

void mc_gap_f32(const float *x, float *y, uint32_t channels, uint32_t inner)
{
    for (uint32_t c = 0; c < channels; c++) {
        float sum = 0.0f;
        for (uint32_t i = 0; i < inner; i++) sum += *x++;
        y[c] = sum / (float)inner;
    }
}

void mc_softmax_f32(const float *x, float *y, uint32_t outer, uint32_t n, uint32_t inner)
{
    for (uint32_t o = 0; o < outer; o++)
        for (uint32_t j = 0; j < inner; j++) {
            const float *xs = x + o * n * inner + j;
            float *ys = y + o * n * inner + j;
            float mx = xs[0], sum = 0.0f;
            for (uint32_t i = 1; i < n; i++)
                if (xs[i * inner] > mx) mx = xs[i * inner];
            for (uint32_t i = 0; i < n; i++) sum += ys[i * inner] = expf(xs[i * inner] - mx);
            for (uint32_t i = 0; i < n; i++) ys[i * inner] /= sum;
        }
}

void mc_concat(const void *const *in, const uint32_t *chunk_bytes, uint32_t n_in, uint32_t outer, void *y)
{
    uint8_t *dst = (uint8_t *)y;
    for (uint32_t o = 0; o < outer; o++)
        for (uint32_t i = 0; i < n_in; i++) {
            memcpy(dst, (const uint8_t *)in[i] + o * chunk_bytes[i], chunk_bytes[i]);
            dst += chunk_bytes[i];
        }
}
