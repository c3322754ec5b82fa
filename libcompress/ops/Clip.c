/* Clip: clamp(x, min, max). Before opset 11 the bounds are float
 * attributes (defaults: the float range); from 11 they are optional scalar
 * inputs of x's dtype (omitted: no bound), read at run time since they
 * need not be constants. NaN stays NaN; min > max gives max (numpy). */
#include <float.h>

#include "lc_elementwise.h"

#define DEF(s, T, D)                                                                                         \
    static void clip_##s(int64_t n, const void *const *in, const int64_t *st, void *out, const void *ctx)     \
    {                                                                                                        \
        const lc_ew_params *p = ctx;                                                                         \
        const T lo = p->lo.s, hi = p->hi.s, *x = in[0];                                                      \
        T *o = out;                                                                                          \
        (void)st; /* unary rows are always contiguous */                                                     \
        for (int64_t i = 0; i < n; i++) {                                                                    \
            T v = x[i] < lo ? lo : x[i];                                                                     \
            o[i] = v > hi ? hi : v;                                                                          \
        }                                                                                                    \
    }
LC_EW_NUMERIC(DEF)

#define REG(s, T, D) [D] = clip_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

/* The whole range of the dtype: what an omitted bound means. */
static void full_range(int dtype, lc_ew_scalar *lo, lc_ew_scalar *hi)
{
    switch (dtype) {
    case LC_DTYPE_DOUBLE: lo->f64 = -INFINITY, hi->f64 = INFINITY; break;
    case LC_DTYPE_INT8: lo->i8 = INT8_MIN, hi->i8 = INT8_MAX; break;
    case LC_DTYPE_INT16: lo->i16 = INT16_MIN, hi->i16 = INT16_MAX; break;
    case LC_DTYPE_INT32: lo->i32 = INT32_MIN, hi->i32 = INT32_MAX; break;
    case LC_DTYPE_INT64: lo->i64 = INT64_MIN, hi->i64 = INT64_MAX; break;
    case LC_DTYPE_UINT8: lo->u8 = 0, hi->u8 = UINT8_MAX; break;
    case LC_DTYPE_UINT16: lo->u16 = 0, hi->u16 = UINT16_MAX; break;
    case LC_DTYPE_UINT32: lo->u32 = 0, hi->u32 = UINT32_MAX; break;
    case LC_DTYPE_UINT64: lo->u64 = 0, hi->u64 = UINT64_MAX; break;
    default: lo->f32 = -INFINITY, hi->f32 = INFINITY; /* float and the half types (computed as float) */
    }
}

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    int dt = a->in[0]->dtype;
    full_range(dt, &st->p.lo, &st->p.hi);
    if (a->opset < 11) {
        if (dt != LC_DTYPE_FLOAT && dt != LC_DTYPE_DOUBLE && !lc_ew_is_half(dt))
            return lc_ew_bad_dtype(a, "input (before opset 11)", dt);
        float lo = lc_node_attr_float(a->node, "min", -FLT_MAX), hi = lc_node_attr_float(a->node, "max", FLT_MAX);
        if (dt == LC_DTYPE_DOUBLE) st->p.lo.f64 = lo, st->p.hi.f64 = hi;
        else st->p.lo.f32 = lo, st->p.hi.f32 = hi;
        return LC_OK;
    }
    for (int k = 1; k <= 2 && k < a->n_in; k++) {
        const lc_value *b = a->in[k];
        if (!b) continue;
        if (b->dtype != dt)
            return lc_fail(LC_ERR_DTYPE, "%s is %s, input is %s", k == 1 ? "min" : "max", lc_dtype_name(b->dtype),
                           lc_dtype_name(dt));
        if (lc_value_numel(b) > 1)
            return lc_fail(LC_ERR_SHAPE, "%s must be a scalar, has shape [%s]", k == 1 ? "min" : "max",
                           lc_dims_str(b->ndim, b->dims));
    }
    return LC_OK;
}

static void read_bound(const lc_value *b, lc_ew_scalar *dst)
{
    if (!b || lc_value_numel(b) < 1) return;
    if (lc_ew_is_half(b->dtype)) dst->f32 = (float)lc_value_scalar(b);
    else memcpy(dst, b->data, lc_dtype_size(b->dtype));
}

static lc_status run(lc_kernel_args *a)
{
    const lc_ew_state *st = a->state;
    lc_ew_params p = st->p;
    lc_ew_adapter ad = st->adapter;
    if (a->opset >= 11) {
        if (a->n_in > 1) read_bound(a->in[1], &p.lo);
        if (a->n_in > 2) read_bound(a->in[2], &p.hi);
    }
    const void *ctx = &p;
    if (st->fn == lc_ew_adapter_row) {
        ad.ctx = &p;
        ctx = &ad;
    }
    const void *x[1] = {a->in[0]->data};
    int64_t one = 1, n = lc_value_numel(a->in[0]);
    if (n > 0) st->fn(n, x, &one, a->out[0]->data, ctx);
    return LC_OK;
}

/* Fusion: runs as a Conv/Gemm epilogue when its bounds are known at plan
 * time (attributes, or constant float32 scalars). */
static bool as_epilogue(const lc_kernel_args *a, lc_nn_epilogue *e)
{
    e->lo = -INFINITY;
    e->hi = INFINITY;
    if (a->opset < 11) {
        e->lo = lc_node_attr_float(a->node, "min", -INFINITY);
        e->hi = lc_node_attr_float(a->node, "max", INFINITY);
    } else {
        for (int k = 1; k <= 2 && k < a->n_in; k++) {
            const lc_value *v = a->in[k];
            if (!v) continue;
            if (!v->is_const || v->dtype != LC_DTYPE_FLOAT || lc_value_numel(v) != 1) return false;
            *(k == 1 ? &e->lo : &e->hi) = ((const float *)v->data)[0];
        }
    }
    e->act = LC_NN_ACT_CLIP;
    return true;
}

static const lc_fusion fusion = {.as_epilogue = as_epilogue};

LC_EW_KERNEL(Clip, 1, 1, 0, prepare, run, &fusion)
LC_EW_KERNEL(Clip, 6, 1, 0, prepare, run, &fusion)
LC_EW_KERNEL(Clip, 11, 1, 0, prepare, run, &fusion)
LC_EW_KERNEL(Clip, 12, 1, 0, prepare, run, &fusion)
LC_EW_KERNEL(Clip, 13, 1, 0, prepare, run, &fusion)
