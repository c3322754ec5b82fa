/* Range: start, start+delta, ... up to (excluding) limit; scalar inputs
 * of one dtype (float, double, int16, int32, int64). The length
 * max(ceil((limit-start)/delta), 0) must be known at plan time, so the
 * inputs must be constant. */
#include <math.h>

#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *v[3] = {lc_input(a, 0), lc_input(a, 1), lc_input(a, 2)};
    static const char *const names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        if (!v[i]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input '%s'", names[i]);
        if (v[i]->dtype != v[0]->dtype)
            return lc_fail(LC_ERR_DTYPE, "inputs have different dtypes (%s, %s)", lc_dtype_name(v[0]->dtype), lc_dtype_name(v[i]->dtype));
        if (lc_value_numel(v[i]) != 1) return lc_fail(LC_ERR_SHAPE, "input '%s' must be a scalar", names[i]);
        if (!v[i]->is_const)
            return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' must be known before running (data-dependent shape)", names[i]);
    }
    int dt = v[0]->dtype;
    if (dt != LC_DTYPE_FLOAT && dt != LC_DTYPE_DOUBLE && dt != LC_DTYPE_INT16 && dt != LC_DTYPE_INT32 && dt != LC_DTYPE_INT64)
        return lc_fail(LC_ERR_UNSUPPORTED, "dtype %s is not supported (float, double, int16, int32, int64)", lc_dtype_name(dt));
    int64_t n;
    if (dt == LC_DTYPE_INT64) {
        int64_t b = *(const int64_t *)v[0]->data, e = *(const int64_t *)v[1]->data, d = *(const int64_t *)v[2]->data;
        if (d == 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "delta is 0");
        /* ceil((e-b)/d) in floating point avoids int64 overflow on e-b. */
        double q = ceil(((double)e - (double)b) / (double)d);
        n = q > 0 ? (int64_t)q : 0;
    } else {
        double b = lc_value_scalar(v[0]), e = lc_value_scalar(v[1]), d = lc_value_scalar(v[2]);
        if (d == 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "delta is 0");
        double q = ceil((e - b) / d);
        if (!(q < 9e15)) return lc_fail(LC_ERR_SHAPE, "range is too long");
        n = q > 0 ? (int64_t)q : 0;
    }
    return lc_value_set_shape(a->out[0], dt, 1, &n);
}

static lc_status run(lc_kernel_args *a)
{
    lc_value *y = a->out[0];
    int64_t n = y->dims[0];
    switch (y->dtype) {
    case LC_DTYPE_FLOAT: {
        float b = *(const float *)a->in[0]->data, d = *(const float *)a->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((float *)y->data)[i] = b + (float)i * d;
        break;
    }
    case LC_DTYPE_DOUBLE: {
        double b = *(const double *)a->in[0]->data, d = *(const double *)a->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((double *)y->data)[i] = b + (double)i * d;
        break;
    }
    case LC_DTYPE_INT16: {
        int16_t b = *(const int16_t *)a->in[0]->data, d = *(const int16_t *)a->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((int16_t *)y->data)[i] = (int16_t)(b + i * d);
        break;
    }
    case LC_DTYPE_INT32: {
        int32_t b = *(const int32_t *)a->in[0]->data, d = *(const int32_t *)a->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((int32_t *)y->data)[i] = (int32_t)(b + i * d);
        break;
    }
    default: {
        int64_t b = *(const int64_t *)a->in[0]->data, d = *(const int64_t *)a->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((int64_t *)y->data)[i] = b + i * d;
        break;
    }
    }
    return LC_OK;
}

const lc_kernel lc_kernel_Range_11 = {"Range", 11, 3, 0, prepare, run, NULL, NULL};
