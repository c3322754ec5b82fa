/*
 * libcompress/executor.h - the reference executor and the array views it takes.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_EXECUTOR_H
#define LIBCOMPRESS_EXECUTOR_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/executor.h>"
#endif

/* ------------------------------------------------------------------ */
/* Executor                                                            */
/* ------------------------------------------------------------------ */

/** A borrowed view of an n-dimensional array: element type, shape and
 *  `data` (C order, dims[0]*...*dims[ndim-1] elements of `dtype`). The
 *  array never owns `data`. */
typedef struct lc_array {
    lc_dtype dtype;
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    const void *data;
} lc_array;

/** The reference executor: a plan for one model and one set of input
 *  shapes (topological order, kernels, shapes, constant folding, buffers),
 *  run as many times as needed. */
typedef struct lc_executor lc_executor;

/** Builds a plan for `m` with the given input dtypes and shapes.
 *  `shapes[i]` describes the i-th graph input that is not an initializer
 *  (`data` is ignored); `n_inputs` must equal their count. `threads` (>= 1;
 *  smaller values mean 1) is the number of worker threads kernels and
 *  OpenBLAS may use during runs.
 *  The executor borrows `m`, whose weights are read in place: the model
 *  must outlive the executor and must not change while it exists.
 *  Returns LC_ERR_UNSUPPORTED for an operator, opset, domain or dtype
 *  without a kernel (the message names node, op, opset and dtype),
 *  LC_ERR_SHAPE / LC_ERR_DTYPE when the shapes do not fit the model,
 *  LC_ERR_VERIFY for a cyclic graph, LC_ERR_INVALID_ARGUMENT for a wrong
 *  input count, LC_ERR_NO_MEMORY. On failure *out is NULL.
 *  Thread-safety: `m` may be shared by several executors built and run in
 *  different threads, but note that OpenBLAS's thread count is process-wide
 *  (set at each run). */
lc_status lc_executor_create(const lc_model *m, const lc_array *shapes,
                             int n_inputs, int threads, lc_executor **out);

/** Like lc_executor_create, with the shapes taken from the graph's declared
 *  input types and dim 0 of every input set to `batch` (also when the model
 *  fixes it). Any other unknown or symbolic dim fails with LC_ERR_SHAPE,
 *  naming the input and the dim; use lc_executor_create then. */
lc_status lc_executor_create_batch(const lc_model *m, int batch, int threads,
                                   lc_executor **out);

/** Runs the plan on `inputs` (one per plan input, in order), which must
 *  have exactly the planned dtypes (else LC_ERR_DTYPE) and shapes (else
 *  LC_ERR_SHAPE). The input data is only read, and only during the call.
 *  Kernel failures are returned with a message naming the node. The same
 *  inputs and thread count give bit-identical outputs.
 *  Not thread-safe for one executor: run distinct executors in parallel. */
lc_status lc_executor_run(lc_executor *ex, const lc_array *inputs,
                          int n_inputs);

/** Number of plan inputs (graph inputs that are not initializers). Never
 *  fails. The const getters below may be called from several threads at
 *  once, but not during lc_executor_run on the same executor. */
int lc_executor_input_count(const lc_executor *ex);

/** Dtype and shape of plan input `i` into *shape_out (data NULL) and its
 *  name into *name (borrowed from the model); either may be NULL.
 *  LC_ERR_INVALID_ARGUMENT if `i` is out of range. */
lc_status lc_executor_input(const lc_executor *ex, int i, lc_array *shape_out,
                            const char **name);

/** Number of graph outputs. Never fails. */
int lc_executor_output_count(const lc_executor *ex);

/** Graph output `i` of the last run: dtype, shape and data into *out, its
 *  name into *name (either may be NULL). The data is borrowed: valid until
 *  the next run or lc_executor_free (before the first run its contents are
 *  unspecified, unless the output is a constant of the model).
 *  LC_ERR_INVALID_ARGUMENT if `i` is out of range. */
lc_status lc_executor_output(const lc_executor *ex, int i, lc_array *out,
                             const char **name);

/** Frees the plan and its buffers (not the model). Accepts NULL. */
void lc_executor_free(lc_executor *ex);

#endif /* LIBCOMPRESS_EXECUTOR_H */
