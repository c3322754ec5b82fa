/*
 * lc_elementwise.h - shared machinery of the elementwise kernels (internal).
 *
 * An elementwise op is written as *row functions*: one per dtype, each
 * computing `n` outputs from up to three inputs read with element strides
 * (0 = broadcast scalar, 1 = contiguous; other values only in degenerate
 * layouts). The broadcasting engine (lc_ew_apply) collapses the output
 * shape into as few dimensions as the inputs' strides allow and calls the
 * row function once per innermost row, so same-shape and scalar-broadcast
 * operands end up as a single call over the whole tensor, and the typical
 * NCHW + [C,1,1] case as one call per H*W plane.
 *
 * float16 and bfloat16 need no row functions of their own: when an op has a
 * float32 row but none for the half type, lc_ew_pick() wraps the float row
 * in an adapter that converts chunks on the stack.
 *
 * A kernel's state is an lc_ew_state (one malloc, freed by lc_ew_state_free)
 * holding the chosen row function and its parameters; row functions get a
 * pointer to the state's `p` (or to the adapter) as `ctx`.
 */
#ifndef LC_ELEMENTWISE_H
#define LC_ELEMENTWISE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lc_exec.h"

/* The project builds with -O2, where GCC vectorizes only loops whose trip
 * count is a known multiple of the vector width; row loops have a run-time
 * n and may alias (out == in for variadic ops), so they need the dynamic
 * cost model (versioned for aliasing, with an epilogue) to use SIMD: 2-4x
 * faster on same-shape and broadcast rows. Applies to the kernel files that
 * include this header. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

#define LC_EW_MAX_IN 3 /* Where has three inputs; variadic ops go pairwise */

typedef void (*lc_ew_row)(int64_t n, const void *const *in, const int64_t *stride, void *out, const void *ctx);

/* One value of any numeric dtype; members named like the LC_EW_* suffixes. */
typedef union lc_ew_scalar {
    float f32;
    double f64;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
} lc_ew_scalar;

/* Parameters a row function may read through ctx. */
typedef struct lc_ew_params {
    float alpha, beta;          /* LeakyRelu, HardSigmoid, ... */
    double alpha_d, beta_d;     /* the same in double precision */
    lc_ew_scalar lo, hi;        /* Clip bounds, in the row's dtype */
    int dtype[LC_EW_MAX_IN];    /* input dtypes (Pow's mixed types) */
    int out_dtype;
} lc_ew_params;

/* float16/bfloat16 adapter around a float32 row (see lc_ew_pick). */
typedef struct lc_ew_adapter {
    lc_ew_row fn;
    const void *ctx;
    int n_in;
    int in_dtype[LC_EW_MAX_IN];
    int out_dtype;
} lc_ew_adapter;

typedef struct lc_ew_state {
    lc_ew_row fn;         /* what lc_ew_apply calls */
    const void *ctx;      /* its ctx: &p or &adapter */
    lc_ew_params p;
    lc_ew_adapter adapter;
    int dtype;            /* the dispatch dtype (input 0's) */
    int out_dtype;
    bool legacy;          /* opset < 7 `broadcast`=1: in[1] aligned at `axis` */
    int axis;             /* legacy: axis of in[0] where in[1]'s dims start */
} lc_ew_state;

/* Row functions per dtype (index lc_dtype); NULL = unsupported. */
typedef lc_ew_row lc_ew_rows[LC_DTYPE_COUNT];

/* Allocates a zeroed state into a->state. */
lc_status lc_ew_state_new(lc_kernel_args *a, lc_ew_state **st);
void lc_ew_state_free(void *state);

/* Chooses the row for `dtype` from `rows` into st->fn/st->ctx (wrapping the
 * float row for float16/bfloat16 when the op has no row of its own; the
 * adapter converts the first `n_in` inputs and, when `out_dtype` is a half
 * type, the output). LC_ERR_UNSUPPORTED naming the op and dtype otherwise. */
lc_status lc_ew_pick(lc_kernel_args *a, lc_ew_state *st, const lc_ew_row *rows, int dtype, int n_in, int out_dtype);

/* The adapter's row function (ctx: an lc_ew_adapter). */
void lc_ew_adapter_row(int64_t n, const void *const *in, const int64_t *stride, void *out, const void *ctx);

