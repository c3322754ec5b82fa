/* .lcm reader (formats/LCM.md), the part common to both formats: the
 * container parsers (lcm_read_v1.c, lcm_read_v2.c) locate the sections and
 * give each stored tensor's descriptor; here the descriptors are checked,
 * the streams decoded and the model rebuilt. The file is untrusted: every
 * count, size and offset is checked before use, and errors name the
 * section or record and the byte offset in the file. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_encoding.h"
#include "lc_huffman.h"
#include "lc_lcm_read.h"
#include "onnx_internal.h"

/* The accounting reports the file's numbers through the public enums. */
static_assert((int)LC_LCM_STORE_RAW == LC_LCM_RAW && (int)LC_LCM_STORE_F32 == LC_LCM_F32 &&
                  (int)LC_LCM_STORE_F16 == LC_LCM_F16 && (int)LC_LCM_STORE_UNIFORM == LC_LCM_UNIFORM &&
                  (int)LC_LCM_STORE_CODEBOOK == LC_LCM_CODEBOOK && (int)LC_LCM_STORE_BINARY == LC_LCM_BINARY,
              "lc_lcm_store follows the file's store numbers");
static_assert((int)LC_LCM_SPARSITY_NONE == LC_LCM_SPARSE_NONE && (int)LC_LCM_SPARSITY_BITMAP == LC_LCM_SPARSE_BITMAP &&
                  (int)LC_LCM_SPARSITY_GAPS == LC_LCM_SPARSE_GAPS,
              "lc_lcm_sparsity follows the file's sparsity numbers");

lc_status lcm_fail_at(const lcm_reader *r, const char *where, uint64_t byte, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lc_fail(LC_ERR_FORMAT, "%s: %s at byte %llu: %s", r->label, where, (unsigned long long)byte, msg);
}

int lc_lcm_is(const void *buf, size_t len)
{
    return buf && len >= 8 && memcmp(buf, LC_LCM_MAGIC, 8) == 0;
}

size_t lcm_value_size(int store, int dtype)
{
    return store == LC_LCM_RAW ? lc_dtype_size(dtype) : store == LC_LCM_F32 ? 4 : store == LC_LCM_F16 ? 2 : 1;
}

int lcm_value_width(int store, int bits)
{
    return store == LC_LCM_UNIFORM || store == LC_LCM_CODEBOOK ? bits : store == LC_LCM_BINARY ? 1 : 8;
}

/* Header, sections and CRCs, by major version. */
static lc_status parse_container(lcm_reader *r)
{
    if (!lc_lcm_is(r->buf, r->len)) {
        if (r->len < 8 && r->len && memcmp(r->buf, LC_LCM_MAGIC, r->len) == 0)
            return lcm_fail_at(r, "header", r->len, "file ends inside the magic (truncated?)");
        return lcm_fail_at(r, "header", 0, "not an .lcm file (bad magic)");
    }
    if (r->len < 12) return lcm_fail_at(r, "header", r->len, "file ends inside the header (truncated?)");
    r->major = lc_get16(r->buf + 8);
    if (r->major == LC_LCM_MAJOR || r->major == LC_LCM_MAJOR_V2) return lcm_v2_parse(r); /* one container */
    if (r->major == LC_LCM_MAJOR_V1) return lcm_v1_parse(r);
    return lc_fail(LC_ERR_UNSUPPORTED, "%s: .lcm major version %d (this reader handles %d to %d)", r->label, r->major,
                   LC_LCM_MAJOR_V1, LC_LCM_MAJOR);
}

static void reader_clear(lcm_reader *r) { lcm_v1_clear(r); }

/* ---- tensors ---- */

