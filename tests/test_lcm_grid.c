/* .lcm format 3.0's savings (issue 15): float vectors on the 8-bit grid
 * (lc_grid8_round / lc_grid8_find) stored a byte a value and decoded to the
 * same bits, coded weights' parameters in float16, and the GRAPH deflated
 * against the preset dictionary; and the
 * refusals that keep them to 3.0 files: a grid record or a dictionary in
 * a file that says 2.0, a zlib stream that asks for another dictionary,
 * damaged grid records. */
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

static uint64_t rng_state = 777;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* The grid's properties, checked in double precision: each rounded value
 * moved by at most half a step of max|v| / 127 (and the float rounding of
 * the product), lies on the grid lc_grid8_find reports (q * scale rounded
 * to float for an integer q, |q| <= 127, the decoder's arithmetic: a float
 * times a small integer is exact in double), and rounding again moves
 * nothing. */
START_TEST(grid_properties)
{
    float v[300], orig[300];
    for (int trial = 0; trial < 2000; trial++) {
        int n = 1 + (int)(uniform() * 299);
        double mag = pow(10.0, -6 + 9 * uniform());
        for (int i = 0; i < n; i++) orig[i] = v[i] = (float)((uniform() * 2 - 1) * mag);
        if (trial % 7 == 0) v[0] = orig[0] = 0; /* exact zeros stay +0.0 */
        double m = 0;
        for (int i = 0; i < n; i++) m = fmax(m, fabs(orig[i]));
        lc_grid8_round(v, n);
        float s;
        if (m == 0) { /* all zeros: no grid, nothing moved */
            ck_assert(!lc_grid8_find(v, n, &s) && v[0] == 0 && !signbit(v[0]));
            continue;
        }
        ck_assert_msg(lc_grid8_find(v, n, &s), "trial %d: rounded vector not found on a grid", trial);
        for (int i = 0; i < n; i++) {
            double q = nearbyint((double)v[i] / s);
            if (fabs(q) > 127 || v[i] != (float)(q * (double)s))
                ck_abort_msg("trial %d element %d: %.9g is not q * %.9g", trial, i, (double)v[i], (double)s);
            if (fabs((double)v[i] - orig[i]) > m / 127 * 0.5 * (1 + 1e-5) + fabs((double)v[i]) * 0x1p-24)
                ck_abort_msg("trial %d element %d: moved %.9g, step %.9g", trial, i, fabs((double)v[i] - orig[i]),
                             m / 127);
            if (v[i] == 0 && signbit(v[i])) ck_abort_msg("trial %d element %d: -0.0", trial, i);
        }
        ck_assert_int_eq(lc_grid8_round(v, n), 0);
    }
    /* random floats are (almost surely) on no grid; zeros and NaN never */
    for (int i = 0; i < 64; i++) v[i] = (float)(uniform() - 0.5);
    float s;
    ck_assert(!lc_grid8_find(v, 64, &s));
    memset(v, 0, sizeof v);
    ck_assert(!lc_grid8_find(v, 64, &s));
    ck_assert_int_eq(lc_grid8_round(v, 64), 0);
    v[3] = NAN;
    ck_assert(!lc_grid8_find(v, 64, &s));
}
END_TEST

/* LeNet-5 after huffman:small=i8: its Conv/Gemm biases are on the grid;
 * written, they are UNIFORM records without encoding (5 bytes of scale and
 * zero point and a byte a value), and they load back as plain float
 * tensors with the same bits. Returns the file. */
