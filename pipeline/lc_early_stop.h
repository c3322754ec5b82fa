/*
 * lc_early_stop.h - the sequential rule that ends a validation early
 * (pipeline/early_stop.c), internal.
 *
 * A candidate's top-1 (or agreement) on n samples is 100 * hits / n, and
 * the pipeline keeps it when float - accuracy <= allow (+1e-9), the exact
 * test of lc_pipeline_within_budget without a confidence. After `done`
 * samples with `hits` right, the final hits lie in [hits, hits + n - done]:
 * once even the upper end is over the budget, the verdict of the full
 * evaluation is certain ("clearly missed") and the rest need not run. The
 * rule is exact, not statistical: it never stops on a candidate that the
 * full evaluation would keep.
 */
#ifndef LC_EARLY_STOP_H
#define LC_EARLY_STOP_H

#include <stdbool.h>
#include <stdint.h>

/* The accuracy (%) of `hits` right out of `n`, as the full evaluation
 * computes it. */
double lc_early_stop_accuracy(int64_t hits, int64_t n);

/* True when, after `done` of `n` samples with `hits` right, the accuracy
 * of all n is certain to be more than `allow` points below `float_metric`. */
bool lc_early_stop_missed(int64_t hits, int64_t done, int64_t n, double float_metric, double allow);

#endif
