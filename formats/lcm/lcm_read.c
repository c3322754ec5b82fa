/* .lcm reader (formats/LCM.md). The file is untrusted: every count, size
 * and offset is checked before use, and errors name the section and the
 * byte offset in the file. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_encoding.h"
#include "lc_huffman.h"
#include "lc_lcm.h"
#include "onnx_internal.h"

/* The accounting reports the file's numbers through the public enums. */
static_assert((int)LC_LCM_STORE_RAW == LC_LCM_RAW && (int)LC_LCM_STORE_F32 == LC_LCM_F32 &&
                  (int)LC_LCM_STORE_F16 == LC_LCM_F16 && (int)LC_LCM_STORE_UNIFORM == LC_LCM_UNIFORM &&
                  (int)LC_LCM_STORE_CODEBOOK == LC_LCM_CODEBOOK && (int)LC_LCM_STORE_BINARY == LC_LCM_BINARY,
              "lc_lcm_store follows the file's store numbers");
static_assert((int)LC_LCM_SPARSITY_NONE == LC_LCM_SPARSE_NONE && (int)LC_LCM_SPARSITY_BITMAP == LC_LCM_SPARSE_BITMAP &&
                  (int)LC_LCM_SPARSITY_GAPS == LC_LCM_SPARSE_GAPS,
              "lc_lcm_sparsity follows the file's sparsity numbers");

typedef struct section {
    uint32_t type, index;
    uint64_t off, len;
} section;

typedef struct reader {
    const char *label;
    const uint8_t *buf;
    size_t len;
    section *secs;
    uint32_t n_secs;
    int meta, graph;         /* section numbers, -1 if none */
    int *tensor_sec;         /* ordinal -> section number */
    uint32_t n_tensors;
} reader;

static const char *type_name(uint32_t type)
{
    switch (type) {
    case LC_LCM_SEC_META: return "META";
    case LC_LCM_SEC_GRAPH: return "GRAPH";
    case LC_LCM_SEC_TENSOR: return "TENSOR";
    default: return "optional";
    }
}

/* LC_ERR_FORMAT "<label>: section i (TYPE[ k]) at byte B: <message>";
 * sec < 0: the header. */
static lc_status fail_at(const reader *r, int sec, uint64_t byte, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static lc_status fail_at(const reader *r, int sec, uint64_t byte, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sec < 0) return lc_fail(LC_ERR_FORMAT, "%s: header at byte %llu: %s", r->label, (unsigned long long)byte, msg);
    const section *s = &r->secs[sec];
    if (s->type == LC_LCM_SEC_TENSOR)
        return lc_fail(LC_ERR_FORMAT, "%s: section %d (TENSOR %u) at byte %llu: %s", r->label, sec, s->index,
                       (unsigned long long)byte, msg);
    return lc_fail(LC_ERR_FORMAT, "%s: section %d (%s) at byte %llu: %s", r->label, sec, type_name(s->type),
                   (unsigned long long)byte, msg);
}

int lc_lcm_is(const void *buf, size_t len)
{
    return buf && len >= 8 && memcmp(buf, LC_LCM_MAGIC, 8) == 0;
}

static void reader_clear(reader *r)
{
    free(r->secs);
    free(r->tensor_sec);
    r->secs = NULL;
    r->tensor_sec = NULL;
}

