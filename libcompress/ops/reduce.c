/* The reduction framework of every Reduce* kernel (see lc_reduce.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_reduce.h"
#include "lc_shape.h"

typedef struct {
    lc_reduce_kind kind;
    lc_reduce_axes axes;
} reduce_state;

lc_status lc_reduce_setup(lc_kernel_args *a, int64_t axes_input_since, lc_reduce_axes *r)
{
    const lc_value *x = a->in[0];
    int64_t axes[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    int n, nd = 0;
    bool given;
    lc_status s = lc_read_axes(a, "axes", axes_input_since, 1, axes, LC_MAX_DIMS, &n, &given);
    if (s) return s;
    memset(r, 0, sizeof *r);
    bool keep = lc_node_attr_int(a->node, "keepdims", 1) != 0;
    if (n == 0) {
        r->noop = a->opset >= axes_input_since && lc_node_attr_int(a->node, "noop_with_empty_axes", 0) != 0;
        for (int d = 0; d < x->ndim; d++) r->mask[d] = !r->noop;
    } else if ((s = lc_axes_mask(axes, n, x->ndim, r->mask))) {
        return s;
    }
    for (int d = 0; d < x->ndim; d++) {
        if (!r->mask[d]) dims[nd++] = x->dims[d];
        else if (keep) dims[nd++] = 1;
    }
    return lc_value_set_shape(a->out[0], x->dtype, nd, dims);
}

void lc_reduce_walk_init(lc_reduce_walk *w, const lc_value *x, const bool *mask)
{
    int64_t kdims[LC_MAX_DIMS];
    memset(w, 0, sizeof *w);
    w->nd = x->ndim;
    w->count = 1;
    for (int d = 0; d < x->ndim; d++) {
        w->dims[d] = x->dims[d];
        kdims[d] = mask[d] ? 1 : x->dims[d];
        if (mask[d]) w->count *= x->dims[d];
    }
    lc_contig_strides(x->ndim, kdims, w->ostr);
    for (int d = 0; d < x->ndim; d++)
        if (mask[d]) w->ostr[d] = 0;
}

static bool dtype_ok(int dtype, lc_reduce_kind kind)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT:
    case LC_DTYPE_DOUBLE:
    case LC_DTYPE_INT32:
    case LC_DTYPE_INT64: return true;
    case LC_DTYPE_INT8:
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return kind == LC_REDUCE_MIN || kind == LC_REDUCE_MAX;
    default: return false;
    }
}

lc_status lc_reduce_prepare(lc_kernel_args *a, int64_t axes_input_since, lc_reduce_kind kind)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    if (!dtype_ok(x->dtype, kind))
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s, which is not supported", x->name,
                       lc_dtype_name(x->dtype));
    reduce_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->kind = kind;
    lc_status s = lc_reduce_setup(a, axes_input_since, &st->axes);
    if (s) {
        free(st);
        return s;
    }
    a->state = st;
    return LC_OK;
}

void lc_reduce_free(void *state)
{
    free(state);
}

static double load_f(const lc_value *v, int64_t i)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[i];
    case LC_DTYPE_DOUBLE: return ((const double *)v->data)[i];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    case LC_DTYPE_INT8: return ((const int8_t *)v->data)[i];
    case LC_DTYPE_UINT8:
    case LC_DTYPE_BOOL: return ((const uint8_t *)v->data)[i];
    default: return (double)((const int64_t *)v->data)[i];
    }
}

/* Stores f (float outputs) or k (integer outputs, already in range). */
static void store(lc_value *v, int64_t i, double f, int64_t k)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: ((float *)v->data)[i] = (float)f; break;
    case LC_DTYPE_DOUBLE: ((double *)v->data)[i] = f; break;
    case LC_DTYPE_INT64: ((int64_t *)v->data)[i] = k; break;
    case LC_DTYPE_INT32: ((int32_t *)v->data)[i] = (int32_t)k; break;
    case LC_DTYPE_INT8: ((int8_t *)v->data)[i] = (int8_t)k; break;
    default: ((uint8_t *)v->data)[i] = (uint8_t)k; break;
    }
}

/* The kinds int64 inputs accumulate in int64 (wrapping); products and
 * sums of squares go through double and saturate, as in ONNX Runtime. */
static bool int64_exact(lc_reduce_kind k)
{
    return k == LC_REDUCE_SUM || k == LC_REDUCE_MEAN || k == LC_REDUCE_MAX || k == LC_REDUCE_MIN || k == LC_REDUCE_L1;
}

/* A double result as an integer of `dtype`, truncated toward zero and
 * saturated to the type's range (+inf: the max, -inf and NaN: the min). */
static int64_t to_int(double v, int dtype)
{
    if (dtype == LC_DTYPE_INT64) /* 2^63 is exact in double; INT64_MAX is not */
        return isnan(v) || v < -0x1p63 ? INT64_MIN : v >= 0x1p63 ? INT64_MAX : (int64_t)v;
    double lo, hi;
    switch (dtype) {
    case LC_DTYPE_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
    case LC_DTYPE_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
    case LC_DTYPE_UINT8: lo = 0, hi = UINT8_MAX; break;
    default: lo = 0, hi = 1; break; /* bool */
    }
    return isnan(v) ? (int64_t)lo : (int64_t)(v < lo ? lo : v > hi ? hi : v);
}

