/* TopK: the k largest (or, with largest=0 from opset 11, smallest)
 * elements along `axis` (default -1) and their int64 indices, sorted (also
 * for sorted=0, which leaves the order open). Equal values keep the lower
 * index first; NaN counts as larger than any number. k is the attribute
 * before opset 10 and a constant int64 input from then on. float32,
 * float64, int32, int64. */
#include <math.h>
#include <stdlib.h>

#include "lc_shape.h"

typedef struct {
    int axis;
    int64_t k;
    bool largest;
} topk_state;

/* One candidate: floats compare by f, integers by i (exact for int64). */
typedef struct {
    double f;
    int64_t i;
    int64_t pos;
} item;

static int cmp_ascending(const item *a, const item *b)
{
    bool na = isnan(a->f), nb = isnan(b->f);
    if (na != nb) return na ? 1 : -1;
    if (a->f != b->f) return a->f < b->f ? -1 : 1;
    if (a->i != b->i) return a->i < b->i ? -1 : 1;
    return 0;
}

static int cmp_largest(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    int c = cmp_ascending(b, a);
    return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int cmp_smallest(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    int c = cmp_ascending(a, b);
    return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0);
    if (!x || a->n_out < 2 || !a->out[0] || !a->out[1])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and outputs Values and Indices");
    if (x->dtype != LC_DTYPE_FLOAT && x->dtype != LC_DTYPE_DOUBLE && x->dtype != LC_DTYPE_INT32 &&
        x->dtype != LC_DTYPE_INT64)
        return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s; supported: float, double, int32, int64", x->name,
                       lc_dtype_name(x->dtype));
    int axis;
    lc_status s = lc_norm_axis(lc_node_attr_int(a->node, "axis", -1), x->ndim, "axis", &axis);
    if (s) return s;
    int64_t k;
    if (a->opset < 10) {
        k = lc_node_attr_int(a->node, "k", -1);
    } else {
        const lc_value *kv = lc_input(a, 1);
        int n;
        if (!kv) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input K");
        s = lc_value_read_ints(kv, &k, 1, &n);
        if (s) return s;
        if (n != 1) return lc_fail(LC_ERR_SHAPE, "K must hold one value");
    }
    if (k < 0 || k > x->dims[axis])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "k = %lld is outside [0, %lld]", (long long)k, (long long)x->dims[axis]);
    topk_state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    st->axis = axis;
    st->k = k;
    st->largest = a->opset < 11 || lc_node_attr_int(a->node, "largest", 1) != 0;
    int64_t dims[LC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) dims[d] = d == axis ? k : x->dims[d];
    s = lc_value_set_shape(a->out[0], x->dtype, x->ndim, dims);
    if (!s) s = lc_value_set_shape(a->out[1], LC_DTYPE_INT64, x->ndim, dims);
    return s;
}

static lc_status run(lc_kernel_args *a)
{
    const topk_state *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *yv = a->out[0], *yi = a->out[1];
    int64_t outer = lc_dims_prod(x->dims, 0, st->axis), len = x->dims[st->axis];
    int64_t inner = lc_dims_prod(x->dims, st->axis + 1, x->ndim), k = st->k;
    if (!k || !outer || !inner) return LC_OK;
    item *it = malloc((size_t)len * sizeof *it);
    if (!it) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            for (int64_t j = 0; j < len; j++) {
                int64_t p = base + j * inner;
                it[j].pos = j;
                it[j].f = 0;
                it[j].i = 0;
                switch (x->dtype) {
                case LC_DTYPE_FLOAT: it[j].f = ((const float *)x->data)[p]; break;
                case LC_DTYPE_DOUBLE: it[j].f = ((const double *)x->data)[p]; break;
                case LC_DTYPE_INT32: it[j].i = ((const int32_t *)x->data)[p]; break;
                default: it[j].i = ((const int64_t *)x->data)[p]; break;
                }
            }
            qsort(it, (size_t)len, sizeof *it, st->largest ? cmp_largest : cmp_smallest);
            int64_t obase = o * k * inner + i;
            for (int64_t j = 0; j < k; j++) {
                int64_t q = obase + j * inner, src = base + it[j].pos * inner;
                ((int64_t *)yi->data)[q] = it[j].pos;
                switch (x->dtype) {
                case LC_DTYPE_FLOAT: ((float *)yv->data)[q] = ((const float *)x->data)[src]; break;
                case LC_DTYPE_DOUBLE: ((double *)yv->data)[q] = ((const double *)x->data)[src]; break;
                case LC_DTYPE_INT32: ((int32_t *)yv->data)[q] = ((const int32_t *)x->data)[src]; break;
                default: ((int64_t *)yv->data)[q] = ((const int64_t *)x->data)[src]; break;
                }
            }
        }
    free(it);
    return LC_OK;
}

const lc_kernel lc_kernel_TopK_1 = {"TopK", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_TopK_10 = {"TopK", 10, 2, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_TopK_11 = {"TopK", 11, 2, 0, prepare, run, free, NULL};
