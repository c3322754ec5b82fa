/*
 * int8_fallback.h - quantize-int8's op-wise fallback ranking (internal to
 * passes/): which quantized layers hurt the output most, measured one at a
 * time on the calibration data (as Intel Neural Compressor's accuracy-aware
 * tuning ranks ops before falling back to float).
 */
#ifndef LC_INT8_FALLBACK_H
#define LC_INT8_FALLBACK_H

#include <stdbool.h>

#include "lc_pass.h"

/* Builds in `m` (a copy of the model before quantization) the quantized
 * model in which the units with keep_float[u] true stay float. */
typedef lc_status (*lc_int8_build_fn)(void *user, lc_model *m, const bool *keep_float);

/* Ranks the units with candidate[u] true (n units): for each, `build` makes
 * the model with only that unit quantized, and its first output on the
 * context's calibration data is compared with `m`'s (the float model): the
 * relative squared error sum (y - y_float)^2 / sum y_float^2. order[0..*n_ranked)
 * gets the candidates, most damaging first (ties: lower unit first);
 * err[u] each candidate's error. One calibration run per candidate, plus
 * one of the float model. */
lc_status lc_int8_fallback_rank(const lc_model *m, const lc_context *ctx, int n, const bool *candidate,
                                lc_int8_build_fn build, void *user, int *order, int *n_ranked, double *err);

/* Sets keep_float[k] (tw: the n_tw weights of lc_weight_targets) for the
 * `fallback` most damaging layer weights by lc_int8_fallback_rank (all
 * layers, unranked, when there are no more than that; layers with
 * keep_float[k] set already are not candidates), and logs them. */
lc_status lc_int8_fallback_choose(const lc_model *m, const lc_context *ctx, const lc_weight *tw, int n_tw, int fallback,
                                  lc_int8_build_fn build, void *user, bool *keep_float);

#endif
