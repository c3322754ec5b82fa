/*
 * int8_calibrate.h - activation range calibrators of quantize-int8
 * (internal to passes/; tests include it by path).
 *
 * Each calibrator picks a clipping threshold T for |x| from a histogram of
 * |x| over [0, absmax] with n equal bins (bin i covers
 * [i*absmax/n, (i+1)*absmax/n); the last bin also holds absmax). The
 * threshold is the upper edge of a bin: T = k * absmax / n for the
 * returned k in 1..n. The quantization range is then
 * [max(-T, min), min(T, max)].
 */
#ifndef LC_INT8_CALIBRATE_H
#define LC_INT8_CALIBRATE_H

#include <stdint.h>

#include "lc_ir.h"

/* Bin of |x| in a histogram of n bins over [0, absmax]: floor(|x| *
 * (n / absmax)) in double, clamped to n-1 (0 when absmax is 0). */
int lc_int8_hist_bin(double ax, double absmax, int n);

/* Percentile: the smallest k such that bins 0..k-1 hold at least
 * pct/100 of the total count. */
int lc_int8_percentile_edge(const double *hist, int n, double pct);

/* Entropy (TensorRT's KL-divergence method, as in MXNet and ONNX
 * Runtime): for each k in [n_quant, n], the reference distribution P is
 * hist[0..k) with the counts beyond k added to its last bin; Q merges
 * hist[0..k) into n_quant bins of k/n_quant bins each (the remainder goes
 * to the last one) and spreads each merged count evenly over the positions
 * where P is non-zero. Both are smoothed (eps = 1e-4 moved onto zero bins)
 * and normalized; the k of smallest KL(P||Q) wins (first on ties).
 * `kl` (optional, n+1 entries) receives KL for each k (other entries
 * untouched). Returns k, or n when n < n_quant. LC_ERR_NO_MEMORY is
 * reported through *status. */
int lc_int8_entropy_edge(const double *hist, int n, int n_quant, double *kl, lc_status *status);

/* MSE: the k minimizing the expected squared error of quantizing values at
 * the bin centres with `levels` steps over the range [lo, hi] that T =
 * k*absmax/n gives ([max(-T, min), min(T, max)], with zero on the grid):
 * a value c <= T rounds to the nearest multiple of the step
 * (hi - lo) / levels, a larger one clips to T. `min`/`max` are the data's
 * extremes (min <= 0 <= max after widening by the caller). */
int lc_int8_mse_edge(const double *hist, int n, double absmax, double min, double max, int levels);

#endif
