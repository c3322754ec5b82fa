/* .lcm writer (formats/LCM.md, format 3.0): graph skeleton deflated once,
 * each stored tensor a compact record by its encoding, every stream raw or
 * Huffman coded, whichever is smaller. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_encoding.h"
#include "lc_huffman.h"
#include "lc_lcm.h"
#include "onnx_internal.h"

bool lc_half_from_float(float f, uint16_t *h)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint32_t sign = (bits >> 16) & 0x8000u, exp = (bits >> 23) & 255, mant = bits & 0x7fffffu;
    int e = (int)exp - 127;
    if (exp == 255) {
        if (mant & 0x1fff) return false;
        *h = (uint16_t)(sign | 0x7c00u | mant >> 13);
    } else if (exp == 0) {
        if (mant) return false;
        *h = (uint16_t)sign;
    } else if (e > 15 || e < -24) {
        return false;
    } else if (e >= -14) {
        if (mant & 0x1fff) return false;
        *h = (uint16_t)(sign | (uint32_t)(e + 15) << 10 | mant >> 13);
    } else {
        uint32_t full = 0x800000u | mant;
        int shift = -(e + 1); /* half subnormal m * 2^-24: m = full * 2^(e + 1) */
        if (full & ((1u << shift) - 1)) return false;
        *h = (uint16_t)(sign | full >> shift);
    }
    float back = lc_half_to_float(*h);
    return memcmp(&back, &f, 4) == 0;
}

bool lc_lcm_own_section(const lc_tensor *t)
{
    return t->dtype != LC_DTYPE_STRING && t->data && t->nbytes > 0;
}

/* ---- growable byte buffer ---- */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static lc_status grow(bytes *b, size_t extra)
{
    if (b->n + extra <= b->cap) return LC_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory (%zu bytes)", cap);
    b->p = p;
    b->cap = cap;
    return LC_OK;
}

/* Appends n zero bytes; returns a pointer to them (NULL on failure). */
static uint8_t *append(bytes *b, size_t n)
{
    if (grow(b, n)) return NULL;
    uint8_t *p = b->p + b->n;
    memset(p, 0, n);
    b->n += n;
    return p;
}

/* ---- streams ---- */

/* A symbol stream and how it will be coded. */
typedef struct stream {
    uint8_t *sym;     /* owned */
    size_t n;
    int w;
    int coding;
    uint8_t len[LC_HUFF_MAX_SYMBOLS]; /* Huffman lengths */
    size_t bytes;     /* coded size */
} stream;

/* Chooses raw or (when allowed and smaller) Huffman for a stream whose
 * histogram is hist; returns the coded size and fills len. */
static size_t choose_coding(const uint64_t *hist, size_t n, int w, bool allow_huff, int *coding, uint8_t *len)
{
    size_t raw = (n * (size_t)w + 7) / 8;
    *coding = LC_LCM_CODING_RAW;
    if (!allow_huff || n == 0 || w < 2) return raw;
    if (lc_huff_lengths(hist, 1 << w, LC_HUFF_MAX_LEN, len) != LC_OK) return raw;
    size_t huff = lc_huff_stream_size(hist, len, w);
    if (huff >= raw) return raw;
    *coding = LC_LCM_CODING_HUFFMAN;
    return huff;
}

static void stream_plan(stream *s, bool allow_huff)
{
    uint64_t hist[256] = {0};
    lc_huff_histogram(s->sym, s->n, hist);
    s->bytes = choose_coding(hist, s->n, s->w, allow_huff, &s->coding, s->len);
}

static void stream_write(const stream *s, uint8_t *out)
{
    if (s->coding == LC_LCM_CODING_HUFFMAN) lc_huff_stream_write(s->sym, s->n, s->len, s->w, out);
    else lc_bits_pack(s->sym, s->n, s->w, out);
}

/* ---- one tensor ---- */

