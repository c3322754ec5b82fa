/* The pipeline: a list of passes with parameters (from a recipe or flags),
 * run in order on a copy of the model, each validated against the float
 * model; a pass that goes over the accuracy budget is backed off by
 * bisecting its main knob, or skipped when no setting fits. Every step and
 * every configuration tried lands in the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lc_alloc.h"
#include "lc_encoding.h"
#include "lc_pass.h"

typedef struct step {
    const lc_pass *pass;
    lc_params params;
} step;

struct lc_pipeline {
    step *steps;
    int n_steps, cap_steps;
    double max_drop;              /* < 0: no budget */
    const lc_dataset *val;
    const int64_t *labels;
    int64_t n_labels, val_limit;
    lc_size_fn size_fn;           /* bytes of the model as it will be written */
    void *size_user;
    int format;                   /* LC_FORMAT_ONNX or LC_FORMAT_LCM */
    int64_t target_size;          /* > 0: find the most accurate per-layer settings that fit */
    bool budget_met;
    bool target_met;
    cJSON *report;
    char *report_text;
};

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
    free(p->report_text);
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
            if (strcmp(item->string, "max_drop") && strcmp(item->string, "target_size")) {
                s = lc_fail(LC_ERR_FORMAT, "%s: unknown key 'validate.%s' (valid: max_drop, target_size)", label,
                            item->string);
                goto done;
            }
        }
        if (md && (!cJSON_IsNumber(md) || md->valuedouble < 0)) {
            s = lc_fail(LC_ERR_FORMAT, "%s: validate.max_drop must be a number >= 0", label);
            goto done;
        }
        if (md && p->max_drop < 0) p->max_drop = md->valuedouble;
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

void lc_pipeline_set_max_drop(lc_pipeline *p, double points) { p->max_drop = points; }
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

void lc_pipeline_set_format(lc_pipeline *p, int format) { p->format = format; }

int lc_pipeline_budget_met(const lc_pipeline *p) { return p->budget_met; }

const char *lc_pipeline_report(const lc_pipeline *p) { return p->report_text ? p->report_text : "{}"; }

/* ---- running ---- */

typedef struct run_state {
    lc_pipeline *p;
    const lc_context *ctx;
    int64_t *float_pred;
    int64_t n_val;
    double float_metric;
    double allow;          /* drop allowed after the current pass (< 0: no budget) */
    int64_t in_bytes, in_params;
    int64_t in_bytes_model;  /* the input as it would be written */
    const char *in_path;
    cJSON *tried; /* every configuration tried: the Pareto data */
} run_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Top-1 (%) with labels, else top-1 agreement (%) with the float model. */
static lc_status metric(run_state *r, const lc_model *m, double *out)
{
    *out = NAN;
    if (!r->p->val) return LC_OK;
    int64_t *pred, n;
    lc_status s = lc_model_predict(m, r->p->val, r->p->val_limit, r->ctx ? r->ctx->batch : 64, r->ctx ? r->ctx->threads : 1,
                                   r->ctx, &pred, &n);
    if (s) return s;
    int64_t hit = 0;
    const int64_t *truth = r->p->labels ? r->p->labels : r->float_pred;
    for (int64_t i = 0; i < n; i++) hit += truth ? pred[i] == truth[i] : 1;
    if (!r->float_pred) r->float_pred = pred, r->n_val = n;
    else free(pred);
    *out = n ? 100.0 * (double)hit / (double)n : 0;
    return LC_OK;
}

static lc_status model_bytes(run_state *r, const lc_model *m, int64_t *out)
{
    if (r->p->size_fn) return r->p->size_fn(r->p->size_user, m, out);
    size_t len;
    lc_status s;
    if (r->p->format == LC_FORMAT_LCM) {
        void *buf;
        if ((s = lc_model_save_lcm_buffer(m, NULL, &buf, &len))) return s;
        free(buf);
    } else if ((s = lc_model_onnx_size(m, &len))) { /* sized without a model-sized buffer */
        return s;
    }
    *out = (int64_t)len;
    return LC_OK;
}

/* The report's "input" and "accuracy" objects; the .lcm META section holds
 * copies, so the target-size search builds them the same way to know the
 * exact file size. */
static cJSON *input_json(const run_state *r)
{
    cJSON *ij = cJSON_CreateObject();
    cJSON_AddStringToObject(ij, "path", r->in_path);
    cJSON_AddNumberToObject(ij, "bytes", (double)r->in_bytes);
    cJSON_AddNumberToObject(ij, "params", (double)r->in_params);
    return ij;
}

static cJSON *accuracy_json(const lc_pipeline *p, double float_acc, double final_acc)
{
    cJSON *aj = cJSON_CreateObject();
    cJSON_AddStringToObject(aj, "metric", !p->val ? "none" : p->labels ? "top1" : "agreement");
    if (p->val) {
        cJSON_AddNumberToObject(aj, "float", float_acc);
        cJSON_AddNumberToObject(aj, "final", final_acc);
        cJSON_AddNumberToObject(aj, "drop", float_acc - final_acc);
    }
    if (p->max_drop >= 0) cJSON_AddNumberToObject(aj, "max_drop", p->max_drop);
    return aj;
}

/* The recipe as run, for the .lcm META section. */
static cJSON *recipe_json(const lc_pipeline *p)
{
    cJSON *r = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(r, "passes");
    for (int i = 0; i < p->n_steps; i++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "pass", p->steps[i].pass->name);
        char *txt = lc_params_to_string(&p->steps[i].params);
        cJSON_AddStringToObject(st, "params", txt ? txt : "");
        free(txt);
        cJSON_AddItemToArray(arr, st);
    }
    if (p->max_drop >= 0 || p->target_size > 0) {
        cJSON *v = cJSON_AddObjectToObject(r, "validate");
        if (p->max_drop >= 0) cJSON_AddNumberToObject(v, "max_drop", p->max_drop);
        if (p->target_size > 0) cJSON_AddNumberToObject(v, "target_size", (double)p->target_size);
    }
    return r;
}

/* The file as written: .lcm with its META section (recipe, input and
 * accuracy figures), or ONNX. */
static lc_status serialize(const lc_pipeline *p, const lc_model *m, const cJSON *input, const cJSON *accuracy, void **buf,
                           size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (p->format != LC_FORMAT_LCM) return lc_model_save_onnx_buffer(m, buf, len);
    cJSON *rec = recipe_json(p), *fig = cJSON_CreateObject();
    cJSON_AddItemToObject(fig, "accuracy", cJSON_Duplicate(accuracy, 1));
    cJSON_AddItemToObject(fig, "input", cJSON_Duplicate(input, 1));
    char *rtxt = cJSON_PrintUnformatted(rec), *ftxt = cJSON_PrintUnformatted(fig);
    char producer[64];
    snprintf(producer, sizeof producer, "shrink %s", lc_version());
    lc_lcm_meta meta = {producer, rtxt, ftxt};
    lc_status s = rtxt && ftxt ? lc_model_save_lcm_buffer(m, &meta, buf, len) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    free(rtxt);
    free(ftxt);
    cJSON_Delete(rec);
    cJSON_Delete(fig);
    return s;
}

/* Applies one configuration of a step to a copy of `cur`. */
static lc_status try_step(run_state *r, const lc_model *cur, const step *st, const lc_params *pv, lc_model **out,
                          double *acc, int64_t *bytes)
{
    *out = NULL;
    lc_model *cand = NULL;
    lc_status s = lc_model_clone(cur, &cand);
    if (!s) s = lc_pass_run_params(cand, st->pass, pv, r->ctx);
    if (!s) s = metric(r, cand, acc);
    if (!s) s = model_bytes(r, cand, bytes);
    if (s) {
        lc_model_free(cand);
        return lc_fail_prefix(s, "pass %s", st->pass->name);
    }
    char *ptxt = lc_params_to_string(pv);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "pass", st->pass->name);
    cJSON_AddStringToObject(t, "params", ptxt ? ptxt : "");
    cJSON_AddNumberToObject(t, "bytes", (double)*bytes);
    if (isfinite(*acc)) cJSON_AddNumberToObject(t, "accuracy", *acc);
    else cJSON_AddNullToObject(t, "accuracy");
    cJSON_AddItemToArray(r->tried, t);
    free(ptxt);
    *out = cand;
    return LC_OK;
}

