/* Resize (opset 10, 11, 13, 18) and the resampling core it shares with
 * Upsample.
 *
 * Nearest, linear and cubic interpolation are all separable: resampling
 * one axis at a time gives the n-dimensional result (also for
 * tf_crop_and_resize, whose out-of-range test per axis depends only on the
 * output coordinate along that axis). So the plan is a table per axis
 * mapping each output coordinate to up to four input taps with weights,
 * and run applies the tables axis by axis through scratch buffers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_shape.h"

#define MAX_TAPS 4

typedef struct {
    int64_t n_in, n_out;
    int taps;            /* 0 = identity axis (skipped) */
    int64_t *idx;        /* n_out * taps input indices */
    float *w;            /* n_out * taps weights */
    bool *extrap;        /* n_out flags (tf_crop_and_resize), or NULL */
} axis_table;

typedef struct {
    int ndim;
    bool nearest;
    float extrapolation;
    int order[LC_MAX_DIMS];   /* axes to process, in order */
    int n_order;
    axis_table ax[LC_MAX_DIMS];
} resize_state;

void lc_resize_free(void *state)
{
    resize_state *st = state;
    if (!st) return;
    for (int d = 0; d < st->ndim; d++) {
        free(st->ax[d].idx);
        free(st->ax[d].w);
        free(st->ax[d].extrap);
    }
    free(st);
}

/* Input coordinate of output coordinate x along one axis. Like ONNX's
 * reference, the transforms use the unrounded output length n_in * scale
 * (with `scales`, align_corners downsampling 4 -> floor(2.4) maps x = 1 to
 * 3 / 1.4, not 3). */
static double original(const lc_resize_params *p, int d, double x, int64_t n_in, int64_t n_out)
{
    double s = p->scales[d], len = p->exact_len ? (double)n_out : s * (double)n_in;
    switch (p->coord) {
    case LC_COORD_HALF_PIXEL_SYMMETRIC: {
        double adj = (double)n_out / len, center = (double)n_in / 2;
        return center * (1 - adj) + (x + 0.5) / s - 0.5;
    }
    case LC_COORD_PYTORCH_HALF_PIXEL: return len > 1 ? (x + 0.5) / s - 0.5 : 0;
    case LC_COORD_ALIGN_CORNERS: return len == 1 ? 0 : x * (double)(n_in - 1) / (len - 1);
    case LC_COORD_ASYMMETRIC: return x / s;
    case LC_COORD_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case LC_COORD_TF_CROP_AND_RESIZE: {
        double b = p->roi_start[d], e = p->roi_end[d];
        return len > 1 ? b * (double)(n_in - 1) + x * (e - b) * (double)(n_in - 1) / (len - 1)
                       : 0.5 * (b + e) * (double)(n_in - 1);
    }
    default: return (x + 0.5) / s - 0.5;
    }
}

static int64_t nearest_index(int mode, double x)
{
    double f = floor(x);
    switch (mode) {
    case LC_NEAREST_FLOOR: return (int64_t)f;
    case LC_NEAREST_CEIL: return (int64_t)ceil(x);
    case LC_NEAREST_ROUND_PREFER_CEIL: return (int64_t)(x - f >= 0.5 ? f + 1 : f);
    default: return (int64_t)(x - f > 0.5 ? f + 1 : f);
    }
}

