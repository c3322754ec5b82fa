/* The public weight-access API (lc_model_weight*, lc_weight_*): layer
 * enumeration against the ONNX file's contents written out by hand, masks
 * after prune-magnitude against a top-k computed here by sorting, codebooks
 * and uniform codes against the decode formulas evaluated here, and the
 * report against counts taken from the float views. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_testutil.h"

static float *float_view(const lc_model *m, const char *name, int64_t n)
{
    float *w = malloc((size_t)n * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(lc_weight_float_view(m, name, w, n), LC_OK);
    return w;
}

/* Deterministic pseudo-random numbers (an LCG), independent of the library. */
static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_enumerate_lenet300)
{
    lc_model *m = load_zoo("lenet300.onnx");
    static const struct {
        const char *name, *node;
        int64_t d0, d1;
    } expect[] = {
        {"net.1.weight", "/net/net.1/Gemm", 300, 784},
        {"net.3.weight", "/net/net.3/Gemm", 100, 300},
        {"net.5.weight", "/net/net.5/Gemm", 10, 100},
    };
    static const int node_index[] = {1, 3, 5};
    int n = -1;
    ck_assert_int_eq(lc_model_weight_count(m, &n), LC_OK);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < n; i++) {
        lc_weight_info info;
        ck_assert_int_eq(lc_model_weight(m, i, &info), LC_OK);
        ck_assert_str_eq(info.name, expect[i].name);
        ck_assert_str_eq(info.node, expect[i].node);
        ck_assert_str_eq(info.op, "Gemm");
        ck_assert_int_eq(info.node_index, node_index[i]);
        ck_assert_int_eq(info.input, 1);
        ck_assert_int_eq(info.ndim, 2);
        ck_assert_int_eq(info.dims[0], expect[i].d0);
        ck_assert_int_eq(info.dims[1], expect[i].d1);
        ck_assert_int_eq(info.numel, expect[i].d0 * expect[i].d1);
        /* torch exports Linear as Gemm with transB=1: rows are outputs */
        ck_assert_int_eq(info.out_axis, 0);
        ck_assert_int_eq(info.in_axis, 1);
        ck_assert_int_eq(info.encoding, LC_ENCODING_DENSE);
        ck_assert_int_eq(info.bits, 32);
        ck_assert_int_eq(info.has_mask, 0);
        ck_assert_int_eq(info.kept, info.numel);
        ck_assert_double_eq(info.sparsity, 0);
        ck_assert_int_eq(info.n_codes, 0);
    }
    lc_weight_info info;
    ck_assert_int_eq(lc_model_weight(m, 3, &info), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_model_weight(m, -1, &info), LC_ERR_INVALID_ARGUMENT);
    /* a bias is reachable by name but is no layer weight */
    ck_assert_int_eq(lc_weight_find(m, "net.3.bias", &info), LC_OK);
    ck_assert_str_eq(info.op, "");
    ck_assert_int_eq(info.node_index, -1);
    ck_assert_int_eq(info.numel, 100);
    ck_assert_int_eq(lc_weight_find(m, "net.3.weight", &info), LC_OK);
    ck_assert_int_eq(info.node_index, 3);
    ck_assert_int_eq(lc_weight_find(m, "nope", &info), LC_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "nope"));
    float tiny[3];
    ck_assert_int_eq(lc_weight_float_view(m, "net.5.weight", tiny, 3), LC_ERR_SHAPE);
    ck_assert_int_eq(lc_weight_float_view(m, "missing", tiny, 3), LC_ERR_NOT_FOUND);
    lc_model_free(m);
}
END_TEST

/* prune-magnitude at 70% per layer keeps exactly the elements above the
 * k-th smallest magnitude, k = round(0.7 numel). */
