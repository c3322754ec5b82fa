/* .npy writer (format 1.0), used for `shrink eval --out`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"

lc_status lc_npy_write(const char *path, lc_dtype dtype, int ndim, const int64_t *dims, const void *data)
{
    if (!path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_npy_write: NULL path");
    const char *descr = dtype == LC_DTYPE_FLOAT ? "<f4" : dtype == LC_DTYPE_INT64 ? "<i8" : NULL;
    if (!descr)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: cannot write %s arrays (float and int64 are supported)", path,
                       lc_dtype_name(dtype));
    if (ndim < 0 || ndim > LC_MAX_DIMS || (ndim > 0 && !dims))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: bad rank %d", path, ndim);
    size_t esize = lc_dtype_size(dtype);
    int64_t numel = lc_shape_numel(ndim, dims, esize);
    if (numel < 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: bad shape %s", path, lc_dims_str(ndim, dims));
    if (numel > 0 && !data) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: NULL data", path);

    /* dict text; 16 dims of 19 digits fit easily */
    char dict[600];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    /* NumPy pads so the payload starts at a multiple of 64 and ends the
     * header with '\n' */
    size_t prefix = 10, hlen = (size_t)n + 1;
    hlen += (64 - (prefix + hlen) % 64) % 64;
    size_t payload = (size_t)numel * esize, total = prefix + hlen + payload;
    uint8_t *buf = malloc(total);
    if (!buf) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", path, total);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(hlen & 0xff);
    buf[9] = (uint8_t)(hlen >> 8);
    memcpy(buf + prefix, dict, (size_t)n);
    memset(buf + prefix + n, ' ', hlen - (size_t)n - 1);
    buf[prefix + hlen - 1] = '\n';
    if (payload) memcpy(buf + prefix + hlen, data, payload);
    lc_status s = lc_write_file_atomic(path, buf, total);
    free(buf);
    return s;
}
