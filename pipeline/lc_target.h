/*
 * lc_target.h - the --target-size search's state, shared by its stages
 * (internal).
 *
 * The search finds per-layer settings of the recipe's knobs (sparsity,
 * bits): the most accurate model whose file fits a size. One file per
 * stage:
 *   target_layers.c  the layers the steps compress, each step's grid, the
 *                    options of each layer, the passes run first
 *                    (target_removes: BatchNorm folded);
 *   target_grid.c    grid runs: each searched pass once per grid value on
 *                    every layer at once; each layer's option swapped alone
 *                    into the input model for its exact bytes and proxy;
 *   target_damage.c  the damage proxy (a layer's output change, from
 *                    Hessian statistics) and its calibration to KL
 *                    divergence by real forward measurements;
 *   target_search.c  the knapsack allocation (lc_alloc.h), building and
 *                    checking candidates, the search for the size, the
 *                    report, lc_pipeline_run_target.
 * The passes are known only through their descriptors (lc_pass.h).
 */
#ifndef LC_TARGET_H
#define LC_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lc_hessian.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

#define LC_TARGET_MAX_GRID 48  /* settings of one step's grid (a joint step: knob x knob2) */
#define LC_TARGET_MAX_STEPS 16 /* passes of a recipe the search takes */
#define LC_TARGET_MAX_PROBES 16

/* The search's tuning constants, each with where it comes from. */
typedef struct lc_target_tuning {
    /* The grid each layer is measured at, least compressing first (values
     * outside a knob's range are dropped; sparsity 0 leaves the layer
     * alone). Issue 7's grid; its zoo results are in
     * benchmarks/results/target.md. */
    double sparsity[LC_TARGET_MAX_GRID];
    int n_sparsity;
    double bits[LC_TARGET_MAX_GRID];
    int n_bits;
    /* The grid index of the calibration leaf, measured for real on every
     * layer: sparsity .5 / bits 5, mild enough that KL grows like the proxy
     * there (exponent 0.9-1.3 on the zoo's layers, benchmarks/results/
     * target.md "How good the proxy is") and so extrapolates best. */
    int calib_index;
    /* Validation samples of the real KL measurements (the candidates are
     * checked on all): resnet8 20-40 evaluations of 500 samples instead of
     * 510 of 1,000 (benchmarks/results/target.md). */
    int64_t measure_samples;
    /* Calibration samples of the grid runs and the layer statistics (the
     * candidates use all; Gemm layers get twice their inputs): resnet8 10x
     * at 0.24 point in 21 s CPU with it (benchmarks/results/target.md). */
    int64_t measure_calib;
    /* Bytes of grid-run weights kept for real measurements of the options
     * the allocation picks (else only the calibration leaf is measured): a
     * memory cap, not measured. */
    int64_t keep_bytes;
    /* Rounds of allocate, measure the picks, refit: lenet5 20x 88.50% with
     * 3 rounds against 87.96% with every option measured
     * (benchmarks/results/target.md). */
    int refine_rounds;
    /* The damage exponent (log KL / log proxy) with one measured point:
     * 1.1 measured on resnet8's layers below KL 0.1; beyond the measured
     * points the nearest segment's, held within [exponent_min,
     * exponent_max] around the zoo's 0.9-1.3 (benchmarks/results/target.md). */
    double default_exponent, exponent_min, exponent_max;
    /* KL of a sample whose reference-probable class underflowed to zero: a
     * large, finite damage (not measured). */
    double kl_underflow;
    /* Fitting the size: at most fit_rounds builds shrinking the estimated
     * budget by the overshoot plus (round + 1) * (target / fit_step_div + 1)
     * bytes; a fit more than target / slack_div + slack_bytes under the
     * target spends the slack once. Then bisect_rounds_within (a fit within
     * the accuracy budget: smaller models) or bisect_rounds_over (over it:
     * larger ones) bisection builds, down to bisect_bytes. Chosen with the
     * search in issue 7 (commit 4936a9c), not measured one by one; the zoo
     * runs of benchmarks/results/target.md used them. */
    int fit_rounds;
    int64_t fit_step_div, slack_div, slack_bytes;
    int bisect_rounds_within, bisect_rounds_over;
    int64_t bisect_bytes;
} lc_target_tuning;

