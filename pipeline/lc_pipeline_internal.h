/*
 * lc_pipeline_internal.h - what the pipeline's files share with the target-size search (internal).
 *
 * pipeline.c runs the passes as given, pipeline_try.c tries and backs off
 * one step's configurations, pipeline_measure.c measures a model,
 * pipeline_file.c assembles the report and writes the file; target_*.c
 * run the --target-size search of per-layer settings.
 * Both work on the pipeline's steps and one run's state, and measure
 * models the same way (accuracy metric, bytes as written).
 */
#ifndef LC_PIPELINE_INTERNAL_H
#define LC_PIPELINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lc_pass.h"

#define LC_SWEEP_MAX 16 /* points of a sweep */

typedef struct lc_pipeline_step {
    const lc_pass *pass;
    lc_params params;
} lc_pipeline_step;

struct lc_pipeline {
    lc_pipeline_step *steps;
    int n_steps, cap_steps;
    double max_drop;              /* < 0: no budget */
    const lc_dataset *val;
    const int64_t *labels;
    int64_t n_labels, val_limit;
    lc_size_fn size_fn;           /* bytes of the model as it will be written */
    void *size_user;
    int format;                   /* LC_FORMAT_ONNX or LC_FORMAT_LCM */
    int64_t target_size;          /* > 0: find the most accurate per-layer settings that fit */
    double confidence;            /* > 0: keep a candidate only when the upper end of its
                                     drop's interval at this confidence is within the budget */
    bool confidence_given;        /* set by lc_pipeline_set_confidence: wins over the recipe */
    bool auto_mode;               /* lc_pipeline_set_auto: the smallest file within the budget */
    int n_sweep;                  /* lc_pipeline_set_sweep: target sizes, one model each */
    int64_t sweep[LC_SWEEP_MAX];
    lc_model *sweep_models[LC_SWEEP_MAX]; /* the run's result per point (NULL: nothing fits) */
    double sweep_acc[LC_SWEEP_MAX];
    double sweep_float;           /* the input model's metric in that run */
    bool budget_met;
    bool target_met;
    int budget_metric;            /* LC_METRIC_SNR/COSINE when the budget is a
                                     floor on it (max_drop = float - floor) */
    double min_value;             /* that floor */
    int metric;                   /* the metric of the last run (LC_METRIC_*) */
    void (*event_fn)(void *user, const char *event_json); /* lc_pipeline_set_events */
    void *event_user;
    cJSON *report;
    char *report_text;
    struct lc_target_jobs *jobs;  /* lc_pipeline_set_jobs (target_jobs.c); NULL: none */
};

/* One lc_pipeline_run. */
typedef struct lc_run_state {
    lc_pipeline *p;
    const lc_context *ctx;
    int64_t *float_pred;
    int64_t n_val;
    double float_metric;
    double allow;          /* drop allowed after the current pass (< 0: no budget) */
    int64_t in_bytes, in_params;
    int64_t in_bytes_model;  /* the input as it would be written */
    const char *in_path;
    cJSON *tried; /* every configuration tried: the Pareto data */
    float *float_out;      /* snr, cosine, mse: the float model's first outputs */
    int64_t out_k;         /* floats per sample in float_out */
    /* report marks (pipeline_marks.c): the attempt running, the step, the
       row of the last configuration tried and of the last one kept */
    const char *attempt;
    int step;
    cJSON *last_tried, *kept_row;
    double last_drop_lo, last_drop_hi; /* the interval of the last measured drop (NAN: none) */
    /* pipeline_try.c: the configurations already measured on the input model
       (a second attempt repeats the first step's), and the samples the last
       measurement stopped after (0: all; lc_early_stop.h) */
    const lc_model *input;
    struct lc_try_memo *memo;
    int n_memo, cap_memo;
    int64_t early_done;
    /* what the report's layer rows need of the input, recorded before the
       passes run (lc_pipeline_run_take lets them change the input itself) */
    struct lc_layer_row *layer_rows;
    int n_layer_rows;
    char *in_path_copy;
    /* with a budget, when the run owns the input (lc_pipeline_run_take):
       the input and the model before the current pass are parked on disk
       (lc_model_spill) instead of held beside the candidate; NULL: not */
    struct lc_spilled *in_spill, *ckpt;
    /* the result's drop interval at the report's confidence as its
       validation measured it (run_steps), for lc_pipeline_add_drop_ci;
       final_drop_known false (the searches): measured again */
    bool final_drop_known;
    double final_drop[2];
    /* the run's memo of the reference's outputs on the calibration data
       (ctx->reference_outputs), or NULL */
    struct lc_reference_outputs *ref_outputs;
} lc_run_state;

