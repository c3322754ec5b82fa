/*
 * lc_reduce.h - the one reduction framework behind every Reduce* kernel
 * (internal; implemented in libcompress/ops/reduce.c).
 *
 * Integer results follow ONNX Runtime (checked by
 * tests/reduce_crosscheck.py): int64 inputs accumulate exactly in int64
 * (wrapping) for sum, mean, max, min and L1; everything else accumulates
 * in double, and integer results are truncated toward zero and saturated
 * to the output type's range (int32 ReduceSum of 2e9 + 2e9 is 2147483647,
 * not a wrapped value). Integer log-sum-exp truncates each term
 * e^(x - max), as ONNX Runtime sums them in the element type.
 */
#ifndef LC_REDUCE_H
#define LC_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_exec.h"

typedef enum {
    LC_REDUCE_SUM,
    LC_REDUCE_MEAN,      /* sum / count; empty: NaN (int32: its min, int64: 0) */
    LC_REDUCE_MAX,       /* NaN propagates; -inf (or the type's min) when empty */
    LC_REDUCE_MIN,       /* NaN propagates; +inf (or the type's max) when empty */
    LC_REDUCE_PROD,      /* 1 when empty */
    LC_REDUCE_L1,        /* sum |x| */
    LC_REDUCE_L2,        /* sqrt(sum x^2) */
    LC_REDUCE_SUMSQUARE, /* sum x^2 */
    LC_REDUCE_LOGSUM,    /* ln(sum x) */
    LC_REDUCE_LOGSUMEXP  /* ln(sum e^x), shifted by the max for stability */
} lc_reduce_kind;

/* Prepares a reduction of kind `kind` whose axes are an attribute before
 * opset `axes_input_since` and an optional input from then on (keepdims,
 * noop_with_empty_axes). float32, float64, int32 and int64 inputs; for
 * LC_REDUCE_MAX and LC_REDUCE_MIN also int8, uint8 and bool. */
lc_status lc_reduce_prepare(lc_kernel_args *a, int64_t axes_input_since, lc_reduce_kind kind);
lc_status lc_reduce_run(lc_kernel_args *a);
void lc_reduce_free(void *state);

/* The reduced axes of a node: read from the attribute before opset
 * `axes_input_since` and from the optional input from then on; empty axes
 * reduce everything unless noop_with_empty_axes (then *noop). Sets the
 * output shape (keepdims) with the input's dtype. */
typedef struct lc_reduce_axes {
    bool noop;              /* empty axes with noop_with_empty_axes */
    bool mask[LC_MAX_DIMS]; /* reduced axes of the input */
} lc_reduce_axes;
lc_status lc_reduce_setup(lc_kernel_args *a, int64_t axes_input_since, lc_reduce_axes *r);

/* Visits a reduction's input in C order, tracking the output element each
 * input element folds into. */
typedef struct lc_reduce_walk {
    int nd;
    int64_t dims[LC_MAX_DIMS], ostr[LC_MAX_DIMS], idx[LC_MAX_DIMS];
    int64_t o;     /* output element of the current input element */
    int64_t count; /* input elements per output element */
} lc_reduce_walk;
void lc_reduce_walk_init(lc_reduce_walk *w, const lc_value *x, const bool *mask);
static inline void lc_reduce_walk_next(lc_reduce_walk *w)
{
    for (int d = w->nd - 1; d >= 0; d--) {
        w->o += w->ostr[d];
        if (++w->idx[d] < w->dims[d]) return;
        w->o -= w->ostr[d] * w->dims[d];
        w->idx[d] = 0;
    }
}

#endif