static bool within_drop(const run_state *r, double acc, double allow)
{
    return allow < 0 || !isfinite(acc) || r->float_metric - acc <= allow + 1e-9;
}

static bool within(const run_state *r, double acc) { return within_drop(r, acc, r->allow); }

/* Bisects the step's knob between its safe end (no or least compression)
 * and the requested value, keeping the most compressing setting within the
 * pass's share of the budget. When even the safe end is over the share but
 * within the whole budget, the pass gets the whole budget. *best is NULL
 * when even the safe end does not fit. */
static lc_status back_off(run_state *r, const lc_model *cur, const step *st, lc_model **best, double *best_acc,
                          int64_t *best_bytes, lc_params *best_params)
{
    *best = NULL;
    const lc_param_value *kv = lc_params_get(&st->params, st->pass->knob);
    if (!kv) return LC_OK;
    const lc_param_desc *d = kv->desc;
    bool is_int = d->type == LC_PARAM_INT;
    /* more bits is safer; for every other knob (sparsity, ratio) less is */
    bool up_is_safe = strcmp(d->name, "bits") == 0;
    double lo = kv->num, hi = up_is_safe ? d->max : d->min; /* lo: requested (fails), hi: safe end */
    lc_params trial;
    lc_status s = lc_params_copy(&trial, &st->params);
    if (s) return s;
    for (int iter = 0; iter < 8 && !s; iter++) {
        double mid = is_int ? (iter == 0 ? hi : round((lo + hi) / 2)) : (iter == 0 ? hi : (lo + hi) / 2);
        if (is_int && iter > 0 && (mid == lo || mid == hi)) break;
        char txt[64];
        snprintf(txt, sizeof txt, is_int ? "%.0f" : "%.6g", mid);
        lc_param_value *tv = (lc_param_value *)lc_params_get(&trial, d->name);
        free(tv->str);
        tv->str = NULL;
        if ((s = lc_params_set(&trial, d->name, txt))) break;
        lc_model *cand;
        double acc;
        int64_t bytes;
        if ((s = try_step(r, cur, st, &trial, &cand, &acc, &bytes))) break;
        lc_log(r->ctx, "  back-off %s %s=%s: accuracy %.2f", st->pass->name, d->name, txt, acc);
        bool ok = within(r, acc);
        if (!ok && iter == 0 && r->allow < r->p->max_drop && within_drop(r, acc, r->p->max_drop)) {
            r->allow = r->p->max_drop;
            ok = true;
        }
        if (ok) {
            lc_model_free(*best);
            *best = cand;
            *best_acc = acc;
            *best_bytes = bytes;
            lc_params_clear(best_params);
            if ((s = lc_params_copy(best_params, &trial))) break;
            hi = mid;
        } else {
            lc_model_free(cand);
            if (iter == 0) break; /* even the safe end is over budget */
            lo = mid;
        }
        if (!is_int && fabs(hi - lo) < 0.01 * (d->max - d->min)) break;
    }
    lc_params_clear(&trial);
    return s;
}

/* The stored tensor that holds the weight value `value` in `m`: the value
 * itself, or the input of the DequantizeLinear producing it (QDQ models keep
 * int8 weights). NULL if the weight is not stored. */
static const lc_tensor *stored_weight(const lc_model *m, const lc_stored *st, int n_st, const char *value, int depth)
{
    for (int k = 0; k < n_st; k++)
        if (st[k].graph == m->graph && !strcmp(st[k].value, value)) return st[k].tensor;
    for (int i = 0; depth < 2 && i < m->graph->n_nodes; i++) {
        const lc_node *n = m->graph->nodes[i];
        if (!strcmp(n->op_type, "DequantizeLinear") && n->n_outputs && !strcmp(n->outputs[0], value) && n->n_inputs)
            return stored_weight(m, st, n_st, n->inputs[0], depth + 1);
    }
    return NULL;
}

/* The node of `out` that is layer `w` of the input model: same name, or
 * for unnamed nodes the same position and op. */
static const lc_node *same_node(const lc_model *out, const lc_weight *w)
{
    const char *name = w->node->name;
    for (int i = 0; name && *name && i < out->graph->n_nodes; i++)
        if (out->graph->nodes[i]->name && !strcmp(out->graph->nodes[i]->name, name)) return out->graph->nodes[i];
    if ((!name || !*name) && w->node_index < out->graph->n_nodes &&
        !strcmp(out->graph->nodes[w->node_index]->op_type, w->node->op_type))
        return out->graph->nodes[w->node_index];
    return NULL;
}

/* One row per weight layer of the input model, describing how its weight
 * is stored in the output model. */
static cJSON *layers_json(const lc_model *in, const lc_model *out)
{
    cJSON *arr = cJSON_CreateArray();
    lc_weight *w = NULL;
    lc_stored *st = NULL;
    int n = 0, n_st = 0;
    if (lc_weight_targets((lc_model *)in, NULL, &w, &n) || lc_model_stored_tensors(out, &st, &n_st)) {
        free(w);
        return arr;
    }
    for (int i = 0; i < n; i++) {
        const lc_node *node = same_node(out, &w[i]);
        const lc_tensor *t = node && w[i].input < node->n_inputs
                                 ? stored_weight(out, st, n_st, node->inputs[w[i].input], 0) : NULL;
        if (!t) continue;
        const lc_encoding *e = t->enc;
        int64_t numel = lc_tensor_numel(t), kept = lc_encoding_kept(e, numel);
        int bits = (int)lc_dtype_size(t->dtype) * 8;
        if (e && e->kind != LC_ENC_DENSE) bits = e->bits;
        if (!e && t->dtype != LC_DTYPE_FLOAT && t->data) { /* quantized ints: zeros are the pruned weights */
            kept = 0;
            for (int64_t k = 0; k < numel; k++)
                kept += memcmp((const char *)t->data + k * (int64_t)lc_dtype_size(t->dtype), "\0\0\0\0\0\0\0\0",
                               lc_dtype_size(t->dtype)) != 0;
        }
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", w[i].node->name && *w[i].node->name ? w[i].node->name : w[i].tensor->name);
        cJSON_AddStringToObject(l, "op", w[i].node->op_type);
        cJSON_AddStringToObject(l, "weight", t->name);
        cJSON_AddNumberToObject(l, "params", (double)numel);
        cJSON_AddNumberToObject(l, "sparsity", numel ? 1.0 - (double)kept / (double)numel : 0);
        cJSON_AddNumberToObject(l, "bits", bits);
        cJSON_AddNumberToObject(l, "bytes_before", (double)w[i].tensor->nbytes);
        /* dense storage in ONNX; the .lcm writer's accounting replaces this */
        cJSON_AddNumberToObject(l, "bytes_after", (double)t->nbytes);
        cJSON_AddItemToArray(arr, l);
    }
    free(st);
    free(w);
    return arr;
}
/* ---- target size: per-layer settings searched to fit the file size ---- */

/* The grid each layer is measured at (values outside a knob's range are
 * dropped); sparsity 0 means the pass leaves the layer alone. */
static const double tgt_sparsity[] = {0, 0.5, 0.7, 0.8, 0.9, 0.95};
static const double tgt_bits[] = {8, 5, 4, 3, 2};
#define TGT_MAX_PROBES 16
#define TGT_MEASURE_SAMPLES 1000

