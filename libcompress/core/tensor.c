/* Tensors: the dtype table, creation, cloning and accessors. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_ir.h"

/* Indexed by lc_dtype (ONNX numbering). */
static const struct {
    const char *name;
    size_t size;
} dtype_table[LC_DTYPE_COUNT] = {
    [LC_DTYPE_UNDEFINED] = {"undefined", 0}, [LC_DTYPE_FLOAT] = {"float", 4},
    [LC_DTYPE_UINT8] = {"uint8", 1},         [LC_DTYPE_INT8] = {"int8", 1},
    [LC_DTYPE_UINT16] = {"uint16", 2},       [LC_DTYPE_INT16] = {"int16", 2},
    [LC_DTYPE_INT32] = {"int32", 4},         [LC_DTYPE_INT64] = {"int64", 8},
    [LC_DTYPE_STRING] = {"string", 0},       [LC_DTYPE_BOOL] = {"bool", 1},
    [LC_DTYPE_FLOAT16] = {"float16", 2},     [LC_DTYPE_DOUBLE] = {"double", 8},
    [LC_DTYPE_UINT32] = {"uint32", 4},       [LC_DTYPE_UINT64] = {"uint64", 8},
    [LC_DTYPE_COMPLEX64] = {"complex64", 8}, [LC_DTYPE_COMPLEX128] = {"complex128", 16},
    [LC_DTYPE_BFLOAT16] = {"bfloat16", 2},
};
static_assert(LC_DTYPE_BFLOAT16 + 1 == LC_DTYPE_COUNT, "dtype_table: a dtype without a row");

/* Unsigned: a negative value passed as an lc_dtype is out of range too. */
const char *lc_dtype_name(lc_dtype dtype)
{
    return (unsigned)dtype < LC_DTYPE_COUNT ? dtype_table[dtype].name : "?";
}

size_t lc_dtype_size(lc_dtype dtype)
{
    return (unsigned)dtype < LC_DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

lc_tensor *lc_tensor_new(const char *name, int dtype, int ndim, const int64_t *dims)
{
    if (ndim < 0 || ndim > LC_MAX_DIMS) return NULL;
    lc_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = lc_strdup(name ? name : "");
    if (!t->name) {
        free(t);
        return NULL;
    }
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim) memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    return t;
}

lc_status lc_tensor_alloc_data(lc_tensor *t)
{
    size_t es = lc_dtype_size(t->dtype);
    int64_t n = lc_shape_numel(t->ndim, t->dims, es ? es : sizeof(lc_bytes));
    if (n < 0) return lc_fail(LC_ERR_SHAPE, "tensor '%s': element count overflows", t->name);
    if (t->dtype == LC_DTYPE_STRING) {
        t->strings = n ? calloc((size_t)n, sizeof *t->strings) : NULL;
        if (n && !t->strings) return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", t->name);
        return LC_OK;
    }
    if (!es) return lc_fail(LC_ERR_UNSUPPORTED, "tensor '%s': unsupported dtype %d", t->name, t->dtype);
    t->nbytes = (size_t)n * es;
    t->data = t->nbytes ? calloc(1, t->nbytes) : NULL;
    if (t->nbytes && !t->data) return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory (%zu bytes)", t->name, t->nbytes);
    return LC_OK;
}

lc_status lc_tensor_create(const char *name, lc_dtype dtype, int ndim, const int64_t *dims,
                           const void *data, lc_tensor **out)
{
    *out = NULL;
    if (dtype == LC_DTYPE_STRING || !lc_dtype_size(dtype))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_tensor_create: unsupported dtype %d", dtype);
    if (ndim < 0 || ndim > LC_MAX_DIMS || (ndim && !dims))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_tensor_create: bad rank %d", ndim);
    lc_tensor *t = lc_tensor_new(name, dtype, ndim, dims);
    if (!t) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = lc_tensor_alloc_data(t);
    if (s) {
        lc_tensor_free(t);
        return s;
    }
    if (data && t->nbytes) memcpy(t->data, data, t->nbytes);
    *out = t;
    return LC_OK;
}

