/*
 * libcompress.h - the public API of shrink's compression library.
 *
 * Overview
 * --------
 * libcompress compresses trained neural networks for small devices. It loads
 * an ONNX model (or its own compact .lcm file) into one in-memory model
 * (lc_model), lets compression passes rewrite it in place (pruning,
 * quantization, codebooks, binarization, entropy coding), runs it with a
 * reference executor to measure accuracy, and writes it back as ONNX or as
 * the compact .lcm format.
 *
 *   lc_model      a model: graph plus weights. Each float32 weight has a
 *                 float view (what the executor computes with) and may carry
 *                 an encoding (mask, codes, codebooks) that decodes to that
 *                 float view bit for bit. See "Weights" below.
 *   lc_pass_run   runs one pass ("prune-magnitude", "quantize-kmeans", ...;
 *                 lc_pass_count/lc_pass_describe list them and their
 *                 parameters) on a model.
 *   lc_pipeline   runs a recipe of passes on a copy of a model, validating
 *                 after each against an accuracy budget, and reports.
 *   lc_executor   runs a model on input arrays (lc_dataset loads .npy, IDX
 *                 and raw data).
 *   lc_weight_*   read and write one weight's float view, mask and codes,
 *                 e.g. from a training loop (prune, fine-tune, write back).
 *
 * Conventions
 * -----------
 *  - every fallible function returns an lc_status: LC_OK (0) or a negative
 *    error kind; results come back through out-parameters, which are set to
 *    NULL (or 0) on failure;
 *  - on failure a one-line message with context (file, node, tensor) is
 *    available from lc_last_error() in the calling thread until the next
 *    failing call in that thread;
 *  - the library never prints, exits or aborts on bad input;
 *  - ownership: every object returned through `**out` is owned by the
 *    caller and has exactly one destructor (`_free`, which accepts NULL);
 *    `const` pointers and strings returned by getters are borrowed and live
 *    as long as their owner; text returned through `char **` is malloc'ed
 *    and released with free(); caller buffers are only read or written
 *    during the call;
 *  - thread-safety, unless a function says otherwise: functions without an
 *    object argument are thread-safe; distinct objects may be used from
 *    distinct threads at once; one object may be read (const arguments)
 *    from several threads at once but must not be modified while another
 *    thread uses it;
 *  - versions: LC_VERSION_* give the header's version, lc_version() the
 *    linked library's. Status values, dtype numbers and encoding kinds are
 *    stable; new ones are only appended.
 *
 * Example
 * -------
 * Prune, share weights, inspect, write .lcm (tests/capi_example.c; the test
 * suite builds and runs this exact code):
 *
 *     #include <stdio.h>
 *     #include <libcompress.h>
 *
 *     // Prunes a model's layer weights to 80% sparsity, shares the survivors'
 *     // values through 16-entry codebooks, prints what each weight became and
 *     // writes the compact .lcm file.
 *     int main(int argc, char **argv)
 *     {
 *         if (argc != 3) {
 *             fprintf(stderr, "usage: %s IN.onnx OUT.lcm\n", argv[0]);
 *             return 2;
 *         }
 *         lc_model *m = NULL;
 *         int n = 0;
 *         lc_status s = lc_model_load(argv[1], &m);
 *         if (s == LC_OK) s = lc_pass_run(m, "prune-magnitude", "sparsity=0.8", NULL);
 *         if (s == LC_OK) s = lc_pass_run(m, "quantize-kmeans", "bits=4", NULL);
 *         if (s == LC_OK) s = lc_model_weight_count(m, &n);
 *         for (int i = 0; i < n && s == LC_OK; i++) {
 *             lc_weight_info w;
 *             s = lc_model_weight(m, i, &w);
 *             if (s == LC_OK)
 *                 printf("%s: %lld weights, sparsity %.4f, %d-bit codes\n", w.name,
 *                        (long long)w.numel, w.sparsity, w.bits);
 *         }
 *         if (s == LC_OK) s = lc_model_save_lcm(m, argv[2], NULL);
 *         if (s != LC_OK)
 *             fprintf(stderr, "error: %s (%s)\n", lc_last_error(), lc_status_name(s));
 *         lc_model_free(m);
 *         return s == LC_OK ? 0 : 1;
 *     }
 *
 * Build against the installed library with
 *     cc app.c $(pkg-config --cflags --libs libcompress)
 * (statically: link libcompress.a and `pkg-config --static --libs
 * libcompress` minus -lcompress), or in CMake with
 *     find_package(libcompress 0.1 REQUIRED)
 *     target_link_libraries(app PRIVATE libcompress::libcompress)
 * (libcompress::libcompress_static for the static library).
 */
