/*
 * mc.h - the device runtime that code written by `shrink compile` calls.
 *
 * Freestanding C99: <stdint.h>, <stddef.h>, <string.h> and <math.h> only;
 * no malloc, no stdio, no state between calls. Every buffer a kernel uses
 * is passed in (activations and scratch live in the caller's arena, placed
 * at compile time), and every parameter block is a `static const` struct
 * the compiler wrote, so it stays in flash.
 *
 * Weights stay compressed in flash (mc_weights): a stream of codes (raw
 * bit-packed or canonical Huffman), an optional sparsity stream (bitmap or
 * Deep Compression gaps) and per-row parameters (scales, codebooks,
 * alphas). Kernels decode them row by row (one output channel at a time),
 * in stream order, through an mc_cursor: a weight tensor is never expanded
 * whole. See micro/README.md for the encodings and the kernel list.
 */
#ifndef MC_H
#define MC_H

#include <stddef.h>
#include <stdint.h>

/* ---- compressed weights ---- */

/* A stream of symbols: raw (w bits each, LSB-first) or Huffman-coded. The
 * compiler pads every stream with one zero byte, so raw reads of two bytes
 * never pass its end. */
typedef struct mc_stream {
    const uint8_t *data;
    const uint8_t *huff_count; /* Huffman: huff_count[l] codes of length l (l = 1..15); NULL: raw */
    const uint8_t *huff_sym;   /* Huffman: the symbols in canonical order */
    uint8_t w;                 /* raw: bits per symbol (1..8) */
} mc_stream;

enum { MC_SPARSE_NONE = 0, MC_SPARSE_BITMAP = 1, MC_SPARSE_GAPS = 2 };

/* What a kept element's value is (c: the row's parameter index). */
enum {
    MC_VAL_F32 = 0,         /* f32[k], k-th kept element */
    MC_VAL_UNIFORM = 1,     /* (code - zero_point[c]) * f32[c] */
    MC_VAL_CODEBOOK = 2,    /* f32[c * n_codes + code] */
    MC_VAL_BINARY = 3,      /* code ? f32[c] : -f32[c] */
    MC_VAL_I8 = 4,          /* i8[k], k-th kept element */
    MC_VAL_I8_CODEBOOK = 5  /* i8[c * n_codes + code] */
};

/* A weight tensor laid out as `rows` output channels of `row_len` elements
 * (the order the kernels consume them). */
typedef struct mc_weights {
    uint8_t values;          /* MC_VAL_* */
    uint8_t sparsity;        /* MC_SPARSE_* */
    uint8_t gap_bits;        /* MC_SPARSE_GAPS: b */
    uint8_t per_row;         /* 1: parameters per row, 0: one set */
    uint16_t n_codes;        /* codebooks: entries per row */
    uint16_t rows;
    uint32_t row_len;
    uint32_t kept;           /* elements present in the value stream */
    const float *f32;        /* see MC_VAL_* */
    const int8_t *i8;
    const uint8_t *zero_point;
    mc_stream codes;         /* UNIFORM, CODEBOOK, BINARY, I8_CODEBOOK */
    mc_stream mask;          /* bitmap (w = 1) or gaps (w = gap_bits) */
} mc_weights;

/* Decoding state of one pass over a weight tensor (on the stack). */
typedef struct mc_cursor {
    uint32_t code_bit, mask_bit; /* bit positions in the two streams */
    uint32_t kept;               /* kept elements seen */
    uint32_t row;                /* next row */
    uint32_t gap;                /* gaps: not-kept elements still to skip */
    uint8_t then_kept;           /* gaps: a kept element follows the skip */
} mc_cursor;

void mc_cursor_init(mc_cursor *c);
/* Decodes the next row into dst (row_len values). */
void mc_row_f32(const mc_weights *w, mc_cursor *c, float *dst);
void mc_row_i8(const mc_weights *w, mc_cursor *c, int8_t *dst);
/* The next row's dot product with x (no scratch). */
float mc_row_dot_f32(const mc_weights *w, mc_cursor *c, const float *x);
int32_t mc_row_dot_i8(const mc_weights *w, mc_cursor *c, const int8_t *x, int32_t x_zp);

/* ---- float kernels (mc_float.c) ---- */

/* Activations fused into a kernel's epilogue or run alone. */
enum {
    MC_ACT_NONE = 0, MC_ACT_RELU, MC_ACT_CLIP, MC_ACT_LEAKY, MC_ACT_SIGMOID,
    MC_ACT_HARDSIGMOID, MC_ACT_HARDSWISH, MC_ACT_TANH
};
typedef struct mc_act {
    uint8_t kind;    /* MC_ACT_* */
    float a, b;      /* CLIP: min, max; LEAKY: alpha; HARDSIGMOID: alpha, beta */
} mc_act;
float mc_act_apply(const mc_act *act, float v);

/* Shapes of a convolution on CHW tensors (batch 1). */
typedef struct mc_conv_dims {
    uint16_t c_in, h_in, w_in, c_out, h_out, w_out, groups;
    uint8_t kh, kw, sh, sw, dh, dw, pt, pl;
} mc_conv_dims;
/* The output columns [lo, hi) that kernel column k reads inside the input. */
void mc_conv_span(uint32_t k, const mc_conv_dims *d, uint32_t *lo, uint32_t *hi);

/* y = act(conv(x, w) * oscale[m] + bias[m]). */
typedef struct mc_conv {
    mc_conv_dims d;
    const float *bias;       /* c_out, or NULL */
    const float *oscale;     /* c_out, or NULL (BatchNorm folded) */
    mc_act act;
    const mc_weights *w;     /* rows c_out, row_len (c_in / groups) * kh * kw */
} mc_conv;
void mc_conv_f32(const mc_conv *p, const float *x, float *y, float *scratch);

