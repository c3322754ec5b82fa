/* Tile: repeats the input `repeats[d]` times along each axis (opset 6+:
 * a constant int64 input of length rank). Opset 1 instead took scalar
 * inputs `tiles` and `axis` and tiled one axis. */
#include <stdlib.h>

#include "lc_shape.h"

typedef struct {
    int64_t reps[LC_MAX_DIMS];
} state;

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t dims[LC_MAX_DIMS];
    int n = 0;
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    if (!lc_input(a, 1)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'repeats'");
    state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int d = 0; d < x->ndim; d++) st->reps[d] = 1;
    if (a->opset < 6) {
        int64_t tiles, axis;
        int nt, na, ax;
        s = lc_value_read_ints(a->in[1], &tiles, 1, &nt);
        if (!s) s = lc_input(a, 2) ? lc_value_read_ints(a->in[2], &axis, 1, &na)
                                   : lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input 'axis'");
        if (!s && (nt != 1 || na != 1)) s = lc_fail(LC_ERR_SHAPE, "tiles and axis must be scalars");
        if (!s) s = lc_norm_axis(axis, x->ndim, "axis", &ax);
        if (s) goto fail;
        st->reps[ax] = tiles;
        n = x->ndim;
    } else {
        s = lc_value_read_ints(a->in[1], st->reps, LC_MAX_DIMS, &n);
        if (s) goto fail;
    }
    if (n != x->ndim) {
        s = lc_fail(LC_ERR_SHAPE, "repeats has %d entries, input has rank %d", n, x->ndim);
        goto fail;
    }
    for (int d = 0; d < n; d++) {
        if (st->reps[d] < 0) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "repeats[%d] is negative", d);
            goto fail;
        }
        if (st->reps[d] && x->dims[d] > INT64_MAX / st->reps[d]) {
            s = lc_fail(LC_ERR_SHAPE, "repeats[%d] = %lld makes the output too large", d, (long long)st->reps[d]);
            goto fail;
        }
        dims[d] = x->dims[d] * st->reps[d];
    }
    s = lc_value_set_shape(a->out[0], x->dtype, n, dims);
    if (s) goto fail;
    a->state = st;
    return LC_OK;
fail:
    free(st);
    return s;
}

static lc_status run(lc_kernel_args *a)
{
    const state *st = a->state;
    const lc_value *x = a->in[0];
    int64_t in_strides[LC_MAX_DIMS], dims[LC_VIEW_MAX_DIMS], strides[LC_VIEW_MAX_DIMS];
    lc_contig_strides(x->ndim, x->dims, in_strides);
    /* Output axis d of size r*n, viewed as (r, n) with strides (0, s):
     * out[q*n + i] = in[i]. */
    for (int d = 0; d < x->ndim; d++) {
        dims[2 * d] = st->reps[d];
        strides[2 * d] = 0;
        dims[2 * d + 1] = x->dims[d];
        strides[2 * d + 1] = in_strides[d];
    }
    lc_copy_view(a->out[0]->data, x->data, lc_dtype_size(x->dtype), 2 * x->ndim, dims, strides, 0);
    return LC_OK;
}

const lc_kernel lc_kernel_Tile_1 = {"Tile", 1, 3, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_Tile_6 = {"Tile", 6, 2, 0, prepare, run, free, NULL};