void lc_tensor_free(lc_tensor *t)
{
    if (!t) return;
    free(t->name);
    free(t->doc_string);
    /* shared data goes with its last holder */
    if (!t->shared) free(t->data);
    else if (--*t->shared == 0) {
        free(t->data);
        free(t->shared);
    }
    if (t->strings) {
        int64_t n = lc_shape_numel(t->ndim, t->dims, 0);
        for (int64_t i = 0; i < n; i++) free(t->strings[i].data);
        free(t->strings);
    }
    lc_encoding_free(t->enc);
    free(t);
}

lc_tensor *lc_tensor_clone(const lc_tensor *src)
{
    lc_tensor *t = lc_tensor_new(src->name, src->dtype, src->ndim, src->dims);
    if (!t) return NULL;
    t->doc_string = lc_strdup(src->doc_string);
    if (lc_tensor_alloc_data(t) != LC_OK) goto fail;
    if (src->nbytes) memcpy(t->data, src->data, src->nbytes);
    if (src->enc && !(t->enc = lc_encoding_clone(src->enc, lc_shape_numel(src->ndim, src->dims, 0)))) goto fail;
    if (src->strings) {
        int64_t n = lc_shape_numel(src->ndim, src->dims, 0);
        for (int64_t i = 0; i < n; i++) {
            t->strings[i].data = lc_strndup(src->strings[i].data, src->strings[i].len);
            if (!t->strings[i].data) goto fail;
            t->strings[i].len = src->strings[i].len;
        }
    }
    return t;
fail:
    lc_tensor_free(t);
    return NULL;
}

lc_status lc_tensor_unshare(lc_tensor *t)
{
    if (!t->shared) return LC_OK;
    if (*t->shared > 1) {
        void *copy = malloc(t->nbytes ? t->nbytes : 1);
        if (!copy) return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory (%zu bytes)", t->name, t->nbytes);
        if (t->nbytes) memcpy(copy, t->data, t->nbytes);
        --*t->shared;
        t->data = t->nbytes ? copy : (free(copy), NULL);
    } else {
        free(t->shared);
    }
    t->shared = NULL;
    return LC_OK;
}

/* A tensor sharing src's data (numeric tensors with data; others are
 * copied). The counter lives in both; src is const to its readers, but its
 * counter is bookkeeping, not content. */
lc_tensor *lc_tensor_clone_shared(const lc_tensor *src)
{
    if (!src->data || src->strings || src->dtype == LC_DTYPE_STRING) return lc_tensor_clone(src);
    lc_tensor *t = lc_tensor_new(src->name, src->dtype, src->ndim, src->dims);
    if (!t) return NULL;
    lc_tensor *s = (lc_tensor *)src;
    if (!s->shared) {
        if (!(s->shared = malloc(sizeof *s->shared))) {
            lc_tensor_free(t);
            return NULL;
        }
        *s->shared = 1;
    }
    t->doc_string = lc_strdup(src->doc_string);
    if (src->doc_string && !t->doc_string) goto fail;
    if (src->enc && !(t->enc = lc_encoding_clone(src->enc, lc_shape_numel(src->ndim, src->dims, 0)))) goto fail;
    t->data = src->data;
    t->nbytes = src->nbytes;
    t->shared = s->shared;
    ++*t->shared;
    return t;
fail:
    lc_tensor_free(t);
    return NULL;
}

const char *lc_tensor_name(const lc_tensor *t) { return t->name; }
lc_dtype lc_tensor_dtype(const lc_tensor *t) { return t->dtype; }
int lc_tensor_ndim(const lc_tensor *t) { return t->ndim; }
const int64_t *lc_tensor_dims(const lc_tensor *t) { return t->dims; }
int64_t lc_tensor_numel(const lc_tensor *t) { return lc_shape_numel(t->ndim, t->dims, 0); }
const void *lc_tensor_data(const lc_tensor *t) { return t->data; }
size_t lc_tensor_nbytes(const lc_tensor *t) { return t->nbytes; }

float lc_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (!man) bits = sign;
        else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | man << 13;
    else bits = sign | (exp + 127 - 15) << 23 | man << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t lc_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, absx = x & 0x7fffffff;
    if (absx >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 : 0));
    if (absx >= 0x477ff000) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
    if (absx < 0x38800000) { /* subnormal or zero in half */
        if (absx < 0x33000000) return (uint16_t)sign;
        uint32_t man = (absx & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(absx >> 23);
        uint32_t r = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((absx >> 13) - (112u << 10));
    uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}
