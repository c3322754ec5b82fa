/*
 * libcompress/experimental.h - the experimental tier (LC_EXPERIMENTAL):
 * sizes, .npy output, .lcm byte accounting, the array-level API.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_EXPERIMENTAL_H
#define LIBCOMPRESS_EXPERIMENTAL_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/experimental.h>"
#endif

/* The experimental tier: declared only when the including code defines
 * LC_EXPERIMENTAL before including <libcompress.h>. What is here works and
 * is tested like the rest, but its signatures and structs may still change
 * in any 0.x minor version (the stable API changes only with a note in the
 * README's list of C API changes). */

/* ------------------------------------------------------------------ */
/* Sizes and .npy output                                               */
/* ------------------------------------------------------------------ */

/** Parses a size: a positive number with an optional unit B, K, M or G
 *  (K = 1024; "KB"/"KiB" accepted; case-insensitive), e.g. "20000", "48K",
 *  "1.5M"; fractions of a byte are dropped. LC_ERR_INVALID_ARGUMENT with a
 *  one-line message otherwise. Thread-safe. */
lc_status lc_parse_size(const char *text, int64_t *bytes);

/** Writes an array as a .npy file (format 1.0, C order, little-endian).
 *  `dtype` is LC_DTYPE_FLOAT or LC_DTYPE_INT64; `ndim` 0..LC_MAX_DIMS;
 *  `data` holds the product of dims elements (may be NULL when that is 0).
 *  The file is replaced atomically (a temporary file renamed into place).
 *  LC_ERR_UNSUPPORTED for other dtypes, LC_ERR_INVALID_ARGUMENT for a bad
 *  shape, LC_ERR_IO. Thread-safe for distinct paths. */
lc_status lc_npy_write(const char *path, lc_dtype dtype, int ndim,
                       const int64_t *dims, const void *data);

/* ------------------------------------------------------------------ */
/* .lcm byte accounting                                                */
/* ------------------------------------------------------------------ */

/** What a stream of a stored tensor holds (values as in formats/LCM.md). */
typedef enum lc_lcm_stream_role {
    LC_LCM_STREAM_VALUES = 0,   /* values or codes */
    LC_LCM_STREAM_SPARSITY = 1  /* kept positions (bitmap or gaps) */
} lc_lcm_stream_role;

/** How a stream's symbols are coded. */
typedef enum lc_lcm_coding {
    LC_LCM_CODING_RAW = 0,      /* bit-packed */
    LC_LCM_CODING_HUFFMAN = 1   /* canonical Huffman */
} lc_lcm_coding;

/** How a tensor's values are stored. */
typedef enum lc_lcm_store {
    LC_LCM_STORE_RAW = 0,       /* the values' bytes (the store of non-float32 tensors) */
    LC_LCM_STORE_F32 = 1,
    LC_LCM_STORE_F16 = 2,
    LC_LCM_STORE_UNIFORM = 3,   /* codes + scale and zero point per channel */
    LC_LCM_STORE_CODEBOOK = 4,  /* codes + a codebook per channel */
    LC_LCM_STORE_BINARY = 5     /* sign bits + alpha per channel */
} lc_lcm_store;

/** How a tensor's pruned positions are stored. */
typedef enum lc_lcm_sparsity {
    LC_LCM_SPARSITY_NONE = 0,
    LC_LCM_SPARSITY_BITMAP = 1,
    LC_LCM_SPARSITY_GAPS = 2    /* gaps between kept positions */
} lc_lcm_sparsity;

/** One stream of a stored tensor. */
typedef struct lc_lcm_stream_info {
    lc_lcm_stream_role role;
    lc_lcm_coding coding;
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
    lc_lcm_store store;
    lc_lcm_sparsity sparsity;
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

/* ------------------------------------------------------------------ */
/* Array-level API: what a pass does to one weight array               */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* A pipeline run that consumes its input                              */
/* ------------------------------------------------------------------ */

/** lc_pipeline_run on a model the caller gives away: *in_out is consumed
 *  (set to NULL on return, success or failure; never free it after the
 *  call). Same result, report and errors as lc_pipeline_run, byte for byte
 *  when written. When nothing needs the original after the first pass
 *  starts - no accuracy budget (max_drop < 0), no target size, auto mode
 *  or sweep, and no step that reads the context's reference model
 *  (pass bias-correct; correct=auto on a model with BatchNormalization) -
 *  the passes change the given model in place and *out is that model (or
 *  what replaced it): one model-sized copy fewer at the peak. Otherwise it
 *  runs on the model as lc_pipeline_run does and frees it before
 *  returning. The report's input figures (bytes, params, layer
 *  bytes_before, path) are recorded before the first pass. In addition to
 *  lc_pipeline_run's errors: LC_ERR_INVALID_ARGUMENT for a NULL in_out or
 *  *in_out. */
lc_status lc_pipeline_run_take(lc_pipeline *p, lc_model **in_out, const lc_context *ctx, lc_model **out);

#endif /* LIBCOMPRESS_EXPERIMENTAL_H */
