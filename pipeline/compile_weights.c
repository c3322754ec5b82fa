/* shrink compile: weight tensors -> micro/ mc_weights (static const
 * arrays in the .lcm encodings: bit-packed or Huffman-coded codes, bitmap
 * or gap-coded sparsity, per-row scales / codebooks / alphas). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "lc_encoding.h"
#include "lc_huffman.h"

/* One coded stream, ready to print. */
typedef struct stream {
    uint8_t *bytes;         /* raw packing or Huffman bits */
    size_t n_bytes;
    bool huff;
    uint8_t count[16];      /* Huffman: codes per length */
    uint8_t sym[256];       /* Huffman: symbols in canonical order */
    int n_sym;
    int w;
} stream;

static size_t stream_size(const stream *s)
{
    return s->n_bytes + 1 + (s->huff ? 16u + (size_t)s->n_sym : 0u);
}

/* Codes sym[0..n) of w bits: raw, or Huffman when allowed and smaller. */
static lc_status stream_make(const uint8_t *sym, size_t n, int w, bool huff_ok, stream *s)
{
    memset(s, 0, sizeof *s);
    s->w = w;
    size_t raw = (n * (size_t)w + 7) / 8;
    uint8_t len[256] = {0};
    if (huff_ok && w >= 2 && n > 0) {
        uint64_t hist[256] = {0};
        lc_huff_histogram(sym, n, hist);
        if (lc_huff_lengths(hist, 1 << w, LC_HUFF_MAX_LEN, len) == LC_OK) {
            int counts[16] = {0}, used = 0;
            for (int k = 0; k < (1 << w); k++)
                if (len[k]) counts[len[k]]++, used++;
            size_t bits = (size_t)lc_huff_coded_bits(hist, len, 1 << w);
            bool fits = true;
            for (int l = 1; l < 16; l++) fits = fits && counts[l] < 256;
            if (fits && (bits + 7) / 8 + 16 + (size_t)used < raw) {
                s->huff = true;
                for (int l = 1; l < 16; l++) s->count[l] = (uint8_t)counts[l];
                for (int l = 1; l < 16; l++)
                    for (int k = 0; k < (1 << w); k++)
                        if (len[k] == l) s->sym[s->n_sym++] = (uint8_t)k;
                s->n_bytes = (bits + 7) / 8;
            }
        }
    }
    if (!s->huff) s->n_bytes = raw;
    s->bytes = calloc(s->n_bytes + 1, 1);
    if (!s->bytes) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    if (s->huff) {
        lc_huff_encoder e;
        lc_huff_encoder_init(&e, len);
        lc_huff_encode(&e, sym, n, s->bytes);
    } else {
        lc_bits_pack(sym, n, w, s->bytes);
    }
    return LC_OK;
}

static void emit_bytes(cc_buf *b, const char *ctype, const char *name, const uint8_t *x, size_t n)
{
    cc_printf(b, "static const %s %s[%zu] = {", ctype, name, n);
    for (size_t i = 0; i < n; i++) cc_printf(b, "%s%d,", i % 24 ? "" : "\n    ", ctype[0] == 'i' ? (int)(int8_t)x[i] : x[i]);
    cc_printf(b, "\n};\n");
}

/* Prints the stream's arrays; init receives its mc_stream initializer. */
static void stream_emit(cc_ctx *c, const stream *s, const char *base, char *init, size_t init_size)
{
    char d[48], hc[48], hs[48];
    snprintf(d, sizeof d, "%s_d", base);
    emit_bytes(&c->data, "uint8_t", d, s->bytes, s->n_bytes + 1); /* + the pad byte */
    if (s->huff) {
        snprintf(hc, sizeof hc, "%s_hc", base);
        snprintf(hs, sizeof hs, "%s_hs", base);
        emit_bytes(&c->data, "uint8_t", hc, s->count, 16);
        emit_bytes(&c->data, "uint8_t", hs, s->sym, (size_t)s->n_sym);
        snprintf(init, init_size, "{%s, %s, %s, %d}", d, hc, hs, s->w);
    } else {
        snprintf(init, init_size, "{%s, NULL, NULL, %d}", d, s->w);
    }
    c->weight_bytes += stream_size(s);
}

/* The cheapest sparsity stream for mask: bitmap, or gaps with b = 1..8
 * (Deep Compression's relative index, formats/LCM.md). */
static lc_status sparsity_make(const uint8_t *mask, size_t numel, bool huff_ok, stream *best, int *kind, int *gap_bits)
{
    uint8_t *sym = malloc(2 * numel + 1);
    if (!sym) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    lc_status s = stream_make(mask, numel, 1, false, best);
    *kind = 1;
    *gap_bits = 0;
    for (int b = 1; s == LC_OK && b <= 8; b++) {
        size_t filler = ((size_t)1 << b) - 1, run = 0, n = 0;
        for (size_t i = 0; i < numel; i++) {
            if (!mask[i]) {
                run++;
                continue;
            }
            for (; run >= filler; run -= filler) sym[n++] = (uint8_t)filler;
            sym[n++] = (uint8_t)run;
            run = 0;
        }
        stream cand;
        s = stream_make(sym, n, b, huff_ok, &cand);
        if (s != LC_OK) break;
        if (stream_size(&cand) < stream_size(best)) {
            free(best->bytes);
            *best = cand;
            *kind = 2;
            *gap_bits = b;
        } else {
            free(cand.bytes);
        }
    }
    free(sym);
    return s;
}

