/*
 * libcompress/pipeline.h - the pipeline (passes validated against an
 * accuracy budget) and per-layer sensitivity.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_PIPELINE_H
#define LIBCOMPRESS_PIPELINE_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/pipeline.h>"
#endif

/* ------------------------------------------------------------------ */
/* Pipeline: passes in order, validated against an accuracy budget     */
/* ------------------------------------------------------------------ */

/** A list of passes with parameters, run in order on a copy of a model.
 *  After each pass the model is validated on the validation data: top-1
 *  (%) with labels, else top-1 agreement (%) with the input model. When a
 *  pass makes the accuracy drop more than the budget, its main knob
 *  (sparsity, bits, ratio) is bisected between the requested value and
 *  the safe end; a pass no setting of which fits is skipped, and the
 *  budget is reported as not met.
 *  A pipeline is one job: its functions must not be called on the same
 *  pipeline from two threads at once (distinct pipelines may run in
 *  parallel). Setters and getters without a status never fail; `p` must
 *  not be NULL. */
typedef struct lc_pipeline lc_pipeline;

/** Bytes the model will take as written (e.g. .onnx or .lcm). */
typedef lc_status (*lc_size_fn)(void *user, const lc_model *m, int64_t *bytes);

/** Creates an empty pipeline (no passes, no budget, ONNX format) in *out,
 *  owned by the caller (lc_pipeline_free; NULL on failure).
 *  LC_ERR_NO_MEMORY. Thread-safe. */
lc_status lc_pipeline_create(lc_pipeline **out);
/** Frees a pipeline and its report (not the datasets it borrows). Accepts
 *  NULL. */
void lc_pipeline_free(lc_pipeline *p);

/** Appends pass `name` with `params` ("k=v,k=v"), validated now:
 *  LC_ERR_PARAMETER names the pass and lists the valid names. */
lc_status lc_pipeline_add_pass(lc_pipeline *p, const char *name, const char *params);

/** Appends the passes of a JSON recipe: {"passes": [{"pass": NAME, PARAM:
 *  VALUE, ...}, ...], "validate": {"max_drop": POINTS}}. Values may be
 *  numbers, booleans, strings or lists of strings. `label` names the recipe
 *  in messages. LC_ERR_FORMAT for bad JSON or unknown keys,
 *  LC_ERR_PARAMETER for unknown passes or parameters. A max_drop set
 *  before (lc_pipeline_set_max_drop) wins over the recipe's. */
lc_status lc_pipeline_load_recipe(lc_pipeline *p, const char *json_text, const char *label);

/** Sets the accuracy budget: the largest drop allowed, in percentage
 *  points (< 0: none, the default). */
void lc_pipeline_set_max_drop(lc_pipeline *p, double points);

/** How sure the budget must be on data like the validation set's: with a
 *  confidence c in (0, 1), a configuration is kept only when the upper end
 *  of the two-sided c interval of its drop (paired per-sample verdicts
 *  against the float model, Newcombe's score interval) is within the
 *  budget; with 0 (the default) the point estimate is compared, as before.
 *  The report's accuracy then has "drop_ci" [lo, hi] (at c, or 95% with 0)
 *  and "samples". The interval is only as good as the validation set is
 *  representative of the data the model will see. Applies to the top1 and
 *  agreement metrics. A run whose validation set is too small for the
 *  budget at c fails with LC_ERR_INVALID_ARGUMENT naming the samples
 *  needed. Overrides a recipe's validate.confidence. LC_ERR_INVALID_ARGUMENT
 *  for c outside [0, 1). */
lc_status lc_pipeline_set_confidence(lc_pipeline *p, double confidence);
/** The two-sided `confidence` interval [*lo, *hi] (percentage points) of
 *  an accuracy drop measured on paired samples, the interval
 *  lc_pipeline_set_confidence judges budgets with: `both` samples right
 *  for both models, `reference_only` right only for the reference (float)
 *  model, `candidate_only` right only for the other, `neither`. Counts
 *  below 0, none at all, or a confidence outside (0, 1) give
 *  (-inf, inf). For callers that validate models themselves (the Python
 *  binding's retraining). */
void lc_accuracy_drop_interval(int64_t both, int64_t reference_only, int64_t candidate_only, int64_t neither,
                               double confidence, double *lo, double *hi);
/** The confidence the budget is judged at (0: the point estimate). */
double lc_pipeline_confidence(const lc_pipeline *p);
/** The accuracy budget in percentage points (< 0: none). */
double lc_pipeline_max_drop(const lc_pipeline *p);

