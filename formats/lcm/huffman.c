/* Canonical length-limited Huffman coding (see lc_huffman.h and the
 * "Huffman coding" part of formats/LCM.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_huffman.h"

void lc_huff_histogram(const uint8_t *sym, size_t n, uint64_t *hist)
{
    /* four partial histograms break the store-to-load dependency on runs */
    uint64_t h[4][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        h[0][sym[i]]++;
        h[1][sym[i + 1]]++;
        h[2][sym[i + 2]]++;
        h[3][sym[i + 3]]++;
    }
    for (; i < n; i++) h[0][sym[i]]++;
    for (int s = 0; s < 256; s++) hist[s] += h[0][s] + h[1][s] + h[2][s] + h[3][s];
}

double lc_huff_entropy_bits(const uint64_t *hist, int n_sym)
{
    double total = 0, bits = 0;
    for (int s = 0; s < n_sym; s++) total += (double)hist[s];
    for (int s = 0; s < n_sym; s++)
        if (hist[s]) bits -= (double)hist[s] * log2((double)hist[s] / total);
    return bits;
}

/* ---- package-merge ---- */

/* An item of a package-merge list: a leaf (symbol) or a package of two
 * items of the previous list. */
typedef struct pm_item {
    uint64_t weight;
    int16_t leaf;   /* symbol, or -1 for a package */
    int16_t a, b;   /* package: indices into the previous level's list */
} pm_item;

typedef struct pm_leaf {
    uint64_t weight;
    int sym;
} pm_leaf;

static int cmp_leaf(const void *x, const void *y)
{
    const pm_leaf *a = x, *b = y;
    if (a->weight != b->weight) return a->weight < b->weight ? -1 : 1;
    return a->sym - b->sym;
}

static void pm_count(const pm_item *const *levels, int level, int idx, uint8_t *len)
{
    const pm_item *it = &levels[level][idx];
    if (it->leaf >= 0) {
        len[it->leaf]++;
        return;
    }
    pm_count(levels, level - 1, it->a, len);
    pm_count(levels, level - 1, it->b, len);
}

lc_status lc_huff_lengths(const uint64_t *hist, int n_sym, int max_len, uint8_t *len)
{
    if (n_sym < 1 || n_sym > LC_HUFF_MAX_SYMBOLS || max_len < 1 || max_len > LC_HUFF_MAX_LEN)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "huffman: %d symbols, max length %d", n_sym, max_len);
    memset(len, 0, (size_t)n_sym);
    pm_leaf leaves[LC_HUFF_MAX_SYMBOLS];
    int n = 0;
    for (int s = 0; s < n_sym; s++)
        if (hist[s]) leaves[n++] = (pm_leaf){hist[s], s};
    if (n == 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "huffman: no symbol is used");
    if (n > (1 << max_len))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "huffman: %d symbols do not fit codes of at most %d bits", n, max_len);
    if (n == 1) {
        len[leaves[0].sym] = 1;
        return LC_OK;
    }
    qsort(leaves, (size_t)n, sizeof *leaves, cmp_leaf);
    /* levels[0] is the deepest list (leaves only); levels[k] merges the
     * leaves with the packages of levels[k-1]; the first 2n-2 items of the
     * last level are the selected coins. */
    int cap = 2 * n;
    pm_item *store = malloc((size_t)max_len * (size_t)cap * sizeof *store);
    const pm_item *levels[LC_HUFF_MAX_LEN];
    int count[LC_HUFF_MAX_LEN];
    if (!store) return lc_fail(LC_ERR_NO_MEMORY, "huffman: out of memory");
    for (int i = 0; i < n; i++) store[i] = (pm_item){leaves[i].weight, (int16_t)leaves[i].sym, 0, 0};
    levels[0] = store;
    count[0] = n;
    for (int k = 1; k < max_len; k++) {
        pm_item *cur = store + (size_t)k * (size_t)cap;
        const pm_item *prev = levels[k - 1];
        int n_pkg = count[k - 1] / 2, li = 0, pi = 0, m = 0;
        while (li < n || pi < n_pkg) {
            uint64_t pw = pi < n_pkg ? prev[2 * pi].weight + prev[2 * pi + 1].weight : UINT64_MAX;
            if (li < n && (pi >= n_pkg || leaves[li].weight <= pw)) {
                cur[m++] = (pm_item){leaves[li].weight, (int16_t)leaves[li].sym, 0, 0};
                li++;
            } else {
                cur[m++] = (pm_item){pw, -1, (int16_t)(2 * pi), (int16_t)(2 * pi + 1)};
                pi++;
            }
        }
        levels[k] = cur;
        count[k] = m;
    }
    for (int i = 0; i < 2 * n - 2; i++) pm_count(levels, max_len - 1, i, len);
    free(store);
    return LC_OK;
}

