/* Array files: .npy (v1-v3), IDX and raw float32, plain or gzip'ed.
 *
 * Every header is untrusted: counts and sizes are checked for overflow and,
 * for plain files, against the file size before anything is allocated. For
 * gzip streams the size is unknown up front, so the output grows with the
 * data that actually arrives instead of trusting the declared shape. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lc_array.h"
#include "lc_ir.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the readers assume a little-endian host");

/* Largest .npy header we accept (NumPy writes < 100 bytes for any shape). */
#define NPY_MAX_HEADER (1u << 20)
/* Bytes read from the file per conversion step. */
#define CHUNK_BYTES ((size_t)1 << 16)

/* ---------------------------------------------------------------- */
/* Element types                                                     */
/* ---------------------------------------------------------------- */

#define DEF_CONVERT(NAME, CTYPE)                                              \
    static void NAME##_to_f32(const uint8_t *src, size_t n, float *dst)      \
    {                                                                         \
        for (size_t i = 0; i < n; i++) {                                      \
            CTYPE v;                                                          \
            memcpy(&v, src + i * sizeof v, sizeof v);                         \
            dst[i] = (float)v;                                                \
        }                                                                     \
    }                                                                         \
    static size_t NAME##_to_i64(const uint8_t *src, size_t n, int64_t *dst)   \
    {                                                                         \
        for (size_t i = 0; i < n; i++) {                                      \
            CTYPE v;                                                          \
            memcpy(&v, src + i * sizeof v, sizeof v);                         \
            dst[i] = (int64_t)v;                                              \
        }                                                                     \
        return n;                                                             \
    }

DEF_CONVERT(i8, int8_t)
DEF_CONVERT(u8, uint8_t)
DEF_CONVERT(i16, int16_t)
DEF_CONVERT(u16, uint16_t)
DEF_CONVERT(i32, int32_t)
DEF_CONVERT(u32, uint32_t)
DEF_CONVERT(i64, int64_t)

static void u64_to_f32(const uint8_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, src + i * sizeof v, sizeof v);
        dst[i] = (float)v;
    }
}

static size_t u64_to_i64(const uint8_t *src, size_t n, int64_t *dst)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, src + i * sizeof v, sizeof v);
        if (v > (uint64_t)INT64_MAX) return i;
        dst[i] = (int64_t)v;
    }
    return n;
}

static void bool_to_f32(const uint8_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) dst[i] = src[i] ? 1.0f : 0.0f;
}

static size_t bool_to_i64(const uint8_t *src, size_t n, int64_t *dst)
{
    for (size_t i = 0; i < n; i++) dst[i] = src[i] ? 1 : 0;
    return n;
}

static void f32_to_f32(const uint8_t *src, size_t n, float *dst) { memcpy(dst, src, n * sizeof *dst); }

static void f64_to_f32(const uint8_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, src + i * sizeof v, sizeof v);
        /* out-of-range doubles become infinities, as in NumPy's astype */
        if (v > FLT_MAX) dst[i] = INFINITY;
        else if (v < -FLT_MAX) dst[i] = -INFINITY;
        else dst[i] = (float)v;
    }
}

/* Sorted by dtype. */
static const lc_elem_type elem_types[] = {
    {LC_DTYPE_FLOAT, "float32", 'f', 4, 0x0D, f32_to_f32, NULL},
    {LC_DTYPE_UINT8, "uint8", 'u', 1, 0x08, u8_to_f32, u8_to_i64},
    {LC_DTYPE_INT8, "int8", 'i', 1, 0x09, i8_to_f32, i8_to_i64},
    {LC_DTYPE_UINT16, "uint16", 'u', 2, 0, u16_to_f32, u16_to_i64},
    {LC_DTYPE_INT16, "int16", 'i', 2, 0x0B, i16_to_f32, i16_to_i64},
    {LC_DTYPE_INT32, "int32", 'i', 4, 0x0C, i32_to_f32, i32_to_i64},
    {LC_DTYPE_INT64, "int64", 'i', 8, 0, i64_to_f32, i64_to_i64},
    {LC_DTYPE_BOOL, "bool", 'b', 1, 0, bool_to_f32, bool_to_i64},
    {LC_DTYPE_DOUBLE, "float64", 'f', 8, 0x0E, f64_to_f32, NULL},
    {LC_DTYPE_UINT32, "uint32", 'u', 4, 0, u32_to_f32, u32_to_i64},
    {LC_DTYPE_UINT64, "uint64", 'u', 8, 0, u64_to_f32, u64_to_i64},
};
#define N_ELEM_TYPES (sizeof elem_types / sizeof elem_types[0])

