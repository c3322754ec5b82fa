/*
 * libcompress/inputs.h - how a model's inputs are fed beyond one batched data array
 * (part of the public API: include <libcompress.h>, which includes this file; never include it directly).
 *
 * Real models often have more than one input, and inputs with symbolic
 * dims. A context (lc_context) can carry, per graph input:
 *  - a feed: the same value for every sample of every run (a 0-d int64
 *    sample rate, an initial RNN state), with its own shape, no batch dim;
 *  - a shape: the dims to plan the input with (dim 0 the batch, replaced by
 *    the batch size of each run), for inputs whose dims are symbolic.
 * Runs on datasets (calibration, validation, sensitivity) feed the dataset
 * to the one input that has no feed. Without a shape, symbolic dims of that
 * input are taken from the dataset's samples.
 */
#ifndef LIBCOMPRESS_INPUTS_H
#define LIBCOMPRESS_INPUTS_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/inputs.h>"
#endif

/** Feeds graph input `name` with a copy of `value` (dtype, dims, data; any
 *  rank from 0) in every run of the context; NULL removes the feed.
 *  LC_ERR_INVALID_ARGUMENT for a NULL name or a bad value, LC_ERR_SHAPE,
 *  LC_ERR_NO_MEMORY. */
lc_status lc_context_set_feed(lc_context *ctx, const char *name, const lc_array *value);

/** Plans graph input `name` with `ndim` dims `dims` (dims[0], the batch, is
 *  replaced by each run's batch size; every other dim must be >= 1); ndim
 *  < 0 removes it. LC_ERR_INVALID_ARGUMENT, LC_ERR_NO_MEMORY. */
lc_status lc_context_set_input_shape(lc_context *ctx, const char *name, int ndim, const int64_t *dims);

/** Checks the context's feeds and shapes against `m`: LC_ERR_NOT_FOUND for
 *  a name that is no graph input (the message lists the inputs),
 *  LC_ERR_SHAPE for a rank that differs from the declared one,
 *  LC_ERR_DTYPE for a feed of another element type than the input's. */
lc_status lc_context_check_inputs(const lc_context *ctx, const lc_model *m);

/** The shapes to plan `m` with for batch `batch` (the input of
 *  lc_executor_create): feeds give theirs; an input with a shape set by
 *  lc_context_set_input_shape takes it; else its declared dims, symbolic
 *  ones taken from the calibration data's samples when the ranks agree.
 *  `shapes` holds `cap` entries; *n receives the plan input count. `ctx`
 *  may be NULL (declared dims only). LC_ERR_SHAPE naming the input and dim
 *  when a dim stays unknown, LC_ERR_INVALID_ARGUMENT when cap is too small.
 *  For tools that plan a model themselves (e.g. a code generator). */
lc_status lc_context_input_shapes(const lc_context *ctx, const lc_model *m, int batch, lc_array *shapes, int cap,
                                  int *n);

/** Loads a .npy file whole (any rank, 0-d included) converted to `dtype`
 *  (LC_DTYPE_FLOAT, DOUBLE, INT64 or INT32; integers from float files are
 *  refused) into a new tensor named after the file (*out: lc_tensor_free).
 *  LC_ERR_IO, LC_ERR_FORMAT, LC_ERR_DTYPE, LC_ERR_UNSUPPORTED naming the
 *  file. Thread-safe. */
lc_status lc_npy_load(const char *path, int dtype, lc_tensor **out);

#endif /* LIBCOMPRESS_INPUTS_H */
