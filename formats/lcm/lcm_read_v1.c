/* .lcm format 1.0 container (formats/LCM.md, "Format 1.0"): a 32-byte
 * header, a table of 32-byte section entries with CRCs, one TENSOR section
 * of fixed descriptors per stored tensor. Read only: the writer writes 2.0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_lcm_read.h"

typedef struct section {
    uint32_t type, index;
    uint64_t off, len;
} section;

typedef struct v1_state {
    section *secs;
    uint32_t n_secs;
    int *tensor_sec; /* ordinal -> section number */
} v1_state;

static const char *type_name(uint32_t type)
{
    switch (type) {
    case LC_LCM_SEC_META: return "META";
    case LC_LCM_SEC_GRAPH: return "GRAPH";
    case LC_LCM_SEC_TENSOR: return "TENSOR";
    default: return "optional";
    }
}

static void where_sec(char *buf, size_t cap, const section *s, uint32_t i)
{
    if (s->type == LC_LCM_SEC_TENSOR) snprintf(buf, cap, "section %u (TENSOR %u)", i, s->index);
    else snprintf(buf, cap, "section %u (%s)", i, type_name(s->type));
}

void lcm_v1_clear(lcm_reader *r)
{
    v1_state *v = r->v1;
    if (!v) return;
    free(v->secs);
    free(v->tensor_sec);
    free(v);
    r->v1 = NULL;
}

