/*
 * lc_pass.h - compression passes, their parameters and context (internal).
 *
 * A pass is a descriptor (name, summary, parameter table, run function) in
 * the table of passes/registry.c. The pipeline, the CLI (`shrink passes`,
 * `--pass NAME:k=v,...`) and the recipe reader all go through the same
 * table, so an unknown pass or parameter is rejected in one place, with the
 * list of valid names.
 *
 * A pass's run() gets the model (modified in place), the context (its
 * calibration data, seed, threads, log and progress callbacks) and its
 * validated parameters. It either succeeds, leaving a model whose
 * encodings verify (lc_encoding_verify), or fails leaving the model as it
 * found it or in some other valid state - the pipeline works on a copy
 * anyway.
 */
#ifndef LC_PASS_H
#define LC_PASS_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_exec.h"
#include "lc_ir.h"

/* ---- parameters ---- */

typedef enum lc_param_type {
    LC_PARAM_FLOAT = 0,  /* number within [min, max] */
    LC_PARAM_INT = 1,    /* integer within [min, max] */
    LC_PARAM_BOOL = 2,   /* true/false/1/0/yes/no */
    LC_PARAM_ENUM = 3,   /* one of `choices` ("layer|global") */
    LC_PARAM_STRING = 4, /* any text */
    LC_PARAM_LIST = 5,   /* list of strings (repeated key, or a JSON array) */
    LC_PARAM_NM = 6      /* N:M sparsity pattern ("2:4"), or "" for none */
} lc_param_type;

typedef struct lc_param_desc {
    const char *name;
    lc_param_type type;
    const char *def;     /* default as text ("" = unset for STRING/LIST/NM) */
    double min, max;     /* FLOAT/INT range (inclusive) */
    const char *choices; /* ENUM: "a|b|c" */
    const char *help;    /* one line */
} lc_param_desc;

/* Parameters common to every weight pass (see lc_weight_targets). */
#define LC_WEIGHT_PARAMS                                                                                    \
    {"ops", LC_PARAM_LIST, "", 0, 0, NULL,                                                                 \
     "op types whose weights are compressed (default: Conv, ConvTranspose, Gemm, MatMul, W and R of LSTM, " \
     "GRU, RNN; subgraphs included. Passes that need layer inputs take main-graph Conv/Gemm/MatMul only)"}, \
        {"include", LC_PARAM_LIST, "", 0, 0, NULL,                                                         \
         "only these nodes or weight tensors (names; '*' matches any run of characters)"},                 \
        {"exclude", LC_PARAM_LIST, "", 0, 0, NULL, "never these nodes or weight tensors (names, '*' glob)"}, \
        {"correct", LC_PARAM_ENUM, "auto", 0, 0, "auto|bn|bias|none",                                     \
         "statistics correction after the pass (auto: bn if the model has BatchNormalization, else bias; " \
         "none without calibration data; auto's bn is undone when it moves the output away from the input "   \
         "model's on the calibration data)"}

/* A validated parameter set: one value per descriptor entry. */
typedef struct lc_param_value {
    const lc_param_desc *desc;
    bool given;          /* false: the default */
    double num;          /* FLOAT/INT/BOOL (0/1) */
    char *str;           /* ENUM/STRING/NM text */
    int n_list;
    char **list;         /* LIST */
    int nm_n, nm_m;      /* NM: 0/0 when none */
} lc_param_value;

typedef struct lc_params {
    const char *pass;    /* borrowed pass name, for messages */
    int n;
    lc_param_value *v;
} lc_params;

/* Starts a parameter set with every default. */
lc_status lc_params_init(lc_params *p, const char *pass, const lc_param_desc *desc, int n_desc);
/* Sets `key` from text; LC_ERR_PARAMETER (naming pass, parameter and the
 * valid names or range) when unknown or invalid. LIST values append. */