static void *grid_file(size_t *len, const char *small)
{
    lc_model *m = load_zoo("lenet5.onnx");
    char params[32];
    snprintf(params, sizeof params, "small=%s", small);
    ck_assert_msg(lc_pass_run(m, "huffman", params, NULL) == LC_OK, "%s", lc_last_error());
    void *buf;
    ck_assert_msg(lc_model_save_lcm_buffer(m, NULL, &buf, len) == LC_OK, "%s", lc_last_error());
    lc_model *back;
    ck_assert_msg(lc_model_load_lcm_buffer(buf, *len, "g.lcm", &back) == LC_OK, "%s", lc_last_error());
    lc_lcm_accounting acc;
    ck_assert_int_eq(lc_lcm_accounting_compute(buf, *len, &acc), LC_OK);
    int grids = 0;
    for (int i = 0; i < acc.n_tensors; i++) {
        lc_tensor *a = NULL, *b = NULL;
        for (int k = 0; k < m->graph->n_inits; k++)
            if (!strcmp(m->graph->inits[k]->name, acc.tensors[i].name)) a = m->graph->inits[k];
        for (int k = 0; k < back->graph->n_inits; k++)
            if (!strcmp(back->graph->inits[k]->name, acc.tensors[i].name)) b = back->graph->inits[k];
        ck_assert(a && b && a->nbytes == b->nbytes);
        ck_assert_msg(!memcmp(a->data, b->data, a->nbytes), "tensor '%s' decodes to other bits", a->name);
        ck_assert_int_eq(a->enc == NULL, b->enc == NULL);
        if (acc.tensors[i].store == LC_LCM_STORE_UNIFORM && !b->enc) {
            grids++;
            ck_assert_int_eq(acc.tensors[i].bytes, 1 + 1 + 1 + 5 + 1 + lc_put_varint(NULL, (uint64_t)acc.tensors[i].numel) +
                                                       acc.tensors[i].numel);
        }
    }
    if (!strcmp(small, "i8")) ck_assert_int_eq(grids, 5); /* 2 Conv + 3 Gemm biases */
    else ck_assert_int_eq(grids, 0);
    lc_lcm_accounting_clear(&acc);
    lc_model_free(back);
    lc_model_free(m);
    return buf;
}

START_TEST(grid_records_roundtrip)
{
    size_t l8, l16;
    void *b8 = grid_file(&l8, "i8"), *b16 = grid_file(&l16, "f16");
    /* LeNet-5's biases: 6 + 16 + 120 + 84 + 10 values, 2 bytes each as f16 */
    ck_assert_uint_lt(l8, l16 - 236 + 5 * 8);
    free(b8);
    free(b16);
}
END_TEST

/* Section (type, body offset, body length) of a 2.0/3.0 file. */
static int find_section(const uint8_t *b, size_t len, uint64_t want, size_t *head, size_t *body, uint64_t *n)
{
    size_t at = LC_LCM_HEADER2_SIZE;
    while (at < len) {
        uint64_t type;
        size_t a = lc_get_varint(b + at, b + len, &type), c = lc_get_varint(b + at + a, b + len, n);
        ck_assert(a && c);
        if (type == want) {
            *head = at;
            *body = at + a + c;
            return 1;
        }
        at += a + c + *n;
    }
    return 0;
}

/* The file with its GRAPH re-deflated: dict 0 none, 1 the format's, 2 a
 * foreign one; major as given; CRC resealed. Returns the new length. */
static size_t regraph(const uint8_t *b, size_t len, int dict, int major, uint8_t *out)
{
    size_t head, body;
    uint64_t glen;
    ck_assert(find_section(b, len, LC_LCM_SEC_GRAPH, &head, &body, &glen));
    uint64_t u = 0;
    size_t k = lc_get_varint(b + body, b + body + glen, &u);
    uint8_t *skel = malloc(u);
    z_stream z = {0};
    ck_assert_int_eq(inflateInit(&z), Z_OK);
    z.next_in = (Bytef *)(b + body + k);
    z.avail_in = (uInt)(glen - k);
    z.next_out = skel;
    z.avail_out = (uInt)u;
    int r = inflate(&z, Z_FINISH);
    if (r == Z_NEED_DICT) {
        ck_assert_int_eq(inflateSetDictionary(&z, lc_lcm_graph_dict, lc_lcm_graph_dict_len), Z_OK);
        r = inflate(&z, Z_FINISH);
    }
    ck_assert_int_eq(r, Z_STREAM_END);
    inflateEnd(&z);
    uint8_t zbuf[65536];
    z_stream d = {0};
    ck_assert_int_eq(deflateInit(&d, 9), Z_OK);
    static const char foreign[] = "Conv Relu Gemm weight bias output";
    if (dict == 1) ck_assert_int_eq(deflateSetDictionary(&d, lc_lcm_graph_dict, lc_lcm_graph_dict_len), Z_OK);
    if (dict == 2) ck_assert_int_eq(deflateSetDictionary(&d, (const Bytef *)foreign, sizeof foreign - 1), Z_OK);
    d.next_in = skel;
    d.avail_in = (uInt)u;
    d.next_out = zbuf;
    d.avail_out = sizeof zbuf;
    ck_assert_int_eq(deflate(&d, Z_FINISH), Z_STREAM_END);
    size_t zl = d.total_out;
    deflateEnd(&d);
    free(skel);
    size_t o = head;
    memcpy(out, b, head);
    o += lc_put_varint(out + o, LC_LCM_SEC_GRAPH);
    o += lc_put_varint(out + o, lc_put_varint(NULL, u) + zl);
    o += lc_put_varint(out + o, u);
    memcpy(out + o, zbuf, zl);
    o += zl;
    memcpy(out + o, b + body + glen, len - (body + glen));
    o += len - (body + glen);
    lc_put16(out + 8, (uint16_t)major);
    lc_lcm_reseal(out, o);
    return o;
}