/* The rules every descriptor follows, whatever the container. */
static lc_status check_desc(const lcm_reader *r, const lcm_tdesc *d, const lc_tensor *t)
{
    const char *w = d->where;
    uint64_t at = d->start;
    int store = d->store, bits = d->bits, sparsity = d->sparsity, flags = d->flags;
    if (store > LC_LCM_BINARY) return lcm_fail_at(r, w, at, "unknown store kind %d", store);
    if (flags & ~7) return lcm_fail_at(r, w, at, "unknown flags 0x%x", flags);
    bool has_enc = flags & LC_LCM_FLAG_ENCODING;
    if (!has_enc && (flags & (LC_LCM_FLAG_ENTROPY | LC_LCM_FLAG_MASK)))
        return lcm_fail_at(r, w, at, "flags 0x%x: ENTROPY/MASK without ENCODING", flags);
    if (store == LC_LCM_RAW) {
        if (flags || sparsity || bits || d->axis != -1 || d->n_codes)
            return lcm_fail_at(r, w, at, "a RAW tensor has flags, sparsity, bits, axis or codes");
        if (t->dtype == LC_DTYPE_STRING) return lcm_fail_at(r, w, at, "STRING tensors are not stored in sections");
    } else if (t->dtype != LC_DTYPE_FLOAT) {
        return lcm_fail_at(r, w, at, "store kind %d needs a float tensor, '%s' is %s", store, t->name,
                           lc_dtype_name(t->dtype));
    }
    if (d->half_params && store < LC_LCM_UNIFORM) return lcm_fail_at(r, w, at, "float16 parameters for store kind %d", store);
    if ((store == LC_LCM_UNIFORM || store == LC_LCM_CODEBOOK) && (bits < 1 || bits > 8))
        return lcm_fail_at(r, w, at, "%d bits (1..8)", bits);
    if (store == LC_LCM_BINARY && bits != 1) return lcm_fail_at(r, w, at, "binary codes with %d bits", bits);
    if ((store == LC_LCM_F32 || store == LC_LCM_F16) && bits > 32) return lcm_fail_at(r, w, at, "%d bits (0..32)", bits);
    /* 3.0: a plain float tensor on a grid, one scale, no sparsity stream */
    bool grid = store == LC_LCM_UNIFORM && !has_enc && r->major >= 3;
    if (grid && (sparsity || d->axis != -1))
        return lcm_fail_at(r, w, at, "a UNIFORM record without encoding has a sparsity stream or a channel axis");
    if (store >= LC_LCM_UNIFORM && !has_enc && !grid)
        return lcm_fail_at(r, w, at, "store kind %d without the ENCODING flag", store);
    if (store == LC_LCM_CODEBOOK ? (d->n_codes < 1 || d->n_codes > (1u << bits)) : d->n_codes != 0)
        return lcm_fail_at(r, w, at, "%u codes", d->n_codes);
    if (sparsity > LC_LCM_SPARSE_GAPS) return lcm_fail_at(r, w, at, "unknown sparsity kind %d", sparsity);
    if (sparsity == LC_LCM_SPARSE_GAPS ? (d->gap_bits < 1 || d->gap_bits > 8) : d->gap_bits != 0)
        return lcm_fail_at(r, w, at, "gap width %d with sparsity kind %d", d->gap_bits, sparsity);
    if (d->axis < -1 || d->axis >= t->ndim) return lcm_fail_at(r, w, at, "axis %d of a rank-%d tensor", d->axis, t->ndim);
    if (d->kept > d->numel || (!sparsity && d->kept != d->numel))
        return lcm_fail_at(r, w, at, "%llu kept of %llu elements", (unsigned long long)d->kept, (unsigned long long)d->numel);
    for (int k = 0; k < d->n_streams; k++) {
        const lcm_stream *s = &d->s[k];
        if (s->coding > LC_LCM_CODING_HUFFMAN) return lcm_fail_at(r, w, s->off, "stream %d: unknown coding %d", k, s->coding);
        int ww = k == 0 ? lcm_value_width(store, bits) : sparsity == LC_LCM_SPARSE_BITMAP ? 1 : d->gap_bits;
        if (s->w != ww) return lcm_fail_at(r, w, s->off, "stream %d: %d-bit symbols, expected %d", k, s->w, ww);
        /* every coding spends at least one bit per symbol */
        if (s->n / 8 > s->bytes)
            return lcm_fail_at(r, w, s->off, "stream %d: %llu symbols cannot fit %llu bytes", k, (unsigned long long)s->n,
                               (unsigned long long)s->bytes);
    }
    uint64_t n0 = (store == LC_LCM_RAW ? d->numel : d->kept) * lcm_value_size(store, t->dtype);
    if (d->s[0].n != n0)
        return lcm_fail_at(r, w, d->s[0].off, "values stream has %llu symbols, expected %llu", (unsigned long long)d->s[0].n,
                           (unsigned long long)n0);
    if (sparsity == LC_LCM_SPARSE_BITMAP && d->s[1].n != d->numel)
        return lcm_fail_at(r, w, d->s[1].off, "bitmap of %llu bits for %llu elements", (unsigned long long)d->s[1].n,
                           (unsigned long long)d->numel);
    if (sparsity == LC_LCM_SPARSE_GAPS && d->s[1].n < d->kept)
        return lcm_fail_at(r, w, d->s[1].off, "%llu gaps for %llu kept elements", (unsigned long long)d->s[1].n,
                           (unsigned long long)d->kept);
    return LC_OK;
}

