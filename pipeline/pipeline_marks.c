/* What the report marks beyond the measurements, and the events a caller
 * may follow a run by: which attempt and step each configuration belongs
 * to, which ones the final model kept, which one is the final model, and
 * whether the result collapsed (near chance, or far below the float
 * model). Also the check of every step's needs before the first runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_metric.h"
#include "lc_metric_measure.h"
#include "lc_pipeline_internal.h"

void lc_pipeline_emit_start(const lc_run_state *r, const lc_model *in)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event", "start");
    const lc_pipeline *p = r->p;
    cJSON_AddStringToObject(ev, "metric", !p->val ? "none" : lc_metric_name(p->metric));
    double fl = lc_metric_display(p->metric, r->float_metric); /* an SNR against itself: infinite, left out */
    if (isfinite(fl)) cJSON_AddNumberToObject(ev, "float", fl);
    /* chance and a drop in points are for the label-like metrics only */
    double chance = p->metric == LC_METRIC_TOP1 || p->metric == LC_METRIC_AGREEMENT ? lc_pipeline_chance(in) : NAN;
    if (isfinite(chance)) cJSON_AddNumberToObject(ev, "chance", chance);
    if (p->max_drop >= 0 && p->budget_metric) cJSON_AddNumberToObject(ev, "min_value", p->min_value);
    else if (p->max_drop >= 0) cJSON_AddNumberToObject(ev, "max_drop", p->max_drop);
    if (r->p->target_size > 0) cJSON_AddNumberToObject(ev, "target_size", (double)r->p->target_size);
    cJSON_AddNumberToObject(ev, "samples", (double)r->n_val);
    cJSON_AddNumberToObject(ev, "steps", r->p->n_steps);
    lc_pipeline_emit(r, ev);
}

void lc_pipeline_emit_attempt(const lc_run_state *r, const char *label)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event", "attempt");
    cJSON_AddStringToObject(ev, "attempt", label);
    lc_pipeline_emit(r, ev);
}

/* One attempt of the passes, for the report's "attempts". */
void lc_pipeline_add_attempt(cJSON *attempts, const char *label, const cJSON *passes, double acc, int64_t bytes, bool met,
                             double seconds)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "label", label);
    cJSON_AddStringToObject(a, "budget", strcmp(label, "greedy") ? "each pass with a knob an equal share of what is left"
                                                                 : "the first pass may spend the whole budget");
    cJSON_AddBoolToObject(a, "budget_met", met);
    if (isfinite(acc)) cJSON_AddNumberToObject(a, "accuracy", acc);
    cJSON_AddNumberToObject(a, "bytes", (double)bytes);
    cJSON_AddNumberToObject(a, "seconds", seconds);
    cJSON_AddItemToObject(a, "passes", cJSON_Duplicate(passes, 1));
    cJSON_AddItemToArray(attempts, a);
}

void lc_pipeline_add_times(lc_pipeline *p, double wall0, double cpu0)
{
    cJSON_AddNumberToObject(p->report, "seconds", lc_pipeline_now() - wall0);
    cJSON_AddNumberToObject(p->report, "cpu_seconds", lc_pipeline_cpu_now() - cpu0);
}

/* The run measured each step's model without the .lcm META section (the
 * figures it records were not known yet); the written file has it. Every
 * measured size gets the same section, so the last pass's bytes are the
 * file's and all sizes compare as files. */
void lc_pipeline_shift_bytes(cJSON *rep, double delta)
{
    if (delta == 0) return;
    cJSON *lists[8];
    int n = 0;
    lists[n++] = cJSON_GetObjectItemCaseSensitive(rep, "passes");
    lists[n++] = cJSON_GetObjectItemCaseSensitive(rep, "tried");
    cJSON *a, *e;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rep, "attempts"))
    {
        cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "bytes");
        if (cJSON_IsNumber(b)) cJSON_SetNumberValue(b, b->valuedouble + delta);
        if (n < 8) lists[n++] = cJSON_GetObjectItemCaseSensitive(a, "passes");
    }
    for (int i = 0; i < n; i++)
        cJSON_ArrayForEach(e, lists[i])
        {
            cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "bytes");
            if (cJSON_IsNumber(b)) cJSON_SetNumberValue(b, b->valuedouble + delta);
        }
    cJSON_AddNumberToObject(rep, "meta_bytes_added", delta);
}

/* ONNX: what the layers' weights do not take (graph, other tensors,
 * protobuf framing), so the layers and the overhead add up to the file. */
void lc_pipeline_onnx_overhead(cJSON *rep, double file_bytes)
{
    double layers = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(rep, "layers"))
        layers += cJSON_GetObjectItemCaseSensitive(l, "bytes_after")->valuedouble;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", file_bytes - layers);
    cJSON_DeleteItemFromObject(rep, "overhead");
    cJSON_AddItemToObject(rep, "overhead", o);
}


