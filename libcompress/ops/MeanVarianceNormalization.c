/* MeanVarianceNormalization: (x - mean) / (sqrt(var) + 1e-9), mean and
 * (biased) variance over `axes` (default [0, 2, 3]); float32. The epsilon
 * placement follows ONNX's function body. */
#include <math.h>
#include <stdlib.h>

#include "lc_nn.h"
#include "lc_shape.h"

typedef struct {
    bool mask[LC_MAX_DIMS];
} mvn_state;

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0] || a->n_out < 1 || !a->out[0])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    const lc_value *x = a->in[0];
    lc_status s = lc_nn_need_float(x, "X");
    if (s) return s;
    int64_t axes[LC_MAX_DIMS] = {0, 2, 3};
    int n = 3;
    if (lc_node_attr(a->node, "axes")) {
        s = lc_attr_ints(a->node, "axes", axes, LC_MAX_DIMS, &n);
        if (s) return s;
    }
    mvn_state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    s = lc_axes_mask(axes, n, x->ndim, st->mask);
    if (s) return s;
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

static lc_status run(lc_kernel_args *a)
{
    const mvn_state *st = a->state;
    const lc_value *x = a->in[0];
    const float *xd = x->data;
    float *yd = a->out[0]->data;
    int nd = x->ndim;
    int64_t xn = lc_value_numel(x), kdims[LC_MAX_DIMS], ostr[LC_MAX_DIMS], on = 1, count = 1;
    for (int d = 0; d < nd; d++) {
        kdims[d] = st->mask[d] ? 1 : x->dims[d];
        on *= kdims[d];
        if (st->mask[d]) count *= x->dims[d];
    }
    if (!xn) return LC_OK;
    lc_contig_strides(nd, kdims, ostr);
    for (int d = 0; d < nd; d++)
        if (st->mask[d]) ostr[d] = 0;
    double *sum = calloc((size_t)on * 2, sizeof *sum);
    if (!sum) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    double *sq = sum + on;
    /* two walks over the input: moments, then the normalized values */
    for (int pass = 0; pass < 2; pass++) {
        int64_t idx[LC_MAX_DIMS] = {0}, o = 0;
        for (int64_t i = 0; i < xn; i++) {
            double v = xd[i];
            if (pass == 0) {
                sum[o] += v;
                sq[o] += v * v;
            } else {
                double mean = sum[o] / (double)count, var = sq[o] / (double)count - mean * mean;
                yd[i] = (float)((v - mean) / (sqrt(var > 0 ? var : 0) + 1e-9));
            }
            for (int d = nd - 1; d >= 0; d--) {
                o += ostr[d];
                if (++idx[d] < x->dims[d]) break;
                o -= ostr[d] * x->dims[d];
                idx[d] = 0;
            }
        }
    }
    free(sum);
    return LC_OK;
}

const lc_kernel lc_kernel_MeanVarianceNormalization_9 = {"MeanVarianceNormalization", 9, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_MeanVarianceNormalization_13 = {"MeanVarianceNormalization", 13, 1, 0, prepare, run, free, NULL};
