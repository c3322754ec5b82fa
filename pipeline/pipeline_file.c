/* The pipeline's outputs: the report's top-level objects, the file as
 * written (.lcm with its META section, or ONNX) and its size, and writing
 * it with the report's byte accounting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_metric_measure.h"
#include "lc_pipeline_internal.h"

typedef lc_run_state run_state;

/* The report's "input" and "accuracy" objects; the .lcm META section holds
 * copies, so the target-size search builds them the same way to know the
 * exact file size. */
cJSON *lc_pipeline_input_json(const run_state *r)
{
    cJSON *ij = cJSON_CreateObject();
    cJSON_AddStringToObject(ij, "path", r->in_path);
    cJSON_AddNumberToObject(ij, "bytes", (double)r->in_bytes);
    cJSON_AddNumberToObject(ij, "params", (double)r->in_params);
    return ij;
}

cJSON *lc_pipeline_accuracy_json(const lc_pipeline *p, double float_acc, double final_acc)
{
    cJSON *aj = cJSON_CreateObject();
    cJSON_AddStringToObject(aj, "metric", !p->val ? "none" : lc_metric_name(p->metric));
    if (p->val) {
        /* JSON has no infinity: an SNR of identical outputs is null */
        double f = lc_metric_display(p->metric, float_acc), g = lc_metric_display(p->metric, final_acc);
        if (isfinite(f)) cJSON_AddNumberToObject(aj, "float", f);
        else cJSON_AddNullToObject(aj, "float");
        if (isfinite(g)) cJSON_AddNumberToObject(aj, "final", g);
        else cJSON_AddNullToObject(aj, "final");
        if (isfinite(f) && isfinite(g)) cJSON_AddNumberToObject(aj, "drop", p->metric == LC_METRIC_MSE ? g - f : f - g);
        else cJSON_AddNullToObject(aj, "drop");
    }
    if (p->max_drop >= 0 && !p->budget_metric) cJSON_AddNumberToObject(aj, "max_drop", p->max_drop);
    if (p->budget_metric == LC_METRIC_SNR) cJSON_AddNumberToObject(aj, "min_snr", p->min_value);
    if (p->budget_metric == LC_METRIC_COSINE) cJSON_AddNumberToObject(aj, "min_cosine", p->min_value);
    return aj;
}

/* The recipe as run, for the .lcm META section: each pass with only the
 * parameters that differ from its defaults (the report has them all). */
static cJSON *recipe_json(const lc_pipeline *p)
{
    cJSON *r = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(r, "passes");
    for (int i = 0; i < p->n_steps; i++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "pass", p->steps[i].pass->name);
        char *txt = lc_params_changed_to_string(&p->steps[i].params);
        cJSON_AddStringToObject(st, "params", txt ? txt : "");
        free(txt);
        cJSON_AddItemToArray(arr, st);
    }
    if (p->max_drop >= 0 || p->target_size > 0) {
        cJSON *v = cJSON_AddObjectToObject(r, "validate");
        if (p->max_drop >= 0)
            cJSON_AddNumberToObject(v, !p->budget_metric ? "max_drop" : p->budget_metric == LC_METRIC_SNR ? "min_snr"
                                                                                                      : "min_cosine",
                                    p->budget_metric ? p->min_value : p->max_drop);
        if (p->target_size > 0) cJSON_AddNumberToObject(v, "target_size", (double)p->target_size);
    }
    return r;
}

/* The file as written: .lcm with its META section (recipe, input and
 * accuracy figures), or ONNX. */