static int bits_for(int n)
{
    int b = 1;
    while ((1 << b) < n) b++;
    return b;
}

/* slot[v + 128] = rank of int8 value v among the distinct kept values of
 * elements lo..hi, -1 when absent; returns their count. */
static int value_ranks(const cc_wmat *w, const uint8_t *mask, int64_t lo, int64_t hi, int16_t *slot)
{
    int k = 0;
    for (int v = 0; v < 256; v++) slot[v] = -1;
    for (int64_t i = lo; i < hi; i++)
        if (!mask || mask[i]) slot[w->i8[i] + 128] = 1;
    for (int v = 0; v < 256; v++)
        if (slot[v] >= 0) slot[v] = (int16_t)k++;
    return k;
}

/* int8 weights as a codebook: per tensor, or per row when that is smaller.
 * book receives rows_in_book * n_codes entries; codes the kept elements'
 * indices. Returns the bytes (book + packed codes). */
static size_t i8_codebook(const cc_wmat *w, const uint8_t *mask, bool per_row, int8_t *book, int *n_codes,
                          uint8_t *codes, size_t *n_kept)
{
    int64_t numel = w->rows * w->row_len, sets = per_row ? w->rows : 1;
    int n = 0;
    int16_t slot[256];
    for (int64_t r = 0; r < sets; r++) {
        int k = value_ranks(w, mask, per_row ? r * w->row_len : 0, per_row ? (r + 1) * w->row_len : numel, slot);
        if (k > n) n = k;
    }
    if (n == 0) n = 1;
    for (int64_t k = 0; k < sets * n; k++) book[k] = 0;
    size_t kept = 0;
    for (int64_t r = 0; r < sets; r++) {
        int64_t lo = per_row ? r * w->row_len : 0, hi = per_row ? lo + w->row_len : numel;
        value_ranks(w, mask, lo, hi, slot);
        for (int v = 0; v < 256; v++)
            if (slot[v] >= 0) book[r * n + slot[v]] = (int8_t)(v - 128);
        for (int64_t i = lo; i < hi; i++)
            if (!mask || mask[i]) codes[kept++] = (uint8_t)slot[w->i8[i] + 128];
    }
    *n_codes = n;
    *n_kept = kept;
    /* the code stream as it will be written (Huffman when smaller) */
    stream st;
    size_t bytes = (kept * (size_t)bits_for(n) + 7) / 8;
    if (stream_make(codes, kept, bits_for(n), true, &st) == LC_OK) bytes = stream_size(&st);
    free(st.bytes);
    return (size_t)(sets * n) + bytes;
}

