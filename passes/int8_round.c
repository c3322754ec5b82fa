/* quantize-int8's weight rounding (see int8_guard.h): the int8 codes and
 * scales of one weight, shared by the pass and its local damage check. */
#include <math.h>
#include <stdlib.h>

#include "int8_guard.h"
#include "lc_encoding.h"

/* A weight already on a uniform grid (a UNIFORM encoding, e.g. from
 * prune-hessian with bits) whose channels are the scales' channels keeps
 * its integers: scale = the grid step, q = code - zero_point, exactly the
 * float view (no second rounding; the sign of a negative step moves to
 * the integers). False when it does not fit in +-wmax. */
static bool grid_scales(const lc_tensor *w, int axis, bool per_channel, int wmax, float *scale, int8_t *q)
{
    const lc_encoding *e = w->enc;
    if (!e || e->kind != LC_ENC_UNIFORM || !e->codes) return false;
    if (per_channel ? e->axis >= 0 && e->axis != axis : e->axis >= 0) return false;
    int64_t n = lc_tensor_numel(w), ch = per_channel ? w->dims[axis] : 1;
    for (int64_t c = 0; c < ch; c++) {
        float gs = e->scale[e->axis >= 0 ? c : 0];
        if (gs == 0 || !isfinite(gs)) return false;
        scale[c] = fabsf(gs); /* a negative step (BatchNorm folded) flips the integers */
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = lc_encoding_channel(e, w, i);
        int32_t k = e->mask && !e->mask[i] ? 0 : e->codes[i] - e->zero_point[c];
        if (e->scale[c] < 0) k = -k;
        if (k < -wmax || k > wmax) return false;
        q[i] = (int8_t)k;
    }
    return true;
}

void lc_int8_round_weight(const lc_tensor *w, int axis, bool per_channel, int wmax, float *scale, int8_t *q)
{
    int64_t n = lc_tensor_numel(w), ch = per_channel ? w->dims[axis] : 1, inner = 1;
    for (int d = axis + 1; per_channel && d < w->ndim; d++) inner *= w->dims[d];
    const float *v = w->data;
    if (grid_scales(w, axis, per_channel, wmax, scale, q)) return;
    for (int64_t c = 0; c < ch; c++) scale[c] = 0; /* max |v| per channel, in one pass over the weight */
    for (int64_t i = 0; i < n; i++) {
        float *amax = &scale[per_channel ? (i / inner) % ch : 0];
        if (fabsf(v[i]) > *amax) *amax = fabsf(v[i]);
    }
    for (int64_t c = 0; c < ch; c++) scale[c] = scale[c] > 0 ? (float)((double)scale[c] / wmax) : 1.0f;
    for (int64_t i = 0; i < n; i++) {
        double r = nearbyint((double)v[i] / scale[per_channel ? (i / inner) % ch : 0]);
        q[i] = (int8_t)fmin(fmax(r, -wmax), wmax);
    }
}

lc_status lc_int8_dequantized_weight(const lc_tensor *w, int axis, bool per_channel, int wmax, float **out)
{
    int64_t n = lc_tensor_numel(w), ch = per_channel ? w->dims[axis] : 1, inner = 1;
    for (int d = axis + 1; per_channel && d < w->ndim; d++) inner *= w->dims[d];
    float *scale = malloc((size_t)(ch ? ch : 1) * sizeof *scale), *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    int8_t *q = malloc((size_t)(n ? n : 1));
    if (!scale || !v || !q) {
        free(scale);
        free(v);
        free(q);
        return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    }
    lc_int8_round_weight(w, axis, per_channel, wmax, scale, q);
    for (int64_t i = 0; i < n; i++) v[i] = (float)q[i] * scale[per_channel ? (i / inner) % ch : 0];
    free(scale);
    free(q);
    *out = v;
    return LC_OK;
}