/* Header, section table, CRCs, section kinds. */
static lc_status parse_container(reader *r)
{
    const uint8_t *b = r->buf;
    r->meta = r->graph = -1;
    if (r->len < LC_LCM_HEADER_SIZE || !lc_lcm_is(b, r->len)) {
        if (!lc_lcm_is(b, r->len)) return fail_at(r, -1, 0, "not an .lcm file (bad magic)");
        return fail_at(r, -1, r->len, "file ends inside the %d-byte header (%zu bytes)", LC_LCM_HEADER_SIZE, r->len);
    }
    uint16_t major = lc_get16(b + 8);
    if (major != LC_LCM_MAJOR)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: .lcm major version %u (this reader handles %d)", r->label, major, LC_LCM_MAJOR);
    uint32_t n = lc_get32(b + 12);
    uint64_t size = lc_get64(b + 16);
    if (size != r->len)
        return fail_at(r, -1, 16, "the header says %llu bytes but the file has %zu (truncated or extended?)",
                       (unsigned long long)size, r->len);
    if (n < 2 || n > LC_LCM_MAX_SECTIONS) return fail_at(r, -1, 12, "%u sections (2..%u)", n, LC_LCM_MAX_SECTIONS);
    uint64_t table_end = LC_LCM_HEADER_SIZE + (uint64_t)n * LC_LCM_ENTRY_SIZE;
    if (table_end > r->len) return fail_at(r, -1, 12, "a table of %u sections does not fit the file", n);
    if (lc_get32(b + 24)) return fail_at(r, -1, 24, "unknown flags 0x%x", lc_get32(b + 24));
    uLong crc = crc32(0L, b, 28);
    crc = crc32_z(crc, b + LC_LCM_HEADER_SIZE, (size_t)n * LC_LCM_ENTRY_SIZE);
    if ((uint32_t)crc != lc_get32(b + 28)) return fail_at(r, -1, 28, "header CRC mismatch (file corrupt)");
    r->secs = calloc(n, sizeof *r->secs);
    if (!r->secs) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    r->n_secs = n;
    uint64_t expect = table_end;
    uint32_t n_tensors = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + LC_LCM_HEADER_SIZE + (size_t)i * LC_LCM_ENTRY_SIZE;
        uint64_t eoff = LC_LCM_HEADER_SIZE + (uint64_t)i * LC_LCM_ENTRY_SIZE;
        section *s = &r->secs[i];
        s->type = lc_get32(e);
        s->index = lc_get32(e + 4);
        s->off = lc_get64(e + 8);
        s->len = lc_get64(e + 16);
        if (s->type != LC_LCM_SEC_META && s->type != LC_LCM_SEC_GRAPH && s->type != LC_LCM_SEC_TENSOR &&
            s->type < LC_LCM_SEC_OPTIONAL)
            return fail_at(r, -1, eoff, "section %u has unknown type %u", i, s->type);
        if (lc_get32(e + 28)) return fail_at(r, -1, eoff + 28, "section %u: reserved field is not 0", i);
        if (s->off != expect)
            return fail_at(r, -1, eoff + 8, "section %u starts at %llu, expected %llu (sections tile the file)", i,
                           (unsigned long long)s->off, (unsigned long long)expect);
        if (s->len > r->len - s->off)
            return fail_at(r, -1, eoff + 16, "section %u (%llu bytes at %llu) runs past the end of the file", i,
                           (unsigned long long)s->len, (unsigned long long)s->off);
        expect = s->off + s->len;
        if ((uint32_t)crc32_z(0L, b + s->off, (size_t)s->len) != lc_get32(e + 24))
            return fail_at(r, (int)i, s->off, "CRC mismatch (file corrupt)");
        if (s->type == LC_LCM_SEC_TENSOR) {
            n_tensors++;
        } else if (s->index) {
            return fail_at(r, -1, eoff + 4, "section %u: index %u of a %s section is not 0", i, s->index, type_name(s->type));
        }
        if (s->type == LC_LCM_SEC_META) {
            if (r->meta >= 0) return fail_at(r, -1, eoff, "two META sections (%d and %u)", r->meta, i);
            r->meta = (int)i;
        }
        if (s->type == LC_LCM_SEC_GRAPH) {
            if (r->graph >= 0) return fail_at(r, -1, eoff, "two GRAPH sections (%d and %u)", r->graph, i);
            r->graph = (int)i;
        }
    }
    if (expect != r->len) return fail_at(r, -1, expect, "%llu bytes after the last section", (unsigned long long)(r->len - expect));
    if (r->graph < 0) return fail_at(r, -1, 12, "no GRAPH section");
    r->n_tensors = n_tensors;
    r->tensor_sec = malloc((n_tensors ? n_tensors : 1) * sizeof *r->tensor_sec);
    if (!r->tensor_sec) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    for (uint32_t k = 0; k < n_tensors; k++) r->tensor_sec[k] = -1;
    for (uint32_t i = 0; i < n; i++) {
        const section *s = &r->secs[i];
        if (s->type != LC_LCM_SEC_TENSOR) continue;
        uint64_t eoff = LC_LCM_HEADER_SIZE + (uint64_t)i * LC_LCM_ENTRY_SIZE + 4;
        if (s->index >= n_tensors) return fail_at(r, -1, eoff, "section %u: tensor ordinal %u of %u", i, s->index, n_tensors);
        if (r->tensor_sec[s->index] >= 0)
            return fail_at(r, -1, eoff, "sections %d and %u both hold tensor %u", r->tensor_sec[s->index], i, s->index);
        r->tensor_sec[s->index] = (int)i;
    }
    return LC_OK;
}