/* Decodes one stream into sym (n bytes); fills the accounting entry. */
static lc_status read_stream(const lcm_reader *r, const lcm_tdesc *d, int k, uint8_t *sym, lc_lcm_stream_info *info)
{
    const lcm_stream *s = &d->s[k];
    const uint8_t *p = r->buf + s->off;
    lc_status st;
    if (s->coding == LC_LCM_CODING_HUFFMAN) st = lc_huff_stream_read(p, (size_t)s->bytes, s->w, sym, (size_t)s->n);
    else st = lc_bits_unpack(p, (size_t)s->bytes, s->w, sym, (size_t)s->n);
    if (st) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", lc_last_error());
        return lcm_fail_at(r, d->where, s->off, "stream of %llu %d-bit symbols: %s", (unsigned long long)s->n, s->w, msg);
    }
    if (r->on_stream) r->on_stream(r->user, p, s->bytes, s->coding, s->w, s->n);
    if (info) {
        uint64_t hist[256] = {0};
        lc_huff_histogram(sym, (size_t)s->n, hist);
        info->coding = s->coding;
        info->bits = s->w;
        info->symbols = (int64_t)s->n;
        info->bytes = (int64_t)s->bytes;
        info->entropy_bits = lc_huff_entropy_bits(hist, 1 << s->w);
        info->table_bytes = 0;
        if (s->coding == LC_LCM_CODING_HUFFMAN) {
            uint8_t len[256];
            size_t used = 0;
            if (lc_huff_table_read(p, (size_t)s->bytes, s->w, len, &used) == LC_OK) info->table_bytes = (int64_t)used;
        }
    }
    return LC_OK;
}

/* Per-channel float parameter k: f32, or float16 (format 3.0). */
static float param(const uint8_t *pp, uint64_t k, int half)
{
    return half ? lc_half_to_float(lc_get16(pp + 2 * k)) : lc_getf32(pp + 4 * k);
}

