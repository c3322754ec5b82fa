/* ArgMax along `axis` (int64 output; keepdims; select_last_index from
 * opset 12 picks the last of equal maxima). float32, int32, int64. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int axis;
    lc_status s = lc_need_numeric(x, "input", true);
    if (!s) s = lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    if (s) return s;
    if (x->ndim == 0 || x->dims[axis] == 0) return lc_fail(LC_ERR_SHAPE, "cannot take ArgMax over an empty axis");
    bool keep = lc_node_attr_int(a->node, "keepdims", 1) != 0;
    int64_t dims[LC_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != axis) dims[nd++] = x->dims[d];
        else if (keep) dims[nd++] = 1;
    }
    return lc_value_set_shape(a->out[0], LC_DTYPE_INT64, nd, dims);
}

static double load(const lc_value *v, int64_t i)
{
    switch (v->dtype) {
    case LC_DTYPE_FLOAT: return ((const float *)v->data)[i];
    case LC_DTYPE_INT32: return ((const int32_t *)v->data)[i];
    default: return (double)((const int64_t *)v->data)[i];
    }
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int axis;
    lc_norm_axis(lc_node_attr_int(a->node, "axis", 0), x->ndim, "axis", &axis);
    bool last = a->opset >= 12 && lc_node_attr_int(a->node, "select_last_index", 0) != 0;
    int64_t outer = lc_dims_prod(x->dims, 0, axis), n = x->dims[axis], inner = lc_dims_prod(x->dims, axis + 1, x->ndim);
    int64_t *y = a->out[0]->data;
    bool i64 = x->dtype == LC_DTYPE_INT64;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * n * inner + in, best = 0;
            if (i64) {
                const int64_t *p = (const int64_t *)x->data + base;
                for (int64_t k = 1; k < n; k++)
                    if (last ? p[k * inner] >= p[best * inner] : p[k * inner] > p[best * inner]) best = k;
            } else {
                double bv = load(x, base);
                for (int64_t k = 1; k < n; k++) {
                    double v = load(x, base + k * inner);
                    if (last ? v >= bv : v > bv) {
                        best = k;
                        bv = v;
                    }
                }
            }
            y[o * inner + in] = best;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_ArgMax_1 = {"ArgMax", 1, 1, 0, prepare, run, NULL, NULL};
