/* The pipeline object: creation, its passes (from a recipe or one by one),
 * the budget, validation data, output format and size settings. Running it
 * is pipeline.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_metric_measure.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

typedef lc_pipeline_step step;

lc_status lc_pipeline_create(lc_pipeline **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    (*out)->max_drop = -1;
    (*out)->budget_met = true;
    (*out)->target_met = true;
    return LC_OK;
}

void lc_pipeline_free(lc_pipeline *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_steps; i++) lc_params_clear(&p->steps[i].params);
    free(p->steps);
    cJSON_Delete(p->report);
    for (int k = 0; k < p->n_sweep; k++) lc_model_free(p->sweep_models[k]);
    free(p->report_text);
    lc_target_jobs_free(p->jobs);
    free(p);
}

static lc_status add_step(lc_pipeline *p, const char *name, lc_params **params)
{
    const lc_pass *pass = lc_pass_find(name);
    if (!pass) return lc_pass_unknown(name);
    lc_status s = lc_vec_reserve((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof *p->steps);
    if (s) return s;
    step *st = &p->steps[p->n_steps];
    st->pass = pass;
    if ((s = lc_params_init(&st->params, pass->name, pass->params, pass->n_params))) return s;
    p->n_steps++;
    *params = &st->params;
    return LC_OK;
}

lc_status lc_pipeline_add_pass(lc_pipeline *p, const char *name, const char *params)
{
    lc_params *pv;
    lc_status s = add_step(p, name, &pv);
    if (s) return s;
    if ((s = lc_params_parse(pv, params))) {
        lc_params_clear(pv);
        p->n_steps--;
    }
    return s;
}

/* A JSON value as parameter text. */
static lc_status json_param(lc_params *pv, const char *key, const cJSON *v, const char *label)
{
    char buf[64];
    if (cJSON_IsBool(v)) return lc_params_set(pv, key, cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) snprintf(buf, sizeof buf, "%.0f", d);
        else snprintf(buf, sizeof buf, "%.17g", d);
        return lc_params_set(pv, key, buf);
    }
    if (cJSON_IsString(v)) return lc_params_set(pv, key, v->valuestring);
    if (cJSON_IsArray(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsString(e)) return lc_fail(LC_ERR_PARAMETER, "%s: %s: '%s' must be a list of strings", label, pv->pass, key);
            lc_status s = lc_params_set(pv, key, e->valuestring);
            if (s) return s;
        }
        return LC_OK;
    }
    return lc_fail(LC_ERR_PARAMETER, "%s: %s: parameter '%s' has a value of an unsupported JSON type", label, pv->pass, key);
}

