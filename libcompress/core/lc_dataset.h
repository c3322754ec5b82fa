/*
 * lc_dataset.h - calibration/validation data (internal).
 *
 * The public API (lc_dataset_load, lc_labels_load, lc_npy_write, ...) is in
 * <libcompress.h>. This header exposes the dataset's layout to the library's
 * own parts (executor feeding, passes that slice batches). The array reader
 * shared by the .npy, IDX and raw readers is datasets/lc_array.h.
 */
#ifndef LC_DATASET_H
#define LC_DATASET_H

#include <stdint.h>

#include <libcompress.h>

struct lc_dataset {
    char *path;              /* the spec it was loaded from (for messages) */
    int ndim;                /* rank including the sample dimension */
    int64_t dims[LC_MAX_DIMS]; /* dims[0] = count (after the limit) */
    int64_t sample_numel;    /* product of dims[1..ndim-1] */
    int src_dtype;           /* element type in the file (lc_dtype) */
    float *data;             /* count * sample_numel floats, C order */
};

#endif
