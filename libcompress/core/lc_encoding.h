/*
 * lc_encoding.h - how a weight tensor is stored compactly (internal).
 *
 * A float32 tensor always has its *float view* (lc_tensor::data), which is
 * what the executor computes with. Passes that compress it attach an
 * encoding describing how the same values are stored in few bits:
 *
 *   sparsity   mask[i] = 0: element i is pruned and its value is exactly 0.
 *   values     how each kept element is represented:
 *     DENSE     float32 as is;
 *     UNIFORM   code q in [0, 2^bits): w = (float)(q - zero_point[c]) * scale[c];
 *     CODEBOOK  code q in [0, n_codes): w = codebook[c * n_codes + q];
 *     BINARY    code q in {0, 1}: w = q ? alpha[c] : -alpha[c];
 *   where c is the element's channel along `axis` (c = 0 when axis < 0).
 *
 * Invariant (checked by lc_encoding_verify and by tests): decoding the
 * encoding reproduces the float view bit for bit, so validating the float
 * view validates exactly what ships. Passes keep it by computing the float
 * view with lc_encoding_value().
 *
 * Passes compose: pruning sets `mask` (kind DENSE); quantization keeps the
 * mask and replaces kind/codes; huffman sets `entropy_coded`.
 */
#ifndef LC_ENCODING_H
#define LC_ENCODING_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_ir.h"

/* Numbered: values reach .lcm files; only append. */
enum { LC_ENC_DENSE = 0, LC_ENC_UNIFORM = 1, LC_ENC_CODEBOOK = 2, LC_ENC_BINARY = 3 };

typedef struct lc_encoding {
    uint8_t *mask;        /* numel bytes (1 kept, 0 pruned), or NULL: dense */
    int kind;             /* LC_ENC_* */
    int bits;             /* bits per code: UNIFORM 1..8, CODEBOOK 1..8, BINARY 1 */
    int axis;             /* channel axis of per-channel parameters; -1 per tensor */
    int64_t channels;     /* dims[axis], or 1 */
    float *scale;         /* UNIFORM: channels entries */
    int32_t *zero_point;  /* UNIFORM: channels entries, in [0, 2^bits) */
    int n_codes;          /* CODEBOOK: centroids per channel (<= 2^bits) */
    float *codebook;      /* CODEBOOK: channels * n_codes entries */
    float *alpha;         /* BINARY: channels entries (>= 0) */
    uint8_t *codes;       /* numel entries for UNIFORM/CODEBOOK/BINARY (entries
                             where mask is 0 are ignored and kept 0) */
    bool entropy_coded;   /* index/gap streams are Huffman-coded in .lcm */
} lc_encoding;

/* Returns the tensor's encoding, creating an empty DENSE one (no mask) if
 * it has none. NULL on out of memory (message set). */
lc_encoding *lc_tensor_encoding(lc_tensor *t);

void lc_encoding_free(lc_encoding *e);
lc_encoding *lc_encoding_clone(const lc_encoding *e, int64_t numel);

/* Channel of flat element i for a tensor of shape dims with the encoding's
 * axis (0 if axis < 0). */
int64_t lc_encoding_channel(const lc_encoding *e, const lc_tensor *t, int64_t i);

/* The float value a code decodes to in channel c (kind != DENSE). */
float lc_encoding_value(const lc_encoding *e, int64_t c, int code);

/* Sets a mask from the current float view: kept = value != 0 (allocates
 * the mask if needed). */
lc_status lc_encoding_mask_from_zeros(lc_tensor *t);

/* Number of kept elements (mask 1, or all without a mask). */
int64_t lc_encoding_kept(const lc_encoding *e, int64_t numel);

/* Checks the invariant: every element's decoded value equals the float
 * view bit for bit, pruned elements are +0.0f, codes are in range.
 * LC_ERR_VERIFY naming the tensor and the first bad element. */
lc_status lc_encoding_verify(const lc_tensor *t);

/* lc_encoding_verify over every stored tensor of the model. */
lc_status lc_model_verify_encodings(const lc_model *m);

/* Allocation helpers: (re)allocate per-channel arrays and codes for a kind.
 * Existing mask and entropy flag are kept; old value arrays are freed. */
lc_status lc_encoding_set_kind(lc_encoding *e, const lc_tensor *t, int kind, int bits, int axis, int n_codes);

/* The 8-bit grid of small float vectors (grid8.c): scale s = max|v| / 127
 * in float32, values (float)q * s with q = rint(v / s) an integer, |q| <= 127.
 * lc_grid8_round moves v onto it in place (nothing when v is all zeros, not
 * finite or already on such a grid) and returns how many values changed; lc_grid8_find says
 * whether v lies on such a grid bit for bit, and its scale. */
#define LC_GRID8_LEVELS 127
int64_t lc_grid8_round(float *v, int64_t n);
bool lc_grid8_find(const float *v, int64_t n, float *scale);

/* Rounds the float parameters of t's UNIFORM, CODEBOOK or BINARY encoding
 * (scales, centroids, alphas) to float16 values and recomputes the kept
 * elements' float view from the codes, when every parameter is 0 or a
 * normal float16 (else, and for other encodings, nothing; returns whether
 * it rounded). The .lcm writer then stores the parameters in 2 bytes
 * (format 3.0). */
bool lc_encoding_round_params_half(lc_tensor *t);

#endif