static void refused(const uint8_t *b, size_t len, const char *why)
{
    lc_model *m = NULL;
    lc_status s = lc_model_load_lcm_buffer(b, len, "bad.lcm", &m);
    ck_assert_msg(s == LC_ERR_FORMAT && !m, "accepted (%s)", why);
    ck_assert_msg(strstr(lc_last_error(), why), "'%s' not in: %s", why, lc_last_error());
}

static void accepted(const uint8_t *b, size_t len)
{
    lc_model *m = NULL;
    ck_assert_msg(lc_model_load_lcm_buffer(b, len, "ok.lcm", &m) == LC_OK, "%s", lc_last_error());
    lc_model_free(m);
}

/* Offset of the record of tensor `name` (the accounting's order is the
 * records' order). */
static size_t record_of(const uint8_t *b, size_t len, const char *name)
{
    size_t head, body;
    uint64_t n;
    ck_assert(find_section(b, len, LC_LCM_SEC_TENSORS, &head, &body, &n));
    lc_lcm_accounting acc;
    ck_assert_int_eq(lc_lcm_accounting_compute(b, len, &acc), LC_OK);
    size_t at = body;
    for (int i = 0; i < acc.n_tensors && strcmp(acc.tensors[i].name, name); i++) at += (size_t)acc.tensors[i].bytes;
    lc_lcm_accounting_clear(&acc);
    return at;
}

START_TEST(hostile_grid_and_dictionary)
{
    size_t len;
    uint8_t *b = grid_file(&len, "i8");
    uint8_t *c = malloc(len + 65536);
    /* the same file with a plain GRAPH still reads as 3.0 */
    size_t n = regraph(b, len, 0, LC_LCM_MAJOR, c);
    accepted(c, n);
    /* ... but as 2.0 the grid record is refused */
    n = regraph(b, len, 0, LC_LCM_MAJOR_V2, c);
    refused(c, n, "without the ENCODING flag");
    /* a GRAPH with the dictionary is refused in 2.0, one with a foreign
     * dictionary in 3.0 */
    n = regraph(b, len, 1, LC_LCM_MAJOR_V2, c);
    refused(c, n, "bad deflate stream");
    n = regraph(b, len, 2, LC_LCM_MAJOR, c);
    refused(c, n, "bad deflate stream");
    n = regraph(b, len, 1, LC_LCM_MAJOR, c);
    accepted(c, n);
    /* a grid record with a channel axis or a sparsity kind */
    size_t rec = record_of(b, len, "features.0.bias");
    ck_assert_int_eq(b[rec], LC_LCM_UNIFORM);
    ck_assert_int_eq(b[rec + 1], 8);
    ck_assert_int_eq(b[rec + 2], 0);
    memcpy(c, b, len);
    c[rec + 2] = 1; /* axis 0: 6 channels of parameters, so the layout breaks */
    lc_lcm_reseal(c, len);
    refused(c, len, "TENSORS record");
    memcpy(c, b, len);
    c[rec] |= LC_LCM_SPARSE_BITMAP << 3;
    lc_lcm_reseal(c, len);
    refused(c, len, "TENSORS record");
    /* a zero point outside 8 bits cannot occur (u8); a scale of NaN or 0
     * decodes to what it says, and the decoded model still verifies */
    memcpy(c, b, len);
    lc_putf32(c + rec + 3, NAN);
    lc_lcm_reseal(c, len);
    lc_model *m = NULL;
    ck_assert_int_eq(lc_model_load_lcm_buffer(c, len, "nan.lcm", &m), LC_OK);
    ck_assert_int_eq(lc_model_verify_encodings(m), LC_OK);
    lc_model_free(m);
    free(c);
    free(b);
}
END_TEST

