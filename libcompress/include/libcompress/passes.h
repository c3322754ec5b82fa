/*
 * libcompress/passes.h - the compression context and the passes.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_PASSES_H
#define LIBCOMPRESS_PASSES_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/passes.h>"
#endif

/* ------------------------------------------------------------------ */
/* Compression context and passes                                      */
/* ------------------------------------------------------------------ */

/** What passes need besides the model: calibration data, the seed of every
 *  random choice, the thread count, and callbacks for log lines and
 *  progress (the library never prints; it calls these).
 *  Passes only read the context, so one context may serve passes running
 *  in several threads at once (its callbacks are then called from those
 *  threads); the setters must not run while a pass uses it. The setters
 *  never fail; `ctx` must not be NULL. */
typedef struct lc_context lc_context;

/** Creates a context: no calibration data, seed 0, 1 thread, batch 64.
 *  *out is owned by the caller (lc_context_free); LC_ERR_NO_MEMORY.
 *  Thread-safe. */
lc_status lc_context_create(lc_context **out);
/** Frees a context (not the datasets or models it borrows). Accepts NULL. */
void lc_context_free(lc_context *ctx);
/** Borrows `calib` (must outlive the context's use) as calibration data;
 *  `limit` > 0 caps the samples used. NULL removes it. */
void lc_context_set_calib(lc_context *ctx, const lc_dataset *calib, int64_t limit);
/** Borrows the model before compression, the reference of bias-correct
 *  (lc_pipeline_run sets it to its input for the run). NULL removes it. */
void lc_context_set_reference(lc_context *ctx, const lc_model *reference);
/** Seed of every random choice of the passes (default 0): the same seed,
 *  model, data and thread count give the same result. */
void lc_context_set_seed(lc_context *ctx, uint64_t seed);
/** Worker threads passes may use (default 1; values < 1 mean 1). */
void lc_context_set_threads(lc_context *ctx, int threads);
/** Calibration batch size (default 64; values < 1 mean 64). */
void lc_context_set_batch(lc_context *ctx, int batch);
/** `fn(user, message)` receives one log line at a time (no newline; the
 *  message is only valid during the call). NULL removes the callback. */
void lc_context_set_log(lc_context *ctx, void (*fn)(void *user, const char *message), void *user);
/** `fn(user, what, done, total)` is called as work advances (`what` is
 *  only valid during the call). NULL removes the callback. */
void lc_context_set_progress(lc_context *ctx,
                             void (*fn)(void *user, const char *what, int64_t done, int64_t total),
                             void *user);

/** A pass as listed by lc_pass_describe (strings are static). */
typedef struct lc_pass_info {
    const char *name;     /* kebab-case, e.g. "prune-magnitude" */
    const char *summary;  /* one line */
    const char *knob;     /* main parameter the pipeline backs off, or NULL */
    int n_params;
    int needs_calib;      /* nonzero: needs calibration data */
} lc_pass_info;

/** One parameter of a pass (strings are static). */
typedef struct lc_param_info {
    const char *name;
    const char *type;     /* "float", "int", "bool", "enum", "string", "list", "n:m" */
    const char *def;      /* default as text ("" = none) */
    double min, max;      /* range of float/int parameters */
    const char *choices;  /* enum: "a|b|c" */
    const char *help;
} lc_param_info;

/** Number of passes. Thread-safe. */
int lc_pass_count(void);
/** Describes pass `i` (0 <= i < lc_pass_count(); passes are sorted by
 *  name) into *out, whose strings are static. LC_ERR_INVALID_ARGUMENT for
 *  a bad index. Thread-safe. */
lc_status lc_pass_describe(int i, lc_pass_info *out);
/** Describes parameter `k` (0 <= k < n_params of lc_pass_describe) of pass
 *  `pass` into *out, whose strings are static. LC_ERR_INVALID_ARGUMENT for
 *  a bad index. Thread-safe. */
lc_status lc_pass_param(int pass, int k, lc_param_info *out);

/** Runs pass `name` on `m` in place with `params` ("k=v,k=v"; NULL or ""
 *  for defaults; list parameters repeat their key). Returns
 *  LC_ERR_PARAMETER for an unknown pass or parameter or a value out of
 *  range (the message lists what is valid), LC_ERR_INVALID_ARGUMENT when a
 *  pass needs calibration data the context lacks, or the pass's own error.
 *  After a pass every weight encoding is checked to decode to the weights
 *  bit for bit (LC_ERR_VERIFY otherwise). `ctx` may be NULL for passes that
 *  need nothing from it. Not thread-safe for one model. */
lc_status lc_pass_run(lc_model *m, const char *name, const char *params, const lc_context *ctx);

/** The recipe (JSON text for lc_pipeline_load_recipe; static) to run with
 *  a target size (lc_pipeline_set_target_size) when the caller has no
 *  passes of its own: Hessian pruning, Hessian-weighted optimal k-means,
 *  Huffman coding; it needs calibration data. Thread-safe. */
const char *lc_pass_default_target_recipe(void);

/** A deep copy of a model (weights, encodings, graph) into *out, owned by
 *  the caller (lc_model_free; NULL on failure). LC_ERR_INVALID_ARGUMENT,
 *  LC_ERR_NO_MEMORY. Thread-safe for concurrent readers of `m`. */
lc_status lc_model_clone(const lc_model *m, lc_model **out);

#endif /* LIBCOMPRESS_PASSES_H */
