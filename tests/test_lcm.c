/* .lcm writer/reader: round trip of every encoding kind (with and without
 * masks, per tensor and per channel, entropy-coded or not) bit for bit,
 * identical executor outputs, exact byte accounting, float16 exactness,
 * and corrupt files (every byte flipped, with and without fixed-up CRCs;
 * every truncation): a clean error or a valid model, never a crash. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_encoding.h"
#include "lc_lcm.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* Check writes a record for every passing ck_assert; hot loops use this,
 * which only calls into Check on failure. */
#define REQUIRE(cond) \
    do { \
        if (!(cond)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
    } while (0)

static uint64_t rng_state = 12345;
static double uniform(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* Gives tensor t an encoding of `kind` (codes drawn from its values),
 * pruning a fraction `prune` of its elements (mask) when > 0, and sets the
 * float view to what the encoding decodes to. */
static void encode(lc_tensor *t, int kind, int bits, int axis, double prune, bool entropy)
{
    lc_encoding_free(t->enc);
    t->enc = NULL;
    lc_encoding *e = lc_tensor_encoding(t);
    int64_t n = lc_tensor_numel(t);
    float *v = t->data;
    if (prune > 0) {
        e->mask = malloc((size_t)n);
        for (int64_t i = 0; i < n; i++) e->mask[i] = uniform() >= prune;
    }
    e->entropy_coded = entropy;
    int n_codes = kind == LC_ENC_CODEBOOK ? (1 << bits) - 1 : 0;
    if (kind == LC_ENC_CODEBOOK && n_codes < 1) n_codes = 1;
    if (kind != LC_ENC_DENSE) {
        ck_assert_int_eq(lc_encoding_set_kind(e, t, kind, bits, axis, n_codes), LC_OK);
    } else {
        e->axis = axis;
        e->channels = axis < 0 ? 1 : t->dims[axis];
    }
    for (int64_t c = 0; c < e->channels; c++) {
        if (kind == LC_ENC_UNIFORM) {
            e->scale[c] = (float)(0.01 + 0.02 * uniform());
            e->zero_point[c] = (int32_t)(uniform() * (1 << bits));
        } else if (kind == LC_ENC_CODEBOOK) {
            for (int q = 0; q < n_codes; q++) e->codebook[c * n_codes + q] = (float)(uniform() - 0.5);
        } else if (kind == LC_ENC_BINARY) {
            e->alpha[c] = (float)uniform();
        }
    }
    for (int64_t i = 0; i < n; i++) {
        if (e->mask && !e->mask[i]) {
            v[i] = 0.0f;
            continue;
        }
        if (kind == LC_ENC_DENSE) continue;
        /* skewed codes, so Huffman coding has something to gain */
        int limit = kind == LC_ENC_CODEBOOK ? n_codes : 1 << bits;
        double u = uniform();
        int code = (int)(u * u * limit);
        e->codes[i] = (uint8_t)(code < limit ? code : limit - 1);
        v[i] = lc_encoding_value(e, lc_encoding_channel(e, t, i), e->codes[i]);
    }
    ck_assert_msg(lc_encoding_verify(t) == LC_OK, "%s", lc_last_error());
}

static void same_encoding(const lc_tensor *a, const lc_tensor *b)
{
    const lc_encoding *x = a->enc, *y = b->enc;
    ck_assert_msg(!x == !y, "tensor '%s': encoding presence differs", a->name);
    if (!x) return;
    int64_t n = lc_tensor_numel(a);
    ck_assert_int_eq(x->kind, y->kind);
    ck_assert_int_eq(x->bits, y->bits);
    ck_assert_int_eq(x->axis, y->axis);
    ck_assert_int_eq(x->channels, y->channels);
    ck_assert_int_eq(x->n_codes, y->n_codes);
    ck_assert_int_eq(x->entropy_coded, y->entropy_coded);
    ck_assert(!x->mask == !y->mask);
    if (x->mask)
        for (int64_t i = 0; i < n; i++) REQUIRE(!!x->mask[i] == !!y->mask[i]);
    size_t ch = (size_t)x->channels;
    if (x->kind == LC_ENC_UNIFORM) {
        ck_assert(memcmp(x->scale, y->scale, ch * 4) == 0);
        ck_assert(memcmp(x->zero_point, y->zero_point, ch * 4) == 0);
    }
    if (x->kind == LC_ENC_CODEBOOK) ck_assert(memcmp(x->codebook, y->codebook, ch * (size_t)x->n_codes * 4) == 0);
    if (x->kind == LC_ENC_BINARY) ck_assert(memcmp(x->alpha, y->alpha, ch * 4) == 0);
    if (x->kind != LC_ENC_DENSE)
        for (int64_t i = 0; i < n; i++)
            if (!x->mask || x->mask[i]) REQUIRE(x->codes[i] == y->codes[i]);
}

/* Every stored tensor equal bit for bit (data, dims, encoding), and the
 * whole model serializes to the same ONNX bytes. */
static void same_model(const lc_model *a, const lc_model *b)
{
    lc_stored *sa, *sb;
    int na, nb;
    ck_assert_int_eq(lc_model_stored_tensors(a, &sa, &na), LC_OK);
    ck_assert_int_eq(lc_model_stored_tensors(b, &sb, &nb), LC_OK);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < na; i++) {
        const lc_tensor *x = sa[i].tensor, *y = sb[i].tensor;
        REQUIRE(strcmp(x->name, y->name) == 0);
        REQUIRE(x->dtype == y->dtype && x->ndim == y->ndim && x->nbytes == y->nbytes);
        if (x->nbytes && memcmp(x->data, y->data, x->nbytes) != 0) ck_abort_msg("tensor '%s' differs", x->name);
        same_encoding(x, y);
    }
    free(sa);
    free(sb);
    void *ba, *bb;
    size_t la, lb;
    ck_assert_int_eq(lc_model_save_onnx_buffer(a, &ba, &la), LC_OK);
    ck_assert_int_eq(lc_model_save_onnx_buffer(b, &bb, &lb), LC_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(ba, bb, la) == 0);
    free(ba);
    free(bb);
}

static void same_outputs(const lc_model *a, const lc_model *b)
{
    lc_executor *ea, *eb;
    ck_assert_msg(lc_executor_create_batch(a, 3, 1, &ea) == LC_OK, "%s", lc_last_error());
    ck_assert_int_eq(lc_executor_create_batch(b, 3, 1, &eb), LC_OK);
    lc_array in;
    ck_assert_int_eq(lc_executor_input(ea, 0, &in, NULL), LC_OK);
    int64_t n = 1;
    for (int d = 0; d < in.ndim; d++) n *= in.dims[d];
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)uniform();
    in.data = x;
    ck_assert_int_eq(lc_executor_run(ea, &in, 1), LC_OK);
    ck_assert_int_eq(lc_executor_run(eb, &in, 1), LC_OK);
    lc_array oa, ob;
    ck_assert_int_eq(lc_executor_output(ea, 0, &oa, NULL), LC_OK);
    ck_assert_int_eq(lc_executor_output(eb, 0, &ob, NULL), LC_OK);
    int64_t m = 1;
    for (int d = 0; d < oa.ndim; d++) m *= oa.dims[d];
    ck_assert(memcmp(oa.data, ob.data, (size_t)m * 4) == 0);
    /* and the encodings made a difference: outputs are finite */
    for (int64_t i = 0; i < m; i++) REQUIRE(isfinite(((const float *)oa.data)[i]));
    free(x);
    lc_executor_free(ea);
    lc_executor_free(eb);
}

