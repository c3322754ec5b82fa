/*
 * libcompress/lcm.h - the compact .lcm format.
 * Part of the public API: include <libcompress.h>, which includes this file
 * in order after the parts it builds on; never include it directly.
 */
#ifndef LIBCOMPRESS_LCM_H
#define LIBCOMPRESS_LCM_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/lcm.h>"
#endif

/* ------------------------------------------------------------------ */
/* Compact format (.lcm; spec: formats/LCM.md)                         */
/* ------------------------------------------------------------------ */

/** What the META section of an .lcm file records; every field may be NULL. */
typedef struct lc_lcm_meta {
    const char *producer;     /* e.g. "shrink 0.2.0"; NULL: "libcompress <version>" */
    const char *recipe_json;  /* the recipe (a JSON value) */
    const char *figures_json; /* accuracy and size figures of the run (a JSON object) */
} lc_lcm_meta;

/** Writes `m` as .lcm to `path` atomically: the graph once (deflated), each
 *  stored tensor by its encoding (bit-packed codes, codebooks, sparse
 *  positions as gaps or a bitmap, Huffman-coded streams where the tensor is
 *  entropy_coded and it helps). `meta` may be NULL. LC_ERR_INVALID_ARGUMENT
 *  (meta JSON that does not parse), LC_ERR_VERIFY (an encoding that does
 *  not decode to its float view), LC_ERR_IO, LC_ERR_NO_MEMORY. Thread-safe
 *  for concurrent readers of `m` and distinct paths. */
lc_status lc_model_save_lcm(const lc_model *m, const char *path, const lc_lcm_meta *meta);

/** As lc_model_save_lcm, into a malloc'ed buffer of *len bytes (*buf; the
 *  caller frees it with free(); NULL on failure). Same errors, except
 *  LC_ERR_IO. Thread-safe for concurrent readers of `m`. */
lc_status lc_model_save_lcm_buffer(const lc_model *m, const lc_lcm_meta *meta, void **buf, size_t *len);

/** Nonzero when the `len` bytes at buf start with the .lcm magic (0 for
 *  shorter buffers). Never fails. Thread-safe. */
int lc_lcm_is(const void *buf, size_t len);

/** Reads an .lcm file from memory (untrusted: every size is checked).
 *  `label` names it in messages. LC_ERR_FORMAT with a message naming the
 *  section and the byte offset; LC_ERR_UNSUPPORTED for another major
 *  version; LC_ERR_NO_MEMORY. *out is owned by the caller (lc_model_free)
 *  and NULL on failure; `buf` is only read during the call.
 *  (lc_model_load reads .lcm files too.) Thread-safe. */
lc_status lc_model_load_lcm_buffer(const void *buf, size_t len, const char *label, lc_model **out);

/** The META section's JSON text of an .lcm file in memory (*json malloc'ed:
 *  free() it; "{}" when the file has none; NULL on failure). Errors as
 *  lc_model_load_lcm_buffer. Thread-safe. */
lc_status lc_lcm_meta_read(const void *buf, size_t len, char **json);

#endif /* LIBCOMPRESS_LCM_H */
