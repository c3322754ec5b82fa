/* int8 kernels with TFLite/CMSIS-NN style integer arithmetic: int32
 * accumulators, per-channel fixed-point multipliers (Q31 mantissa + shift). */
#include "mc.h"

#include <math.h>
#include <string.h>

int32_t mc_requantize(int32_t acc, int32_t mult, int32_t shift)
{
    int32_t right = 31 - shift; /* the compiler keeps it in 1..62 */
    int64_t p = (int64_t)acc * mult;
    return (int32_t)((p + ((int64_t)1 << (right - 1))) >> right);
}

static int8_t clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

void mc_quantize(const float *x, int8_t *q, uint32_t n, float scale, int32_t zp)
{
    for (uint32_t i = 0; i < n; i++) {
        float v = rintf(x[i] / scale) + (float)zp;
        q[i] = (int8_t)(v < -128.0f ? -128 : (v > 127.0f ? 127 : (int32_t)v));
    }
}

void mc_dequantize(const int8_t *q, float *x, uint32_t n, float scale, int32_t zp)
{
    for (uint32_t i = 0; i < n; i++) x[i] = (float)((int32_t)q[i] - zp) * scale;
}

void mc_requant_i8(const int8_t *x, int8_t *y, uint32_t n, int32_t x_zp, int32_t mult, int32_t shift,
                   int32_t y_zp)
{
    for (uint32_t i = 0; i < n; i++)
        y[i] = clamp8(y_zp + mc_requantize((int32_t)x[i] - x_zp, mult, shift), -128, 127);
}

static void store(int32_t acc, uint32_t m, int32_t y_zp, int32_t lo, int32_t hi, const int32_t *mult,
                  const int8_t *shift, const float *deq, int8_t *y, float *y_f32, uint32_t at)
{
    if (y_f32) y_f32[at] = (float)acc * deq[m];
    else y[at] = clamp8(y_zp + mc_requantize(acc, mult[m], shift[m]), lo, hi);
}

/* A pointwise conv (1x1, stride 1, no padding, c_out <= c_in) in place:
 * for each pixel row, every output channel's row goes to scratch (c_out *
 * w_out bytes after the accumulators and the weight row), then over the
 * input row, which nothing reads any more. The weights are decoded once per
 * pixel row: time for RAM. A function of its own, so that models which never
 * run one in place do not link it. */
void mc_qconv_pw_i8(const mc_qconv *p, int8_t *xy, int8_t *scratch)
{
    const mc_conv_dims *d = &p->d;
    uint32_t plane = (uint32_t)d->h_in * d->w_in, w = d->w_out;
    int32_t *acc = (int32_t *)(void *)scratch;
    int8_t *wrow = scratch + 4u * w, *rows = wrow + d->c_in;
    for (uint32_t oy = 0; oy < d->h_out; oy++) {
        mc_cursor cur;
        mc_cursor_init(&cur);
        const int8_t *xr = xy + oy * w;
        for (uint32_t m = 0; m < d->c_out; m++) {
            mc_row_i8(p->w, &cur, wrow);
            int32_t b = p->bias ? p->bias[m] : 0;
            for (uint32_t ox = 0; ox < w; ox++) acc[ox] = b;
            for (uint32_t c = 0; c < d->c_in; c++) {
                int32_t wv = wrow[c];
                if (wv == 0) continue;
                const int8_t *xi = xr + c * plane;
                for (uint32_t ox = 0; ox < w; ox++) acc[ox] += ((int32_t)xi[ox] - p->x_zp) * wv;
            }
            for (uint32_t ox = 0; ox < w; ox++)
                store(acc[ox], m, p->y_zp, p->act_min, p->act_max, p->mult, p->shift, NULL, rows, NULL, m * w + ox);
        }
        for (uint32_t m = 0; m < d->c_out; m++) memcpy(xy + m * plane + oy * w, rows + m * w, w);
    }
}

/* As mc_conv_f32: row by row, weight by weight, int32 accumulators in
 * scratch (w_out of them, then the decoded weight row). In place (x == y,
 * int8 output, as the compiler plans it when x dies here), only for a
 * depthwise conv (one input channel per output channel, output planes no
 * larger): it reads each channel from a copy of its input plane, placed in
 * scratch after the weight row. */