const lc_elem_type *lc_elem_type_npy(char kind, unsigned size)
{
    for (size_t i = 0; i < N_ELEM_TYPES; i++)
        if (elem_types[i].npy_kind == kind && elem_types[i].size == size) return &elem_types[i];
    return NULL;
}

const lc_elem_type *lc_elem_type_idx(int code)
{
    for (size_t i = 0; i < N_ELEM_TYPES; i++)
        if (code && elem_types[i].idx_code == code) return &elem_types[i];
    return NULL;
}

/* ---------------------------------------------------------------- */
/* Byte sources                                                      */
/* ---------------------------------------------------------------- */

/* Reads up to n bytes; *got < n only at the end of the data. */
static lc_status src_read(lc_array_file *a, void *buf, size_t n, size_t *got)
{
    *got = 0;
    if (a->f) {
        size_t r = fread(buf, 1, n, a->f);
        if (r < n && ferror(a->f)) return lc_fail(LC_ERR_IO, "%s: read error: %s", a->path, strerror(errno));
        *got = r;
        return LC_OK;
    }
    uint8_t *p = buf;
    while (*got < n) {
        size_t want = n - *got;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(a->gz, p + *got, (unsigned)want);
        if (r < 0 || (r == 0 && *got < n)) {
            int err = Z_OK;
            const char *msg = gzerror(a->gz, &err);
            if (err == Z_ERRNO) return lc_fail(LC_ERR_IO, "%s: read error: %s", a->path, strerror(errno));
            if (err == Z_BUF_ERROR) return lc_fail(LC_ERR_FORMAT, "%s: the gzip stream is truncated", a->path);
            if (err != Z_OK && err != Z_STREAM_END) {
                /* zlib prefixes its message with the path */
                size_t pl = strlen(a->path);
                if (msg && !strncmp(msg, a->path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
                return lc_fail(LC_ERR_FORMAT, "%s: corrupt gzip data: %s", a->path, msg ? msg : "?");
            }
            if (r <= 0) break;
        }
        *got += (size_t)r;
    }
    return LC_OK;
}

/* Reads exactly n header bytes; running out is a format error naming `what`. */
static lc_status src_read_exact(lc_array_file *a, void *buf, size_t n, const char *what)
{
    size_t got;
    lc_status s = src_read(a, buf, n, &got);
    if (s) return s;
    if (got < n) return lc_fail(LC_ERR_FORMAT, "%s: the file ends inside the %s", a->path, what);
    return LC_OK;
}

static uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---------------------------------------------------------------- */
/* .npy header dict: a Python literal such as                          */
/* {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }         */
/* ---------------------------------------------------------------- */

typedef struct cursor {
    const char *p, *start, *end;
    const char *path;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static lc_status hdr_fail(cursor *c, const char *what)
{
    return lc_fail(LC_ERR_FORMAT, "%s: bad .npy header: %s at byte %td of the header dict", c->path, what,
                   c->p - c->start);
}

static lc_status parse_string(cursor *c, char *out, size_t cap)
{
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return hdr_fail(c, "expected a string");
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n') return hdr_fail(c, "unsupported character in a string");
        if (n + 1 >= cap) return hdr_fail(c, "string too long");
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return hdr_fail(c, "unterminated string");
    c->p++;
    out[n] = 0;
    return LC_OK;
}

static int match_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    const char *after = c->p + n;
    if (after < c->end && (isalnum((unsigned char)*after) || *after == '_')) return 0;
    c->p = after;
    return 1;
}

static lc_status parse_shape(cursor *c, int *ndim, int64_t *dims)
{
    if (c->p >= c->end || (*c->p != '(' && *c->p != '[')) return hdr_fail(c, "'shape' must be a tuple");
    char close = *c->p == '(' ? ')' : ']';
    c->p++;
    int n = 0;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == close) break;
        if (c->p >= c->end || !isdigit((unsigned char)*c->p))
            return hdr_fail(c, "'shape' must hold non-negative integers");
        int64_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            int d = *c->p++ - '0';
            if (v > (INT64_MAX - d) / 10) return hdr_fail(c, "a dimension overflows int64");
            v = v * 10 + d;
        }
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++; /* Python 2 longs: (10L, 784L) */
        if (n >= LC_MAX_DIMS)
            return lc_fail(LC_ERR_UNSUPPORTED, "%s: more than %d dimensions are not supported", c->path, LC_MAX_DIMS);
        dims[n++] = v;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) break;
        return hdr_fail(c, "expected ',' or the end of 'shape'");
    }
    c->p++;
    *ndim = n;
    return LC_OK;
}