typedef struct tgt_probe {
    int *choice;     /* option per layer */
    lc_model *m;
    double acc;
    int64_t bytes;   /* the file as written */
    int64_t budget;  /* estimated bytes it was allocated for */
    double seconds;
    cJSON *passes;   /* the passes as run */
} tgt_probe;

typedef struct target {
    run_state *r;
    const lc_model *in;
    int n_steps, n_layers;
    char **weight;    /* weight tensor names (owned) */
    char **label;     /* node names for the report (owned) */
    int64_t *params;
    bool *covers;     /* [step * n_layers + layer]: the step compresses the layer */
    bool *grid;       /* per step: its knob is searched per layer */
    int *first;       /* options of layer l: first[l] .. first[l+1]-1 */
    int n_opts;
    double *val;      /* [option * n_steps + step]: knob value, NAN: not searched / not applied */
    double *cost;     /* damage of the option alone: KL divergence from the input model's outputs */
    double *acc;      /* accuracy of the option alone */
    int64_t *delta;   /* bytes the option adds to the input model's file */
    lc_model *base;   /* the input as measured against (huffman marks applied) */
    int64_t base_bytes;
    float *ref;       /* the input model's log-softmax outputs on the validation data */
    int64_t n_ref;
    int64_t classes;
    tgt_probe probes[TGT_MAX_PROBES];
    int n_probes;
    int done, total;  /* progress of the measurements */
} target;

static void target_free(target *t)
{
    for (int l = 0; l < t->n_layers; l++) {
        free(t->weight[l]);
        free(t->label[l]);
    }
    free(t->weight);
    free(t->label);
    free(t->params);
    free(t->covers);
    free(t->grid);
    free(t->first);
    free(t->val);
    free(t->cost);
    free(t->acc);
    free(t->delta);
    free(t->ref);
    lc_model_free(t->base);
    for (int i = 0; i < t->n_probes; i++) {
        free(t->probes[i].choice);
        lc_model_free(t->probes[i].m);
        cJSON_Delete(t->probes[i].passes);
    }
}

static int step_values(const target *t, int si, int layer, const double **vals)
{
    const lc_pass *ps = t->r->p->steps[si].pass;
    *vals = NULL;
    if (!t->grid[si] || !t->covers[si * t->n_layers + layer]) return 1;
    if (!strcmp(ps->knob, "bits")) {
        *vals = tgt_bits;
        return (int)(sizeof tgt_bits / sizeof *tgt_bits);
    }
    *vals = tgt_sparsity;
    return (int)(sizeof tgt_sparsity / sizeof *tgt_sparsity);
}

/* Which layers each step compresses, and which steps are searched. */
static lc_status target_layers(target *t)
{
    lc_pipeline *p = t->r->p;
    lc_model *probe = NULL;
    lc_weight *w = NULL;
    int n = 0, cap = 0;
    t->n_steps = p->n_steps;
    t->grid = calloc((size_t)p->n_steps, sizeof *t->grid);
    lc_status s = t->grid ? lc_model_clone(t->in, &probe) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < p->n_steps && !s; i++) { /* the union of the steps' layers, in model order */
        const step *st = &p->steps[i];
        if (!lc_params_get(&st->params, "include") || !strcmp(st->pass->name, "prune-structured")) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT,
                        "target size: pass %s does not compress weights layer by layer (the search runs weight passes "
                        "per layer: prune-*, quantize-*, binarize, huffman)",
                        st->pass->name);
            break;
        }
        const char *knob = st->pass->knob;
        const lc_param_value *nm = lc_params_get(&st->params, "nm");
        t->grid[i] = knob && (!strcmp(knob, "sparsity") || !strcmp(knob, "bits")) && !(nm && nm->nm_m);
        if (t->grid[i]) { /* the grid must lie in the knob's range */
            const lc_param_desc *d = lc_params_get(&st->params, knob)->desc;
            const double *g = !strcmp(knob, "bits") ? tgt_bits : tgt_sparsity;
            int ng = !strcmp(knob, "bits") ? (int)(sizeof tgt_bits / sizeof *tgt_bits)
                                           : (int)(sizeof tgt_sparsity / sizeof *tgt_sparsity);
            for (int k = 0; k < ng; k++) t->grid[i] = t->grid[i] && g[k] >= d->min && g[k] <= d->max;
        }
        if ((s = lc_weight_targets(probe, &st->params, &w, &n))) break;
        for (int k = 0; k < n && !s; k++) {
            bool known = false;
            for (int l = 0; l < t->n_layers && !known; l++) known = !strcmp(t->weight[l], w[k].tensor->name);
            if (known) continue;
            int c2 = cap;
            if ((s = lc_vec_reserve((void **)&t->weight, &cap, t->n_layers + 1, sizeof *t->weight))) break;
            if ((s = lc_vec_reserve((void **)&t->label, &c2, t->n_layers + 1, sizeof *t->label))) break;
            int64_t *pp = realloc(t->params, sizeof *pp * (size_t)(t->n_layers + 1));
            if (!pp) {
                s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
                break;
            }
            t->params = pp;
            const char *lname = w[k].node->name && *w[k].node->name ? w[k].node->name : w[k].tensor->name;
            t->weight[t->n_layers] = strdup(w[k].tensor->name);
            t->label[t->n_layers] = strdup(lname);
            t->params[t->n_layers] = lc_tensor_numel(w[k].tensor);
            t->n_layers++;
            if (!t->weight[t->n_layers - 1] || !t->label[t->n_layers - 1]) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
        free(w);
        w = NULL;
    }
    if (!s && !t->n_layers) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "target size: the passes select no weight layer");
    if (!s) {
        t->covers = calloc((size_t)p->n_steps * (size_t)t->n_layers, sizeof *t->covers);
        if (!t->covers) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < p->n_steps && !s; i++) {
        if ((s = lc_weight_targets(probe, &p->steps[i].params, &w, &n))) break;
        for (int k = 0; k < n; k++)
            for (int l = 0; l < t->n_layers; l++)
                if (!strcmp(t->weight[l], w[k].tensor->name)) t->covers[i * t->n_layers + l] = true;
        free(w);
        w = NULL;
    }
    lc_model_free(probe);
    return s;
}

/* A copy of a step's parameters restricted to `names` (include), with its
 * knob set to `v` unless v is NAN. */
static lc_status step_params(const step *st, char *const *names, int n_names, double v, lc_params *out)
{
    lc_status s = lc_params_copy(out, &st->params);
    if (s) return s;
    lc_param_value *inc = (lc_param_value *)lc_params_get(out, "include");
    for (int k = 0; k < inc->n_list; k++) free(inc->list[k]);
    free(inc->list);
    inc->list = NULL;
    inc->n_list = 0;
    inc->given = false;
    for (int k = 0; k < n_names && !s; k++) s = lc_params_set(out, "include", names[k]);
    if (!s && !isnan(v)) {
        char txt[64];
        const lc_param_value *kv = lc_params_get(out, st->pass->knob);
        snprintf(txt, sizeof txt, kv->desc->type == LC_PARAM_INT ? "%.0f" : "%.6g", v);
        lc_param_value *tv = (lc_param_value *)kv;
        free(tv->str);
        tv->str = NULL;
        s = lc_params_set(out, st->pass->knob, txt);
    }
    if (s) lc_params_clear(out);
    return s;
}

typedef struct out_state {
    target *t;
    bool record;           /* store the log-softmax as the reference */
    const int64_t *truth;  /* labels, or the input model's predictions */
    double kl;
    int64_t hit, n;
} out_state;