/* ---- tensors ---- */

typedef struct stream_desc {
    int coding, w;
    uint64_t n, bytes, off; /* off: from the section start */
} stream_desc;

/* Decodes one stream into sym (n bytes); fills the accounting entry. */
static lc_status read_stream(const reader *r, int sec, const stream_desc *d, uint8_t *sym, lc_lcm_stream_info *info)
{
    const section *s = &r->secs[sec];
    const uint8_t *p = r->buf + s->off + d->off;
    lc_status st;
    if (d->coding == LC_LCM_CODING_HUFFMAN) st = lc_huff_stream_read(p, (size_t)d->bytes, d->w, sym, (size_t)d->n);
    else st = lc_bits_unpack(p, (size_t)d->bytes, d->w, sym, (size_t)d->n);
    if (st) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", lc_last_error());
        return fail_at(r, sec, s->off + d->off, "stream of %llu %d-bit symbols: %s", (unsigned long long)d->n, d->w, msg);
    }
    if (info) {
        uint64_t hist[256] = {0};
        lc_huff_histogram(sym, (size_t)d->n, hist);
        info->coding = d->coding;
        info->bits = d->w;
        info->symbols = (int64_t)d->n;
        info->bytes = (int64_t)d->bytes;
        info->entropy_bits = lc_huff_entropy_bits(hist, 1 << d->w);
        info->table_bytes = 0;
        if (d->coding == LC_LCM_CODING_HUFFMAN) {
            uint8_t len[256];
            size_t used = 0;
            if (lc_huff_table_read(p, (size_t)d->bytes, d->w, len, &used) == LC_OK) info->table_bytes = (int64_t)used;
        }
    }
    return LC_OK;
}

