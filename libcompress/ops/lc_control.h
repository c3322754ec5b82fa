/*
 * lc_control.h - helpers shared by the control-flow kernels If, Loop and
 * Scan (internal; implemented in libcompress/ops/control_util.c).
 *
 * Their subgraphs are planned as executors of their own
 * (lc_executor_create_graph) in prepare(); run() runs them and copies
 * their outputs out. Shapes are fixed at plan time as everywhere else:
 * what would need a shape known only at run time is refused as a
 * data-dependent shape (LC_ERR_UNSUPPORTED).
 */
#ifndef LC_CONTROL_H
#define LC_CONTROL_H

#include "lc_exec.h"

/* The graph attribute `name` of the node (LC_ERR_INVALID_ARGUMENT if it is
 * missing or not a graph). */
lc_status lc_cf_graph(const lc_kernel_args *a, const char *name, const lc_graph **g);

/* The planned value of output i of subgraph executor `sub` (dtype, shape;
 * data valid for constants). */
const lc_value *lc_cf_output_value(const lc_executor *sub, int i);

/* Copies `nbytes` bytes of output i of `sub` (after lc_executor_run) to dst. */
void lc_cf_copy_output(void *dst, const lc_executor *sub, int i, size_t nbytes);

/* Bytes of a value's elements. */
size_t lc_cf_nbytes(const lc_value *v);

/* Whether two values have the same dtype and shape. */
bool lc_cf_same_type(const lc_value *x, const lc_value *y);

#endif
