/* Activation range calibrators of quantize-int8: percentile, entropy
 * (KL divergence, TensorRT's method) and MSE over a histogram of |x|.
 * See int8_calibrate.h for the exact definitions; tests/int8_crosscheck.py
 * holds numpy implementations of the same definitions. */
#include <math.h>
#include <stdlib.h>

#include "int8_calibrate.h"

int lc_int8_hist_bin(double ax, double absmax, int n)
{
    if (!(absmax > 0)) return 0;
    double f = ax * ((double)n / absmax);
    if (!(f < (double)n)) return n - 1;
    return f < 0 ? 0 : (int)f;
}

int lc_int8_percentile_edge(const double *hist, int n, double pct)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += hist[i];
    double want = total * pct / 100.0, run = 0;
    for (int i = 0; i < n; i++) {
        run += hist[i];
        if (run >= want && run > 0) return i + 1;
    }
    return n;
}

/* MXNet's smoothing on counts: eps onto zero entries, taken evenly from
 * the non-zero ones; then normalized. false if impossible. */
static bool smooth(double *p, int k)
{
    int zeros = 0;
    for (int i = 0; i < k; i++) zeros += p[i] == 0;
    if (zeros == k) return false;
    const double eps = 1e-4, eps1 = eps * zeros / (double)(k - zeros);
    double sum = 0;
    for (int i = 0; i < k; i++) {
        p[i] = p[i] == 0 ? eps : p[i] - eps1;
        if (!(p[i] > 0)) return false;
        sum += p[i];
    }
    for (int i = 0; i < k; i++) p[i] /= sum;
    return true;
}

int lc_int8_entropy_edge(const double *hist, int n, int n_quant, double *kl, lc_status *status)
{
    *status = LC_OK;
    if (n < n_quant || n_quant < 1) return n;
    double *p = malloc((size_t)n * sizeof *p), *q = malloc((size_t)n * sizeof *q);
    double *qb = malloc((size_t)n_quant * sizeof *qb), *tail = malloc((size_t)n * sizeof *tail);
    int best = n;
    double best_kl = INFINITY;
    if (!p || !q || !qb || !tail) {
        *status = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        goto done;
    }
    /* counts beyond bin k, summed from the end (no cancellation) */
    for (int i = n - 1; i >= 0; i--) tail[i] = hist[i] + (i + 1 < n ? tail[i + 1] : 0);
    for (int k = n_quant; k <= n; k++) {
        double beyond = k < n ? tail[k] : 0;
        for (int i = 0; i < k; i++) p[i] = hist[i];
        p[k - 1] += beyond;
        int merged = k / n_quant;
        for (int j = 0; j < n_quant; j++) {
            qb[j] = 0;
            for (int i = j * merged; i < (j + 1) * merged; i++) qb[j] += hist[i];
        }
        for (int i = n_quant * merged; i < k; i++) qb[n_quant - 1] += hist[i];
        for (int j = 0; j < n_quant; j++) {
            int start = j * merged, stop = j == n_quant - 1 ? k : start + merged, nz = 0;
            for (int i = start; i < stop; i++) nz += p[i] != 0;
            for (int i = start; i < stop; i++) q[i] = p[i] != 0 && nz ? qb[j] / nz : 0;
        }
        double d = INFINITY;
        if (smooth(p, k) && smooth(q, k)) {
            d = 0;
            for (int i = 0; i < k; i++) d += p[i] * log(p[i] / q[i]);
        }
        if (kl) kl[k] = d;
        if (d < best_kl) best_kl = d, best = k;
    }
done:
    free(p);
    free(q);
    free(qb);
    free(tail);
    return best;
}

int lc_int8_mse_edge(const double *hist, int n, double absmax, double min, double max, int levels)
{
    const double w = absmax / n;
    int best = n;
    double best_err = INFINITY;
    for (int k = 1; k <= n; k++) {
        double t = k * w, lo = fmax(-t, min), hi = fmin(t, max), step = (hi - lo) / levels, err = 0;
        for (int i = 0; i < n && err < best_err; i++) {
            if (hist[i] == 0) continue;
            double c = (i + 0.5) * w, e;
            if (c > t) e = c - t;
            else e = step > 0 ? c - step * nearbyint(c / step) : c;
            err += hist[i] * e * e;
        }
        if (err < best_err) best_err = err, best = k;
    }
    return best;
}
