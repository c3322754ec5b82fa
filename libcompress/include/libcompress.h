/*
 * libcompress.h - the public API of shrink's compression library.
 *
 * Overview
 * --------
 * libcompress loads a trained ONNX model into one in-memory representation
 * (lc_model), lets compression passes rewrite it, runs it with a reference
 * executor and writes it back as ONNX or as the compact .lcm format.
 *
 * Conventions (see STYLE.md in the project's shared folder):
 *  - every fallible function returns an lc_status: LC_OK (0) or a negative
 *    error kind; results come back through out-parameters, which are set to
 *    NULL (or 0) on failure;
 *  - on failure a one-line message with context (file, node, tensor) is
 *    available from lc_last_error() in the calling thread until the next
 *    failing call in that thread;
 *  - the library never prints, exits or aborts on bad input;
 *  - every object returned through `**out` is owned by the caller and has
 *    exactly one destructor (`_free`, which accepts NULL); `const` pointers
 *    returned by getters are borrowed and live as long as their owner.
 *  - distinct objects may be used from distinct threads; one object must not
 *    be used from two threads at once.
 *
 * Example: print the parameter count of a model.
 *
 *     #include <stdio.h>
 *     #include <libcompress.h>
 *
 *     int main(int argc, char **argv) {
 *         lc_model *m = NULL;
 *         if (argc < 2) return 2;
 *         if (lc_model_load(argv[1], &m) != LC_OK) {
 *             fprintf(stderr, "error: %s\n", lc_last_error());
 *             return 2;
 *         }
 *         lc_model_info info;
 *         if (lc_model_info_compute(m, &info) == LC_OK) {
 *             printf("%lld parameters in %d nodes\n",
 *                    (long long)info.params, info.nodes);
 *             lc_model_info_clear(&info);
 *         }
 *         lc_model_free(m);
 *         return 0;
 *     }
 *
 * Build with `pkg-config --cflags --libs libcompress`.
 */
#ifndef LIBCOMPRESS_H
#define LIBCOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LC_VERSION_MAJOR 0
#define LC_VERSION_MINOR 1
#define LC_VERSION_PATCH 0
#define LC_VERSION_STRING "0.1.0"

/** The library's version as "MAJOR.MINOR.PATCH" (may differ from the
 *  header's LC_VERSION_STRING when linked against another build). */
const char *lc_version(void);

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

/** Result codes. Values are stable: new kinds are only appended. */
typedef enum lc_status {
    LC_OK = 0,
    LC_ERR_INVALID_ARGUMENT = -1, /* a caller passed something invalid */
    LC_ERR_NO_MEMORY = -2,
    LC_ERR_IO = -3,           /* a file could not be read or written */
    LC_ERR_FORMAT = -4,       /* a file is corrupt or not what it claims */
    LC_ERR_UNSUPPORTED = -5,  /* valid input we do not handle (op, dtype) */
    LC_ERR_SHAPE = -6,        /* shapes disagree */
    LC_ERR_DTYPE = -7,        /* element types disagree */
    LC_ERR_NOT_FOUND = -8,    /* a named thing does not exist */
    LC_ERR_PARAMETER = -9,    /* a pass parameter is unknown or out of range */
    LC_ERR_VERIFY = -10,      /* the model breaks an invariant of the IR */
    LC_ERR_INTERNAL = -11,    /* a bug in the library */
    LC_ERR_BUDGET = -12       /* a job ran but could not meet what was asked */
} lc_status;

/** A stable name for a status ("LC_ERR_FORMAT"); never NULL. */
const char *lc_status_name(lc_status s);

/** The message of the last failure in this thread ("" if none). The
 *  pointer is valid until the next libcompress call in this thread. */
const char *lc_last_error(void);

/* ------------------------------------------------------------------ */
/* Element types (numbered exactly like ONNX's TensorProto.DataType)   */
/* ------------------------------------------------------------------ */