#ifndef LIBCOMPRESS_H
#define LIBCOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shared library is built with hidden symbol visibility and exports
 * exactly the functions this header declares: everything between this push
 * and the pop at the end of the file. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#define LC_VERSION_MAJOR 0
#define LC_VERSION_MINOR 1
#define LC_VERSION_PATCH 0
#define LC_VERSION_STRING "0.1.0"
/** One number for comparisons: MAJOR * 10000 + MINOR * 100 + PATCH
 *  (e.g. `#if LC_VERSION_NUMBER >= 100` for 0.1.0 or later). */
#define LC_VERSION_NUMBER (LC_VERSION_MAJOR * 10000 + LC_VERSION_MINOR * 100 + LC_VERSION_PATCH)

/** The linked library's version as "MAJOR.MINOR.PATCH" (may differ from
 *  the header's LC_VERSION_STRING when linked against another build).
 *  Static string, never NULL. Thread-safe. */
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

/** A stable name for a status ("LC_ERR_FORMAT"; "LC_ERR_UNKNOWN" for a
 *  value that is no lc_status). Static string, never NULL. Thread-safe. */
const char *lc_status_name(lc_status s);

/** The message of the last failure in this thread ("" if none). The
 *  message is thread-local: each thread sees its own. The pointer is
 *  borrowed and valid until the next libcompress call in this thread. */
const char *lc_last_error(void);

/* ------------------------------------------------------------------ */
/* Element types (numbered exactly like ONNX's TensorProto.DataType)   */
/* ------------------------------------------------------------------ */

/** Element types (stable values). */
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

/** Lower-case ONNX name of a dtype ("float", "int64"); "?" if unknown.
 *  Static string. Thread-safe. */
const char *lc_dtype_name(int dtype);

/** Bytes per element of a dtype (0 for STRING and unknown types).
 *  Thread-safe. */
size_t lc_dtype_size(int dtype);

/** The largest rank of a tensor or array. */
#define LC_MAX_DIMS 16

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

/** A named n-dimensional array. Values are stored densely in C order
 *  with the element type `dtype`. The IR owns the tensors it holds; a
 *  tensor made by lc_tensor_create is owned by the caller.
 *  The getters below never fail and never allocate; `t` must not be NULL.
 *  They may be called from several threads at once. */
typedef struct lc_tensor lc_tensor;

/** The tensor's name (borrowed; "" if it has none). */
const char *lc_tensor_name(const lc_tensor *t);
/** Its element type (an lc_dtype). */
int lc_tensor_dtype(const lc_tensor *t);
/** Its rank (0 for a scalar, at most LC_MAX_DIMS). */
int lc_tensor_ndim(const lc_tensor *t);
/** Borrowed pointer to `ndim` dimensions. */
const int64_t *lc_tensor_dims(const lc_tensor *t);
/** Its element count (the product of the dims; 1 for a scalar). */
int64_t lc_tensor_numel(const lc_tensor *t);
/** Borrowed pointer to the values (NULL for STRING tensors and for tensors
 *  without elements), valid as long as the tensor. */
const void *lc_tensor_data(const lc_tensor *t);
/** Bytes of the values (numel * lc_dtype_size(dtype)). */
size_t lc_tensor_nbytes(const lc_tensor *t);

/** Creates a tensor named `name` (copied; NULL: "") of element type
 *  `dtype` and shape `dims` (`ndim` entries, 0..LC_MAX_DIMS) with a copy of
 *  `data` (numel elements; zero-filled if data is NULL). *out is owned by
 *  the caller (lc_tensor_free) and NULL on failure.
 *  LC_ERR_INVALID_ARGUMENT for a STRING or unknown dtype or a bad rank,
 *  LC_ERR_SHAPE for a negative dim or a size that overflows,
 *  LC_ERR_NO_MEMORY. Thread-safe. */
lc_status lc_tensor_create(const char *name, int dtype, int ndim,
                           const int64_t *dims, const void *data,
                           lc_tensor **out);
/** Frees a tensor made by lc_tensor_create (never one borrowed from a
 *  model). Accepts NULL. */
void lc_tensor_free(lc_tensor *t);

