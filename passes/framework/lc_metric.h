/*
 * lc_metric.h - metric kinds of a context (internal; libcompress/metrics.h is the
 * public side). The measuring lives in pipeline/metric.c.
 */
#ifndef LC_METRIC_H
#define LC_METRIC_H

#include <stdbool.h>

#include "lc_pass.h"

enum { LC_METRIC_DEFAULT = 0, LC_METRIC_TOP1, LC_METRIC_AGREEMENT, LC_METRIC_SNR, LC_METRIC_COSINE, LC_METRIC_MSE };

/* "top1", ... for a kind (LC_METRIC_DEFAULT: "default"). */
const char *lc_metric_name(int kind);

/* The context's metric with the default resolved: top1 with labels,
 * agreement without. */
int lc_metric_kind(const lc_context *ctx, bool has_labels);

#endif
