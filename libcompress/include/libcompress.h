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

#ifdef __cplusplus
}
#endif
#endif
