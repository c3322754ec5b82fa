/*
 * libcompress/status.h - status codes, element types and tensors.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_STATUS_H
#define LIBCOMPRESS_STATUS_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/status.h>"
#endif

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

/** The one-line message of the last failure in the calling thread ("" if
 *  none). Each thread has its own. Borrowed: valid until the thread's next
 *  libcompress call, which may replace it. */
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
const char *lc_dtype_name(lc_dtype dtype);

/** Bytes per element of a dtype (0 for STRING and unknown types).
 *  Thread-safe. */
size_t lc_dtype_size(lc_dtype dtype);

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
/** Its element type. */
lc_dtype lc_tensor_dtype(const lc_tensor *t);
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
lc_status lc_tensor_create(const char *name, lc_dtype dtype, int ndim,
                           const int64_t *dims, const void *data,
                           lc_tensor **out);
/** Frees a tensor made by lc_tensor_create (never one borrowed from a
 *  model). Accepts NULL. */
void lc_tensor_free(lc_tensor *t);

#endif /* LIBCOMPRESS_STATUS_H */
