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
 * same in every process of one study: every plan line and result carries
 * a fingerprint of them (the model, pass, parameters, grid, data, labels,
 * calibration data, seed, batch and metric) that the merge checks, as it
 * checks that each result names the weight its job number has here. */

/** The study's jobs as JSON lines, one per job in job order:
 *  {"job": k, "jobs": n, "study": FINGERPRINT, "weight": NAME, KNOB: value}. Job k is layer
 *  k / n_grid at grid value k % n_grid. *jsonl is malloc'ed (free() it),
 *  NULL on failure. Errors as lc_sensitivity_run. */
lc_status lc_sensitivity_plan(const lc_model *m, const char *pass, const char *params, const double *grid, int n_grid,
                              const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                              const lc_context *ctx, char **jsonl);

/** Runs jobs first .. last-1 of the study. *json (malloc'ed) receives
 *  {"jobs": n, "study": FINGERPRINT, "results": [{"job": k, "weight": NAME,
 *  "accuracy": a}, ...]} (a non-finite accuracy as "inf", "-inf" or "nan").
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
 *  (job count, fingerprint or weight names differ), LC_ERR_FORMAT a text that is not
 *  such results. Computes the float model's accuracy again (one
 *  validation run); runs no job. */
lc_status lc_sensitivity_merge(const lc_model *m, const char *pass, const char *params, const double *grid,
                               int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                               int64_t limit, const lc_context *ctx, const char *const *results,
                               const char *const *names, int n_results, char **json);

/* The target-size, auto and sweep searches (lc_pipeline_set_target_size,
 * lc_pipeline_set_auto, lc_pipeline_set_sweep) as jobs. Their costly
 * independent stage is the grid: each searched pass run once per grid
 * setting on every layer at once (the first pass's setting outermost),
 * and at each setting every layer's option swapped alone into the input
 * model for its bytes, its damage proxy and its real damage (KL divergence
 * on the validation samples). Job k is grid setting k. What follows
 * depends on earlier choices (the damage fit, the measurements of the
 * options an allocation picks, each candidate built and checked) and runs
 * in the merging process, with the measured options read from the jobs'
 * results instead of measured: the result and the report are those of one
 * process (lc_pipeline_run without jobs) byte for byte, but for the
 * report's timings ("seconds", "cpu_seconds"). Every process of one search
 * takes the same model, recipe, data, options and output format; a
 * fingerprint of them in every plan line and result lets the merge refuse
 * results of another search. The target size, budget and confidence are
 * not in it: the results of one grid serve any size, a sweep or auto mode
 * of the same recipe. */
typedef enum lc_jobs_mode {
    LC_JOBS_NONE = 0,  /* search as usual */
    LC_JOBS_PLAN = 1,  /* list the jobs and stop */
    LC_JOBS_RUN = 2,   /* run jobs first .. last-1 and stop */
    LC_JOBS_MERGE = 3  /* search with the results of every job */
} lc_jobs_mode;

/** Sets what the next lc_pipeline_run of a target-size, auto or sweep
 *  search does. LC_JOBS_PLAN and LC_JOBS_RUN: the run stops after the jobs and
 *  returns LC_OK with *out NULL, and lc_pipeline_jobs_output gives the
 *  plan (JSON lines {"job": k, "jobs": n, "study": FINGERPRINT,
 *  "setting": {"PASS.KNOB": value, ...}}) or each job's results ({"jobs": n, "study": ...,
 *  "results": [{"job": k, ...}]}). LC_JOBS_MERGE: `results` (n_results
 *  texts, copied; `names`, which may be NULL, label them in messages)
 *  replace the grid measurements; lc_pipeline_run then fails with
 *  LC_ERR_NOT_FOUND naming the first job without a result,
 *  LC_ERR_INVALID_ARGUMENT for a job given twice or results of another
 *  search, LC_ERR_FORMAT for a text that is not such results. A slice
 *  outside the search's jobs fails lc_pipeline_run with
 *  LC_ERR_INVALID_ARGUMENT. LC_ERR_INVALID_ARGUMENT here for an unknown
 *  mode or first < 0 or last <= first with LC_JOBS_RUN. Not thread-safe
 *  on one pipeline. */
lc_status lc_pipeline_set_jobs(lc_pipeline *p, lc_jobs_mode mode, int64_t first, int64_t last,
                               const char *const *results, const char *const *names, int n_results);

/** After lc_pipeline_run with LC_JOBS_PLAN: the plan (i = 0); with
 *  LC_JOBS_RUN: the results of job first + i. NULL otherwise. Borrowed
 *  from the pipeline until its next run or lc_pipeline_free. */
const char *lc_pipeline_jobs_output(const lc_pipeline *p, int64_t i);

#endif /* LIBCOMPRESS_JOBS_H */