typedef enum lc_dtype {
    LC_DTYPE_UNDEFINED = 0,
    LC_DTYPE_FLOAT = 1,
    LC_DTYPE_UINT8 = 2,
    LC_DTYPE_INT8 = 3,
    LC_DTYPE_UINT16 = 4,
    LC_DTYPE_INT16 = 5,
    LC_DTYPE_INT32 = 6,
    LC_DTYPE_INT64 = 7,
    LC_DTYPE_STRING = 8,
    LC_DTYPE_BOOL = 9,
    LC_DTYPE_FLOAT16 = 10,
    LC_DTYPE_DOUBLE = 11,
    LC_DTYPE_UINT32 = 12,
    LC_DTYPE_UINT64 = 13,
    LC_DTYPE_COMPLEX64 = 14,
    LC_DTYPE_COMPLEX128 = 15,
    LC_DTYPE_BFLOAT16 = 16,
    LC_DTYPE_COUNT
} lc_dtype;

/** Lower-case ONNX name of a dtype ("float", "int64"); "?" if unknown. */
const char *lc_dtype_name(int dtype);

/** Bytes per element (0 for STRING and unknown types). */
size_t lc_dtype_size(int dtype);

#define LC_MAX_DIMS 16

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

/** A named n-dimensional array. Values are stored densely in C order
 *  with the element type `dtype`. The IR owns the tensors it holds. */
typedef struct lc_tensor lc_tensor;

const char *lc_tensor_name(const lc_tensor *t);
int lc_tensor_dtype(const lc_tensor *t);
int lc_tensor_ndim(const lc_tensor *t);
/** Borrowed pointer to `ndim` dimensions. */
const int64_t *lc_tensor_dims(const lc_tensor *t);
int64_t lc_tensor_numel(const lc_tensor *t);
/** Borrowed pointer to the values (NULL for STRING tensors). */
const void *lc_tensor_data(const lc_tensor *t);
size_t lc_tensor_nbytes(const lc_tensor *t);

/** Creates a tensor with a copy of `data` (zero-filled if data is NULL).
 *  LC_ERR_INVALID_ARGUMENT for a STRING dtype or a bad shape. */
lc_status lc_tensor_create(const char *name, int dtype, int ndim,
                           const int64_t *dims, const void *data,
                           lc_tensor **out);
void lc_tensor_free(lc_tensor *t);

/* ------------------------------------------------------------------ */
/* Models                                                              */
/* ------------------------------------------------------------------ */

typedef struct lc_model lc_model;

/** Loads a model from `path` (.onnx). Initializers stored as external
 *  data are read from beside the model; a location that escapes the
 *  model's folder is refused (LC_ERR_FORMAT). Returns LC_ERR_IO,
 *  LC_ERR_FORMAT, LC_ERR_VERIFY or LC_ERR_NO_MEMORY on failure. */
lc_status lc_model_load(const char *path, lc_model **out);

/** Loads an ONNX ModelProto from memory. `base_dir` is where external
 *  data files are looked for (NULL: external data is refused); `label`
 *  names the source in error messages. */
lc_status lc_model_load_onnx_buffer(const void *buf, size_t len,
                                    const char *base_dir, const char *label,
                                    lc_model **out);

/** Writes the model as ONNX to `path`, atomically (a temporary file in the
 *  same folder, renamed into place). Everything the model was loaded with
 *  is written back, with all initializers stored inline. */
lc_status lc_model_save_onnx(const lc_model *m, const char *path);

/** Serializes the model as an ONNX ModelProto into a malloc'ed buffer the
 *  caller frees with free(). */
lc_status lc_model_save_onnx_buffer(const lc_model *m, void **buf,
                                    size_t *len);

void lc_model_free(lc_model *m);

/** Writes `len` bytes to `path` atomically: a temporary file in the same
 *  folder, renamed into place, so no partial file is ever visible.
 *  LC_ERR_IO on failure (nothing is left behind). */
lc_status lc_write_file(const char *path, const void *buf, size_t len);

/** Number of tensors (graph inputs, then outputs) of the main graph. */
int lc_model_input_count(const lc_model *m);
int lc_model_output_count(const lc_model *m);

/* ------------------------------------------------------------------ */
/* Model summary (what `shrink info` prints)                           */
/* ------------------------------------------------------------------ */

/** One graph input or output. dims[i] < 0 marks a symbolic or unknown
 *  dimension whose name (if any) is dim_params[i]. ndim < 0: rank unknown. */
typedef struct lc_value_summary {
    const char *name;
    int dtype;
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    const char *dim_params[LC_MAX_DIMS];
} lc_value_summary;

