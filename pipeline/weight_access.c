/* Public access to weight tensors: enumerate the layer weights, read and
 * write a weight's float view, mask and codes, check a model, report its
 * weights. Every write keeps the encoding invariant of lc_encoding.h (the
 * encoding decodes to the float view bit for bit), so a model edited here
 * can go straight to the .lcm writer. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"

/* The public encoding numbers are the internal ones. */
_Static_assert((int)LC_ENCODING_DENSE == LC_ENC_DENSE && (int)LC_ENCODING_UNIFORM == LC_ENC_UNIFORM &&
                   (int)LC_ENCODING_CODEBOOK == LC_ENC_CODEBOOK && (int)LC_ENCODING_BINARY == LC_ENC_BINARY,
               "public and internal encoding kinds differ");

static const char *const encoding_names[] = {"dense", "uniform", "codebook", "binary"};
_Static_assert(sizeof encoding_names / sizeof *encoding_names == LC_ENC_BINARY + 1, "an encoding kind without a name");

/* Entries of a channel's decode table: every code a kept element may hold. */
static int table_size(const lc_encoding *e)
{
    switch (e->kind) {
    case LC_ENC_UNIFORM: return 1 << e->bits;
    case LC_ENC_CODEBOOK: return e->n_codes;
    case LC_ENC_BINARY: return 2;
    default: return 0;
    }
}

static void fill_info(lc_weight_info *info, const char *value, const lc_tensor *t, const lc_weight *w)
{
    memset(info, 0, sizeof *info);
    info->name = value;
    info->node = w && w->node->name ? w->node->name : "";
    info->op = w ? w->node->op_type : "";
    info->node_index = w ? w->node_index : -1;
    info->input = w ? w->input : -1;
    info->out_axis = w ? w->out_axis : -1;
    info->in_axis = w ? w->in_axis : -1;
    info->ndim = t->ndim;
    memcpy(info->dims, t->dims, sizeof t->dims);
    info->numel = lc_tensor_numel(t);
    const lc_encoding *e = t->enc;
    info->encoding = e ? e->kind : LC_ENC_DENSE;
    info->bits = e && e->kind != LC_ENC_DENSE ? e->bits : 32;
    info->axis = e && e->kind != LC_ENC_DENSE ? e->axis : -1;
    info->channels = e && e->kind != LC_ENC_DENSE ? e->channels : 1;
    info->n_codes = e ? table_size(e) : 0;
    info->has_mask = e && e->mask;
    info->kept = lc_encoding_kept(e, info->numel);
    info->sparsity = info->numel ? 1.0 - (double)info->kept / (double)info->numel : 0.0;
    info->entropy_coded = e && e->entropy_coded;
}

lc_status lc_model_weight_count(const lc_model *m, int *count)
{
    if (count) *count = 0;
    if (!m || !count) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_weight_count: NULL argument");
    lc_weight *w = NULL;
    lc_status s = lc_weight_targets((lc_model *)m, NULL, &w, count);
    free(w);
    return s;
}

lc_status lc_model_weight(const lc_model *m, int i, lc_weight_info *info)
{
    if (!m || !info) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_weight: NULL argument");
    memset(info, 0, sizeof *info);
    lc_weight *w = NULL;
    int n = 0;
    lc_status s = lc_weight_targets((lc_model *)m, NULL, &w, &n);
    if (s) goto done;
    if (i < 0 || i >= n) {
        s = lc_fail(LC_ERR_INVALID_ARGUMENT, "weight index %d out of range (the model has %d weights)", i, n);
        goto done;
    }
    fill_info(info, w[i].value, w[i].tensor, &w[i]);
done:
    free(w);
    return s;
}

/* The float32 stored tensor whose graph value (or tensor name) is `name`,
 * main graph first; *value receives the graph value's name. */
static lc_status find_tensor(const lc_model *m, const char *name, lc_tensor **out, const char **value)
{
    *out = NULL;
    if (!m || !name) return lc_fail(LC_ERR_INVALID_ARGUMENT, "NULL model or weight name");
    lc_stored *st = NULL;
    int n = 0;
    lc_status s = lc_model_stored_tensors(m, &st, &n);
    if (s) return s;
    for (int pass = 0; pass < 2 && !*out; pass++)
        for (int i = 0; i < n && !*out; i++)
            if (!strcmp(pass == 0 ? st[i].value : st[i].tensor->name, name)) {
                *out = st[i].tensor;
                if (value) *value = st[i].value;
            }
    free(st);
    if (!*out) return lc_fail(LC_ERR_NOT_FOUND, "no stored tensor named '%s'", name);
    if ((*out)->dtype != LC_DTYPE_FLOAT) {
        lc_status d = lc_fail(LC_ERR_DTYPE, "tensor '%s' is %s, not float", name, lc_dtype_name((*out)->dtype));
        *out = NULL;
        return d;
    }
    return LC_OK;
}

