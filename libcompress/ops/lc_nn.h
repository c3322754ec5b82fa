/*
 * lc_nn.h - helpers shared by the neural-network kernels (internal).
 *
 * Convolutions and pools see up to three spatial axes. To keep one loop
 * nest for 1-D, 2-D and 3-D, lc_nn_geom stores every spatial quantity as
 * three entries [D, H, W]; missing leading axes are filled with size 1,
 * kernel 1, stride 1, dilation 1 and no padding, which changes nothing.
 */
#ifndef LC_NN_H
#define LC_NN_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_exec.h"

#define LC_NN_MAX_SPATIAL 3

typedef struct lc_nn_geom {
    int nsp;                   /* real spatial axes (1..3) */
    int64_t in[3], out[3];     /* spatial sizes, padded to 3 */
    int64_t k[3], stride[3], dil[3];
    int64_t pad_b[3], pad_e[3];
    int64_t in_size, out_size, k_size; /* products over the 3 axes */
} lc_nn_geom;

/* Geometry of a convolution or pooling window over `nsp` spatial axes of
 * sizes `in_sp`. `kernel` gives the window (NULL: read the kernel_shape
 * attribute, which is then required). Reads strides, dilations, pads and
 * auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID) from the node and
 * computes output sizes, floor or ceil (`ceil_mode`) rounding. */
lc_status lc_nn_geom_init(const lc_node *node, int nsp, const int64_t *in_sp, const int64_t *kernel, bool ceil_mode,
                          lc_nn_geom *g);

/* LC_ERR_UNSUPPORTED naming the dtype unless `v` is float32. `what`
 * names the input in the message ("X", "W", ...). */
lc_status lc_nn_need_float(const lc_value *v, const char *what);

/* Reads the `auto_pad` attribute: 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER,
 * 3 VALID; LC_ERR_INVALID_ARGUMENT for anything else. */
lc_status lc_nn_auto_pad(const lc_node *node, int *mode);
enum { LC_PAD_NOTSET = 0, LC_PAD_SAME_UPPER = 1, LC_PAD_SAME_LOWER = 2, LC_PAD_VALID = 3 };

/* Output positions o in [0, n_out) with 0 <= o*stride + off < n_in form
 * one run [*lo, *hi) (empty when lo == hi). */
void lc_nn_valid_range(int64_t n_out, int64_t n_in, int64_t stride, int64_t off, int64_t *lo, int64_t *hi);

/* Per-axis window tables of a pooling geometry: for output position o of
 * axis a (0..2), the window starts at input index start[a][o] and its taps
 * t in [lo[a][o], hi[a][o]) fall inside the input (input index
 * start + t * dil). `padded[a][o]` counts the taps inside the padded
 * input [-pad_b, in + pad_e) (the count_include_pad divisor). */
typedef struct lc_nn_taps {
    int64_t *start[3], *lo[3], *hi[3], *padded[3];
} lc_nn_taps;
lc_status lc_nn_taps_init(const lc_nn_geom *g, lc_nn_taps *t);
void lc_nn_taps_clear(lc_nn_taps *t);

/* im2col for one image and group: x holds `c` channels of g->in; col gets
 * c * g->k_size rows of g->out_size columns, `ld` floats apart (zeros
 * where the window reads padding). */
void lc_nn_im2col(const lc_nn_geom *g, int64_t c, const float *x, float *col, int64_t ld);

/* Plain direct convolution (the oracle for the fast Conv path): x is
 * [n, c, in...], w is [m, c/group, k...], bias (may be NULL) [m],
 * y is [n, m, out...]. Accumulates in double. */
void lc_conv_ref(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                 const float *bias, float *y);

/* The fast convolution on the same arguments; `scratch` holds at least
 * lc_conv_scratch_floats(g, n, c, m, group) floats (may be NULL when
 * that is 0). */
int64_t lc_conv_scratch_floats(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group);
void lc_conv_fast(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x, const float *w,
                  const float *bias, float *y, float *scratch);

/* lc_conv_fast plus an epilogue (`residual` of Y's shape, NULL unless
 * e->residual; e NULL = none). */
void lc_conv_fast_ex(const lc_nn_geom *g, int64_t n, int64_t c, int64_t m, int64_t group, const float *x,
                     const float *w, const float *bias, const float *residual, const lc_nn_epilogue *e, float *y,
                     float *scratch);

/* Applies the epilogue to n contiguous values: dst[i] = act(src[i] + b +
 * (r ? r[i] : 0)); dst may equal src. */
void lc_nn_epilogue_row(float *dst, const float *src, int64_t n, float b, const float *r, const lc_nn_epilogue *e);

/* SIMD level of the kernels, chosen at run time (the build targets
 * generic x86-64; variants are compiled with target attributes):
 * the CPU's best, capped by the environment variable LC_ISA=generic|avx2|
 * avx512. lc_nn_have_avx2: lc_nn_isa() >= LC_ISA_AVX2. */
enum { LC_ISA_GENERIC = 0, LC_ISA_AVX2 = 1, LC_ISA_AVX512 = 2 };
int lc_nn_isa(void);
const char *lc_nn_isa_name(int isa);
bool lc_nn_have_avx2(void);

/* A 2-D (or 1-D) stride-1 convolution as the AVX-512 kernels of
 * conv_avx512.c see it: input planes H x W, output OH x OW, kernel KH x KW
 * with dilations dh, dw and leading pads pt, pl. An unpadded 1x1 one is
 * flattened to a single row of H * W. lc_conv_s1_of: false when g is not
 * such a convolution (or its kernel is wider than LC_CONV_S1_MAX_KW). */
#define LC_CONV_S1_MAX_KW 16