/* Saves, checks the accounting adds up, loads, compares. Returns the size. */
static size_t roundtrip(const lc_model *m, bool outputs)
{
    void *buf;
    size_t len;
    lc_lcm_meta meta = {"test", "{\"passes\":[]}", "{\"top1\":91.5}"};
    ck_assert_msg(lc_model_save_lcm_buffer(m, &meta, &buf, &len) == LC_OK, "%s", lc_last_error());
    lc_model *back = NULL;
    ck_assert_msg(lc_model_load_lcm_buffer(buf, len, "t.lcm", &back) == LC_OK, "%s", lc_last_error());
    same_model(m, back);
    if (outputs) same_outputs(m, back);
    lc_lcm_accounting acc;
    ck_assert_msg(lc_lcm_accounting_compute(buf, len, &acc) == LC_OK, "%s", lc_last_error());
    int64_t sum = acc.header_bytes + acc.meta_bytes + acc.graph_bytes;
    for (int i = 0; i < acc.n_tensors; i++) {
        sum += acc.tensors[i].bytes;
        int64_t streams = 0;
        for (int k = 0; k < acc.tensors[i].n_streams; k++) {
            streams += acc.tensors[i].streams[k].bytes;
            /* no coded stream beats its entropy bound */
            const lc_lcm_stream_info *si = &acc.tensors[i].streams[k];
            REQUIRE(8.0 * (double)(si->bytes - si->table_bytes) + 1e-6 >= si->entropy_bits);
        }
        REQUIRE(streams <= acc.tensors[i].bytes);
    }
    ck_assert_int_eq(sum, (int64_t)len);
    ck_assert_int_eq(acc.file_bytes, (int64_t)len);
    lc_lcm_accounting_clear(&acc);
    char *json;
    ck_assert_int_eq(lc_lcm_meta_read(buf, len, &json), LC_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"recipe\":{\"passes\":[]}"));
    ck_assert_ptr_nonnull(strstr(json, "\"top1\":91.5"));
    free(json);
    lc_model_free(back);
    free(buf);
    return len;
}