/* Fills placeholder t from its TENSOR section. */
static lc_status read_tensor(const reader *r, int sec, lc_tensor *t, lc_lcm_tensor_info *info)
{
    const section *s = &r->secs[sec];
    const uint8_t *d = r->buf + s->off;
    uint64_t base = s->off, len = s->len;
    uint8_t *sym0 = NULL, *sym1 = NULL, *kept = NULL;
    lc_encoding *enc = NULL;
    lc_status st = LC_OK;
    if (len < LC_LCM_TDESC_SIZE) return fail_at(r, sec, base, "%llu bytes, less than a tensor descriptor", (unsigned long long)len);
    int store = d[0], bits = d[1], sparsity = d[2], flags = d[3], dtype = d[4], gap_bits = d[5], n_streams = d[6];
    int32_t axis = (int32_t)lc_get32(d + 8);
    uint32_t n_codes = lc_get32(d + 12);
    uint64_t numel = lc_get64(d + 16), n_kept = lc_get32(d + 24), data_off = lc_get32(d + 28);
    if (store > LC_LCM_BINARY) return fail_at(r, sec, base, "unknown store kind %d", store);
    if (dtype != t->dtype)
        return fail_at(r, sec, base + 4, "dtype %d, but the graph declares tensor '%s' as %s", dtype, t->name, lc_dtype_name(t->dtype));
    int64_t want = lc_shape_numel(t->ndim, t->dims, lc_dtype_size(t->dtype));
    if (want < 0 || (uint64_t)want != numel)
        return fail_at(r, sec, base + 16, "%llu elements, but tensor '%s' has dims [%s]", (unsigned long long)numel, t->name,
                       lc_dims_str(t->ndim, t->dims));
    /* No stream codes an element in fewer than 1/2040 bytes (gaps of 8
     * bits, Huffman-coded fillers), so this bounds what we allocate by the
     * section's size. */
    if (numel > 2048 * len + 256) return fail_at(r, sec, base + 16, "%llu elements cannot fit %llu bytes", (unsigned long long)numel, (unsigned long long)len);
    if (d[7]) return fail_at(r, sec, base + 7, "reserved byte is not 0");
    if (flags & ~7) return fail_at(r, sec, base + 3, "unknown flags 0x%x", flags);
    bool has_enc = flags & LC_LCM_FLAG_ENCODING;
    if (!has_enc && (flags & (LC_LCM_FLAG_ENTROPY | LC_LCM_FLAG_MASK)))
        return fail_at(r, sec, base + 3, "flags 0x%x: ENTROPY/MASK without ENCODING", flags);
    if (store == LC_LCM_RAW) {
        if (flags || sparsity || bits || axis != -1 || n_codes)
            return fail_at(r, sec, base, "a RAW tensor has flags, sparsity, bits, axis or codes");
        if (t->dtype == LC_DTYPE_STRING) return fail_at(r, sec, base + 4, "STRING tensors are not stored in sections");
    } else if (t->dtype != LC_DTYPE_FLOAT) {
        return fail_at(r, sec, base, "store kind %d needs a float tensor, '%s' is %s", store, t->name, lc_dtype_name(t->dtype));
    }
    if ((store == LC_LCM_UNIFORM || store == LC_LCM_CODEBOOK) && (bits < 1 || bits > 8))
        return fail_at(r, sec, base + 1, "%d bits (1..8)", bits);
    if (store == LC_LCM_BINARY && bits != 1) return fail_at(r, sec, base + 1, "binary codes with %d bits", bits);
    if ((store == LC_LCM_F32 || store == LC_LCM_F16) && bits > 32) return fail_at(r, sec, base + 1, "%d bits (0..32)", bits);
    if (store >= LC_LCM_UNIFORM && !has_enc) return fail_at(r, sec, base + 3, "store kind %d without the ENCODING flag", store);
    if (store == LC_LCM_CODEBOOK ? (n_codes < 1 || n_codes > (1u << bits)) : n_codes != 0)
        return fail_at(r, sec, base + 12, "%u codes", n_codes);
    if (sparsity > LC_LCM_SPARSE_GAPS) return fail_at(r, sec, base + 2, "unknown sparsity kind %d", sparsity);
    if (sparsity == LC_LCM_SPARSE_GAPS ? (gap_bits < 1 || gap_bits > 8) : gap_bits != 0)
        return fail_at(r, sec, base + 5, "gap width %d with sparsity kind %d", gap_bits, sparsity);
    if (n_streams != 1 + (sparsity != 0)) return fail_at(r, sec, base + 6, "%d streams with sparsity kind %d", n_streams, sparsity);
    if (axis < -1 || axis >= t->ndim) return fail_at(r, sec, base + 8, "axis %d of a rank-%d tensor", axis, t->ndim);
    if (n_kept > numel || (!sparsity && n_kept != numel))
        return fail_at(r, sec, base + 24, "%llu kept of %llu elements", (unsigned long long)n_kept, (unsigned long long)numel);
    uint64_t ch = axis < 0 ? 1 : (uint64_t)t->dims[axis];
    uint64_t params = store == LC_LCM_UNIFORM ? ch * 5 : store == LC_LCM_CODEBOOK ? ch * n_codes * 4 : store == LC_LCM_BINARY ? ch * 4 : 0;
    uint64_t head = LC_LCM_TDESC_SIZE + params + (uint64_t)n_streams * LC_LCM_SDESC_SIZE;
    if (head > len || data_off < head || data_off > len)
        return fail_at(r, sec, base + 28, "data offset %llu: descriptors need %llu of the section's %llu bytes",
                       (unsigned long long)data_off, (unsigned long long)head, (unsigned long long)len);
    const uint8_t *pp = d + LC_LCM_TDESC_SIZE;
    /* stream descriptors */
    stream_desc sd[2];
    uint64_t at = data_off;
    size_t es = store == LC_LCM_RAW ? lc_dtype_size(t->dtype) : store == LC_LCM_F32 ? 4 : store == LC_LCM_F16 ? 2 : 1;
    int w0 = store == LC_LCM_UNIFORM || store == LC_LCM_CODEBOOK ? bits : store == LC_LCM_BINARY ? 1 : 8;
    for (int k = 0; k < n_streams; k++) {
        const uint8_t *q = pp + params + (size_t)k * LC_LCM_SDESC_SIZE;
        uint64_t qoff = base + LC_LCM_TDESC_SIZE + params + (uint64_t)k * LC_LCM_SDESC_SIZE;
        sd[k] = (stream_desc){q[0], q[1], lc_get64(q + 8), lc_get64(q + 16), at};
        for (int z = 2; z < 8; z++)
            if (q[z]) return fail_at(r, sec, qoff + (uint64_t)z, "stream %d: reserved byte is not 0", k);
        if (sd[k].coding > LC_LCM_CODING_HUFFMAN) return fail_at(r, sec, qoff, "stream %d: unknown coding %d", k, sd[k].coding);
        int ww = k == 0 ? w0 : sparsity == LC_LCM_SPARSE_BITMAP ? 1 : gap_bits;
        if (sd[k].w != ww) return fail_at(r, sec, qoff + 1, "stream %d: %d-bit symbols, expected %d", k, sd[k].w, ww);
        if (sd[k].bytes > len - at)
            return fail_at(r, sec, qoff + 16, "stream %d: %llu bytes at section offset %llu run past the section's %llu", k,
                           (unsigned long long)sd[k].bytes, (unsigned long long)at, (unsigned long long)len);
        /* every coding spends at least one bit per symbol */
        if (sd[k].n / 8 > sd[k].bytes) return fail_at(r, sec, qoff + 8, "stream %d: %llu symbols cannot fit %llu bytes", k,
                                                     (unsigned long long)sd[k].n, (unsigned long long)sd[k].bytes);
        at += sd[k].bytes;
    }
    if (at != len) return fail_at(r, sec, base + at, "%llu bytes after the last stream", (unsigned long long)(len - at));
    uint64_t n0 = store == LC_LCM_RAW ? numel * es : n_kept * es;
    if (sd[0].n != n0) return fail_at(r, sec, base + LC_LCM_TDESC_SIZE + params + 8, "values stream has %llu symbols, expected %llu",
                                      (unsigned long long)sd[0].n, (unsigned long long)n0);
    if (sparsity == LC_LCM_SPARSE_BITMAP && sd[1].n != numel)
        return fail_at(r, sec, base + LC_LCM_TDESC_SIZE + params + 32, "bitmap of %llu bits for %llu elements",
                       (unsigned long long)sd[1].n, (unsigned long long)numel);
    if (sparsity == LC_LCM_SPARSE_GAPS && sd[1].n < n_kept)
        return fail_at(r, sec, base + LC_LCM_TDESC_SIZE + params + 32, "%llu gaps for %llu kept elements",
                       (unsigned long long)sd[1].n, (unsigned long long)n_kept);
    if (info) {
        info->store = store;
        info->sparsity = sparsity;
        info->numel = (int64_t)numel;
        info->kept = (int64_t)n_kept;
        info->bytes = (int64_t)len;
        info->n_streams = n_streams;
        info->streams[0].role = LC_LCM_STREAM_VALUES;
        info->streams[1].role = LC_LCM_STREAM_SPARSITY;
    }
    /* decode the streams */
    sym0 = malloc(sd[0].n ? (size_t)sd[0].n : 1);
    if (!sym0) goto oom;
    if ((st = read_stream(r, sec, &sd[0], sym0, info ? &info->streams[0] : NULL))) goto done;
    kept = malloc(numel ? (size_t)numel : 1);
    if (!kept) goto oom;
    memset(kept, 1, (size_t)numel);
    if (sparsity) {
        sym1 = malloc(sd[1].n ? (size_t)sd[1].n : 1);
        if (!sym1) goto oom;
        if ((st = read_stream(r, sec, &sd[1], sym1, info ? &info->streams[1] : NULL))) goto done;
        uint64_t count = 0;
        if (sparsity == LC_LCM_SPARSE_BITMAP) {
            for (uint64_t i = 0; i < numel; i++) count += kept[i] = sym1[i];
        } else {
            memset(kept, 0, (size_t)numel);
            uint64_t pos = 0, m = (1u << gap_bits) - 1;
            for (uint64_t k = 0; k < sd[1].n; k++) {
                pos += sym1[k];
                if (sym1[k] == m) continue;
                if (pos >= numel) {
                    st = fail_at(r, sec, base + sd[1].off, "gap %llu points past the last element", (unsigned long long)k);
                    goto done;
                }
                kept[pos++] = 1;
                count++;
            }
        }
        if (count != n_kept) {
            st = fail_at(r, sec, base + sd[1].off, "sparsity stream keeps %llu elements, the descriptor says %llu",
                         (unsigned long long)count, (unsigned long long)n_kept);
            goto done;
        }
    }
    /* the float view (and encoding) */
    if ((st = lc_tensor_alloc_data(t))) goto done;
    if (store == LC_LCM_RAW) {
        memcpy(t->data, sym0, t->nbytes);
    } else {
        if (has_enc) {
            enc = calloc(1, sizeof *enc);
            if (!enc) goto oom;
            enc->axis = -1;
            enc->channels = 1;
            int kind = store == LC_LCM_UNIFORM ? LC_ENC_UNIFORM : store == LC_LCM_CODEBOOK ? LC_ENC_CODEBOOK
                     : store == LC_LCM_BINARY ? LC_ENC_BINARY : LC_ENC_DENSE;
            if (kind != LC_ENC_DENSE) {
                if ((st = lc_encoding_set_kind(enc, t, kind, bits, axis, (int)n_codes))) goto done;
            } else {
                enc->axis = axis;
                enc->channels = (int64_t)ch;
            }
            enc->bits = bits;
            enc->entropy_coded = flags & LC_LCM_FLAG_ENTROPY;
            if (flags & LC_LCM_FLAG_MASK) {
                enc->mask = malloc(numel ? (size_t)numel : 1);
                if (!enc->mask) goto oom;
                memcpy(enc->mask, kept, (size_t)numel);
            } else if (sparsity && kind != LC_ENC_DENSE) {
                st = fail_at(r, sec, base + 3, "a coded tensor with a sparsity stream but no MASK flag");
                goto done;
            }
            if (kind == LC_ENC_UNIFORM) {
                for (uint64_t c = 0; c < ch; c++) {
                    enc->scale[c] = lc_getf32(pp + 4 * c);
                    enc->zero_point[c] = pp[4 * ch + c];
                    if (enc->zero_point[c] >= (1 << bits)) {
                        st = fail_at(r, sec, base + LC_LCM_TDESC_SIZE + 4 * ch + c, "zero point %d of channel %llu needs more than %d bits",
                                     enc->zero_point[c], (unsigned long long)c, bits);
                        goto done;
                    }
                }
            } else if (kind == LC_ENC_CODEBOOK) {
                for (uint64_t k = 0; k < ch * n_codes; k++) enc->codebook[k] = lc_getf32(pp + 4 * k);
            } else if (kind == LC_ENC_BINARY) {
                for (uint64_t c = 0; c < ch; c++) enc->alpha[c] = lc_getf32(pp + 4 * c);
            }
        }
        float *v = t->data;
        uint64_t k = 0;
        for (uint64_t i = 0; i < numel; i++) {
            if (!kept[i]) continue; /* stays +0.0 (and code 0) */
            if (store == LC_LCM_F32) {
                v[i] = lc_getf32(sym0 + 4 * k);
            } else if (store == LC_LCM_F16) {
                v[i] = lc_half_to_float(lc_get16(sym0 + 2 * k));
            } else {
                int code = sym0[k];
                if (store == LC_LCM_CODEBOOK && code >= (int)n_codes) {
                    st = fail_at(r, sec, base + sd[0].off, "code %d of element %llu, but %u codes", code, (unsigned long long)i, n_codes);
                    goto done;
                }
                enc->codes[i] = (uint8_t)code;
                v[i] = lc_encoding_value(enc, lc_encoding_channel(enc, t, (int64_t)i), code);
            }
            k++;
        }
        t->enc = enc;
        enc = NULL;
    }
    goto done;
oom:
    st = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory for tensor '%s'", r->label, t->name);
done:
    if (st && t->data) {
        free(t->data);
        t->data = NULL;
        t->nbytes = 0;
    }
    lc_encoding_free(enc);
    free(sym0);
    free(sym1);
    free(kept);
    return st;
}