/* The direct Conv kernels sum the products of each block of this many
 * input channels from zero, add the blocks' sums, and add the bias last:
 * one chain of all cg * KH * KW terms started from the bias was rounded
 * 2-3 times further from the exact sum than ONNX Runtime's (its sgemm sums
 * K in blocks and adds the bias after): M-LSD's 3x3 convs over 128
 * channels 4.4e-7 against 1.4e-7 relative RMS, BlazeFace's first 5x5 conv
 * (bias large against the products) 2.2e-7 against 1.3e-7, errors the
 * layers after carry to the outputs. One add per block of 16 * KH * KW
 * FMAs. */
#define LC_CONV_SUM_CHANNELS 16
typedef struct lc_conv_s1 {
    int64_t H, W, OH, OW, KH, KW, dh, dw, pt, pl;
} lc_conv_s1;
bool lc_conv_s1_of(const lc_nn_geom *g, lc_conv_s1 *s);
/* Depthwise, one channel: y = act(conv(x, w) + b + r), r (may be NULL)
 * and y of OH x OW. */
void lc_conv_dw_s1_avx512(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                          const lc_nn_epilogue *e, float *y);
/* The same for 3x3 kernels without dilation with AVX2 (conv_avx2.c). */
void lc_conv_dw3_s1_avx2(const lc_conv_s1 *s, const float *x, const float *w, float b, const float *r,
                         const lc_nn_epilogue *e, float *y);
/* Direct, one block of `ocb` (8, 12 or 16) output channels, the first
 * `valid` stored: x holds cg planes in_size floats apart, wp the block's
 * weights packed [cg * KH * KW][ocb], b its ocb biases; y and r (may be
 * NULL) hold the block's output planes out_size floats apart. */
void lc_conv_dc_s1_avx512(const lc_conv_s1 *s, int64_t cg, int64_t in_size, const float *x, const float *wp,
                          const float *b, int valid, int ocb, int64_t out_size, const float *r,
                          const lc_nn_epilogue *e, float *y);

/* The padded phase planes of Conv's direct path (see dw_layout in Conv.c)
 * as lc_conv_dct_avx512 reads them: cg planes `plane` floats apart, rows
 * `width` floats apart, toff[kw] where tap column kw starts; OH x OW
 * outputs (P = OH * OW), strides and dilations of the rows, kernel. */
typedef struct lc_conv_planes {
    int64_t cg, plane, width, sh, dh, KH, KW, OH, OW, P;
    const int64_t *toff;
    /* may be NULL: next_floats floats (the next image's input) to prefetch
     * while the block is computed, so its padding copy finds them in cache */
    const float *next;
    int64_t next_floats;
} lc_conv_planes;
/* Direct convolution, output channels in the lanes: one block of `ocb`
 * (16, 32 or 64) output channels, the first `valid` stored to y (and r,
 * may be NULL, added) at planes P floats apart; wp [cg * KH * KW][ocb],
 * b the block's ocb biases. Reads up to 13 floats past a row's outputs
 * (inside the scratch Conv allocates). */
void lc_conv_dct_avx512(const lc_conv_planes *p, const float *xp, const float *wp, const float *b, int valid,
                        int ocb, const float *r, const lc_nn_epilogue *e, float *y);

/* Conv's dw_pad for phases (the column stride) 1 or 2 and pads >= 0:
 * copies the H x W plane x into its phase planes (rows x width each) at
 * row offset pt, column offset pl, leaving the border as it is. False
 * (nothing written) for other geometries. */
bool lc_conv_pad_avx512(const float *x, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t rows, int64_t width,
                        int64_t phases, float *xp);
/* The same with AVX2 (conv_avx2.c). */
bool lc_conv_pad_avx2(const float *x, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t rows, int64_t width,
                      int64_t phases, float *xp);

/* Gemm with B packed at plan time (gemm_avx512.c): lc_gemm_pack_b lays
 * op(B) (k x n; tb: B is n x k, ldb floats a row) out in panels of 32
 * columns, lc_gemm_packed_floats(k, n) floats; lc_gemm_packed_avx512
 * computes y[m x n] = act(alpha * op(A) * B + beta * y) (beta 0: y only
 * written), A m x k or (ta) k x m, lda floats a row. AVX-512 only (the AVX2 one below). */
int64_t lc_gemm_packed_floats(int64_t k, int64_t n);
void lc_gemm_pack_b(bool tb, int64_t k, int64_t n, const float *b, int64_t ldb, float *packed);
void lc_gemm_packed_avx512(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                           const float *bp, float beta, float *y, const lc_nn_epilogue *e);
/* The same with AVX2 + FMA (gemm_avx2.c), the same bits. */
void lc_gemm_packed_avx2(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                         const float *bp, float beta, float *y, const lc_nn_epilogue *e);

/* Shared by Softmax and LogSoftmax: prepare() for both opset semantics
 * (before 13: X coerced to 2-D at `axis`, default 1; from 13: along one
 * axis, default -1) and run(). */
lc_status lc_nn_softmax_prepare(lc_kernel_args *a);
lc_status lc_nn_softmax_run(lc_kernel_args *a, bool log);
void lc_nn_softmax_free(void *state);

/* Quantization parameters shared by QuantizeLinear and DequantizeLinear:
 * `scale` and the optional `zero` (index 1 and 2 of the node's inputs)
 * are per tensor (one value) or, from opset 13, per slice of `axis`. The
 * data is seen as [outer, channels, inner]. */
typedef struct lc_nn_qparams {
    int64_t outer, channels, inner; /* channels = 1 when per tensor */
    int zero_dtype;                 /* dtype of the zero point (0: absent) */
} lc_nn_qparams;
lc_status lc_nn_qparams_init(lc_kernel_args *a, const lc_value *data, lc_nn_qparams *q);

#endif
