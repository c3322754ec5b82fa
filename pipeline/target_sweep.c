/* A sweep: the target-size search for several sizes from one measurement
 * (grid runs, layer statistics, damage fit: lc_target_measure once, the
 * refinements shared), one model per size; the report's "sweep" lists the
 * points and marks their builds in "tried" (the Pareto plot outlines
 * them). See lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_metric_measure.h"
#include "lc_target.h"

typedef lc_target target;
typedef lc_run_state run_state;

lc_status lc_pipeline_set_sweep(lc_pipeline *p, const int64_t *sizes, int n)
{
    if (n < 1 || n > LC_SWEEP_MAX || !sizes)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_sweep: %d sizes (1 to %d)", n, LC_SWEEP_MAX);
    for (int i = 0; i < n; i++)
        if (sizes[i] <= 0)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_sweep: size %d is %lld bytes (must be > 0)", i + 1,
                           (long long)sizes[i]);
    for (int i = 0; i < p->n_sweep; i++) {
        lc_model_free(p->sweep_models[i]);
        p->sweep_models[i] = NULL;
    }
    memcpy(p->sweep, sizes, sizeof *sizes * (size_t)n);
    p->n_sweep = n;
    return LC_OK;
}

int lc_pipeline_sweep_count(const lc_pipeline *p) { return p->n_sweep; }

/* One point of the report's "sweep" from its chosen probe (NULL: nothing
 * fits). */
static cJSON *point_json(const run_state *r, int64_t size, const lc_target_probe *pr, int64_t smallest)
{
    const lc_pipeline *p = r->p;
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddNumberToObject(pj, "target_bytes", (double)size);
    cJSON_AddBoolToObject(pj, "fits", pr && pr->bytes <= size);
    if (!pr) {
        cJSON_AddNumberToObject(pj, "smallest_bytes", (double)smallest);
        return pj;
    }
    cJSON_AddNumberToObject(pj, "bytes", (double)pr->bytes);
    cJSON_AddNumberToObject(pj, "ratio", pr->bytes ? (double)r->in_bytes / (double)pr->bytes : 0);
    double acc = lc_metric_display(p->metric, pr->acc), fl = lc_metric_display(p->metric, r->float_metric);
    if (isfinite(acc)) cJSON_AddNumberToObject(pj, "accuracy", acc);
    if (isfinite(acc) && isfinite(fl)) cJSON_AddNumberToObject(pj, "drop", fl - acc);
    if (isfinite(pr->drop_hi)) cJSON_AddNumberToObject(pj, "drop_hi", pr->drop_hi);
    if (p->max_drop >= 0) cJSON_AddBoolToObject(pj, "within_budget", lc_pipeline_within_budget(r, pr->acc, pr->drop_hi, p->max_drop));
    return pj;
}