/* find_tensor plus the check that the caller's buffer has numel entries. */
static lc_status find_sized(const lc_model *m, const char *name, int64_t n, lc_tensor **out)
{
    lc_status s = find_tensor(m, name, out, NULL);
    if (s) return s;
    int64_t numel = lc_tensor_numel(*out);
    if (n != numel) {
        *out = NULL;
        return lc_fail(LC_ERR_SHAPE, "tensor '%s' has %lld elements, the buffer %lld", name, (long long)numel,
                       (long long)n);
    }
    return LC_OK;
}

lc_status lc_weight_find(const lc_model *m, const char *name, lc_weight_info *info)
{
    if (!info) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_weight_find: NULL info");
    memset(info, 0, sizeof *info);
    lc_tensor *t;
    const char *value = NULL;
    lc_status s = find_tensor(m, name, &t, &value);
    if (s) return s;
    lc_weight *w = NULL;
    int n = 0;
    if ((s = lc_weight_targets((lc_model *)m, NULL, &w, &n))) return s;
    const lc_weight *layer = NULL;
    for (int i = 0; i < n && !layer; i++)
        if (w[i].tensor == t) layer = &w[i];
    fill_info(info, value, t, layer);
    free(w);
    return LC_OK;
}

lc_status lc_weight_float_view(const lc_model *m, const char *name, float *out, int64_t n)
{
    lc_tensor *t;
    lc_status s = find_sized(m, name, n, &t);
    if (s) return s;
    if (n && !out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_weight_float_view: NULL buffer");
    if (n) memcpy(out, t->data, (size_t)n * sizeof *out);
    return LC_OK;
}

lc_status lc_weight_mask(const lc_model *m, const char *name, uint8_t *out, int64_t n)
{
    lc_tensor *t;
    lc_status s = find_sized(m, name, n, &t);
    if (s) return s;
    if (n && !out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_weight_mask: NULL buffer");
    for (int64_t i = 0; i < n; i++) out[i] = t->enc && t->enc->mask ? t->enc->mask[i] != 0 : 1;
    return LC_OK;
}

lc_status lc_weight_codebook(const lc_model *m, const char *name, float *table, int64_t table_len, uint8_t *codes,
                             int64_t n)
{
    lc_tensor *t;
    lc_status s = find_tensor(m, name, &t, NULL);
    if (s) return s;
    const lc_encoding *e = t->enc;
    if (!e || e->kind == LC_ENC_DENSE)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "tensor '%s' is stored dense: it has no codebook", name);
    int64_t per = table_size(e), numel = lc_tensor_numel(t);
    if (table && table_len != e->channels * per)
        return lc_fail(LC_ERR_SHAPE, "tensor '%s': its table has %lld x %lld entries, the buffer %lld", name,
                       (long long)e->channels, (long long)per, (long long)table_len);
    if (codes && n != numel)
        return lc_fail(LC_ERR_SHAPE, "tensor '%s' has %lld elements, the code buffer %lld", name, (long long)numel,
                       (long long)n);
    for (int64_t c = 0; table && c < e->channels; c++)
        for (int64_t q = 0; q < per; q++) table[c * per + q] = lc_encoding_value(e, c, (int)q);
    for (int64_t i = 0; codes && i < n; i++) codes[i] = e->mask && !e->mask[i] ? 0 : e->codes[i];
    return LC_OK;
}

lc_status lc_weight_uniform(const lc_model *m, const char *name, float *scale, int32_t *zero_point,
                            int64_t channels)
{
    lc_tensor *t;
    lc_status s = find_tensor(m, name, &t, NULL);
    if (s) return s;
    const lc_encoding *e = t->enc;
    if (!e || e->kind != LC_ENC_UNIFORM)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "tensor '%s' is not uniformly quantized", name);
    if (channels != e->channels)
        return lc_fail(LC_ERR_SHAPE, "tensor '%s' has %lld channels, the buffers %lld", name, (long long)e->channels,
                       (long long)channels);
    if (scale) memcpy(scale, e->scale, (size_t)channels * sizeof *scale);
    if (zero_point) memcpy(zero_point, e->zero_point, (size_t)channels * sizeof *zero_point);
    return LC_OK;
}

