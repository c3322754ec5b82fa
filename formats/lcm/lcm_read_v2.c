/* .lcm format 2.0 and 3.0 container (formats/LCM.md): a 16-byte header with one
 * CRC over the rest, sections of varint type and length, and one TENSORS
 * section whose records take dtype and element count from the graph. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "lc_lcm_read.h"

lc_status lcm_v2_parse(lcm_reader *r)
{
    const uint8_t *b = r->buf, *end = r->buf + r->len;
    if (r->len < LC_LCM_HEADER2_SIZE)
        return lcm_fail_at(r, "header", r->len, "file ends inside the %d-byte header (%zu bytes; truncated?)",
                           LC_LCM_HEADER2_SIZE, r->len);
    uLong crc = crc32(0L, b, 12);
    if ((uint32_t)crc32_z(crc, b + LC_LCM_HEADER2_SIZE, r->len - LC_LCM_HEADER2_SIZE) != lc_get32(b + 12))
        return lcm_fail_at(r, "header", 12, "CRC mismatch: the file is corrupt, truncated or extended");
    uint64_t at = LC_LCM_HEADER2_SIZE;
    int n_graph = 0, n_meta = 0, n_tensors = 0;
    r->header_bytes = LC_LCM_HEADER2_SIZE;
    while (at < r->len) {
        uint64_t type, len;
        size_t a = lc_get_varint(b + at, end, &type), c = a ? lc_get_varint(b + at + a, end, &len) : 0;
        if (!a || !c) return lcm_fail_at(r, "section head", at, "bad or truncated varint");
        uint64_t body = at + a + c;
        if (len > r->len - body)
            return lcm_fail_at(r, "section head", at, "a section of %llu bytes runs past the end of the file",
                               (unsigned long long)len);
        r->header_bytes += a + c;
        if (type == LC_LCM_SEC_META) {
            if (n_meta++) return lcm_fail_at(r, "section head", at, "two META sections");
            r->meta_off = body;
            r->meta_len = len;
        } else if (type == LC_LCM_SEC_GRAPH) {
            if (n_graph++) return lcm_fail_at(r, "section head", at, "two GRAPH sections");
            r->graph_off = body;
            r->graph_len = len;
        } else if (type == LC_LCM_SEC_TENSORS) {
            if (n_tensors++) return lcm_fail_at(r, "section head", at, "two TENSORS sections");
            r->tensors_off = r->next_record = body;
            r->tensors_len = len;
        } else if (type >= LC_LCM_SEC_OPTIONAL) {
            r->optional_bytes += len;
        } else {
            return lcm_fail_at(r, "section head", at, "unknown section type %llu", (unsigned long long)type);
        }
        at = body + len;
    }
    if (!n_graph) return lcm_fail_at(r, "header", LC_LCM_HEADER2_SIZE, "no GRAPH section");
    return LC_OK;
}

/* Reads a varint of at most `max` at *at within the record's section. */
static lc_status get_uint(const lcm_reader *r, const lcm_tdesc *d, uint64_t *at, uint64_t max, const char *what,
                          uint64_t *v)
{
    size_t n = lc_get_varint(r->buf + *at, r->buf + r->tensors_off + r->tensors_len, v);
    if (!n) return lcm_fail_at(r, d->where, *at, "%s: bad or truncated varint", what);
    if (*v > max) return lcm_fail_at(r, d->where, *at, "%s %llu (at most %llu)", what, (unsigned long long)*v,
                                     (unsigned long long)max);
    *at += n;
    return LC_OK;
}

