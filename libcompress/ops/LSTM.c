/* LSTM, gates i, o, f, c (ONNX order), peepholes P = [p_i, p_o, p_f]:
 *   i = f(X W_i^T + H R_i^T + p_i . C + Wb_i + Rb_i)
 *   f = f(... _f ... + p_f . C)          (1 - i with input_forget)
 *   c~ = g(... _c ...),  C' = f . C + i . c~
 *   o = f(... _o ... + p_o . C'),  H' = o . h(C')
 * f Sigmoid, g and h Tanh by default; clip applies to the four gate
 * pre-activations. The rest is the shared driver (lc_rnn.h). */
#include <stdlib.h>

#include "lc_rnn.h"

typedef struct lstm_state {
    lc_rnn r; /* first: lc_rnn_run gets the state as an lc_rnn */
    bool input_forget;
} lstm_state;

static void lstm_cell(const lc_rnn *r, const lc_kernel_args *a, int d, const float *const *xw, float *h, float *c,
                      float *scratch)
{
    const lstm_state *st = a->state;
    int64_t H = r->hidden, G4 = 4 * H;
    const lc_value *Pv = a->n_in > 7 ? a->in[7] : NULL;
    const float *P = Pv ? (const float *)Pv->data + d * 3 * H : NULL;
    const lc_rnn_act *f = &r->act[d][0], *g = &r->act[d][1], *hf = &r->act[d][2];
    lc_rnn_recur(r, lc_rnn_R(r, a, d), 0, 4, h, scratch, G4);
    for (int64_t b = 0; b < r->batch; b++) {
        if (!xw[b]) continue;
        const float *x = xw[b], *hr = scratch + b * G4;
        for (int64_t j = 0; j < H; j++) {
            float cp = c[b * H + j];
            float gi = x[j] + hr[j], go = x[H + j] + hr[H + j];
            float gf = x[2 * H + j] + hr[2 * H + j], gc = x[3 * H + j] + hr[3 * H + j];
            if (P) gi += P[j] * cp, gf += P[2 * H + j] * cp;
            float i = lc_rnn_act_apply(f, lc_rnn_clip(r, gi));
            float ft = st->input_forget ? 1.0f - i : lc_rnn_act_apply(f, lc_rnn_clip(r, gf));
            float cn = ft * cp + i * lc_rnn_act_apply(g, lc_rnn_clip(r, gc));
            if (P) go += P[H + j] * cn;
            float o = lc_rnn_act_apply(f, lc_rnn_clip(r, go));
            c[b * H + j] = cn;
            h[b * H + j] = o * lc_rnn_act_apply(hf, cn);
        }
    }
}

static lc_status lstm_prepare(lc_kernel_args *a)
{
    static const char *const defaults[] = {"Sigmoid", "Tanh", "Tanh"};
    lc_status s = lc_rnn_prepare(a, sizeof(lstm_state), 4, true, 3, defaults);
    if (s) return s;
    ((lstm_state *)a->state)->input_forget = lc_node_attr_int(a->node, "input_forget", 0) != 0;
    return LC_OK;
}

static lc_status lstm_run(lc_kernel_args *a)
{
    return lc_rnn_run(a->state, a, lstm_cell);
}

const lc_kernel lc_kernel_LSTM_1 = {"LSTM", 1, 3, LC_OPF_OPTIONAL_FIRST_OUTPUT, lstm_prepare, lstm_run, free, NULL};