/* Frees what lc_pipeline_set_jobs keeps (target_jobs.c). */
void lc_target_jobs_free(struct lc_target_jobs *j);

/* Monotonic seconds. */
double lc_pipeline_now(void);
/* CPU seconds of the process (all threads). */
double lc_pipeline_cpu_now(void);

/* The run's metric on the validation data (NAN without): top-1 (%) with
 * labels, else top-1 agreement (%) with the float model, or the context's
 * metric (libcompress/metrics.h; scores where higher is better, see
 * lc_metric_measure.h). The first call stores the float model's
 * predictions in r->float_pred (or outputs in r->float_out). */
lc_status lc_pipeline_metric(lc_run_state *r, const lc_model *m, double *out);

/* lc_pipeline_metric; with stop_allow >= 0 (top-1 or agreement judged on
 * the point estimate) the validation ends once the model is certainly more
 * than stop_allow points below the float model: *out is then the most it
 * could have reached and r->early_done the samples run (lc_early_stop.h). */
lc_status lc_pipeline_measure(lc_run_state *r, const lc_model *m, double stop_allow, double *out);

/* Trying one step's configurations (pipeline_try.c). build_step runs the
 * configuration `pv` of step `st` on a copy of `cur`, on `own` itself (the
 * pipeline's own copy, when nothing is backed off), or on a model loaded
 * from the parked r->ckpt. try_step builds and measures it, or takes the
 * measurement from the memo of configurations measured on the input (*out
 * is then NULL), and adds its row to the report's "tried". back_off
 * bisects the knob between the requested and the safe end, keeping the
 * most compressing setting within r->allow (*best NULL: none fits), with
 * its accuracy, drop interval as measured (NAN: none) and bytes.
 * memo_clear frees the memo. */
lc_status lc_pipeline_build_step(lc_run_state *r, const lc_model *cur, lc_model *own, const lc_pipeline_step *st,
                                 const lc_params *pv, lc_model **out);
lc_status lc_pipeline_try_step(lc_run_state *r, const lc_model *cur, lc_model *own, const lc_pipeline_step *st,
                               const lc_params *pv, lc_model **out, double *acc, int64_t *bytes);
lc_status lc_pipeline_back_off(lc_run_state *r, const lc_model *cur, const lc_pipeline_step *st, lc_model **best,
                               double *best_acc, double best_drop[2], int64_t *best_bytes, lc_params *best_params);
void lc_pipeline_memo_clear(lc_run_state *r);

/* Bytes of `m` as the run would write it (without the .lcm META section). */
lc_status lc_pipeline_model_bytes(lc_run_state *r, const lc_model *m, int64_t *out);

/* The report's "input" and "accuracy" objects (the .lcm META holds copies). */
cJSON *lc_pipeline_input_json(const lc_run_state *r);
cJSON *lc_pipeline_accuracy_json(const lc_pipeline *p, double float_acc, double final_acc);

/* The file as written: .lcm with its META section, or ONNX (*buf owned by
 * the caller); with buf NULL only its length, without building it. */
lc_status lc_pipeline_serialize(const lc_pipeline *p, const lc_model *m, const cJSON *input, const cJSON *accuracy,
                                void **buf, size_t *len);
/* Bytes of `m` as the file would be written if it were the result (.lcm
 * META section included, the accuracy `acc` in it), sized without building
 * it, so that the last step's bytes are the file's. */
lc_status lc_pipeline_file_bytes(lc_run_state *r, const lc_model *m, double acc, int64_t *out);

/* The drop's interval (budget_interval.c): the last measured model's per-
 * sample verdicts against the float model's set r->last_drop_lo/hi;
 * within_budget judges a measurement (acc, the upper end drop_hi) against
 * `allow` points: by drop_hi with a confidence, else by the point estimate;
 * check_samples refuses validation data too small for the budget at that
 * confidence; add_drop_ci puts the final model's interval into the
 * report's accuracy object (r->final_drop when known, else predicted). */
