/* LpNormalization: x / ||x||_p along `axis` (default -1), p 1 or 2
 * (default 2); float32. A zero norm leaves zeros (no 0/0 NaN). */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

typedef struct {
    int axis, p;
} lpn_state;

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    lc_status s = lc_nn_need_float(x, "input");
    if (s) return s;
    int axis;
    s = lc_norm_axis(lc_node_attr_int(a->node, "axis", -1), x->ndim, "axis", &axis);
    if (s) return s;
    int64_t p = lc_node_attr_int(a->node, "p", 2);
    if (p != 1 && p != 2) return lc_fail(LC_ERR_INVALID_ARGUMENT, "p must be 1 or 2, is %lld", (long long)p);
    lpn_state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->axis = axis;
    st->p = (int)p;
    a->state = st;
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lpn_state *st = a->state;
    const lc_value *x = a->in[0];
    const float *xd = x->data;
    float *yd = a->out[0]->data;
    int64_t outer = 1, len = x->dims[st->axis], inner = 1;
    for (int d = 0; d < st->axis; d++) outer *= x->dims[d];
    for (int d = st->axis + 1; d < x->ndim; d++) inner *= x->dims[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xs = xd + o * len * inner + i;
            float *ys = yd + o * len * inner + i;
            double norm = 0;
            for (int64_t k = 0; k < len; k++) {
                double v = xs[k * inner];
                norm += st->p == 1 ? fabs(v) : v * v;
            }
            if (st->p == 2) norm = sqrt(norm);
            for (int64_t k = 0; k < len; k++) ys[k * inner] = norm != 0 ? (float)(xs[k * inner] / norm) : 0.0f;
        }
    return LC_OK;
}

const lc_kernel lc_kernel_LpNormalization_1 = {"LpNormalization", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_LpNormalization_22 = {"LpNormalization", 22, 1, 0, prepare, run, free, NULL};
