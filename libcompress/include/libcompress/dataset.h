/*
 * libcompress/dataset.h - datasets and labels (calibration and validation
 * data).
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_DATASET_H
#define LIBCOMPRESS_DATASET_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/dataset.h>"
#endif

/* ------------------------------------------------------------------ */
/* Datasets (calibration and validation data)                          */
/* ------------------------------------------------------------------ */

/* A dataset is an array of samples along its first dimension, held as
 * float32 in C order. Files are read by content, not by name:
 *  - .npy, format 1.0, 2.0 or 3.0, C order, little-endian: float32,
 *    float64, uint8, int8, int16, uint16, int32, uint32, int64, uint64,
 *    bool (Fortran order, object, structured and big-endian arrays are
 *    refused with LC_ERR_UNSUPPORTED);
 *  - IDX (`*-idx3-ubyte`, type codes 08 09 0B 0C 0D 0E), gzip'ed or not
 *    (a gzip'ed .npy is read too);
 *  - raw little-endian float32 given as "FILE.bin:d0xd1x..."
 *    (e.g. "x.bin:100x1x28x28"); the file size must be the product * 4.
 * uint8 data is scaled by 1/255; then, when has_norm is set, every value
 * (whatever the file's dtype) becomes (x - mean) / std, computed in
 * float32. Other dtypes are converted to float32 (rounding to nearest).
 * Every header is treated as untrusted: sizes are checked against the file
 * (or, for gzip, against the data that arrives) before use. */
typedef struct lc_dataset lc_dataset;

typedef struct lc_data_options {
    int has_norm;      /* nonzero: apply (x - mean) / std */
    float mean, std;   /* std must be finite and > 0 when has_norm */
    int64_t limit;     /* keep the first `limit` samples; 0 = all */
} lc_data_options;

/** Loads a dataset from `spec` (a path, or "FILE.bin:d0xd1x..." for raw
 *  float32). `opt` may be NULL (no normalisation, all samples). A file with
 *  no samples, an empty sample (a zero dimension) or a 0-d array is refused.
 *  Returns LC_ERR_INVALID_ARGUMENT (bad spec or options), LC_ERR_IO,
 *  LC_ERR_FORMAT (corrupt, truncated or extra data), LC_ERR_UNSUPPORTED,
 *  LC_ERR_NO_MEMORY; the message names the file. *out is owned by the
 *  caller (lc_dataset_free) and NULL on failure. Thread-safe (no shared
 *  state); a loaded dataset is read-only and may be read from any number
 *  of threads at once. */
lc_status lc_dataset_load(const char *spec, const lc_data_options *opt,
                          lc_dataset **out);

/** Creates a dataset from memory: `ndim` >= 1 dims, dims[0] samples, with
 *  a copy of `data` (float32, C order). `label` names it in messages
 *  (NULL: "<memory>"). *out is owned by the caller (lc_dataset_free) and
 *  NULL on failure. LC_ERR_INVALID_ARGUMENT for a bad shape,
 *  LC_ERR_NO_MEMORY. Thread-safe. */
lc_status lc_dataset_create(const char *label, int ndim, const int64_t *dims,
                            const float *data, lc_dataset **out);

/** Frees a dataset. Contexts and pipelines that borrow it must not be used
 *  with it afterwards. Accepts NULL. */
void lc_dataset_free(lc_dataset *d);

/* The getters below never fail; `d` must not be NULL; any number of
 * threads may call them at once. */

/** Number of samples (after the limit). */
int64_t lc_dataset_count(const lc_dataset *d);

/** Rank of one sample (the file's rank minus 1; a dataset of scalars has
 *  rank 0). */
int lc_dataset_sample_ndim(const lc_dataset *d);
/** Dims of one sample (the file's shape without dim 0): a pointer to
 *  lc_dataset_sample_ndim(d) entries, borrowed from the dataset. */
const int64_t *lc_dataset_sample_dims(const lc_dataset *d);

/** Elements per sample (product of the sample dims). */
int64_t lc_dataset_sample_numel(const lc_dataset *d);

/** Borrowed pointer to sample `i` (0 <= i < count, else NULL). Samples are
 *  contiguous: samples i+1 .. count-1 follow, so a batch of B samples
 *  starting at i is B * sample_numel consecutive floats. */
const float *lc_dataset_sample(const lc_dataset *d, int64_t i);

/** The spec the dataset was loaded from, or the label it was created with
 *  (borrowed from the dataset). */
const char *lc_dataset_path(const lc_dataset *d);

/** The element type stored in the file (LC_DTYPE_FLOAT for a dataset made
 *  by lc_dataset_create). */
lc_dtype lc_dataset_file_dtype(const lc_dataset *d);

/** Checks that samples fit a model input whose shape without the batch
 *  dimension is `dims` (`ndim` entries; a negative entry is an unknown
 *  dimension that matches any one dimension or a dropped 1; ndim < 0:
 *  rank unknown, anything fits). Shapes fit when they agree after dropping
 *  dimensions of size 1,
 *  e.g. data 100x28x28 fits an input Nx1x28x28; the element order is the
 *  same, so the samples can be fed as they are. LC_ERR_SHAPE with a
 *  message naming the file, the data shape and the input's shape
 *  otherwise. `input_name` is used in the message only (may be NULL). */
lc_status lc_dataset_check_shape(const lc_dataset *d, int ndim,
                                 const int64_t *dims,
                                 const char *input_name);

/** LC_ERR_SHAPE ("labels.npy: 9999 labels for 10000 samples of x.npy")
 *  unless n_labels equals the dataset's count. `labels_path` names the
 *  labels in the message. */
lc_status lc_dataset_check_labels(const lc_dataset *d, int64_t n_labels,
                                  const char *labels_path);

/** Loads class labels from a .npy (integer or bool dtype, shape N or Nx1)
 *  or an IDX file (idx1, integer type codes), gzip'ed or not, keeping the
 *  first `limit` (0 = all). Negative labels are refused (LC_ERR_FORMAT), as
 *  are float dtypes (LC_ERR_DTYPE). *labels is malloc'ed: the caller frees
 *  it with free(); *labels = NULL and *count = 0 on failure. Thread-safe. */
lc_status lc_labels_load(const char *path, int64_t limit, int64_t **labels,
                         int64_t *count);

#endif /* LIBCOMPRESS_DATASET_H */
