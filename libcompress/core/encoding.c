/* Weight encodings: allocation, decoding and the bit-exact invariant
 * check (see lc_encoding.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"

lc_encoding *lc_tensor_encoding(lc_tensor *t)
{
    if (t->enc) return t->enc;
    t->enc = calloc(1, sizeof *t->enc);
    if (!t->enc) {
        lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", t->name);
        return NULL;
    }
    t->enc->axis = -1;
    t->enc->channels = 1;
    return t->enc;
}

static void free_values(lc_encoding *e)
{
    free(e->scale);
    free(e->zero_point);
    free(e->codebook);
    free(e->alpha);
    free(e->codes);
    e->scale = NULL;
    e->zero_point = NULL;
    e->codebook = NULL;
    e->alpha = NULL;
    e->codes = NULL;
}

void lc_encoding_free(lc_encoding *e)
{
    if (!e) return;
    free_values(e);
    free(e->mask);
    free(e);
}

static void *dup_bytes(const void *p, size_t n, bool *oom)
{
    if (!p) return NULL;
    void *d = malloc(n ? n : 1);
    if (!d) {
        *oom = true;
        return NULL;
    }
    memcpy(d, p, n);
    return d;
}

lc_encoding *lc_encoding_clone(const lc_encoding *e, int64_t numel)
{
    if (!e) return NULL;
    lc_encoding *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *e;
    bool oom = false;
    size_t ch = (size_t)e->channels, n = (size_t)numel;
    c->mask = dup_bytes(e->mask, n, &oom);
    c->scale = dup_bytes(e->scale, ch * sizeof(float), &oom);
    c->zero_point = dup_bytes(e->zero_point, ch * sizeof(int32_t), &oom);
    c->codebook = dup_bytes(e->codebook, ch * (size_t)e->n_codes * sizeof(float), &oom);
    c->alpha = dup_bytes(e->alpha, ch * sizeof(float), &oom);
    c->codes = dup_bytes(e->codes, n, &oom);
    if (oom) {
        lc_encoding_free(c);
        return NULL;
    }
    return c;
}

int64_t lc_encoding_channel(const lc_encoding *e, const lc_tensor *t, int64_t i)
{
    if (e->axis < 0) return 0;
    int64_t inner = 1;
    for (int d = e->axis + 1; d < t->ndim; d++) inner *= t->dims[d];
    return (i / inner) % t->dims[e->axis];
}

float lc_encoding_value(const lc_encoding *e, int64_t c, int code)
{
    switch (e->kind) {
    case LC_ENC_UNIFORM: return (float)(code - e->zero_point[c]) * e->scale[c];
    case LC_ENC_CODEBOOK: return e->codebook[c * e->n_codes + code];
    case LC_ENC_BINARY: return code ? e->alpha[c] : -e->alpha[c];
    default: return 0;
    }
}

lc_status lc_encoding_mask_from_zeros(lc_tensor *t)
{
    if (t->dtype != LC_DTYPE_FLOAT) return lc_fail(LC_ERR_DTYPE, "tensor '%s': only float32 weights can be masked", t->name);
    lc_encoding *e = lc_tensor_encoding(t);
    if (!e) return LC_ERR_NO_MEMORY;
    int64_t n = lc_tensor_numel(t);
    if (!e->mask && !(e->mask = malloc(n ? (size_t)n : 1))) return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", t->name);
    float *w = t->data;
    for (int64_t i = 0; i < n; i++) {
        e->mask[i] = w[i] != 0.0f;
        if (!e->mask[i]) w[i] = 0.0f; /* -0.0 becomes +0.0: what decoding gives */
    }
    return LC_OK;
}

int64_t lc_encoding_kept(const lc_encoding *e, int64_t numel)
{
    if (!e || !e->mask) return numel;
    int64_t k = 0;
    for (int64_t i = 0; i < numel; i++) k += e->mask[i] != 0;
    return k;
}

