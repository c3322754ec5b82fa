/*
 * lc_lcm.h - constants and helpers of the .lcm format shared by its
 * writer and reader (internal; spec: formats/LCM.md).
 */
#ifndef LC_LCM_H
#define LC_LCM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_ir.h"

#define LC_LCM_MAGIC "\x89LCM\r\n\x1a\n"
/* Format 3.0 (what the writer writes): 2.0's container and records, plus
 * plain float tensors on an integer grid (UNIFORM store without ENCODING)
 * and a GRAPH deflated against a preset dictionary. Format 2.0 (read
 * only): a 16-byte header, then sections of varint type and length; all
 * tensors in one TENSORS section of compact records. Format 1.0 (read
 * only): fixed 32-byte descriptors. */
#define LC_LCM_MAJOR 3
#define LC_LCM_MINOR 0
#define LC_LCM_MAJOR_V2 2
#define LC_LCM_HEADER2_SIZE 16
/* format 1.0 */
#define LC_LCM_MAJOR_V1 1
#define LC_LCM_HEADER_SIZE 32
#define LC_LCM_ENTRY_SIZE 32
#define LC_LCM_TDESC_SIZE 32  /* tensor descriptor */
#define LC_LCM_SDESC_SIZE 24  /* stream descriptor */
#define LC_LCM_ALIGN 64       /* stream 0 of a tensor starts at a multiple of this */
#define LC_LCM_MAX_SECTIONS (1u << 24)

/* Numbered values that reach files: only append. TENSOR is format 1.0's
 * one-tensor section, TENSORS format 2.0's all-tensors section. */
enum { LC_LCM_SEC_META = 1, LC_LCM_SEC_GRAPH = 2, LC_LCM_SEC_TENSOR = 3, LC_LCM_SEC_TENSORS = 4, LC_LCM_SEC_OPTIONAL = 256 };
enum { LC_LCM_RAW = 0, LC_LCM_F32 = 1, LC_LCM_F16 = 2, LC_LCM_UNIFORM = 3, LC_LCM_CODEBOOK = 4, LC_LCM_BINARY = 5 };
enum { LC_LCM_SPARSE_NONE = 0, LC_LCM_SPARSE_BITMAP = 1, LC_LCM_SPARSE_GAPS = 2 };
enum { LC_LCM_FLAG_ENCODING = 1, LC_LCM_FLAG_ENTROPY = 2, LC_LCM_FLAG_MASK = 4 };
/* Format 3.0: added to a UNIFORM/CODEBOOK/BINARY record's bits field when
 * its float parameters (scales, centroids, alphas) are stored as float16. */
#define LC_LCM_BITS_HALF_PARAMS 64
/* The preset dictionary a format 3.0 GRAPH may be deflated against
 * (lcm_graph_dict.c, made by make_graph_dict.py; never changes). */
extern const unsigned char lc_lcm_graph_dict[];
extern const unsigned lc_lcm_graph_dict_len;

/* Stream codings: LC_LCM_CODING_RAW and LC_LCM_CODING_HUFFMAN are public
 * (lc_lcm_coding, libcompress/experimental.h); the library is built with
 * LC_EXPERIMENTAL. */

static inline void lc_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void lc_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void lc_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t lc_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t lc_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lc_get64(const uint8_t *p) { return (uint64_t)lc_get32(p) | (uint64_t)lc_get32(p + 4) << 32; }
static inline float lc_getf32(const uint8_t *p)
{
    uint32_t u = lc_get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline void lc_putf32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    lc_put32(p, u);
}

/* Unsigned LEB128 (7 bits a byte, low groups first, high bit = more).
 * lc_put_varint writes at most 10 bytes and returns how many; with p NULL
 * it only counts. lc_get_varint reads from p[0..end) into *v and returns
 * the bytes used, or 0 when the number runs past end or over 64 bits. */
static inline size_t lc_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (p) p[n] = (uint8_t)(b | (v ? 0x80 : 0));
        n++;
    } while (v);
    return n;
}
static inline size_t lc_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t n = 0; p + n < end && n < 10; n++) {
        uint64_t b = p[n] & 0x7f;
        if (n == 9 && b > 1) return 0;
        x |= b << (7 * n);
        if (!(p[n] & 0x80)) {
            *v = x;
            return n + 1;
        }
    }
    return 0;
}

/* binary32 -> IEEE binary16, succeeding only when the conversion is exact
 * (lc_half_to_float of lc_exec.h gives the value back bit for bit). */
bool lc_half_from_float(float f, uint16_t *h);

/* Recomputes a file's CRCs in place (either format), so that damage made
 * on purpose reaches the parsers behind them (tests, fuzz targets). */
void lc_lcm_reseal(uint8_t *buf, size_t len);

/* Loads a file like lc_model_load_lcm_buffer, calling fn with each stream's
 * coded bytes, coding, symbol width and symbol count (benchmarks). */
typedef void (*lc_lcm_stream_fn)(void *user, const uint8_t *p, uint64_t bytes, int coding, int w, uint64_t n);
lc_status lc_lcm_walk_streams(const void *buf, size_t len, lc_lcm_stream_fn fn, void *user);

/* A stored tensor that the .lcm writer puts in its own TENSOR section
 * (and the skeleton holds as a placeholder). */
bool lc_lcm_own_section(const lc_tensor *t);

#endif