typedef struct tensor_plan {
    int store, bits, sparsity, flags, gap_bits, axis, n_codes;
    int64_t numel, kept, channels;
    float grid_scale; /* UNIFORM without encoding: the 8-bit grid's scale */
    stream values, sparse;
} tensor_plan;

static void plan_clear(tensor_plan *p)
{
    free(p->values.sym);
    free(p->sparse.sym);
}

/* Sparsity stream options for the kept flags: bitmap, or gaps with the best
 * width; fills s (symbols materialized) and returns its size. */
static lc_status plan_sparsity(const uint8_t *kept, int64_t numel, int64_t n_kept, bool allow_huff, stream *s,
                               int *kind, int *gap_bits)
{
    uint64_t hist[9][256];
    size_t count[9] = {0};
    memset(hist, 0, sizeof hist);
    int64_t last = -1;
    for (int64_t i = 0; i < numel; i++) {
        if (!kept[i]) continue;
        uint64_t g = (uint64_t)(i - last - 1);
        last = i;
        for (int b = 1; b <= 8; b++) {
            uint64_t m = (1u << b) - 1, fill = g / m;
            hist[b][m] += fill;
            hist[b][g % m]++;
            count[b] += (size_t)fill + 1;
        }
    }
    size_t best = ((size_t)numel + 7) / 8;
    *kind = LC_LCM_SPARSE_BITMAP;
    *gap_bits = 0;
    int coding = LC_LCM_CODING_RAW;
    uint8_t len[LC_HUFF_MAX_SYMBOLS];
    for (int b = 1; b <= 8; b++) {
        int c;
        size_t size = choose_coding(hist[b], count[b], b, allow_huff, &c, len);
        if (size < best) {
            best = size;
            *kind = LC_LCM_SPARSE_GAPS;
            *gap_bits = b;
            coding = c;
            memcpy(s->len, len, sizeof len);
        }
    }
    (void)n_kept;
    if (*kind == LC_LCM_SPARSE_BITMAP) {
        s->n = (size_t)numel;
        s->w = 1;
        s->sym = malloc(s->n ? s->n : 1);
        if (!s->sym) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
        for (int64_t i = 0; i < numel; i++) s->sym[i] = kept[i] != 0;
        s->coding = LC_LCM_CODING_RAW;
        s->bytes = best;
        return LC_OK;
    }
    int b = *gap_bits;
    uint32_t m = (1u << b) - 1;
    s->n = count[b];
    s->w = b;
    s->coding = coding;
    s->bytes = best;
    s->sym = malloc(s->n ? s->n : 1);
    if (!s->sym) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
    size_t k = 0;
    last = -1;
    for (int64_t i = 0; i < numel; i++) {
        if (!kept[i]) continue;
        uint64_t g = (uint64_t)(i - last - 1);
        last = i;
        for (; g >= m; g -= m) s->sym[k++] = (uint8_t)m;
        s->sym[k++] = (uint8_t)g;
    }
    return LC_OK;
}

/* Values stream for the kept elements (all when kept is NULL). */
static lc_status plan_values(const lc_tensor *t, const lc_encoding *e, int store, const uint8_t *kept, int64_t n_kept,
                             bool allow_huff, stream *s)
{
    int64_t numel = lc_tensor_numel(t);
    size_t es = store == LC_LCM_RAW ? lc_dtype_size(t->dtype) : store == LC_LCM_F32 ? 4 : store == LC_LCM_F16 ? 2 : 1;
    s->w = store == LC_LCM_UNIFORM || store == LC_LCM_CODEBOOK ? e->bits : store == LC_LCM_BINARY ? 1 : 8;
    s->n = store == LC_LCM_RAW ? t->nbytes : (size_t)n_kept * es;
    s->sym = malloc(s->n ? s->n : 1);
    if (!s->sym) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
    if (store == LC_LCM_RAW) {
        memcpy(s->sym, t->data, t->nbytes);
    } else {
        const float *v = t->data;
        size_t k = 0;
        for (int64_t i = 0; i < numel; i++) {
            if (kept && !kept[i]) continue;
            if (store == LC_LCM_F32) {
                lc_putf32(s->sym + k, v[i]);
            } else if (store == LC_LCM_F16) {
                uint16_t h = 0;
                lc_half_from_float(v[i], &h);
                lc_put16(s->sym + k, h);
            } else {
                s->sym[k] = e->codes[i];
            }
            k += es;
        }
    }
    stream_plan(s, allow_huff);
    return LC_OK;
}