START_TEST(plain_model_roundtrip)
{
    lc_model *m = load_zoo("lenet5.onnx");
    size_t len = roundtrip(m, true);
    void *onnx;
    size_t olen;
    ck_assert_int_eq(lc_model_save_onnx_buffer(m, &onnx, &olen), LC_OK);
    ck_assert_uint_lt(len, olen + 1024); /* float32 stays float32: about the same size */
    free(onnx);
    lc_model_free(m);
}
END_TEST

START_TEST(every_encoding_kind)
{
    lc_model *m = load_zoo("lenet5.onnx");
    lc_weight *w;
    int n;
    ck_assert_int_eq(lc_weight_targets(m, NULL, &w, &n), LC_OK);
    ck_assert_int_ge(n, 3);
    static const int kinds[] = {LC_ENC_DENSE, LC_ENC_UNIFORM, LC_ENC_CODEBOOK, LC_ENC_BINARY};
    static const double prunes[] = {0, 0.3, 0.97};
    int cases = 0;
    for (int k = 0; k < 4; k++)
        for (int p = 0; p < 3; p++)
            for (int ent = 0; ent < 2; ent++)
                for (int per_ch = 0; per_ch < 2; per_ch++) {
                    int bits = kinds[k] == LC_ENC_BINARY ? 1 : 1 + (cases % 8);
                    for (int i = 0; i < n; i++)
                        encode(w[i].tensor, kinds[(k + i) % 4], kinds[(k + i) % 4] == LC_ENC_BINARY ? 1 : bits,
                               per_ch ? w[i].out_axis : -1, prunes[(p + i) % 3], ent);
                    roundtrip(m, cases % 6 == 0);
                    cases++;
                }
    /* a mask that keeps everything, and a fully pruned tensor */
    encode(w[0].tensor, LC_ENC_UNIFORM, 4, -1, 1e-12, true);
    encode(w[1].tensor, LC_ENC_CODEBOOK, 2, -1, 1.0, true);
    roundtrip(m, true);
    free(w);
    lc_model_free(m);
}
END_TEST

START_TEST(compact_sizes)
{
    /* 90% pruned, 4-bit codebook, entropy-coded: far below float32 */
    lc_model *m = load_zoo("lenet5.onnx");
    lc_weight *w;
    int n;
    ck_assert_int_eq(lc_weight_targets(m, NULL, &w, &n), LC_OK);
    int64_t params = 0;
    for (int i = 0; i < n; i++) {
        encode(w[i].tensor, LC_ENC_CODEBOOK, 4, -1, 0.9, true);
        params += lc_tensor_numel(w[i].tensor);
    }
    size_t len = roundtrip(m, true);
    /* 10% kept x (<= 4 bits of code + <= 8 bits of gap) + overhead */
    ck_assert_uint_lt(len, (size_t)(params * 0.1 * 12 / 8) + 40000);
    free(w);
    lc_model_free(m);
}
END_TEST