extern const lc_target_tuning lc_target_tune;

/* A pipeline step as the search runs it. */
typedef struct lc_target_step {
    bool grid;                        /* its knob is searched per layer */
    bool joint;                       /* and its knob2 with it (lc_pass.knob2) */
    double vals[LC_TARGET_MAX_GRID];  /* the grid, least compressing first */
    double vals2[LC_TARGET_MAX_GRID]; /* joint: knob2's value of each setting */
    int n_vals;                       /* 1 when not searched */
    int calib;                        /* the calibration leaf's setting */
} lc_target_step;

/* A weight layer some step compresses. */
typedef struct lc_target_layer {
    char *weight;   /* weight tensor name (owned) */
    char *label;    /* node name for the report (owned) */
    int64_t params;
    bool covered[LC_TARGET_MAX_STEPS]; /* the step compresses the layer */
    int first;      /* its options: opts[first .. first + n_opts - 1] */
    int n_opts;
} lc_target_layer;

/* One setting of one layer, measured with every other layer as in the
 * input model. */
typedef struct lc_target_option {
    double val[LC_TARGET_MAX_STEPS]; /* knob value per step; NAN: not searched
                                        or not applied */
    double val2[LC_TARGET_MAX_STEPS]; /* knob2's (joint steps; else NAN) */
    double proxy;    /* mean squared change of the layer's outputs on
                        calibration inputs */
    double kl;       /* measured KL divergence of the option alone (NAN: not
                        measured) */
    double cost;     /* predicted damage alone: KL divergence from the input
                        model's outputs */
    int64_t delta;   /* bytes the option adds to the input model's file */
    lc_tensor *w, *b; /* the layer's weight and bias as the grid run left
                         them (NULL: not kept) */
    bool filled;     /* measured by a grid run */
    bool kept;       /* merged from jobs: w and b would have been kept, and
                        kl_job is their real damage */
    double kl_job;
} lc_target_option;

/* A candidate built and measured for real. */
typedef struct lc_target_probe {
    int *choice;     /* option per layer */
    lc_model *m;
    double acc;
    double drop_hi;  /* upper end of its drop's interval (NAN: none) */
    int64_t bytes;   /* the file as written */
    int64_t budget;  /* estimated bytes it was allocated for */
    double seconds;
    cJSON *passes;   /* the passes as run */
    cJSON *row;      /* its row in the report's "tried" (borrowed) */
} lc_target_probe;

typedef struct lc_target {
    lc_run_state *r;
    const lc_model *in;       /* the model searched on (BatchNorm folded) */
    lc_model *folded;         /* owned copy behind `in` when a pass removed
                                 nodes first */
    const lc_pass *prepared;  /* that pass */
    int n_steps, n_layers, n_opts;
    lc_target_step steps[LC_TARGET_MAX_STEPS];
    lc_target_layer *layers;
    lc_target_option *opts;
    int64_t kept_bytes;       /* held by the options' w and b */
    bool corrects[LC_TARGET_MAX_STEPS]; /* the step's bias correction is
                                 emulated per layer in the grid (see
                                 lc_target_shift_at) */
    lc_model *base;           /* the input as measured against (entropy-coding
                                 marks applied) */
    int64_t base_bytes;
    int64_t floor_file;       /* the file of the most compressing grid run */
    int64_t fixed_bytes;      /* what the file adds to the model's bytes
                                 (lc_pipeline_model_bytes): the .lcm META
                                 section, which depends on the options */
    float *ref;               /* the input model's log-softmax outputs on the
                                 validation data */
    int64_t n_ref;
    int64_t classes;
    int n_evals;              /* real forward measurements */
    int n_runs;               /* grid runs of the passes */
    lc_target_probe probes[LC_TARGET_MAX_PROBES];
    int n_probes;
    char print[17];           /* the search's fingerprint (jobs) */
    bool stopped;             /* jobs planned or run: no search follows */
} lc_target;