/* Bytes of a stream in a record: coding byte, (gap count,) length, data. */
static size_t stream_cost(const stream *s, bool gaps)
{
    return s->sym ? 1 + (gaps ? lc_put_varint(NULL, s->n) : 0) + lc_put_varint(NULL, s->bytes) + s->bytes : 0;
}

/* A plain float tensor on the 8-bit grid (lc_grid8_find) as a UNIFORM
 * record without encoding (format 3.0), when that is smaller than plan p. */
static lc_status plan_grid(const lc_tensor *t, bool allow_huff, tensor_plan *p)
{
    float scale;
    int64_t numel = lc_tensor_numel(t);
    if (!lc_grid8_find(t->data, numel, &scale)) return LC_OK;
    stream g = {.n = (size_t)numel, .w = 8};
    if (!(g.sym = malloc(g.n))) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
    const float *v = t->data;
    for (int64_t i = 0; i < numel; i++) g.sym[i] = (uint8_t)((int)rintf(v[i] / scale) + LC_GRID8_LEVELS + 1);
    stream_plan(&g, allow_huff);
    size_t now = stream_cost(&p->values, false) + stream_cost(&p->sparse, p->sparsity == LC_LCM_SPARSE_GAPS) +
                 (p->sparsity ? lc_put_varint(NULL, (uint64_t)p->kept) : 0) + (p->sparsity == LC_LCM_SPARSE_GAPS);
    if (5 + stream_cost(&g, false) >= now) {
        free(g.sym);
        return LC_OK;
    }
    plan_clear(p);
    memset(&p->sparse, 0, sizeof p->sparse);
    p->values = g;
    p->store = LC_LCM_UNIFORM;
    p->bits = 8;
    p->sparsity = LC_LCM_SPARSE_NONE;
    p->gap_bits = 0;
    p->kept = numel;
    p->grid_scale = scale;
    return LC_OK;
}