uint64_t lc_huff_coded_bits(const uint64_t *hist, const uint8_t *len, int n_sym)
{
    uint64_t bits = 0;
    for (int s = 0; s < n_sym; s++) bits += hist[s] * len[s];
    return bits;
}

/* ---- code tables ---- */

size_t lc_huff_table_size(const uint8_t *len, int w)
{
    int n_sym = 1 << w, used = 0, max = 0, counts[LC_HUFF_MAX_LEN + 1] = {0};
    for (int s = 0; s < n_sym; s++)
        if (len[s]) {
            used++;
            counts[len[s]]++;
            if (len[s] > max) max = len[s];
        }
    size_t form0 = 1 + (size_t)(n_sym + 1) / 2, form1 = 2 + (size_t)max + (size_t)used;
    for (int l = 1; l <= max; l++)
        if (counts[l] > 255) form1 = SIZE_MAX; /* a count must fit a byte */
    return form1 < form0 ? form1 : form0;
}

size_t lc_huff_table_write(const uint8_t *len, int w, uint8_t *out)
{
    int n_sym = 1 << w, max = 0, counts[LC_HUFF_MAX_LEN + 1] = {0};
    size_t size = lc_huff_table_size(len, w);
    for (int s = 0; s < n_sym; s++)
        if (len[s]) {
            counts[len[s]]++;
            if (len[s] > max) max = len[s];
        }
    if (size == 1 + (size_t)(n_sym + 1) / 2) {
        out[0] = 0;
        memset(out + 1, 0, size - 1);
        for (int s = 0; s < n_sym; s++) out[1 + s / 2] |= (uint8_t)(len[s] << (s % 2 ? 4 : 0));
        return size;
    }
    size_t k = 0;
    out[k++] = 1;
    out[k++] = (uint8_t)max;
    for (int l = 1; l <= max; l++) out[k++] = (uint8_t)counts[l];
    for (int l = 1; l <= max; l++)
        for (int s = 0; s < n_sym; s++)
            if (len[s] == l) out[k++] = (uint8_t)s;
    return k;
}

/* Kraft sum in units of 2^-15; a prefix code needs <= 2^15. */
static lc_status check_kraft(const uint8_t *len, int n_sym)
{
    uint32_t kraft = 0;
    int used = 0;
    for (int s = 0; s < n_sym; s++)
        if (len[s]) {
            kraft += 1u << (LC_HUFF_MAX_LEN - len[s]);
            used++;
        }
    if (!used) return lc_fail(LC_ERR_FORMAT, "code table has no code");
    if (kraft > (1u << LC_HUFF_MAX_LEN)) return lc_fail(LC_ERR_FORMAT, "code lengths are not a prefix code (Kraft sum > 1)");
    return LC_OK;
}