/* ------------------------------------------------------------------ */
/* Models                                                              */
/* ------------------------------------------------------------------ */

/** A model: graph, weights and their encodings. Created by the loaders and
 *  lc_model_clone, owned by the caller, freed with lc_model_free. Reading
 *  functions take `const lc_model *` and may run in parallel on one model;
 *  functions that modify it (passes, lc_weight_set_*) need it to
 *  themselves. Input files are untrusted: every loader checks sizes and
 *  structure and fails with a status instead of crashing. */
typedef struct lc_model lc_model;

/** Loads a model from `path`, by content: an .lcm file (by its magic) or
 *  an ONNX ModelProto. Initializers stored as external data are read from
 *  beside the model; a location that escapes the model's folder is refused
 *  (LC_ERR_FORMAT). The structure is verified (see lc_model_validate).
 *  *out is owned by the caller (lc_model_free) and NULL on failure.
 *  Returns LC_ERR_INVALID_ARGUMENT (NULL argument), LC_ERR_IO,
 *  LC_ERR_FORMAT, LC_ERR_UNSUPPORTED (a newer .lcm major version),
 *  LC_ERR_VERIFY or LC_ERR_NO_MEMORY; the message names the file.
 *  Thread-safe. */
lc_status lc_model_load(const char *path, lc_model **out);

/** Loads an ONNX ModelProto from `len` bytes at `buf` (only read during
 *  the call). `base_dir` is where external data files are looked for
 *  (NULL: external data is refused); `label` names the source in error
 *  messages. Ownership and errors as lc_model_load. Thread-safe. */
lc_status lc_model_load_onnx_buffer(const void *buf, size_t len,
                                    const char *base_dir, const char *label,
                                    lc_model **out);

/** Writes the model as ONNX to `path`, atomically (a temporary file in the
 *  same folder, renamed into place). Everything the model was loaded with
 *  is written back, with all initializers stored inline; weights are
 *  written as their float views (encodings need .lcm, see
 *  lc_model_save_lcm). LC_ERR_INVALID_ARGUMENT, LC_ERR_IO,
 *  LC_ERR_NO_MEMORY. Thread-safe for concurrent readers of `m`. */
lc_status lc_model_save_onnx(const lc_model *m, const char *path);

/** Serializes the model as an ONNX ModelProto into a malloc'ed buffer
 *  (*buf, *len bytes) the caller frees with free(); *buf is NULL on
 *  failure. LC_ERR_INVALID_ARGUMENT, LC_ERR_NO_MEMORY. Thread-safe for
 *  concurrent readers of `m`. */
lc_status lc_model_save_onnx_buffer(const lc_model *m, void **buf,
                                    size_t *len);

/** Frees a model and everything it owns (tensors, encodings). Executors
 *  built on it must be freed first. Accepts NULL. */
void lc_model_free(lc_model *m);

/** Writes `len` bytes to `path` atomically: a temporary file in the same
 *  folder, renamed into place, so no partial file is ever visible.
 *  LC_ERR_IO on failure (nothing is left behind). Thread-safe for
 *  distinct paths. */
lc_status lc_write_file(const char *path, const void *buf, size_t len);

/** Removes the temporary file of an atomic write (lc_write_file, the
 *  model and .npy writers) in progress, if any, so that a program killed
 *  in the middle leaves nothing behind. Async-signal-safe: call it from a
 *  SIGINT/SIGTERM handler before the program ends (the write must not be
 *  resumed afterwards). */
void lc_write_file_abort(void);

/** Checks that every floating-point initializer of the main graph (float,
 *  double, float16, bfloat16) is finite. LC_ERR_INVALID_ARGUMENT with a
 *  message naming the model file, the tensor, the first node reading it
 *  and the element otherwise. Compressing (lc_pipeline_run,
 *  lc_sensitivity_run) needs finite weights; run this first. Thread-safe
 *  for concurrent readers of `m`. */
lc_status lc_model_check_finite(const lc_model *m);

/** Number of inputs of the main graph that are not initializers (the
 *  values a caller feeds). Never fails; `m` must not be NULL. */
int lc_model_input_count(const lc_model *m);
/** Number of outputs of the main graph. Never fails; `m` must not be NULL. */
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

/** How many nodes (in all graphs) have op type `op`. */
typedef struct lc_op_count {
    const char *op;
    int count;
} lc_op_count;