static lc_status plan_tensor(const lc_tensor *t, bool any_entropy, tensor_plan *p)
{
    memset(p, 0, sizeof *p);
    const lc_encoding *e = t->enc;
    int64_t numel = lc_tensor_numel(t);
    p->numel = numel;
    p->axis = -1;
    p->channels = 1;
    uint8_t *kept = NULL;
    lc_status s = LC_OK;
    if (numel > (int64_t)UINT32_MAX) return lc_fail(LC_ERR_UNSUPPORTED, "tensor '%s': %lld elements (.lcm holds < 2^32)", t->name, (long long)numel);
    if (t->dtype != LC_DTYPE_FLOAT) {
        if (e) return lc_fail(LC_ERR_VERIFY, "tensor '%s': encoded but not float32", t->name);
        p->store = LC_LCM_RAW;
        p->kept = numel;
        return plan_values(t, NULL, LC_LCM_RAW, NULL, numel, any_entropy, &p->values);
    }
    bool huff = e ? e->entropy_coded : any_entropy;
    int kind = e ? e->kind : LC_ENC_DENSE;
    if (e) {
        p->flags = LC_LCM_FLAG_ENCODING | (e->entropy_coded ? LC_LCM_FLAG_ENTROPY : 0) | (e->mask ? LC_LCM_FLAG_MASK : 0);
        p->axis = e->axis;
        p->channels = e->channels;
        p->bits = e->bits;
        if (kind == LC_ENC_CODEBOOK) p->n_codes = e->n_codes;
        if (kind == LC_ENC_BINARY && e->bits != 1) return lc_fail(LC_ERR_VERIFY, "tensor '%s': binary encoding with %d bits", t->name, e->bits);
        if (kind == LC_ENC_DENSE && (e->bits < 0 || e->bits > 32)) return lc_fail(LC_ERR_VERIFY, "tensor '%s': dense encoding with %d bits", t->name, e->bits);
        if (p->axis < -1 || p->axis >= t->ndim || p->channels != (p->axis < 0 ? 1 : t->dims[p->axis]))
            return lc_fail(LC_ERR_VERIFY, "tensor '%s': encoding axis %d / %lld channels do not fit its shape", t->name, p->axis, (long long)p->channels);
        if (kind == LC_ENC_UNIFORM)
            for (int64_t c = 0; c < p->channels; c++)
                if (e->zero_point[c] < 0 || e->zero_point[c] >= (1 << e->bits))
                    return lc_fail(LC_ERR_VERIFY, "tensor '%s': zero point %d of channel %lld outside [0, 2^%d)", t->name, e->zero_point[c], (long long)c, e->bits);
    }
    /* which elements the sparsity stream would keep */
    bool mask_given = e && e->mask, optional = !mask_given && kind == LC_ENC_DENSE;
    int64_t n_kept = numel;
    if (mask_given || optional) {
        kept = malloc(numel ? (size_t)numel : 1);
        if (!kept) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
        const uint32_t *bits = t->data;
        n_kept = 0;
        for (int64_t i = 0; i < numel; i++) {
            kept[i] = mask_given ? e->mask[i] != 0 : bits[i] != 0;
            n_kept += kept[i];
        }
    }
    if (kind == LC_ENC_DENSE) {
        /* float16 when every value (kept or not: zeros convert) is exact */
        const float *v = t->data;
        p->store = LC_LCM_F16;
        uint16_t h;
        for (int64_t i = 0; i < numel && p->store == LC_LCM_F16; i++)
            if (!lc_half_from_float(v[i], &h)) p->store = LC_LCM_F32;
    } else {
        p->store = kind == LC_ENC_UNIFORM ? LC_LCM_UNIFORM : kind == LC_ENC_CODEBOOK ? LC_LCM_CODEBOOK : LC_LCM_BINARY;
    }
    if (n_kept == numel && !mask_given) {
        free(kept);
        kept = NULL;
    }
    if (kept && n_kept < numel) {
        if ((s = plan_values(t, e, p->store, kept, n_kept, huff, &p->values))) goto done;
        if ((s = plan_sparsity(kept, numel, n_kept, huff, &p->sparse, &p->sparsity, &p->gap_bits))) goto done;
        p->kept = n_kept;
        if (optional) {
            /* plain zeros: worth a sparsity stream only when it saves bytes */
            stream all = {0};
            if ((s = plan_values(t, e, p->store, NULL, numel, huff, &all))) goto done;
            if (all.bytes <= p->values.bytes + p->sparse.bytes) {
                plan_clear(p);
                p->values = all;
                memset(&p->sparse, 0, sizeof p->sparse);
                p->sparsity = LC_LCM_SPARSE_NONE;
                p->gap_bits = 0;
                p->kept = numel;
            } else {
                free(all.sym);
            }
        }
    } else {
        p->kept = numel;
        s = plan_values(t, e, p->store, NULL, numel, huff, &p->values);
    }
    if (!s && !e) s = plan_grid(t, huff, p);
done:
    free(kept);
    return s;
}

/* Appends the record of t (formats/LCM.md, "TENSORS section")
 * to out: what the graph's placeholder does not already say. */