lc_status lcm_v2_tensor(lcm_reader *r, uint32_t k, const lc_tensor *t, lcm_tdesc *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->where, sizeof d->where, "TENSORS record %u ('%s')", k, t->name);
    uint64_t at = r->next_record, end = r->tensors_off + r->tensors_len, v;
    lc_status s;
    d->start = at;
    if (at >= end)
        return lcm_fail_at(r, d->where, at, "the TENSORS section ends before the graph's placeholder %u", k);
    int64_t numel = lc_shape_numel(t->ndim, t->dims, lc_dtype_size(t->dtype));
    if (numel < 0) return lcm_fail_at(r, d->where, at, "tensor '%s' has no valid size", t->name);
    d->numel = (uint64_t)numel;
    uint8_t h = r->buf[at++];
    d->store = h & 7;
    d->sparsity = (h >> 3) & 3;
    d->flags = h >> 5;
    d->axis = -1;
    /* the record's layout depends on these two */
    if (d->store > LC_LCM_BINARY) return lcm_fail_at(r, d->where, at - 1, "unknown store kind %d", d->store);
    if (d->sparsity > LC_LCM_SPARSE_GAPS) return lcm_fail_at(r, d->where, at - 1, "unknown sparsity kind %d", d->sparsity);
    if (d->store != LC_LCM_RAW) {
        if ((s = get_uint(r, d, &at, r->major >= 3 ? 32 + LC_LCM_BITS_HALF_PARAMS : 32, "bits", &v))) return s;
        d->half_params = (v & LC_LCM_BITS_HALF_PARAMS) != 0;
        d->bits = (int)(v & ~(uint64_t)LC_LCM_BITS_HALF_PARAMS);
        if ((s = get_uint(r, d, &at, (uint64_t)t->ndim, "axis", &v))) return s;
        d->axis = (int32_t)v - 1;
    }
    if (d->store == LC_LCM_CODEBOOK) {
        if ((s = get_uint(r, d, &at, 256, "codes", &v))) return s;
        d->n_codes = (uint32_t)v;
    }
    d->kept = d->numel;
    if (d->sparsity) {
        if ((s = get_uint(r, d, &at, d->numel, "kept elements", &v))) return s;
        d->kept = v;
    }
    if (d->sparsity == LC_LCM_SPARSE_GAPS) {
        if (at >= end) return lcm_fail_at(r, d->where, at, "record ends before its gap width");
        d->gap_bits = r->buf[at++];
    }
    d->n_streams = 1 + (d->sparsity != 0);
    uint64_t ch = d->axis >= 0 ? (uint64_t)t->dims[d->axis] : 1;
    uint64_t fsize = d->half_params ? 2 : 4;
    uint64_t params = d->store == LC_LCM_UNIFORM    ? ch * (fsize + 1)
                      : d->store == LC_LCM_CODEBOOK ? ch * (uint64_t)d->n_codes * fsize
                      : d->store == LC_LCM_BINARY   ? ch * fsize
                                                    : 0;
    if (params > end - at)
        return lcm_fail_at(r, d->where, at, "%llu bytes of per-channel parameters run past the section",
                           (unsigned long long)params);
    d->params_off = at;
    at += params;
    for (int j = 0; j < d->n_streams; j++) {
        if (at >= end) return lcm_fail_at(r, d->where, at, "record ends before stream %d", j);
        d->s[j].coding = r->buf[at++];
        d->s[j].w = j == 0 ? lcm_value_width(d->store, d->bits) : d->sparsity == LC_LCM_SPARSE_BITMAP ? 1 : d->gap_bits;
        if (j == 0) d->s[j].n = d->store == LC_LCM_RAW ? d->numel * lcm_value_size(d->store, t->dtype)
                                                       : d->kept * lcm_value_size(d->store, t->dtype);
        else if (d->sparsity == LC_LCM_SPARSE_BITMAP) d->s[j].n = d->numel;
        else if ((s = get_uint(r, d, &at, UINT32_MAX * (uint64_t)256, "gap symbols", &d->s[j].n))) return s;
        if ((s = get_uint(r, d, &at, end - at, "stream bytes", &d->s[j].bytes))) return s;
        if (d->s[j].bytes > end - at)
            return lcm_fail_at(r, d->where, at, "stream %d: %llu bytes run past the TENSORS section", j,
                               (unsigned long long)d->s[j].bytes);
        d->s[j].off = at;
        at += d->s[j].bytes;
    }
    d->bytes = at - d->start;
    r->next_record = at;
    return LC_OK;
}

lc_status lcm_v2_finish(const lcm_reader *r)
{
    uint64_t end = r->tensors_off + r->tensors_len;
    if (r->tensors_len && r->next_record != end)
        return lcm_fail_at(r, "TENSORS", r->next_record, "%llu bytes after the last placeholder's record",
                           (unsigned long long)(end - r->next_record));
    return LC_OK;
}
