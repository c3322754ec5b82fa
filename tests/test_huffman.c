/* Huffman coder: optimal length-limited lengths against brute force and
 * plain Huffman, code tables, encode -> decode identity on random, skewed,
 * single-symbol and empty streams, corrupt streams, raw bit-packing. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_huffman.h"
#include "lc_testutil.h"

/* Check writes a record for every passing ck_assert; hot loops use this,
 * which only calls into Check on failure. */
#define REQUIRE(cond) \
    do { \
        if (!(cond)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
    } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Plain (unlimited) Huffman cost by repeatedly merging the two smallest
 * weights: sum of the merged weights. */
static uint64_t huffman_cost_oracle(const uint64_t *hist, int n_sym)
{
    uint64_t w[512];
    int n = 0;
    for (int s = 0; s < n_sym; s++)
        if (hist[s]) w[n++] = hist[s];
    if (n == 1) return w[0];
    uint64_t cost = 0;
    while (n > 1) {
        for (int k = 0; k < 2; k++) /* move the two smallest to the end */
            for (int i = 0; i < n - 1 - k; i++)
                if (w[i] < w[i + 1]) {
                    uint64_t t = w[i];
                    w[i] = w[i + 1];
                    w[i + 1] = t;
                }
        uint64_t m = w[n - 1] + w[n - 2];
        cost += m;
        n -= 1;
        w[n - 1] = m;
    }
    return cost;
}

/* Best cost over every assignment of lengths 1..L with Kraft <= 1. */
static void brute(const uint64_t *w, int n, int L, int i, uint32_t kraft, uint64_t cost, uint64_t *best)
{
    if (kraft > (1u << L)) return;
    if (i == n) {
        if (cost < *best) *best = cost;
        return;
    }
    for (int l = 1; l <= L; l++) brute(w, n, L, i + 1, kraft + (1u << (L - l)), cost + w[i] * (uint64_t)l, best);
}

static int max_of(const uint8_t *len, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (len[i] > m) m = len[i];
    return m;
}

START_TEST(lengths_match_brute_force)
{
    for (int trial = 0; trial < 300; trial++) {
        int n = 2 + (int)(next_u64() % 5), L = 1;
        while ((1 << L) < n) L++;
        L += (int)(next_u64() % 3);
        uint64_t hist[8] = {0}, w[8];
        for (int s = 0; s < n; s++) w[s] = hist[s] = 1 + next_u64() % (trial % 2 ? 1000 : 5);
        uint8_t len[8];
        ck_assert_int_eq(lc_huff_lengths(hist, n, L, len), LC_OK);
        ck_assert_int_le(max_of(len, n), L);
        uint64_t best = UINT64_MAX;
        brute(w, n, L, 0, 0, 0, &best);
        ck_assert_uint_eq(lc_huff_coded_bits(hist, len, n), best);
    }
}
END_TEST

START_TEST(lengths_unlimited_equal_huffman)
{
    for (int trial = 0; trial < 50; trial++) {
        uint64_t hist[256] = {0};
        int n_sym = 1 << (1 + trial % 8);
        /* weights within a factor of 100 keep plain Huffman under 15 bits */
        for (int s = 0; s < n_sym; s++) hist[s] = next_u64() % 3 ? 100 + next_u64() % 10000 : 0;
        hist[0] = 100;
        uint8_t len[256];
        ck_assert_int_eq(lc_huff_lengths(hist, n_sym, 15, len), LC_OK);
        ck_assert_uint_eq(lc_huff_coded_bits(hist, len, n_sym), huffman_cost_oracle(hist, n_sym));
    }
}
END_TEST

START_TEST(length_limit_binds)
{
    /* Fibonacci weights make plain Huffman as deep as the alphabet. */
    uint64_t hist[32] = {0}, a = 1, b = 1;
    for (int s = 0; s < 32; s++) {
        hist[s] = a;
        uint64_t c = a + b;
        a = b;
        b = c;
    }
    uint8_t len[32];
    ck_assert_int_eq(lc_huff_lengths(hist, 32, 15, len), LC_OK);
    ck_assert_int_eq(max_of(len, 32), 15);
    ck_assert_int_eq(lc_huff_lengths(hist, 8, 3, len), LC_OK);
    for (int s = 0; s < 8; s++) ck_assert_int_eq(len[s], 3);
    ck_assert_int_eq(lc_huff_lengths(hist, 9, 3, len), LC_ERR_INVALID_ARGUMENT);
    uint64_t zero[4] = {0};
    ck_assert_int_eq(lc_huff_lengths(zero, 4, 15, len), LC_ERR_INVALID_ARGUMENT);
    /* the limited code still costs no less than unlimited Huffman */
    ck_assert_int_eq(lc_huff_lengths(hist, 32, 8, len), LC_OK);
    ck_assert_int_le(max_of(len, 32), 8);
    ck_assert_uint_gt(lc_huff_coded_bits(hist, len, 32), huffman_cost_oracle(hist, 32));
}
END_TEST

/* Encodes with a stream writer, decodes, compares; returns coded bytes. */
static size_t roundtrip(const uint8_t *sym, size_t n, int w, int max_len)
{
    uint64_t hist[256] = {0};
    lc_huff_histogram(sym, n, hist);
    uint8_t len[256] = {0};
    ck_assert_int_eq(lc_huff_lengths(hist, 1 << w, max_len, len), LC_OK);
    size_t size = lc_huff_stream_size(hist, len, w);
    uint8_t *buf = malloc(size + 1), *out = malloc(n + 1);
    ck_assert_uint_eq(lc_huff_stream_write(sym, n, len, w, buf), size);
    ck_assert_int_eq(lc_huff_stream_read(buf, size, w, out, n), LC_OK);
    ck_assert(n == 0 || memcmp(out, sym, n) == 0);
    /* one byte too many or too few is an error */
    ck_assert_int_ne(lc_huff_stream_read(buf, size - 1, w, out, n), LC_OK);
    buf[size] = 0;
    ck_assert_int_ne(lc_huff_stream_read(buf, size + 1, w, out, n), LC_OK);
    free(buf);
    free(out);
    return size;
}

START_TEST(roundtrip_random_and_skewed)
{
    size_t n = 100000;
    uint8_t *sym = malloc(n);
    for (int w = 1; w <= 8; w++) {
        for (size_t i = 0; i < n; i++) sym[i] = (uint8_t)(next_u64() & ((1u << w) - 1));
        roundtrip(sym, n, w, 15);
        /* geometric: P(k) ~ 2^-k */
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_u64();
            int k = r ? __builtin_ctzll(r) : 63;
            sym[i] = (uint8_t)(k < (1 << w) ? k : (1 << w) - 1);
        }
        uint64_t hist[256] = {0};
        lc_huff_histogram(sym, n, hist);
        size_t size = roundtrip(sym, n, w, 15);
        if (w >= 3) { /* dyadic probabilities: Huffman meets the entropy bound */
            double bound = lc_huff_entropy_bits(hist, 1 << w) / 8;
            ck_assert_double_le((double)size, bound * 1.01 + 40);
        }
        roundtrip(sym, n, w, w < 4 ? 4 : w); /* a tight limit */
    }
    free(sym);
}
END_TEST