/* ---- graph ---- */

static lc_status inflate_graph(const reader *r, uint8_t **out, size_t *out_len)
{
    const section *s = &r->secs[r->graph];
    *out = NULL;
    if (s->len < 8) return fail_at(r, r->graph, s->off, "%llu bytes, less than its 8-byte length", (unsigned long long)s->len);
    uint64_t u = lc_get64(r->buf + s->off), c = s->len - 8;
    if (u == 0 || u > 1032 * c + 64)
        return fail_at(r, r->graph, s->off, "skeleton of %llu bytes cannot come from %llu deflated bytes", (unsigned long long)u,
                       (unsigned long long)c);
    uint8_t *p = malloc((size_t)u);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) {
        free(p);
        return lc_fail(LC_ERR_NO_MEMORY, "%s: zlib cannot start", r->label);
    }
    z.next_in = (Bytef *)(r->buf + s->off + 8);
    z.avail_in = (uInt)c;
    z.next_out = p;
    z.avail_out = (uInt)u;
    int zr = inflate(&z, Z_FINISH);
    size_t got = (size_t)z.total_out, used = (size_t)z.total_in;
    inflateEnd(&z);
    if (zr != Z_STREAM_END || got != u || used != c) {
        free(p);
        return fail_at(r, r->graph, s->off + 8 + used, "bad deflate stream (zlib %d; %zu of %llu bytes inflated, %zu of %llu read)", zr,
                       got, (unsigned long long)u, used, (unsigned long long)c);
    }
    *out = p;
    *out_len = (size_t)u;
    return LC_OK;
}