static lc_status on_outputs(void *user, int64_t start, int64_t n, const lc_array *out)
{
    out_state *o = user;
    target *t = o->t;
    if (out->dtype != LC_DTYPE_FLOAT || out->ndim < 1 || out->dims[0] != n)
        return lc_fail(LC_ERR_SHAPE, "the first output must be float32 with the batch as dim 0");
    int64_t k = 1;
    for (int d = 1; d < out->ndim; d++) k *= out->dims[d];
    if (o->record && !t->ref) {
        t->classes = k;
        t->ref = malloc(sizeof *t->ref * (size_t)(t->n_ref * k + 1));
        if (!t->ref) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    if (k != t->classes || start + n > t->n_ref) return lc_fail(LC_ERR_SHAPE, "target size: the output shape changed");
    const float *y = out->data;
    for (int64_t i = 0; i < n; i++) {
        const float *yi = y + i * k;
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (yi[j] > yi[best]) best = j;
        o->hit += o->truth ? best == o->truth[start + i] : 1;
        double lse = 0;
        for (int64_t j = 0; j < k; j++) lse += exp((double)yi[j] - yi[best]);
        lse = log(lse) + yi[best];
        float *ref = t->ref + (start + i) * k;
        for (int64_t j = 0; j < k; j++) {
            double lp = yi[j] - lse;
            if (o->record) ref[j] = (float)lp;
            else if (isfinite(lp)) o->kl += exp((double)ref[j]) * ((double)ref[j] - lp);
            else o->kl += 1e3; /* a probability underflowed to zero: a large, finite damage */
        }
    }
    o->n += n;
    return LC_OK;
}

/* Accuracy (%) and mean KL divergence from the input model's outputs. */
static lc_status outputs_eval(target *t, const lc_model *m, bool record, double *acc, double *kl)
{
    run_state *r = t->r;
    out_state o = {t, record, r->p->labels ? r->p->labels : r->float_pred, 0, 0, 0};
    lc_status s = lc_dataset_run(m, r->p->val, t->n_ref, r->ctx->batch, r->ctx->threads, NULL, NULL, on_outputs, &o,
                                 r->ctx);
    if (s) return s;
    *acc = o.n ? 100.0 * (double)o.hit / (double)o.n : 0;
    *kl = o.n ? o.kl / (double)o.n : 0;
    return LC_OK;
}

/* Measures every option of layer l: the steps applied in order to this
 * layer alone, recursively over the searched steps' values. */
static lc_status measure(target *t, int l, int i, const lc_model *m, double *vals, int *opt)
{
    run_state *r = t->r;
    if (i == t->n_steps) {
        int o = t->first[l] + (*opt)++;
        memcpy(t->val + (size_t)o * t->n_steps, vals, sizeof *vals * (size_t)t->n_steps);
        int64_t bytes;
        lc_status s = outputs_eval(t, m, false, &t->acc[o], &t->cost[o]);
        if (!s) s = model_bytes(r, m, &bytes);
        if (s) return s;
        t->delta[o] = bytes - t->base_bytes;
        lc_progress(r->ctx, "target size", ++t->done, t->total);
        return LC_OK;
    }
    const step *st = &r->p->steps[i];
    const double *grid;
    int n_vals = step_values(t, i, l, &grid);
    lc_status s = LC_OK;
    for (int k = 0; k < n_vals && !s; k++) {
        double v = grid ? grid[k] : NAN;
        bool apply = t->covers[i * t->n_layers + l] && !(grid && v == 0 && strcmp(st->pass->knob, "bits"));
        vals[i] = grid && apply ? v : NAN;
        if (!apply) {
            s = measure(t, l, i + 1, m, vals, opt);
            continue;
        }
        lc_model *c = NULL;
        lc_params pv;
        if ((s = step_params(st, &t->weight[l], 1, vals[i], &pv))) break;
        if (!(s = lc_model_clone(m, &c)) && !(s = lc_pass_run_params(c, st->pass, &pv, r->ctx)))
            s = measure(t, l, i + 1, c, vals, opt);
        lc_params_clear(&pv);
        lc_model_free(c);
        if (s) lc_fail_prefix(s, "target size: layer '%s', pass %s", t->label[l], st->pass->name);
    }
    return s;
}

static lc_status target_measure(target *t)
{
    run_state *r = t->r;
    int n_opts = 0;
    t->first = malloc(sizeof *t->first * (size_t)(t->n_layers + 1));
    if (!t->first) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers; l++) {
        t->first[l] = n_opts;
        int k = 1;
        for (int i = 0; i < t->n_steps; i++) {
            const double *g;
            k *= step_values(t, i, l, &g);
        }
        n_opts += k;
    }
    t->first[t->n_layers] = n_opts;
    t->n_opts = n_opts;
    t->total = n_opts;
    t->val = malloc(sizeof *t->val * (size_t)n_opts * (size_t)t->n_steps + 1);
    t->cost = malloc(sizeof *t->cost * (size_t)n_opts);
    t->acc = malloc(sizeof *t->acc * (size_t)n_opts);
    t->delta = malloc(sizeof *t->delta * (size_t)n_opts);
    double *vals = malloc(sizeof *vals * (size_t)t->n_steps + 1);
    lc_status s = t->val && t->cost && t->acc && t->delta && vals ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    double acc0, kl0;
    t->n_ref = lc_dataset_count(r->p->val);
    if (r->p->val_limit > 0 && r->p->val_limit < t->n_ref) t->n_ref = r->p->val_limit;
    /* the single-layer measurements rank settings by KL divergence, which is
       smooth enough on a subset; the candidates are checked on all samples */
    if (t->n_ref > TGT_MEASURE_SAMPLES) t->n_ref = TGT_MEASURE_SAMPLES;
    /* a copy, as every candidate is (the input may carry what copies drop) */
    lc_model *base = NULL;
    if (!s) s = lc_model_clone(t->in, &base);
    /* Huffman marks make the .lcm writer entropy-code every unencoded
       tensor too: marked in the base already, each layer's bytes add up */
    for (int i = 0; i < r->p->n_steps && !s; i++)
        if (!strcmp(r->p->steps[i].pass->name, "huffman"))
            s = lc_pass_run_params(base, r->p->steps[i].pass, &r->p->steps[i].params, r->ctx);
    if (!s) s = model_bytes(r, base, &t->base_bytes);
    if (!s) s = outputs_eval(t, t->in, true, &acc0, &kl0);
    lc_log(r->ctx, "target size: measuring %d layers x settings (%d configurations, each layer alone)", t->n_layers,
           n_opts);
    for (int l = 0; l < t->n_layers && !s; l++) {
        int opt = 0;
        s = measure(t, l, 0, base, vals, &opt);
    }
    t->base = base;
    free(vals);
    return s;
}

/* The damage of an option for the allocation: its KL divergence, with its
 * accuracy loss as a tie-break, never negative (noise). */
static double option_cost(const target *t, int o)
{
    double c = t->cost[o] > 0 ? t->cost[o] : 0;
    double d = t->r->float_metric - t->acc[o];
    return c + 1e-6 * (d > 0 ? d : 0);
}

/* Builds the model for a choice: each step runs once per distinct knob
 * value, on the layers that chose it (in model order), else as given. */
