/*
 * lc_kmeans.h - one-dimensional (weighted) k-means (internal).
 *
 * Used by quantize-kmeans (weight sharing) and by quantize-gptq (to build
 * a layer's codebook). Everything is in one dimension, which allows exact
 * and fast algorithms:
 *
 *   lc_kmeans_1d          Lloyd's iterations from a chosen initialisation
 *                         (linear, density or random), on sorted data with
 *                         prefix sums: each iteration costs O(k log n).
 *   lc_kmeans_1d_optimal  the exact optimum of the (weighted) within-cluster
 *                         sum of squares, by dynamic programming over the
 *                         sorted values (divide-and-conquer optimisation,
 *                         O(k n log n) time, O(sqrt(k) n) memory).
 *
 * Conventions shared by every function here:
 *   - x has n finite values; weight (may be NULL: all 1) has n values >= 0,
 *     and the total weight must be > 0;
 *   - 1 <= k <= 256 (codes fit a uint8_t);
 *   - centroids receives k values, assign (may be NULL) receives n codes in
 *     [0, k): each value goes to its nearest centroid (ties: the lower
 *     centroid value, then the lower index);
 *   - Lloyd handles an empty cluster (no weight) exactly like scikit-learn:
 *     its centroid moves onto the value farthest from its own centroid,
 *     taken out of that value's cluster (a cluster emptied that way moves
 *     to the plain mean of x, where scikit-learn's centred arithmetic puts
 *     it); the optimum with fewer distinct values than k has every value as
 *     a centroid and repeats the largest.
 * All are reentrant; they allocate scratch memory and fail only with
 * LC_ERR_INVALID_ARGUMENT or LC_ERR_NO_MEMORY (message set).
 */
#ifndef LC_KMEANS_H
#define LC_KMEANS_H

#include <stdint.h>

#include "lc_ir.h"

/* Initialisations (the `init` parameter). */
enum {
    LC_KMEANS_LINEAR = 0,  /* k values evenly spaced in [min, max] (Deep Compression's best) */
    LC_KMEANS_DENSITY = 1, /* the (i + 0.5) / k quantiles of the weighted distribution */
    LC_KMEANS_RANDOM = 2   /* k distinct samples drawn with lc_rng (Forgy) */
};

/* Writes the k initial centroids of `init` to `centroids` (rng is needed
 * only for LC_KMEANS_RANDOM). */
lc_status lc_kmeans_1d_init(const float *x, const float *weight, int64_t n, int k, int init, lc_rng *rng,
                            float *centroids);

/* Lloyd's iterations starting from the k values in `centroids` (updated in
 * place), until no assignment changes, the squared centroid shift falls
 * to tol * variance(x) or below (tol 0: only the first), or max_iter
 * iterations. Same stopping rule and empty-cluster rule as scikit-learn's
 * KMeans(algorithm='lloyd'), so both give the same result from the same
 * start. *iters (may be NULL) receives the iterations run. */
lc_status lc_kmeans_1d_lloyd(const float *x, const float *weight, int64_t n, int k, int max_iter, double tol,
                             float *centroids, uint8_t *assign, int *iters);

/* lc_kmeans_1d_init followed by lc_kmeans_1d_lloyd (tol 1e-10). */
lc_status lc_kmeans_1d(const float *x, const float *weight, int64_t n, int k, int init, lc_rng *rng, int max_iter,
                       float *centroids, uint8_t *assign);

/* The exact optimum: centroids sorted ascending; with fewer than k
 * distinct values every distinct value is a centroid (the rest repeat the
 * largest). */
lc_status lc_kmeans_1d_optimal(const float *x, const float *weight, int64_t n, int k, float *centroids,
                               uint8_t *assign);

/* Nearest-centroid codes of x (the tie rule above). */
lc_status lc_kmeans_1d_assign(const float *x, int64_t n, const float *centroids, int k, uint8_t *assign);

/* Weighted within-cluster sum of squares of an assignment, in double:
 * sum_i weight_i (x_i - centroids[assign_i])^2. */
double lc_kmeans_1d_cost(const float *x, const float *weight, int64_t n, const float *centroids,
                         const uint8_t *assign);

#endif
