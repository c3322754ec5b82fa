/*
 * libcompress/metrics.h - what "accuracy" means in validation, sensitivity and the
 * pipeline's budget (part of the public API: include <libcompress.h>, which includes this file; never include it directly).
 *
 * Classifiers are judged by top-1 (with labels) or top-1 agreement with the
 * float model (without). Other models are not: a face-embedding model is
 * judged by the cosine between its embeddings and the float model's, a
 * detector or a regressor by the SNR or mean squared error of its outputs.
 * The metric is a property of the context; every metric but top1 compares
 * with the float model's first output on the validation data:
 *   top1       % of samples whose arg-max is the label (needs labels)
 *   agreement  % of samples whose arg-max is the float model's
 *   snr        10 log10(sum ref^2 / sum (y - ref)^2) over all outputs, in dB
 *   cosine     mean over samples of cos(y_i, ref_i) (each sample's first
 *              output flattened)
 *   mse        mean of (y - ref)^2
 * The pipeline's budget speaks the metric: lc_pipeline_set_max_drop in
 * points for top1 and agreement, lc_pipeline_set_min_snr in dB,
 * lc_pipeline_set_min_cosine; mse has no budget.
 */
#ifndef LIBCOMPRESS_METRICS_H
#define LIBCOMPRESS_METRICS_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/metrics.h>"
#endif

/** Sets the metric by name ("top1", "agreement", "snr", "cosine", "mse";
 *  NULL or "": the default, top1 with labels and agreement without).
 *  LC_ERR_PARAMETER for another name (the message lists them). */
lc_status lc_context_set_metric(lc_context *ctx, const char *metric);

/** The pipeline's budget as a floor on the SNR (dB) or the cosine of the
 *  result against the input model (the context's metric must be snr or
 *  cosine when the pipeline runs; LC_ERR_INVALID_ARGUMENT otherwise). They
 *  replace a max_drop; NaN: no budget. */
void lc_pipeline_set_min_snr(lc_pipeline *p, double db);
/** The same with a floor on the mean per-sample cosine (at most 1). */
void lc_pipeline_set_min_cosine(lc_pipeline *p, double cosine);

#endif /* LIBCOMPRESS_METRICS_H */
