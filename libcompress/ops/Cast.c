/* Cast: converts between float, double, float16, bfloat16, bool and the
 * 8..64-bit integer types (strings are not supported). Values go through
 * one canonical type: double from the float types, int64 from signed
 * integers and bool, uint64 from unsigned integers, so integer casts are
 * exact (wrapping modulo 2^bits) and every float result is rounded once.
 * Float to integer truncates toward zero and saturates; NaN gives 0 (C
 * leaves out-of-range conversions undefined). Opset 1 names the target
 * type as a string. */
#include "lc_elementwise.h"

#define CHUNK 256

static const char *const type_names[LC_DTYPE_COUNT] = {
    [LC_DTYPE_FLOAT] = "FLOAT",   [LC_DTYPE_UINT8] = "UINT8",     [LC_DTYPE_INT8] = "INT8",
    [LC_DTYPE_UINT16] = "UINT16", [LC_DTYPE_INT16] = "INT16",     [LC_DTYPE_INT32] = "INT32",
    [LC_DTYPE_INT64] = "INT64",   [LC_DTYPE_STRING] = "STRING",   [LC_DTYPE_BOOL] = "BOOL",
    [LC_DTYPE_FLOAT16] = "FLOAT16", [LC_DTYPE_DOUBLE] = "DOUBLE", [LC_DTYPE_UINT32] = "UINT32",
    [LC_DTYPE_UINT64] = "UINT64", [LC_DTYPE_BFLOAT16] = "BFLOAT16",
};

static lc_status target_dtype(const lc_kernel_args *a, int *to)
{
    const lc_attr *at = lc_node_attr(a->node, "to");
    if (!at) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'to' is missing");
    if (at->type == LC_ATTR_INT) {
        if (at->i <= 0 || at->i >= LC_DTYPE_COUNT)
            return lc_fail(LC_ERR_UNSUPPORTED, "attribute 'to' = %lld is not a known dtype", (long long)at->i);
        *to = (int)at->i;
        return LC_OK;
    }
    if (at->type == LC_ATTR_STRING) {
        for (int d = 1; d < LC_DTYPE_COUNT; d++)
            if (type_names[d] && at->s.data && strcmp(type_names[d], at->s.data) == 0) {
                *to = d;
                return LC_OK;
            }
        return lc_fail(LC_ERR_UNSUPPORTED, "attribute 'to' = '%s' is not a known dtype", at->s.data ? at->s.data : "");
    }
    return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'to' must be an int");
}

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    const lc_value *x = a->in[0];
    int to = 0;
    lc_status s = target_dtype(a, &to);
    if (s) return s;
    if (!lc_ew_kind(x->dtype)) return lc_ew_bad_dtype(a, "input", x->dtype);
    if (!lc_ew_kind(to)) return lc_ew_bad_dtype(a, "target", to);
    return lc_value_set_shape(a->out[0], to, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    lc_value *o = a->out[0];
    int64_t n = lc_value_numel(x);
    size_t ies = lc_dtype_size(x->dtype), oes = lc_dtype_size(o->dtype);
    if (x->dtype == o->dtype) return lc_ew_copy_run(a);
    int kind = lc_ew_kind(x->dtype);
    for (int64_t c = 0; c < n; c += CHUNK) {
        int64_t m = n - c < CHUNK ? n - c : CHUNK;
        const void *src = (const char *)x->data + (size_t)c * ies;
        void *dst = (char *)o->data + (size_t)c * oes;
        if (kind == 'f') {
            double buf[CHUNK];
            lc_ew_load_f64(x->dtype, src, 1, m, buf);
            lc_ew_store_f64(o->dtype, buf, m, dst);
        } else {
            union {
                int64_t i[CHUNK];
                uint64_t u[CHUNK];
            } buf;
            /* unsigned sources load bit-for-bit into int64 and are stored
             * from the same bits read as uint64 */
            lc_ew_load_i64(x->dtype, src, 1, m, buf.i);
            if (kind == 'u') lc_ew_store_u64(o->dtype, buf.u, m, dst);
            else lc_ew_store_i64(o->dtype, buf.i, m, dst);
        }
    }
    return LC_OK;
}

LC_EW_KERNEL(Cast, 1, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Cast, 6, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Cast, 9, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Cast, 13, 1, 0, prepare, run, NULL)