/* Fills placeholder t from its checked descriptor. */
static lc_status decode_tensor(const lcm_reader *r, const lcm_tdesc *d, lc_tensor *t, lc_lcm_tensor_info *info)
{
    uint8_t *sym0 = NULL, *sym1 = NULL, *kept = NULL;
    lc_encoding *enc = NULL;
    lc_status st = LC_OK;
    int store = d->store, bits = d->bits, sparsity = d->sparsity, flags = d->flags, gap_bits = d->gap_bits;
    int32_t axis = d->axis;
    uint32_t n_codes = d->n_codes;
    uint64_t numel = d->numel, n_kept = d->kept;
    bool has_enc = flags & LC_LCM_FLAG_ENCODING;
    uint64_t ch = axis < 0 ? 1 : (uint64_t)t->dims[axis];
    const uint8_t *pp = r->buf + d->params_off;
    const lcm_stream *sd = d->s;
    const char *where = d->where;
    if (info) {
        info->store = store;
        info->sparsity = sparsity;
        info->numel = (int64_t)numel;
        info->kept = (int64_t)n_kept;
        info->bytes = (int64_t)d->bytes;
        info->n_streams = d->n_streams;
        info->streams[0].role = LC_LCM_STREAM_VALUES;
        info->streams[1].role = LC_LCM_STREAM_SPARSITY;
    }
    /* decode the streams */
    sym0 = malloc(sd[0].n ? (size_t)sd[0].n : 1);
    if (!sym0) goto oom;
    if ((st = read_stream(r, d, 0, sym0, info ? &info->streams[0] : NULL))) goto done;
    kept = malloc(numel ? (size_t)numel : 1);
    if (!kept) goto oom;
    memset(kept, 1, (size_t)numel);
    if (sparsity) {
        sym1 = malloc(sd[1].n ? (size_t)sd[1].n : 1);
        if (!sym1) goto oom;
        if ((st = read_stream(r, d, 1, sym1, info ? &info->streams[1] : NULL))) goto done;
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
                    st = lcm_fail_at(r, where, sd[1].off, "gap %llu points past the last element", (unsigned long long)k);
                    goto done;
                }
                kept[pos++] = 1;
                count++;
            }
        }
        if (count != n_kept) {
            st = lcm_fail_at(r, where, sd[1].off, "sparsity stream keeps %llu elements, the descriptor says %llu",
                         (unsigned long long)count, (unsigned long long)n_kept);
            goto done;
        }
    }
    /* the float view (and encoding) */
    if ((st = lc_tensor_alloc_data(t))) goto done;
    if (store == LC_LCM_RAW) {
        memcpy(t->data, sym0, t->nbytes);
    } else {
        if (has_enc || store == LC_LCM_UNIFORM) { /* a grid's values need its scale: a temporary encoding */
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
                st = lcm_fail_at(r, where, d->start, "a coded tensor with a sparsity stream but no MASK flag");
                goto done;
            }
            uint64_t fs = d->half_params ? 2 : 4;
            if (kind == LC_ENC_UNIFORM) {
                for (uint64_t c = 0; c < ch; c++) {
                    enc->scale[c] = param(pp, c, d->half_params);
                    enc->zero_point[c] = pp[fs * ch + c];
                    if (enc->zero_point[c] >= (1 << bits)) {
                        st = lcm_fail_at(r, where, d->params_off + fs * ch + c, "zero point %d of channel %llu needs more than %d bits",
                                     enc->zero_point[c], (unsigned long long)c, bits);
                        goto done;
                    }
                }
            } else if (kind == LC_ENC_CODEBOOK) {
                for (uint64_t k = 0; k < ch * n_codes; k++) enc->codebook[k] = param(pp, k, d->half_params);
            } else if (kind == LC_ENC_BINARY) {
                for (uint64_t c = 0; c < ch; c++) enc->alpha[c] = param(pp, c, d->half_params);
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
                    st = lcm_fail_at(r, where, sd[0].off, "code %d of element %llu, but %u codes", code, (unsigned long long)i, n_codes);
                    goto done;
                }
                enc->codes[i] = (uint8_t)code; /* a grid's temporary encoding has codes too */
                v[i] = lc_encoding_value(enc, lc_encoding_channel(enc, t, (int64_t)i), code);
            }
            k++;
        }
        if (has_enc) {
            t->enc = enc;
            enc = NULL;
        }
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

/* The GRAPH section: the skeleton's length (format 1.0: u64, 2.0 and 3.0: varint),
 * then a zlib stream. */