START_TEST(float16_only_when_exact)
{
    uint16_t h;
    ck_assert(lc_half_from_float(1.0f, &h) && h == 0x3c00);
    ck_assert(lc_half_from_float(-2.0f, &h) && h == 0xc000);
    ck_assert(lc_half_from_float(65504.0f, &h) && h == 0x7bff);
    ck_assert(lc_half_from_float(5.9604644775390625e-08f, &h) && h == 0x0001); /* smallest subnormal */
    ck_assert(lc_half_from_float(-0.0f, &h) && h == 0x8000);
    ck_assert(lc_half_from_float(INFINITY, &h) && h == 0x7c00);
    ck_assert(!lc_half_from_float(0.1f, &h));
    ck_assert(!lc_half_from_float(65536.0f, &h));
    ck_assert(!lc_half_from_float(2.9802322387695312e-08f, &h)); /* half the smallest subnormal */
    ck_assert(!lc_half_from_float(1.0f + 1.0f / 4096, &h));
    /* every half converts back exactly (NaNs aside) */
    for (uint32_t x = 0; x < 65536; x++) {
        float f = lc_half_to_float((uint16_t)x);
        if (isnan(f)) continue;
        REQUIRE(lc_half_from_float(f, &h) && h == x);
    }
    /* a model whose weights are halves: stored as F16 (half the bytes) */
    lc_model *m = load_zoo("lenet5.onnx");
    lc_stored *st;
    int n;
    ck_assert_int_eq(lc_model_stored_tensors(m, &st, &n), LC_OK);
    int64_t fbytes = 0;
    for (int i = 0; i < n; i++) {
        lc_tensor *t = st[i].tensor;
        if (t->dtype != LC_DTYPE_FLOAT) continue;
        float *v = t->data;
        for (int64_t k = 0; k < lc_tensor_numel(t); k++) v[k] = lc_half_to_float((uint16_t)(0x3000 + (k % 4000)));
        fbytes += (int64_t)t->nbytes;
    }
    free(st);
    void *plain;
    size_t plain_len;
    ck_assert_int_eq(lc_model_save_onnx_buffer(m, &plain, &plain_len), LC_OK);
    size_t len = roundtrip(m, false);
    ck_assert_uint_lt(len, plain_len - (size_t)fbytes / 2 + 4096);
    free(plain);
    lc_model_free(m);
}
END_TEST

/* A small .lcm: lenet5 with every kind of encoding, heavily pruned. */
static void small_lcm(void **buf, size_t *len)
{
    lc_model *m = load_zoo("lenet5.onnx");
    lc_weight *w;
    int n;
    ck_assert_int_eq(lc_weight_targets(m, NULL, &w, &n), LC_OK);
    static const int kinds[] = {LC_ENC_UNIFORM, LC_ENC_CODEBOOK, LC_ENC_BINARY, LC_ENC_DENSE};
    for (int i = 0; i < n; i++) encode(w[i].tensor, kinds[i % 4], kinds[i % 4] == LC_ENC_BINARY ? 1 : 3, i % 2 ? w[i].out_axis : -1, 0.985, i % 2 == 0);
    free(w);
    ck_assert_int_eq(lc_model_save_lcm_buffer(m, NULL, buf, len), LC_OK);
    lc_model_free(m);
}

/* Loads a damaged file: either a clean LC_ERR_FORMAT/UNSUPPORTED with a
 * message, or a model whose encodings verify. Returns 1 when rejected. */
static int try_load(const uint8_t *b, size_t len)
{
    lc_model *m = NULL;
    lc_status s = lc_model_load_lcm_buffer(b, len, "bad.lcm", &m);
    if (s) {
        if (!(s == LC_ERR_FORMAT || s == LC_ERR_UNSUPPORTED) || m || !strstr(lc_last_error(), "bad.lcm"))
            ck_abort_msg("status %s: %s", lc_status_name(s), lc_last_error());
        return 1;
    }
    if (lc_model_verify_encodings(m) != LC_OK || lc_model_verify(m, "x") != LC_OK) ck_abort_msg("%s", lc_last_error());
    lc_model_free(m);
    return 0;
}