/** One imported operator set. */
typedef struct lc_opset {
    const char *domain; /* "" is the default ONNX domain */
    int64_t version;
} lc_opset;

/** What `shrink info` shows about a model. */
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

/** Fills `info` with a summary of `m`. Its arrays are malloc'ed and
 *  released by lc_model_info_clear; its strings are borrowed from the model
 *  (which must outlive the info), except `producer`, which lives in a
 *  thread-local buffer until the next lc_model_info_compute in the thread.
 *  LC_ERR_NO_MEMORY (info is then zeroed). Thread-safe for concurrent
 *  readers of `m`. */
lc_status lc_model_info_compute(const lc_model *m, lc_model_info *info);
/** Frees the arrays of an info filled by lc_model_info_compute and zeroes
 *  it; calling it twice is harmless. */
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

/** Number of plan inputs (graph inputs that are not initializers). Never
 *  fails. The const getters below may be called from several threads at
 *  once, but not during lc_executor_run on the same executor. */
int lc_executor_input_count(const lc_executor *ex);

/** Dtype and shape of plan input `i` into *shape_out (data NULL) and its
 *  name into *name (borrowed from the model); either may be NULL.
 *  LC_ERR_INVALID_ARGUMENT if `i` is out of range. */
lc_status lc_executor_input(const lc_executor *ex, int i, lc_array *shape_out,
                            const char **name);

/** Number of graph outputs. Never fails. */
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
 *  (NULL: "<memory>"). *out is owned by the caller (lc_dataset_free) and
 *  NULL on failure. LC_ERR_INVALID_ARGUMENT for a bad shape,
 *  LC_ERR_NO_MEMORY. Thread-safe. */
lc_status lc_dataset_create(const char *label, int ndim, const int64_t *dims,
                            const float *data, lc_dataset **out);

/** Frees a dataset. Contexts and pipelines that borrow it must not be used
 *  with it afterwards. Accepts NULL. */
void lc_dataset_free(lc_dataset *d);

/* The getters below never fail; `d` must not be NULL; any number of
 * threads may call them at once. */

/** Number of samples (after the limit). */
int64_t lc_dataset_count(const lc_dataset *d);

/** Rank of one sample (the file's rank minus 1; a dataset of scalars has
 *  rank 0). */
int lc_dataset_sample_ndim(const lc_dataset *d);
/** Dims of one sample (the file's shape without dim 0): a pointer to
 *  lc_dataset_sample_ndim(d) entries, borrowed from the dataset. */
const int64_t *lc_dataset_sample_dims(const lc_dataset *d);

/** Elements per sample (product of the sample dims). */
int64_t lc_dataset_sample_numel(const lc_dataset *d);

/** Borrowed pointer to sample `i` (0 <= i < count, else NULL). Samples are
 *  contiguous: samples i+1 .. count-1 follow, so a batch of B samples
 *  starting at i is B * sample_numel consecutive floats. */
const float *lc_dataset_sample(const lc_dataset *d, int64_t i);

/** The spec the dataset was loaded from, or the label it was created with
 *  (borrowed from the dataset). */
const char *lc_dataset_path(const lc_dataset *d);

/** The element type stored in the file (an lc_dtype; LC_DTYPE_FLOAT for a
 *  dataset made by lc_dataset_create). */
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

/** A deep copy of a model (weights, encodings, graph) into *out, owned by
 *  the caller (lc_model_free; NULL on failure). LC_ERR_INVALID_ARGUMENT,
 *  LC_ERR_NO_MEMORY. Thread-safe for concurrent readers of `m`. */
lc_status lc_model_clone(const lc_model *m, lc_model **out);

/* ------------------------------------------------------------------ */
/* Weights: read and write a weight's float view, mask and codes        */
/* ------------------------------------------------------------------ */