void mc_qconv_i8(const mc_qconv *p, const int8_t *x, int8_t *y, float *y_f32, int8_t *scratch)
{
    const mc_conv_dims *d = &p->d;
    uint32_t cg = (uint32_t)d->c_in / d->groups, mg = (uint32_t)d->c_out / d->groups;
    uint32_t plane = (uint32_t)d->h_in * d->w_in, at = 0, row_len = cg * d->kh * d->kw;
    int in_place = (const void *)x == (const void *)y && !y_f32;
    int32_t *acc = (int32_t *)(void *)scratch;
    int8_t *wrow = scratch + 4u * d->w_out, *copy = wrow + row_len;
    mc_cursor cur;
    mc_cursor_init(&cur);
    for (uint32_t m = 0; m < d->c_out; m++) {
        mc_row_i8(p->w, &cur, wrow);
        const int8_t *xg = x + (m / mg) * cg * plane;
        if (in_place) { /* cg == mg == 1 */
            memcpy(copy, xg, plane);
            xg = copy;
        }
        int32_t b = p->bias ? p->bias[m] : 0;
        for (uint32_t oy = 0; oy < d->h_out; oy++) {
            for (uint32_t ox = 0; ox < d->w_out; ox++) acc[ox] = b;
            const int8_t *wr = wrow;
            for (uint32_t c = 0; c < cg; c++) {
                for (uint32_t ky = 0; ky < d->kh; ky++, wr += d->kw) {
                    int32_t iy = (int32_t)(oy * d->sh + ky * d->dh) - d->pt;
                    if (iy < 0 || iy >= d->h_in) continue; /* padding is x_zp: adds 0 */
                    const int8_t *row = xg + c * plane + (uint32_t)iy * d->w_in;
                    for (uint32_t kx = 0; kx < d->kw; kx++) {
                        int32_t w = wr[kx];
                        if (w == 0) continue;
                        uint32_t lo, hi;
                        mc_conv_span(kx, d, &lo, &hi);
                        const int8_t *xi = row + lo * d->sw + kx * d->dw - d->pl;
                        for (uint32_t ox = lo; ox < hi; ox++, xi += d->sw) acc[ox] += ((int32_t)*xi - p->x_zp) * w;
                    }
                }
            }
            for (uint32_t ox = 0; ox < d->w_out; ox++, at++)
                store(acc[ox], m, p->y_zp, p->act_min, p->act_max, p->mult, p->shift, p->deq, y, y_f32, at);
        }
    }
}

void mc_qdense_i8(const mc_qdense *p, const int8_t *x, int8_t *y, float *y_f32, int8_t *scratch)
{
    mc_cursor cur;
    mc_cursor_init(&cur);
    for (uint32_t n = 0; n < p->n; n++) {
        int32_t b = p->bias ? p->bias[n] : 0;
        if (p->m == 1) {
            int32_t acc = b + mc_row_dot_i8(p->w, &cur, x, p->x_zp);
            store(acc, n, p->y_zp, p->act_min, p->act_max, p->mult, p->shift, p->deq, y, y_f32, n);
            continue;
        }
        mc_row_i8(p->w, &cur, scratch);
        for (uint32_t i = 0; i < p->m; i++) {
            const int8_t *xi = x + i * p->k;
            int32_t acc = b;
            for (uint32_t k = 0; k < p->k; k++) acc += ((int32_t)xi[k] - p->x_zp) * scratch[k];
            store(acc, n, p->y_zp, p->act_min, p->act_max, p->mult, p->shift, p->deq, y, y_f32, i * p->n + n);
        }
    }
}

void mc_qadd_i8(const mc_qadd *p, const int8_t *a, const int8_t *b, int8_t *y, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int32_t u = mc_requantize(((int32_t)a[i] - p->a_zp) * (1 << 20), p->a_mult, p->a_shift);
        int32_t v = mc_requantize(((int32_t)b[i] - p->b_zp) * (1 << 20), p->b_mult, p->b_shift);
        y[i] = clamp8(p->y_zp + mc_requantize(u + v, p->y_mult, p->y_shift), p->act_min, p->act_max);
    }
}

void mc_maxpool_i8(const mc_pool *p, const int8_t *x, int8_t *y)
{
    for (uint32_t c = 0; c < p->c; c++, x += (uint32_t)p->h_in * p->w_in)
        for (uint32_t oy = 0; oy < p->h_out; oy++)
            for (uint32_t ox = 0; ox < p->w_out; ox++) {
                int32_t best = -128;
                for (uint32_t ky = 0; ky < p->kh; ky++) {
                    int32_t iy = (int32_t)(oy * p->sh + ky * p->dh) - p->pt;
                    if (iy < 0 || iy >= p->h_in) continue;
                    for (uint32_t kx = 0; kx < p->kw; kx++) {
                        int32_t ix = (int32_t)(ox * p->sw + kx * p->dw) - p->pl;
                        if (ix >= 0 && ix < p->w_in && x[(uint32_t)iy * p->w_in + (uint32_t)ix] > best)
                            best = x[(uint32_t)iy * p->w_in + (uint32_t)ix];
                    }
                }
                *y++ = (int8_t)best;
            }
}

void mc_gap_i8(const int8_t *x, int8_t *y, uint32_t channels, uint32_t inner, int32_t x_zp, int32_t mult,
               int32_t shift, int32_t y_zp)
{
    for (uint32_t c = 0; c < channels; c++) {
        int32_t sum = 0;
        for (uint32_t i = 0; i < inner; i++) sum += (int32_t)*x++ - x_zp;
        y[c] = clamp8(y_zp + mc_requantize(sum, mult, shift), -128, 127);
    }
}