lc_status lc_pipeline_run_sweep(lc_pipeline *p, run_state *r, const lc_model *in, lc_model **out)
{
    if (!p->val) return lc_fail(LC_ERR_INVALID_ARGUMENT, "a sweep needs validation data (lc_pipeline_set_validation)");
    double t0 = lc_pipeline_now();
    for (int i = 0; i < p->n_sweep; i++) {
        lc_model_free(p->sweep_models[i]);
        p->sweep_models[i] = NULL;
    }
    p->sweep_float = r->float_metric;
    target t;
    lc_status s = lc_target_start(&t, r, in);
    if (!s && t.stopped) { /* jobs planned or run (lc_pipeline_set_jobs) */
        lc_target_free(&t);
        return LC_OK;
    }
    cJSON *points = cJSON_CreateArray(), *last_target = NULL, *last_passes = NULL;
    bool all_fit = true, all_within = true;
    int last = -1;
    int64_t last_bytes = 0;
    double last_acc = NAN;
    for (int i = 0; i < p->n_sweep && !s; i++) {
        int chosen;
        int64_t smallest;
        p->target_size = p->sweep[i];
        p->budget_met = true;
        lc_target_drop_probes(&t);
        if ((s = lc_target_search_size(&t, &chosen, &smallest))) break;
        lc_target_probe *pr = chosen >= 0 ? &t.probes[chosen] : NULL;
        cJSON_AddItemToArray(points, point_json(r, p->sweep[i], pr, smallest));
        all_fit = all_fit && pr && pr->bytes <= p->sweep[i];
        all_within = all_within && p->budget_met;
        lc_log(r->ctx, "sweep: point %d of %d (%lld bytes): %s", i + 1, p->n_sweep, (long long)p->sweep[i],
               pr ? "built" : "nothing fits");
        if (!pr) continue;
        /* the point's build, outlined in the Pareto plot */
        cJSON_DeleteItemFromObjectCaseSensitive(pr->row, "kept");
        cJSON_AddBoolToObject(pr->row, "kept", true);
        cJSON_AddNumberToObject(pr->row, "sweep_point", i + 1);
        p->sweep_models[i] = pr->m;
        pr->m = NULL;
        p->sweep_acc[i] = pr->acc;
        cJSON_Delete(last_target);
        cJSON_Delete(last_passes);
        last_target = lc_target_report(&t, chosen, smallest, lc_pipeline_now() - t0);
        last_passes = cJSON_Duplicate(pr->passes, 1);
        last = i;
        last_bytes = pr->bytes;
        last_acc = pr->acc;
    }
    p->target_size = 0;
    lc_target_free(&t);
    lc_model *result = NULL;
    if (!s) s = lc_model_clone(last >= 0 ? p->sweep_models[last] : in, &result);
    if (s) {
        cJSON_Delete(points);
        cJSON_Delete(last_target);
        cJSON_Delete(last_passes);
        return s;
    }
    p->target_met = all_fit;
    p->budget_met = all_within;
    if (last_target) cJSON_AddItemToObject(p->report, "target", last_target);
    cJSON_AddItemToObject(p->report, "sweep", points);
    lc_pipeline_finish_report(p, r, in, last >= 0 ? p->sweep_models[last] : NULL,
                              last_passes ? last_passes : cJSON_CreateArray(), last >= 0 ? last_acc : r->float_metric,
                              last >= 0 ? last_bytes : r->in_bytes);
    *out = result;
    return LC_OK;
}

lc_status lc_pipeline_write_sweep(lc_pipeline *p, int i, const char *path)
{
    cJSON *points = p->report ? cJSON_GetObjectItemCaseSensitive(p->report, "sweep") : NULL;
    if (!points || i < 0 || i >= p->n_sweep) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_write_sweep: no point %d", i);
    if (!p->sweep_models[i])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_write_sweep: point %d (%lld bytes) has no model: nothing fits",
                       i, (long long)p->sweep[i]);
    /* the file as the search measured it; its META does not name the
       point's size (p->target_size is 0 here): the file is the same
       whichever sweep point built it, the report lists the sizes */
    cJSON *aj = lc_pipeline_accuracy_json(p, p->sweep_float, p->sweep_acc[i]);
    void *buf = NULL;
    size_t len = 0;
    lc_status s = lc_pipeline_serialize(p, p->sweep_models[i], cJSON_GetObjectItemCaseSensitive(p->report, "input"), aj,
                                        &buf, &len);
    cJSON_Delete(aj);
    if (!s) s = lc_write_file(path, buf, len);
    free(buf);
    if (s) return s;
    cJSON *pj = cJSON_GetArrayItem(points, i);
    cJSON_DeleteItemFromObjectCaseSensitive(pj, "path");
    cJSON_AddStringToObject(pj, "path", path);
    cJSON_ReplaceItemInObject(pj, "bytes", cJSON_CreateNumber((double)len));
    /* the report's top level describes the last point built */
    int last = p->n_sweep - 1;
    while (last > 0 && !p->sweep_models[last]) last--;
    cJSON *oj = cJSON_GetObjectItemCaseSensitive(p->report, "output");
    if (i == last && oj) {
        cJSON_ReplaceItemInObject(oj, "path", cJSON_CreateString(path));
        cJSON_ReplaceItemInObject(oj, "bytes", cJSON_CreateNumber((double)len));
    }
    free(p->report_text);
    p->report_text = cJSON_Print(p->report);
    return p->report_text ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}