/* Every float32 weight has a *float view* (the values the executor computes
 * with) and may carry an *encoding*: how the same values are stored in few
 * bits. Decoding the encoding reproduces the float view bit for bit; every
 * function below keeps that true, so an edited model can be validated,
 * evaluated and written (.onnx or .lcm) at once.
 *
 *  - mask: mask[i] = 0 marks element i as pruned; its value is then +0.0.
 *  - values of the kept elements, per LC_ENCODING_* kind: DENSE float32;
 *    or a code q per element and a decode table per channel c (the
 *    channels run along `axis`; one table when axis = -1):
 *      UNIFORM   w = (q - zero_point[c]) * scale[c], q in [0, 2^bits)
 *      CODEBOOK  w = codebook[c][q],                 q in [0, n_codes)
 *      BINARY    w = q ? alpha[c] : -alpha[c],       q in {0, 1}
 *
 * Weights are named by the graph value that holds them (the initializer's
 * name). The *layer weights* are the float32 weight inputs of Conv,
 * ConvTranspose, Gemm and MatMul nodes in the main graph: what passes
 * compress by default. The read and write functions accept any float32
 * stored tensor (a bias, too).
 *
 * Thread-safety: reads of one model may run in parallel; a write must not
 * overlap any other use of the same model. The model must not change while
 * an executor built on it exists: free the executor, write, build again. */

/** Weight encodings (stable values). */
typedef enum lc_encoding_kind {
    LC_ENCODING_DENSE = 0,    /* float32 values (with or without a mask) */
    LC_ENCODING_UNIFORM = 1,  /* uniform quantization: scale, zero point */
    LC_ENCODING_CODEBOOK = 2, /* shared values: a codebook per channel */
    LC_ENCODING_BINARY = 3    /* sign bits and a scale alpha per channel */
} lc_encoding_kind;

/** What lc_model_weight and lc_weight_find report about one weight. The
 *  strings are borrowed from the model: valid until it is freed or a pass
 *  rewrites its graph. */
typedef struct lc_weight_info {
    const char *name;     /* graph value holding the weight */
    const char *node;     /* consuming layer's node name ("" if unnamed or no layer) */
    const char *op;       /* its op type ("" if the tensor is no layer weight) */
    int node_index;       /* index of that node in the main graph, or -1 */
    int input;            /* which input of the node the weight is, or -1 */
    int out_axis;         /* output-channel axis of the weight, or -1 */
    int in_axis;          /* input (reduction) axis, or -1 */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    int64_t numel;        /* elements */
    int encoding;         /* lc_encoding_kind */
    int bits;             /* bits per code; 32 when DENSE */
    int axis;             /* channel axis of the decode tables; -1: one table */
    int64_t channels;     /* tables: dims[axis], or 1 */
    int n_codes;          /* entries per table (UNIFORM 2^bits, CODEBOOK its
                             size, BINARY 2); 0 when DENSE */
    int has_mask;         /* nonzero when the weight carries a mask */
    int64_t kept;         /* elements not pruned (numel without a mask) */
    double sparsity;      /* 1 - kept / numel */
    int entropy_coded;    /* nonzero: codes are Huffman-coded in .lcm */
} lc_weight_info;

/** Number of layer weights of `m` into *count (0 on failure).
 *  LC_ERR_INVALID_ARGUMENT for NULL arguments, LC_ERR_NO_MEMORY. */
lc_status lc_model_weight_count(const lc_model *m, int *count);

/** Describes layer weight `i` (0 <= i < count, in node order; a tensor read
 *  by several layers is listed once, for the first). LC_ERR_INVALID_ARGUMENT
 *  for a bad index or NULL arguments (info is zeroed on failure). */
lc_status lc_model_weight(const lc_model *m, int i, lc_weight_info *info);

/** Describes the float32 stored tensor `name` (a layer weight or not: then
 *  node and op are "" and node_index -1). LC_ERR_NOT_FOUND when no stored
 *  tensor has that name, LC_ERR_DTYPE when it is not float32. */
lc_status lc_weight_find(const lc_model *m, const char *name, lc_weight_info *info);

/** Copies the float view of weight `name` (numel values, C order) into
 *  `out`, which holds `n` floats. LC_ERR_SHAPE unless n == numel;
 *  LC_ERR_NOT_FOUND, LC_ERR_DTYPE as lc_weight_find. */
lc_status lc_weight_float_view(const lc_model *m, const char *name, float *out, int64_t n);

/** Copies the mask of weight `name` into `out` (n == numel bytes: 1 kept,
 *  0 pruned; all 1 when the weight has no mask). Errors as
 *  lc_weight_float_view. */
lc_status lc_weight_mask(const lc_model *m, const char *name, uint8_t *out, int64_t n);

/** The decode tables and codes of a coded weight (UNIFORM, CODEBOOK or
 *  BINARY): table[c * n_codes + q] is the value code q decodes to in
 *  channel c (table_len must be channels * n_codes, see lc_weight_info),
 *  codes[i] the code of element i (n == numel; 0 for pruned elements).
 *  Either buffer may be NULL to skip it. LC_ERR_INVALID_ARGUMENT when the
 *  weight is DENSE, LC_ERR_SHAPE for a wrong length; else as
 *  lc_weight_float_view. */