lc_status lc_params_set(lc_params *p, const char *key, const char *value);
/* lc_params_set when the pass has parameter `key`; LC_OK and nothing
 * otherwise (for callers that tune any pass: scope=layer, correct=none). */
lc_status lc_params_override(lc_params *p, const char *key, const char *value);
/* Parses "k=v,k=v" (as in `--pass NAME:k=v,...`). */
lc_status lc_params_parse(lc_params *p, const char *text);
void lc_params_clear(lc_params *p);
/* Deep copy. */
lc_status lc_params_copy(lc_params *dst, const lc_params *src);

/* Typed reads by name (the name must exist in the table: it is a bug
 * otherwise, and these return 0/NULL). */
double lc_params_num(const lc_params *p, const char *name);
const char *lc_params_str(const lc_params *p, const char *name);
const lc_param_value *lc_params_get(const lc_params *p, const char *name);
/* "sparsity=0.8,scope=layer" with every value (for reports). malloc'ed. */
char *lc_params_to_string(const lc_params *p);
/* The same with only the parameters that differ from their defaults. */
char *lc_params_changed_to_string(const lc_params *p);

/* ---- context ---- */

typedef void (*lc_log_fn)(void *user, const char *message);
typedef void (*lc_progress_fn)(void *user, const char *what, int64_t done, int64_t total);

struct lc_dataset;

struct lc_context {
    const struct lc_dataset *calib; /* borrowed; NULL: none */
    const lc_model *reference;      /* borrowed: the model before compression
                                       (set by the pipeline), or NULL */
    int64_t calib_limit;            /* at most this many calibration samples (0 = all) */
    uint64_t seed;
    int threads;
    int batch;                      /* calibration batch size */
    lc_log_fn log;
    void *log_user;
    lc_progress_fn progress;
    void *progress_user;
    struct lc_input_binding *inputs; /* feeds and input shapes (inputs.c) */
    int n_inputs;
    int metric;                     /* LC_METRIC_* (lc_metric.h); 0: default */
    struct lc_calib_cache *calib_cache; /* borrowed, NULL: none; a pass sets
                                       it in a copy of its context for its
                                       own runs (lc_calib_cache.h) */
    bool no_calib_cache;            /* passes make no calibration cache
                                       (tests compare with and without) */
    struct lc_reference_outputs *reference_outputs; /* borrowed, NULL: none;
                                       the reference's first outputs on the
                                       calibration data, computed once for
                                       all the passes of a run (correction.c) */
};
typedef struct lc_context lc_context;
typedef struct lc_calib_cache lc_calib_cache;