/** A node that holds stored tensors (initializers or Constant values). Each
 *  stored tensor is attributed to the first node that consumes it, so the
 *  layers' params add up to the model's (less unused tensors). */
typedef struct lc_layer_summary {
    const char *name;    /* node name ("" if it has none) */
    int node;            /* index of the node in the main graph */
    const char *op;
    const char *weight;  /* name of its largest stored input tensor */
    int ndim;            /* shape of that tensor */
    int64_t dims[LC_MAX_DIMS];
    int dtype;           /* its dtype */
    int64_t params;      /* elements of all stored tensors it consumes */
    int64_t bytes;       /* their bytes as stored */
} lc_layer_summary;

typedef struct lc_op_count {
    const char *op;
    int count;
} lc_op_count;

typedef struct lc_opset {
    const char *domain; /* "" is the default ONNX domain */
    int64_t version;
} lc_opset;

typedef struct lc_model_info {
    int64_t ir_version;
    const char *producer;         /* "name version" */
    int n_opsets;
    lc_opset *opsets;
    int n_inputs, n_outputs;      /* graph inputs that are not initializers */
    lc_value_summary *inputs, *outputs;
    int nodes;                    /* nodes of the main graph */
    int64_t params;               /* elements of every stored tensor */
    int64_t bytes;                /* bytes of every stored tensor */
    int n_ops;
    lc_op_count *ops;             /* sorted by op name; all graphs */
    int n_layers;
    lc_layer_summary *layers;     /* in node order */
} lc_model_info;

/** Fills `info` (borrowing strings from the model, which must outlive it). */
lc_status lc_model_info_compute(const lc_model *m, lc_model_info *info);
/** Frees the arrays of an info filled by lc_model_info_compute. */
void lc_model_info_clear(lc_model_info *info);

/* ------------------------------------------------------------------ */
/* Executor                                                            */
/* ------------------------------------------------------------------ */

/** A borrowed view of an n-dimensional array: element type, shape and
 *  `data` (C order, dims[0]*...*dims[ndim-1] elements of `dtype`). The
 *  array never owns `data`. */
typedef struct lc_array {
    int dtype;                 /* lc_dtype */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    const void *data;
} lc_array;

/** The reference executor: a plan for one model and one set of input
 *  shapes (topological order, kernels, shapes, constant folding, buffers),
 *  run as many times as needed. */
typedef struct lc_executor lc_executor;

/** Builds a plan for `m` with the given input dtypes and shapes.
 *  `shapes[i]` describes the i-th graph input that is not an initializer
 *  (`data` is ignored); `n_inputs` must equal their count. `threads` (>= 1;
 *  smaller values mean 1) is the number of worker threads kernels and
 *  OpenBLAS may use during runs.
 *  The executor borrows `m`, whose weights are read in place: the model
 *  must outlive the executor and must not change while it exists.
 *  Returns LC_ERR_UNSUPPORTED for an operator, opset, domain or dtype
 *  without a kernel (the message names node, op, opset and dtype),
 *  LC_ERR_SHAPE / LC_ERR_DTYPE when the shapes do not fit the model,
 *  LC_ERR_VERIFY for a cyclic graph, LC_ERR_INVALID_ARGUMENT for a wrong
 *  input count, LC_ERR_NO_MEMORY. On failure *out is NULL.
 *  Thread-safety: `m` may be shared by several executors built and run in
 *  different threads, but note that OpenBLAS's thread count is process-wide
 *  (set at each run). */
lc_status lc_executor_create(const lc_model *m, const lc_array *shapes,
                             int n_inputs, int threads, lc_executor **out);

/** Like lc_executor_create, with the shapes taken from the graph's declared
 *  input types and dim 0 of every input set to `batch` (also when the model
 *  fixes it). Any other unknown or symbolic dim fails with LC_ERR_SHAPE,
 *  naming the input and the dim; use lc_executor_create then. */
lc_status lc_executor_create_batch(const lc_model *m, int batch, int threads,
                                   lc_executor **out);

/** Runs the plan on `inputs` (one per plan input, in order), which must
 *  have exactly the planned dtypes (else LC_ERR_DTYPE) and shapes (else
 *  LC_ERR_SHAPE). The input data is only read, and only during the call.
 *  Kernel failures are returned with a message naming the node. The same
 *  inputs and thread count give bit-identical outputs.
 *  Not thread-safe for one executor: run distinct executors in parallel. */