/* y[i][n] = act((x[i] . w[n]) * oscale[n] + bias[n]) for m input rows. */
typedef struct mc_dense {
    uint16_t m;              /* input rows */
    uint16_t k, n;
    const float *bias, *oscale;
    mc_act act;
    const mc_weights *w;     /* rows n, row_len k */
} mc_dense;
/* scratch: k floats when m > 1 (unused when m == 1). */
void mc_dense_f32(const mc_dense *p, const float *x, float *y, float *scratch);

void mc_act_f32(const mc_act *act, const float *x, float *y, uint32_t n);
/* y[c][i] = x[c][i] * scale[c] + shift[c]: BatchNormalization alone. */
void mc_affine_f32(const float *x, float *y, uint32_t channels, uint32_t inner, const float *scale,
                   const float *shift);

/* Broadcasting Add / Mul over up to 4 dims (strides 0 on broadcast axes). */
enum { MC_BIN_ADD = 0, MC_BIN_MUL = 1 };
typedef struct mc_binary {
    uint8_t op;
    uint32_t dims[4];
    uint32_t sa[4], sb[4];   /* element strides of a and b per output dim */
} mc_binary;
void mc_binary_f32(const mc_binary *p, const float *a, const float *b, float *y);

typedef struct mc_pool {
    uint16_t c, h_in, w_in, h_out, w_out;
    uint8_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    uint8_t count_include_pad;
} mc_pool;
void mc_maxpool_f32(const mc_pool *p, const float *x, float *y);
void mc_avgpool_f32(const mc_pool *p, const float *x, float *y);
void mc_gap_f32(const float *x, float *y, uint32_t channels, uint32_t inner);
/* Softmax over `n` elements spaced `inner` apart, for outer * inner groups. */
void mc_softmax_f32(const float *x, float *y, uint32_t outer, uint32_t n, uint32_t inner);
/* Concat: for each of `outer` blocks, each input's chunk_bytes[i] in turn. */
void mc_concat(const void *const *in, const uint32_t *chunk_bytes, uint32_t n_in, uint32_t outer, void *y);

/* ---- int8 kernels (mc_int8.c), TFLite/CMSIS-NN arithmetic ---- */

/* round(acc * mult * 2^(shift - 31)), mult in [2^30, 2^31). */
int32_t mc_requantize(int32_t acc, int32_t mult, int32_t shift);

/* q = saturate(rint(x / scale) + zp); x = (q - zp) * scale. */
void mc_quantize(const float *x, int8_t *q, uint32_t n, float scale, int32_t zp);
void mc_dequantize(const int8_t *q, float *x, uint32_t n, float scale, int32_t zp);
/* Re-quantize int8 -> int8 with other parameters. */
void mc_requant_i8(const int8_t *x, int8_t *y, uint32_t n, int32_t x_zp, int32_t mult, int32_t shift,
                   int32_t y_zp);

/* Integer conv / dense: acc = sum (x - x_zp) * w + bias (int32); output
 * int8 y = clamp(y_zp + requantize(acc, mult[m], shift[m])), or, when
 * y_f32 is given, float acc * deq[m]. */
typedef struct mc_qconv {
    mc_conv_dims d;
    int32_t x_zp, y_zp, act_min, act_max;
    const int32_t *bias;     /* c_out, or NULL */
    const int32_t *mult;     /* c_out (int8 output) */
    const int8_t *shift;
    const float *deq;        /* c_out (float output) */
    const mc_weights *w;
} mc_qconv;
/* scratch: 4 * w_out bytes of accumulators, then the weight row. x == y
 * (int8 output) runs in place, for a depthwise conv only (one input channel
 * per output channel, output planes no larger; scratch then also holds an
 * input plane, h_in * w_in bytes). */
void mc_qconv_i8(const mc_qconv *p, const int8_t *x, int8_t *y, float *y_f32, int8_t *scratch);
/* A pointwise conv (1x1, stride 1, no padding, c_out <= c_in, int8 output)
 * in place over xy; scratch: as mc_qconv_i8's, then c_out * w_out bytes. */
void mc_qconv_pw_i8(const mc_qconv *p, int8_t *xy, int8_t *scratch);

typedef struct mc_qdense {
    uint16_t m, k, n;
    int32_t x_zp, y_zp, act_min, act_max;
    const int32_t *bias, *mult;
    const int8_t *shift;
    const float *deq;
    const mc_weights *w;
} mc_qdense;
/* scratch: k bytes when m > 1. */
void mc_qdense_i8(const mc_qdense *p, const int8_t *x, int8_t *y, float *y_f32, int8_t *scratch);

/* y = clamp(y_zp + rq(rq((a - a_zp) << 20, ma) + rq((b - b_zp) << 20, mb), my)),
 * elementwise over n (same shapes). */
typedef struct mc_qadd {
    int32_t a_zp, b_zp, y_zp, act_min, act_max;
    int32_t a_mult, a_shift, b_mult, b_shift, y_mult, y_shift;
} mc_qadd;
void mc_qadd_i8(const mc_qadd *p, const int8_t *a, const int8_t *b, int8_t *y, uint32_t n);

void mc_maxpool_i8(const mc_pool *p, const int8_t *x, int8_t *y);
/* Per channel: y = clamp(y_zp + requantize(sum(x - x_zp), mult, shift)). */
void mc_gap_i8(const int8_t *x, int8_t *y, uint32_t channels, uint32_t inner, int32_t x_zp, int32_t mult,
               int32_t shift, int32_t y_zp);

#endif
