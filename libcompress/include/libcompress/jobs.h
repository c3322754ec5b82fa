/*
 * libcompress/jobs.h - a sensitivity study as jobs that run anywhere (the
 * experimental tier: declared with LC_EXPERIMENTAL; may still change).
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_JOBS_H
#define LIBCOMPRESS_JOBS_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/jobs.h>"
#endif

/* A sensitivity study is n_layers x n_grid independent evaluations. For
 * large models or many models they outgrow one machine, so they can be
 * listed (lc_sensitivity_plan), run in slices on any machine
 * (lc_sensitivity_run_jobs: GNU parallel, a Slurm job array, a Kubernetes
 * Indexed Job...) and merged (lc_sensitivity_merge) into exactly the JSON
 * lc_sensitivity_run gives in one process: byte for byte, whatever the
 * slicing, as every job's accuracy is computed the same way wherever it
 * runs and travels as text that reads back to the same double.
 *
 * Every function takes the same study arguments as lc_sensitivity_run
 * (model, pass, params, grid, val, labels, limit, ctx), which must be the
 * same in every process of one study; the merge checks that each result
 * names the weight its job number has here. */

/** The study's jobs as JSON lines, one per job in job order:
 *  {"job": k, "jobs": n, "weight": NAME, KNOB: value}. Job k is layer
 *  k / n_grid at grid value k % n_grid. *jsonl is malloc'ed (free() it),
 *  NULL on failure. Errors as lc_sensitivity_run. */
lc_status lc_sensitivity_plan(const lc_model *m, const char *pass, const char *params, const double *grid, int n_grid,
                              const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                              const lc_context *ctx, char **jsonl);

/** Runs jobs first .. last-1 of the study. *json (malloc'ed) receives
 *  {"jobs": n, "results": [{"job": k, "weight": NAME, "accuracy": a}, ...]}.
 *  LC_ERR_INVALID_ARGUMENT when the slice is empty or outside 0..n-1;
 *  otherwise errors as lc_sensitivity_run. Thread-safety as
 *  lc_sensitivity_run. */
lc_status lc_sensitivity_run_jobs(const lc_model *m, const char *pass, const char *params, const double *grid,
                                  int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                                  int64_t limit, const lc_context *ctx, int64_t first, int64_t last, char **json);

/** Merges n_results outputs of lc_sensitivity_run_jobs (texts; `names`,
 *  which may be NULL, label them in messages) into the JSON of
 *  lc_sensitivity_run (*json malloc'ed). Every job must have exactly one
 *  result: LC_ERR_NOT_FOUND names the first job without one,
 *  LC_ERR_INVALID_ARGUMENT a job given twice or results of another study
 *  (job count or weight names differ), LC_ERR_FORMAT a text that is not
 *  such results. Computes the float model's accuracy again (one
 *  validation run); runs no job. */
lc_status lc_sensitivity_merge(const lc_model *m, const char *pass, const char *params, const double *grid,
                               int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                               int64_t limit, const lc_context *ctx, const char *const *results,
                               const char *const *names, int n_results, char **json);

#endif /* LIBCOMPRESS_JOBS_H */
