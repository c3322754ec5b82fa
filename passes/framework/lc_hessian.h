/*
 * lc_hessian.h - second-order (OBS / SparseGPT / GPTQ) machinery shared by
 * prune-hessian and quantize-gptq (internal).
 *
 * The layer-wise objective of both passes is the output reconstruction
 * error ||W X - W' X||^2 of one layer on its calibration inputs X. Its
 * Hessian with respect to a row of W is
 *
 *     H = (2 / n) * sum_x x x^T        (n = number of input vectors x)
 *
 * (SparseGPT's running mean; the scale does not change any decision, only
 * how `damp` reads, which is relative to the mean diagonal anyway).
 *
 * How a layer's weight becomes "rows x columns" matrices with one H each:
 *   Gemm / MatMul  a row is one output feature, a column one input feature;
 *                  x = a row of the input A (a column when Gemm transA=1,
 *                  every leading axis flattened for MatMul);
 *   Conv           one matrix per group: rows are the group's output
 *                  channels, columns (channel, kernel position) in the
 *                  weight's memory order; x = one im2col column of the
 *                  group's input (strides, dilations, pads and auto_pad as
 *                  the Conv kernel reads them);
 *   anything else  (ConvTranspose, MatMul with a batched weight) there is
 *                  no input model: H is the identity, under which the
 *                  SparseGPT sweep is magnitude pruning and GPTQ is
 *                  round-to-nearest. Such layers are logged.
 * Rows are always the output channels along lc_weight::out_axis, so the
 * per-channel parameters of an encoding line up with them.
 *
 * Memory: H takes groups * cols^2 doubles per layer (cols = in_channels /
 * group * kernel size), e.g. 2.7 MB for a 3x3 conv with 64 input channels.
 * Layers with more than LC_HESSIAN_MAX_COLS columns are refused (a 16384
 * column H is 2 GB); exclude them or compress them with another pass.
 *
 * Sequential mode (the default of both passes) compresses layers wave by
 * wave (lc_graph_levels): the layers of one wave depend on no other layer
 * of the wave, and their Hessians are collected in one calibration run of
 * the model in which every earlier wave is already compressed.
 */
#ifndef LC_HESSIAN_H
#define LC_HESSIAN_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_pass.h"

#define LC_HESSIAN_MAX_COLS 16384

/* How the layer's input vectors are read from the observed node. */
enum { LC_HL_IDENTITY = 0, LC_HL_GEMM = 1, LC_HL_MATMUL = 2, LC_HL_CONV = 3 };

typedef struct lc_hlayer {
    lc_weight w;          /* copy of the target (borrowed pointers) */
    int kind;             /* LC_HL_* */
    int64_t groups;       /* independent matrices (Conv groups; else 1) */
    int64_t rows;         /* rows (output channels) per group */
    int64_t cols;         /* columns per group */
    int64_t inner;        /* elements after out_axis in the tensor */
    double *h;            /* groups * cols * cols: sum of x x^T (upper
                             triangle filled by collection), or NULL */
    int64_t n;            /* input vectors accumulated per group */
    bool collected;       /* h holds this layer's statistics */
    double *xsum;         /* groups * cols: sum of x (filled with h) */
    bool center;          /* H from the centred inputs: (2/n) sum (x - m)(x - m)^T
                             with m the mean input, i.e. the error's variance
                             instead of its second moment, for when a
                             statistics correction (BatchNorm re-estimation,
                             bias correction) removes the error's mean anyway;
                             set before lc_hessian_inverse_chol */
} lc_hlayer;

/* Sets up the geometry of `w` (no H allocated yet). LC_ERR_UNSUPPORTED
 * when its columns exceed LC_HESSIAN_MAX_COLS. */
lc_status lc_hlayer_init(lc_hlayer *L, const lc_weight *w);
/* Frees H (the layer can be collected again). */
void lc_hlayer_release(lc_hlayer *L);

/* Flat index in the weight tensor of element (row r, column j) of group g. */
static inline int64_t lc_hlayer_index(const lc_hlayer *L, int64_t g, int64_t r, int64_t j)
{
    int64_t row = g * L->rows + r;
    return (j / L->inner) * (L->groups * L->rows * L->inner) + row * L->inner + j % L->inner;
}

/* Copies group g of the weight into w (rows x cols, row-major, column i
 * = column perm[i] of the group; perm NULL: natural order) and the
 * tensor's mask into keep (all 1 without a mask). */
