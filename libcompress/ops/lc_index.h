/*
 * lc_index.h - helpers shared by the indexing kernels (Gather*, Scatter*,
 * CumSum, Trilu; internal; implemented in libcompress/ops/index_util.c).
 */
#ifndef LC_INDEX_H
#define LC_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_exec.h"

/* ---- indexing (the Gather and Scatter families) ---- */

/* Element j of an int32 or int64 tensor. */
int64_t lc_x_index(const lc_value *v, int64_t j);

/* LC_ERR_DTYPE unless `v` is int32 or int64; `what` names the input. */
lc_status lc_x_need_index(const lc_value *v, const char *what);

/* How Scatter* combines an update with the value it lands on. */
enum { LC_XCOMB_NONE, LC_XCOMB_ADD, LC_XCOMB_MUL, LC_XCOMB_MAX, LC_XCOMB_MIN };

/* Reads the `reduction` attribute ("none"; "add", "mul" from opset 16;
 * "max", "min" from 18) into *mode and checks that `dtype` supports it:
 * any sized dtype for "none", float32/float64/int32/int64 otherwise. */
lc_status lc_x_reduction_attr(const lc_kernel_args *a, int dtype, int *mode);

/* dst[i] = combine(dst[i], src[i]) for n contiguous elements of `dtype`. */
void lc_x_combine(int dtype, int mode, void *dst, const void *src, int64_t n);

#endif