lc_status lc_pipeline_serialize(const lc_pipeline *p, const lc_model *m, const cJSON *input, const cJSON *accuracy, void **buf,
                           size_t *len)
{
    if (buf) *buf = NULL;
    *len = 0;
    if (p->format != LC_FORMAT_LCM) return buf ? lc_model_save_onnx_buffer(m, buf, len) : lc_model_onnx_size(m, len);
    cJSON *rec = recipe_json(p), *fig = cJSON_CreateObject();
    /* the accuracy as measured during the run (the report adds its interval
       afterwards: the file's size must not change with it) */
    cJSON *acc = cJSON_Duplicate(accuracy, 1);
    static const char *const report_only[] = {"drop_ci", "confidence", "budget_on_upper_bound", "samples"};
    for (size_t i = 0; acc && i < sizeof report_only / sizeof *report_only; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(acc, report_only[i]);
    cJSON_AddItemToObject(fig, "accuracy", acc);
    /* the input's size, not its path: the file does not carry local paths */
    cJSON *in = cJSON_AddObjectToObject(fig, "input");
    const cJSON *ib = cJSON_GetObjectItemCaseSensitive(input, "bytes"), *ip = cJSON_GetObjectItemCaseSensitive(input, "params");
    if (in && cJSON_IsNumber(ib)) cJSON_AddNumberToObject(in, "bytes", ib->valuedouble);
    if (in && cJSON_IsNumber(ip)) cJSON_AddNumberToObject(in, "params", ip->valuedouble);
    char *rtxt = cJSON_PrintUnformatted(rec), *ftxt = cJSON_PrintUnformatted(fig);
    char producer[64];
    snprintf(producer, sizeof producer, "shrink %s", lc_version());
    lc_lcm_meta meta = {producer, rtxt, ftxt};
    lc_status s = !rtxt || !ftxt ? lc_fail(LC_ERR_NO_MEMORY, "out of memory")
                  : buf ? lc_model_save_lcm_buffer(m, &meta, buf, len) : lc_model_lcm_size(m, &meta, len);
    free(rtxt);
    free(ftxt);
    cJSON_Delete(rec);
    cJSON_Delete(fig);
    return s;
}

lc_status lc_pipeline_file_bytes(run_state *r, const lc_model *m, double acc, int64_t *out)
{
    if (r->p->size_fn || r->p->format != LC_FORMAT_LCM) return lc_pipeline_model_bytes(r, m, out);
    cJSON *ij = lc_pipeline_input_json(r), *aj = lc_pipeline_accuracy_json(r->p, r->float_metric, acc);
    size_t len;
    lc_status s = lc_pipeline_serialize(r->p, m, ij, aj, NULL, &len); /* sized, not built */
    cJSON_Delete(ij);
    cJSON_Delete(aj);
    if (s) return s;
    *out = (int64_t)len;
    return LC_OK;
}


/* The report's top-level figures for the result `out` (accuracy final_acc,
 * `bytes` as measured during the run). */
void lc_pipeline_finish_report(lc_pipeline *p, run_state *r, const lc_model *in, const lc_model *out, cJSON *passes,
                          double final_acc, int64_t bytes)
{
    cJSON *rep = p->report;
    cJSON_AddItemToObject(rep, "input", lc_pipeline_input_json(r));
    cJSON *oj = cJSON_AddObjectToObject(rep, "output");
    cJSON_AddStringToObject(oj, "path", "");
    cJSON_AddNumberToObject(oj, "bytes", (double)bytes);
    cJSON_AddNumberToObject(rep, "ratio", bytes ? (double)r->in_bytes / (double)bytes : 0);
    cJSON *aj = lc_pipeline_accuracy_json(p, r->float_metric, final_acc);
    lc_pipeline_add_drop_ci(r, out, aj);
    cJSON_AddItemToObject(rep, "accuracy", aj);
    cJSON_AddBoolToObject(rep, "budget_met", p->budget_met);
    if (p->target_size > 0) cJSON_AddBoolToObject(rep, "target_met", p->target_met);
    cJSON_AddItemToObject(rep, "passes", passes);
    cJSON_AddItemToObject(rep, "layers", out ? lc_pipeline_layers_json(r, out) : cJSON_CreateArray());
    lc_pipeline_mark_final(r, r->attempt, final_acc, bytes);
    lc_pipeline_check_collapse(p, r, in, final_acc);
    cJSON_AddItemToObject(rep, "tried", r->tried);
    r->tried = NULL;
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
    cJSON *oj = cJSON_GetObjectItemCaseSensitive(p->report, "output");
    cJSON_ReplaceItemInObject(oj, "path", cJSON_CreateString(path));
    bool lcm = p->format == LC_FORMAT_LCM;
    void *buf = NULL;
    size_t len = 0;
    lc_atomic_file *f = NULL;
    /* .lcm is built in memory (the report counts its sections); ONNX is
       streamed into the temporary file: no model-sized buffer */
    lc_status s = lcm ? lc_pipeline_serialize(p, m, cJSON_GetObjectItemCaseSensitive(p->report, "input"),
                                              cJSON_GetObjectItemCaseSensitive(p->report, "accuracy"), &buf, &len)
                      : LC_OK;
    if (!s && lcm) s = account_lcm(p, buf, len);
    if (!s) s = lc_atomic_file_open(path, &f);
    if (!s) s = lcm ? lc_atomic_file_write(f, buf, len) : lc_model_save_onnx_to(m, f);
    free(buf);
    if (f) len = lc_atomic_file_size(f);
    /* a result that fits the target must fit as written: the search measured
       exactly this file */
    if (!s && p->target_size > 0 && p->target_met && !p->size_fn && (int64_t)len > p->target_size)
        s = lc_fail(LC_ERR_INTERNAL, "the file takes %zu bytes, over the target of %lld the search measured it within",
                    len, (long long)p->target_size);
    if (f && s) lc_atomic_file_abort(f);
    else if (f) s = lc_atomic_file_commit(f);
    if (s) return s;
    lc_pipeline_shift_bytes(p->report, (double)len - cJSON_GetObjectItemCaseSensitive(oj, "bytes")->valuedouble);
    if (!lcm) lc_pipeline_onnx_overhead(p->report, (double)len);
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