/* ---- target_layers.c ---- */

void lc_target_free(lc_target *t);
/* Runs the passes with target_removes on t->in first when they remove
 * some of those nodes; t->in becomes the result. */
lc_status lc_target_prepare(lc_target *t);
/* The layers the steps compress, each step's grid and each layer's
 * options (t->opts, allocated). */
lc_status lc_target_layers(lc_target *t);
/* The values step si takes on layer l (*vals NULL and 1: not searched
 * there). */
int lc_target_step_values(const lc_target *t, int si, int l, const double **vals);
/* Setting k of step si's grid leaves a layer alone (sparsity 0, and no
 * knob2 value on a joint step). */
bool lc_target_leaves_alone(const lc_target *t, int si, int k);
/* Layer l's option for the grid indices kidx (the steps in order, the
 * first one outermost). */
int lc_target_option_of(const lc_target *t, int l, const int *kidx);
/* A copy of step st's parameters restricted to `names` (include), with its
 * knob set to v unless v is NAN (and scope=layer), and knob2 to v2 unless
 * v2 is NAN. */
lc_status lc_target_step_params(const lc_pipeline_step *st, char *const *names, int n_names, double v, double v2,
                                lc_params *out);

/* ---- target_damage.c ---- */

/* Mean KL divergence of m's outputs from the reference on the first
 * t->n_ref validation samples (with `record`, m's outputs become the
 * reference). */
lc_status lc_target_outputs_eval(lc_target *t, const lc_model *m, bool record, double *kl);

/* Per-layer statistics of the float model's layer inputs. */
typedef struct lc_target_stats {
    lc_hlayer *h;     /* n_layers entries */
    bool *ok;         /* lc_hlayer_init succeeded */
} lc_target_stats;
/* Collects them on the calibration data of mctx (whose calib_limit it
 * raises for Gemm/MatMul layers). */
lc_status lc_target_stats_collect(lc_target *t, lc_context *mctx, lc_target_stats *ls);
void lc_target_stats_free(lc_target_stats *ls, int n_layers);

/* The option's damage proxy E||(W1 - W0) x + (b1 - b0)||^2 over the
 * calibration inputs (without statistics ||W1 - W0||^2 + ||b1 - b0||^2). */
lc_status lc_target_proxy(const lc_hlayer *L, bool have, const lc_tensor *w0, const lc_tensor *b0, const lc_tensor *w1,
                          const lc_tensor *b1, double *out);
/* The bias correction of a layer compressed alone: b1 = b0 - (W1 - W0) E[x]
 * (b1 holds b0 on entry). */
lc_status lc_target_shift_bias(const lc_hlayer *L, const lc_tensor *w0, const lc_tensor *w1, lc_tensor *b1);
/* Each option's predicted damage (cost) from its proxy and the measured
 * KL of the layer's options. */
void lc_target_fit_damage(lc_target *t);
/* The real damage of option o of layer l alone (its kept weights swapped
 * into the base model). */
lc_status lc_target_measure_option(lc_target *t, int l, int o);

/* Layer `weight`'s weight and bias tensors (NULL: none) in m, whose stored
 * tensors are st[0..n_st). */
void lc_target_layer_tensors(const lc_model *m, const lc_stored *st, int n_st, const char *weight, lc_tensor **w,
                             lc_tensor **b);
void lc_target_swap_tensors(lc_tensor *a, lc_tensor *b);

/* ---- target_grid.c ---- */

/* The grid runs: every option's bytes, proxy and (calibration leaf) KL,
 * then the damage fit. */
lc_status lc_target_measure(lc_target *t);
/* What every search starts with: t set up for `in`, then
 * lc_target_prepare, lc_target_layers and lc_target_measure. Check
 * t->stopped after it (jobs planned or run: nothing left to do). */
lc_status lc_target_start(lc_target *t, lc_run_state *r, const lc_model *in);