lc_status lc_pipeline_load_recipe(lc_pipeline *p, const char *text, const char *label)
{
    if (!label) label = "recipe";
    cJSON *root = cJSON_Parse(text);
    if (!root) return lc_fail(LC_ERR_FORMAT, "%s: not valid JSON (near '%.20s')", label, cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    lc_status s = LC_OK;
    if (!cJSON_IsObject(root)) {
        s = lc_fail(LC_ERR_FORMAT, "%s: a recipe is a JSON object with \"passes\"", label);
        goto done;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "passes") && strcmp(item->string, "validate") && strcmp(item->string, "name") &&
            strcmp(item->string, "description")) {
            s = lc_fail(LC_ERR_FORMAT, "%s: unknown key '%s' (valid: passes, validate, name, description)", label, item->string);
            goto done;
        }
    }
    const cJSON *passes = cJSON_GetObjectItemCaseSensitive(root, "passes");
    if (!cJSON_IsArray(passes) || cJSON_GetArraySize(passes) == 0) {
        s = lc_fail(LC_ERR_FORMAT, "%s: \"passes\" must be a non-empty array", label);
        goto done;
    }
    int idx = 0;
    cJSON_ArrayForEach(item, passes)
    {
        idx++;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "pass");
        if (!cJSON_IsObject(item) || !cJSON_IsString(name)) {
            s = lc_fail(LC_ERR_FORMAT, "%s: passes[%d] must be an object with a \"pass\" name", label, idx - 1);
            goto done;
        }
        lc_params *pv;
        if ((s = add_step(p, name->valuestring, &pv))) {
            lc_fail_prefix(s, "%s: passes[%d]", label, idx - 1);
            goto done;
        }
        const cJSON *kv;
        cJSON_ArrayForEach(kv, item)
        {
            if (!strcmp(kv->string, "pass")) continue;
            if ((s = json_param(pv, kv->string, kv, label))) {
                lc_fail_prefix(s, "%s: passes[%d]", label, idx - 1);
                goto done;
            }
        }
    }
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(root, "validate");
    if (val && !cJSON_IsObject(val)) { s = lc_fail(LC_ERR_FORMAT, "%s: \"validate\" must be an object", label); goto done; }
    if (val) {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(val, "max_drop");
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(val, "target_size");
        cJSON_ArrayForEach(item, val)
        {
            if (strcmp(item->string, "max_drop") && strcmp(item->string, "target_size") &&
                strcmp(item->string, "confidence")) {
                s = lc_fail(LC_ERR_FORMAT, "%s: unknown key 'validate.%s' (valid: max_drop, target_size, confidence)",
                            label, item->string);
                goto done;
            }
        }
        if (md && (!cJSON_IsNumber(md) || md->valuedouble < 0)) {
            s = lc_fail(LC_ERR_FORMAT, "%s: validate.max_drop must be a number >= 0", label);
            goto done;
        }
        if (md && md->valuedouble > 0 && md->valuedouble < 0.01) { /* 0.005 meant as half a percent */
            s = lc_fail(LC_ERR_FORMAT, "%s: validate.max_drop is %g percentage points, below what any validation set "
                        "resolves; budgets are in points (0.5 = half a point of accuracy): for %g%% write %g",
                        label, md->valuedouble, md->valuedouble * 100, md->valuedouble * 100);
            goto done;
        }
        if (md && p->max_drop < 0) p->max_drop = md->valuedouble;
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(val, "confidence");
        if (cf && (!cJSON_IsNumber(cf) || !(cf->valuedouble >= 0 && cf->valuedouble < 1))) {
            s = lc_fail(LC_ERR_FORMAT, "%s: validate.confidence must be a number in [0, 1)", label);
            goto done;
        }
        if (cf && !p->confidence_given) p->confidence = cf->valuedouble;
        if (ts) { /* bytes as a number, or text like "48K" */
            int64_t bytes = 0;
            char num[64];
            if (cJSON_IsNumber(ts)) snprintf(num, sizeof num, "%.17g", ts->valuedouble);
            if ((!cJSON_IsNumber(ts) && !cJSON_IsString(ts)) ||
                lc_parse_size(cJSON_IsString(ts) ? ts->valuestring : num, &bytes)) {
                s = lc_fail(LC_ERR_FORMAT, "%s: validate.target_size must be a size in bytes (e.g. 20000, \"48K\", \"1.5M\")",
                            label);
                goto done;
            }
            if (p->target_size <= 0) p->target_size = bytes;
        }
    }
done:
    cJSON_Delete(root);
    return s;
}

lc_status lc_pipeline_set_confidence(lc_pipeline *p, double confidence)
{
    if (!p) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_confidence: NULL pipeline");
    if (!(confidence >= 0 && confidence < 1))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "confidence %g is outside [0, 1) (0: the point estimate; 0.95: the "
                       "upper end of a 95%% interval)", confidence);
    p->confidence = confidence;
    p->confidence_given = true;
    return LC_OK;
}

double lc_pipeline_confidence(const lc_pipeline *p) { return p->confidence; }

void lc_pipeline_set_max_drop(lc_pipeline *p, double points)
{
    p->max_drop = points;
    p->budget_metric = 0;
}

/* A floor on SNR or cosine is a drop from the float model's score, which
 * the back-off logic shares out like points of top-1. */