lc_status lc_executor_run(lc_executor *ex, const lc_array *inputs,
                          int n_inputs);

/** Number of plan inputs (graph inputs that are not initializers). */
int lc_executor_input_count(const lc_executor *ex);

/** Dtype and shape of plan input `i` into *shape_out (data NULL) and its
 *  name into *name (borrowed from the model); either may be NULL.
 *  LC_ERR_INVALID_ARGUMENT if `i` is out of range. */
lc_status lc_executor_input(const lc_executor *ex, int i, lc_array *shape_out,
                            const char **name);

/** Number of graph outputs. */
int lc_executor_output_count(const lc_executor *ex);

/** Graph output `i` of the last run: dtype, shape and data into *out, its
 *  name into *name (either may be NULL). The data is borrowed: valid until
 *  the next run or lc_executor_free (before the first run its contents are
 *  unspecified, unless the output is a constant of the model).
 *  LC_ERR_INVALID_ARGUMENT if `i` is out of range. */
lc_status lc_executor_output(const lc_executor *ex, int i, lc_array *out,
                             const char **name);

/** Frees the plan and its buffers (not the model). Accepts NULL. */
void lc_executor_free(lc_executor *ex);

/* ------------------------------------------------------------------ */
/* Datasets (calibration and validation data)                          */
/* ------------------------------------------------------------------ */

/* A dataset is an array of samples along its first dimension, held as
 * float32 in C order. Files are read by content, not by name:
 *  - .npy, format 1.0, 2.0 or 3.0, C order, little-endian: float32,
 *    float64, uint8, int8, int16, uint16, int32, uint32, int64, uint64,
 *    bool (Fortran order, object, structured and big-endian arrays are
 *    refused with LC_ERR_UNSUPPORTED);
 *  - IDX (`*-idx3-ubyte`, type codes 08 09 0B 0C 0D 0E), gzip'ed or not
 *    (a gzip'ed .npy is read too);
 *  - raw little-endian float32 given as "FILE.bin:d0xd1x..."
 *    (e.g. "x.bin:100x1x28x28"); the file size must be the product * 4.
 * uint8 data is scaled by 1/255; then, when has_norm is set, every value
 * (whatever the file's dtype) becomes (x - mean) / std, computed in
 * float32. Other dtypes are converted to float32 (rounding to nearest).
 * Every header is treated as untrusted: sizes are checked against the file
 * (or, for gzip, against the data that arrives) before use. */
typedef struct lc_dataset lc_dataset;

typedef struct lc_data_options {
    int has_norm;      /* nonzero: apply (x - mean) / std */
    float mean, std;   /* std must be finite and > 0 when has_norm */
    int64_t limit;     /* keep the first `limit` samples; 0 = all */
} lc_data_options;

/** Loads a dataset from `spec` (a path, or "FILE.bin:d0xd1x..." for raw
 *  float32). `opt` may be NULL (no normalisation, all samples). A file with
 *  no samples, an empty sample (a zero dimension) or a 0-d array is refused.
 *  Returns LC_ERR_INVALID_ARGUMENT (bad spec or options), LC_ERR_IO,
 *  LC_ERR_FORMAT (corrupt, truncated or extra data), LC_ERR_UNSUPPORTED,
 *  LC_ERR_NO_MEMORY; the message names the file. *out is owned by the
 *  caller (lc_dataset_free) and NULL on failure. Thread-safe (no shared
 *  state); a loaded dataset is read-only and may be read from any number
 *  of threads at once. */
lc_status lc_dataset_load(const char *spec, const lc_data_options *opt,
                          lc_dataset **out);

/** Creates a dataset from memory: `ndim` >= 1 dims, dims[0] samples, with
 *  a copy of `data` (float32, C order). `label` names it in messages
 *  (NULL: "<memory>"). LC_ERR_INVALID_ARGUMENT for a bad shape. */
lc_status lc_dataset_create(const char *label, int ndim, const int64_t *dims,
                            const float *data, lc_dataset **out);

/** Frees a dataset. Accepts NULL. */
void lc_dataset_free(lc_dataset *d);

/** Number of samples (after the limit). */
int64_t lc_dataset_count(const lc_dataset *d);