static void cubic_coeffs(double r, double A, double *c)
{
    double t0 = r + 1, t3 = 2 - r, t2 = 1 - r;
    c[0] = ((A * t0 - 5 * A) * t0 + 8 * A) * t0 - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    c[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

static int64_t clampi(int64_t v, int64_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

static lc_status build_axis(const lc_resize_params *p, int d, int64_t n_in, int64_t n_out, axis_table *t)
{
    int taps = p->mode == LC_RESIZE_NEAREST ? 1 : p->mode == LC_RESIZE_LINEAR ? 2 : 4;
    t->n_in = n_in;
    t->n_out = n_out;
    t->taps = taps;
    if (!n_out) return LC_OK;
    t->idx = malloc((size_t)(n_out * taps) * sizeof *t->idx);
    t->w = malloc((size_t)(n_out * taps) * sizeof *t->w);
    if (p->coord == LC_COORD_TF_CROP_AND_RESIZE) t->extrap = calloc((size_t)n_out, sizeof *t->extrap);
    if (!t->idx || !t->w || (p->coord == LC_COORD_TF_CROP_AND_RESIZE && !t->extrap))
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    bool identity = n_in == n_out && !t->extrap;
    for (int64_t x = 0; x < n_out; x++) {
        double xo = original(p, d, (double)x, n_in, n_out);
        int64_t *idx = t->idx + x * taps;
        float *w = t->w + x * taps;
        if (t->extrap && (xo < 0 || xo > (double)(n_in - 1))) {
            t->extrap[x] = true;
            identity = false;
            for (int k = 0; k < taps; k++) {
                idx[k] = 0;
                w[k] = 0;
            }
            continue;
        }
        if (p->mode == LC_RESIZE_NEAREST) {
            idx[0] = clampi(nearest_index(p->nearest, xo), n_in - 1);
            w[0] = 1;
        } else if (p->mode == LC_RESIZE_LINEAR) {
            double c = xo < 0 ? 0 : xo > (double)(n_in - 1) ? (double)(n_in - 1) : xo, f = floor(c);
            idx[0] = (int64_t)f;
            idx[1] = clampi(idx[0] + 1, n_in - 1);
            w[1] = (float)(c - f);
            w[0] = (float)(1 - (c - f));
        } else {
            double f = floor(xo), c[4], sum = 0;
            cubic_coeffs(xo - f, p->cubic_a, c);
            for (int k = 0; k < 4; k++) {
                int64_t i = (int64_t)f - 1 + k;
                if (p->exclude_outside && (i < 0 || i >= n_in)) c[k] = 0;
                sum += c[k];
                idx[k] = clampi(i, n_in - 1);
            }
            for (int k = 0; k < 4; k++) w[k] = (float)(p->exclude_outside && sum != 0 ? c[k] / sum : c[k]);
        }
        /* An axis that maps every x to itself with weight 1 is skipped. */
        for (int k = 0; k < taps; k++)
            if (w[k] != 0 && (idx[k] != x || w[k] != 1)) identity = false;
    }
    if (identity) t->taps = 0;
    return LC_OK;
}

lc_status lc_resize_plan(lc_kernel_args *a, const lc_resize_params *p)
{
    const lc_value *x = a->in[0];
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    if (x->dtype != LC_DTYPE_FLOAT && (p->mode != LC_RESIZE_NEAREST || p->coord == LC_COORD_TF_CROP_AND_RESIZE))
        return lc_fail(LC_ERR_UNSUPPORTED, "input dtype %s is not supported for this mode (float only; nearest without "
                       "tf_crop_and_resize takes any dtype)", lc_dtype_name(x->dtype));
    resize_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->ndim = x->ndim;
    st->nearest = p->mode == LC_RESIZE_NEAREST;
    st->extrapolation = p->extrapolation;
    for (int d = 0; d < x->ndim; d++) {
        if (p->out_dims[d] < 0 || (x->dims[d] == 0 && p->out_dims[d] > 0)) {
            s = lc_fail(LC_ERR_SHAPE, "cannot resize axis %d from %lld to %lld", d, (long long)x->dims[d],
                        (long long)p->out_dims[d]);
            goto fail;
        }
        s = build_axis(p, d, x->dims[d], p->out_dims[d], &st->ax[d]);
        if (s) goto fail;
        if (st->ax[d].taps) st->order[st->n_order++] = d;
    }
    /* Shrinking axes first keeps the scratch buffers small. */
    for (int i = 1; i < st->n_order; i++)
        for (int j = i; j > 0; j--) {
            const axis_table *u = &st->ax[st->order[j - 1]], *v = &st->ax[st->order[j]];
            if ((double)v->n_out * (double)u->n_in >= (double)u->n_out * (double)v->n_in) break;
            int tmp = st->order[j];
            st->order[j] = st->order[j - 1];
            st->order[j - 1] = tmp;
        }
    s = lc_value_set_shape(a->out[0], x->dtype, x->ndim, p->out_dims);
    if (s) goto fail;
    a->state = st;
    return LC_OK;
fail:
    lc_resize_free(st);
    return s;
}

/* One axis: src is [outer, n_in, inner], dst [outer, n_out, inner]. */
static void pass(const resize_state *st, const axis_table *t, const void *src, void *dst, size_t es, int64_t outer,
                 int64_t inner)
{
    size_t row = (size_t)inner * es;
    for (int64_t o = 0; o < outer; o++) {
        const char *s = (const char *)src + (size_t)(o * t->n_in) * row;
        char *dd = (char *)dst + (size_t)(o * t->n_out) * row;
        for (int64_t x = 0; x < t->n_out; x++, dd += row) {
            const int64_t *idx = t->idx + x * t->taps;
            const float *w = t->w + x * t->taps;
            if (t->extrap && t->extrap[x]) {
                for (int64_t i = 0; i < inner; i++) ((float *)dd)[i] = st->extrapolation;
            } else if (st->nearest) {
                memcpy(dd, s + (size_t)idx[0] * row, row);
            } else {
                float *y = (float *)dd;
                for (int64_t i = 0; i < inner; i++) y[i] = 0;
                for (int k = 0; k < t->taps; k++) {
                    if (w[k] == 0) continue;
                    const float *xs = (const float *)(s + (size_t)idx[k] * row);
                    for (int64_t i = 0; i < inner; i++) y[i] += w[k] * xs[i];
                }
            }
        }
    }
}

lc_status lc_resize_run(lc_kernel_args *a)
{
    const resize_state *st = a->state;
    const lc_value *x = a->in[0];
    lc_value *y = a->out[0];
    size_t es = lc_dtype_size(x->dtype);
    if (!lc_value_numel(y)) return LC_OK;
    if (!st->n_order) {
        lc_copy_value(y, x);
        return LC_OK;
    }
    int64_t dims[LC_MAX_DIMS], biggest = 0;
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof *dims);
    for (int i = 0; i < st->n_order - 1; i++) {
        dims[st->order[i]] = st->ax[st->order[i]].n_out;
        int64_t n = lc_dims_prod(dims, 0, x->ndim);
        if (n > biggest) biggest = n;
    }
    void *buf[2] = {NULL, NULL};
    if (st->n_order > 1) {
        buf[0] = malloc((size_t)biggest * es);
        buf[1] = st->n_order > 2 ? malloc((size_t)biggest * es) : NULL;
        if (!buf[0] || (st->n_order > 2 && !buf[1])) {
            free(buf[0]);
            free(buf[1]);
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
    }
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof *dims);
    const void *src = x->data;
    for (int i = 0; i < st->n_order; i++) {
        int d = st->order[i];
        void *dst = i == st->n_order - 1 ? y->data : buf[i % 2];
        pass(st, &st->ax[d], src, dst, es, lc_dims_prod(dims, 0, d), lc_dims_prod(dims, d + 1, x->ndim));
        dims[d] = st->ax[d].n_out;
        src = dst;
    }
    free(buf[0]);
    free(buf[1]);
    return LC_OK;
}

/* ---- the Resize operator ---- */

static lc_status parse_enum(const lc_node *n, const char *attr, const char *def, const char *const *names, int count,
                            int *out)
{
    const char *v = lc_node_attr_string(n, attr, def);
    for (int i = 0; i < count; i++)
        if (names[i] && !strcmp(v, names[i])) {
            *out = i;
            return LC_OK;
        }
    return lc_fail(LC_ERR_UNSUPPORTED, "%s '%s' is not supported", attr, v);
}

static const char *const coord_names[] = {
    [LC_COORD_HALF_PIXEL] = "half_pixel",
    [LC_COORD_HALF_PIXEL_SYMMETRIC] = "half_pixel_symmetric",
    [LC_COORD_PYTORCH_HALF_PIXEL] = "pytorch_half_pixel",
    [LC_COORD_ALIGN_CORNERS] = "align_corners",
    [LC_COORD_ASYMMETRIC] = "asymmetric",
    [LC_COORD_TF_HALF_PIXEL_FOR_NN] = "tf_half_pixel_for_nn",
    [LC_COORD_TF_CROP_AND_RESIZE] = "tf_crop_and_resize",
};
static const char *const mode_names[] = {"nearest", "linear", "cubic"};
static const char *const nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
_Static_assert(sizeof coord_names / sizeof *coord_names == LC_COORD_TF_CROP_AND_RESIZE + 1, "coord_names");
_Static_assert(sizeof mode_names / sizeof *mode_names == LC_RESIZE_CUBIC + 1, "mode_names");
_Static_assert(sizeof nearest_names / sizeof *nearest_names == LC_NEAREST_CEIL + 1, "nearest_names");

/* A constant input, absent when omitted or empty. */
static const lc_value *present(const lc_kernel_args *a, int i)
{
    const lc_value *v = lc_input(a, i);
    return v && lc_value_numel(v) > 0 ? v : NULL;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    const lc_node *n = a->node;
    lc_resize_params p = {.cubic_a = lc_node_attr_float(n, "cubic_coeff_a", -0.75f),
                          .exclude_outside = lc_node_attr_int(n, "exclude_outside", 0) != 0,
                          .extrapolation = lc_node_attr_float(n, "extrapolation_value", 0)};
    int nd = x->ndim, nax = nd, axes[LC_MAX_DIMS];
    double vals[2 * LC_MAX_DIMS];
    int cnt;
    lc_status s = parse_enum(n, "mode", "nearest", mode_names, 3, &p.mode);
    if (s) return s;
    if (a->opset < 11) {
        p.coord = LC_COORD_ASYMMETRIC;
        p.nearest = LC_NEAREST_FLOOR;
    } else {
        s = parse_enum(n, "coordinate_transformation_mode", "half_pixel", coord_names, 7, &p.coord);
        if (!s) s = parse_enum(n, "nearest_mode", "round_prefer_floor", nearest_names, 4, &p.nearest);
        if (s) return s;
        if ((p.coord == LC_COORD_TF_HALF_PIXEL_FOR_NN && a->opset >= 13) ||
            (p.coord == LC_COORD_HALF_PIXEL_SYMMETRIC && a->opset < 19))
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "coordinate_transformation_mode '%s' does not exist in opset %lld",
                           coord_names[p.coord], (long long)a->opset);
    }
    if (a->opset >= 18 && lc_node_attr_int(n, "antialias", 0) && p.mode != LC_RESIZE_NEAREST)
        return lc_fail(LC_ERR_UNSUPPORTED, "antialias=1 is not supported");
    for (int d = 0; d < nd; d++) {
        axes[d] = d;
        p.scales[d] = 1;
        p.out_dims[d] = x->dims[d];
        p.roi_start[d] = 0;
        p.roi_end[d] = 1;
    }
    if (a->opset >= 18 && lc_node_attr(n, "axes")) {
        int64_t ax[LC_MAX_DIMS];
        bool mask[LC_MAX_DIMS];
        s = lc_attr_ints(n, "axes", ax, LC_MAX_DIMS, &nax);
        if (!s) s = lc_axes_mask(ax, nax, nd, mask);
        if (s) return s;
        for (int i = 0; i < nax; i++) axes[i] = (int)(ax[i] < 0 ? ax[i] + nd : ax[i]);
    }
    const lc_value *roi = a->opset >= 11 ? present(a, 1) : NULL;
    const lc_value *scales = present(a, a->opset >= 11 ? 2 : 1);
    const lc_value *sizes = a->opset >= 11 ? present(a, 3) : NULL;
    if (roi && p.coord == LC_COORD_TF_CROP_AND_RESIZE) {
        s = lc_value_read_doubles(roi, vals, 2 * LC_MAX_DIMS, &cnt);
        if (s) return s;
        if (cnt != 2 * nax) return lc_fail(LC_ERR_SHAPE, "roi has %d values, expected %d", cnt, 2 * nax);
        for (int i = 0; i < nax; i++) {
            p.roi_start[axes[i]] = vals[i];
            p.roi_end[axes[i]] = vals[nax + i];
        }
    }
    if (!scales == !sizes) return lc_fail(LC_ERR_INVALID_ARGUMENT, "exactly one of 'scales' and 'sizes' must be given");
    if (scales) {
        s = lc_value_read_doubles(scales, vals, LC_MAX_DIMS, &cnt);
        if (s) return s;
        if (cnt != nax) return lc_fail(LC_ERR_SHAPE, "scales has %d values, expected %d", cnt, nax);
        for (int i = 0; i < nax; i++) {
            if (!(vals[i] > 0)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "scales[%d] is %g, must be > 0", i, vals[i]);
            p.scales[axes[i]] = vals[i];
            p.out_dims[axes[i]] = (int64_t)floor((double)x->dims[axes[i]] * vals[i]);
        }
    } else {
        int64_t sz[LC_MAX_DIMS];
        s = lc_value_read_ints(sizes, sz, LC_MAX_DIMS, &cnt);
        if (s) return s;
        if (cnt != nax) return lc_fail(LC_ERR_SHAPE, "sizes has %d values, expected %d", cnt, nax);
        const char *policy = a->opset >= 18 ? lc_node_attr_string(n, "keep_aspect_ratio_policy", "stretch") : "stretch";
        bool larger = !strcmp(policy, "not_smaller");
        if (strcmp(policy, "stretch") && strcmp(policy, "not_larger") && !larger)
            return lc_fail(LC_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s' is not supported", policy);
        double common = larger ? 0 : INFINITY;
        for (int i = 0; i < nax; i++) {
            int d = axes[i];
            if (sz[i] < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "sizes[%d] is negative", i);
            double r = x->dims[d] ? (double)sz[i] / (double)x->dims[d] : 1;
            p.scales[d] = r;
            p.out_dims[d] = sz[i];
            common = larger ? fmax(common, r) : fmin(common, r);
        }
        p.exact_len = !strcmp(policy, "stretch");
        if (!p.exact_len)
            for (int i = 0; i < nax; i++) {
                int d = axes[i];
                p.scales[d] = common;
                p.out_dims[d] = (int64_t)floor(common * (double)x->dims[d] + 0.5);
            }
    }
    return lc_resize_plan(a, &p);
}

static lc_status run(lc_kernel_args *a)
{
    return lc_resize_run(a);
}

const lc_kernel lc_kernel_Resize_10 = {"Resize", 10, 2, 0, prepare, run, lc_resize_free, NULL};
const lc_kernel lc_kernel_Resize_11 = {"Resize", 11, 3, 0, prepare, run, lc_resize_free, NULL};
const lc_kernel lc_kernel_Resize_13 = {"Resize", 13, 1, 0, prepare, run, lc_resize_free, NULL};
const lc_kernel lc_kernel_Resize_18 = {"Resize", 18, 1, 0, prepare, run, lc_resize_free, NULL};