static lc_status inflate_graph(const lcm_reader *r, uint8_t **out, size_t *out_len)
{
    const uint8_t *g = r->buf + r->graph_off;
    *out = NULL;
    uint64_t u = 0;
    size_t head = 8;
    if (r->major == LC_LCM_MAJOR_V1) {
        if (r->graph_len < 8)
            return lcm_fail_at(r, "GRAPH", r->graph_off, "%llu bytes, less than its 8-byte length",
                               (unsigned long long)r->graph_len);
        u = lc_get64(g);
    } else if (!(head = lc_get_varint(g, g + r->graph_len, &u))) {
        return lcm_fail_at(r, "GRAPH", r->graph_off, "bad or truncated skeleton length");
    }
    uint64_t c = r->graph_len - head;
    if (u == 0 || u > 1032 * c + 64)
        return lcm_fail_at(r, "GRAPH", r->graph_off, "skeleton of %llu bytes cannot come from %llu deflated bytes",
                           (unsigned long long)u, (unsigned long long)c);
    uint8_t *p = malloc((size_t)u);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r->label);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) {
        free(p);
        return lc_fail(LC_ERR_NO_MEMORY, "%s: zlib cannot start", r->label);
    }
    z.next_in = (Bytef *)(g + head);
    z.avail_in = (uInt)c;
    z.next_out = p;
    z.avail_out = (uInt)u;
    int zr = inflate(&z, Z_FINISH);
    /* 3.0: a stream deflated against the preset dictionary names it by its
     * Adler-32; any other dictionary is refused as a bad stream */
    if (zr == Z_NEED_DICT && r->major >= 3 && z.adler == adler32(1L, lc_lcm_graph_dict, lc_lcm_graph_dict_len) &&
        inflateSetDictionary(&z, lc_lcm_graph_dict, lc_lcm_graph_dict_len) == Z_OK)
        zr = inflate(&z, Z_FINISH);
    /* not total_in: zlib leaves the header out of it when it asks for the dictionary */
    size_t got = (size_t)z.total_out, used = (size_t)(c - z.avail_in);
    inflateEnd(&z);
    if (zr != Z_STREAM_END || got != u || used != c) {
        free(p);
        return lcm_fail_at(r, "GRAPH", r->graph_off + head + used,
                           "bad deflate stream (zlib %d; %zu of %llu bytes inflated, %zu of %llu read)", zr, got,
                           (unsigned long long)u, used, (unsigned long long)c);
    }
    *out = p;
    *out_len = (size_t)u;
    return LC_OK;
}

/* Fails on any tensor of the model left without data (a placeholder with
 * no TENSOR section). */
static lc_status check_filled_graph(const lcm_reader *r, const lc_graph *g);
static lc_status check_tensor(const lcm_reader *r, const lc_tensor *t)
{
    if (t && t->dtype != LC_DTYPE_STRING && !t->data && lc_shape_numel(t->ndim, t->dims, 1) != 0)
        return lcm_fail_at(r, "GRAPH", r->graph_off, "tensor '%s' has no data and no stored section or record", t->name);
    return LC_OK;
}
static lc_status check_filled_graph(const lcm_reader *r, const lc_graph *g)
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

/* Whether a stored tensor of the skeleton is a placeholder. */
static bool is_placeholder(const lc_tensor *t)
{
    return t->dtype != LC_DTYPE_STRING && lc_shape_numel(t->ndim, t->dims, 1) != 0;
}

/* Without `out` (accounting, stream walks) no model is kept: each decoded
 * tensor's payload is released at once and its data pointed here, so the
 * final check still sees it filled and only one tensor is held at a time. */
static uint8_t released_mark;