/* Drops the value encoding (kind back to DENSE), keeping mask and the
 * entropy flag. */
static void drop_values(lc_encoding *e)
{
    free(e->scale);
    free(e->zero_point);
    free(e->codebook);
    free(e->alpha);
    free(e->codes);
    e->scale = e->codebook = e->alpha = NULL;
    e->zero_point = NULL;
    e->codes = NULL;
    e->kind = LC_ENC_DENSE;
    e->bits = 0;
    e->axis = -1;
    e->channels = 1;
    e->n_codes = 0;
}

/* Restores the invariant after the float view or the mask changed: pruned
 * elements become +0.0 with code 0; a value encoding is kept when every
 * kept element equals (bit for bit) some entry of its channel's table, the
 * codes then point at those entries (a code that still fits is kept);
 * otherwise the tensor falls back to DENSE. */
static void reencode(lc_tensor *t)
{
    lc_encoding *e = t->enc;
    if (!e) return;
    float *w = t->data;
    int64_t n = lc_tensor_numel(t);
    int per = table_size(e);
    for (int64_t i = 0; i < n; i++) {
        if (e->mask && !e->mask[i]) {
            w[i] = 0.0f;
            if (e->codes) e->codes[i] = 0;
            continue;
        }
        if (e->kind == LC_ENC_DENSE) continue;
        int64_t c = lc_encoding_channel(e, t, i);
        float v;
        if (e->codes[i] < per) {
            v = lc_encoding_value(e, c, e->codes[i]);
            if (!memcmp(&v, &w[i], sizeof v)) continue;
        }
        int q = 0;
        for (; q < per; q++) {
            v = lc_encoding_value(e, c, q);
            if (!memcmp(&v, &w[i], sizeof v)) break;
        }
        if (q == per) {
            drop_values(e);
            reencode(t); /* now DENSE: only the mask is left to apply */
            return;
        }
        e->codes[i] = (uint8_t)q;
    }
}

lc_status lc_weight_set_float(lc_model *m, const char *name, const float *w, int64_t n)
{
    lc_tensor *t;
    lc_status s = find_sized(m, name, n, &t);
    if (s) return s;
    if (n && !w) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_weight_set_float: NULL values");
    if (n) memmove(t->data, w, (size_t)n * sizeof *w);
    reencode(t);
    return LC_OK;
}

lc_status lc_weight_set_mask(lc_model *m, const char *name, const uint8_t *mask, int64_t n)
{
    lc_tensor *t;
    lc_status s = find_sized(m, name, n, &t);
    if (s) return s;
    if (!mask) {
        if (t->enc) {
            free(t->enc->mask);
            t->enc->mask = NULL;
            reencode(t);
        }
        return LC_OK;
    }
    lc_encoding *e = lc_tensor_encoding(t);
    if (!e) return LC_ERR_NO_MEMORY;
    if (!e->mask && !(e->mask = malloc(n ? (size_t)n : 1)))
        return lc_fail(LC_ERR_NO_MEMORY, "tensor '%s': out of memory for its mask", name);
    for (int64_t i = 0; i < n; i++) e->mask[i] = mask[i] != 0;
    reencode(t);
    return LC_OK;
}

lc_status lc_weight_set_codebook(lc_model *m, const char *name, int axis, int n_codes, const float *codebook,
                                 int64_t codebook_len, const uint8_t *codes, int64_t n)
{
    lc_tensor *t;
    lc_status s = find_sized(m, name, n, &t);
    if (s) return s;
    if (!codebook || (n && !codes)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_weight_set_codebook: NULL argument");
    if (axis < -1 || axis >= t->ndim)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "tensor '%s': axis %d (rank %d; -1 for one codebook)", name, axis,
                       t->ndim);
    if (n_codes < 1 || n_codes > 256)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "tensor '%s': %d codes (1..256)", name, n_codes);
    int64_t channels = axis < 0 ? 1 : t->dims[axis];
    if (codebook_len != channels * n_codes)
        return lc_fail(LC_ERR_SHAPE, "tensor '%s': a codebook of %lld channels x %d codes has %lld entries, not %lld",
                       name, (long long)channels, n_codes, (long long)(channels * n_codes), (long long)codebook_len);
    const uint8_t *mask = t->enc ? t->enc->mask : NULL;
    for (int64_t i = 0; i < n; i++)
        if ((!mask || mask[i]) && codes[i] >= n_codes)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "tensor '%s': element %lld has code %d (%d codes)", name,
                           (long long)i, codes[i], n_codes);
    int bits = 1;
    while ((1 << bits) < n_codes) bits++;
    lc_encoding *e = lc_tensor_encoding(t);
    if (!e) return LC_ERR_NO_MEMORY;
    if ((s = lc_encoding_set_kind(e, t, LC_ENC_CODEBOOK, bits, axis, n_codes))) return s;
    memcpy(e->codebook, codebook, (size_t)codebook_len * sizeof *codebook);
    float *w = t->data;
    for (int64_t i = 0; i < n; i++) {
        bool kept = !e->mask || e->mask[i];
        e->codes[i] = kept ? codes[i] : 0;
        w[i] = kept ? lc_encoding_value(e, lc_encoding_channel(e, t, i), codes[i]) : 0.0f;
    }
    return LC_OK;
}