lc_status lc_huff_table_read(const uint8_t *buf, size_t size, int w, uint8_t *len, size_t *used)
{
    int n_sym = 1 << w;
    memset(len, 0, LC_HUFF_MAX_SYMBOLS);
    *used = 0;
    if (size < 1) return lc_fail(LC_ERR_FORMAT, "code table: ends at byte 0");
    if (buf[0] == 0) {
        size_t need = 1 + (size_t)(n_sym + 1) / 2;
        if (size < need) return lc_fail(LC_ERR_FORMAT, "code table: %zu bytes, form 0 needs %zu", size, need);
        for (int s = 0; s < n_sym; s++) {
            int l = (buf[1 + s / 2] >> (s % 2 ? 4 : 0)) & 15;
            len[s] = (uint8_t)l;
        }
        if (n_sym == 1 && (buf[1] >> 4)) return lc_fail(LC_ERR_FORMAT, "code table: byte 1: length of a symbol outside the alphabet");
        *used = need;
    } else if (buf[0] == 1) {
        if (size < 2) return lc_fail(LC_ERR_FORMAT, "code table: ends at byte 1");
        int max = buf[1];
        if (max < 1 || max > LC_HUFF_MAX_LEN) return lc_fail(LC_ERR_FORMAT, "code table: byte 1: maximum length %d (1..15)", max);
        if (size < 2 + (size_t)max) return lc_fail(LC_ERR_FORMAT, "code table: ends in the length counts");
        size_t k = 2 + (size_t)max, total = 0;
        for (int l = 1; l <= max; l++) total += buf[1 + l];
        if (total > (size_t)n_sym) return lc_fail(LC_ERR_FORMAT, "code table: %zu codes for %d symbols", total, n_sym);
        if (size - k < total) return lc_fail(LC_ERR_FORMAT, "code table: ends in the symbol list");
        for (int l = 1; l <= max; l++) {
            int prev = -1;
            for (int c = 0; c < buf[1 + l]; c++, k++) {
                int s = buf[k];
                if (s >= n_sym || len[s] || s <= prev)
                    return lc_fail(LC_ERR_FORMAT, "code table: byte %zu: symbol %d repeated, out of order or outside the alphabet", k, s);
                len[s] = (uint8_t)l;
                prev = s;
            }
        }
        *used = k;
    } else {
        return lc_fail(LC_ERR_FORMAT, "code table: byte 0: unknown form %d", buf[0]);
    }
    return check_kraft(len, n_sym);
}

/* ---- encoding ---- */

static uint16_t reverse_bits(uint32_t code, int n)
{
    uint32_t r = 0;
    for (int i = 0; i < n; i++) r |= ((code >> i) & 1u) << (n - 1 - i);
    return (uint16_t)r;
}

/* Canonical codes (MSB-first values) for lengths over 256 symbols. */
static void canonical_codes(const uint8_t *len, uint16_t *code)
{
    int counts[LC_HUFF_MAX_LEN + 2] = {0};
    uint32_t next[LC_HUFF_MAX_LEN + 2] = {0};
    for (int s = 0; s < LC_HUFF_MAX_SYMBOLS; s++) counts[len[s]]++;
    counts[0] = 0;
    uint32_t c = 0;
    for (int l = 1; l <= LC_HUFF_MAX_LEN; l++) {
        c = (c + (uint32_t)counts[l - 1]) << 1;
        next[l] = c;
    }
    for (int s = 0; s < LC_HUFF_MAX_SYMBOLS; s++)
        code[s] = len[s] ? (uint16_t)next[len[s]]++ : 0;
}

void lc_huff_encoder_init(lc_huff_encoder *e, const uint8_t *len)
{
    uint16_t code[LC_HUFF_MAX_SYMBOLS];
    memcpy(e->len, len, LC_HUFF_MAX_SYMBOLS);
    canonical_codes(len, code);
    for (int s = 0; s < LC_HUFF_MAX_SYMBOLS; s++) e->code[s] = reverse_bits(code[s], len[s]);
}

size_t lc_huff_encode(const lc_huff_encoder *e, const uint8_t *sym, size_t n, uint8_t *out)
{
    uint64_t acc = 0;
    int cnt = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)e->code[sym[i]] << cnt;
        cnt += e->len[sym[i]];
        if (cnt >= 32) {
            for (int b = 0; b < 4; b++) out[k++] = (uint8_t)(acc >> (8 * b));
            acc >>= 32;
            cnt -= 32;
        }
    }
    while (cnt > 0) {
        out[k++] = (uint8_t)acc;
        acc >>= 8;
        cnt -= 8;
    }
    return k;
}

