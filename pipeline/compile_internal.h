/*
 * compile_internal.h - `shrink compile` on the host (internal): lowers an
 * lc_model to a list of micro/ kernel calls, encodes the weights as
 * micro/ mc_weights, plans the arena and writes the C files.
 *
 *   compile_lower.c    nodes -> steps (float kernels, folding, fusion)
 *   compile_int8.c     QDQ patterns -> integer kernels
 *   compile_weights.c  weight tensors -> compressed static const arrays
 *   compile_emit.c     liveness planning, NAME.c / NAME.h, the folder
 */
#ifndef LC_COMPILE_INTERNAL_H
#define LC_COMPILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_exec.h"
#include "lc_ir.h"

/* Growable text; the first allocation failure sticks (oom). */
typedef struct cc_buf {
    char *p;
    size_t n, cap;
    bool oom;
} cc_buf;
void cc_printf(cc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cc_buf_free(cc_buf *b);

/* micro/mc.h's value kinds, as numbers in the generated mc_weights. */
enum { MC_VAL_F32 = 0, MC_VAL_UNIFORM = 1, MC_VAL_CODEBOOK = 2, MC_VAL_BINARY = 3, MC_VAL_I8 = 4, MC_VAL_I8_CODEBOOK = 5 };

enum { CV_F32 = 0, CV_I8 = 1 };               /* what a value's buffer holds */
enum { CW_ARENA = 0, CW_INPUT, CW_OUTPUT, CW_CONST };

typedef struct cc_value {
    const char *name;       /* the ONNX value (borrowed), or NULL */
    int kind;               /* CV_* */
    float scale;            /* CV_I8: value = (q - zp) * scale */
    int32_t zp;
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    int64_t numel;
    int base;               /* the value owning the buffer (itself unless an alias) */
    int where;              /* CW_* (of the base) */
    int first, last;        /* steps writing and last reading the buffer */
    size_t offset;          /* CW_ARENA: offset in the arena */
    int f32_copy;           /* CV_I8 read by float kernels: its dequantized copy, or -1 */
    bool used;              /* referenced by some step */
    char sym[32];           /* CW_CONST: the static array holding it */
} cc_value;

typedef struct cc_step {
    char *call;             /* C statements; value k's pointer is `vK`, scratch `s` */
    int *reads;
    int n_reads;
    int write;              /* value written, or -1 */
    size_t scratch;         /* bytes of scratch (placed by the planner) */
    size_t scratch_offset;
    /* The kernel may also run in place, writing over reads[0] (with
     * in_place_scratch bytes of scratch); cc_plan does so when reads[0]
     * dies at this step. */
    bool may_run_in_place;
    size_t in_place_scratch;
    char *in_place_call;    /* replaces call when it runs in place, or NULL */
} cc_step;

typedef struct cc_ctx {
    const lc_model *m;
    const lc_graph *g;
    lc_executor *ex;
    cc_value *vals;
    int n_vals, cap_vals;
    cc_step *steps;
    int n_steps, cap_steps;
    bool *done;             /* node i lowered already (fused into another) */
    bool *needed;           /* node i contributes to the first output */
    cc_buf data;            /* static const definitions */
    int n_syms;             /* counter for unique symbol names */
    size_t weight_bytes;    /* bytes of the weight data written */
    size_t arena_bytes;
    bool int8;              /* some integer kernel is used */
    bool float_kernels;
    int output;             /* value index of the first graph output */
} cc_ctx;

/* ---- values and steps (compile_lower.c) ---- */
int cc_value_new(cc_ctx *c, const char *name, int kind, int ndim, const int64_t *dims);
/* The value named `name` (latest definition), or -1. */
int cc_value_find(const cc_ctx *c, const char *name);
/* An alias of value v named `name` with shape dims (same buffer). */
int cc_value_alias(cc_ctx *c, int v, const char *name, int ndim, const int64_t *dims);
/* Appends a step: call text (printf format), read values (-1 ends), the
 * written value and scratch bytes. */
lc_status cc_step_add(cc_ctx *c, int write, size_t scratch, const int *reads, int n_reads, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The float version of value v (a dequantize step for CV_I8). */
int cc_need_f32(cc_ctx *c, int v);
/* The planned constant value named `name` (NULL if it is not constant). */
const lc_value *cc_const(const cc_ctx *c, const char *name);
/* Consumers of value `name` among needed nodes (graph outputs count as one). */
int cc_consumers(const cc_ctx *c, const char *name, int *only_node);
/* Geometry of a Conv or pooling node over input xv (rank 3: H = 1):
 * kernel (NULL: the kernel_shape attribute), strides, dilations, pads
 * (top, left, bottom, right, auto_pad resolved), input and output sizes. */
typedef struct cc_window {
    int64_t k[2], st[2], dl[2], p[4], hin, win, hout, wout;
} cc_window;
void cc_window_of(const cc_ctx *c, const lc_node *n, const cc_value *xv, const int64_t *kernel, cc_window *w);
/* The static const mc_pool for node n into ln. */
lc_status cc_pool_params(cc_ctx *c, const lc_node *n, const cc_value *xv, char *ln);
/* Lowers the model into c->steps. */
lc_status cc_lower(cc_ctx *c);
/* A fresh symbol name "PREFIXN" into out[32]. */
void cc_sym(cc_ctx *c, const char *prefix, char *out);
/* Emits `static const float NAME[n]` (n may be 0: writes nothing, NAME = "NULL"). */
void cc_emit_floats(cc_ctx *c, const char *prefix, const float *x, int64_t n, char *name);
void cc_emit_ints(cc_ctx *c, const char *prefix, const char *ctype, const int64_t *x, int64_t n, char *name);

/* ---- int8 (compile_int8.c) ---- */
/* Tries to lower node i as an integer kernel; *handled false leaves it
 * to the float path. */
lc_status cc_lower_int8(cc_ctx *c, int i, bool *handled);
/* Fixed-point multiplier: m = mult * 2^(shift - 31), mult in [2^30, 2^31). */
lc_status cc_multiplier(double m, int32_t *mult, int32_t *shift, const char *what);

/* ---- weights (compile_weights.c) ---- */
/* A weight tensor as rows (output channels) of row_len elements. */
typedef struct cc_wmat {
    int64_t rows, row_len;
    const uint8_t *mask;    /* rows*row_len (1 kept), or NULL */
    bool entropy;           /* Huffman allowed */
    /* float kinds: */
    int kind;               /* LC_ENC_* (DENSE: f32 holds the values) */
    const float *f32;       /* DENSE: rows*row_len values */
    const uint8_t *codes;   /* UNIFORM / CODEBOOK / BINARY: rows*row_len codes */
    int bits, n_codes;
    bool per_row;
    const float *params;    /* scale / codebook / alpha (per_row ? rows : 1 sets) */
    const int32_t *zero_point;
    /* int8: */
    const int8_t *i8;       /* rows*row_len int8 values (then kind is ignored) */
} cc_wmat;
/* Emits the mc_weights for w; *name receives its symbol. */
lc_status cc_emit_weights(cc_ctx *c, const cc_wmat *w, char *name);

/* ---- planning and files (compile_emit.c) ---- */
lc_status cc_plan(cc_ctx *c);

#endif
