/* Helpers shared by the ONNX reader and writer (internal). */
#ifndef LC_ONNX_INTERNAL_H
#define LC_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "lc_ir.h"

/* Walks the protobuf wire format of a ModelProto and fails (LC_ERR_FORMAT)
 * on messages nested deeper than protobuf-c can unpack without exhausting
 * the stack, or on malformed framing. Cheap: no allocation. */
lc_status lc_onnx_check_nesting(const void *buf, size_t len);

/* Resolves an external-data `location` against `base_dir` into `out`,
 * refusing absolute paths, ".." components and symlinks that leave
 * base_dir (LC_ERR_FORMAT), and missing files (LC_ERR_IO). */
lc_status lc_external_path(const char *base_dir, const char *location, char *out, size_t out_size);

/* tensor_from_pb for callers outside onnx_load.c: converts an unpacked
 * Onnx__TensorProto (external data looked for in base_dir, NULL: refused);
 * messages start with `label`. */
lc_status lc_onnx_tensor_from_pb(const void *tensor_proto, const char *label, const char *base_dir, lc_tensor **out);

/* The .lcm graph skeleton (formats/LCM.md, GRAPH section): serializes like
 * lc_model_save_onnx_buffer, except that tensors for which skip(user, t)
 * is true are written as placeholders (name, dtype, dims, doc_string; no
 * data). */
lc_status lc_onnx_save_skeleton(const lc_model *m, bool (*skip)(void *user, const lc_tensor *t), void *user,
                                void **buf, size_t *len);

/* Parses a skeleton like lc_model_load_onnx_buffer (no external data),
 * except that a non-STRING tensor with no data at all comes back as a
 * placeholder: data NULL and nbytes 0 whatever its dims (the caller fills
 * it, and must check every placeholder was filled). */
lc_status lc_onnx_load_skeleton(const void *buf, size_t len, const char *label, lc_model **out);

#endif
