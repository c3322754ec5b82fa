/*
 * lc_drop_interval.h - the confidence interval of an accuracy drop on
 * paired validation samples (pipeline/drop_interval.c), internal.
 */
#ifndef LC_DROP_INTERVAL_H
#define LC_DROP_INTERVAL_H

#include <stdint.h>

/* The 2x2 table of per-sample verdicts, float model vs compressed model.
 * A verdict is "correct" (top-1 against the labels) or, without labels,
 * "agrees with the float model" (the float model then always agrees). */
typedef struct lc_pair_counts {
    int64_t both;             /* both right */
    int64_t float_only;       /* the float model right, the compressed wrong */
    int64_t compressed_only;  /* the compressed model right, the float wrong */
    int64_t neither;
} lc_pair_counts;

/* The two-sided `conf` interval [*lo, *hi] of the drop (float accuracy
 * minus compressed accuracy, in percentage points). conf outside (0, 1) or
 * no samples: (-inf, inf). */
void lc_drop_interval(const lc_pair_counts *c, double conf, double *lo, double *hi);

/* The fewest samples for which, even when no sample changes its verdict,
 * the upper end of the interval is within max_drop points, for a model of
 * `accuracy` percent (100 for agreement). */
int64_t lc_drop_interval_min_samples(double conf, double max_drop, double accuracy);

/* z with P(|Z| <= z) = conf for a standard normal Z. */
double lc_normal_quantile(double conf);

#endif