/** Rank and dims of one sample (the file's shape without dim 0); the dims
 *  pointer is borrowed from the dataset. A dataset of scalars has rank 0. */
int lc_dataset_sample_ndim(const lc_dataset *d);
const int64_t *lc_dataset_sample_dims(const lc_dataset *d);

/** Elements per sample (product of the sample dims). */
int64_t lc_dataset_sample_numel(const lc_dataset *d);

/** Borrowed pointer to sample `i` (0 <= i < count, else NULL). Samples are
 *  contiguous: samples i+1 .. count-1 follow, so a batch of B samples
 *  starting at i is B * sample_numel consecutive floats. */
const float *lc_dataset_sample(const lc_dataset *d, int64_t i);

/** The spec the dataset was loaded from (borrowed). */
const char *lc_dataset_path(const lc_dataset *d);

/** The element type stored in the file (an lc_dtype). */
int lc_dataset_file_dtype(const lc_dataset *d);

/** Checks that samples fit a model input whose shape without the batch
 *  dimension is `dims` (`ndim` entries; a negative entry is an unknown
 *  dimension that matches any one dimension or a dropped 1; ndim < 0:
 *  rank unknown, anything fits). Shapes fit when they agree after dropping
 *  dimensions of size 1,
 *  e.g. data 100x28x28 fits an input Nx1x28x28; the element order is the
 *  same, so the samples can be fed as they are. LC_ERR_SHAPE with a
 *  message naming the file, the data shape and the input's shape
 *  otherwise. `input_name` is used in the message only (may be NULL). */
lc_status lc_dataset_check_shape(const lc_dataset *d, int ndim,
                                 const int64_t *dims,
                                 const char *input_name);

/** LC_ERR_SHAPE ("labels.npy: 9999 labels for 10000 samples of x.npy")
 *  unless n_labels equals the dataset's count. `labels_path` names the
 *  labels in the message. */
lc_status lc_dataset_check_labels(const lc_dataset *d, int64_t n_labels,
                                  const char *labels_path);

/** Loads class labels from a .npy (integer or bool dtype, shape N or Nx1)
 *  or an IDX file (idx1, integer type codes), gzip'ed or not, keeping the
 *  first `limit` (0 = all). Negative labels are refused (LC_ERR_FORMAT), as
 *  are float dtypes (LC_ERR_DTYPE). *labels is malloc'ed: the caller frees
 *  it with free(); *labels = NULL and *count = 0 on failure. Thread-safe. */
lc_status lc_labels_load(const char *path, int64_t limit, int64_t **labels,
                         int64_t *count);

/** Writes an array as a .npy file (format 1.0, C order, little-endian).
 *  `dtype` is LC_DTYPE_FLOAT or LC_DTYPE_INT64; `ndim` 0..LC_MAX_DIMS;
 *  `data` holds the product of dims elements (may be NULL when that is 0).
 *  The file is replaced atomically (a temporary file renamed into place).
 *  LC_ERR_UNSUPPORTED for other dtypes, LC_ERR_INVALID_ARGUMENT for a bad
 *  shape, LC_ERR_IO. Thread-safe for distinct paths. */
lc_status lc_npy_write(const char *path, int dtype, int ndim,
                       const int64_t *dims, const void *data);


/* ------------------------------------------------------------------ */
/* Compression context and passes                                      */
/* ------------------------------------------------------------------ */

/** What passes need besides the model: calibration data, the seed of every
 *  random choice, the thread count, and callbacks for log lines and
 *  progress (the library never prints; it calls these). */
typedef struct lc_context lc_context;

/** Creates a context: no calibration data, seed 0, 1 thread, batch 64. */
lc_status lc_context_create(lc_context **out);
/** Frees a context (not the datasets it borrows). Accepts NULL. */
void lc_context_free(lc_context *ctx);
/** Borrows `calib` (must outlive the context's use) as calibration data;
 *  `limit` > 0 caps the samples used. NULL removes it. */
void lc_context_set_calib(lc_context *ctx, const lc_dataset *calib, int64_t limit);
/** Borrows the model before compression, the reference of bias-correct
 *  (lc_pipeline_run sets it to its input for the run). NULL removes it. */