/* Fails on any tensor of the model left without data (a placeholder with
 * no TENSOR section). */
static lc_status check_filled_graph(const reader *r, const lc_graph *g);
static lc_status check_tensor(const reader *r, const lc_tensor *t)
{
    if (t && t->dtype != LC_DTYPE_STRING && !t->data && lc_shape_numel(t->ndim, t->dims, 1) != 0)
        return fail_at(r, r->graph, r->secs[r->graph].off, "tensor '%s' has no data and no TENSOR section", t->name);
    return LC_OK;
}
static lc_status check_filled_graph(const reader *r, const lc_graph *g)
{
    lc_status s = LC_OK;
    for (int i = 0; i < g->n_inits && !s; i++) s = check_tensor(r, g->inits[i]);
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const lc_node *n = g->nodes[i];
        for (int a = 0; a < n->n_attrs && !s; a++) {
            const lc_attr *at = &n->attrs[a];
            if (at->type == LC_ATTR_TENSOR) s = check_tensor(r, at->t);
            if (at->type == LC_ATTR_GRAPH && at->g) s = check_filled_graph(r, at->g);
            for (int k = 0; at->type == LC_ATTR_TENSORS && k < at->n && !s; k++) s = check_tensor(r, at->tensors[k]);
            for (int k = 0; at->type == LC_ATTR_GRAPHS && k < at->n && !s; k++) s = check_filled_graph(r, at->graphs[k]);
        }
    }
    return s;
}