void lc_pipeline_set_min_snr(lc_pipeline *p, double db)
{
    p->budget_metric = isnan(db) ? 0 : LC_METRIC_SNR;
    p->min_value = db;
    p->max_drop = isnan(db) ? -1 : db < LC_METRIC_SNR_CAP ? LC_METRIC_SNR_CAP - db : 0;
}

void lc_pipeline_set_min_cosine(lc_pipeline *p, double cosine)
{
    p->budget_metric = isnan(cosine) ? 0 : LC_METRIC_COSINE;
    p->min_value = cosine;
    p->max_drop = isnan(cosine) ? -1 : cosine < 1 ? 1 - cosine : 0;
}
void lc_pipeline_set_auto(lc_pipeline *p, int on)
{
    p->auto_mode = on != 0;
    /* the budget must hold beyond the validation samples: 95% unless set */
    if (p->auto_mode && !p->confidence_given) p->confidence = 0.95;
}
int lc_pipeline_auto(const lc_pipeline *p) { return p->auto_mode; }
void lc_pipeline_set_target_size(lc_pipeline *p, int64_t bytes) { p->target_size = bytes > 0 ? bytes : 0; }
int64_t lc_pipeline_target_size(const lc_pipeline *p) { return p->target_size; }
int lc_pipeline_target_met(const lc_pipeline *p) { return p->target_met; }

lc_status lc_parse_size(const char *text, int64_t *bytes)
{
    *bytes = 0;
    if (!text) return lc_fail(LC_ERR_INVALID_ARGUMENT, "size: NULL");
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v <= 0 || text[0] == '-' || text[0] == '+' || text[0] == ' ')
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "'%s' is not a size (e.g. 20000, 48K, 1.5M)", text);
    while (*end == ' ') end++;
    double mul = 1;
    char u = (char)(*end >= 'a' && *end <= 'z' ? *end - 32 : *end);
    if (u == 'K' || u == 'M' || u == 'G') {
        mul = u == 'K' ? 1024.0 : u == 'M' ? 1048576.0 : 1073741824.0;
        end++;
        if (*end == 'i') end++;
        if (*end == 'B' || *end == 'b') end++;
    } else if (u == 'B') end++;
    if (*end) return lc_fail(LC_ERR_INVALID_ARGUMENT, "'%s' is not a size (e.g. 20000, 48K, 1.5M; K = 1024)", text);
    v *= mul;
    if (v < 1 || v > 9.0e15) return lc_fail(LC_ERR_INVALID_ARGUMENT, "size '%s' is out of range (1 byte and up)", text);
    *bytes = (int64_t)floor(v);
    return LC_OK;
}
double lc_pipeline_max_drop(const lc_pipeline *p) { return p->max_drop; }

lc_status lc_pipeline_set_validation(lc_pipeline *p, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                                     int64_t limit)
{
    if (labels && val) {
        int64_t count = lc_dataset_count(val);
        if (limit > 0 && limit < count) count = limit;
        if (n_labels < count)
            return lc_fail(LC_ERR_SHAPE, "%lld labels for %lld validation samples", (long long)n_labels, (long long)count);
    }
    p->val = val;
    p->labels = labels;
    p->n_labels = n_labels;
    p->val_limit = limit;
    return LC_OK;
}

void lc_pipeline_set_size_fn(lc_pipeline *p, lc_size_fn fn, void *user)
{
    p->size_fn = fn;
    p->size_user = user;
}

lc_status lc_pipeline_set_format(lc_pipeline *p, lc_format format)
{
    if (format != LC_FORMAT_ONNX && format != LC_FORMAT_LCM)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_format: format %d is neither LC_FORMAT_ONNX nor LC_FORMAT_LCM",
                       (int)format);
    p->format = format;
    return LC_OK;
}

int lc_pipeline_budget_met(const lc_pipeline *p) { return p->budget_met; }

const char *lc_pipeline_report(const lc_pipeline *p) { return p->report_text ? p->report_text : "{}"; }
