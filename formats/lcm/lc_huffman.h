/*
 * lc_huffman.h - canonical, length-limited Huffman coding of small
 * alphabets (internal; formats/lcm/huffman.c).
 *
 * Symbols are bytes of w bits (alphabet 2^w, w = 1..8). Code lengths are
 * optimal under a length limit (package-merge), codes are canonical (as in
 * DEFLATE: by length, then symbol value), bits are packed LSB-first with
 * each code's most significant bit first. Decoding is one table look-up
 * per symbol. The stream layout (code table + bits) is specified in
 * formats/LCM.md, "Huffman coding".
 *
 *     uint64_t hist[256] = {0};
 *     lc_huff_histogram(sym, n, hist);
 *     uint8_t len[256];
 *     lc_huff_lengths(hist, 1 << w, LC_HUFF_MAX_LEN, len);
 *     size_t size = lc_huff_stream_size(hist, len, w);   // table + bits
 *     lc_huff_stream_write(sym, n, len, w, out);         // out has `size` bytes
 *     lc_huff_stream_read(out, size, w, decoded, n);
 */
#ifndef LC_HUFFMAN_H
#define LC_HUFFMAN_H

#include <stddef.h>
#include <stdint.h>

#include "lc_ir.h"

#define LC_HUFF_MAX_LEN 15
#define LC_HUFF_MAX_SYMBOLS 256

/* hist[s] += occurrences of s in sym[0..n) (hist has 256 entries). */
void lc_huff_histogram(const uint8_t *sym, size_t n, uint64_t *hist);

/* Empirical entropy bound: sum over s of -hist[s] * log2(hist[s] / total),
 * in bits (0 for an empty or single-symbol histogram). */
double lc_huff_entropy_bits(const uint64_t *hist, int n_sym);

/* Optimal code lengths (len[s] = 0 for unused symbols) for the first n_sym
 * (1..256) frequencies with no code longer than max_len (1..15), by
 * package-merge. A single used symbol gets length 1. LC_ERR_INVALID_ARGUMENT
 * when no symbol is used or 2^max_len < the number of used symbols;
 * LC_ERR_NO_MEMORY. */
lc_status lc_huff_lengths(const uint64_t *hist, int n_sym, int max_len, uint8_t *len);

/* Sum of hist[s] * len[s]. */
uint64_t lc_huff_coded_bits(const uint64_t *hist, const uint8_t *len, int n_sym);

/* Bytes of the code table for lengths over the alphabet 2^w (shorter of
 * the two forms); lc_huff_table_write writes it and returns its size. */
size_t lc_huff_table_size(const uint8_t *len, int w);
size_t lc_huff_table_write(const uint8_t *len, int w, uint8_t *out);

/* Parses a code table from buf[0..size) for the alphabet 2^w into len[256]
 * (zeros for unused symbols), checking it (at least one code, lengths
 * 1..15, Kraft's inequality, distinct ascending symbols). *used = its
 * bytes. LC_ERR_FORMAT with a message giving the byte offset within the
 * table. */
lc_status lc_huff_table_read(const uint8_t *buf, size_t size, int w, uint8_t *len, size_t *used);

/* Encoder: canonical codes from lengths (bit-reversed for LSB-first
 * packing). */
typedef struct lc_huff_encoder {
    uint16_t code[LC_HUFF_MAX_SYMBOLS];
    uint8_t len[LC_HUFF_MAX_SYMBOLS];
} lc_huff_encoder;
void lc_huff_encoder_init(lc_huff_encoder *e, const uint8_t *len);

/* Writes the codes of sym[0..n) to out (ceil(bits / 8) bytes, every symbol
 * must have a code); returns the bytes written. */
size_t lc_huff_encode(const lc_huff_encoder *e, const uint8_t *sym, size_t n, uint8_t *out);

/* Decoder: one table of 2^max_len entries (symbol << 4 | length). */
typedef struct lc_huff_decoder {
    uint16_t *table;
    int max_len;
} lc_huff_decoder;
lc_status lc_huff_decoder_init(lc_huff_decoder *d, const uint8_t *len);
void lc_huff_decoder_clear(lc_huff_decoder *d);

/* Decodes exactly n symbols from in[0..size), which must end at the byte
 * holding the last code bit, with zero padding bits. LC_ERR_FORMAT
 * ("invalid code at bit B", "ends early", "N bytes left over") otherwise. */
lc_status lc_huff_decode(const lc_huff_decoder *d, const uint8_t *in, size_t size, uint8_t *out, size_t n);

/* A whole stream: code table + coded bits. */
size_t lc_huff_stream_size(const uint64_t *hist, const uint8_t *len, int w);
size_t lc_huff_stream_write(const uint8_t *sym, size_t n, const uint8_t *len, int w, uint8_t *out);
lc_status lc_huff_stream_read(const uint8_t *in, size_t size, int w, uint8_t *out, size_t n);

/* Raw bit-packing of n symbols of w bits, LSB-first: ceil(n * w / 8)
 * bytes. lc_bits_unpack fails (LC_ERR_FORMAT) when size is not exactly
 * that or the padding bits are not zero. */
size_t lc_bits_pack(const uint8_t *sym, size_t n, int w, uint8_t *out);
lc_status lc_bits_unpack(const uint8_t *in, size_t size, int w, uint8_t *out, size_t n);

#endif
