/*
 * lc_jobs.h - a study's independent evaluations as jobs that run anywhere
 * (internal): the one format and the one merge the sensitivity study and
 * the target/auto search share.
 *
 * A study of n jobs is planned as JSON lines ({"job": k, "jobs": n,
 * "study": FINGERPRINT, ...}), run in slices, each slice's results one
 * JSON object {"jobs": n, "study": FINGERPRINT, "results": [{"job": k,
 * ...}, ...]}, and merged: every job exactly once, every result of the
 * same study (the fingerprint of everything its numbers depend on: the
 * model, the recipe, the data and the options; where it holds the float
 * model's outputs, also the machine's arithmetic: LC_ISA, BLAS). Numbers
 * travel as text that reads back to the same double (lc_jobs_number), so
 * a merged study computes exactly what one process would have.
 */
#ifndef LC_JOBS_H
#define LC_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lc_pass.h"

/* ---- the study's fingerprint (64-bit FNV-1a) ---- */

typedef struct lc_fingerprint {
    uint64_t h;
} lc_fingerprint;

void lc_fingerprint_init(lc_fingerprint *f);
void lc_fingerprint_bytes(lc_fingerprint *f, const void *data, size_t n);
/* A string with its terminator (so "ab","c" differs from "a","bc"); NULL
 * hashes as "". */
void lc_fingerprint_str(lc_fingerprint *f, const char *s);
void lc_fingerprint_i64(lc_fingerprint *f, int64_t v);
void lc_fingerprint_f64(lc_fingerprint *f, double v);
/* The graph (nodes' op types, names, inputs, outputs) and every stored
 * tensor's name, dtype, shape and bytes. */
lc_status lc_fingerprint_model(lc_fingerprint *f, const lc_model *m);
/* The first `limit` samples (0: all) of a dataset, as the executor sees
 * them (NULL: none). */
void lc_fingerprint_dataset(lc_fingerprint *f, const lc_dataset *d, int64_t limit);
/* The context's calibration data (as far as calib_limit), seed, batch and
 * metric: what a pass run depends on besides the model and its
 * parameters (threads do not change results). */
void lc_fingerprint_context(lc_fingerprint *f, const lc_context *ctx);
/* 16 hex digits. */
void lc_fingerprint_hex(const lc_fingerprint *f, char out[17]);

/* ---- plan, results, merge ---- */

/* A number that reads back to the same double: finite ones as JSON
 * numbers of 17 digits (cJSON's own printing may drop the last bit),
 * others as the strings "nan", "inf", "-inf". */
cJSON *lc_jobs_number(double v);
/* Its value; false when j is neither. */
bool lc_jobs_value(const cJSON *j, double *v);

/* A plan line {"job": k, "jobs": n, "study": hex} to add the job's own
 * fields to. */
cJSON *lc_jobs_plan_line(const char *study, int64_t k, int64_t n);
/* Appends `line` (consumed) to a JSON-lines text. */
lc_status lc_jobs_append_line(FILE *f, cJSON *line);

/* The results of a slice: {"jobs": n, "study": hex, "results": []};
 * *results: the array to append {"job": k, ...} objects to (borrowed). */
cJSON *lc_jobs_results_create(const char *study, int64_t n, cJSON **results);
/* {"job": k} to add a result's fields to. */
cJSON *lc_jobs_result(int64_t k);
/* LC_ERR_INVALID_ARGUMENT unless 0 <= first < last <= n. */
lc_status lc_jobs_check_slice(int64_t first, int64_t last, int64_t n);

/* Called once per job with its result object (borrowed) and the label of
 * the text it came from, for messages. */
typedef lc_status (*lc_jobs_take_fn)(void *user, int64_t job, const cJSON *result, const char *what);

/* Reads n_results texts (names[i], which may be NULL, labels them) of a
 * study of n jobs named `study`; `kind` names the study in messages
 * ("sensitivity", "target search"). LC_ERR_FORMAT: a text that is not
 * job results; LC_ERR_INVALID_ARGUMENT: results of another study (job
 * count or fingerprint differ) or a job given twice; LC_ERR_NOT_FOUND:
 * the first job without a result. take() is called for each job in the
 * order given; its errors stop the merge. */
lc_status lc_jobs_merge(const char *kind, const char *study, int64_t n, const char *const *results,
                        const char *const *names, int n_results, lc_jobs_take_fn take, void *user);

#endif