lc_status lc_weight_codebook(const lc_model *m, const char *name, float *table, int64_t table_len, uint8_t *codes,
                             int64_t n);

/** Scale and zero point of each of the `channels` channels of a UNIFORM
 *  weight (either buffer may be NULL). LC_ERR_INVALID_ARGUMENT when the
 *  weight is not UNIFORM, LC_ERR_SHAPE when channels differs. */
lc_status lc_weight_uniform(const lc_model *m, const char *name, float *scale, int32_t *zero_point,
                            int64_t channels);

/** Overwrites the float view of weight `name` with `w` (n == numel values;
 *  `w` is copied). Pruned elements stay pruned and become +0.0 (write the
 *  mask with lc_weight_set_mask). A coded weight keeps its encoding when
 *  every kept value equals, bit for bit, an entry of its channel's table
 *  (the codes follow the values); otherwise it becomes DENSE (mask kept).
 *  This is the call to make after an optimizer step in a training loop.
 *  Errors as lc_weight_float_view; on failure nothing changes. */
lc_status lc_weight_set_float(lc_model *m, const char *name, const float *w, int64_t n);

/** Sets the mask of weight `name` (n == numel bytes, nonzero = kept; the
 *  mask is copied) and zeroes the elements it prunes. NULL removes the mask
 *  (pruned elements keep their value 0 and become kept). The value encoding
 *  follows the rule of lc_weight_set_float. Errors as lc_weight_float_view,
 *  plus LC_ERR_NO_MEMORY; on failure nothing changes. */
lc_status lc_weight_set_mask(lc_model *m, const char *name, const uint8_t *mask, int64_t n);

/** Stores weight `name` as CODEBOOK: `codebook` holds `n_codes` values
 *  (1..256) per channel along `axis` (-1: one codebook for the tensor),
 *  codebook_len = channels * n_codes entries, and codes[i] < n_codes picks
 *  element i's value (n == numel; ignored for pruned elements). The float
 *  view becomes the decoded values; the mask and the entropy flag are
 *  kept; bits is the smallest width that holds n_codes. Both arrays are
 *  copied. LC_ERR_INVALID_ARGUMENT for a bad axis, n_codes or code,
 *  LC_ERR_SHAPE for a wrong length, else as lc_weight_float_view, plus
 *  LC_ERR_NO_MEMORY; on failure the float view and the mask do not change.
 *  Use it to fine-tune centroids: read codebook and codes, update the
 *  codebook, write both back. */
lc_status lc_weight_set_codebook(lc_model *m, const char *name, int axis, int n_codes, const float *codebook,
                                 int64_t codebook_len, const uint8_t *codes, int64_t n);

/** Checks the model's invariants: every value is defined once and every
 *  use is defined, initializer names are unique, and every encoding decodes
 *  to its float view bit for bit. LC_OK or LC_ERR_VERIFY with a message
 *  naming the value, node or tensor (and element). Thread-safe for
 *  concurrent readers of `m`. */
lc_status lc_model_validate(const lc_model *m);

/** A JSON report of the model's weights (*json malloc'ed: free() it; NULL
 *  on failure): {"params", "bytes" (stored tensors as in ONNX), "lcm_bytes"
 *  (size of the model as .lcm), "weights": [{"name", "node", "op",
 *  "params", "kept", "sparsity", "encoding" ("dense", "uniform",
 *  "codebook", "binary"), "bits", "channels", "entropy_coded", "bytes",
 *  "lcm_bytes" (its TENSOR section in the .lcm file)}]}, one row per layer
 *  weight. The model is validated first (LC_ERR_VERIFY). Thread-safe for
 *  concurrent readers of `m`. The report of a pipeline run (before/after,
 *  accuracy, passes) is lc_pipeline_report. */
lc_status lc_model_report(const lc_model *m, char **json);


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
/** The target size in bytes (<= 0: none). */
int64_t lc_pipeline_target_size(const lc_pipeline *p);
/** After a run: false when the result does not fit the target size. */
int lc_pipeline_target_met(const lc_pipeline *p);

