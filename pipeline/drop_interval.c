/* The confidence interval of an accuracy drop measured on paired samples:
 * the float and the compressed model judged on the same validation images.
 *
 * Newcombe's interval for a difference of paired proportions (method 10 of
 * Newcombe, Statistics in Medicine 17:2635, 1998): Wilson score intervals
 * for both accuracies, combined with the correlation of the pairs. It needs
 * no resampling (so no seed, and the same counts always give the same
 * interval), stays inside [-1, 1], and unlike the conditional McNemar
 * interval it does not collapse to a point when every discordant pair goes
 * one way (a compressed model that only ever loses images). Its coverage
 * is close to nominal from a few hundred samples on; tests/drop_interval
 * checks it by simulation and against an independent numpy version. */
#include <math.h>

#include "libcompress.h"
#include "lc_drop_interval.h"

/* Two-sided standard normal quantile: z with P(|Z| <= z) = conf, by
 * bisection on erfc (conf in (0, 1)). */
double lc_normal_quantile(double conf)
{
    double lo = 0, hi = 40, tail = 1 - conf;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (erfc(mid / sqrt(2.0)) > tail) lo = mid;
        else hi = mid;
    }
    return (lo + hi) / 2;
}

/* Wilson score interval of a proportion k/n. */
static void wilson(double k, double n, double z, double *lo, double *hi)
{
    double p = k / n, z2 = z * z, den = 1 + z2 / n;
    double mid = (p + z2 / (2 * n)) / den, half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den;
    *lo = mid - half;
    *hi = mid + half;
    if (*lo < 0) *lo = 0;
    if (*hi > 1) *hi = 1;
}

void lc_drop_interval(const lc_pair_counts *c, double conf, double *lo, double *hi)
{
    double a = (double)c->both, b = (double)c->float_only, cc = (double)c->compressed_only, d = (double)c->neither;
    double n = a + b + cc + d;
    if (n <= 0 || !(conf > 0 && conf < 1)) {
        *lo = -INFINITY;
        *hi = INFINITY;
        return;
    }
    double z = lc_normal_quantile(conf);
    double p1 = (a + b) / n, p2 = (a + cc) / n, l1, u1, l2, u2;
    wilson(a + b, n, z, &l1, &u1);
    wilson(a + cc, n, z, &l2, &u2);
    /* the pairs' correlation; 0 when a margin is empty */
    double m = (a + b) * (cc + d) * (a + cc) * (b + d);
    double phi = m > 0 ? (a * d - b * cc) / sqrt(m) : 0;
    double dl = (p1 - l1) * (p1 - l1) - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) * (u2 - p2);
    double du = (u1 - p1) * (u1 - p1) - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) * (p2 - l2);
    double diff = p1 - p2;
    *lo = 100 * (diff - sqrt(dl > 0 ? dl : 0));
    *hi = 100 * (diff + sqrt(du > 0 ? du : 0));
}

int64_t lc_drop_interval_min_samples(double conf, double max_drop, double accuracy)
{
    if (!(conf > 0 && conf < 1) || !(max_drop > 0)) return 1;
    if (!(accuracy >= 0 && accuracy <= 100)) accuracy = 100;
    /* the best case: no image changes its verdict; the upper bound falls
       with n, so bisect on it */
    int64_t lo = 1, hi = (int64_t)1 << 40;
    while (lo < hi) {
        int64_t n = lo + (hi - lo) / 2;
        int64_t right = (int64_t)llround(accuracy / 100 * (double)n);
        lc_pair_counts c = {right, 0, 0, n - right};
        double l, h;
        lc_drop_interval(&c, conf, &l, &h);
        if (h <= max_drop) hi = n;
        else lo = n + 1;
    }
    return lo;
}

void lc_accuracy_drop_interval(int64_t both, int64_t reference_only, int64_t candidate_only, int64_t neither,
                               double confidence, double *lo, double *hi)
{
    if (both < 0 || reference_only < 0 || candidate_only < 0 || neither < 0) {
        *lo = -INFINITY;
        *hi = INFINITY;
        return;
    }
    lc_pair_counts c = {both, reference_only, candidate_only, neither};
    lc_drop_interval(&c, confidence, lo, hi);
}
