/* Decoding compressed weights row by row, in stream order (see mc.h). */
#include "mc.h"

#include <string.h>

void mc_cursor_init(mc_cursor *c)
{
    memset(c, 0, sizeof *c);
}

static uint32_t read_bit(const uint8_t *d, uint32_t *pos)
{
    uint32_t b = (uint32_t)(d[*pos >> 3] >> (*pos & 7)) & 1u;
    (*pos)++;
    return b;
}

/* Canonical Huffman, one bit at a time: codes of length l are consecutive
 * integers starting at `first`, most significant code bit first. */
static uint32_t read_huffman(const mc_stream *s, uint32_t *pos)
{
    int32_t code = 0, first = 0, index = 0;
    for (int len = 1; len <= 15; len++) {
        code |= (int32_t)read_bit(s->data, pos);
        int32_t count = s->huff_count[len];
        if (code - first < count) return s->huff_sym[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return 0; /* not a code: the compiler never writes one */
}

static uint32_t read_sym(const mc_stream *s, uint32_t *pos)
{
    if (s->huff_count) return read_huffman(s, pos);
    /* two bytes cover any w <= 8 symbol; the stream's pad byte keeps the
     * second read inside the array */
    const uint8_t *p = s->data + (*pos >> 3);
    uint32_t v = ((uint32_t)p[0] | (uint32_t)p[1] << 8) >> (*pos & 7);
    *pos += s->w;
    return v & ((1u << s->w) - 1u);
}

/* Whether the next element is kept (sparse tensors). */
static int next_kept(const mc_weights *w, mc_cursor *c)
{
    if (w->sparsity == MC_SPARSE_BITMAP) return (int)read_sym(&w->mask, &c->mask_bit);
    if (c->gap) {
        c->gap--;
        return 0;
    }
    if (c->then_kept) {
        c->then_kept = 0;
        return 1;
    }
    if (c->kept == w->kept) return 0; /* after the last kept element */
    uint32_t filler = (1u << w->gap_bits) - 1u;
    uint32_t s = read_sym(&w->mask, &c->mask_bit);
    if (s == filler) {
        c->gap = filler - 1u;
        return 0;
    }
    if (s == 0) return 1;
    c->gap = s - 1u;
    c->then_kept = 1;
    return 0;
}

/* Value of the next kept element of row `row` (float kinds). */
static float value_f32(const mc_weights *w, mc_cursor *c, uint32_t row)
{
    uint32_t ch = w->per_row ? row : 0u;
    switch (w->values) {
    case MC_VAL_F32: return w->f32[c->kept];
    case MC_VAL_UNIFORM:
        return (float)((int32_t)read_sym(&w->codes, &c->code_bit) - (int32_t)w->zero_point[ch]) * w->f32[ch];
    case MC_VAL_CODEBOOK: return w->f32[ch * w->n_codes + read_sym(&w->codes, &c->code_bit)];
    case MC_VAL_BINARY: return read_sym(&w->codes, &c->code_bit) ? w->f32[ch] : -w->f32[ch];
    default: return 0.0f;
    }
}

static int32_t value_i8(const mc_weights *w, mc_cursor *c, uint32_t row)
{
    uint32_t ch = w->per_row ? row : 0u;
    if (w->values == MC_VAL_I8) return w->i8[c->kept];
    return w->i8[ch * w->n_codes + read_sym(&w->codes, &c->code_bit)];
}

void mc_row_f32(const mc_weights *w, mc_cursor *c, float *dst)
{
    uint32_t row = c->row++;
    for (uint32_t i = 0; i < w->row_len; i++) {
        if (w->sparsity != MC_SPARSE_NONE && !next_kept(w, c)) {
            dst[i] = 0.0f;
            continue;
        }
        dst[i] = value_f32(w, c, row);
        c->kept++;
    }
}

void mc_row_i8(const mc_weights *w, mc_cursor *c, int8_t *dst)
{
    uint32_t row = c->row++;
    for (uint32_t i = 0; i < w->row_len; i++) {
        if (w->sparsity != MC_SPARSE_NONE && !next_kept(w, c)) {
            dst[i] = 0;
            continue;
        }
        dst[i] = (int8_t)value_i8(w, c, row);
        c->kept++;
    }
}

float mc_row_dot_f32(const mc_weights *w, mc_cursor *c, const float *x)
{
    uint32_t row = c->row++;
    float acc = 0.0f;
    for (uint32_t i = 0; i < w->row_len; i++) {
        if (w->sparsity != MC_SPARSE_NONE && !next_kept(w, c)) continue;
        acc += x[i] * value_f32(w, c, row);
        c->kept++;
    }
    return acc;
}

int32_t mc_row_dot_i8(const mc_weights *w, mc_cursor *c, const int8_t *x, int32_t x_zp)
{
    uint32_t row = c->row++;
    int32_t acc = 0;
    for (uint32_t i = 0; i < w->row_len; i++) {
        if (w->sparsity != MC_SPARSE_NONE && !next_kept(w, c)) continue;
        acc += ((int32_t)x[i] - x_zp) * value_i8(w, c, row);
        c->kept++;
    }
    return acc;
}
