/*
 * libcompress/model.h - models: load, save, atomic writes, summary.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_MODEL_H
#define LIBCOMPRESS_MODEL_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/model.h>"
#endif

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

/** An abort handle for atomic writes. Every file this library writes
 *  (lc_write_file, lc_model_save_onnx, lc_model_save_lcm,
 *  lc_pipeline_write, lc_npy_write) goes to a temporary file in the same
 *  folder that is renamed into place when complete. A guard attached to a
 *  thread records the temporary file of each write that thread makes while
 *  it is in progress, so that a signal handler can remove it and a program
 *  killed in the middle leaves nothing behind. Writes of threads with
 *  distinct guards (or none) never touch each other's files. */
typedef struct lc_write_guard lc_write_guard;

/** Creates a guard (attached to no thread) into *out, owned by the caller
 *  (lc_write_guard_free; NULL on failure). LC_ERR_INVALID_ARGUMENT,
 *  LC_ERR_NO_MEMORY. Thread-safe. */
lc_status lc_write_guard_create(lc_write_guard **out);

/** Frees a guard. Detach it first (lc_write_guard_attach(NULL) in every
 *  thread it is attached to). Accepts NULL. */
void lc_write_guard_free(lc_write_guard *g);

/** Makes `g` record the atomic writes the calling thread starts from now
 *  on (NULL: none, the default); the thread's previous guard is
 *  detached. One guard may serve several threads: it tracks up to 8 writes
 *  in progress at once (further ones are not tracked). Never fails. */
void lc_write_guard_attach(lc_write_guard *g);

/** Removes the temporary files of the writes in progress that `g` tracks
 *  (NULL: nothing). Async-signal-safe: call it from a SIGINT/SIGTERM
 *  handler before the program ends; a write it interrupts then fails with
 *  LC_ERR_IO instead of renaming into place, so it must not be relied on
 *  afterwards. */
void lc_write_guard_abort(lc_write_guard *g);

/** Checks the floating-point initializers of the main graph (float,
 *  double, float16, bfloat16) where non-finite values matter: no NaN in a
 *  tensor a node computes with (Shape, Size and IsNaN do not), no +-Inf in
 *  one read by a layer passes compress or fold (Conv, ConvTranspose, Gemm,
 *  MatMul, LSTM, GRU, RNN, the normalizations) or by a product (Mul,
 *  PRelu, Einsum, Quantize/DequantizeLinear), where Inf x 0 makes NaN. An
 *  infinite Clip/Min/Max bound or an additive -Inf mask is fine.
 *  LC_ERR_INVALID_ARGUMENT with a message naming the model file, the
 *  tensor, the node reading it and the element otherwise. Compressing
 *  (lc_pipeline_run, lc_sensitivity_run) needs finite weights; run this
 *  first. Thread-safe for concurrent readers of `m`. */
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
    lc_dtype dtype;
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
    lc_dtype dtype;      /* its dtype */
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

#endif /* LIBCOMPRESS_MODEL_H */