static lc_status write_record(const lc_tensor *t, bool any_entropy, bytes *out)
{
    tensor_plan p;
    lc_status s = plan_tensor(t, any_entropy, &p);
    if (s) {
        plan_clear(&p);
        return s;
    }
    const lc_encoding *e = t->enc;
    int n_streams = p.sparsity ? 2 : 1;
    size_t ch = (size_t)p.channels;
    /* the float parameters as float16 when each one converts exactly */
    const float *fp = p.store == LC_LCM_UNIFORM ? (e ? e->scale : &p.grid_scale) : p.store == LC_LCM_CODEBOOK ? e->codebook
                    : p.store == LC_LCM_BINARY ? e->alpha : NULL;
    size_t n_fp = p.store == LC_LCM_CODEBOOK ? ch * (size_t)p.n_codes : fp ? ch : 0;
    bool half = fp != NULL;
    uint16_t hv;
    for (size_t k = 0; k < n_fp && half; k++) half = lc_half_from_float(fp[k], &hv);
    uint8_t head[64];
    size_t h = 0;
    head[h++] = (uint8_t)(p.store | p.sparsity << 3 | p.flags << 5);
    if (p.store != LC_LCM_RAW) {
        h += lc_put_varint(head + h, (uint64_t)p.bits + (half ? LC_LCM_BITS_HALF_PARAMS : 0));
        h += lc_put_varint(head + h, (uint64_t)(p.axis + 1));
    }
    if (p.store == LC_LCM_CODEBOOK) h += lc_put_varint(head + h, (uint64_t)p.n_codes);
    if (p.sparsity) h += lc_put_varint(head + h, (uint64_t)p.kept);
    if (p.sparsity == LC_LCM_SPARSE_GAPS) head[h++] = (uint8_t)p.gap_bits;
    size_t fsize = half ? 2 : 4, params = n_fp * fsize + (p.store == LC_LCM_UNIFORM ? ch : 0);
    const stream *st[2] = {&p.values, &p.sparse};
    size_t total = h + params;
    for (int k = 0; k < n_streams; k++)
        total += 1 + (k && p.sparsity == LC_LCM_SPARSE_GAPS ? lc_put_varint(NULL, st[k]->n) : 0) +
                 lc_put_varint(NULL, st[k]->bytes) + st[k]->bytes;
    uint8_t *d = append(out, total);
    if (!d) {
        plan_clear(&p);
        return LC_ERR_NO_MEMORY;
    }
    memcpy(d, head, h);
    uint8_t *q = d + h;
    for (size_t k = 0; k < n_fp; k++) {
        if (!half) lc_putf32(q + 4 * k, fp[k]);
        else if (lc_half_from_float(fp[k], &hv)) lc_put16(q + 2 * k, hv);
    }
    if (p.store == LC_LCM_UNIFORM)
        for (size_t c = 0; c < ch; c++) q[n_fp * fsize + c] = (uint8_t)(e ? e->zero_point[c] : LC_GRID8_LEVELS + 1);
    q += params;
    for (int k = 0; k < n_streams; k++) {
        *q++ = (uint8_t)st[k]->coding;
        if (k && p.sparsity == LC_LCM_SPARSE_GAPS) q += lc_put_varint(q, st[k]->n);
        q += lc_put_varint(q, st[k]->bytes);
        stream_write(st[k], q);
        q += st[k]->bytes;
    }
    plan_clear(&p);
    return LC_OK;
}

/* ---- the file ---- */

typedef struct skip_set {
    const lc_tensor **t;
    int n;
} skip_set;

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const lc_tensor *const *)a, y = (uintptr_t) * (const lc_tensor *const *)b;
    return x < y ? -1 : x > y;
}

static bool skip_tensor(void *user, const lc_tensor *t)
{
    const skip_set *s = user;
    return bsearch(&t, s->t, (size_t)s->n, sizeof *s->t, cmp_ptr) != NULL;
}