START_TEST(test_prune_mask_is_topk)
{
    lc_model *m = load_zoo("lenet300.onnx");
    int n = 0;
    ck_assert_int_eq(lc_model_weight_count(m, &n), LC_OK);
    float *orig[3];
    lc_weight_info info[3];
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(lc_model_weight(m, i, &info[i]), LC_OK);
        orig[i] = float_view(m, info[i].name, info[i].numel);
    }
    ck_assert_int_eq(lc_pass_run(m, "prune-magnitude", "sparsity=0.7,scope=layer", NULL), LC_OK);
    for (int i = 0; i < n; i++) {
        int64_t numel = info[i].numel, k = (int64_t)nearbyint(0.7 * (double)numel);
        float *mag = malloc((size_t)numel * sizeof *mag);
        for (int64_t j = 0; j < numel; j++) mag[j] = fabsf(orig[i][j]);
        qsort(mag, (size_t)numel, sizeof *mag, cmp_float);
        float thr = mag[k - 1];
        ck_assert_msg(mag[k] > thr, "tie at the threshold of %s: pick another sparsity", info[i].name);
        uint8_t *mask = malloc((size_t)numel);
        float *w = float_view(m, info[i].name, numel);
        ck_assert_int_eq(lc_weight_mask(m, info[i].name, mask, numel), LC_OK);
        int64_t kept = 0;
        for (int64_t j = 0; j < numel; j++) {
            int expect = fabsf(orig[i][j]) > thr;
            ck_assert_int_eq(mask[j], expect);
            if (expect) ck_assert(memcmp(&w[j], &orig[i][j], sizeof(float)) == 0);
            else ck_assert(w[j] == 0.0f && !signbit(w[j]));
            kept += expect;
        }
        lc_weight_info after;
        ck_assert_int_eq(lc_model_weight(m, i, &after), LC_OK);
        ck_assert_int_eq(after.has_mask, 1);
        ck_assert_int_eq(after.kept, kept);
        ck_assert_int_eq(after.kept, numel - k);
        ck_assert_double_eq_tol(after.sparsity, (double)k / (double)numel, 1e-12);
        free(mag);
        free(mask);
        free(w);
        free(orig[i]);
    }
    lc_model_free(m);
}
END_TEST

/* A mask written by the caller: read back as written, pruned elements
 * +0.0, kept ones untouched; a new float view stays masked. */
START_TEST(test_set_mask_and_float)
{
    lc_model *m = load_zoo("lenet300.onnx");
    const char *name = "net.3.weight";
    const int64_t numel = 100 * 300;
    float *orig = float_view(m, name, numel);
    uint8_t *mask = malloc(numel), *back = malloc(numel);
    uint32_t st = 7;
    int64_t kept = 0;
    for (int64_t j = 0; j < numel; j++) kept += mask[j] = lcg(&st) % 4 == 0 ? 1 : 0;
    ck_assert_int_eq(lc_weight_set_mask(m, name, mask, numel), LC_OK);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);
    ck_assert_int_eq(lc_weight_mask(m, name, back, numel), LC_OK);
    ck_assert_mem_eq(back, mask, (size_t)numel);
    float *w = float_view(m, name, numel);
    for (int64_t j = 0; j < numel; j++) {
        if (mask[j]) ck_assert(memcmp(&w[j], &orig[j], sizeof(float)) == 0);
        else ck_assert(w[j] == 0.0f && !signbit(w[j]));
    }
    lc_weight_info info;
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.kept, kept);

    /* an optimizer step writes dense values: the mask keeps pruned ones 0 */
    float *step = malloc((size_t)numel * sizeof *step);
    for (int64_t j = 0; j < numel; j++) step[j] = orig[j] + 0.25f;
    ck_assert_int_eq(lc_weight_set_float(m, name, step, numel), LC_OK);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);
    free(w);
    w = float_view(m, name, numel);
    for (int64_t j = 0; j < numel; j++) {
        if (mask[j]) ck_assert(memcmp(&w[j], &step[j], sizeof(float)) == 0);
        else ck_assert(w[j] == 0.0f && !signbit(w[j]));
    }

    /* removing the mask makes everything kept; values stay */
    ck_assert_int_eq(lc_weight_set_mask(m, name, NULL, numel), LC_OK);
    ck_assert_int_eq(lc_weight_mask(m, name, back, numel), LC_OK);
    for (int64_t j = 0; j < numel; j++) ck_assert_int_eq(back[j], 1);
    ck_assert_int_eq(lc_weight_set_mask(m, name, mask, 5), LC_ERR_SHAPE);
    free(step);
    free(w);
    free(orig);
    free(mask);
    free(back);
    lc_model_free(m);
}
END_TEST

/* A per-channel codebook: the float view is codebook[c][code], read back
 * exactly, survives the .lcm round trip, and follows float writes. */
