/*
 * lc_pipeline_internal.h - what pipeline.c shares with the target-size search (internal).
 *
 * pipeline.c runs the passes as given (validation, back-off, report,
 * writing); target_*.c run the --target-size search of per-layer settings.
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
    bool budget_met;
    bool target_met;
    int budget_metric;            /* LC_METRIC_SNR/COSINE when the budget is a
                                     floor on it (max_drop = float - floor) */
    double min_value;             /* that floor */
    int metric;                   /* the metric of the last run (LC_METRIC_*) */
    cJSON *report;
    char *report_text;
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
} lc_run_state;

/* Monotonic seconds. */
double lc_pipeline_now(void);

/* The run's metric on the validation data (NAN without): top-1 (%) with
 * labels, else top-1 agreement (%) with the float model, or the context's
 * metric (libcompress/metrics.h; scores where higher is better, see
 * lc_metric_measure.h). The first call stores the float model's
 * predictions in r->float_pred (or outputs in r->float_out). */
lc_status lc_pipeline_metric(lc_run_state *r, const lc_model *m, double *out);

/* Bytes of `m` as the run would write it (without the .lcm META section). */
lc_status lc_pipeline_model_bytes(lc_run_state *r, const lc_model *m, int64_t *out);

/* The report's "input" and "accuracy" objects (the .lcm META holds copies). */
cJSON *lc_pipeline_input_json(const lc_run_state *r);
cJSON *lc_pipeline_accuracy_json(const lc_pipeline *p, double float_acc, double final_acc);

/* The file as written: .lcm with its META section, or ONNX (*buf owned by
 * the caller). */
lc_status lc_pipeline_serialize(const lc_pipeline *p, const lc_model *m, const cJSON *input, const cJSON *accuracy,
                                void **buf, size_t *len);

/* Accuracy `acc` within `allow` points of the float model (allow < 0: no budget). */
bool lc_pipeline_within_drop(const lc_run_state *r, double acc, double allow);

/* The report's top-level figures for the result `out` (takes `passes`). */
void lc_pipeline_finish_report(lc_pipeline *p, lc_run_state *r, const lc_model *in, const lc_model *out, cJSON *passes,
                               double final_acc, int64_t bytes);

/* The --target-size search (target_search.c): per-layer settings of the steps'
 * knobs, the most accurate model whose file fits p->target_size. */
lc_status lc_pipeline_run_target(lc_pipeline *p, lc_run_state *r, const lc_model *in, lc_model **out);

#endif