void lc_context_set_reference(lc_context *ctx, const lc_model *reference);
void lc_context_set_seed(lc_context *ctx, uint64_t seed);
void lc_context_set_threads(lc_context *ctx, int threads);
/** Calibration batch size (default 64). */
void lc_context_set_batch(lc_context *ctx, int batch);
/** `fn(user, message)` receives one log line at a time (no newline). */
void lc_context_set_log(lc_context *ctx, void (*fn)(void *user, const char *message), void *user);
/** `fn(user, what, done, total)` is called as work advances. */
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

/** Number of passes; lc_pass_describe(i) for 0 <= i < count, sorted by
 *  name. LC_ERR_INVALID_ARGUMENT for a bad index. */
int lc_pass_count(void);
lc_status lc_pass_describe(int i, lc_pass_info *out);
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

/** A deep copy of a model (weights, encodings, graph). */
lc_status lc_model_clone(const lc_model *m, lc_model **out);


/* ------------------------------------------------------------------ */
/* Pipeline: passes in order, validated against an accuracy budget     */
/* ------------------------------------------------------------------ */

/** A list of passes with parameters, run in order on a copy of a model.
 *  After each pass the model is validated on the validation data: top-1
 *  (%) with labels, else top-1 agreement (%) with the input model. When a
 *  pass makes the accuracy drop more than the budget, its main knob
 *  (sparsity, bits, ratio) is bisected between the requested value and
 *  the safe end; a pass no setting of which fits is skipped, and the
 *  budget is reported as not met. */
typedef struct lc_pipeline lc_pipeline;

/** Bytes the model will take as written (e.g. .onnx or .lcm). */
typedef lc_status (*lc_size_fn)(void *user, const lc_model *m, int64_t *bytes);

lc_status lc_pipeline_create(lc_pipeline **out);
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

/** Accuracy budget in percentage points (< 0: none, the default). */
void lc_pipeline_set_max_drop(lc_pipeline *p, double points);
double lc_pipeline_max_drop(const lc_pipeline *p);

/** Borrows validation data (and optional labels, at least as many as the
 *  samples used); `limit` > 0 uses only the first samples. */
lc_status lc_pipeline_set_validation(lc_pipeline *p, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                                     int64_t limit);

/** How to measure the output size (default: ONNX serialization). */
void lc_pipeline_set_size_fn(lc_pipeline *p, lc_size_fn fn, void *user);

/** Runs the passes on a copy of `in`; *out is the compressed model (owned
 *  by the caller). When the budget cannot be met, *out is still the best
 *  model found within it (the input if nothing fits) and
 *  lc_pipeline_budget_met() is false. Errors of a pass are returned with
 *  the pass named. */
lc_status lc_pipeline_run(lc_pipeline *p, const lc_model *in, const lc_context *ctx, lc_model **out);

/** After a run: false when some pass could not fit the budget. */
int lc_pipeline_budget_met(const lc_pipeline *p);

/** Output formats. */
enum { LC_FORMAT_ONNX = 0, LC_FORMAT_LCM = 1 };

/** The format the result will be written in (default ONNX): sizes during
 *  the run are measured in it. */
void lc_pipeline_set_format(lc_pipeline *p, int format);

/** Writes the run's result `m` to `path` atomically in the pipeline's
 *  format (.lcm files record the recipe and the run's figures in their
 *  META section) and completes the report: output path and bytes, ratio,
 *  and for .lcm each layer's bytes in the file plus the `overhead`
 *  {header, meta, graph, other_tensors, total}, which add up to the file
 *  size exactly. */
lc_status lc_pipeline_write(lc_pipeline *p, const lc_model *m, const char *path);

/** The report (JSON text: input, output, ratio, accuracy, budget_met,
 *  passes, layers, overhead, tried), valid until the next run or free. "{}"
 *  before lc_pipeline_write. */
const char *lc_pipeline_report(const lc_pipeline *p);

/* ------------------------------------------------------------------ */
/* Compact format (.lcm; spec: formats/LCM.md)                         */
/* ------------------------------------------------------------------ */

/** What the META section of an .lcm file records; every field may be NULL. */
typedef struct lc_lcm_meta {
    const char *producer;     /* e.g. "shrink 0.1.0"; NULL: "libcompress <version>" */
    const char *recipe_json;  /* the recipe (a JSON value) */
    const char *figures_json; /* accuracy and size figures of the run (a JSON object) */
} lc_lcm_meta;