START_TEST(roundtrip_single_and_empty)
{
    uint8_t sym[1000];
    memset(sym, 7, sizeof sym);
    size_t size = roundtrip(sym, sizeof sym, 3, 15);
    ck_assert_uint_le(size, 4 + 125); /* table (form 1) + one bit per symbol */
    roundtrip(sym, 1, 3, 15);
    /* empty stream: the table alone */
    uint8_t len[256] = {0}, out[1];
    len[0] = 1;
    uint8_t buf[16];
    size_t k = lc_huff_stream_write(sym, 0, len, 2, buf);
    ck_assert_int_eq(lc_huff_stream_read(buf, k, 2, out, 0), LC_OK);
}
END_TEST

START_TEST(tables)
{
    uint8_t len[256] = {0}, back[256];
    size_t used;
    /* few symbols of a large alphabet: form 1 */
    len[3] = 1;
    len[200] = 2;
    len[17] = 2;
    uint8_t buf[256];
    size_t k = lc_huff_table_write(len, 8, buf);
    ck_assert_int_eq(buf[0], 1);
    ck_assert_uint_eq(k, 2 + 2 + 3);
    ck_assert_int_eq(lc_huff_table_read(buf, k, 8, back, &used), LC_OK);
    ck_assert_uint_eq(used, k);
    ck_assert(memcmp(back, len, 256) == 0);
    /* a symbol listed twice, out of order, or outside the alphabet */
    uint8_t bad[] = {1, 2, 1, 2, 3, 17, 17};
    ck_assert_int_eq(lc_huff_table_read(bad, sizeof bad, 8, back, &used), LC_ERR_FORMAT);
    uint8_t bad2[] = {1, 1, 1, 9};
    ck_assert_int_eq(lc_huff_table_read(bad2, sizeof bad2, 3, back, &used), LC_ERR_FORMAT);
    /* Kraft sum > 1 */
    uint8_t over[] = {1, 1, 3, 0, 1, 2};
    ck_assert_int_eq(lc_huff_table_read(over, sizeof over, 2, back, &used), LC_ERR_FORMAT);
    /* many symbols: form 0 (nibbles) */
    for (int s = 0; s < 16; s++) len[s] = 4;
    k = lc_huff_table_write(len, 4, buf);
    ck_assert_int_eq(buf[0], 0);
    ck_assert_uint_eq(k, 9);
    ck_assert_int_eq(lc_huff_table_read(buf, k, 4, back, &used), LC_OK);
    ck_assert(memcmp(back, len, 16) == 0);
    /* unknown form, truncated */
    buf[0] = 7;
    ck_assert_int_eq(lc_huff_table_read(buf, k, 4, back, &used), LC_ERR_FORMAT);
    ck_assert_int_eq(lc_huff_table_read(buf, 0, 4, back, &used), LC_ERR_FORMAT);
}
END_TEST

