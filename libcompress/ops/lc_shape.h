/*
 * lc_shape.h - helpers shared by the shape/index kernels
 * (internal; implemented in libcompress/ops/shape_util.c).
 *
 * Data-movement kernels work on bytes: they look only at the element size
 * of a dtype, so one code path serves float32, int64, bool, float16, ...
 * Strides are in elements, may be negative (Slice with negative steps) or
 * zero (Expand, Tile).
 */
#ifndef LC_SHAPE_H
#define LC_SHAPE_H

#include "lc_exec.h"

/* Rank limit of a strided view (Tile views a rank-r tensor as rank 2r). */
#define LC_VIEW_MAX_DIMS (2 * LC_MAX_DIMS)

/* Input i of the node, or NULL when it is omitted or beyond n_in. */
const lc_value *lc_input(const lc_kernel_args *a, int i);

/* LC_ERR_UNSUPPORTED naming the dtype when `v`'s elements have no fixed
 * size (string, undefined); `what` names the input in the message. */
lc_status lc_need_sized(const lc_value *v, const char *what);

/* LC_ERR_UNSUPPORTED naming the dtype unless `v` is float32 (or, when
 * `ints` is true, int32/int64); `what` names the input. */
lc_status lc_need_numeric(const lc_value *v, const char *what, bool ints);

/* Row-major element strides of a shape. */
void lc_contig_strides(int ndim, const int64_t *dims, int64_t *strides);

/* Product of dims[from..to) (1 for an empty range). */
int64_t lc_dims_prod(const int64_t *dims, int from, int to);

/* Copies the strided view of `src` (element offset `offset`, shape `dims`,
 * element strides `strides`, rank <= LC_VIEW_MAX_DIMS) into contiguous
 * `dst`. Elements are `es` bytes. */
void lc_copy_view(void *dst, const void *src, size_t es, int ndim, const int64_t *dims, const int64_t *strides,
                  int64_t offset);

/* Copies in's bytes to out (same element count and dtype). */
void lc_copy_value(lc_value *out, const lc_value *in);

/* Reads a 1-D (or scalar) constant of float32/float64/float16/int32/int64
 * into doubles (at most `max`); *n = count. LC_ERR_UNSUPPORTED when not
 * constant, LC_ERR_DTYPE for other dtypes. */
lc_status lc_value_read_doubles(const lc_value *v, double *out, int max, int *n);

/* The axes of a node that took them as attribute `attr` before opset
 * `input_since` and as optional input number `input_index` from then on.
 * *given is false when neither is present (an empty input counts as given
 * with *n == 0). Values are not normalized. */
lc_status lc_read_axes(const lc_kernel_args *a, const char *attr, int64_t input_since, int input_index, int64_t *axes,
                       int max, int *n, bool *given);

/* Normalizes `n` axes for rank `ndim` into mask[0..ndim) (true = listed);
 * LC_ERR_INVALID_ARGUMENT on an out-of-range or repeated axis. */
lc_status lc_axes_mask(const int64_t *axes, int n, int ndim, bool *mask);

/* ---- resampling (Resize, Upsample) ---- */

enum { LC_RESIZE_NEAREST, LC_RESIZE_LINEAR, LC_RESIZE_CUBIC };
enum {
    LC_COORD_HALF_PIXEL, LC_COORD_HALF_PIXEL_SYMMETRIC, LC_COORD_PYTORCH_HALF_PIXEL, LC_COORD_ALIGN_CORNERS,
    LC_COORD_ASYMMETRIC, LC_COORD_TF_HALF_PIXEL_FOR_NN, LC_COORD_TF_CROP_AND_RESIZE
};
enum { LC_NEAREST_ROUND_PREFER_FLOOR, LC_NEAREST_ROUND_PREFER_CEIL, LC_NEAREST_FLOOR, LC_NEAREST_CEIL };

/* What Resize/Upsample resolved from their attributes and inputs. Per-axis
 * arrays are indexed by input axis. */
typedef struct lc_resize_params {
    int mode, coord, nearest;
    double cubic_a;
    bool exclude_outside;
    float extrapolation;
    int64_t out_dims[LC_MAX_DIMS];
    double scales[LC_MAX_DIMS];     /* used by the coordinate transform */
    bool exact_len;                 /* out_dims came from `sizes` (stretch): the
                                       transforms use them, not in * scale */
    double roi_start[LC_MAX_DIMS], roi_end[LC_MAX_DIMS];
} lc_resize_params;

/* Builds per-axis sampling tables into a->state and sets the output shape.
 * Nearest works for any sized dtype; linear, cubic and tf_crop_and_resize
 * need float32. */
lc_status lc_resize_plan(lc_kernel_args *a, const lc_resize_params *p);
lc_status lc_resize_run(lc_kernel_args *a);
void lc_resize_free(void *state);

#endif