START_TEST(corrupt_files)
{
    void *vbuf;
    size_t len;
    small_lcm(&vbuf, &len);
    uint8_t *buf = vbuf, *copy = malloc(len);
    /* every truncation */
    for (size_t cut = 0; cut < len; cut++) REQUIRE(try_load(buf, cut) == 1);
    /* every byte flipped: the CRCs catch each one */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0xff;
        REQUIRE(try_load(buf, len) == 1);
        buf[i] ^= 0xff;
    }
    /* every byte flipped behind fixed-up CRCs (every 3rd byte of streams,
     * where the decoders see the same kind of damage over and over) */
    int accepted = 0;
    size_t checked = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t bits = (uint8_t)(1u << (i % 8));
        if (i > 2048 && i % 3) continue;
        memcpy(copy, buf, len);
        copy[i] ^= bits;
        lc_lcm_reseal(copy, len);
        accepted += !try_load(copy, len);
        checked++;
    }
    /* damage to float values or codebooks yields valid (different) models */
    ck_assert_int_gt(accepted, 0);
    ck_assert_int_lt(accepted, (int)checked);
    /* the intact file still loads */
    ck_assert_int_eq(try_load(buf, len), 0);
    free(copy);
    free(buf);
}
END_TEST

/* File offset of the first record of a format 2.0/3.0 file's TENSORS section. */
static size_t first_record(const uint8_t *b, size_t len)
{
    size_t at = LC_LCM_HEADER2_SIZE;
    while (at < len) {
        uint64_t type, n;
        size_t a = lc_get_varint(b + at, b + len, &type), c = lc_get_varint(b + at + a, b + len, &n);
        ck_assert(a && c);
        if (type == LC_LCM_SEC_TENSORS) return at + a + c;
        at += a + c + n;
    }
    ck_abort_msg("no TENSORS section");
    return 0;
}

START_TEST(error_messages)
{
    void *vbuf;
    size_t len;
    small_lcm(&vbuf, &len);
    uint8_t *b = vbuf;
    lc_model *m;
    ck_assert_int_eq(lc_get16(b + 8), LC_LCM_MAJOR);
    ck_assert_int_eq(lc_model_load_lcm_buffer(b, len - 1, "x.lcm", &m), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "truncated"));
    b[len - 1] ^= 1;
    ck_assert_int_eq(lc_model_load_lcm_buffer(b, len, "x.lcm", &m), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "CRC mismatch"));
    b[len - 1] ^= 1;
    /* a bad record behind a valid CRC: the message names the record */
    size_t rec = first_record(b, len);
    uint8_t keep = b[rec];
    b[rec] = (uint8_t)((keep & ~7) | 7);
    lc_lcm_reseal(b, len);
    ck_assert_int_eq(lc_model_load_lcm_buffer(b, len, "x.lcm", &m), LC_ERR_FORMAT);
    ck_assert_msg(strstr(lc_last_error(), "TENSORS record 0"), "%s", lc_last_error());
    ck_assert_msg(strstr(lc_last_error(), "unknown store kind 7"), "%s", lc_last_error());
    b[rec] = keep;
    lc_put16(b + 8, LC_LCM_MAJOR + 1);
    lc_lcm_reseal(b, len);
    ck_assert_int_eq(lc_model_load_lcm_buffer(b, len, "x.lcm", &m), LC_ERR_UNSUPPORTED);
    lc_put16(b + 8, LC_LCM_MAJOR);
    lc_lcm_reseal(b, len);
    ck_assert_int_eq(lc_model_load_lcm_buffer(b, len, "x.lcm", &m), LC_OK);
    lc_model_free(m);
    ck_assert(!lc_lcm_is("PK\3\4abcd", 8));
    free(b);
}
END_TEST

/* Varints: round trip at the edges, and refusal of truncated or overlong
 * ones. */
START_TEST(varints)
{
    static const uint64_t v[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t buf[10];
        size_t n = lc_put_varint(buf, v[i]);
        ck_assert_uint_eq(n, lc_put_varint(NULL, v[i]));
        uint64_t back = 0;
        ck_assert_uint_eq(lc_get_varint(buf, buf + n, &back), n);
        ck_assert(back == v[i]);
        ck_assert_uint_eq(lc_get_varint(buf, buf + n - 1, &back), 0);
    }
    uint8_t over[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0};
    uint64_t x;
    ck_assert_uint_eq(lc_get_varint(over, over + 11, &x), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lcm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, plain_model_roundtrip);
    tcase_add_test(tc, every_encoding_kind);
    tcase_add_test(tc, compact_sizes);
    tcase_add_test(tc, float16_only_when_exact);
    tcase_add_test(tc, corrupt_files);
    tcase_add_test(tc, error_messages);
    tcase_add_test(tc, varints);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
