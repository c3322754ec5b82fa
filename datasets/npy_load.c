/* lc_npy_load: one .npy array whole, in the element type a model input
 * wants (for --feed: a 0-d sample rate, an RNN state). Unlike a dataset it
 * has no sample axis, so 0-d arrays are fine. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lc_array.h"
#include "lc_ir.h"

lc_status lc_npy_load(const char *path, int dtype, lc_tensor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_npy_load: out is NULL");
    *out = NULL;
    if (!path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_npy_load: path is NULL");
    bool as_int = dtype == LC_DTYPE_INT64 || dtype == LC_DTYPE_INT32;
    if (!as_int && dtype != LC_DTYPE_FLOAT && dtype != LC_DTYPE_DOUBLE)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: cannot feed an input of type %s (float, double, int64, int32 only)",
                       path, lc_dtype_name(dtype));
    lc_array_file a;
    lc_status s = lc_array_open(path, 0, NULL, &a);
    if (s) return s;
    void *raw = NULL;
    lc_tensor *t = NULL;
    if (as_int && !a.type->to_i64) {
        s = lc_fail(LC_ERR_DTYPE, "%s: holds %s, the input takes %s", path, a.type->name, lc_dtype_name(dtype));
        goto done;
    }
    if ((s = lc_array_read(&a, a.numel, as_int, &raw))) goto done;
    if ((s = lc_tensor_create(path, dtype, a.ndim, a.dims, NULL, &t))) goto done;
    void *dst = (void *)lc_tensor_data(t);
    for (int64_t i = 0; i < a.numel; i++) {
        switch (dtype) {
        case LC_DTYPE_FLOAT: ((float *)dst)[i] = ((const float *)raw)[i]; break;
        case LC_DTYPE_DOUBLE: ((double *)dst)[i] = ((const float *)raw)[i]; break;
        case LC_DTYPE_INT64: ((int64_t *)dst)[i] = ((const int64_t *)raw)[i]; break;
        default: {
            int64_t v = ((const int64_t *)raw)[i];
            if (v < INT32_MIN || v > INT32_MAX) {
                s = lc_fail(LC_ERR_FORMAT, "%s: value %lld at index %lld does not fit int32", path, (long long)v,
                            (long long)i);
                goto done;
            }
            ((int32_t *)dst)[i] = (int32_t)v;
        }
        }
    }
done:
    free(raw);
    lc_array_close(&a);
    if (s) lc_tensor_free(t);
    else *out = t;
    return s;
}