lc_status lc_encoding_set_kind(lc_encoding *e, const lc_tensor *t, int kind, int bits, int axis, int n_codes)
{
    if (bits < 1 || bits > 8) return lc_fail(LC_ERR_PARAMETER, "tensor '%s': %d bits (1..8 supported)", t->name, bits);
    if (axis >= t->ndim) return lc_fail(LC_ERR_INTERNAL, "tensor '%s': channel axis %d of rank %d", t->name, axis, t->ndim);
    int64_t ch = axis < 0 ? 1 : t->dims[axis], n = lc_tensor_numel(t);
    free_values(e);
    e->kind = kind;
    e->bits = bits;
    e->axis = axis;
    e->channels = ch;
    e->n_codes = kind == LC_ENC_CODEBOOK ? n_codes : 0;
    bool oom = false;
    if (kind != LC_ENC_DENSE) oom |= !(e->codes = calloc(n ? (size_t)n : 1, 1));
    if (kind == LC_ENC_UNIFORM) {
        oom |= !(e->scale = calloc((size_t)ch, sizeof *e->scale));
        oom |= !(e->zero_point = calloc((size_t)ch, sizeof *e->zero_point));
    } else if (kind == LC_ENC_CODEBOOK) {
        if (n_codes < 1 || n_codes > (1 << bits))
            return lc_fail(LC_ERR_PARAMETER, "tensor '%s': %d codes do not fit %d bits", t->name, n_codes, bits);
        oom |= !(e->codebook = calloc((size_t)(ch * n_codes), sizeof *e->codebook));
    } else if (kind == LC_ENC_BINARY) {
        oom |= !(e->alpha = calloc((size_t)ch, sizeof *e->alpha));
    }
    if (oom) {
        free_values(e);
        e->kind = LC_ENC_DENSE;
        return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory", t->name);
    }
    return LC_OK;
}

lc_status lc_encoding_verify(const lc_tensor *t)
{
    const lc_encoding *e = t->enc;
    if (!e) return LC_OK;
    if (t->dtype != LC_DTYPE_FLOAT) return lc_fail(LC_ERR_VERIFY, "tensor '%s': encoded but not float32", t->name);
    const float *w = t->data;
    int64_t n = lc_tensor_numel(t);
    /* codes are bytes: a grid or sign code has 1..8 bits (a dense encoding's
     * bits describe its stored floats and bound no code) */
    if ((e->kind == LC_ENC_UNIFORM || e->kind == LC_ENC_BINARY) && (e->bits < 1 || e->bits > 8))
        return lc_fail(LC_ERR_VERIFY, "tensor '%s': %d bits per code (1..8)", t->name, e->bits);
    int limit = e->kind == LC_ENC_CODEBOOK ? e->n_codes : e->kind == LC_ENC_DENSE ? 0 : 1 << e->bits;
    for (int64_t i = 0; i < n; i++) {
        float expect;
        if (e->mask && !e->mask[i]) expect = 0.0f;
        else if (e->kind == LC_ENC_DENSE) continue;
        else {
            if (e->codes[i] >= limit)
                return lc_fail(LC_ERR_VERIFY, "tensor '%s': element %lld has code %d (at most %d)", t->name, (long long)i,
                               e->codes[i], limit - 1);
            expect = lc_encoding_value(e, lc_encoding_channel(e, t, i), e->codes[i]);
        }
        if (memcmp(&expect, &w[i], sizeof expect) != 0)
            return lc_fail(LC_ERR_VERIFY, "tensor '%s': element %lld is %.9g but its encoding decodes to %.9g", t->name,
                           (long long)i, (double)w[i], (double)expect);
    }
    return LC_OK;
}

/* Whether f rounds to a normal float16 or is 0 (below 2^-14 float16 keeps
 * fewer bits and the rounding is not small). */
static bool half_normal(float f)
{
    float a = fabsf(f);
    return a == 0.0f || (a >= 0x1p-14f && a <= 65504.0f);
}

bool lc_encoding_round_params_half(lc_tensor *t)
{
    lc_encoding *e = t->enc;
    if (!e || t->dtype != LC_DTYPE_FLOAT || !t->data) return false;
    float *p = e->kind == LC_ENC_UNIFORM ? e->scale : e->kind == LC_ENC_CODEBOOK ? e->codebook
             : e->kind == LC_ENC_BINARY ? e->alpha : NULL;
    int64_t n = e->kind == LC_ENC_CODEBOOK ? e->channels * e->n_codes : e->channels;
    if (!p) return false;
    for (int64_t k = 0; k < n; k++)
        if (!half_normal(p[k])) return false;
    for (int64_t k = 0; k < n; k++) p[k] = lc_half_to_float(lc_float_to_half(p[k]));
    float *v = t->data;
    int64_t numel = lc_tensor_numel(t);
    for (int64_t i = 0; i < numel; i++)
        if (!e->mask || e->mask[i]) v[i] = lc_encoding_value(e, lc_encoding_channel(e, t, i), e->codes[i]);
    return true;
}