/* True for float16 and bfloat16. */
bool lc_ew_is_half(int dtype);

/* The broadcasting engine: `out` (rank ondim, dims odims, element size oes)
 * gets fn applied to n_in inputs whose element strides over the output's
 * axes are strides[k] (0 on broadcast axes). */
void lc_ew_apply(int n_in, const void *const *data, const size_t *esize, const int64_t (*strides)[LC_MAX_DIMS],
                 int ondim, const int64_t *odims, void *out, size_t oes, lc_ew_row fn, const void *ctx);

/* Applies fn to inputs that broadcast (numpy rules) to `out`'s shape. */
void lc_ew_apply_values(int n_in, const lc_value *const *in, lc_value *out, lc_ew_row fn, const void *ctx);

/* ---- ready-made kernel bodies ---- */

/* Unary op: one input of a dtype in `rows`, output of the same shape and
 * dtype `out_dtype` (0 = the input's). Optional attribute parsing is done by
 * the caller on the returned state (may pass st_out NULL). */
lc_status lc_ew_unary_prepare(lc_kernel_args *a, const lc_ew_row *rows, int out_dtype, lc_ew_state **st_out);
lc_status lc_ew_unary_run(lc_kernel_args *a);

/* Binary op with numpy broadcasting (opset >= 7) or, for a->opset < 7,
 * the legacy `broadcast`/`axis` attributes (in[1] aligned at `axis`). Both
 * inputs must share a dtype; the output has `out_dtype` (0 = the inputs'). */
lc_status lc_ew_binary_prepare(lc_kernel_args *a, const lc_ew_row *rows, int out_dtype, lc_ew_state **st_out);
lc_status lc_ew_binary_run(lc_kernel_args *a);
/* Pieces of lc_ew_binary_prepare for ops with their own dtype rules (Pow,
 * PRelu): checks there are two inputs and an output; sets the output shape
 * (dtype st->out_dtype) from numpy or legacy broadcasting. An op may set
 * st->legacy/st->axis itself before calling lc_ew_binary_shape. */
lc_status lc_ew_binary_args(const lc_kernel_args *a);
lc_status lc_ew_binary_shape(lc_kernel_args *a, lc_ew_state *st);

/* Variadic op (Max, Min, Sum): the row is applied pairwise, left to right;
 * broadcasting from opset 8, same shapes before. One input = copy. */
lc_status lc_ew_variadic_prepare(lc_kernel_args *a, const lc_ew_row *rows);
lc_status lc_ew_variadic_run(lc_kernel_args *a);

/* Copies in[0] to out[0] (Identity, Dropout). */
lc_status lc_ew_copy_run(lc_kernel_args *a);

/* ---- conversions (Cast, Pow) ---- */

/* Loads n elements of `dtype` (element stride `stride`) as double / int64 /
 * uint64. Integer -> double rounds to nearest; float -> int saturates and
 * truncates toward zero, NaN -> 0. */
void lc_ew_load_f64(int dtype, const void *src, int64_t stride, int64_t n, double *dst);
void lc_ew_load_i64(int dtype, const void *src, int64_t stride, int64_t n, int64_t *dst);
/* Stores n values into `dtype` elements (contiguous). From double: one
 * rounding to the target (float16 directly, not through float); to integers
 * saturating toward zero, NaN -> 0; to bool x != 0. From int64/uint64:
 * integers wrap modulo 2^bits; floats round once. */
void lc_ew_store_f64(int dtype, const double *src, int64_t n, void *dst);
void lc_ew_store_i64(int dtype, const int64_t *src, int64_t n, void *dst);
void lc_ew_store_u64(int dtype, const uint64_t *src, int64_t n, void *dst);

/* Kind of canonical value a dtype converts through: 'f' (double), 'i'
 * (int64: signed ints and bool), 'u' (uint64), 0 for unsupported. */
int lc_ew_kind(int dtype);

/* double -> float16 bits with one rounding (nearest even). */
uint16_t lc_ew_double_to_half(double d);
/* float <-> bfloat16 (nearest even; NaN stays NaN). */
uint16_t lc_ew_float_to_bf16(float f);
float lc_ew_bf16_to_float(uint16_t h);