static lc_status target_build(target *t, const int *choice, tgt_probe *pr)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    double t0 = now_s();
    lc_model *m = NULL;
    char **names = malloc(sizeof *names * (size_t)t->n_layers);
    lc_status s = names ? lc_model_clone(t->in, &m) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    pr->passes = cJSON_CreateArray();
    for (int i = 0; i < p->n_steps && !s; i++) {
        const step *st = &p->steps[i];
        double ts = now_s(), acc;
        int64_t bytes;
        if (!t->grid[i]) {
            s = lc_pass_run_params(m, st->pass, &st->params, r->ctx);
        } else {
            /* one layer per run, in model order, as measured: a pass given
               several layers may share its knob among them */
            for (int l = 0; l < t->n_layers && !s; l++) {
                double v = t->val[(size_t)choice[l] * t->n_steps + i];
                if (isnan(v)) continue;
                names[0] = t->weight[l];
                lc_params pv;
                if ((s = step_params(st, names, 1, v, &pv))) break;
                s = lc_pass_run_params(m, st->pass, &pv, r->ctx);
                lc_params_clear(&pv);
            }
        }
        if (!s) s = metric(r, m, &acc);
        if (!s) s = model_bytes(r, m, &bytes);
        if (s) {
            lc_fail_prefix(s, "target size: pass %s", st->pass->name);
            break;
        }
        char *ptxt = lc_params_to_string(&st->params);
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", st->pass->name);
        if (t->grid[i]) {
            char *full = malloc(strlen(ptxt ? ptxt : "") + 64);
            if (full) sprintf(full, "%s per layer (see target.layers); %s", st->pass->knob, ptxt ? ptxt : "");
            cJSON_AddStringToObject(pj, "params", full ? full : "");
            free(full);
        } else cJSON_AddStringToObject(pj, "params", ptxt ? ptxt : "");
        free(ptxt);
        cJSON_AddStringToObject(pj, "outcome", t->grid[i] ? "allocated" : "applied");
        cJSON_AddNumberToObject(pj, "seconds", now_s() - ts);
        if (isfinite(acc)) cJSON_AddNumberToObject(pj, "accuracy", acc);
        else cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)bytes);
        cJSON_AddItemToArray(pr->passes, pj);
        pr->acc = acc;
    }
    if (!s && p->size_fn) s = p->size_fn(p->size_user, m, &pr->bytes);
    else if (!s) { /* exactly the file lc_pipeline_write will write */
        void *buf;
        size_t len;
        cJSON *ij = input_json(r), *aj = accuracy_json(p, r->float_metric, pr->acc);
        s = serialize(p, m, ij, aj, &buf, &len);
        cJSON_Delete(ij);
        cJSON_Delete(aj);
        if (!s) {
            free(buf);
            pr->bytes = (int64_t)len;
        }
    }
    free(names);
    if (s) {
        lc_model_free(m);
        return s;
    }
    pr->m = m;
    pr->seconds = now_s() - t0;
    return LC_OK;
}

/* Allocates settings for an estimated byte budget and builds them, unless
 * an earlier probe made the same choice. *idx: the probe, or -1 when the
 * estimate says nothing fits the budget (and `force` is false). */
static lc_status target_probe(target *t, int64_t budget, bool force, int *idx)
{
    run_state *r = t->r;
    *idx = -1;
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    double *cost = malloc(sizeof *cost * (size_t)t->n_opts + 1);
    int64_t *bytes = malloc(sizeof *bytes * (size_t)t->n_opts + 1);
    int64_t floor_bytes = t->base_bytes;
    lc_status s = choice && cost && bytes ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers && !s; l++) { /* bytes above each layer's smallest option */
        int64_t mn = INT64_MAX;
        for (int o = t->first[l]; o < t->first[l + 1]; o++) mn = t->delta[o] < mn ? t->delta[o] : mn;
        for (int o = t->first[l]; o < t->first[l + 1]; o++) {
            bytes[o] = t->delta[o] - mn;
            cost[o] = option_cost(t, o);
        }
        floor_bytes += mn;
    }
    lc_alloc_table tab = {t->n_layers, t->first, cost, bytes};
    bool oom = false, fits = !s && lc_alloc_solve(&tab, budget - floor_bytes, choice, &oom);
    if (!s && oom) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s && (fits || force)) {
        for (int i = 0; i < t->n_probes && *idx < 0; i++)
            if (!memcmp(t->probes[i].choice, choice, sizeof *choice * (size_t)t->n_layers)) *idx = i;
        if (*idx < 0 && t->n_probes < TGT_MAX_PROBES) {
            tgt_probe *pr = &t->probes[t->n_probes];
            memset(pr, 0, sizeof *pr);
            pr->budget = budget;
            if (!(s = target_build(t, choice, pr))) {
                pr->choice = choice;
                choice = NULL;
                *idx = t->n_probes++;
                cJSON *tj = cJSON_CreateObject();
                char txt[96];
                snprintf(txt, sizeof txt, "per-layer settings for an estimated %lld bytes (estimate %lld)",
                         (long long)budget, (long long)(floor_bytes + lc_alloc_bytes(&tab, pr->choice)));
                cJSON_AddStringToObject(tj, "pass", "target-size");
                cJSON_AddStringToObject(tj, "params", txt);
                cJSON_AddNumberToObject(tj, "bytes", (double)pr->bytes);
                if (isfinite(pr->acc)) cJSON_AddNumberToObject(tj, "accuracy", pr->acc);
                else cJSON_AddNullToObject(tj, "accuracy");
                cJSON *sj = cJSON_AddArrayToObject(tj, "settings");
                for (int l = 0; l < t->n_layers; l++) {
                    char one[256];
                    int len = snprintf(one, sizeof one, "%s:", t->label[l]);
                    for (int i = 0; i < t->n_steps && len < (int)sizeof one; i++) {
                        double v = t->val[(size_t)pr->choice[l] * t->n_steps + i];
                        if (t->grid[i])
                            len += snprintf(one + len, sizeof one - (size_t)len, " %s=%g", r->p->steps[i].pass->knob,
                                            isnan(v) ? 0 : v);
                    }
                    cJSON_AddItemToArray(sj, cJSON_CreateString(one));
                }
                cJSON_AddItemToArray(r->tried, tj);
                lc_log(r->ctx, "target size: probe %d: %lld bytes, accuracy %.2f", t->n_probes, (long long)pr->bytes,
                       pr->acc);
            } else {
                cJSON_Delete(pr->passes);
                pr->passes = NULL;
            }
        }
    }
    free(choice);
    free(cost);
    free(bytes);
    return s;
}

/* The best probe: within the size (and budget, when `need_budget`), the
 * most accurate, or with a budget the smallest within it. -1 if none. */
static int target_best(const target *t, bool need_fit, bool need_budget, bool smallest)
{
    const run_state *r = t->r;
    int best = -1;
    for (int i = 0; i < t->n_probes; i++) {
        const tgt_probe *pr = &t->probes[i];
        if (need_fit && pr->bytes > r->p->target_size) continue;
        if (need_budget && !within_drop(r, pr->acc, r->p->max_drop)) continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const tgt_probe *b = &t->probes[best];
        double pa = isfinite(pr->acc) ? pr->acc : 0, ba = isfinite(b->acc) ? b->acc : 0;
        bool better = smallest ? pr->bytes < b->bytes || (pr->bytes == b->bytes && pa > ba)
                               : pa > ba || (pa == ba && pr->bytes < b->bytes);
        if (better) best = i;
    }
    return best;
}

/* Bisects the estimated budget between lo and hi with real builds, for
 * the smallest model within the accuracy budget (fitting the target when
 * `need_fit`). */
static lc_status target_bisect(target *t, int64_t lo, int64_t hi, int rounds)
{
    lc_status s = LC_OK;
    for (int k = 0; k < rounds && !s && hi - lo > 16 && t->n_probes < TGT_MAX_PROBES; k++) {
        int64_t mid = lo + (hi - lo) / 2;
        int idx;
        if ((s = target_probe(t, mid, false, &idx))) break;
        if (idx >= 0 && within_drop(t->r, t->probes[idx].acc, t->r->p->max_drop)) hi = mid;
        else lo = mid;
    }
    return s;
}

