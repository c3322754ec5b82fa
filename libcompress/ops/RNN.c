/* RNN: H_t = f(X_t * W^T + H_{t-1} * R^T + Wb + Rb), f Tanh by default.
 * Directions, layout, sequence_lens, initial_h and clip are handled by the
 * shared driver (lc_rnn.h). */
#include <stdlib.h>

#include "lc_rnn.h"

static void rnn_cell(const lc_rnn *r, const lc_kernel_args *a, int d, const float *const *xw, float *h, float *c,
                     float *scratch)
{
    (void)c;
    int64_t H = r->hidden;
    lc_rnn_recur(r, lc_rnn_R(r, a, d), 0, 1, h, scratch, H);
    for (int64_t b = 0; b < r->batch; b++) {
        if (!xw[b]) continue;
        const float *hr = scratch + b * H;
        for (int64_t j = 0; j < H; j++) h[b * H + j] = lc_rnn_act_apply(&r->act[d][0], lc_rnn_clip(r, xw[b][j] + hr[j]));
    }
}

static lc_status rnn_prepare(lc_kernel_args *a)
{
    static const char *const defaults[] = {"Tanh"};
    return lc_rnn_prepare(a, sizeof(lc_rnn), 1, false, 1, defaults);
}

static lc_status rnn_run(lc_kernel_args *a)
{
    return lc_rnn_run(a->state, a, rnn_cell);
}

const lc_kernel lc_kernel_RNN_1 = {"RNN", 1, 3, LC_OPF_OPTIONAL_FIRST_OUTPUT, rnn_prepare, rnn_run, free, NULL};