/* huffman:small=i8 after each coding pass: the weights' scales, centroids
 * or alphas become float16 values (every element still decodes from them:
 * lc_model_verify_encodings), their records carry the float16 flag and
 * 2-byte parameters, and the file loads back to the same bits. A 2.0 file
 * with the flag, or the flag on a plain float record, is refused. */
START_TEST(half_params_roundtrip)
{
    /* (UNIFORM scales take the same path; its passes need calibration data) */
    static const char *coders[] = {"quantize-kmeans", "binarize"};
    static const char *params[] = {"bits=3,correct=none", "correct=none"};
    for (int k = 0; k < 2; k++) {
        lc_model *m = load_zoo("lenet5.onnx");
        ck_assert_msg(lc_pass_run(m, "prune-magnitude", "sparsity=0.5", NULL) == LC_OK, "%s", lc_last_error());
        ck_assert_msg(lc_pass_run(m, coders[k], params[k], NULL) == LC_OK, "%s", lc_last_error());
        ck_assert_msg(lc_pass_run(m, "huffman", "small=i8", NULL) == LC_OK, "%s", lc_last_error());
        ck_assert_int_eq(lc_model_verify_encodings(m), LC_OK);
        void *vb;
        size_t len;
        ck_assert_int_eq(lc_model_save_lcm_buffer(m, NULL, &vb, &len), LC_OK);
        uint8_t *b = vb;
        lc_model *back;
        ck_assert_msg(lc_model_load_lcm_buffer(b, len, "h.lcm", &back) == LC_OK, "%s", lc_last_error());
        int halves = 0;
        for (int i = 0; i < m->graph->n_inits; i++) {
            const lc_tensor *a = m->graph->inits[i], *c = back->graph->inits[i];
            ck_assert(a->nbytes == c->nbytes && !memcmp(a->data, c->data, a->nbytes));
            if (!a->enc || a->enc->kind == LC_ENC_DENSE) continue;
            size_t rec = record_of(b, len, a->name);
            ck_assert_msg(b[rec + 1] & LC_LCM_BITS_HALF_PARAMS, "%s: %s's parameters not float16", coders[k], a->name);
            const float *pa = a->enc->kind == LC_ENC_UNIFORM ? a->enc->scale
                            : a->enc->kind == LC_ENC_CODEBOOK ? a->enc->codebook : a->enc->alpha;
            const float *pc = c->enc->kind == LC_ENC_UNIFORM ? c->enc->scale
                            : c->enc->kind == LC_ENC_CODEBOOK ? c->enc->codebook : c->enc->alpha;
            int64_t n = a->enc->kind == LC_ENC_CODEBOOK ? a->enc->channels * a->enc->n_codes : a->enc->channels;
            for (int64_t j = 0; j < n; j++) {
                uint16_t h;
                ck_assert(lc_half_from_float(pa[j], &h) && !memcmp(&pa[j], &pc[j], 4));
            }
            halves++;
            if (k == 0 && halves == 1) {
                /* the flag in a file that says 2.0: "bits" out of range */
                uint8_t *c2 = malloc(len + 65536);
                size_t n2 = regraph(b, len, 0, LC_LCM_MAJOR_V2, c2);
                refused(c2, n2, "bits");
                free(c2);
            }
        }
        ck_assert_msg(halves >= 3, "%s: %d tensors with float16 parameters", coders[k], halves);
        lc_model_free(back);
        lc_model_free(m);
        free(b);
    }
    /* the flag on an F16 record (with small=f16, LeNet-5's biases) */
    size_t len;
    uint8_t *b = grid_file(&len, "f16");
    size_t rec = record_of(b, len, "features.0.bias");
    ck_assert_int_eq(b[rec] & 7, LC_LCM_F16);
    b[rec + 1] |= LC_LCM_BITS_HALF_PARAMS;
    lc_lcm_reseal(b, len);
    refused(b, len, "float16 parameters");
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lcm_grid");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, grid_properties);
    tcase_add_test(tc, grid_records_roundtrip);
    tcase_add_test(tc, hostile_grid_and_dictionary);
    tcase_add_test(tc, half_params_roundtrip);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
