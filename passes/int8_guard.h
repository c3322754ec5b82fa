/*
 * int8_guard.h - quantize-int8's local damage check (internal to passes/):
 * how much rounding one layer's weights, or its input activation, alone
 * moves that layer's own output on the calibration data.
 *
 * 8-bit rounding of a well-conditioned layer costs its output about as
 * much as it costs the rounded tensor: ~40 dB for per-channel weights,
 * 30-40 dB for a per-tensor activation. A layer whose response is a small
 * difference of large terms (edge filters whose weights sum to ~0 over a
 * smooth input) turns that white rounding noise into an error as large as
 * its output: its local SNR falls far below. quantize-int8 keeps such
 * layers float (lc_int8_guard_choose).
 */
#ifndef LC_INT8_GUARD_H
#define LC_INT8_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_pass.h"

/* One layer to check: a Conv, Gemm or MatMul of the main graph reading its
 * activation as input 0 and its weight as input 1. */
typedef struct lc_int8_probe {
    int node;             /* index in the main graph */
    const float *wq;      /* the weight as int8 gives it (dequantized), as
                             many values as input 1 has; NULL: not rounded */
    bool x_quant;         /* input 0 is rounded: to x_scale, x_zp in [qmin, qmax] */
    float x_scale;
    int x_zp;
    /* filled, per output channel (axis 1; MatMul: the last axis) over the
     * calibration data: sum y^2 of the float output, and sum (y' - y)^2
     * with only the weight, or only the input, rounded */
    int64_t channels;
    double *signal, *err_w, *err_x;
} lc_int8_probe;

/* Runs `m` (float) on the context's calibration data once; at each probed
 * node the node's kernel runs again on its observed inputs with the
 * weight rounded, then with the input rounded, and the outputs are compared
 * with the observed one. qmin/qmax: the activation type's range. */
lc_status lc_int8_guard_measure(const lc_model *m, const lc_context *ctx, lc_int8_probe *p, int n, int qmin, int qmax);

/* The int8 codes q (numel) and scales (one per channel along `axis`, or
 * one) quantize-int8 gives weight w: symmetric in [-wmax, wmax], or the
 * integers of a UNIFORM encoding's grid when they fit (int8_round.c). */
void lc_int8_round_weight(const lc_tensor *w, int axis, bool per_channel, int wmax, float *scale, int8_t *q);

/* The weight as DequantizeLinear gives it back from those codes: *out
 * (numel floats) is malloc'ed, the caller frees it. */
lc_status lc_int8_dequantized_weight(const lc_tensor *w, int axis, bool per_channel, int wmax, float **out);

/* Frees what lc_int8_guard_measure allocated in p[0..n). */
void lc_int8_guard_free(lc_int8_probe *p, int n);

/* The local SNR in dB of probe p with its weight (x false) or its input
 * (x true) rounded: the mean over the output channels of err / signal,
 * each channel weighed alike (a later layer or folded BatchNorm can scale
 * any channel up: a quiet channel's error counts as much as a loud one's);
 * channels with no signal are left out. inf when nothing was rounded. */
double lc_int8_guard_db(const lc_int8_probe *p, bool x);

#endif