void lc_pipeline_set_events(lc_pipeline *p, void (*fn)(void *user, const char *event_json), void *user)
{
    p->event_fn = fn;
    p->event_user = user;
}

void lc_pipeline_emit(const lc_run_state *r, cJSON *event)
{
    if (r->p->event_fn && event) {
        char *txt = cJSON_PrintUnformatted(event);
        if (txt) r->p->event_fn(r->p->event_user, txt);
        free(txt);
    }
    cJSON_Delete(event);
}

void lc_pipeline_tried_row(lc_run_state *r, cJSON *row, bool within)
{
    if (r->attempt) cJSON_AddStringToObject(row, "attempt", r->attempt);
    cJSON_AddNumberToObject(row, "step", r->step);
    cJSON_AddBoolToObject(row, "kept", false);
    cJSON_AddBoolToObject(row, "final", false);
    r->last_tried = row;
    if (!r->p->event_fn) return;
    cJSON *ev = cJSON_Duplicate(row, 1);
    cJSON_AddStringToObject(ev, "event", "tried");
    cJSON_AddBoolToObject(ev, "within", within);
    lc_pipeline_emit(r, ev);
}

static void set_bool(cJSON *o, const char *key, bool v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) cJSON_ReplaceItemInObject(o, key, cJSON_CreateBool(v));
    else cJSON_AddBoolToObject(o, key, v);
}

void lc_pipeline_mark_final(lc_run_state *r, const char *final_attempt, double final_acc, int64_t bytes)
{
    cJSON *t, *final = NULL;
    cJSON_ArrayForEach(t, r->tried)
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "attempt");
        bool ours = !final_attempt || (cJSON_IsString(a) && !strcmp(a->valuestring, final_attempt));
        if (!ours) set_bool(t, "kept", false);
        else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "kept"))) final = t;
    }
    /* the target search keeps no marks: its final model is the build that
       measured the result */
    if (!final)
        cJSON_ArrayForEach(t, r->tried)
        {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "bytes"), *a = cJSON_GetObjectItemCaseSensitive(t, "accuracy");
            if (cJSON_IsNumber(b) && (int64_t)b->valuedouble == bytes &&
                ((cJSON_IsNumber(a) && a->valuedouble == final_acc) || (!cJSON_IsNumber(a) && !isfinite(final_acc))))
                final = t;
        }
    cJSON_ArrayForEach(t, r->tried)
    {
        if (t == final) set_bool(t, "kept", true);
        set_bool(t, "final", t == final);
    }
}

/* Classes of the model's first output: its elements per sample. */
static int64_t output_classes(const lc_model *in)
{
    lc_model_info info;
    if (lc_model_info_compute(in, &info)) return 0;
    int64_t n = 0;
    if (info.n_outputs > 0 && info.outputs[0].ndim >= 1) {
        n = 1;
        for (int d = 1; d < info.outputs[0].ndim; d++) n *= info.outputs[0].dims[d] > 0 ? info.outputs[0].dims[d] : 1;
    }
    lc_model_info_clear(&info);
    return n;
}

double lc_pipeline_chance(const lc_model *in)
{
    int64_t classes = output_classes(in);
    return classes > 1 ? 100.0 / (double)classes : NAN;
}

void lc_pipeline_check_collapse(lc_pipeline *p, const lc_run_state *r, const lc_model *in, double final_acc)
{
    if (!isfinite(final_acc) || !isfinite(r->float_metric)) return;
    /* points of top-1 or agreement; SNR, cosine and MSE have no chance level
       (their budgets are floors of their own) */
    if (p->metric != LC_METRIC_TOP1 && p->metric != LC_METRIC_AGREEMENT) return;
    double chance = lc_pipeline_chance(in);
    /* "a few points" of chance, and at most halfway from chance to float */
    double near = isfinite(chance) ? fmin(5.0, (r->float_metric - chance) / 2) : NAN;
    bool collapsed = (isfinite(chance) && final_acc <= chance + near) || r->float_metric - final_acc > 10.0;
    if (isfinite(chance)) cJSON_AddNumberToObject(p->report, "chance", chance);
    cJSON_AddBoolToObject(p->report, "collapsed", collapsed);
}

lc_status lc_pipeline_check_needs(const lc_pipeline *p, const lc_context *ctx)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].pass->needs_calib && (!ctx || !ctx->calib))
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "step %d of %d (%s) needs calibration data and none was given: "
                           "nothing was run", i + 1, p->n_steps, p->steps[i].pass->name);
    return LC_OK;
}
