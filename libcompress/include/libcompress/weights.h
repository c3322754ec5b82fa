/*
 * libcompress/weights.h - weight access: a weight's float view, mask and codes.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_WEIGHTS_H
#define LIBCOMPRESS_WEIGHTS_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/weights.h>"
#endif

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
    lc_encoding_kind encoding;
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

#endif /* LIBCOMPRESS_WEIGHTS_H */