/** Target size in bytes of the written file (<= 0: none, the default; a
 *  recipe's "validate": {"target_size": 20000 or "48K"} sets it unless set
 *  before). With a target, lc_pipeline_run searches per-layer settings of
 *  the passes' knobs (sparsity, bits): it measures each weight layer alone
 *  at a small grid, allocates settings to fit the size with the least
 *  damage, builds and measures candidates, and returns the most accurate
 *  one whose file fits (with a budget: the smallest within it). Needs
 *  validation data; every pass must be a weight pass. When nothing fits it
 *  returns LC_ERR_BUDGET (the report, with every configuration tried, is
 *  still available) and *out is NULL. */
void lc_pipeline_set_target_size(lc_pipeline *p, int64_t bytes);
/** Auto mode (on != 0): lc_pipeline_run searches per-layer settings for
 *  the smallest file whose accuracy holds within the budget
 *  (lc_pipeline_set_max_drop, needed, as are validation data). It measures
 *  each weight layer alone at a grid of its passes' knobs (with the
 *  default recipe, lc_pipeline_auto_recipe, used when the pipeline has no
 *  passes: each layer's sparsity x bits of SparseGPT's joint mode,
 *  BatchNorm folded first), then bisects an estimated byte budget between
 *  the smallest reachable file and the least-damage one, building and
 *  checking a candidate at each step; the result is the smallest candidate
 *  within the budget, else the most accurate (lc_pipeline_budget_met 0).
 *  Sets the confidence to 0.95 unless lc_pipeline_set_confidence was
 *  called. No target size with it. */
void lc_pipeline_set_auto(lc_pipeline *p, int on);
/** 1 in auto mode. */
int lc_pipeline_auto(const lc_pipeline *p);
/** The recipe auto mode runs when the pipeline has no passes (JSON, static
 *  storage). Needs calibration data. Thread-safe. */
const char *lc_pipeline_auto_recipe(void);

/** A sweep: lc_pipeline_run runs the target-size search (see
 *  lc_pipeline_set_target_size) for each of the n sizes (bytes, 1 to 16)
 *  from one measurement of the layers, one model per size; the report's
 *  "sweep" lists the points {target_bytes, fits, bytes, ratio, accuracy,
 *  drop, drop_hi, within_budget, path} and its "tried" rows of their
 *  builds carry "sweep_point" (1-based). lc_pipeline_run returns a copy of
 *  the last point's model that was built; write each point with
 *  lc_pipeline_write_sweep. No target size or auto mode with it.
 *  LC_ERR_INVALID_ARGUMENT for n outside 1..16 or a size <= 0. */
lc_status lc_pipeline_set_sweep(lc_pipeline *p, const int64_t *sizes, int n);
/** Points of the sweep (0: none). */
int lc_pipeline_sweep_count(const lc_pipeline *p);
/** After a sweep: writes point i's model (0-based) to `path` as the search
 *  measured it (.lcm or ONNX, as lc_pipeline_set_format), atomically, and
 *  records the path in the report. LC_ERR_INVALID_ARGUMENT when the point
 *  has no model (nothing fit its size). */
lc_status lc_pipeline_write_sweep(lc_pipeline *p, int i, const char *path);

/** The target size in bytes (<= 0: none). */
int64_t lc_pipeline_target_size(const lc_pipeline *p);
/** After a run: false when the result does not fit the target size. */
int lc_pipeline_target_met(const lc_pipeline *p);

/** Borrows validation data (and optional labels, at least as many as the
 *  samples used; NULL: measure agreement with the input model); `limit`
 *  > 0 uses only the first samples. Both must outlive the pipeline's runs.
 *  LC_ERR_SHAPE when there are fewer labels than samples used. */
lc_status lc_pipeline_set_validation(lc_pipeline *p, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                                     int64_t limit);

/** How to measure the output size: `fn(user, model, &bytes)` is called
 *  during runs (from the running thread) and returns LC_OK or a status that
 *  fails the run. NULL restores the default (the size in the pipeline's
 *  format). */
void lc_pipeline_set_size_fn(lc_pipeline *p, lc_size_fn fn, void *user);

