/* Constant: `value` (a tensor); from opset 12 also value_float(s) and
 * value_int(s). Sparse and string constants are not supported. */
#include <string.h>

#include "lc_shape.h"

/* Finds the one value attribute; fills dtype/shape and the bytes to copy. */
static lc_status source(const lc_kernel_args *a, int *dtype, int *ndim, int64_t *dims, const void **data, size_t *nbytes)
{
    const lc_node *nd = a->node;
    for (int i = 0; i < nd->n_attrs; i++) {
        const lc_attr *at = &nd->attrs[i];
        const char *nm = at->name;
        *ndim = 0;
        if (!strcmp(nm, "value") && at->type == LC_ATTR_TENSOR && at->t) {
            const lc_tensor *t = at->t;
            if (!lc_dtype_size(t->dtype))
                return lc_fail(LC_ERR_UNSUPPORTED, "constant of dtype %s is not supported", lc_dtype_name(t->dtype));
            *dtype = t->dtype;
            *ndim = t->ndim;
            memcpy(dims, t->dims, (size_t)t->ndim * sizeof *dims);
            *data = t->data;
            *nbytes = t->nbytes;
            return LC_OK;
        }
        if (!strcmp(nm, "value_float") && at->type == LC_ATTR_FLOAT) {
            *dtype = LC_DTYPE_FLOAT;
            *data = &at->f;
            *nbytes = sizeof at->f;
            return LC_OK;
        }
        if (!strcmp(nm, "value_int") && at->type == LC_ATTR_INT) {
            *dtype = LC_DTYPE_INT64;
            *data = &at->i;
            *nbytes = sizeof at->i;
            return LC_OK;
        }
        if (!strcmp(nm, "value_floats") && at->type == LC_ATTR_FLOATS) {
            *dtype = LC_DTYPE_FLOAT;
            *ndim = 1;
            dims[0] = at->n;
            *data = at->floats;
            *nbytes = (size_t)at->n * sizeof(float);
            return LC_OK;
        }
        if (!strcmp(nm, "value_ints") && at->type == LC_ATTR_INTS) {
            *dtype = LC_DTYPE_INT64;
            *ndim = 1;
            dims[0] = at->n;
            *data = at->ints;
            *nbytes = (size_t)at->n * sizeof(int64_t);
            return LC_OK;
        }
        if (!strcmp(nm, "sparse_value"))
            return lc_fail(LC_ERR_UNSUPPORTED, "sparse constants (attribute 'sparse_value') are not supported");
        if (!strncmp(nm, "value_string", 12))
            return lc_fail(LC_ERR_UNSUPPORTED, "string constants (attribute '%s') are not supported", nm);
    }
    return lc_fail(LC_ERR_INVALID_ARGUMENT, "no value attribute");
}

static lc_status prepare(lc_kernel_args *a)
{
    int dtype, ndim;
    int64_t dims[LC_MAX_DIMS];
    const void *data;
    size_t nbytes;
    lc_status s = source(a, &dtype, &ndim, dims, &data, &nbytes);
    if (s) return s;
    s = lc_value_set_shape(a->out[0], dtype, ndim, dims);
    if (s) return s;
    if ((size_t)lc_value_numel(a->out[0]) * lc_dtype_size(dtype) != nbytes)
        return lc_fail(LC_ERR_FORMAT, "value holds %zu bytes, its shape [%s] needs more or less", nbytes, lc_dims_str(ndim, dims));
    return LC_OK;
}

static lc_status run(lc_kernel_args *a)
{
    int dtype, ndim;
    int64_t dims[LC_MAX_DIMS];
    const void *data;
    size_t nbytes;
    lc_status s = source(a, &dtype, &ndim, dims, &data, &nbytes);
    if (s) return s;
    if (nbytes) memcpy(a->out[0]->data, data, nbytes);
    return LC_OK;
}

const lc_kernel lc_kernel_Constant_1 = {"Constant", 1, 0, 0, prepare, run, NULL, NULL};