/* Logs a message through the context's callback (no-op without one). */
void lc_log(const lc_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lc_progress(const lc_context *ctx, const char *what, int64_t done, int64_t total);


/* ---- runs over datasets (passes/framework/calib.c) ---- */

/* Called with the first output of each batch of samples [start, start+n). */
typedef lc_status (*lc_batch_fn)(void *user, int64_t start, int64_t n, const lc_array *out);

/* Runs `m` (one float input) over the first `limit` samples of `d` (0: all)
 * in batches, with an optional node observer and batch callback. */
lc_status lc_dataset_run(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                         lc_observe_fn observe, void *observe_user, lc_batch_fn on_batch, void *batch_user,
                         const lc_context *ctx);

/* Arg-max class of the first output for each sample: *pred (malloc'ed, n
 * entries). */
lc_status lc_model_predict(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                           const lc_context *ctx, int64_t **pred, int64_t *n);

/* lc_model_predict that asks stop(user, pred, done) after each batch, with
 * pred[0..done) filled: when it returns true the run ends there and *done
 * < *n (the entries from *done on are undefined). stop NULL: every sample;
 * done may be NULL. */
typedef bool (*lc_predict_stop_fn)(void *user, const int64_t *pred, int64_t done);
lc_status lc_model_predict_until(const lc_model *m, const lc_dataset *d, int64_t limit, int batch, int threads,
                                 const lc_context *ctx, lc_predict_stop_fn stop, void *stop_user, int64_t **pred,
                                 int64_t *n, int64_t *done);

/* Runs `m` on the context's calibration data in batches (the model's single
 * float input), calling `fn` after every executed node (see
 * lc_executor_set_observer). LC_ERR_INVALID_ARGUMENT when the context has
 * no calibration data; shape errors name the data file. */
lc_status lc_calib_run(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user);

/* lc_calib_run for an observer that only looks at the nodes with
 * need[node index] true (m->graph->n_nodes entries; NULL: all nodes): each
 * batch stops as soon as the last of them has run, so the nodes after them
 * are not computed. What `fn` sees of the needed nodes is the same. */
lc_status lc_calib_run_nodes(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user, const bool *need);

/* The same for an observer that reads only the inputs of the needed nodes
 * (need required): fn is called before each node runs, with its inputs
 * (n_out = 0, out NULL), and each batch stops before its last needed node
 * would run. What fn sees of the needed nodes' inputs is the same. */
lc_status lc_calib_run_inputs(const lc_model *m, const lc_context *ctx, lc_observe_fn fn, void *user, const bool *need);

/* For each node of graph `g` (level[i], g->n_nodes entries): the largest
 * number of `marked` nodes on any path from the graph inputs to one of the
 * node's inputs (the node itself not counted). Statistics that depend on
 * upstream statistics (BatchNorm re-estimation, bias correction) are
 * computed in waves: the marked nodes of level l depend only on marked
 * nodes of levels < l. *n_levels = 1 + the largest level of a marked node
 * (0 when none is marked). Nodes with subgraphs count as reading every
 * value before them. */
lc_status lc_graph_levels(const lc_graph *g, const bool *marked, int *level, int *n_levels);

/* ---- weight targets ---- */

/* A weight a pass may compress: a float32 stored tensor read as the weight
 * input of a layer node (Conv, ConvTranspose, Gemm, MatMul) or as W/R of a
 * recurrent node (LSTM, GRU, RNN), in the main graph or in a subgraph. */
typedef struct lc_weight {
    lc_tensor *tensor;   /* borrowed from the model */
    lc_node *node;       /* the consuming node */
    int node_index;      /* its index in the main graph; -1 in a subgraph */
    int input;           /* which input of the node reads it (through an
                            Unsqueeze for a 2-D recurrent W/R) */
    int out_axis;        /* the output-channel axis of the tensor (a gate
                            row for W/R) */
    int in_axis;         /* the input (reduction) axis, -1 if none */
    const char *value;   /* the graph value that holds the tensor (borrowed) */
    lc_graph *graph;     /* the graph holding `node` */
    lc_graph *home;      /* the graph holding the tensor (`graph` or an
                            enclosing one) */
} lc_weight;

/* Lists the weights selected by the common parameters (ops, include,
 * exclude) of `p` (may be NULL: defaults), subgraphs included. Biases and
 * normalization parameters are never listed. *out is malloc'ed (free()). */
lc_status lc_weight_targets(lc_model *m, const lc_params *p, lc_weight **out, int *n);

/* Whether a weight is a layer of the main graph (Conv, ConvTranspose, Gemm,
 * MatMul): passes that need the layer's inputs on calibration data
 * (Hessians, structured pruning, activation quantization) handle only
 * these. */
bool lc_weight_is_layer(const lc_weight *w);
/* lc_weight_targets restricted to lc_weight_is_layer. */
lc_status lc_layer_targets(lc_model *m, const lc_params *p, lc_weight **out, int *n);

/* ---- statistics correction (passes/recalibrate_bn.c, passes/bias_correct.c) ---- */

/* The statistics correction a weight pass's `correct` parameter asks for. */
typedef enum lc_correction {
    LC_CORRECT_NONE = 0,
    LC_CORRECT_BN = 1,   /* re-estimate BatchNormalization statistics */
    LC_CORRECT_BIAS = 2, /* shift the compressed layers' biases */
    LC_CORRECT_BN_CHECKED = 3 /* auto on a model with BatchNormalization: bn,
                                 undone when it moves the first output away
                                 from ctx->reference's on the calibration data
                                 (data of another kind than the model's), and
                                 then bias correction instead */
} lc_correction;

/* Re-estimates every BatchNormalization's running mean and variance from
 * its input activations on the calibration data (weights unchanged). */
lc_status lc_correct_bn(lc_model *m, const lc_context *ctx);
/* The same for the BatchNormalization nodes with select[node index] true
 * only (NULL: all); one calibration run per BatchNorm depth among them. */
lc_status lc_correct_bn_nodes(lc_model *m, const lc_context *ctx, const bool *select);

/* Shifts the bias of each compressed layer's output channels so that their
 * mean on the calibration data equals the reference model's (`ref`: the
 * model before the pass). Layers without a bias input get one. With at
 * least 64 calibration samples the correction is reverted when it lowers
 * the top-1 agreement with `ref` on them. */
lc_status lc_correct_bias(lc_model *m, const lc_model *ref, const lc_context *ctx);

/* lc_correct_bias in two steps, with no copy of the model: collect what
 * the correction needs of the model before the pass (per layer the output
 * channel sums on the calibration data and a fingerprint of the weight;
 * with the gate, the first output), run the pass, then correct against
 * it. Same result as lc_correct_bias with a copy of the model before. */
typedef struct lc_bias_ref lc_bias_ref;
lc_status lc_bias_ref_collect(const lc_model *m, const lc_context *ctx, lc_bias_ref **out);
lc_status lc_correct_bias_ref(lc_model *m, const lc_bias_ref *ref, const lc_context *ctx);
void lc_bias_ref_free(lc_bias_ref *r);

/* The correction parameters `p` ask for on `m` (the common parameter
 * `correct`; auto: LC_CORRECT_BN_CHECKED when the model has
 * BatchNormalization, else bias;
 * none without calibration data in `ctx`, or when `p` has no `correct`). */
lc_correction lc_correction_of(const lc_model *m, const lc_context *ctx, const lc_params *p);
/* "none", "bn", "bias": the parameter's text for c. */
const char *lc_correction_name(lc_correction c);
/* Applies correction c to `m` (`before`: the model before the pass, needed
 * by LC_CORRECT_BIAS and by LC_CORRECT_BN_CHECKED's fallback). */
lc_status lc_correction_apply(lc_model *m, lc_correction c, const lc_model *before, const lc_context *ctx);
/* The same with, instead of `before` when `before_ref` is not NULL, what
 * lc_bias_ref_collect gathered of the model before the pass. */
lc_status lc_correction_apply_ref(lc_model *m, lc_correction c, const lc_model *before, const lc_bias_ref *before_ref,
                                  const lc_context *ctx);
/* A memo of ctx->reference's first outputs on the calibration data, which
 * the checked BatchNorm re-estimation compares every pass's result with:
 * filled by the first correction that needs them, used while the context's
 * reference, calibration data, limit, batch and threads are the same.
 * create returns NULL when out of memory (then nothing is memoized); free
 * accepts NULL. */
typedef struct lc_reference_outputs lc_reference_outputs;
lc_reference_outputs *lc_reference_outputs_create(void);
void lc_reference_outputs_free(lc_reference_outputs *m);

/* Whether correction c may compare with the model before the pass (bias,
 * and bn checked against ctx->reference, which falls back to bias). */
bool lc_correction_needs_before(lc_correction c, const lc_context *ctx);

/* ---- passes ---- */

/* Which end of a pass's knob compresses least (where back-off goes). */
typedef enum lc_knob_safe {
    LC_SAFE_LOW = 0,  /* smaller values are safer (sparsity, ratio) */
    LC_SAFE_HIGH = 1  /* larger values are safer (bits) */
} lc_knob_safe;

/* How the target-size search grids a pass's knob per layer. */
typedef enum lc_grid_kind {
    LC_GRID_NONE = 0,     /* not searched: the pass runs as given */
    LC_GRID_SPARSITY = 1, /* fraction of weights removed; 0 leaves the layer alone */
    LC_GRID_BITS = 2      /* bits per weight */
} lc_grid_kind;

/* A pass. Descriptors use designated initializers; what is left out is
 * 0/NULL/false. The pipeline and the target-size search know a pass only
 * through these fields, never by its name. */
typedef struct lc_pass {
    const char *name;          /* kebab-case */
    const char *summary;       /* one line */
    const lc_param_desc *params;
    int n_params;
    const char *knob;          /* main parameter the pipeline may back off
                                  (sparsity, bits, ratio), or NULL */
    lc_knob_safe knob_safe;    /* which end of the knob compresses least */
    lc_grid_kind grid;         /* the target-size search's grid of the knob */
    /* A second parameter the target-size search grids together with the
     * knob, per layer, when the recipe gives it a value (> 0): a joint
     * mode (prune-hessian's bits: prune and quantize in one sweep). The
     * given value caps its grid as a given knob value does. NULL: none. */
    const char *knob2;
    lc_grid_kind grid2;
    bool needs_calib;          /* fails without calibration data */
    /* Compresses the weights its common parameters (ops, include, exclude)
     * select, each layer on its own: the target-size search may run it on
     * any subset of the layers (include) and combine the results. */
    bool weight_pass;
    /* Marks tensors for entropy coding in .lcm files, values unchanged: a
     * layer's bytes depend on it, so the target-size search measures every
     * layer with the marks applied. */
    bool entropy;
    /* An op type the pass removes without changing the model's function
     * (fold-batchnorm: BatchNormalization), or NULL. When the input has
     * nodes of it, the target-size search runs the pass first and keeps
     * the result if some were removed: a smaller file, and the layers are
     * measured on the weights that ship. */
    const char *target_removes;
    /* Adjusts parameters that follow the statistics correction when the
     * caller runs the pass with correct=none and applies (or emulates)
     * correction c itself. NULL: nothing follows it. */
    lc_status (*defer_correction)(lc_params *p, lc_correction c);
    /* True when the pass, run with parameters p and correct=bn in effect,
     * leaves every BatchNormalization as lc_correct_bn would (it
     * re-estimates them as it goes): the registry then does not run
     * lc_correct_bn again, nor the bn_checked comparison (which would
     * compare the model with itself). A pass that cannot re-estimate
     * every BatchNorm applies lc_correction_of's correction itself.
     * NULL: never. */
    bool (*corrects_bn)(const lc_params *p);
    lc_status (*run)(lc_model *m, const lc_context *ctx, const lc_params *p);
} lc_pass;

/* Sets correct=none in `p` (parameters of pass `pass`) and lets the pass
 * adjust what follows the correction (defer_correction): for callers that
 * apply correction c themselves after running the pass. */
lc_status lc_pass_defer_correction(const lc_pass *pass, lc_params *p, lc_correction c);

/* LC_ERR_PARAMETER "unknown pass 'x' (valid: a, b, ...)". */
lc_status lc_pass_unknown(const char *name);

/* Runs pass `p` with validated parameters, then the statistics correction
 * its `correct` parameter asks for, then checks every encoding. */
lc_status lc_pass_run_params(lc_model *m, const lc_pass *p, const lc_params *pv, const lc_context *ctx);
/* lc_pass_run_params on `m`, an unchanged copy of `source` (NULL: none):
 * the statistics correction reads `source` as the model before the pass
 * instead of copying m once more. `source` must stay unchanged. */
lc_status lc_pass_run_copy(lc_model *m, const lc_model *source, const lc_pass *p, const lc_params *pv,
                           const lc_context *ctx);

/* The pass named `name`, or NULL. */
const lc_pass *lc_pass_find(const char *name);
/* All passes (sorted by name); *n entries. */
const lc_pass *const *lc_pass_table(int *n);

#endif