/* One layer's option as a grid leaf measured it. */
typedef struct lc_target_meas {
    int64_t delta;  /* bytes it adds */
    double proxy;
    double kl;      /* its real damage (NAN: not measured) */
    int64_t need;   /* bytes its weight and bias take */
} lc_target_meas;
/* Stores leaf kidx's measurement of layer l's option, as the grid runs
 * visit the leaves (in job order): skipped when an earlier leaf filled
 * the option and this is not the calibration leaf (`cal`). w1, b1: the
 * weights to keep (NULL from a job's results: marked kept instead). */
lc_status lc_target_store(lc_target *t, const int *kidx, int l, bool cal, const lc_target_meas *me,
                          const lc_tensor *w1, const lc_tensor *b1);
/* A step's bias correction applies at leaf kidx: the grid run of a
 * correcting step came before it in the grid's order. */
bool lc_target_shift_at(const lc_target *t, const int *kidx);

/* ---- target_jobs.c ---- */

/* What lc_pipeline_set_jobs keeps. */
struct lc_target_jobs {
    int mode;                 /* lc_jobs_mode */
    int64_t first, last;      /* LC_JOBS_RUN: the slice */
    char **results, **names;  /* LC_JOBS_MERGE: the texts and their labels */
    int n_results;
    char **out;               /* the plan, or each job's results */
    int64_t n_out;
};

/* Forgets the outputs of an earlier run. */
void lc_target_jobs_clear(lc_pipeline *p);
/* Jobs (lc_pipeline_set_jobs): one per grid leaf, in the grid's order. */
int64_t lc_target_jobs(const lc_target *t);
/* The jobs below one setting of step i (the leaves of later steps). */
int64_t lc_target_jobs_below(const lc_target *t, int i);
void lc_target_job_leaf(const lc_target *t, int64_t k, int *kidx);
bool lc_target_leaf_is_calib(const lc_target *t, const int *kidx);
bool lc_target_leaf_is_floor(const lc_target *t, const int *kidx);
/* The pass runs of the whole grid. */
int lc_target_grid_runs(const lc_target *t);
/* t->print from the model, recipe, data and options the grid measures
 * with (after the reference outputs). */
lc_status lc_target_fingerprint(lc_target *t);
/* The plan (LC_JOBS_PLAN). */
lc_status lc_target_plan(lc_target *t);
/* One leaf's results object; results of layer l appended by
 * lc_target_job_layer. */
lc_status lc_target_job_add(lc_target *t, int64_t k, cJSON *leaf);
cJSON *lc_target_job_layer(const lc_target *t, int l, const lc_target_meas *me);
/* The grid measurements from the jobs' results (LC_JOBS_MERGE). */
lc_status lc_target_merge(lc_target *t);

/* ---- target_search.c ---- */

/* The estimated file with every layer's smallest option. */
int64_t lc_target_smallest_bytes(const lc_target *t);
/* The least-damage choice for an estimated byte budget (*fits false: even
 * the smallest options exceed it). *estimate: its estimated bytes. */
lc_status lc_target_allocate(const lc_target *t, int64_t budget, int *choice, bool *fits, int64_t *estimate);
/* Measures for real the options the allocation picks for `budget` and
 * refits the damage, until the picks are all measured. */
lc_status lc_target_refine(lc_target *t, int64_t budget);
/* Allocates for `budget` and builds the choice unless an earlier probe
 * made it. *idx: the probe, or -1 (the estimate says nothing fits and not
 * `force`, or no probe left). */
lc_status lc_target_probe_budget(lc_target *t, int64_t budget, bool force, int *idx);
/* The best probe: fitting the size (need_fit) and within the budget
 * (need_budget), the most accurate or (smallest) the smallest. -1: none. */
int lc_target_best(const lc_target *t, bool need_fit, bool need_budget, bool smallest);
/* The search for p->target_size after lc_target_measure. *chosen: the
 * probe to return (-1: nothing fits the size); *smallest: the smallest
 * file reached. */
lc_status lc_target_search_size(lc_target *t, int *chosen, int64_t *smallest);
/* Frees the probes (their models too) and forgets them. */
void lc_target_drop_probes(lc_target *t);
/* The report's "target" object. */
cJSON *lc_target_report(const lc_target *t, int chosen, int64_t smallest, double seconds);

#endif