static cJSON *target_report(const target *t, int chosen, int64_t smallest, double seconds)
{
    const run_state *r = t->r;
    cJSON *tj = cJSON_CreateObject();
    cJSON_AddNumberToObject(tj, "target_bytes", (double)r->p->target_size);
    cJSON_AddNumberToObject(tj, "achieved_bytes", chosen >= 0 ? (double)t->probes[chosen].bytes : (double)smallest);
    cJSON_AddBoolToObject(tj, "fits", chosen >= 0 && t->probes[chosen].bytes <= r->p->target_size);
    cJSON_AddNumberToObject(tj, "smallest_bytes", (double)smallest);
    cJSON_AddNumberToObject(tj, "probes", t->n_probes);
    cJSON_AddNumberToObject(tj, "configurations_measured", t->n_opts);
    cJSON_AddNumberToObject(tj, "seconds", seconds);
    cJSON *knobs = cJSON_AddArrayToObject(tj, "knobs");
    for (int i = 0; i < t->n_steps; i++)
        if (t->grid[i]) {
            char k[96];
            snprintf(k, sizeof k, "%s.%s", r->p->steps[i].pass->name, r->p->steps[i].pass->knob);
            cJSON_AddItemToArray(knobs, cJSON_CreateString(k));
        }
    cJSON *layers = cJSON_AddArrayToObject(tj, "layers");
    for (int l = 0; l < t->n_layers; l++) {
        cJSON *lj = cJSON_CreateObject();
        cJSON_AddStringToObject(lj, "name", t->label[l]);
        cJSON_AddStringToObject(lj, "weight", t->weight[l]);
        cJSON_AddNumberToObject(lj, "params", (double)t->params[l]);
        if (chosen >= 0) {
            int o = t->probes[chosen].choice[l];
            cJSON *sj = cJSON_AddArrayToObject(lj, "setting");
            for (int i = 0; i < t->n_steps; i++)
                if (t->grid[i]) {
                    double v = t->val[(size_t)o * t->n_steps + i];
                    cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(v) ? 0 : v));
                }
            cJSON_AddNumberToObject(lj, "alone_accuracy", t->acc[o]);
            cJSON_AddNumberToObject(lj, "alone_bytes_added", (double)t->delta[o]);
        }
        cJSON *opts = cJSON_AddArrayToObject(lj, "grid");
        for (int o = t->first ? t->first[l] : 0; t->first && o < t->first[l + 1]; o++) {
            cJSON *oj = cJSON_CreateObject();
            cJSON *sj = cJSON_AddArrayToObject(oj, "setting");
            for (int i = 0; i < t->n_steps; i++)
                if (t->grid[i]) {
                    double v = t->val[(size_t)o * t->n_steps + i];
                    cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(v) ? 0 : v));
                }
            cJSON_AddNumberToObject(oj, "accuracy", t->acc[o]);
            cJSON_AddNumberToObject(oj, "kl", t->cost[o]);
            cJSON_AddNumberToObject(oj, "bytes_added", (double)t->delta[o]);
            cJSON_AddItemToArray(opts, oj);
        }
        cJSON_AddItemToArray(layers, lj);
    }
    return tj;
}

/* The most compressing end of the grid on every layer, built before the
 * measurements: when even it does not fit, nothing does (*bytes: its file). */
static lc_status target_floor(target *t, int64_t *bytes)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    lc_model *m = NULL;
    char **names = malloc(sizeof *names * (size_t)t->n_layers + 1);
    lc_status s = names ? lc_model_clone(t->in, &m) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < p->n_steps && !s; i++) {
        const step *st = &p->steps[i];
        if (!t->grid[i]) {
            s = lc_pass_run_params(m, st->pass, &st->params, r->ctx);
            continue;
        }
        int n = 0;
        for (int l = 0; l < t->n_layers; l++)
            if (t->covers[i * t->n_layers + l]) names[n++] = t->weight[l];
        double v = !strcmp(st->pass->knob, "bits") ? tgt_bits[sizeof tgt_bits / sizeof *tgt_bits - 1]
                                                   : tgt_sparsity[sizeof tgt_sparsity / sizeof *tgt_sparsity - 1];
        lc_params pv;
        if (!(s = step_params(st, names, n, v, &pv))) {
            s = lc_pass_run_params(m, st->pass, &pv, r->ctx);
            lc_params_clear(&pv);
        }
    }
    double acc = NAN;
    if (!s) s = metric(r, m, &acc);
    if (!s && p->size_fn) s = p->size_fn(p->size_user, m, bytes);
    else if (!s) {
        void *buf;
        size_t len;
        cJSON *ij = input_json(r), *aj = accuracy_json(p, r->float_metric, acc);
        s = serialize(p, m, ij, aj, &buf, &len);
        cJSON_Delete(ij);
        cJSON_Delete(aj);
        if (!s) {
            free(buf);
            *bytes = (int64_t)len;
        }
    }
    if (!s) {
        cJSON *tj = cJSON_CreateObject();
        cJSON_AddStringToObject(tj, "pass", "target-size");
        cJSON_AddStringToObject(tj, "params", "the most compressing grid setting on every layer");
        cJSON_AddNumberToObject(tj, "bytes", (double)*bytes);
        if (isfinite(acc)) cJSON_AddNumberToObject(tj, "accuracy", acc);
        else cJSON_AddNullToObject(tj, "accuracy");
        cJSON_AddItemToArray(r->tried, tj);
        lc_log(r->ctx, "target size: the most compressing settings give %lld bytes", (long long)*bytes);
    }
    lc_model_free(m);
    free(names);
    return s;
}

/* The target-size search. *chosen: the probe to return (-1: nothing fits
 * the size); *smallest: the smallest file reached. */
static lc_status target_search(target *t, int *chosen, int64_t *smallest)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    int64_t T = p->target_size;
    *chosen = -1;
    *smallest = INT64_MAX;
    int64_t floor_file = 0;
    lc_status s = target_layers(t);
    if (!s) s = target_floor(t, &floor_file);
    if (s) return s;
    if (floor_file > T) {
        *smallest = floor_file;
        return LC_OK;
    }
    if ((s = target_measure(t))) return s;
    /* the META section and other fixed bytes: measured on the input model */
    int64_t fixed = 0;
    if (!p->size_fn && p->format == LC_FORMAT_LCM) {
        void *buf;
        size_t len;
        cJSON *ij = input_json(r), *aj = accuracy_json(p, r->float_metric, r->float_metric);
        s = serialize(p, t->base, ij, aj, &buf, &len);
        cJSON_Delete(ij);
        cJSON_Delete(aj);
        if (s) return s;
        free(buf);
        fixed = (int64_t)len - t->base_bytes;
    }
    /* fit: shrink the estimated budget until a real build fits */
    int64_t budget = T - fixed, fit_budget = -1;
    int idx = -1;
    for (int k = 0; k < 6 && !s; k++) {
        if ((s = target_probe(t, budget, false, &idx))) break;
        if (idx < 0) break; /* the estimate says nothing fits */
        const tgt_probe *pr = &t->probes[idx];
        if (pr->bytes <= T) {
            fit_budget = budget;
            break;
        }
        budget -= pr->bytes - T + (T / 200 + 1) * (k + 1);
    }
    if (s) return s;
    if (fit_budget < 0) { /* the fewest bytes of every layer: the smallest reachable */
        if ((s = target_probe(t, -1, true, &idx))) return s;
        if (idx >= 0 && t->probes[idx].bytes <= T) fit_budget = -1; /* fits after all: kept below */
    } else if (t->probes[idx].bytes < T - (T / 50 + 64)) {
        /* the estimate was pessimistic: spend the slack once */
        if ((s = target_probe(t, fit_budget + (T - t->probes[idx].bytes), false, &idx))) return s;
    }
    int fit = target_best(t, true, false, false);
    if (fit >= 0 && p->max_drop >= 0 && p->val) {
        int64_t fb = t->probes[fit].budget;
        if (within_drop(r, t->probes[fit].acc, p->max_drop)) { /* smaller models within the budget */
            int64_t floor_bytes = t->base_bytes;
            for (int l = 0; l < t->n_layers; l++) {
                int64_t mn = INT64_MAX;
                for (int o = t->first[l]; o < t->first[l + 1]; o++) mn = t->delta[o] < mn ? t->delta[o] : mn;
                floor_bytes += mn;
            }
            s = target_bisect(t, floor_bytes, fb, 5);
        }
        else { /* over the budget: the smallest model within it, larger than the target */
            int64_t hi = fb;
            for (int o = 0; o < t->n_opts; o++) hi += t->delta[o] > 0 ? t->delta[o] : 0;
            s = target_bisect(t, fb, hi, 6);
        }
        if (s) return s;
    }
    *smallest = floor_file;
    for (int i = 0; i < t->n_probes; i++) *smallest = t->probes[i].bytes < *smallest ? t->probes[i].bytes : *smallest;
    if (p->max_drop >= 0 && p->val) {
        *chosen = target_best(t, true, true, true);
        if (*chosen < 0 && target_best(t, true, false, false) >= 0) {
            p->budget_met = false; /* fits, but not within the accuracy budget */
            *chosen = target_best(t, false, true, true);
        }
    } else {
        *chosen = target_best(t, true, false, false);
    }
    return LC_OK;
}