static lc_status load(const void *buf, size_t len, const char *label, lc_model **out, lc_lcm_accounting *acc)
{
    reader r = {label ? label : "<buffer>", buf, len, NULL, 0, -1, -1, NULL, 0};
    lc_model *m = NULL;
    lc_stored *st = NULL;
    int n_st = 0;
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    lc_status s = parse_container(&r);
    if (s) goto done;
    if ((s = inflate_graph(&r, &skel, &skel_len))) goto done;
    char glabel[512];
    snprintf(glabel, sizeof glabel, "%s: section %d (GRAPH)", r.label, r.graph);
    if ((s = lc_onnx_load_skeleton(skel, skel_len, glabel, &m))) {
        if (s == LC_ERR_UNSUPPORTED || s == LC_ERR_VERIFY) s = LC_ERR_FORMAT;
        goto done;
    }
    if ((s = lc_model_stored_tensors(m, &st, &n_st))) goto done;
    uint32_t k = 0;
    if (acc) {
        acc->tensors = calloc(r.n_tensors ? r.n_tensors : 1, sizeof *acc->tensors);
        if (!acc->tensors) {
            s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r.label);
            goto done;
        }
        acc->n_tensors = (int)r.n_tensors;
    }
    for (int i = 0; i < n_st; i++) {
        lc_tensor *t = st[i].tensor;
        if (t->dtype == LC_DTYPE_STRING || lc_shape_numel(t->ndim, t->dims, 1) == 0) continue;
        if (t->data) {
            s = fail_at(&r, r.graph, r.secs[r.graph].off, "stored tensor '%s' keeps its data in the graph", t->name);
            goto done;
        }
        if (k >= r.n_tensors) {
            s = fail_at(&r, r.graph, r.secs[r.graph].off, "tensor '%s' is placeholder %u but the file has %u TENSOR sections",
                        t->name, k, r.n_tensors);
            goto done;
        }
        lc_lcm_tensor_info *info = acc ? &acc->tensors[k] : NULL;
        if (info && !(info->name = lc_strdup(t->name))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r.label);
            goto done;
        }
        if ((s = read_tensor(&r, r.tensor_sec[k], t, info))) goto done;
        k++;
    }
    if (k != r.n_tensors) {
        s = fail_at(&r, r.graph, r.secs[r.graph].off, "the graph has %u placeholders but the file %u TENSOR sections", k, r.n_tensors);
        goto done;
    }
    if ((s = check_filled_graph(&r, m->graph))) goto done;
    if (acc) {
        acc->file_bytes = (int64_t)len;
        acc->header_bytes = LC_LCM_HEADER_SIZE + (int64_t)r.n_secs * LC_LCM_ENTRY_SIZE;
        acc->graph_bytes = (int64_t)r.secs[r.graph].len;
        acc->meta_bytes = 0;
        for (uint32_t i = 0; i < r.n_secs; i++)
            if (r.secs[i].type != LC_LCM_SEC_GRAPH && r.secs[i].type != LC_LCM_SEC_TENSOR) acc->meta_bytes += (int64_t)r.secs[i].len;
    }