void lc_pipeline_note_verdicts(lc_run_state *r, const int64_t *pred, int64_t n);
bool lc_pipeline_within_budget(const lc_run_state *r, double acc, double drop_hi, double allow);
lc_status lc_pipeline_check_samples(const lc_run_state *r);
lc_status lc_pipeline_add_drop_ci(const lc_run_state *r, const lc_model *out, cJSON *accuracy);

/* The last measurement (acc, from lc_pipeline_metric) within `allow`
 * points of the float model (allow < 0: no budget). */
bool lc_pipeline_within_drop(const lc_run_state *r, double acc, double allow);

/* The report's "layers" array (pipeline_layers.c): record_ copies what the
 * rows need of the input's weight layers into r before the passes run (best
 * effort: a failure leaves no rows); layers_json gives one row per recorded
 * layer, describing how its weight is stored in `out`. */
void lc_pipeline_layer_rows_record(lc_run_state *r, const lc_model *in);
void lc_pipeline_layer_rows_free(lc_run_state *r);
cJSON *lc_pipeline_layers_json(const lc_run_state *r, const lc_model *out);

/* The report's top-level figures for the result `out` (takes `passes`). */
void lc_pipeline_finish_report(lc_pipeline *p, lc_run_state *r, const lc_model *in, const lc_model *out, cJSON *passes,
                               double final_acc, int64_t bytes);

/* Report marks and events (pipeline_marks.c). */
/* Sends one event (a JSON object, consumed) to the events callback. */
void lc_pipeline_emit(const lc_run_state *r, cJSON *event);
/* Labels a configuration row (attempt, step, kept/final false) and emits it. */
void lc_pipeline_tried_row(lc_run_state *r, cJSON *row, bool within);
/* After the attempts: rows of the attempt `final_attempt` keep their
 * "kept" marks, the others lose them; the last kept row (or, without marks,
 * the row measuring the result: target search) is marked "final". */
void lc_pipeline_mark_final(lc_run_state *r, const char *final_attempt, double final_acc, int64_t bytes);
/* Collapse check of the result: within a few points of chance (100 / the
 * output's classes) or more than 10 points below the float model. Adds
 * "chance" and "collapsed" to the report. */
void lc_pipeline_check_collapse(lc_pipeline *p, const lc_run_state *r, const lc_model *in, double final_acc);
/* The "start" and "attempt" events. */
void lc_pipeline_emit_start(const lc_run_state *r, const lc_model *in);
void lc_pipeline_emit_attempt(const lc_run_state *r, const char *label);
/* One attempt of the passes, appended to the report's "attempts". */
void lc_pipeline_add_attempt(cJSON *attempts, const char *label, const cJSON *passes, double acc, int64_t bytes, bool met,
                             double seconds);
/* The run's wall and CPU seconds since wall0/cpu0 into the report. */
void lc_pipeline_add_times(lc_pipeline *p, double wall0, double cpu0);
/* Adds `delta` to every measured size of the report (sizes measured
 * without what the written file has, so they compare as files). */
void lc_pipeline_shift_bytes(cJSON *rep, double delta);
/* ONNX: the report's "overhead" {total}: the file less the layers' bytes. */
void lc_pipeline_onnx_overhead(cJSON *rep, double file_bytes);
/* 100 / the classes of the model's first output, NAN when unknown. */
double lc_pipeline_chance(const lc_model *in);
/* Every step's needs (calibration data) before the first pass runs. */
lc_status lc_pipeline_check_needs(const lc_pipeline *p, const lc_context *ctx);

/* The --target-size search (target_search.c): per-layer settings of the steps'
 * knobs, the most accurate model whose file fits p->target_size. */
lc_status lc_pipeline_run_target(lc_pipeline *p, lc_run_state *r, const lc_model *in, lc_model **out);

/* Auto mode (target_auto.c): per-layer settings of the steps' knobs, the
 * smallest model within p->max_drop. */
lc_status lc_pipeline_run_auto(lc_pipeline *p, lc_run_state *r, const lc_model *in, lc_model **out);

/* A sweep (target_sweep.c): the target-size search for each of p->sweep
 * from one measurement; the models go to p->sweep_models, *out gets a copy
 * of the last point's (or the input's when nothing fits). */
lc_status lc_pipeline_run_sweep(lc_pipeline *p, lc_run_state *r, const lc_model *in, lc_model **out);

#endif