static lc_status meta_json(const lc_lcm_meta *meta, char **out)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    char producer[64];
    snprintf(producer, sizeof producer, "libcompress %s", lc_version());
    lc_status s = LC_OK;
    if (!root) return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
    cJSON_AddStringToObject(root, "producer", meta && meta->producer ? meta->producer : producer);
    const char *names[2] = {"recipe", "figures"};
    const char *texts[2] = {meta ? meta->recipe_json : NULL, meta ? meta->figures_json : NULL};
    for (int i = 0; i < 2; i++) {
        if (!texts[i]) continue;
        cJSON *v = cJSON_Parse(texts[i]);
        if (!v) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT, "lcm meta: %s is not valid JSON", names[i]);
            goto done;
        }
        cJSON_AddItemToObject(root, names[i], v);
    }
    *out = cJSON_PrintUnformatted(root);
    if (!*out) s = lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
done:
    cJSON_Delete(root);
    return s;
}

/* One zlib stream of the skeleton at level 9, with the preset dictionary
 * or without; out has room for compressBound(n). */
static bool deflate_with(const void *skel, size_t n, bool dict, uint8_t *out, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15, 9, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    bool ok = !dict || deflateSetDictionary(&z, lc_lcm_graph_dict, lc_lcm_graph_dict_len) == Z_OK;
    z.next_in = (Bytef *)skel;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)compressBound((uLong)n);
    ok = ok && deflate(&z, Z_FINISH) == Z_STREAM_END;
    *len = z.total_out;
    deflateEnd(&z);
    return ok;
}

/* The GRAPH's zlib stream: against the preset dictionary (format 3.0) when
 * that is shorter, as on torch-exported graphs; plain otherwise. */
static lc_status deflate_graph(const void *skel, size_t n, uint8_t **out, size_t *len)
{
    size_t cap = compressBound((uLong)n), l1 = 0, l2 = 0;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    if (!a || !b) {
        free(a);
        free(b);
        return lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
    }
    if (!deflate_with(skel, n, false, a, &l1) || !deflate_with(skel, n, true, b, &l2)) {
        free(a);
        free(b);
        return lc_fail(LC_ERR_INTERNAL, "lcm: zlib failed to deflate the graph");
    }
    bool dict = l2 < l1;
    free(dict ? a : b);
    *out = dict ? b : a;
    *len = dict ? l2 : l1;
    return LC_OK;
}

/* The file (buf != NULL), or with buf NULL only its length: then each
 * tensor record is built in turn and dropped once counted, so sizing a
 * model never holds an encoded copy of it. */
