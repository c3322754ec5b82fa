/* Loading datasets from files: spec parsing ("FILE.bin:d0xd1x..." or a path), loading
 * with uint8 scaling, normalisation and a sample limit; labels; shape checks
 * against a model input. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lc_array.h"
#include "lc_dataset.h"
#include "lc_ir.h"

/* Parses "d0xd1x..." (each a positive integer). Returns 0 on success. */
static int parse_raw_dims(const char *s, int *ndim, int64_t *dims)
{
    int n = 0;
    for (;;) {
        if (*s < '0' || *s > '9') return -1;
        int64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            int d = *s++ - '0';
            if (v > (INT64_MAX - d) / 10) return -1;
            v = v * 10 + d;
        }
        if (v == 0 || n >= LC_MAX_DIMS) return -1;
        dims[n++] = v;
        if (!*s) break;
        if (*s++ != 'x') return -1;
    }
    *ndim = n;
    return 0;
}

/* Splits a spec into a path and, for raw data, its shape. A spec that names
 * an existing file is always a path, so file names with ':' still load.
 * *path is malloc'ed. */
static lc_status split_spec(const char *spec, char **path, int *raw_ndim, int64_t *raw_dims)
{
    struct stat st;
    const char *colon = strrchr(spec, ':');
    *raw_ndim = 0;
    *path = NULL;
    if (colon && stat(spec, &st) != 0) {
        if (parse_raw_dims(colon + 1, raw_ndim, raw_dims) != 0)
            return lc_fail(LC_ERR_INVALID_ARGUMENT,
                           "%s: bad raw float32 shape '%s' (expected positive dims like FILE.bin:100x1x28x28, "
                           "at most %d)",
                           spec, colon + 1, LC_MAX_DIMS);
        *path = lc_strndup(spec, (size_t)(colon - spec));
    } else {
        *path = lc_strdup(spec);
    }
    if (!*path) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    return LC_OK;
}

lc_status lc_dataset_load(const char *spec, const lc_data_options *opt, lc_dataset **out)
{
    lc_data_options none = {0, 0.0f, 1.0f, 0};
    lc_array_file a = {0};
    lc_dataset *d = NULL;
    char *path = NULL;
    void *data = NULL;
    int raw_ndim;
    int64_t raw_dims[LC_MAX_DIMS];
    lc_status s;
    if (out) *out = NULL;
    if (!spec || !out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_dataset_load: NULL argument");
    if (!opt) opt = &none;
    if (opt->limit < 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: limit %lld is negative", spec, (long long)opt->limit);
    if (opt->has_norm && !(isfinite(opt->mean) && isfinite(opt->std) && opt->std > 0))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: normalisation needs a finite mean and a std > 0 (got %g, %g)",
                       spec, (double)opt->mean, (double)opt->std);
    if ((s = split_spec(spec, &path, &raw_ndim, raw_dims))) return s;
    if ((s = lc_array_open(path, raw_ndim, raw_dims, &a))) goto fail;
    if (a.ndim < 1) {
        s = lc_fail(LC_ERR_SHAPE, "%s: a 0-d array holds no samples (a dataset needs samples along dim 0)", spec);
        goto fail;
    }
    int64_t sample_numel = lc_shape_numel(a.ndim - 1, a.dims + 1, 1);
    if (a.dims[0] == 0 || sample_numel == 0) {
        s = lc_fail(LC_ERR_SHAPE, "%s: shape %s holds no data", spec, lc_dims_str(a.ndim, a.dims));
        goto fail;
    }
    int64_t count = opt->limit && opt->limit < a.dims[0] ? opt->limit : a.dims[0];
    if ((s = lc_array_read(&a, count * sample_numel, 0, &data))) goto fail;

    d = calloc(1, sizeof *d);
    if (!d || !(d->path = lc_strdup(spec))) {
        s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", spec);
        goto fail;
    }
    d->ndim = a.ndim;
    memcpy(d->dims, a.dims, (size_t)a.ndim * sizeof a.dims[0]);
    d->dims[0] = count;
    d->sample_numel = sample_numel;
    d->src_dtype = a.type->dtype;
    d->data = data;
    data = NULL;

    /* Division rather than a multiply by 1/255 so that values equal NumPy's
     * x.astype(np.float32) / 255 exactly. */
    size_t n = (size_t)(count * sample_numel);
    float *x = d->data;
    if (d->src_dtype == LC_DTYPE_UINT8)
        for (size_t i = 0; i < n; i++) x[i] = x[i] / 255.0f;
    if (opt->has_norm)
        for (size_t i = 0; i < n; i++) x[i] = (x[i] - opt->mean) / opt->std;
    *out = d;
    d = NULL;
fail:
    lc_array_close(&a);
    free(data);
    lc_dataset_free(d);
    free(path);
    return s;
}

lc_status lc_labels_load(const char *path, int64_t limit, int64_t **labels, int64_t *count)
{
    lc_array_file a = {0};
    int64_t *v = NULL;
    lc_status s;
    if (labels) *labels = NULL;
    if (count) *count = 0;
    if (!path || !labels || !count) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_labels_load: NULL argument");
    if (limit < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: limit %lld is negative", path, (long long)limit);
    if ((s = lc_array_open(path, 0, NULL, &a))) return s;
    if (!(a.ndim == 1 || (a.ndim == 2 && a.dims[1] == 1))) {
        s = lc_fail(LC_ERR_SHAPE, "%s: labels must have shape N or Nx1, the file holds %s", path,
                    lc_dims_str(a.ndim, a.dims));
        goto fail;
    }
    if (!a.type->to_i64) {
        s = lc_fail(LC_ERR_DTYPE, "%s: labels must have an integer dtype, the file holds %s", path,
                    a.type->name);
        goto fail;
    }
    int64_t n = limit && limit < a.dims[0] ? limit : a.dims[0];
    void *p;
    if ((s = lc_array_read(&a, n, 1, &p))) goto fail;
    v = p;
    for (int64_t i = 0; i < n; i++)
        if (v[i] < 0) {
            s = lc_fail(LC_ERR_FORMAT, "%s: label %lld at index %lld is negative", path, (long long)v[i],
                        (long long)i);
            goto fail;
        }
    *labels = v;
    *count = n;
    v = NULL;
fail:
    lc_array_close(&a);
    free(v);
    return s;
}