START_TEST(test_codebook_per_channel)
{
    lc_model *m = load_zoo("lenet300.onnx");
    const char *name = "net.5.weight"; /* 10 x 100, channels along axis 0 */
    const int64_t numel = 1000, ch = 10, inner = 100;
    const int nc = 3;
    float book[30];
    uint8_t codes[1000], back[1000];
    for (int c = 0; c < ch; c++)
        for (int q = 0; q < nc; q++) book[c * nc + q] = (float)(c + 1) * 0.125f * (float)(q - 1) + 0.001f * (float)q;
    uint32_t st = 3;
    for (int64_t j = 0; j < numel; j++) codes[j] = (uint8_t)(lcg(&st) % nc);
    /* a pruned element first: its code is ignored */
    uint8_t mask[1000];
    for (int64_t j = 0; j < numel; j++) mask[j] = j % 5 != 0;
    ck_assert_int_eq(lc_weight_set_mask(m, name, mask, numel), LC_OK);
    codes[0] = 200; /* pruned: out of range is fine */
    ck_assert_int_eq(lc_weight_set_codebook(m, name, 0, nc, book, ch * nc, codes, numel), LC_OK);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);
    lc_weight_info info;
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.encoding, LC_ENCODING_CODEBOOK);
    ck_assert_int_eq(info.bits, 2);
    ck_assert_int_eq(info.axis, 0);
    ck_assert_int_eq(info.channels, 10);
    ck_assert_int_eq(info.n_codes, 3);
    ck_assert_int_eq(info.kept, 800);
    float *w = float_view(m, name, numel);
    for (int64_t j = 0; j < numel; j++) {
        float expect = mask[j] ? book[(j / inner) * nc + codes[j]] : 0.0f;
        ck_assert(memcmp(&w[j], &expect, sizeof expect) == 0);
    }
    float table[30];
    ck_assert_int_eq(lc_weight_codebook(m, name, table, 30, back, numel), LC_OK);
    ck_assert_mem_eq(table, book, sizeof book);
    for (int64_t j = 0; j < numel; j++) ck_assert_int_eq(back[j], mask[j] ? codes[j] : 0);
    ck_assert_int_eq(lc_weight_codebook(m, name, table, 29, NULL, 0), LC_ERR_SHAPE);

    /* through the .lcm format and back */
    void *buf = NULL;
    size_t len = 0;
    lc_model *m2 = NULL;
    ck_assert_int_eq(lc_model_save_lcm_buffer(m, NULL, &buf, &len), LC_OK);
    ck_assert_int_eq(lc_model_load_lcm_buffer(buf, len, "mem", &m2), LC_OK);
    float table2[30];
    uint8_t back2[1000];
    ck_assert_int_eq(lc_weight_codebook(m2, name, table2, 30, back2, numel), LC_OK);
    ck_assert_mem_eq(table2, book, sizeof book);
    ck_assert_mem_eq(back2, back, sizeof back);
    free(buf);
    lc_model_free(m2);

    /* centroid fine-tuning: new codebook, same codes */
    for (int k = 0; k < 30; k++) book[k] += 0.5f;
    ck_assert_int_eq(lc_weight_set_codebook(m, name, 0, nc, book, 30, back, numel), LC_OK);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);

    /* float values that are all table entries keep the encoding, codes follow */
    for (int64_t j = 0; j < numel; j++) {
        codes[j] = (uint8_t)((back[j] + 1) % nc);
        w[j] = mask[j] ? book[(j / inner) * nc + codes[j]] : 0.0f;
    }
    ck_assert_int_eq(lc_weight_set_float(m, name, w, numel), LC_OK);
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.encoding, LC_ENCODING_CODEBOOK);
    ck_assert_int_eq(lc_weight_codebook(m, name, NULL, 0, back, numel), LC_OK);
    for (int64_t j = 0; j < numel; j++) ck_assert_int_eq(back[j], mask[j] ? codes[j] : 0);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);

    /* one value off the table: the weight falls back to DENSE, mask kept */
    w[1] = 12.5f;
    ck_assert_int_eq(lc_weight_set_float(m, name, w, numel), LC_OK);
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.encoding, LC_ENCODING_DENSE);
    ck_assert_int_eq(info.bits, 32);
    ck_assert_int_eq(info.has_mask, 1);
    ck_assert_int_eq(info.kept, 800);
    ck_assert_int_eq(lc_weight_codebook(m, name, table, 30, NULL, 0), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_model_validate(m), LC_OK);

    /* bad arguments change nothing */
    codes[1] = 3;
    ck_assert_int_eq(lc_weight_set_codebook(m, name, 0, nc, book, 30, codes, numel), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_weight_set_codebook(m, name, 2, nc, book, 30, codes, numel), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_weight_set_codebook(m, name, -1, nc, book, 30, codes, numel), LC_ERR_SHAPE);
    ck_assert_int_eq(lc_weight_set_codebook(m, name, 0, 0, book, 0, codes, numel), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.encoding, LC_ENCODING_DENSE);
    free(w);
    lc_model_free(m);
}
END_TEST

/* A UNIFORM encoding built with the internal API reads back through the
 * public one as (q - zp[c]) * scale[c]; a corrupted float view is caught. */