lc_status cc_emit_weights(cc_ctx *c, const cc_wmat *w, char *name)
{
    int64_t numel = w->rows * w->row_len;
    if (w->rows > 65535 || numel > UINT32_MAX)
        return lc_fail(LC_ERR_UNSUPPORTED, "lc_model_compile: a weight of %lld rows is too large for micro/",
                       (long long)w->rows);
    lc_status s = LC_OK;
    uint8_t *own_mask = NULL, *codes = malloc((size_t)numel + 1);
    int8_t *book = malloc((size_t)numel + 256);
    float *kept_f = malloc(((size_t)numel + 1) * sizeof(float));
    stream vs = {0}, ms = {0};
    if (!codes || !book || !kept_f) {
        s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
        goto done;
    }
    const uint8_t *mask = w->mask;
    bool dense_values = w->i8 || w->kind == LC_ENC_DENSE;
    if (!mask && dense_values) {
        /* zeros of a dense tensor: a sparsity stream when it pays */
        own_mask = malloc((size_t)numel);
        if (!own_mask) {
            s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
            goto done;
        }
        int64_t zeros = 0;
        for (int64_t i = 0; i < numel; i++) {
            own_mask[i] = w->i8 ? w->i8[i] != 0 : w->f32[i] != 0.0f;
            zeros += !own_mask[i];
        }
        if (zeros) {
            int kind, gb;
            s = sparsity_make(own_mask, (size_t)numel, true, &ms, &kind, &gb);
            if (s != LC_OK) goto done;
            size_t saved = (size_t)zeros * (w->i8 ? 1u : 4u);
            if (stream_size(&ms) < saved) mask = own_mask;
            free(ms.bytes);
            memset(&ms, 0, sizeof ms);
        }
    }
    int sparsity = 0, gap_bits = 0;
    if (mask) {
        s = sparsity_make(mask, (size_t)numel, w->entropy || w->i8, &ms, &sparsity, &gap_bits);
        if (s != LC_OK) goto done;
    }
    size_t kept = 0;
    int values, n_codes = 0, bits = 0;
    bool per_row = w->per_row;
    char base[32], f32n[48] = "NULL", i8n[48] = "NULL", zpn[48] = "NULL";
    cc_sym(c, "W", base);
    if (w->i8) {
        /* int8: raw kept bytes, or a per-tensor / per-row codebook */
        size_t raw = 0;
        for (int64_t i = 0; i < numel; i++) raw += !mask || mask[i];
        int8_t *book_row = malloc((size_t)numel + 256);
        uint8_t *codes_row = malloc((size_t)numel + 1);
        if (!book_row || !codes_row) {
            free(book_row), free(codes_row);
            s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
            goto done;
        }
        int nt, nr;
        size_t kt, kr;
        size_t bt = i8_codebook(w, mask, false, book, &nt, codes, &kt);
        size_t br = i8_codebook(w, mask, true, book_row, &nr, codes_row, &kr);
        per_row = br < bt;
        if (per_row) {
            memcpy(book, book_row, (size_t)(w->rows * nr));
            memcpy(codes, codes_row, kr);
            nt = nr, bt = br;
        }
        free(book_row), free(codes_row);
        kept = kt;
        if (raw <= bt) {
            values = MC_VAL_I8;
            per_row = false;
            size_t k = 0;
            for (int64_t i = 0; i < numel; i++)
                if (!mask || mask[i]) book[k++] = w->i8[i];
            snprintf(i8n, sizeof i8n, "%s_v", base);
            emit_bytes(&c->data, "int8_t", i8n, (const uint8_t *)book, k ? k : 1);
            c->weight_bytes += k;
        } else {
            values = MC_VAL_I8_CODEBOOK;
            n_codes = nt;
            bits = bits_for(nt);
            int64_t sets = per_row ? w->rows : 1;
            snprintf(i8n, sizeof i8n, "%s_b", base);
            emit_bytes(&c->data, "int8_t", i8n, (const uint8_t *)book, (size_t)(sets * nt));
            c->weight_bytes += (size_t)(sets * nt);
        }
    } else if (w->kind == LC_ENC_DENSE) {
        values = MC_VAL_F32;
        per_row = false;
        for (int64_t i = 0; i < numel; i++)
            if (!mask || mask[i]) kept_f[kept++] = w->f32[i];
        cc_emit_floats(c, "W", kept_f, (int64_t)kept, f32n);
    } else {
        values = w->kind == LC_ENC_UNIFORM ? MC_VAL_UNIFORM : w->kind == LC_ENC_CODEBOOK ? MC_VAL_CODEBOOK : MC_VAL_BINARY;
        bits = w->bits;
        n_codes = w->kind == LC_ENC_CODEBOOK ? w->n_codes : 0;
        for (int64_t i = 0; i < numel; i++)
            if (!mask || mask[i]) codes[kept++] = w->codes[i];
        int64_t sets = per_row ? w->rows : 1;
        int64_t np = w->kind == LC_ENC_CODEBOOK ? sets * w->n_codes : sets;
        cc_emit_floats(c, "W", w->params, np, f32n);
        if (w->kind == LC_ENC_UNIFORM) {
            uint8_t zp[65536];
            for (int64_t k = 0; k < sets; k++) zp[k] = (uint8_t)w->zero_point[k];
            snprintf(zpn, sizeof zpn, "%s_z", base);
            emit_bytes(&c->data, "uint8_t", zpn, zp, (size_t)sets);
            c->weight_bytes += (size_t)sets;
        }
    }
    char vinit[160] = "{NULL, NULL, NULL, 0}", minit[160] = "{NULL, NULL, NULL, 0}";
    if (values != MC_VAL_F32 && values != MC_VAL_I8) {
        char sb[48];
        snprintf(sb, sizeof sb, "%s_c", base);
        s = stream_make(codes, kept, bits, w->entropy || w->i8, &vs);
        if (s != LC_OK) goto done;
        stream_emit(c, &vs, sb, vinit, sizeof vinit);
    }
    if (mask) {
        char sb[48];
        snprintf(sb, sizeof sb, "%s_m", base);
        stream_emit(c, &ms, sb, minit, sizeof minit);
    }
    cc_printf(&c->data,
              "static const mc_weights %s = {%d, %d, %d, %d, %d, %lld, %lld, %zu, %s, %s, %s,\n    %s,\n    %s};\n",
              base, values, sparsity, gap_bits, per_row ? 1 : 0, n_codes, (long long)w->rows, (long long)w->row_len,
              kept, f32n, i8n, zpn, vinit, minit);
    c->weight_bytes += 52; /* the descriptor itself, on a 32-bit target */
    strcpy(name, base);
done:
    free(vs.bytes);
    free(ms.bytes);
    free(own_mask);
    free(codes);
    free(book);
    free(kept_f);
    return s;
}
