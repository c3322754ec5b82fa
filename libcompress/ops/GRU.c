/* GRU, gates z, r, h (ONNX order):
 *   z = f(X W_z^T + H R_z^T + Wb_z + Rb_z),  r = f(... same with _r)
 *   h~ = g(X W_h^T + (r . H) R_h^T + Rb_h + Wb_h)        linear_before_reset 0
 *   h~ = g(X W_h^T + r . (H R_h^T + Rb_h) + Wb_h)        linear_before_reset 1
 *   H' = (1 - z) . h~ + z . H
 * f Sigmoid and g Tanh by default; clip applies to the three
 * pre-activations. The rest is the shared driver (lc_rnn.h). */
#include <stdlib.h>

#include "lc_rnn.h"

typedef struct gru_state {
    lc_rnn r; /* first: lc_rnn_run gets the state as an lc_rnn */
    bool linear_before_reset;
} gru_state;

static void gru_cell(const lc_rnn *r, const lc_kernel_args *a, int d, const float *const *xw, float *h, float *c,
                     float *scratch)
{
    (void)c;
    const gru_state *st = a->state;
    int64_t H = r->hidden, G3 = 3 * H;
    const float *R = lc_rnn_R(r, a, d), *B = lc_rnn_B(r, a, d);
    const float *rbh = B ? B + G3 + 2 * H : NULL; /* Rb_h, applied inside r . (...) */
    float *hr = scratch, *rh = scratch + r->batch * G3;
    lc_rnn_recur(r, R, 0, st->linear_before_reset ? 3 : 2, h, hr, G3);
    for (int64_t b = 0; b < r->batch; b++) {
        float *g = hr + b * G3;
        for (int64_t j = 0; j < H; j++) {
            float rr = xw[b] ? lc_rnn_act_apply(&r->act[d][0], lc_rnn_clip(r, xw[b][H + j] + g[H + j])) : 0.0f;
            g[H + j] = rr;
            rh[b * H + j] = rr * h[b * H + j];
        }
    }
    if (!st->linear_before_reset) lc_sgemm(false, true, r->batch, H, H, 1.0f, rh, H, R + 2 * H * H, H, 0.0f, hr + 2 * H, G3);
    for (int64_t b = 0; b < r->batch; b++) {
        if (!xw[b]) continue;
        const float *x = xw[b], *g = hr + b * G3;
        for (int64_t j = 0; j < H; j++) {
            float z = lc_rnn_act_apply(&r->act[d][0], lc_rnn_clip(r, x[j] + g[j]));
            float rec = st->linear_before_reset ? g[H + j] * (g[2 * H + j] + (rbh ? rbh[j] : 0.0f)) : g[2 * H + j];
            float ht = lc_rnn_act_apply(&r->act[d][1], lc_rnn_clip(r, x[2 * H + j] + rec));
            h[b * H + j] = (1.0f - z) * ht + z * h[b * H + j];
        }
    }
}

static lc_status gru_prepare(lc_kernel_args *a)
{
    static const char *const defaults[] = {"Sigmoid", "Tanh"};
    lc_status s = lc_rnn_prepare(a, sizeof(gru_state), 3, false, 2, defaults);
    if (s) return s;
    gru_state *st = a->state;
    st->linear_before_reset = a->opset >= 3 && lc_node_attr_int(a->node, "linear_before_reset", 0) != 0;
    if (st->linear_before_reset) st->r.rb_gates = 2; /* Rb_h stays inside r . (...) */
    return LC_OK;
}

static lc_status gru_run(lc_kernel_args *a)
{
    return lc_rnn_run(a->state, a, gru_cell);
}

const lc_kernel lc_kernel_GRU_1 = {"GRU", 1, 3, LC_OPF_OPTIONAL_FIRST_OUTPUT, gru_prepare, gru_run, free, NULL};