static lc_status build_lcm(const lc_model *m, const lc_lcm_meta *meta, void **buf, size_t *len)
{
    if (buf) *buf = NULL;
    *len = 0;
    lc_stored *st = NULL;
    int n_st = 0, n_own = 0;
    skip_set set = {0};
    void *skel = NULL;
    size_t skel_len = 0;
    char *json = NULL;
    bytes out = {0};
    uint8_t *z = NULL;
    lc_status s = lc_model_verify_encodings(m);
    if (s) return lc_fail_prefix(s, "cannot write .lcm");
    if ((s = lc_model_stored_tensors(m, &st, &n_st))) goto done;
    set.t = malloc((size_t)(n_st ? n_st : 1) * sizeof *set.t);
    if (!set.t) {
        s = lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
        goto done;
    }
    bool any_entropy = false;
    for (int i = 0; i < n_st; i++) {
        if (lc_lcm_own_section(st[i].tensor)) set.t[set.n++] = st[i].tensor;
        if (st[i].tensor->enc && st[i].tensor->enc->entropy_coded) any_entropy = true;
    }
    n_own = set.n;
    qsort(set.t, (size_t)set.n, sizeof *set.t, cmp_ptr);
    if ((s = lc_onnx_save_skeleton(m, skip_tensor, &set, &skel, &skel_len))) goto done;
    if ((s = meta_json(meta, &json))) goto done;

    if (!append(&out, LC_LCM_HEADER2_SIZE)) goto oom;
    /* META */
    size_t jl = strlen(json);
    uint8_t *p = append(&out, 20 + jl);
    if (!p) goto oom;
    out.n -= 20 + jl;
    out.n += lc_put_varint(p, LC_LCM_SEC_META);
    out.n += lc_put_varint(out.p + out.n, jl);
    memcpy(out.p + out.n, json, jl);
    out.n += jl;
    /* GRAPH: the skeleton's length, then its zlib stream */
    size_t zl = 0;
    if ((s = deflate_graph(skel, skel_len, &z, &zl))) goto done;
    size_t glen = lc_put_varint(NULL, skel_len) + (size_t)zl;
    if (!(p = append(&out, 20 + glen))) goto oom;
    out.n -= 20 + glen;
    out.n += lc_put_varint(out.p + out.n, LC_LCM_SEC_GRAPH);
    out.n += lc_put_varint(out.p + out.n, glen);
    out.n += lc_put_varint(out.p + out.n, skel_len);
    memcpy(out.p + out.n, z, zl);
    out.n += zl;
    /* TENSORS: the records in placeholder order (the skeleton's stored-tensor
     * order), built apart, then headed by its length */
    bytes recs = {0};
    size_t recs_len = 0;
    for (int i = 0; i < n_st && !s; i++) {
        const lc_tensor *t = st[i].tensor;
        if (!lc_lcm_own_section(t)) continue;
        size_t before = recs.n;
        s = write_record(t, any_entropy, &recs);
        if (s) s = lc_fail_prefix(s, "tensor '%s'", t->name);
        recs_len += recs.n - before;
        if (!buf) recs.n = 0; /* sizing: the buffer is reused for the next record */
    }
    if (!s && !buf) {
        free(recs.p);
        *len = out.n + (n_own ? lc_put_varint(NULL, LC_LCM_SEC_TENSORS) + lc_put_varint(NULL, recs_len) + recs_len : 0);
        goto done;
    }
    if (!s && n_own) {
        if (!(p = append(&out, 20 + recs.n))) {
            free(recs.p);
            goto oom;
        }
        out.n -= 20 + recs.n;
        out.n += lc_put_varint(out.p + out.n, LC_LCM_SEC_TENSORS);
        out.n += lc_put_varint(out.p + out.n, recs.n);
        memcpy(out.p + out.n, recs.p, recs.n);
        out.n += recs.n;
    }
    free(recs.p);
    if (s) goto done;
    /* header */
    memcpy(out.p, LC_LCM_MAGIC, 8);
    lc_put16(out.p + 8, LC_LCM_MAJOR);
    lc_put16(out.p + 10, LC_LCM_MINOR);
    uLong crc = crc32(0L, out.p, 12);
    lc_put32(out.p + 12, (uint32_t)crc32_z(crc, out.p + LC_LCM_HEADER2_SIZE, out.n - LC_LCM_HEADER2_SIZE));
    *buf = out.p;
    *len = out.n;
    out.p = NULL;
    goto done;
oom:
    s = lc_fail(LC_ERR_NO_MEMORY, "lcm: out of memory");
done:
    free(out.p);
    free(z);
    free(json);
    free(skel);
    free(set.t);
    free(st);
    return s;
}

lc_status lc_model_save_lcm_buffer(const lc_model *m, const lc_lcm_meta *meta, void **buf, size_t *len)
{
    if (!m || !buf || !len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_lcm_buffer: NULL argument");
    return build_lcm(m, meta, buf, len);
}

lc_status lc_model_lcm_size(const lc_model *m, const lc_lcm_meta *meta, size_t *len)
{
    if (!m || !len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_lcm_size: NULL argument");
    return build_lcm(m, meta, NULL, len);
}

lc_status lc_model_save_lcm(const lc_model *m, const char *path, const lc_lcm_meta *meta)
{
    if (!m || !path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_lcm: NULL argument");
    void *buf;
    size_t len;
    lc_status s = lc_model_save_lcm_buffer(m, meta, &buf, &len);
    if (s) return s;
    s = lc_write_file_atomic(path, buf, len);
    free(buf);
    return s;
}