lc_status lc_model_validate(const lc_model *m)
{
    if (!m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_validate: NULL model");
    lc_status s = lc_model_verify(m, m->path);
    if (!s) s = lc_model_verify_encodings(m);
    return s;
}

/* One row of the report per layer weight, with its bytes in the .lcm file
 * (from the writer's exact accounting). */
static lc_status report_rows(const lc_model *m, const lc_lcm_accounting *acc, cJSON *rows)
{
    lc_weight *w = NULL;
    int n = 0;
    lc_status s = lc_weight_targets((lc_model *)m, NULL, &w, &n);
    for (int i = 0; i < n && !s; i++) {
        lc_weight_info info;
        fill_info(&info, w[i].value, w[i].tensor, &w[i]);
        int64_t lcm_bytes = -1;
        for (int k = 0; k < acc->n_tensors && lcm_bytes < 0; k++)
            if (!strcmp(acc->tensors[k].name, w[i].tensor->name)) lcm_bytes = acc->tensors[k].bytes;
        cJSON *r = cJSON_CreateObject();
        if (!r || !cJSON_AddItemToArray(rows, r)) {
            cJSON_Delete(r);
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            break;
        }
        cJSON_AddStringToObject(r, "name", info.name);
        cJSON_AddStringToObject(r, "node", info.node);
        cJSON_AddStringToObject(r, "op", info.op);
        cJSON_AddNumberToObject(r, "params", (double)info.numel);
        cJSON_AddNumberToObject(r, "kept", (double)info.kept);
        cJSON_AddNumberToObject(r, "sparsity", info.sparsity);
        cJSON_AddStringToObject(r, "encoding", encoding_names[info.encoding]);
        cJSON_AddNumberToObject(r, "bits", info.bits);
        cJSON_AddNumberToObject(r, "channels", (double)info.channels);
        cJSON_AddBoolToObject(r, "entropy_coded", info.entropy_coded);
        cJSON_AddNumberToObject(r, "bytes", (double)w[i].tensor->nbytes);
        cJSON_AddNumberToObject(r, "lcm_bytes", (double)lcm_bytes);
    }
    free(w);
    return s;
}

lc_status lc_model_report(const lc_model *m, char **json)
{
    if (json) *json = NULL;
    if (!m || !json) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_report: NULL argument");
    void *buf = NULL;
    size_t len = 0;
    lc_lcm_accounting acc = {0};
    lc_model_info info;
    bool have_info = false;
    cJSON *root = NULL;
    lc_status s = lc_model_validate(m);
    if (!s) s = lc_model_info_compute(m, &info);
    if (s) goto fail;
    have_info = true;
    if ((s = lc_model_save_lcm_buffer(m, NULL, &buf, &len)) || (s = lc_lcm_accounting_compute(buf, len, &acc)))
        goto fail;
    root = cJSON_CreateObject();
    cJSON *rows = cJSON_CreateArray();
    if (!root || !rows || !cJSON_AddItemToObject(root, "weights", rows)) {
        cJSON_Delete(rows);
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    cJSON_AddNumberToObject(root, "params", (double)info.params);
    cJSON_AddNumberToObject(root, "bytes", (double)info.bytes);
    cJSON_AddNumberToObject(root, "lcm_bytes", (double)acc.file_bytes);
    if ((s = report_rows(m, &acc, rows))) goto fail;
    if (!(*json = cJSON_Print(root))) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
fail:
    cJSON_Delete(root);
    lc_lcm_accounting_clear(&acc);
    free(buf);
    if (have_info) lc_model_info_clear(&info);
    return s;
}
