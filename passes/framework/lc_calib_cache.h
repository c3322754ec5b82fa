/*
 * lc_calib_cache.h - activations of the calibration data kept between the
 * calibration runs of one pass (calib_cache.c), internal.
 *
 * A pass that runs lc_calib_run_nodes many times on a model it changes a
 * few layers at a time sets ctx->calib_cache (a copy of its context) to a
 * cache of its own. Each run then saves, per batch, the values live just
 * before the first node it needs, and a later run whose needed nodes all
 * come after that point resumes there, provided the weights (initializers)
 * of every node before it are still the same bytes; otherwise it runs from
 * the start. What the observer sees is bit for bit what a full run gives.
 * The cache holds at most 64 MiB of values (a run whose frontier needs
 * more saves nothing, and the next one runs in full).
 * The model, its graph and the data set must outlive the cache; it is for
 * one thread.
 */
#ifndef LC_CALIB_CACHE_H
#define LC_CALIB_CACHE_H

#include "lc_pass.h"

lc_status lc_calib_cache_create(lc_calib_cache **out);
void lc_calib_cache_free(lc_calib_cache *c);

/* The context a pass's runs use: ctx itself when it has a cache already
 * (or no_calib_cache, or no memory), else *local = ctx with a new cache
 * *cache, which the caller frees (lc_calib_cache_free) after its runs. */
const lc_context *lc_calib_cache_context(const lc_context *ctx, lc_context *local, lc_calib_cache **cache);

/* Used by lc_calib_run_nodes, in this order:
 * begin      once per run of m over `count` samples of d by batches of
 *            `batch`; forgets the entries if anything they depend on
 *            changed; returns the step saved entries start at (0: none);
 * resume     per batch, with its plan: copies the saved values in and
 *            returns the step to run from (0: all), and at start = 0
 *            decides whether this run saves a later frontier;
 * capture_node  the node at whose observer call the run saves (-1:
 *            none): the last before the frontier, or with `before`
 *            (observers called before each node) the first after it;
 * capture    called from that observer call: saves the values;
 * end        with the run's status: keeps what was saved if every batch
 *            saved it, else forgets everything; returns s. */
int lc_calib_cache_begin(lc_calib_cache *c, const lc_model *m, const struct lc_dataset *d, int64_t count,
                         int64_t batch);
int lc_calib_cache_resume(lc_calib_cache *c, lc_executor *ex, const bool *need, int64_t start, int64_t n);
int lc_calib_cache_capture_node(const lc_calib_cache *c, const lc_executor *ex, bool before);
void lc_calib_cache_capture(lc_calib_cache *c, lc_executor *ex, int64_t start, int64_t n);
lc_status lc_calib_cache_end(lc_calib_cache *c, lc_status s);

#endif
