/* Slice: starts/ends/axes are attributes before opset 10 and constant
 * inputs (plus steps) from then on. Negative starts/ends count from the
 * end; out-of-range values are clamped as ONNX specifies (to [0, d] for
 * positive steps, to [-1, d-1] for negative ones). */
#include <stdlib.h>

#include "lc_shape.h"

typedef struct {
    int64_t offset;                 /* element offset of the view's origin */
    int64_t strides[LC_MAX_DIMS];   /* element strides of the view */
} state;

static lc_status read_list(const lc_kernel_args *a, int idx, const char *name, int64_t *out, int *n)
{
    if (a->opset < 10) return lc_attr_ints(a->node, name, out, LC_MAX_DIMS, n);
    const lc_value *v = lc_input(a, idx);
    *n = 0;
    return v ? lc_value_read_ints(v, out, LC_MAX_DIMS, n) : LC_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t starts[LC_MAX_DIMS], ends[LC_MAX_DIMS], axes[LC_MAX_DIMS], steps[LC_MAX_DIMS];
    int64_t dims[LC_MAX_DIMS], in_strides[LC_MAX_DIMS];
    int ns, ne, na, nst;
    bool seen[LC_MAX_DIMS] = {false};
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = read_list(a, 1, "starts", starts, &ns);
    if (!s) s = read_list(a, 2, "ends", ends, &ne);
    if (!s) s = read_list(a, 3, "axes", axes, &na);
    if (!s) s = a->opset < 10 ? LC_OK : read_list(a, 4, "steps", steps, &nst);
    if (s) return s;
    if (a->opset < 10 || !lc_input(a, 4)) {
        nst = ns;
        for (int i = 0; i < ns; i++) steps[i] = 1;
    }
    bool has_axes = a->opset < 10 ? lc_node_attr(a->node, "axes") != NULL : lc_input(a, 3) != NULL;
    if (!has_axes) {
        na = ns;
        for (int i = 0; i < ns; i++) axes[i] = i;
    }
    if (ne != ns || na != ns || nst != ns)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "starts, ends, axes and steps have %d, %d, %d and %d entries", ns, ne, na, nst);
    state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_contig_strides(x->ndim, x->dims, in_strides);
    st->offset = 0;
    for (int d = 0; d < x->ndim; d++) {
        dims[d] = x->dims[d];
        st->strides[d] = in_strides[d];
    }
    for (int i = 0; i < ns; i++) {
        int ax;
        s = lc_norm_axis(axes[i], x->ndim, "axis", &ax);
        if (!s && seen[ax]) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "axis %d is sliced twice", ax);
        if (!s && steps[i] == 0) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "step for axis %d is 0", ax);
        if (s) goto fail;
        seen[ax] = true;
        int64_t d = x->dims[ax], b = starts[i], e = ends[i], step = steps[i], len;
        /* Steps longer than the axis select at most one element; clamping
         * them keeps the arithmetic below from overflowing. */
        if (step > d + 1) step = d + 1;
        if (step < -(d + 1)) step = -(d + 1);
        if (b < 0) b += d;
        if (e < 0) e += d;
        if (d == 0) {
            len = 0;
        } else if (step > 0) {
            b = clamp(b, 0, d);
            e = clamp(e, 0, d);
            len = e > b ? (e - b + step - 1) / step : 0;
        } else {
            b = clamp(b, 0, d - 1);
            e = clamp(e, -1, d - 1);
            len = b > e ? (b - e + (-step) - 1) / (-step) : 0;
        }
        dims[ax] = len;
        if (len > 0) st->offset += b * in_strides[ax];
        st->strides[ax] = step * in_strides[ax];
    }
    s = lc_value_set_shape(a->out[0], x->dtype, x->ndim, dims);
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
    lc_value *y = a->out[0];
    if (lc_value_numel(y) == 0) return LC_OK;
    lc_copy_view(y->data, x->data, lc_dtype_size(x->dtype), y->ndim, y->dims, st->strides, st->offset);
    return LC_OK;
}

const lc_kernel lc_kernel_Slice_1 = {"Slice", 1, 1, 0, prepare, run, free, NULL};
const lc_kernel lc_kernel_Slice_10 = {"Slice", 10, 3, 0, prepare, run, free, NULL};