START_TEST(test_uniform_and_validate)
{
    lc_model *m = load_zoo("lenet300.onnx");
    const char *name = "net.5.weight";
    lc_weight_info info;
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    lc_tensor *t = NULL;
    for (int i = 0; i < m->graph->n_inits; i++)
        if (!strcmp(m->graph->inits[i]->name, name)) t = m->graph->inits[i];
    ck_assert_ptr_nonnull(t);
    lc_encoding *e = lc_tensor_encoding(t);
    ck_assert_int_eq(lc_encoding_set_kind(e, t, LC_ENC_UNIFORM, 3, 0, 0), LC_OK);
    float *w = t->data;
    uint32_t st = 11;
    for (int c = 0; c < 10; c++) {
        e->scale[c] = 0.01f * (float)(c + 1);
        e->zero_point[c] = c % 8;
    }
    for (int64_t j = 0; j < 1000; j++) {
        e->codes[j] = (uint8_t)(lcg(&st) % 8);
        int64_t c = j / 100;
        w[j] = (float)(e->codes[j] - e->zero_point[c]) * e->scale[c];
    }
    ck_assert_int_eq(lc_model_validate(m), LC_OK);
    float scale[10], table[80];
    int32_t zp[10];
    uint8_t codes[1000];
    ck_assert_int_eq(lc_weight_uniform(m, name, scale, zp, 10), LC_OK);
    ck_assert_int_eq(lc_weight_codebook(m, name, table, 80, codes, 1000), LC_OK);
    for (int c = 0; c < 10; c++) {
        ck_assert(scale[c] == 0.01f * (float)(c + 1));
        ck_assert_int_eq(zp[c], c % 8);
        for (int q = 0; q < 8; q++) ck_assert(table[c * 8 + q] == (float)(q - c % 8) * scale[c]);
    }
    ck_assert_mem_eq(codes, e->codes, 1000);
    ck_assert_int_eq(lc_weight_uniform(m, name, scale, zp, 9), LC_ERR_SHAPE);
    ck_assert_int_eq(lc_weight_uniform(m, "net.3.weight", scale, zp, 10), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_weight_find(m, name, &info), LC_OK);
    ck_assert_int_eq(info.n_codes, 8);
    ck_assert_int_eq(info.bits, 3);

    /* break the invariant behind the API's back: validate names it */
    w[17] += 1.0f;
    ck_assert_int_eq(lc_model_validate(m), LC_ERR_VERIFY);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), name));
    lc_model_free(m);
}
END_TEST

/* The report's rows agree with the float views and its .lcm size with the
 * writer's output. */
START_TEST(test_report)
{
    lc_model *m = load_zoo("lenet300.onnx");
    ck_assert_int_eq(lc_pass_run(m, "prune-magnitude", "sparsity=0.9,scope=layer", NULL), LC_OK);
    ck_assert_int_eq(lc_pass_run(m, "quantize-kmeans", "bits=3", NULL), LC_OK);
    char *json = NULL;
    ck_assert_msg(lc_model_report(m, &json) == LC_OK, "%s", lc_last_error());
    cJSON *r = cJSON_Parse(json);
    ck_assert_ptr_nonnull(r);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(lc_model_save_lcm_buffer(m, NULL, &buf, &len), LC_OK);
    ck_assert_int_eq((int64_t)cJSON_GetObjectItem(r, "lcm_bytes")->valuedouble, (int64_t)len);
    ck_assert_int_eq((int64_t)cJSON_GetObjectItem(r, "params")->valuedouble, 784 * 300 + 300 + 300 * 100 + 100 + 1000 + 10);
    const cJSON *rows = cJSON_GetObjectItem(r, "weights"), *row;
    ck_assert_int_eq(cJSON_GetArraySize(rows), 3);
    double lcm_sum = 0;
    cJSON_ArrayForEach(row, rows)
    {
        int64_t numel = (int64_t)cJSON_GetObjectItem(row, "params")->valuedouble;
        int64_t pruned = (int64_t)nearbyint(0.9 * (double)numel);
        ck_assert_int_eq((int64_t)cJSON_GetObjectItem(row, "kept")->valuedouble, numel - pruned);
        ck_assert_double_eq_tol(cJSON_GetObjectItem(row, "sparsity")->valuedouble, (double)pruned / (double)numel, 1e-12);
        ck_assert_str_eq(cJSON_GetObjectItem(row, "encoding")->valuestring, "codebook");
        ck_assert_int_eq((int)cJSON_GetObjectItem(row, "bits")->valuedouble, 3);
        ck_assert_int_eq((int64_t)cJSON_GetObjectItem(row, "bytes")->valuedouble, numel * 4);
        double lb = cJSON_GetObjectItem(row, "lcm_bytes")->valuedouble;
        ck_assert(lb > 0 && lb < (double)numel);
        lcm_sum += lb;
    }
    ck_assert(lcm_sum < (double)len);
    cJSON_Delete(r);
    free(json);
    free(buf);
    lc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weight_access");
    TCase *tc = tcase_create("weights");
    tcase_add_test(tc, test_enumerate_lenet300);
    tcase_add_test(tc, test_prune_mask_is_topk);
    tcase_add_test(tc, test_set_mask_and_float);
    tcase_add_test(tc, test_codebook_per_channel);
    tcase_add_test(tc, test_uniform_and_validate);
    tcase_add_test(tc, test_report);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