START_TEST(canonical_codes_known)
{
    /* DEFLATE's worked example (RFC 1951 3.2.2): lengths 3,3,3,3,3,2,4,4
     * give codes 010 011 100 101 110 00 1110 1111 (MSB first). */
    uint8_t len[256] = {3, 3, 3, 3, 3, 2, 4, 4};
    const char *expect[8] = {"010", "011", "100", "101", "110", "00", "1110", "1111"};
    lc_huff_encoder e;
    lc_huff_encoder_init(&e, len);
    for (int s = 0; s < 8; s++) {
        uint8_t sym = (uint8_t)s, out[4] = {0};
        lc_huff_encode(&e, &sym, 1, out);
        for (int b = 0; b < len[s]; b++) ck_assert_int_eq((out[0] >> b) & 1, expect[s][b] - '0');
    }
}
END_TEST

START_TEST(corrupt_streams_fail_cleanly)
{
    size_t n = 5000;
    uint8_t *sym = malloc(n), *out = malloc(n);
    for (size_t i = 0; i < n; i++) sym[i] = (uint8_t)(next_u64() % 5 == 0 ? next_u64() % 16 : next_u64() % 3);
    uint64_t hist[256] = {0};
    lc_huff_histogram(sym, n, hist);
    uint8_t len[256] = {0};
    /* an incomplete code: drop symbol 15's use so some bit patterns are invalid */
    ck_assert_int_eq(lc_huff_lengths(hist, 16, 15, len), LC_OK);
    size_t size = lc_huff_stream_size(hist, len, 4);
    uint8_t *buf = malloc(size);
    lc_huff_stream_write(sym, n, len, 4, buf);
    int failures = 0;
    for (size_t i = 0; i < size; i++) {
        buf[i] ^= 0x5a;
        lc_status s = lc_huff_stream_read(buf, size, 4, out, n);
        failures += s != LC_OK;
        buf[i] ^= 0x5a;
    }
    for (size_t cut = 0; cut < size; cut++) REQUIRE(lc_huff_stream_read(buf, cut, 4, out, n) != LC_OK);
    ck_assert_int_gt(failures, 0);
    free(buf);
    free(sym);
    free(out);
}
END_TEST

START_TEST(bit_packing)
{
    uint8_t sym[103], out[103], buf[128];
    for (int w = 1; w <= 8; w++) {
        for (int i = 0; i < 103; i++) sym[i] = (uint8_t)(next_u64() & ((1u << w) - 1));
        size_t k = lc_bits_pack(sym, 103, w, buf);
        ck_assert_uint_eq(k, (103u * (unsigned)w + 7) / 8);
        /* bit j of the stream is symbol j / w's bit j % w */
        for (size_t j = 0; j < 103u * (unsigned)w; j++)
            REQUIRE(((buf[j / 8] >> (j % 8)) & 1) == ((sym[j / (unsigned)w] >> (j % (unsigned)w)) & 1));
        ck_assert_int_eq(lc_bits_unpack(buf, k, w, out, 103), LC_OK);
        ck_assert(memcmp(out, sym, 103) == 0);
        ck_assert_int_eq(lc_bits_unpack(buf, k - 1, w, out, 103), LC_ERR_FORMAT);
        if ((103 * w) % 8) {
            buf[k - 1] |= 0x80;
            ck_assert_int_eq(lc_bits_unpack(buf, k, w, out, 103), LC_ERR_FORMAT);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("huffman");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lengths_match_brute_force);
    tcase_add_test(tc, lengths_unlimited_equal_huffman);
    tcase_add_test(tc, length_limit_binds);
    tcase_add_test(tc, roundtrip_random_and_skewed);
    tcase_add_test(tc, roundtrip_single_and_empty);
    tcase_add_test(tc, tables);
    tcase_add_test(tc, canonical_codes_known);
    tcase_add_test(tc, corrupt_streams_fail_cleanly);
    tcase_add_test(tc, bit_packing);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
