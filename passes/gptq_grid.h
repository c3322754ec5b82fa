/* gptq_grid.h - the quantization grids of quantize-gptq, shared with
 * prune-hessian's joint mode (bits > 0), which prunes and quantizes in
 * one sweep (internal to passes/; defined in quantize_gptq.c). */
#ifndef LC_GPTQ_GRID_H
#define LC_GPTQ_GRID_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_encoding.h"
#include "lc_hessian.h"

/* What the sweep's quantizer callback needs for one group. */
typedef struct lc_gptq_grid {
    lc_encoding *e;      /* UNIFORM or CODEBOOK, parameters set */
    int64_t row0;        /* channel of the group's row 0 */
    int64_t cols;
    uint8_t *codes;      /* rows x cols, sweep order: the chosen codes */
    int maxq;            /* 2^bits - 1 */
} lc_gptq_grid;

/* lc_sweep_quant_fn for e->kind UNIFORM (nearest code, clamped) and
 * CODEBOOK (nearest centroid of the sorted codebook, ties: the lower). */
double lc_gptq_quant(void *user, int64_t row, int64_t col, double w);

/* Sets up e (kind, parameters) for the layer's current float view and mask:
 * kmeans: the codebook of the kept weights, each weighted by its input's
 * H_jj (the layer's statistics when collected), sorted; else the per
 * channel (axis >= 0) or per tensor asymmetric min/max grid over the kept
 * weights and 0. axis: the encoding's channel axis or -1. shared_zero
 * (uniform, per channel): one zero point for all channels, each channel's
 * scale covering its range with it. */
lc_status lc_gptq_grid_init(lc_encoding *e, const lc_hlayer *L, bool kmeans, int bits, int axis, bool shared_zero);

/* After a sweep wrote the float view and codes: weights that quantized to
 * exactly 0 join the mask's pruned ones (same float view, fewer stored
 * values) and their codes become 0. Only for a tensor that already has a
 * mask (a new mask costs more than it saves on a dense tensor). */
lc_status lc_gptq_prune_zeros(lc_tensor *t);

#endif