lc_status lcm_v1_parse(lcm_reader *r)
{
    const uint8_t *b = r->buf;
    if (r->len < LC_LCM_HEADER_SIZE)
        return lcm_fail_at(r, "header", r->len, "file ends inside the %d-byte header (%zu bytes; truncated?)",
                           LC_LCM_HEADER_SIZE, r->len);
    uint32_t n = lc_get32(b + 12);
    uint64_t size = lc_get64(b + 16);
    if (size != r->len)
        return lcm_fail_at(r, "header", 16, "the header says %llu bytes but the file has %zu (truncated or extended?)",
                           (unsigned long long)size, r->len);
    if (n < 2 || n > LC_LCM_MAX_SECTIONS) return lcm_fail_at(r, "header", 12, "%u sections (2..%u)", n, LC_LCM_MAX_SECTIONS);
    uint64_t table_end = LC_LCM_HEADER_SIZE + (uint64_t)n * LC_LCM_ENTRY_SIZE;
    if (table_end > r->len) return lcm_fail_at(r, "header", 12, "a table of %u sections does not fit the file", n);
    if (lc_get32(b + 24)) return lcm_fail_at(r, "header", 24, "unknown flags 0x%x", lc_get32(b + 24));
    uLong crc = crc32(0L, b, 28);
    crc = crc32_z(crc, b + LC_LCM_HEADER_SIZE, (size_t)n * LC_LCM_ENTRY_SIZE);
    if ((uint32_t)crc != lc_get32(b + 28)) return lcm_fail_at(r, "header", 28, "header CRC mismatch (file corrupt)");
    v1_state *v = calloc(1, sizeof *v);
    if (!v || !(v->secs = calloc(n, sizeof *v->secs))) {
        free(v);
        return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    }
    r->v1 = v;
    v->n_secs = n;
    r->header_bytes = table_end;
    uint64_t expect = table_end;
    uint32_t n_tensors = 0;
    int meta = -1, graph = -1;
    char where[64];
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + LC_LCM_HEADER_SIZE + (size_t)i * LC_LCM_ENTRY_SIZE;
        uint64_t eoff = LC_LCM_HEADER_SIZE + (uint64_t)i * LC_LCM_ENTRY_SIZE;
        section *s = &v->secs[i];
        s->type = lc_get32(e);
        s->index = lc_get32(e + 4);
        s->off = lc_get64(e + 8);
        s->len = lc_get64(e + 16);
        if (s->type != LC_LCM_SEC_META && s->type != LC_LCM_SEC_GRAPH && s->type != LC_LCM_SEC_TENSOR &&
            s->type < LC_LCM_SEC_OPTIONAL)
            return lcm_fail_at(r, "header", eoff, "section %u has unknown type %u", i, s->type);
        if (lc_get32(e + 28)) return lcm_fail_at(r, "header", eoff + 28, "section %u: reserved field is not 0", i);
        if (s->off != expect)
            return lcm_fail_at(r, "header", eoff + 8, "section %u starts at %llu, expected %llu (sections tile the file)",
                               i, (unsigned long long)s->off, (unsigned long long)expect);
        if (s->len > r->len - s->off)
            return lcm_fail_at(r, "header", eoff + 16, "section %u (%llu bytes at %llu) runs past the end of the file", i,
                               (unsigned long long)s->len, (unsigned long long)s->off);
        expect = s->off + s->len;
        where_sec(where, sizeof where, s, i);
        if ((uint32_t)crc32_z(0L, b + s->off, (size_t)s->len) != lc_get32(e + 24))
            return lcm_fail_at(r, where, s->off, "CRC mismatch (file corrupt)");
        if (s->type == LC_LCM_SEC_TENSOR) {
            n_tensors++;
        } else if (s->index) {
            return lcm_fail_at(r, "header", eoff + 4, "section %u: index %u of a %s section is not 0", i, s->index,
                               type_name(s->type));
        }
        if (s->type == LC_LCM_SEC_META) {
            if (meta >= 0) return lcm_fail_at(r, "header", eoff, "two META sections (%d and %u)", meta, i);
            meta = (int)i;
        }
        if (s->type == LC_LCM_SEC_GRAPH) {
            if (graph >= 0) return lcm_fail_at(r, "header", eoff, "two GRAPH sections (%d and %u)", graph, i);
            graph = (int)i;
        }
        if (s->type >= LC_LCM_SEC_OPTIONAL) r->optional_bytes += s->len;
    }
    if (expect != r->len)
        return lcm_fail_at(r, "header", expect, "%llu bytes after the last section", (unsigned long long)(r->len - expect));
    if (graph < 0) return lcm_fail_at(r, "header", 12, "no GRAPH section");
    r->graph_off = v->secs[graph].off;
    r->graph_len = v->secs[graph].len;
    if (meta >= 0) {
        r->meta_off = v->secs[meta].off;
        r->meta_len = v->secs[meta].len;
    }
    r->n_tensors = n_tensors;
    v->tensor_sec = malloc((n_tensors ? n_tensors : 1) * sizeof *v->tensor_sec);
    if (!v->tensor_sec) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    for (uint32_t k = 0; k < n_tensors; k++) v->tensor_sec[k] = -1;
    for (uint32_t i = 0; i < n; i++) {
        const section *s = &v->secs[i];
        if (s->type != LC_LCM_SEC_TENSOR) continue;
        uint64_t eoff = LC_LCM_HEADER_SIZE + (uint64_t)i * LC_LCM_ENTRY_SIZE + 4;
        if (s->index >= n_tensors)
            return lcm_fail_at(r, "header", eoff, "section %u: tensor ordinal %u of %u", i, s->index, n_tensors);
        if (v->tensor_sec[s->index] >= 0)
            return lcm_fail_at(r, "header", eoff, "sections %d and %u both hold tensor %u", v->tensor_sec[s->index], i,
                               s->index);
        v->tensor_sec[s->index] = (int)i;
    }
    return LC_OK;
}

