/* GlobalLpPool: (sum |x|^p)^(1/p) over all spatial positions of each
 * [n, c] plane, p default 2; float32. The output keeps the rank with
 * spatial dims 1. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    lc_status s = lc_nn_need_float(x, "X");
    if (s) return s;
    if (x->ndim < 2) return lc_fail(LC_ERR_SHAPE, "X must have rank >= 2, has %d", x->ndim);
    /* opset 1 declared p as a float, later opsets as an int */
    const lc_attr *pa = lc_node_attr(a->node, "p");
    double p = !pa ? 2.0 : pa->type == LC_ATTR_FLOAT ? (double)pa->f : (double)pa->i;
    if (!(p > 0)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "p must be positive, is %g", p);
    double *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    *st = p;
    a->state = st;
    int64_t dims[LC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) dims[d] = d < 2 ? x->dims[d] : 1;
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, dims);
}

static lc_status run(lc_kernel_args *a)
{
    double p = *(const double *)a->state;
    const lc_value *x = a->in[0];
    const float *xd = x->data;
    float *yd = a->out[0]->data;
    int64_t planes = x->dims[0] * x->dims[1], inner = 1;
    for (int d = 2; d < x->ndim; d++) inner *= x->dims[d];
    for (int64_t q = 0; q < planes; q++) {
        const float *xs = xd + q * inner;
        double acc = 0;
        if (p == 2) {
            for (int64_t i = 0; i < inner; i++) acc += (double)xs[i] * xs[i];
            yd[q] = (float)sqrt(acc);
        } else if (p == 1) {
            for (int64_t i = 0; i < inner; i++) acc += fabs(xs[i]);
            yd[q] = (float)acc;
        } else {
            for (int64_t i = 0; i < inner; i++) acc += pow(fabs(xs[i]), p);
            yd[q] = (float)pow(acc, 1.0 / p);
        }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_GlobalLpPool_1 = {"GlobalLpPool", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_GlobalLpPool_2 = {"GlobalLpPool", 2, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_GlobalLpPool_22 = {"GlobalLpPool", 22, 1, 0, prepare, run, free, NULL};