/* Resolves a descr such as '<f4' to an element type, with a clear message
 * for what we refuse. */
static lc_status resolve_descr(const char *path, const char *descr, const lc_elem_type **type)
{
    const char *p = descr;
    char order = 0;
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=') order = *p++;
    char kind = *p;
    if (!kind) return lc_fail(LC_ERR_FORMAT, "%s: bad .npy header: empty dtype", path);
    p++;
    if (kind == 'O')
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: object arrays are not supported (save a numeric array)", path);
    unsigned size = 0;
    if (!isdigit((unsigned char)*p)) goto unsupported;
    while (isdigit((unsigned char)*p) && size < 1000) size = size * 10 + (unsigned)(*p++ - '0');
    if (*p) goto unsupported;
    const lc_elem_type *t = lc_elem_type_npy(kind, size);
    if (!t) goto unsupported;
    if (order == '>' && size > 1)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "%s: big-endian arrays ('%s') are not supported; convert with arr.astype('<%c%u')", path,
                       descr, kind, size);
    if (order == '|' && size > 1) return lc_fail(LC_ERR_FORMAT, "%s: dtype '%s' lacks a byte order", path, descr);
    *type = t;
    return LC_OK;
unsupported:
    return lc_fail(LC_ERR_UNSUPPORTED,
                   "%s: dtype '%s' is not supported (use float32, float64, uint8, int8, int16, uint16, int32, "
                   "uint32, int64, uint64 or bool)",
                   path, descr);
}

lc_status lc_npy_parse_header(const char *path, const char *text, size_t len, const lc_elem_type **type, int *ndim,
                              int64_t *dims)
{
    cursor c = {text, text, text + len, path};
    char key[32], descr[64] = "";
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0, nd = 0;
    int64_t shape[LC_MAX_DIMS];
    lc_status s;
    *type = NULL;
    *ndim = 0;
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{') return hdr_fail(&c, "expected '{'");
    c.p++;
    for (;;) {
        skip_ws(&c);
        if (c.p < c.end && *c.p == '}') break;
        if ((s = parse_string(&c, key, sizeof key))) return s;
        skip_ws(&c);
        if (c.p >= c.end || *c.p != ':') return hdr_fail(&c, "expected ':'");
        c.p++;
        skip_ws(&c);
        if (!strcmp(key, "descr")) {
            if (have_descr++) return hdr_fail(&c, "duplicate key 'descr'");
            if (c.p < c.end && (*c.p == '[' || *c.p == '{'))
                return lc_fail(LC_ERR_UNSUPPORTED, "%s: structured arrays are not supported", path);
            if ((s = parse_string(&c, descr, sizeof descr))) return s;
        } else if (!strcmp(key, "fortran_order")) {
            if (have_order++) return hdr_fail(&c, "duplicate key 'fortran_order'");
            if (match_word(&c, "True")) fortran = 1;
            else if (match_word(&c, "False")) fortran = 0;
            else return hdr_fail(&c, "'fortran_order' must be True or False");
        } else if (!strcmp(key, "shape")) {
            if (have_shape++) return hdr_fail(&c, "duplicate key 'shape'");
            if ((s = parse_shape(&c, &nd, shape))) return s;
        } else {
            return lc_fail(LC_ERR_FORMAT, "%s: bad .npy header: unexpected key '%s'", path, key);
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}') break;
        return hdr_fail(&c, "expected ',' or '}'");
    }
    c.p++;
    /* NumPy pads with spaces and ends with '\n'; older writers padded with NULs */
    while (c.p < c.end && (*c.p == ' ' || *c.p == '\n' || *c.p == '\r' || *c.p == '\t' || *c.p == 0)) c.p++;
    if (c.p != c.end) return hdr_fail(&c, "unexpected text after the dict");
    if (!have_descr || !have_order || !have_shape)
        return lc_fail(LC_ERR_FORMAT, "%s: bad .npy header: missing key '%s'", path,
                       !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    if ((s = resolve_descr(path, descr, type))) return s;
    if (fortran) {
        *type = NULL;
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "%s: Fortran-order arrays are not supported (save np.ascontiguousarray(arr))", path);
    }
    *ndim = nd;
    if (nd) memcpy(dims, shape, (size_t)nd * sizeof *dims);
    return LC_OK;
}

/* ---------------------------------------------------------------- */
/* Opening                                                           */
/* ---------------------------------------------------------------- */

static lc_status open_npy(lc_array_file *a, const uint8_t *magic)
{
    int major = magic[6];
    if (major < 1 || major > 3)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported (1.0-3.0 are)", a->path,
                       major, magic[7]);
    uint8_t lenb[4];
    size_t lsize = major == 1 ? 2 : 4;
    lc_status s = src_read_exact(a, lenb, lsize, "header length");
    if (s) return s;
    uint32_t hlen = major == 1 ? (uint32_t)lenb[0] | (uint32_t)lenb[1] << 8
                               : (uint32_t)lenb[0] | (uint32_t)lenb[1] << 8 | (uint32_t)lenb[2] << 16 |
                                     (uint32_t)lenb[3] << 24;
    a->header_bytes = 8 + (int64_t)lsize + hlen;
    if (hlen > NPY_MAX_HEADER)
        return lc_fail(LC_ERR_FORMAT, "%s: .npy header of %u bytes is implausibly large", a->path, hlen);
    if (a->file_size >= 0 && a->header_bytes > a->file_size)
        return lc_fail(LC_ERR_FORMAT, "%s: the .npy header claims %u bytes but the file holds %lld", a->path, hlen,
                       (long long)a->file_size);
    char *text = malloc(hlen + 1);
    if (!text) return lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", a->path);
    if (!(s = src_read_exact(a, text, hlen, ".npy header")))
        s = lc_npy_parse_header(a->path, text, hlen, &a->type, &a->ndim, a->dims);
    free(text);
    return s;
}

static lc_status open_idx(lc_array_file *a, const uint8_t *magic)
{
    a->type = lc_elem_type_idx(magic[2]);
    if (!a->type) {
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: IDX type code 0x%02X is not one of 08, 09, 0B, 0C, 0D, 0E", a->path,
                       magic[2]);
    }
    a->big_endian = 1;
    int nd = magic[3];
    if (nd < 1) return lc_fail(LC_ERR_FORMAT, "%s: IDX header declares 0 dimensions", a->path);
    if (nd > LC_MAX_DIMS)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: IDX header declares %d dimensions (at most %d are supported)",
                       a->path, nd, LC_MAX_DIMS);
    uint8_t buf[4 * LC_MAX_DIMS];
    lc_status s = src_read_exact(a, buf, 4 * (size_t)nd, "IDX dimensions");
    if (s) return s;
    a->ndim = nd;
    for (int i = 0; i < nd; i++) a->dims[i] = rd_be32(buf + 4 * i);
    a->header_bytes = 4 + 4 * (int64_t)nd;
    return LC_OK;
}