/* The report's top-level figures for the result `out` (accuracy final_acc,
 * `bytes` as measured during the run). */
static void finish_report(lc_pipeline *p, run_state *r, const lc_model *in, const lc_model *out, cJSON *passes,
                          double final_acc, int64_t bytes)
{
    cJSON *rep = p->report;
    cJSON_AddItemToObject(rep, "input", input_json(r));
    cJSON *oj = cJSON_AddObjectToObject(rep, "output");
    cJSON_AddStringToObject(oj, "path", "");
    cJSON_AddNumberToObject(oj, "bytes", (double)bytes);
    cJSON_AddNumberToObject(rep, "ratio", bytes ? (double)r->in_bytes / (double)bytes : 0);
    cJSON_AddItemToObject(rep, "accuracy", accuracy_json(p, r->float_metric, final_acc));
    cJSON_AddBoolToObject(rep, "budget_met", p->budget_met);
    if (p->target_size > 0) cJSON_AddBoolToObject(rep, "target_met", p->target_met);
    cJSON_AddItemToObject(rep, "passes", passes);
    cJSON_AddItemToObject(rep, "layers", out ? layers_json(in, out) : cJSON_CreateArray());
    cJSON_AddItemToObject(rep, "tried", r->tried);
    r->tried = NULL;
}

/* One run of the passes in order. With `share`, each pass with a knob may
 * use an equal share of the budget left (what it leaves goes to the next);
 * without, the first pass may spend it all. *starved: a later pass had to
 * back off; *met: false when a pass was skipped. */
typedef struct steps_result {
    lc_model *m;
    cJSON *passes;
    double acc;
    int64_t bytes;
} steps_result;

static lc_status run_steps(lc_pipeline *p, run_state *r, const lc_model *in, bool share, steps_result *res, bool *starved,
                           bool *met)
{
    const lc_context *ctx = r->ctx;
    /* the passes read the input itself until one changes it: one model-sized
       copy fewer at peak */
    const lc_model *cur = in;
    lc_model *owned = NULL;
    double cur_acc = r->float_metric;
    int64_t cur_bytes = r->in_bytes_model;
    *starved = false;
    *met = true;
    memset(res, 0, sizeof *res);
    int knob_steps = 0; /* the budget is shared among the passes that have a knob */
    for (int i = 0; i < p->n_steps; i++) knob_steps += p->steps[i].pass->knob != NULL;
    lc_status s = LC_OK;
    cJSON *passes = cJSON_CreateArray();
    for (int i = 0; i < p->n_steps && !s; i++) {
        const step *st = &p->steps[i];
        double t0 = now_s(), acc;
        int64_t bytes;
        lc_model *cand;
        lc_params used;
        if (p->max_drop >= 0 && st->pass->knob && share) {
            /* an equal share of what is left, so the first pass does not
               spend the whole budget; what a pass leaves goes to the next */
            double used_drop = isfinite(cur_acc) && r->float_metric > cur_acc ? r->float_metric - cur_acc : 0;
            r->allow = used_drop + (p->max_drop - used_drop) / knob_steps;
            if (r->allow > p->max_drop) r->allow = p->max_drop;
            knob_steps--;
        } else r->allow = p->max_drop;
        if ((s = lc_params_copy(&used, &st->params))) break;
        lc_log(ctx, "pass %d/%d: %s", i + 1, p->n_steps, st->pass->name);
        if ((s = try_step(r, cur, st, &st->params, &cand, &acc, &bytes))) {
            lc_params_clear(&used);
            break;
        }
        const char *outcome = "applied";
        if (!within(r, acc)) {
            lc_log(ctx, "  %s: accuracy %.2f is over its share of the budget (float %.2f, drop allowed so far %.2f of %.2f): backing off",
                   st->pass->name, acc, r->float_metric, r->allow, p->max_drop);
            lc_model_free(cand);
            cand = NULL;
            if (st->pass->knob && (s = back_off(r, cur, st, &cand, &acc, &bytes, &used))) {
                lc_params_clear(&used);
                break;
            }
            if (i > 0 && st->pass->knob) *starved = true;
            if (cand) outcome = "backed off";
            else { /* the model stays as it was before the pass */
                outcome = "skipped";
                *met = false;
                acc = cur_acc;
                bytes = cur_bytes;
            }
        }
        char *ptxt = lc_params_to_string(&used);
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", st->pass->name);
        cJSON_AddStringToObject(pj, "params", ptxt ? ptxt : "");
        cJSON_AddStringToObject(pj, "outcome", outcome);
        cJSON_AddNumberToObject(pj, "seconds", now_s() - t0);
        if (isfinite(acc)) cJSON_AddNumberToObject(pj, "accuracy", acc);
        else cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)bytes);
        if (p->max_drop >= 0) cJSON_AddNumberToObject(pj, "drop_allowed", r->allow);
        cJSON_AddItemToArray(passes, pj);
        free(ptxt);
        lc_params_clear(&used);
        if (cand) {
            lc_model_free(owned);
            cur = owned = cand;
        }
        cur_acc = acc;
        cur_bytes = bytes;
    }
    if (!s && !owned) s = lc_model_clone(in, &owned);
    if (s) {
        lc_model_free(owned);
        cJSON_Delete(passes);
        return s;
    }
    res->m = owned;
    res->passes = passes;
    res->acc = cur_acc;
    res->bytes = cur_bytes;
    return LC_OK;
}

/* --target-size: the search of the per-layer settings instead of the
 * passes as given. */
static lc_status run_target(lc_pipeline *p, run_state *r, const lc_model *in, lc_model **out)
{
    if (!p->val)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "a target size needs validation data (--val) to rank the settings on");
    double t0 = now_s();
    target t;
    memset(&t, 0, sizeof t);
    t.r = r;
    t.in = in;
    int chosen = -1;
    int64_t smallest = 0;
    lc_status s = target_search(&t, &chosen, &smallest);
    if (s) {
        target_free(&t);
        return s;
    }
    const tgt_probe *pr = chosen >= 0 ? &t.probes[chosen] : NULL;
    bool fits = pr && pr->bytes <= p->target_size;
    bool none_fits = smallest > p->target_size;
    p->target_met = fits;
    lc_model *result = NULL;
    if (pr) {
        result = pr->m;
        t.probes[chosen].m = NULL;
    } else if (!none_fits && (s = lc_model_clone(in, &result))) { /* over budget everywhere: the input model */
        target_free(&t);
        return s;
    }
    cJSON_AddItemToObject(p->report, "target", target_report(&t, chosen, smallest, now_s() - t0));
    cJSON *passes = pr ? cJSON_Duplicate(pr->passes, 1) : cJSON_CreateArray();
    double acc = pr ? pr->acc : r->float_metric;
    int64_t bytes = pr ? pr->bytes : r->in_bytes;
    finish_report(p, r, in, none_fits ? NULL : result, passes, acc, bytes);
    target_free(&t);
    if (none_fits) {
        lc_model_free(result);
        return lc_fail(LC_ERR_BUDGET, "no configuration fits %lld bytes: the smallest file reached is %lld bytes (%.1fx the target)",
                       (long long)p->target_size, (long long)smallest, (double)smallest / (double)p->target_size);
    }
    *out = result;
    return LC_OK;
}

