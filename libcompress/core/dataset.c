/* The dataset object in memory: creation from floats, accessors and shape
 * checks against a model input. Files are read by datasets/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_dataset.h"
#include "lc_ir.h"

lc_status lc_dataset_create(const char *label, int ndim, const int64_t *dims, const float *data, lc_dataset **out)
{
    if (out) *out = NULL;
    if (!out || !dims || !data || ndim < 1 || ndim > LC_MAX_DIMS)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_dataset_create: bad arguments");
    if (!label) label = "<memory>";
    int64_t numel = lc_shape_numel(ndim, dims, sizeof(float));
    if (numel <= 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: shape %s holds no data", label, lc_dims_str(ndim, dims));
    lc_dataset *d = calloc(1, sizeof *d);
    if (!d || !(d->path = lc_strdup(label)) || !(d->data = malloc((size_t)numel * sizeof(float)))) {
        lc_dataset_free(d);
        return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", label);
    }
    memcpy(d->data, data, (size_t)numel * sizeof(float));
    d->ndim = ndim;
    memcpy(d->dims, dims, (size_t)ndim * sizeof *dims);
    d->sample_numel = numel / dims[0];
    d->src_dtype = LC_DTYPE_FLOAT;
    *out = d;
    return LC_OK;
}

void lc_dataset_free(lc_dataset *d)
{
    if (!d) return;
    free(d->data);
    free(d->path);
    free(d);
}

int64_t lc_dataset_count(const lc_dataset *d) { return d->dims[0]; }
int lc_dataset_sample_ndim(const lc_dataset *d) { return d->ndim - 1; }
const int64_t *lc_dataset_sample_dims(const lc_dataset *d) { return d->dims + 1; }
int64_t lc_dataset_sample_numel(const lc_dataset *d) { return d->sample_numel; }
const char *lc_dataset_path(const lc_dataset *d) { return d->path; }
lc_dtype lc_dataset_file_dtype(const lc_dataset *d) { return d->src_dtype; }

const float *lc_dataset_sample(const lc_dataset *d, int64_t i)
{
    if (i < 0 || i >= d->dims[0]) return NULL;
    return d->data + i * d->sample_numel;
}

/* "1x?x28" with '?' for unknown dims, "scalar" for rank 0. */
static void fmt_dims(char *buf, size_t cap, int ndim, const int64_t *dims)
{
    size_t n = 0;
    buf[0] = 0;
    if (ndim == 0) snprintf(buf, cap, "scalar");
    for (int i = 0; i < ndim && n < cap; i++) {
        int w = dims[i] < 0 ? snprintf(buf + n, cap - n, "%s?", i ? "x" : "")
                            : snprintf(buf + n, cap - n, "%s%lld", i ? "x" : "", (long long)dims[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
}

/* Whether data dims `a` fit model dims `b` (both without 1s); an unknown
 * model dim matches one data dim, or nothing (it may be a 1). */
static int dims_fit(const int64_t *a, int na, const int64_t *b, int nb)
{
    if (nb == 0) return na == 0;
    if (b[0] < 0) return (na > 0 && dims_fit(a + 1, na - 1, b + 1, nb - 1)) || dims_fit(a, na, b + 1, nb - 1);
    return na > 0 && a[0] == b[0] && dims_fit(a + 1, na - 1, b + 1, nb - 1);
}

lc_status lc_dataset_check_shape(const lc_dataset *d, int ndim, const int64_t *dims, const char *input_name)
{
    if (ndim < 0) return LC_OK;
    if (ndim > LC_MAX_DIMS || (ndim > 0 && !dims))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_dataset_check_shape: bad model shape");
    /* compare the shapes with their 1s dropped */
    int64_t a[LC_MAX_DIMS] = {0}, b[LC_MAX_DIMS] = {0};
    int na = 0, nb = 0;
    for (int i = 1; i < d->ndim; i++)
        if (d->dims[i] != 1) a[na++] = d->dims[i];
    for (int i = 0; i < ndim; i++)
        if (dims[i] != 1) b[nb++] = dims[i];
    int ok = dims_fit(a, na, b, nb);
    if (ok) return LC_OK;
    char sample[LC_MAX_DIMS * 21 + 8], file[LC_MAX_DIMS * 21 + 8], model[LC_MAX_DIMS * 21 + 8];
    fmt_dims(sample, sizeof sample, d->ndim - 1, d->dims + 1);
    fmt_dims(file, sizeof file, d->ndim, d->dims);
    fmt_dims(model, sizeof model, ndim, dims);
    return lc_fail(LC_ERR_SHAPE, "%s: samples are %s (data shape %s) but model input '%s' takes %s per sample (N%s%s)",
                   d->path, sample, file, input_name ? input_name : "?", model, ndim ? "x" : "", ndim ? model : "");
}

lc_status lc_dataset_check_labels(const lc_dataset *d, int64_t n_labels, const char *labels_path)
{
    if (n_labels == d->dims[0]) return LC_OK;
    return lc_fail(LC_ERR_SHAPE, "%s: %lld labels for %lld samples of %s", labels_path ? labels_path : "labels",
                   (long long)n_labels, (long long)d->dims[0], d->path);
}
