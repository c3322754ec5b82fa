/* Upsample (opset 7: `scales` attribute; opset 9: `scales` input; removed
 * in 10 in favour of Resize). Output dims are floor(in * scale); coordinates
 * map asymmetrically (x / scale), nearest takes the floor. */
#include <math.h>
#include <string.h>

#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    const char *mode = lc_node_attr_string(a->node, "mode", "nearest");
    lc_resize_params p = {.coord = LC_COORD_ASYMMETRIC, .nearest = LC_NEAREST_FLOOR};
    double scales[LC_MAX_DIMS];
    int n = 0;
    lc_status s = LC_OK;
    if (!strcmp(mode, "nearest")) p.mode = LC_RESIZE_NEAREST;
    else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) p.mode = LC_RESIZE_LINEAR;
    else return lc_fail(LC_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    if (a->opset < 9) {
        const lc_attr *at = lc_node_attr(a->node, "scales");
        if (!at || at->type != LC_ATTR_FLOATS) return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute 'scales' (floats) is required");
        if (at->n > LC_MAX_DIMS) return lc_fail(LC_ERR_SHAPE, "too many scales");
        n = at->n;
        for (int i = 0; i < n; i++) scales[i] = at->floats[i];
    } else {
        s = lc_input(a, 1) ? lc_value_read_doubles(a->in[1], scales, LC_MAX_DIMS, &n)
                           : lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'scales'");
        if (s) return s;
    }
    if (n != x->ndim) return lc_fail(LC_ERR_SHAPE, "scales has %d values, input has rank %d", n, x->ndim);
    for (int d = 0; d < n; d++) {
        if (!(scales[d] > 0)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "scales[%d] is %g, must be > 0", d, scales[d]);
        p.scales[d] = scales[d];
        p.out_dims[d] = (int64_t)floor((double)x->dims[d] * scales[d]);
    }
    return lc_resize_plan(a, &p);
}

static lc_status run(lc_kernel_args *a)
{
    return lc_resize_run(a);
}

const lc_kernel lc_kernel_Upsample_7 = {"Upsample", 7, 1, 0, prepare, run, lc_resize_free, NULL};
const lc_kernel lc_kernel_Upsample_9 = {"Upsample", 9, 2, 0, prepare, run, lc_resize_free, NULL};