lc_status lcm_v1_tensor(const lcm_reader *r, uint32_t k, const lc_tensor *t, lcm_tdesc *d)
{
    const v1_state *v = r->v1;
    int sec = v->tensor_sec[k];
    const section *s = &v->secs[sec];
    const uint8_t *p = r->buf + s->off;
    uint64_t base = s->off, len = s->len;
    memset(d, 0, sizeof *d);
    where_sec(d->where, sizeof d->where, s, (uint32_t)sec);
    d->start = base;
    d->bytes = len;
    if (len < LC_LCM_TDESC_SIZE)
        return lcm_fail_at(r, d->where, base, "%llu bytes, less than a tensor descriptor", (unsigned long long)len);
    d->store = p[0];
    d->bits = p[1];
    d->sparsity = p[2];
    d->flags = p[3];
    int dtype = p[4];
    d->gap_bits = p[5];
    d->n_streams = p[6];
    d->axis = (int32_t)lc_get32(p + 8);
    d->n_codes = lc_get32(p + 12);
    d->numel = lc_get64(p + 16);
    d->kept = lc_get32(p + 24);
    uint64_t data_off = lc_get32(p + 28);
    if (dtype != t->dtype)
        return lcm_fail_at(r, d->where, base + 4, "dtype %d, but the graph declares tensor '%s' as %s", dtype, t->name,
                           lc_dtype_name(t->dtype));
    int64_t want = lc_shape_numel(t->ndim, t->dims, lc_dtype_size(t->dtype));
    if (want < 0 || (uint64_t)want != d->numel)
        return lcm_fail_at(r, d->where, base + 16, "%llu elements, but tensor '%s' has dims [%s]",
                           (unsigned long long)d->numel, t->name, lc_dims_str(t->ndim, t->dims));
    if (p[7]) return lcm_fail_at(r, d->where, base + 7, "reserved byte is not 0");
    if (d->n_streams != 1 + (d->sparsity != 0))
        return lcm_fail_at(r, d->where, base + 6, "%d streams with sparsity kind %d", d->n_streams, d->sparsity);
    /* the per-channel parameters' size is checked by the common part; here
     * only that the descriptors fit before the data offset */
    uint64_t ch = d->axis >= 0 && d->axis < t->ndim ? (uint64_t)t->dims[d->axis] : 1;
    uint64_t params = d->store == LC_LCM_UNIFORM    ? ch * 5
                      : d->store == LC_LCM_CODEBOOK ? ch * (uint64_t)d->n_codes * 4
                      : d->store == LC_LCM_BINARY   ? ch * 4
                                                    : 0;
    uint64_t head = LC_LCM_TDESC_SIZE + params + (uint64_t)d->n_streams * LC_LCM_SDESC_SIZE;
    if (d->n_codes > 256 || head > len || data_off < head || data_off > len)
        return lcm_fail_at(r, d->where, base + 28, "data offset %llu: descriptors need %llu of the section's %llu bytes",
                           (unsigned long long)data_off, (unsigned long long)head, (unsigned long long)len);
    d->params_off = base + LC_LCM_TDESC_SIZE;
    uint64_t at = data_off;
    for (int j = 0; j < d->n_streams; j++) {
        const uint8_t *q = p + LC_LCM_TDESC_SIZE + params + (size_t)j * LC_LCM_SDESC_SIZE;
        uint64_t qoff = base + LC_LCM_TDESC_SIZE + params + (uint64_t)j * LC_LCM_SDESC_SIZE;
        d->s[j] = (lcm_stream){q[0], q[1], lc_get64(q + 8), lc_get64(q + 16), base + at};
        for (int z = 2; z < 8; z++)
            if (q[z]) return lcm_fail_at(r, d->where, qoff + (uint64_t)z, "stream %d: reserved byte is not 0", j);
        if (d->s[j].bytes > len - at)
            return lcm_fail_at(r, d->where, qoff + 16, "stream %d: %llu bytes at section offset %llu run past the section's %llu",
                               j, (unsigned long long)d->s[j].bytes, (unsigned long long)at, (unsigned long long)len);
        at += d->s[j].bytes;
    }
    if (at != len) return lcm_fail_at(r, d->where, base + at, "%llu bytes after the last stream", (unsigned long long)(len - at));
    return LC_OK;
}