void lc_hlayer_load(const lc_hlayer *L, int64_t g, const int64_t *perm, double *w, uint8_t *keep);

/* One calibration run of `m` accumulating H for every layer with
 * select[i] true (NULL: all) that is not yet collected. Layers of kind
 * LC_HL_IDENTITY get no H (collected stays false). */
lc_status lc_hessian_collect(const lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, const bool *select);

/* From the accumulated statistics of group g (or the identity when the
 * layer has none), with its columns reordered by perm (column i of the
 * result is column perm[i] of H; NULL: natural order): marks dead columns (zero diagonal; dead may be NULL),
 * dampens by damp * mean(diag) and writes the upper Cholesky factor U of
 * the inverse, (H + lambda I)^-1 = U^T U (cols x cols, row-major, lower
 * triangle zero). On a failed factorization lambda grows tenfold (at most
 * 8 times); if it still fails U is the diagonal approximation
 * diag(1/sqrt(H_jj + lambda)). U is always finite. *lambda_out and *tries
 * (may be NULL) report what was used. Fails only on LC_ERR_NO_MEMORY. */
lc_status lc_hessian_inverse_chol(const lc_hlayer *L, int64_t g, const int64_t *perm, double damp, double *u,
                                  uint8_t *dead, double *lambda_out, int *tries);

/* Quantizer for lc_obs_sweep: the representable value for w at (row,
 * column) of the current matrix; may record the chosen code. */
typedef double (*lc_sweep_quant_fn)(void *user, int64_t row, int64_t col, double w);

typedef struct lc_sweep_opts {
    int64_t block;            /* columns per lazy-update block (>= 1) */
    double sparsity;          /* fraction pruned in every block (0: none) */
    int nm_n, nm_m;           /* keep n of every m columns (m = 0: none) */
    int64_t nm_segment;       /* N:M groups restart every nm_segment
                                 columns (0: once, at column 0) */
    lc_sweep_quant_fn quant;  /* NULL: kept weights are not quantized */
    void *quant_user;
    const double *row_weight; /* per-row factor on the saliency (what an
                                 error in that row costs downstream); NULL: 1 */
} lc_sweep_opts;

/* The SparseGPT / GPTQ column sweep on w (rows x k, row-major) with U from
 * lc_hessian_inverse_chol. keep (rows x k) is 1 where a weight may be
 * kept, 0 where it is pruned already (it stays pruned and counts towards
 * the quota); on return it holds the final mask. Per block of columns:
 *   - the mask: with `sparsity`, the weights of the block with the
 *     smallest saliency row_weight[r] * w^2 / U_jj^2 (ties: lower flat
 *     index) are pruned,
 *     as many as make round(sparsity * rows * (last column + 1)) pruned
 *     so far (cumulative rounding: exact for the whole matrix); with N:M, in each group of m columns
 *     (chosen when the sweep reaches its first column) the m - n smallest
 *     of each row;
 *   - column by column: q = 0 if pruned, else quant(w) (or w); the error
 *     (w - q) / U_jj is spread over the block's later columns;
 *   - the block's errors are applied to every later column at once.
 * With N:M the block boundaries move so that no group is split. *loss
 * (may be NULL) receives sum (w - q)^2 / U_jj^2 / 2, the OBS estimate of
 * the increase of the layer's squared error per input vector.
 * LC_ERR_NO_MEMORY only. */
lc_status lc_obs_sweep(double *w, int64_t rows, int64_t k, const double *u, uint8_t *keep, const lc_sweep_opts *o,
                       double *loss);

/* Calls fn for every layer once its H is collected, in sequential waves
 * or after one run for all (see above). Layers already collected on entry
 * (e.g. for a global ranking) are not collected again when still valid:
 * in sequential mode only those of the first wave are. H is released
 * after fn. */
typedef lc_status (*lc_hlayer_fn)(void *user, lc_hlayer *L, int index);
lc_status lc_hessian_compress(lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, bool sequential,
                              lc_hlayer_fn fn, void *user);
/* The same with after_wave (may be NULL) called once every layer of a
 * sequential wave is compressed, before the next wave's statistics are
 * collected (e.g. to re-estimate BatchNorm so that later layers see the
 * statistics they will have in the end). */
typedef lc_status (*lc_wave_fn)(void *user, lc_model *m);
lc_status lc_hessian_compress_ex(lc_model *m, const lc_context *ctx, lc_hlayer *layers, int n, bool sequential,
                                 lc_hlayer_fn fn, lc_wave_fn after_wave, void *user);

#endif