/** Parses a size: a positive number with an optional unit B, K, M or G
 *  (K = 1024; "KB"/"KiB" accepted; case-insensitive), e.g. "20000", "48K",
 *  "1.5M"; fractions of a byte are dropped. LC_ERR_INVALID_ARGUMENT with a
 *  one-line message otherwise. Thread-safe. */
lc_status lc_parse_size(const char *text, int64_t *bytes);

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

/** Output formats. */
enum { LC_FORMAT_ONNX = 0, LC_FORMAT_LCM = 1 };

/** The format the result will be written in (LC_FORMAT_ONNX, the default,
 *  or LC_FORMAT_LCM): sizes during the run are measured in it. */
void lc_pipeline_set_format(lc_pipeline *p, int format);

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
 *  not decode to its float view), LC_ERR_IO, LC_ERR_NO_MEMORY. Thread-safe
 *  for concurrent readers of `m` and distinct paths. */
lc_status lc_model_save_lcm(const lc_model *m, const char *path, const lc_lcm_meta *meta);

/** As lc_model_save_lcm, into a malloc'ed buffer of *len bytes (*buf; the
 *  caller frees it with free(); NULL on failure). Same errors, except
 *  LC_ERR_IO. Thread-safe for concurrent readers of `m`. */
lc_status lc_model_save_lcm_buffer(const lc_model *m, const lc_lcm_meta *meta, void **buf, size_t *len);

/** Nonzero when the `len` bytes at buf start with the .lcm magic (0 for
 *  shorter buffers). Never fails. Thread-safe. */
int lc_lcm_is(const void *buf, size_t len);

/** Reads an .lcm file from memory (untrusted: every size is checked).
 *  `label` names it in messages. LC_ERR_FORMAT with a message naming the
 *  section and the byte offset; LC_ERR_UNSUPPORTED for another major
 *  version; LC_ERR_NO_MEMORY. *out is owned by the caller (lc_model_free)
 *  and NULL on failure; `buf` is only read during the call.
 *  (lc_model_load reads .lcm files too.) Thread-safe. */
lc_status lc_model_load_lcm_buffer(const void *buf, size_t len, const char *label, lc_model **out);

/** The META section's JSON text of an .lcm file in memory (*json malloc'ed:
 *  free() it; "{}" when the file has none; NULL on failure). Errors as
 *  lc_model_load_lcm_buffer. Thread-safe. */
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
 *  file is fully checked). The accounting owns its arrays and names:
 *  release them with lc_lcm_accounting_clear (also after a failure, which
 *  leaves it empty). Errors as lc_model_load_lcm_buffer. Thread-safe. */
lc_status lc_lcm_accounting_compute(const void *buf, size_t len, lc_lcm_accounting *a);
/** Frees what lc_lcm_accounting_compute put in `a` and zeroes it. Accepts
 *  NULL and an already cleared accounting. */
void lc_lcm_accounting_clear(lc_lcm_accounting *a);


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

/* ================================================================== */
/* Array-level API: what a pass does to one weight array               */
/* (pipeline/array_api.c)                                       */
/* ================================================================== */

/* For training loops and bindings that hold a layer's weight as an array
 * rather than a model. `w` is a float32 weight in C order with `ndim`
 * dims `dims`:
 *   ndim 2      fully connected [out, in] (y = x W^T: torch.nn.Linear,
 *               Gemm with transB=1);
 *   ndim 3..5   convolution [out, in, kernel...] (group 1: torch.nn.ConvNd).
 * The output channels are dims[0]; "the input dimension" is dims[1].
 * Each call wraps a copy of `w` as the only weight of a one-layer model and
 * runs the named pass on it through lc_pass_run (statistics correction
 * off), so the result is exactly what that pass computes for a layer of a
 * model, encoding checks included. Exact zeros in `w` count as pruned.
 *
 * Outputs are caller-allocated arrays of the sizes given (numel = the
 * product of dims); an output documented "may be NULL" is then skipped.
 * Their contents are unspecified after a failure.
 * Status: LC_ERR_INVALID_ARGUMENT (a required pointer is NULL),
 * LC_ERR_SHAPE (bad rank or dims, or inputs that do not fit the weight;
 * the message gives both shapes), LC_ERR_PARAMETER (a value out of range;
 * the message names it), LC_ERR_DTYPE, LC_ERR_NO_MEMORY. Messages start
 * with the function's name and are read with lc_last_error().
 * Thread-safety: reentrant; calls may run in parallel. */