static lc_status load(const void *buf, size_t len, const char *label, lc_model **out, lc_lcm_accounting *acc,
                      lc_lcm_stream_fn on_stream, void *user)
{
    lcm_reader r = {0};
    r.on_stream = on_stream;
    r.user = user;
    r.label = label ? label : "<buffer>";
    r.buf = buf;
    r.len = len;
    lc_model *m = NULL;
    lc_stored *st = NULL;
    int n_st = 0;
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    lc_status s = parse_container(&r);
    if (s) goto done;
    if ((s = inflate_graph(&r, &skel, &skel_len))) goto done;
    char glabel[512];
    snprintf(glabel, sizeof glabel, "%s: GRAPH", r.label);
    if ((s = lc_onnx_load_skeleton(skel, skel_len, glabel, &m))) {
        if (s == LC_ERR_UNSUPPORTED || s == LC_ERR_VERIFY) s = LC_ERR_FORMAT;
        goto done;
    }
    if ((s = lc_model_stored_tensors(m, &st, &n_st))) goto done;
    uint32_t n_ph = 0;
    for (int i = 0; i < n_st; i++) {
        if (!is_placeholder(st[i].tensor)) continue;
        if (st[i].tensor->data) {
            s = lcm_fail_at(&r, "GRAPH", r.graph_off, "stored tensor '%s' keeps its data in the graph", st[i].tensor->name);
            goto done;
        }
        n_ph++;
    }
    if (r.major == LC_LCM_MAJOR_V1 && n_ph != r.n_tensors) {
        s = lcm_fail_at(&r, "GRAPH", r.graph_off, "the graph has %u placeholders but the file %u TENSOR sections", n_ph,
                        r.n_tensors);
        goto done;
    }
    if (acc) {
        acc->tensors = calloc(n_ph ? n_ph : 1, sizeof *acc->tensors);
        if (!acc->tensors) {
            s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r.label);
            goto done;
        }
        acc->n_tensors = (int)n_ph;
    }
    uint32_t k = 0;
    uint64_t total = 0;
    for (int i = 0; i < n_st; i++) {
        lc_tensor *t = st[i].tensor;
        if (!is_placeholder(t)) continue;
        /* Bounds what a hostile file makes us allocate by its size: no
         * stream codes a kept element in under 1/2040 byte (8-bit gaps,
         * Huffman-coded fillers); elements after the last kept one cost
         * nothing, hence the allowance for wholly pruned tensors. */
        total += (uint64_t)lc_shape_numel(t->ndim, t->dims, 1);
        if (total > 2048 * (uint64_t)len + ((uint64_t)1 << 24)) {
            s = lcm_fail_at(&r, "GRAPH", r.graph_off, "the tensors hold more elements (%llu) than a file of %zu bytes can code",
                            (unsigned long long)total, len);
            goto done;
        }
        lc_lcm_tensor_info *info = acc ? &acc->tensors[k] : NULL;
        if (info && !(info->name = lc_strdup(t->name))) {
            s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", r.label);
            goto done;
        }
        lcm_tdesc d;
        s = r.major == LC_LCM_MAJOR_V1 ? lcm_v1_tensor(&r, k, t, &d) : lcm_v2_tensor(&r, k, t, &d);
        if (!s) s = check_desc(&r, &d, t);
        if (!s) s = decode_tensor(&r, &d, t, info);
        if (s) goto done;
        if (!out && t->data) {
            free(t->data);
            t->data = &released_mark;
            lc_encoding_free(t->enc);
            t->enc = NULL;
        }
        k++;
    }
    if (r.major != LC_LCM_MAJOR_V1 && (s = lcm_v2_finish(&r))) goto done;
    if ((s = check_filled_graph(&r, m->graph))) goto done;
    if (acc) {
        acc->file_bytes = (int64_t)len;
        acc->header_bytes = (int64_t)r.header_bytes;
        acc->graph_bytes = (int64_t)r.graph_len;
        acc->meta_bytes = (int64_t)(r.meta_len + r.optional_bytes);
    }
done:
    for (int i = 0; i < n_st; i++)
        if (st[i].tensor->data == &released_mark) st[i].tensor->data = NULL;
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
    return load(buf, len, label, out, NULL, NULL, NULL);
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
    lc_status s = load(buf, len, "<lcm>", NULL, a, NULL, NULL);
    if (s) lc_lcm_accounting_clear(a);
    return s;
}

lc_status lc_lcm_meta_read(const void *buf, size_t len, char **json)
{
    if (!json) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_meta_read: NULL argument");
    *json = NULL;
    lcm_reader r = {0};
    r.label = "<lcm>";
    r.buf = buf;
    r.len = len;
    lc_status s = buf ? parse_container(&r) : lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_meta_read: buf is NULL");
    if (!s) {
        size_t n = r.meta_len ? (size_t)r.meta_len : 2;
        *json = malloc(n + 1);
        if (!*json) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        else if (r.meta_len) memcpy(*json, r.buf + r.meta_off, n);
        else memcpy(*json, "{}", 2);
        if (*json) (*json)[n] = 0;
    }
    reader_clear(&r);
    return s;
}

lc_status lc_lcm_walk_streams(const void *buf, size_t len, lc_lcm_stream_fn fn, void *user)
{
    if (!buf || !fn) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_lcm_walk_streams: NULL argument");
    return load(buf, len, "<lcm>", NULL, NULL, fn, user);
}
