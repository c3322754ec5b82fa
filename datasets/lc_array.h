/*
 * lc_array.h - the array reader shared by the .npy, IDX and raw readers
 * (datasets/array.c), internal.
 */
#ifndef LC_ARRAY_H
#define LC_ARRAY_H

#include <stdint.h>
#include <stdio.h>

#include <zlib.h>

#include "lc_dataset.h"

/* ---- the array reader (datasets/array.c) ---- */

/* An element type a file may hold: its lc_dtype, NumPy kind/size, IDX type
 * code and converters from little-endian bytes. */
typedef struct lc_elem_type {
    int dtype;               /* lc_dtype */
    const char *name;        /* NumPy's name ("float32"), for messages */
    char npy_kind;           /* 'f', 'i', 'u', 'b' */
    unsigned size;           /* bytes per element */
    int idx_code;            /* IDX type byte, or 0 when IDX has none */
    void (*to_f32)(const uint8_t *src, size_t n, float *dst);
    /* Returns how many of the n values fit int64 (n when all do); NULL for
     * floating-point types. */
    size_t (*to_i64)(const uint8_t *src, size_t n, int64_t *dst);
} lc_elem_type;

/* Table lookups; NULL when the type is not supported. */
const lc_elem_type *lc_elem_type_npy(char kind, unsigned size);
const lc_elem_type *lc_elem_type_idx(int code);

/* An open array file: its header has been parsed and the stream sits at the
 * first payload byte. */
typedef struct lc_array_file {
    const char *path;        /* borrowed, for messages */
    FILE *f;                 /* plain files */
    gzFile gz;               /* gzip'ed files */
    int64_t file_size;       /* plain files: bytes on disk; -1 for gzip */
    int64_t header_bytes;    /* bytes before the payload */
    const lc_elem_type *type;
    int big_endian;          /* payload byte order (IDX) */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    int64_t numel;           /* elements the header declares */
} lc_array_file;

/* Opens `path` and parses its header. `raw_ndim` > 0 marks raw float32 data
 * with the given shape (no header, never gzip); otherwise the format is
 * detected from the content: .npy (v1-v3) or IDX, each optionally gzip'ed.
 * For plain files the payload size is checked against the file size.
 * Messages name `path`. On failure `a` holds nothing to close. */
lc_status lc_array_open(const char *path, int raw_ndim, const int64_t *raw_dims,
                        lc_array_file *a);

/* Reads the first `n` elements of the payload converted to float32
 * (as_i64 = 0) or int64 (as_i64 = 1) into a malloc'ed *out. When n is the
 * whole payload of a gzip stream, data after it is an error. */
lc_status lc_array_read(lc_array_file *a, int64_t n, int as_i64, void **out);

void lc_array_close(lc_array_file *a);

/* Parses a .npy header dict (the text after the length field). Exposed for
 * the tests and fuzz targets. */
lc_status lc_npy_parse_header(const char *path, const char *text, size_t len,
                              const lc_elem_type **type, int *ndim,
                              int64_t *dims);

#endif