lc_status lc_pipeline_run(lc_pipeline *p, const lc_model *in, const lc_context *ctx, lc_model **out)
{
    *out = NULL;
    if (!p->n_steps) return lc_fail(LC_ERR_INVALID_ARGUMENT, "no passes to run (give a recipe or --pass)");
    if (p->max_drop >= 0 && !p->val)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "an accuracy budget (max_drop) needs validation data (--val)");
    lc_status fs = lc_model_check_finite(in);
    if (fs) return fs;
    /* passes see the input model as their reference (bias-correct) */
    lc_context local;
    if (ctx) local = *ctx;
    else {
        memset(&local, 0, sizeof local);
        local.threads = 1;
        local.batch = 64;
    }
    local.reference = in;
    ctx = &local;
    run_state r = {p, ctx, NULL, 0, NAN, p->max_drop, 0, 0, 0, in->path ? in->path : "", cJSON_CreateArray()};
    cJSON_Delete(p->report);
    free(p->report_text);
    p->report_text = NULL;
    p->report = cJSON_CreateObject();
    p->budget_met = true;
    p->target_met = true;
    lc_status s = metric(&r, in, &r.float_metric);
    if (!s) s = model_bytes(&r, in, &r.in_bytes);
    r.in_bytes_model = r.in_bytes;
    struct stat in_stat; /* the input's size is its file's, when it has one */
    if (!s && in->path && stat(in->path, &in_stat) == 0) r.in_bytes = (int64_t)in_stat.st_size;
    lc_model_info info;
    if (!s && !lc_model_info_compute(in, &info)) {
        r.in_params = info.params;
        lc_model_info_clear(&info);
    }
    if (!s && p->target_size > 0) {
        s = run_target(p, &r, in, out);
        free(r.float_pred);
        cJSON_Delete(r.tried);
        if (s == LC_ERR_BUDGET) { /* the report says what was tried */
            cJSON_AddStringToObject(p->report, "error", lc_last_error());
            p->report_text = cJSON_Print(p->report);
        }
        return s;
    }
    /* Greedy first (the first pass may spend the whole budget); when that
       starves a later pass, again with the budget shared, keeping the
       smaller result (within the budget when one is) */
    steps_result res = {0}, alt = {0};
    bool starved = false, met = true, met2 = true;
    const char *split = "greedy";
    if (!s) s = run_steps(p, &r, in, false, &res, &starved, &met);
    if (!s && starved && p->max_drop >= 0) {
        lc_log(ctx, "a later pass was starved of budget: running the passes again with the budget shared");
        if (!(s = run_steps(p, &r, in, true, &alt, &starved, &met2))) {
            if ((met2 && !met) || (met2 == met && alt.bytes < res.bytes)) {
                steps_result tmp = res;
                res = alt;
                alt = tmp;
                met = met2;
                split = "shared";
            }
            lc_model_free(alt.m);
            cJSON_Delete(alt.passes);
        }
    }
    p->budget_met = met;
    if (!s && p->max_drop >= 0) cJSON_AddStringToObject(p->report, "budget_split", split);
    if (s) {
        lc_model_free(res.m);
        cJSON_Delete(res.passes);
        free(r.float_pred);
        cJSON_Delete(r.tried);
        return s;
    }
    /* the last step's validation already measured the result */
    finish_report(p, &r, in, res.m, res.passes, res.acc, res.bytes);
    free(r.float_pred);
    *out = res.m;
    return LC_OK;
}

/* Replaces the layers' bytes_after with what each weight takes in the
 * written .lcm file and adds the overhead, so they add up to its size. */
static lc_status account_lcm(lc_pipeline *p, const void *buf, size_t len)
{
    lc_lcm_accounting a;
    lc_status s = lc_lcm_accounting_compute(buf, len, &a);
    if (s) return s;
    int64_t layer_total = 0;
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(p->report, "layers"), *l;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(l, "weight");
        for (int i = 0; cJSON_IsString(w) && i < a.n_tensors; i++)
            if (!strcmp(a.tensors[i].name, w->valuestring)) {
                cJSON_ReplaceItemInObject(l, "bytes_after", cJSON_CreateNumber((double)a.tensors[i].bytes));
                layer_total += a.tensors[i].bytes;
            }
    }
    int64_t tensors = 0;
    for (int i = 0; i < a.n_tensors; i++) tensors += a.tensors[i].bytes;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "header", (double)a.header_bytes);
    cJSON_AddNumberToObject(o, "meta", (double)a.meta_bytes);
    cJSON_AddNumberToObject(o, "graph", (double)a.graph_bytes);
    cJSON_AddNumberToObject(o, "other_tensors", (double)(tensors - layer_total));
    cJSON_AddNumberToObject(o, "total", (double)(a.file_bytes - layer_total));
    cJSON_DeleteItemFromObject(p->report, "overhead");
    cJSON_AddItemToObject(p->report, "overhead", o);
    lc_lcm_accounting_clear(&a);
    return LC_OK;
}
lc_status lc_pipeline_write(lc_pipeline *p, const lc_model *m, const char *path)
{
    if (!p->report || !cJSON_GetObjectItemCaseSensitive(p->report, "output"))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "the pipeline has not run");
    void *buf = NULL;
    size_t len = 0;
    cJSON *oj = cJSON_GetObjectItemCaseSensitive(p->report, "output");
    cJSON_ReplaceItemInObject(oj, "path", cJSON_CreateString(path));
    lc_status s = serialize(p, m, cJSON_GetObjectItemCaseSensitive(p->report, "input"),
                            cJSON_GetObjectItemCaseSensitive(p->report, "accuracy"), &buf, &len);
    if (!s && p->format == LC_FORMAT_LCM) s = account_lcm(p, buf, len);
    /* a result that fits the target must fit as written: the search measured
       exactly this file */
    if (!s && p->target_size > 0 && p->target_met && !p->size_fn && (int64_t)len > p->target_size)
        s = lc_fail(LC_ERR_INTERNAL, "the file takes %zu bytes, over the target of %lld the search measured it within",
                    len, (long long)p->target_size);
    if (!s) s = lc_write_file_atomic(path, buf, len);
    free(buf);
    if (s) return s;
    cJSON_ReplaceItemInObject(oj, "bytes", cJSON_CreateNumber((double)len));
    const cJSON *ij = cJSON_GetObjectItemCaseSensitive(p->report, "input");
    double inb = cJSON_GetObjectItemCaseSensitive(ij, "bytes")->valuedouble;
    cJSON_ReplaceItemInObject(p->report, "ratio", cJSON_CreateNumber(len ? inb / (double)len : 0));
    cJSON *tj = cJSON_GetObjectItemCaseSensitive(p->report, "target");
    if (tj) cJSON_ReplaceItemInObject(tj, "achieved_bytes", cJSON_CreateNumber((double)len));
    free(p->report_text);
    p->report_text = cJSON_Print(p->report);
    return p->report_text ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}
