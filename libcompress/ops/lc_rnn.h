/*
 * lc_rnn.h - what the recurrent kernels (RNN, GRU, LSTM) share (internal;
 * implemented in libcompress/ops/rnn_util.c).
 *
 * The three ops take X, W, R and the optional B, sequence_lens, initial_h
 * in the same slots, have the same direction/layout/activation/clip
 * attributes and the same outputs Y and Y_h; they differ only in the cell
 * (the number of gates G and how the gates combine). So one driver runs
 * every op: it projects the whole input sequence through W once
 * (X * W^T + biases, one sgemm per direction), then for each step calls
 * the op's cell on the whole batch and stores the new state into Y.
 *
 * sequence_lens: batch entry b only runs its first L_b steps (reverse
 * direction: from step L_b - 1 down to 0); Y is zero past L_b and Y_h is
 * the state after its last step, as ONNX Runtime computes it.
 */
#ifndef LC_RNN_H
#define LC_RNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_exec.h"

#define LC_RNN_MAX_ACTS 3 /* activations per direction (LSTM: f, g, h) */

/* One activation of the `activations` attribute with its alpha and beta. */
typedef struct lc_rnn_act {
    int kind;
    float alpha, beta;
} lc_rnn_act;

float lc_rnn_act_apply(const lc_rnn_act *f, float x);

typedef struct lc_rnn {
    int gates;           /* G: rows of W per hidden unit (1 RNN, 3 GRU, 4 LSTM) */
    int n_dir;           /* 1, or 2 when bidirectional */
    bool reverse;        /* direction "reverse" (with n_dir 1) */
    bool batch_first;    /* layout 1 (opset 14) */
    bool has_c;          /* LSTM: a cell state beside h */
    int n_acts;          /* activations per direction */
    int64_t seq, batch, in, hidden;
    float clip;          /* gate pre-activations clipped to [-clip, clip]; INFINITY: none */
    int rb_gates;        /* leading gates whose R bias is folded into the input projection */
    lc_rnn_act act[2][LC_RNN_MAX_ACTS];
} lc_rnn;

/* Clips a gate pre-activation to [-clip, clip]. */
static inline float lc_rnn_clip(const lc_rnn *r, float x)
{
    return x > r->clip ? r->clip : x < -r->clip ? -r->clip : x;
}

/* Parses the attributes and checks the shared inputs; sets the shapes of
 * Y (out[0]) and Y_h (out[1]), and Y_c (out[2]) when `has_c`.
 * `default_acts` names the op's `n_acts` default activations. On success
 * a->state is a zeroed block of `state_size` bytes (at least an lc_rnn,
 * which it starts with) holding the parsed lc_rnn; free it with free(). */
lc_status lc_rnn_prepare(lc_kernel_args *a, size_t state_size, int gates, bool has_c, int n_acts,
                         const char *const *default_acts);

/* The op's cell, one step of direction `d` over the whole batch. xw[b]
 * points at batch entry b's projected input (X_t * W^T + biases, G*hidden
 * floats, gate order of the op) or is NULL when b has no step t (past its
 * sequence length): then h and c of b must stay as they are. h and c
 * ([batch, hidden]) hold the previous state and receive the new one.
 * `scratch` has batch * (G + 1) * hidden floats. */
typedef void (*lc_rnn_cell_fn)(const lc_rnn *r, const lc_kernel_args *a, int d, const float *const *xw, float *h,
                               float *c, float *scratch);

/* Runs every direction with `cell` and writes Y, Y_h and Y_c. */
lc_status lc_rnn_run(const lc_rnn *r, const lc_kernel_args *a, lc_rnn_cell_fn cell);

/* Direction d's matrix R ([G*hidden, hidden]) and bias B ([2*G*hidden], or
 * NULL when the node has none). */
const float *lc_rnn_R(const lc_rnn *r, const lc_kernel_args *a, int d);
const float *lc_rnn_B(const lc_rnn *r, const lc_kernel_args *a, int d);

/* hr[b] = h[b] * R_rows^T for the `n_gates` gates from `gate0` on:
 * [batch, n_gates*hidden], row stride `ld`. */
void lc_rnn_recur(const lc_rnn *r, const float *R, int gate0, int n_gates, const float *h, float *hr, int64_t ld);

#endif