done:
    free(st);
    free(skel);
    reader_clear(&r);
    if (s) {
        lc_model_free(m);
        m = NULL;
    }
    if (out) *out = m;
    else lc_model_free(m);
    return s;
}

lc_status lc_model_load_lcm_buffer(const void *buf, size_t len, const char *label, lc_model **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load_lcm_buffer: out is NULL");
    *out = NULL;
    if (!buf && len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load_lcm_buffer: buf is NULL");
    return load(buf, len, label, out, NULL);
}

void lc_lcm_accounting_clear(lc_lcm_accounting *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_tensors && a->tensors; i++) free(a->tensors[i].name);
    free(a->tensors);
    memset(a, 0, sizeof *a);
}

lc_status lc_lcm_accounting_compute(const void *buf, size_t len, lc_lcm_accounting *a)
{
    if (!a) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_accounting_compute: NULL argument");
    memset(a, 0, sizeof *a);
    if (!buf && len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_accounting_compute: buf is NULL");
    lc_status s = load(buf, len, "<lcm>", NULL, a);
    if (s) lc_lcm_accounting_clear(a);
    return s;
}

lc_status lc_lcm_meta_read(const void *buf, size_t len, char **json)
{
    if (!json) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_meta_read: NULL argument");
    *json = NULL;
    reader r = {"<lcm>", buf, len, NULL, 0, -1, -1, NULL, 0};
    lc_status s = buf ? parse_container(&r) : lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_meta_read: buf is NULL");
    if (!s) {
        size_t n = r.meta >= 0 ? (size_t)r.secs[r.meta].len : 2;
        *json = malloc(n + 1);
        if (!*json) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        else if (r.meta >= 0) memcpy(*json, r.buf + r.secs[r.meta].off, n);
        else memcpy(*json, "{}", 2);
        if (*json) (*json)[n] = 0;
    }
    reader_clear(&r);
    return s;
}
