/*
 * lc_metric_measure.h - measuring the output-comparing metrics (internal;
 * pipeline/metric.c). Kinds and names: lc_metric.h.
 */
#ifndef LC_METRIC_MEASURE_H
#define LC_METRIC_MEASURE_H

#include "lc_metric.h"
#include "lc_pass.h"

/* The SNR (dB) that stands for "identical" (the float model's own). */
#define LC_METRIC_SNR_CAP 200.0

/* The first output of `m` for the first `limit` samples of `val` (0: all):
 * *out malloc'ed, n samples of k floats. */
lc_status lc_metric_outputs(const lc_model *m, const lc_dataset *val, int64_t limit, const lc_context *ctx,
                            float **out, int64_t *n, int64_t *k);

/* The score of outputs y against ref (n samples of k): SNR in dB (capped),
 * mean cosine, or -MSE (higher is better for all). NAN for other kinds. */
double lc_metric_compare(int kind, const float *y, const float *ref, int64_t n, int64_t k);

/* A score as people read it: the MSE itself, an infinite SNR at the cap. */
double lc_metric_display(int kind, double score);

#endif