/** Magnitude pruning (pass prune-magnitude): zeroes the
 *  round(sparsity * numel) weights of smallest magnitude (round half to
 *  even; ties: lower flat index first), or with nm_m > 0 keeps the nm_n
 *  largest of every nm_m consecutive weights along dims[1] (sparsity is
 *  then ignored; nm_n = nm_m = 0: no N:M). `sparsity` in [0, 1].
 *  `out` (numel floats, may be NULL) receives the pruned weight, `mask`
 *  (numel bytes, may be NULL) 1 where kept, 0 where pruned. */
lc_status lc_array_prune_magnitude(const float *w, int ndim, const int64_t *dims, double sparsity, int nm_n,
                                   int nm_m, float *out, uint8_t *mask);

/** Hessian-guided pruning (pass prune-hessian, SparseGPT): prunes to
 *  `sparsity` (or N:M as in lc_array_prune_magnitude) choosing the mask
 *  and updating the remaining weights to minimise ||W X - W' X||^2 on the
 *  layer inputs `x` (float32): [n, in] for a fully connected weight, or
 *  [n, in, spatial...] (rank ndim, each spatial size >= the kernel's; the
 *  convolution has stride 1 and no padding) for a convolution. `block`
 *  (>= 1, the pass's default 128) columns per lazy-update block, `damp`
 *  (>= 0, default 0.01) the damping of H as a fraction of its mean
 *  diagonal. `x` is only read (it is copied). `out` (numel floats, may be
 *  NULL) receives the pruned and updated weight, `mask` (numel bytes, may
 *  be NULL) the mask. */
lc_status lc_array_prune_hessian(const float *w, int ndim, const int64_t *dims, const lc_array *x,
                                 double sparsity, int nm_n, int nm_m, int64_t block, double damp, float *out,
                                 uint8_t *mask);

/** Weight sharing (pass quantize-kmeans): a codebook of 2^bits centroids
 *  by 1-D k-means over the weight (per_channel nonzero: one codebook per
 *  output channel) and each weight's code. When `w` has zeros they stay
 *  pruned: code 0 of every codebook is 0.0 and the nonzero weights share
 *  the other 2^bits - 1 centroids. `options` (may be NULL) sets the pass's
 *  other parameters as "k=v,k=v": method=optimal|lloyd (default optimal:
 *  the exact optimum), init=linear|density|random (random draws with
 *  seed 0), max_iter, tol (see `shrink passes quantize-kmeans`); bits and
 *  granularity are arguments and not accepted there (LC_ERR_PARAMETER).
 *  `bits` 1..8.
 *  `codebook` (channels * 2^bits floats, channels = per_channel ? dims[0]
 *  : 1; may be NULL), `codes` (numel bytes, may be NULL) and `out` (numel
 *  floats, the shared weight codebook[c][codes[i]]; may be NULL). */
lc_status lc_array_kmeans(const float *w, int ndim, const int64_t *dims, int bits, int per_channel,
                          const char *options, float *codebook, uint8_t *codes, float *out);

/** Binarization (pass binarize): w -> alpha[c] * sign(w) per output
 *  channel c, alpha[c] the mean |w| of the channel's nonzero weights;
 *  zeros stay 0. `alpha` (dims[0] floats, may be NULL), `signs` (numel
 *  bytes: 1 for +alpha, 0 for -alpha or a zero; may be NULL), `out` (numel
 *  floats, may be NULL). */
lc_status lc_array_binarize(const float *w, int ndim, const int64_t *dims, float *alpha, uint8_t *signs,
                            float *out);

/** Symmetric int8 weight quantization (pass quantize-int8,
 *  weights_only=true): per output channel (per_channel nonzero) or per
 *  tensor, scale = max|w| / 127 (1.0 for an all-zero channel) and
 *  q = round_half_even(w / scale) clipped to [-127, 127] ([-63, 63] and
 *  /63 with reduce_range nonzero); w is approximately (q - zero_point) *
 *  scale. `scale` (channels floats, channels = per_channel ? dims[0] : 1;
 *  may be NULL), `zero_point` (channels int8, always 0 here; may be NULL),
 *  `q` (numel int8, may be NULL). */
lc_status lc_array_quantize_int8(const float *w, int ndim, const int64_t *dims, int per_channel,
                                 int reduce_range, float *scale, int8_t *zero_point, int8_t *q);

/* ========================= end of the array-level API ============== */

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#include "lc_compile.h" /* shrink compile: freestanding C for microcontrollers */
#endif