/** Runs the passes on a copy of `in`; *out is the compressed model (owned
 *  by the caller). When the budget cannot be met, *out is still the best
 *  model found within it (the input if nothing fits) and
 *  lc_pipeline_budget_met() is false. Errors of a pass are returned with
 *  the pass named. `in` is only read (it may be shared with other
 *  readers); `ctx` may be NULL (no calibration data). Besides the passes'
 *  errors: LC_ERR_INVALID_ARGUMENT (no passes, or a budget without
 *  validation data), LC_ERR_NO_MEMORY. */
lc_status lc_pipeline_run(lc_pipeline *p, const lc_model *in, const lc_context *ctx, lc_model **out);

/** After a run: false when some pass could not fit the budget. */
int lc_pipeline_budget_met(const lc_pipeline *p);

/** Output formats (stable values). */
typedef enum lc_format {
    LC_FORMAT_ONNX = 0,
    LC_FORMAT_LCM = 1
} lc_format;

/** The format the result will be written in (LC_FORMAT_ONNX, the default,
 *  or LC_FORMAT_LCM): sizes during the run are measured in it.
 *  LC_ERR_INVALID_ARGUMENT (the format does not change) for another
 *  value. */
lc_status lc_pipeline_set_format(lc_pipeline *p, lc_format format);

/** Writes the run's result `m` to `path` atomically in the pipeline's
 *  format (.lcm files record the recipe and the run's figures in their
 *  META section) and completes the report: output path and bytes, ratio,
 *  and for .lcm each layer's bytes in the file plus the `overhead`
 *  {header, meta, graph, other_tensors, total}, which add up to the file
 *  size exactly. LC_ERR_INVALID_ARGUMENT before a run, LC_ERR_IO,
 *  LC_ERR_VERIFY, LC_ERR_NO_MEMORY. */
lc_status lc_pipeline_write(lc_pipeline *p, const lc_model *m, const char *path);

/** The report (JSON text: input, output, ratio, accuracy, budget_met,
 *  passes, layers, overhead, tried), borrowed from the pipeline: valid
 *  until the next run, write or free. "{}" before lc_pipeline_write. For
 *  a model-level report without a pipeline, see lc_model_report. */
const char *lc_pipeline_report(const lc_pipeline *p);

/** `fn(user, event)` follows a run as it happens; `event` is one JSON
 *  object (valid only during the call) whose "event" is:
 *  "start" (metric, float, chance, max_drop, target_size, samples, steps),
 *  "attempt" (attempt: "greedy", then "shared" when a later pass was
 *  starved and the passes run again with the budget shared),
 *  "pass" (attempt, step, steps, pass, knob, drop_allowed),
 *  "tried" (a configuration of the step: pass, params, bytes, accuracy,
 *  attempt, step, within: inside the step's share of the budget), and
 *  "done" (the step's report row: name, params, outcome, seconds,
 *  accuracy, bytes). Called from the thread running lc_pipeline_run.
 *  NULL removes the callback. */
void lc_pipeline_set_events(lc_pipeline *p, void (*fn)(void *user, const char *event), void *user);

/** "Did you mean": the entry of `names` (n of them, NULL entries skipped)
 *  closest to the misspelt `word` by edit distance, when it is close
 *  enough to be a typo (about a third of the letters at most), else NULL.
 *  Borrowed from `names`. Thread-safe. */
const char *lc_closest_name(const char *word, const char *const *names, int n);

/** Per-layer sensitivity: every weight layer selected by `params` (the
 *  pass's ops/include/exclude) is compressed alone by pass `pass` at each
 *  of the `n_grid` values of the pass's knob, and validated on `val`
 *  (top-1 % with `labels`, else agreement % with `m`). *json (malloc'ed,
 *  free() it) receives {pass, knob, metric, float, grid, layers: [{name,
 *  op, weight, params, accuracy: [one per grid value]}]}.
 *  LC_ERR_PARAMETER for an unknown pass, a pass without a knob or a grid
 *  value out of the knob's range or an empty grid; LC_ERR_INVALID_ARGUMENT
 *  for missing arguments (no validation data, a pass that needs
 *  calibration data the context lacks), LC_ERR_SHAPE for labels that do not match, or the
 *  pass's own error. *json is NULL on failure. `m`, `val` and `labels` are
 *  only read (`m` is copied per trial): thread-safe for concurrent readers
 *  of them. */
lc_status lc_sensitivity_run(const lc_model *m, const char *pass, const char *params, const double *grid, int n_grid,
                             const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                             const lc_context *ctx, char **json);

#endif /* LIBCOMPRESS_PIPELINE_H */