/* Message naming an unsupported dtype for the op (returns the status). */
lc_status lc_ew_bad_dtype(const lc_kernel_args *a, const char *what, int dtype);

/* ---- row generators ----
 * OP is a function-like macro OP(T, x, y) (or OP(T, x) for unary rows);
 * T is the output type. Unary rows assume contiguous input and output. */

#define LC_EW_ROW2(name, TA, TB, TO, OP)                                                                     \
    static void name(int64_t n, const void *const *in_, const int64_t *st_, void *out_, const void *ctx_)     \
    {                                                                                                        \
        const TA *a_ = in_[0];                                                                               \
        const TB *b_ = in_[1];                                                                               \
        TO *o_ = out_;                                                                                       \
        const lc_ew_params *p = ctx_;                                                                        \
        (void)p;                                                                                             \
        int64_t sa_ = st_[0], sb_ = st_[1];                                                                  \
        if (sa_ == 1 && sb_ == 1) {                                                                          \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, a_[i], b_[i]);                                    \
        } else if (sa_ == 1 && sb_ == 0) {                                                                   \
            const TB y_ = b_[0];                                                                             \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, a_[i], y_);                                       \
        } else if (sa_ == 0 && sb_ == 1) {                                                                   \
            const TA x_ = a_[0];                                                                             \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, x_, b_[i]);                                       \
        } else {                                                                                             \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, a_[i * sa_], b_[i * sb_]);                        \
        }                                                                                                    \
    }

#define LC_EW_ROW1(name, TI, TO, OP)                                                                         \
    static void name(int64_t n, const void *const *in_, const int64_t *st_, void *out_, const void *ctx_)     \
    {                                                                                                        \
        const TI *x_ = in_[0];                                                                               \
        TO *o_ = out_;                                                                                       \
        const lc_ew_params *p = ctx_;                                                                        \
        (void)p;                                                                                             \
        int64_t s_ = st_[0];                                                                                 \
        if (s_ == 1)                                                                                         \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, x_[i]);                                           \
        else                                                                                                 \
            for (int64_t i = 0; i < n; i++) o_[i] = OP(TO, x_[i * s_]);                                      \
    }

/* X(suffix, C type, lc_dtype) lists. */
#define LC_EW_FLOATS(X) X(f32, float, LC_DTYPE_FLOAT) X(f64, double, LC_DTYPE_DOUBLE)
#define LC_EW_SINTS(X)                                                                                       \
    X(i8, int8_t, LC_DTYPE_INT8)                                                                             \
    X(i16, int16_t, LC_DTYPE_INT16) X(i32, int32_t, LC_DTYPE_INT32) X(i64, int64_t, LC_DTYPE_INT64)
#define LC_EW_UINTS(X)                                                                                       \
    X(u8, uint8_t, LC_DTYPE_UINT8)                                                                           \
    X(u16, uint16_t, LC_DTYPE_UINT16) X(u32, uint32_t, LC_DTYPE_UINT32) X(u64, uint64_t, LC_DTYPE_UINT64)
#define LC_EW_INTS(X) LC_EW_SINTS(X) LC_EW_UINTS(X)
#define LC_EW_NUMERIC(X) LC_EW_FLOATS(X) LC_EW_INTS(X)

/* Integer arithmetic that wraps modulo 2^bits instead of overflowing
 * (signed overflow is undefined in C; ONNX Runtime wraps in practice). */
#define LC_EW_WRAP_ADD(T, x, y) ((T)((uint64_t)(x) + (uint64_t)(y)))
#define LC_EW_WRAP_SUB(T, x, y) ((T)((uint64_t)(x) - (uint64_t)(y)))
#define LC_EW_WRAP_MUL(T, x, y) ((T)((uint64_t)(x) * (uint64_t)(y)))

/* Defines the kernel descriptor lc_kernel_<op>_<since> (fields as in
 * lc_kernel; the state is an lc_ew_state). */
#define LC_EW_KERNEL(op, since, min_inputs, flags, prepare, run, fusion) \
    const lc_kernel lc_kernel_##op##_##since = {#op, since, min_inputs, flags, prepare, run, lc_ew_state_free, fusion};

#endif