lc_status lc_array_open(const char *path, int raw_ndim, const int64_t *raw_dims, lc_array_file *a)
{
    memset(a, 0, sizeof *a);
    a->path = path;
    lc_status s = LC_OK;
    struct stat st;
    if (stat(path, &st) != 0) return lc_fail(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return lc_fail(LC_ERR_IO, "%s: is a folder, not a file", path);
    a->f = fopen(path, "rb");
    if (!a->f) return lc_fail(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    a->file_size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;

    if (raw_ndim > 0) {
        a->type = lc_elem_type_npy('f', 4);
        a->ndim = raw_ndim;
        memcpy(a->dims, raw_dims, (size_t)raw_ndim * sizeof *raw_dims);
    } else {
        uint8_t magic[8];
        size_t got;
        if ((s = src_read(a, magic, 2, &got))) goto fail;
        if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
            /* gzip: reopen through zlib, which checks the CRC at the end */
            fclose(a->f);
            a->f = NULL;
            a->file_size = -1;
            a->gz = gzopen(path, "rb");
            if (!a->gz) {
                s = lc_fail(LC_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
                goto fail;
            }
            gzbuffer(a->gz, 1 << 17);
            if ((s = src_read(a, magic, 2, &got))) goto fail;
        }
        if (got < 2) {
            s = lc_fail(LC_ERR_FORMAT, "%s: %zu bytes are too short for a .npy or IDX file", path, got);
            goto fail;
        }
        if (magic[0] == 0x93 && magic[1] == 'N') {
            if ((s = src_read_exact(a, magic + 2, 6, ".npy magic"))) goto fail;
            if (memcmp(magic + 1, "NUMPY", 5) != 0) {
                s = lc_fail(LC_ERR_FORMAT, "%s: bad .npy magic", path);
                goto fail;
            }
            if ((s = open_npy(a, magic))) goto fail;
        } else if (magic[0] == 0 && magic[1] == 0) {
            if ((s = src_read_exact(a, magic + 2, 2, "IDX magic"))) goto fail;
            if ((s = open_idx(a, magic))) goto fail;
        } else {
            s = lc_fail(LC_ERR_FORMAT,
                        "%s: not a .npy or IDX file (raw float32 data needs its shape: %s:d0xd1x...)", path, path);
            goto fail;
        }
    }
    a->numel = lc_shape_numel(a->ndim, a->dims, a->type->size);
    if (a->numel < 0) {
        s = lc_fail(LC_ERR_FORMAT, "%s: shape %s is too large", path, lc_dims_str(a->ndim, a->dims));
        goto fail;
    }
    if (a->file_size >= 0) {
        int64_t payload = a->numel * (int64_t)a->type->size;
        int64_t have = a->file_size - a->header_bytes;
        if (have != payload) {
            s = lc_fail(LC_ERR_FORMAT, "%s: %s %s data need %lld bytes after the header, the file has %s%lld", path,
                        lc_dims_str(a->ndim, a->dims), a->type->name, (long long)payload,
                        have < payload ? "only " : "", (long long)have);
            goto fail;
        }
    }
    return LC_OK;
fail:
    lc_array_close(a);
    return s;
}

void lc_array_close(lc_array_file *a)
{
    if (a->f) fclose(a->f);
    if (a->gz) gzclose(a->gz);
    a->f = NULL;
    a->gz = NULL;
}

static void swap_bytes(uint8_t *p, size_t n, unsigned size)
{
    for (size_t i = 0; i < n; i++, p += size)
        for (unsigned j = 0; j < size / 2; j++) {
            uint8_t t = p[j];
            p[j] = p[size - 1 - j];
            p[size - 1 - j] = t;
        }
}

lc_status lc_array_read(lc_array_file *a, int64_t n, int as_i64, void **out)
{
    *out = NULL;
    const lc_elem_type *t = a->type;
    size_t osize = as_i64 ? sizeof(int64_t) : sizeof(float);
    lc_status s = LC_OK;
    uint8_t *raw = NULL, *dst = NULL;
    if (n < 0 || n > a->numel || (uint64_t)n > SIZE_MAX / osize)
        return lc_fail(LC_ERR_INTERNAL, "%s: bad element count %lld", a->path, (long long)n);
    if (as_i64 && !t->to_i64) {
        return lc_fail(LC_ERR_DTYPE, "%s: labels must have an integer dtype, the file holds %s", a->path,
                       t->name);
    }
    /* plain files were size-checked; a gzip stream proves its size as it goes */
    size_t cap = (size_t)n;
    if (a->file_size < 0 && cap > (CHUNK_BYTES * 16) / osize) cap = (CHUNK_BYTES * 16) / osize;
    dst = malloc(cap ? cap * osize : 1);
    raw = malloc(CHUNK_BYTES);
    if (!dst || !raw) {
        s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", a->path);
        goto fail;
    }
    size_t per = CHUNK_BYTES / t->size, done = 0;
    while (done < (size_t)n) {
        size_t k = (size_t)n - done < per ? (size_t)n - done : per, got;
        if ((s = src_read(a, raw, k * t->size, &got))) goto fail;
        if (got < k * t->size) {
            int64_t have = a->header_bytes + (int64_t)(done * t->size + got);
            s = lc_fail(LC_ERR_FORMAT,
                        "%s: truncated: %s %s data need %lld bytes with the header, the data ends after %lld",
                        a->path, lc_dims_str(a->ndim, a->dims), t->name,
                        (long long)(a->header_bytes + a->numel * (int64_t)t->size), (long long)have);
            goto fail;
        }
        if (done + k > cap) {
            size_t ncap = cap * 2 > (size_t)n ? (size_t)n : cap * 2;
            if (ncap < done + k) ncap = done + k;
            uint8_t *p = realloc(dst, ncap * osize);
            if (!p) {
                s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", a->path);
                goto fail;
            }
            dst = p;
            cap = ncap;
        }
        if (a->big_endian && t->size > 1) swap_bytes(raw, k, t->size);
        if (!as_i64) {
            t->to_f32(raw, k, (float *)dst + done);
        } else {
            size_t ok = t->to_i64(raw, k, (int64_t *)dst + done);
            if (ok < k) {
                s = lc_fail(LC_ERR_FORMAT, "%s: value at index %zu does not fit int64", a->path, done + ok);
                goto fail;
            }
        }
        done += k;
    }
    if (a->gz && n == a->numel) {
        uint8_t extra;
        size_t got;
        if ((s = src_read(a, &extra, 1, &got))) goto fail;
        if (got) {
            s = lc_fail(LC_ERR_FORMAT, "%s: data continues after the %s %s values the header declares", a->path,
                        lc_dims_str(a->ndim, a->dims), t->name);
            goto fail;
        }
    }
    *out = dst;
    dst = NULL;
fail:
    free(raw);
    free(dst);
    return s;
}
