/*
 * lc_lcm_read.h - what the .lcm reader's container parsers (format 1.0 in
 * lcm_read_v1.c, 2.0 in lcm_read_v2.c) hand to the common part
 * (lcm_read.c): where the META, GRAPH and tensor bytes are, and each
 * tensor's descriptor in one form. Internal; spec: formats/LCM.md.
 */
#ifndef LC_LCM_READ_H
#define LC_LCM_READ_H

#include <stdint.h>

#include "lc_lcm.h"

typedef struct lcm_stream {
    int coding, w;
    uint64_t n, bytes;
    uint64_t off;            /* file offset of the stream's first byte */
} lcm_stream;

/* One stored tensor's descriptor, whatever the container. */
typedef struct lcm_tdesc {
    int store, bits, sparsity, flags, gap_bits, n_streams;
    int half_params;         /* 3.0: float parameters stored as float16 */
    int32_t axis;
    uint32_t n_codes;
    uint64_t numel, kept;
    uint64_t params_off;     /* file offset of the per-channel parameters */
    uint64_t start, bytes;   /* file offset and length of the tensor's section/record */
    lcm_stream s[2];
    char where[96];          /* "section 5 (TENSOR 3)", "TENSORS record 3": for messages */
} lcm_tdesc;

typedef struct lcm_reader {
    const char *label;
    const uint8_t *buf;
    size_t len;
    int major;
    /* filled by the container parser */
    uint64_t meta_off, meta_len;       /* meta_len 0: no META */
    uint64_t graph_off, graph_len;     /* the GRAPH section's bytes */
    uint64_t header_bytes;             /* header, section table or section heads */
    uint64_t optional_bytes;           /* optional sections, counted with META */
    uint32_t n_tensors;
    /* format 1.0: section table; 2.0: the TENSORS section */
    void *v1;
    uint64_t tensors_off, tensors_len, next_record;
    /* optional: called with every stream as it is decoded */
    lc_lcm_stream_fn on_stream;
    void *user;
} lcm_reader;

/* LC_ERR_FORMAT "<label>: <where> at byte B: <message>". */
lc_status lcm_fail_at(const lcm_reader *r, const char *where, uint64_t byte, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Container parsers: check the header, CRCs and section layout, fill the
 * reader's META/GRAPH/tensor locations. */
lc_status lcm_v1_parse(lcm_reader *r);
lc_status lcm_v2_parse(lcm_reader *r);
void lcm_v1_clear(lcm_reader *r);

/* Descriptor of the k-th placeholder, t (dims and dtype from the graph).
 * Format 2.0 reads its records in order: call with k = 0, 1, ... */
lc_status lcm_v1_tensor(const lcm_reader *r, uint32_t k, const lc_tensor *t, lcm_tdesc *d);
lc_status lcm_v2_tensor(lcm_reader *r, uint32_t k, const lc_tensor *t, lcm_tdesc *d);
/* Format 2.0: the TENSORS section ends after the last record. */
lc_status lcm_v2_finish(const lcm_reader *r);

/* Bytes per value-stream symbol group: RAW the dtype size, F32 4, F16 2,
 * codes 1; and the symbol width of the values stream. */
size_t lcm_value_size(int store, int dtype);
int lcm_value_width(int store, int bits);

#endif
