/* Shape: the input's dims as int64; from opset 15 the slice [start, end)
 * of them (negative values count from the end, then clamp to [0, rank]). */
#include "lc_shape.h"

static void range(const lc_kernel_args *a, int rank, int64_t *start, int64_t *end)
{
    int64_t b = 0, e = rank;
    if (a->opset >= 15) {
        b = lc_node_attr_int(a->node, "start", 0);
        e = lc_node_attr_int(a->node, "end", rank);
    }
    if (b < 0) b += rank;
    if (e < 0) e += rank;
    *start = b < 0 ? 0 : b > rank ? rank : b;
    *end = e < 0 ? 0 : e > rank ? rank : e;
}

static lc_status prepare(lc_kernel_args *a)
{
    int64_t b, e;
    range(a, a->in[0]->ndim, &b, &e);
    int64_t n = e > b ? e - b : 0;
    return lc_value_set_shape(a->out[0], LC_DTYPE_INT64, 1, &n);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t b, e, *y = a->out[0]->data;
    range(a, x->ndim, &b, &e);
    for (int64_t i = b; i < e; i++) y[i - b] = x->dims[i];
    return LC_OK;
}

const lc_kernel lc_kernel_Shape_1 = {"Shape", 1, 1, LC_OPF_SHAPE_ONLY, prepare, run, NULL, NULL};