/* int64 inputs of the int64_exact kinds: int64 accumulators (wrapping). */
static void reduce_int64(lc_reduce_kind kind, const lc_value *x, lc_value *y, const bool *mask, int64_t *acc, int64_t on)
{
    lc_reduce_walk w;
    for (int64_t j = 0; j < on; j++)
        acc[j] = kind == LC_REDUCE_MIN ? INT64_MAX : kind == LC_REDUCE_MAX ? INT64_MIN : 0;
    lc_reduce_walk_init(&w, x, mask);
    const int64_t xn = lc_value_numel(x), count = w.count;
    const int64_t *xd = x->data;
    for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
        int64_t v = xd[i], *a = &acc[w.o];
        switch (kind) {
        case LC_REDUCE_MIN: *a = v < *a ? v : *a; break;
        case LC_REDUCE_MAX: *a = v > *a ? v : *a; break;
        case LC_REDUCE_L1: *a = (int64_t)((uint64_t)*a + (v < 0 ? 0 - (uint64_t)v : (uint64_t)v)); break;
        default: *a = (int64_t)((uint64_t)*a + (uint64_t)v); break; /* SUM, MEAN */
        }
    }
    for (int64_t j = 0; j < on; j++) store(y, j, 0, kind == LC_REDUCE_MEAN ? (count ? acc[j] / count : 0) : acc[j]);
}

/* Floating inputs, int32 and narrower inputs, and int64 inputs of the
 * float-valued kinds: double accumulators. */
static lc_status reduce_doubles(lc_reduce_kind kind, const lc_value *x, lc_value *y, const bool *mask, double *acc,
                                int64_t on)
{
    lc_reduce_walk w;
    const int64_t xn = lc_value_numel(x);
    const bool is_int = y->dtype != LC_DTYPE_FLOAT && y->dtype != LC_DTYPE_DOUBLE;
    double *mx = NULL;
    if (kind == LC_REDUCE_LOGSUMEXP) {
        /* pass 1 of log-sum-exp: the max of each output's inputs */
        if (!(mx = malloc((size_t)on * sizeof *mx))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        for (int64_t j = 0; j < on; j++) mx[j] = -INFINITY;
        lc_reduce_walk_init(&w, x, mask);
        for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
            double v = load_f(x, i);
            if (v > mx[w.o]) mx[w.o] = v;
        }
        for (int64_t j = 0; j < on; j++)
            if (!isfinite(mx[j])) mx[j] = 0; /* all -inf (or +inf): no shift */
    }
    for (int64_t j = 0; j < on; j++)
        acc[j] = kind == LC_REDUCE_MIN ? INFINITY : kind == LC_REDUCE_MAX ? -INFINITY : kind == LC_REDUCE_PROD ? 1 : 0;
    lc_reduce_walk_init(&w, x, mask);
    const int64_t count = w.count;
    for (int64_t i = 0; i < xn; i++, lc_reduce_walk_next(&w)) {
        double v = load_f(x, i), *a = &acc[w.o];
        switch (kind) {
        case LC_REDUCE_MIN: *a = v < *a || isnan(v) ? v : *a; break;
        case LC_REDUCE_MAX: *a = v > *a || isnan(v) ? v : *a; break;
        case LC_REDUCE_PROD: *a *= v; break;
        case LC_REDUCE_L1: *a += fabs(v); break;
        case LC_REDUCE_L2:
        case LC_REDUCE_SUMSQUARE: *a += v * v; break;
        /* integer inputs: each term truncated, as ONNX Runtime sums in the
         * element type */
        case LC_REDUCE_LOGSUMEXP: *a += is_int ? trunc(exp(v - mx[w.o])) : exp(v - mx[w.o]); break;
        default: *a += v; break; /* SUM, MEAN, LOGSUM */
        }
    }
    for (int64_t j = 0; j < on; j++) {
        double v = acc[j];
        if (kind == LC_REDUCE_MEAN) v = v / (double)count;
        else if (kind == LC_REDUCE_L2) v = sqrt(v);
        else if (kind == LC_REDUCE_LOGSUM) v = log(v);
        else if (kind == LC_REDUCE_LOGSUMEXP) v = log(v) + mx[j];
        store(y, j, v, is_int ? to_int(v, y->dtype) : 0);
    }
    free(mx);
    return LC_OK;
}

lc_status lc_reduce_run(lc_kernel_args *a)
{
    const reduce_state *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    int64_t on = lc_value_numel(y);
    if (st->axes.noop) {
        lc_copy_value(y, x);
        return LC_OK;
    }
    if (!on) return LC_OK;
    const bool ints = x->dtype == LC_DTYPE_INT64 && int64_exact(st->kind);
    void *acc = malloc((size_t)on * (ints ? sizeof(int64_t) : sizeof(double)));
    if (!acc) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = LC_OK;
    if (ints) reduce_int64(st->kind, x, y, st->axes.mask, acc, on);
    else s = reduce_doubles(st->kind, x, y, st->axes.mask, acc, on);
    free(acc);
    return s;
}