/** Writes `m` as .lcm to `path` atomically: the graph once (deflated), each
 *  stored tensor by its encoding (bit-packed codes, codebooks, sparse
 *  positions as gaps or a bitmap, Huffman-coded streams where the tensor is
 *  entropy_coded and it helps). `meta` may be NULL. LC_ERR_INVALID_ARGUMENT
 *  (meta JSON that does not parse), LC_ERR_VERIFY (an encoding that does
 *  not decode to its float view), LC_ERR_IO, LC_ERR_NO_MEMORY. */
lc_status lc_model_save_lcm(const lc_model *m, const char *path, const lc_lcm_meta *meta);

/** As lc_model_save_lcm, into a malloc'ed buffer (free() it). */
lc_status lc_model_save_lcm_buffer(const lc_model *m, const lc_lcm_meta *meta, void **buf, size_t *len);

/** Nonzero when buf starts with the .lcm magic. */
int lc_lcm_is(const void *buf, size_t len);

/** Reads an .lcm file from memory (untrusted: every size is checked).
 *  `label` names it in messages. LC_ERR_FORMAT with a message naming the
 *  section and the byte offset; LC_ERR_UNSUPPORTED for another major
 *  version; LC_ERR_NO_MEMORY. (lc_model_load reads .lcm files too.) */
lc_status lc_model_load_lcm_buffer(const void *buf, size_t len, const char *label, lc_model **out);

/** The META section's JSON text of an .lcm file in memory (*json malloc'ed,
 *  "{}" when the file has none). Errors as lc_model_load_lcm_buffer. */
lc_status lc_lcm_meta_read(const void *buf, size_t len, char **json);

/** One stream of a stored tensor. */
typedef struct lc_lcm_stream_info {
    int role;             /* 0 values/codes, 1 sparsity (bitmap or gaps) */
    int coding;           /* 0 raw bit-packed, 1 Huffman */
    int bits;             /* symbol width */
    int64_t symbols;
    int64_t bytes;        /* the stream's bytes (code table included) */
    int64_t table_bytes;  /* Huffman code table (0 when raw) */
    double entropy_bits;  /* empirical entropy bound of its symbols */
} lc_lcm_stream_info;

/** The bytes one stored tensor takes in the file: its whole TENSOR section
 *  (descriptor, parameters, alignment padding, streams). */
typedef struct lc_lcm_tensor_info {
    char *name;           /* owned by the accounting */
    int store;            /* 0 RAW, 1 F32, 2 F16, 3 UNIFORM, 4 CODEBOOK, 5 BINARY */
    int sparsity;         /* 0 none, 1 bitmap, 2 gaps */
    int64_t numel, kept;
    int64_t bytes;
    int n_streams;
    lc_lcm_stream_info streams[2];
} lc_lcm_tensor_info;

/** Exact byte accounting of an .lcm file: header_bytes (header + section
 *  table) + meta_bytes + graph_bytes + the tensors' bytes = file_bytes. */
typedef struct lc_lcm_accounting {
    int64_t file_bytes, header_bytes, meta_bytes, graph_bytes;
    int n_tensors;
    lc_lcm_tensor_info *tensors;   /* in ordinal order */
} lc_lcm_accounting;

/** Fills `a` from an .lcm file in memory (decoding every stream, so the
 *  file is fully checked). Free with lc_lcm_accounting_clear. */
lc_status lc_lcm_accounting_compute(const void *buf, size_t len, lc_lcm_accounting *a);
void lc_lcm_accounting_clear(lc_lcm_accounting *a);


/** Per-layer sensitivity: every weight layer selected by `params` (the
 *  pass's ops/include/exclude) is compressed alone by pass `pass` at each
 *  of the `n_grid` values of the pass's knob, and validated on `val`
 *  (top-1 % with `labels`, else agreement % with `m`). *json (malloc'ed,
 *  free() it) receives {pass, knob, metric, float, grid, layers: [{name,
 *  op, weight, params, accuracy: [one per grid value]}]}.
 *  LC_ERR_PARAMETER for an unknown pass, a pass without a knob or a grid
 *  value out of the knob's range. */
lc_status lc_sensitivity_run(const lc_model *m, const char *pass, const char *params, const double *grid, int n_grid,
                             const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                             const lc_context *ctx, char **json);

#ifdef __cplusplus
}
#endif
#endif