/* ---- decoding ---- */

lc_status lc_huff_decoder_init(lc_huff_decoder *d, const uint8_t *len)
{
    d->table = NULL;
    d->max_len = 0;
    for (int s = 0; s < LC_HUFF_MAX_SYMBOLS; s++)
        if (len[s] > d->max_len) d->max_len = len[s];
    if (d->max_len < 1 || d->max_len > LC_HUFF_MAX_LEN) return lc_fail(LC_ERR_FORMAT, "code table: bad maximum length %d", d->max_len);
    size_t size = (size_t)1 << d->max_len;
    d->table = calloc(size, sizeof *d->table);
    if (!d->table) return lc_fail(LC_ERR_NO_MEMORY, "huffman: out of memory");
    uint16_t code[LC_HUFF_MAX_SYMBOLS];
    canonical_codes(len, code);
    for (int s = 0; s < LC_HUFF_MAX_SYMBOLS; s++) {
        if (!len[s]) continue;
        uint32_t r = reverse_bits(code[s], len[s]);
        for (size_t k = r; k < size; k += (size_t)1 << len[s]) d->table[k] = (uint16_t)(s << 4 | len[s]);
    }
    return LC_OK;
}

void lc_huff_decoder_clear(lc_huff_decoder *d)
{
    free(d->table);
    d->table = NULL;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Checks that a stream of `bits` bits occupies exactly `size` bytes with
 * zero padding. */
static lc_status check_end(const uint8_t *in, size_t size, uint64_t bits)
{
    uint64_t bytes = (bits + 7) / 8;
    if (bytes > size) return lc_fail(LC_ERR_FORMAT, "stream ends early (%llu bits needed, %zu bytes given)", (unsigned long long)bits, size);
    if (bytes < size) return lc_fail(LC_ERR_FORMAT, "%llu bytes left over after the last symbol", (unsigned long long)(size - bytes));
    if (bits % 8 && (in[bytes - 1] >> (bits % 8)))
        return lc_fail(LC_ERR_FORMAT, "nonzero padding bits in the last byte of the stream");
    return LC_OK;
}

lc_status lc_huff_decode(const lc_huff_decoder *d, const uint8_t *in, size_t size, uint8_t *out, size_t n)
{
    const uint16_t *table = d->table;
    const int max_len = d->max_len;
    const uint64_t mask = ((uint64_t)1 << max_len) - 1;
    const int per_refill = 56 / max_len;
    const uint8_t *p = in, *end = in + size;
    uint64_t buf = 0;
    int cnt = 0;
    size_t i = 0;
    /* Fast path: a branchless 64-bit refill (bits above cnt are the next
     * bits of the stream, loaded again at the next refill), then as many
     * symbols as 56 bits surely hold, unrolled for the common maximum
     * lengths. */
#define LC_HUFF_REFILL()                  \
    do {                                  \
        buf |= load64(p) << cnt;          \
        p += (63 - cnt) >> 3;             \
        cnt |= 56;                        \
    } while (0)
#define LC_HUFF_ONE()                      \
    do {                                   \
        uint16_t e_ = table[buf & mask];   \
        int l_ = e_ & 15;                  \
        if (!l_) goto bad_code;            \
        out[i++] = (uint8_t)(e_ >> 4);     \
        buf >>= l_;                        \
        cnt -= l_;                         \
    } while (0)
    if (per_refill >= 7) {
        while (end - p >= 8 && n - i >= 7) {
            LC_HUFF_REFILL();
            LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE();
        }
    } else if (per_refill >= 4) {
        while (end - p >= 8 && n - i >= 4) {
            LC_HUFF_REFILL();
            LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE();
        }
    } else {
        while (end - p >= 8 && n - i >= 3) {
            LC_HUFF_REFILL();
            LC_HUFF_ONE(); LC_HUFF_ONE(); LC_HUFF_ONE();
        }
    }
#undef LC_HUFF_ONE
#undef LC_HUFF_REFILL
    /* Tail: refill byte by byte; bits past the end read as zeros. */
    while (i < n) {
        while (cnt <= 56 && p < end) {
            buf |= (uint64_t)*p++ << cnt;
            cnt += 8;
        }
        uint16_t e = table[buf & mask];
        int l = e & 15;
        if (!l) goto bad_code;
        if (l > cnt) return lc_fail(LC_ERR_FORMAT, "stream ends early (symbol %zu of %zu)", i, n);
        out[i++] = (uint8_t)(e >> 4);
        buf >>= l;
        cnt -= l;
    }
    return check_end(in, size, (uint64_t)(p - in) * 8 - (uint64_t)cnt);
bad_code:
    return lc_fail(LC_ERR_FORMAT, "invalid code at bit %llu (symbol %zu of %zu)",
                   (unsigned long long)((uint64_t)(p - in) * 8 - (uint64_t)cnt), i, n);
}

/* ---- whole streams ---- */

size_t lc_huff_stream_size(const uint64_t *hist, const uint8_t *len, int w)
{
    return lc_huff_table_size(len, w) + (size_t)((lc_huff_coded_bits(hist, len, 1 << w) + 7) / 8);
}

size_t lc_huff_stream_write(const uint8_t *sym, size_t n, const uint8_t *len, int w, uint8_t *out)
{
    uint8_t full[LC_HUFF_MAX_SYMBOLS] = {0};
    memcpy(full, len, (size_t)1 << w);
    size_t k = lc_huff_table_write(full, w, out);
    lc_huff_encoder e;
    lc_huff_encoder_init(&e, full);
    return k + lc_huff_encode(&e, sym, n, out + k);
}

lc_status lc_huff_stream_read(const uint8_t *in, size_t size, int w, uint8_t *out, size_t n)
{
    uint8_t len[LC_HUFF_MAX_SYMBOLS];
    size_t used;
    lc_status s = lc_huff_table_read(in, size, w, len, &used);
    if (s) return s;
    lc_huff_decoder d;
    if ((s = lc_huff_decoder_init(&d, len))) return s;
    s = lc_huff_decode(&d, in + used, size - used, out, n);
    if (s) lc_fail_prefix(s, "after a %zu-byte code table", used);
    lc_huff_decoder_clear(&d);
    return s;
}

/* ---- raw bit-packing ---- */

size_t lc_bits_pack(const uint8_t *sym, size_t n, int w, uint8_t *out)
{
    size_t bytes = (n * (size_t)w + 7) / 8;
    if (w == 8) {
        if (n) memcpy(out, sym, n);
        return n;
    }
    memset(out, 0, bytes);
    size_t bit = 0;
    for (size_t i = 0; i < n; i++, bit += (size_t)w) {
        unsigned v = sym[i] & ((1u << w) - 1);
        out[bit / 8] |= (uint8_t)(v << (bit % 8));
        if (bit % 8 + (size_t)w > 8) out[bit / 8 + 1] |= (uint8_t)(v >> (8 - bit % 8));
    }
    return bytes;
}

lc_status lc_bits_unpack(const uint8_t *in, size_t size, int w, uint8_t *out, size_t n)
{
    if (w < 1 || w > 8) return lc_fail(LC_ERR_FORMAT, "symbol width %d bits (1..8)", w);
    if (n > SIZE_MAX / 8) return lc_fail(LC_ERR_FORMAT, "%zu symbols", n);
    lc_status s = check_end(in, size, (uint64_t)n * (uint64_t)w);
    if (s) return s;
    if (w == 8) {
        if (n) memcpy(out, in, n);
        return LC_OK;
    }
    unsigned mask = (1u << w) - 1;
    size_t bit = 0;
    for (size_t i = 0; i < n; i++, bit += (size_t)w) {
        unsigned v = in[bit / 8] >> (bit % 8);
        if (bit % 8 + (size_t)w > 8) v |= (unsigned)in[bit / 8 + 1] << (8 - bit % 8);
        out[i] = (uint8_t)(v & mask);
    }
    return LC_OK;
}
