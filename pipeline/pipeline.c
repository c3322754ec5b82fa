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

#include <cjson/cJSON.h>

#include "lc_metric_measure.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

typedef lc_pipeline_step step;
typedef lc_run_state run_state;

/* One run of the passes in order. With `share`, each pass with a knob may
 * use an equal share of the budget left (what it leaves goes to the next);
 * without, the first pass may spend it all. *starved: a later pass had to
 * back off; *met: false when a pass was skipped. */
typedef struct steps_result {
    lc_model *m;
    cJSON *passes;
    double acc, drop[2]; /* drop: the result's interval as measured (NAN: not measured) */
    int64_t bytes;
} steps_result;

static lc_status run_steps(lc_pipeline *p, run_state *r, const lc_model *in, lc_model *take, bool share,
                           steps_result *res, bool *starved, bool *met)
{
    const lc_context *ctx = r->ctx;
    /* the passes read the input itself until one changes it: one model-sized
       copy fewer at peak. With `take` (the input, handed over by
       lc_pipeline_run_take; never with a budget) the first pass already
       changes it in place, and it is freed on failure. With the input
       parked (r->in_spill; `in` is then NULL), the model before each pass
       is parked too, and only the candidate is in memory. */
    const lc_model *cur = in;
    lc_model *owned = take;
    r->ckpt = r->in_spill;
    double cur_acc = r->float_metric, cur_drop[2] = {NAN, NAN};
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
        double t0 = lc_pipeline_now(), acc, drop[2];
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
        r->step = i + 1;
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "event", "pass");
        if (r->attempt) cJSON_AddStringToObject(ev, "attempt", r->attempt);
        cJSON_AddNumberToObject(ev, "step", i + 1);
        cJSON_AddNumberToObject(ev, "steps", p->n_steps);
        cJSON_AddStringToObject(ev, "pass", st->pass->name);
        if (st->pass->knob) cJSON_AddStringToObject(ev, "knob", st->pass->knob);
        if (p->max_drop >= 0) cJSON_AddNumberToObject(ev, "drop_allowed", r->allow);
        lc_pipeline_emit(r, ev);
        if (r->in_spill && !r->ckpt && (s = lc_model_spill(&owned, &r->ckpt))) {
            lc_params_clear(&used);
            break;
        }
        if (r->in_spill) cur = NULL; /* on disk */
        /* without a budget nothing is backed off: the pass changes the
           pipeline's own copy in place (one model-sized copy fewer) */
        lc_model *own = p->max_drop < 0 ? owned : NULL;
        if ((s = lc_pipeline_try_step(r, cur, own, st, &st->params, &cand, &acc, &bytes))) {
            lc_params_clear(&used);
            break;
        }
        cJSON *kept = r->last_tried;
        const char *outcome = "applied";
        drop[0] = r->last_drop_lo;
        drop[1] = r->last_drop_hi;
        if (!cand && lc_pipeline_within_drop(r, acc, r->allow) &&
            (s = lc_pipeline_build_step(r, cur, NULL, st, &st->params, &cand))) {
            lc_params_clear(&used);
            break;
        }
        if (!lc_pipeline_within_drop(r, acc, r->allow)) {
            lc_log(ctx, "  %s: the drop of %.2f points (accuracy %.2f, float %.2f) is over its share of the budget "
                        "(%.2f of %.2f points so far): backing off",
                   st->pass->name, r->float_metric - acc, acc, r->float_metric, r->allow, p->max_drop);
            kept = NULL;
            r->kept_row = NULL;
            lc_model_free(cand);
            cand = NULL;
            if (st->pass->knob && (s = lc_pipeline_back_off(r, cur, st, &cand, &acc, drop, &bytes, &used))) {
                lc_params_clear(&used);
                break;
            }
            if (i > 0 && st->pass->knob) *starved = true;
            if (cand) kept = r->kept_row;
            if (cand) outcome = "backed off";
            else { /* the model stays as it was before the pass */
                outcome = "skipped";
                *met = false;
                acc = cur_acc;
                drop[0] = cur_drop[0];
                drop[1] = cur_drop[1];
                bytes = cur_bytes;
            }
        }
        char *ptxt = lc_params_to_string(&used);
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", st->pass->name);
        cJSON_AddStringToObject(pj, "params", ptxt ? ptxt : "");
        cJSON_AddStringToObject(pj, "outcome", outcome);
        if (r->attempt) cJSON_AddStringToObject(pj, "attempt", r->attempt);
        if (kept) cJSON_ReplaceItemInObject(kept, "kept", cJSON_CreateTrue());
        cJSON_AddNumberToObject(pj, "seconds", lc_pipeline_now() - t0);
        double shown = lc_metric_display(p->metric, acc);
        if (isfinite(shown)) cJSON_AddNumberToObject(pj, "accuracy", shown);
        else cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)bytes);
        if (p->max_drop >= 0) cJSON_AddNumberToObject(pj, "drop_allowed", r->allow);
        cJSON_AddItemToArray(passes, pj);
        ev = cJSON_Duplicate(pj, 1);
        cJSON_AddStringToObject(ev, "event", "done");
        cJSON_AddNumberToObject(ev, "step", i + 1);
        lc_pipeline_emit(r, ev);
        free(ptxt);
        lc_params_clear(&used);
        if (cand) {
            if (cand != owned) lc_model_free(owned);
            cur = owned = cand;
            if (r->ckpt != r->in_spill) lc_spilled_free(r->ckpt);
            r->ckpt = NULL;
        }
        cur_acc = acc;
        cur_drop[0] = drop[0];
        cur_drop[1] = drop[1];
        cur_bytes = bytes;
    }
    if (!s && !owned) s = r->ckpt ? lc_spilled_load(r->ckpt, &owned) : lc_model_clone(in, &owned);
    if (r->ckpt != r->in_spill) lc_spilled_free(r->ckpt);
    r->ckpt = NULL;
    if (s) {
        lc_model_free(owned);
        cJSON_Delete(passes);
        return s;
    }
    res->m = owned;
    res->passes = passes;
    res->acc = cur_acc;
    res->drop[0] = cur_drop[0];
    res->drop[1] = cur_drop[1];
    res->bytes = cur_bytes;
    return LC_OK;
}

/* Frees what one run holds besides the report. */
static void run_clear(run_state *r)
{
    free(r->float_pred);
    free(r->float_out);
    lc_pipeline_memo_clear(r);
    lc_pipeline_layer_rows_free(r);
    free(r->in_path_copy);
    r->in_path_copy = NULL;
    lc_spilled_free(r->in_spill);
    r->in_spill = NULL;
    lc_reference_outputs_free(r->ref_outputs);
    r->ref_outputs = NULL;
}

/* Whether a step reads the input as its reference after the passes began
 * (bias-correct; the checked BN re-estimation of models with BatchNorm,
 * judged on the input: no pass adds BatchNorm). */
static bool reads_reference(const lc_pipeline *p, const lc_model *in, const lc_context *ctx)
{
    for (int i = 0; i < p->n_steps; i++)
        if (!strcmp(p->steps[i].pass->name, "bias-correct") ||
            lc_correction_of(in, ctx, &p->steps[i].params) == LC_CORRECT_BN_CHECKED)
            return true;
    return false;
}

/* lc_pipeline_run, or with `take` (== in) lc_pipeline_run_take's run in
 * place on the input; with `owns` (lc_pipeline_run_take) and a budget the
 * input may be parked on disk. *taken: the run took the input over (it is
 * then returned in *out or freed). */
static lc_status run_impl(lc_pipeline *p, const lc_model *in, lc_model *take, bool owns, const lc_context *ctx,
                          lc_model **out, bool *taken)
{
    *out = NULL;
    *taken = false;
    if (p->auto_mode && !p->n_steps) {
        lc_status as = lc_pipeline_load_recipe(p, lc_pipeline_auto_recipe(), "auto-mode recipe");
        if (as) return as;
    }
    if (!p->n_steps) return lc_fail(LC_ERR_INVALID_ARGUMENT, "no passes to run (lc_pipeline_add_pass, lc_pipeline_load_recipe)");
    if (p->n_sweep > 0 && (p->target_size > 0 || p->auto_mode))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "a sweep sets the target sizes itself: no target size or auto mode with it");
    if (p->jobs && !(p->target_size > 0 || p->auto_mode || p->n_sweep > 0))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "jobs (lc_pipeline_set_jobs) split a target-size, auto or sweep search only");
    if (p->auto_mode && p->target_size > 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "auto mode searches the size itself: no target size with it "
                                                "(lc_pipeline_set_target_size 0)");
    if (p->max_drop >= 0 && !p->val)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "an accuracy budget (max_drop) needs validation data (lc_pipeline_set_validation)");
    p->metric = lc_metric_kind(ctx, p->labels != NULL);
    if (p->val && p->metric == LC_METRIC_TOP1 && !p->labels)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "metric top1 needs labels of the validation data");
    if (p->budget_metric && p->metric != p->budget_metric)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "a budget on %s needs the metric %s, not %s",
                       lc_metric_name(p->budget_metric), lc_metric_name(p->budget_metric), lc_metric_name(p->metric));
    if (p->max_drop >= 0 && p->metric == LC_METRIC_MSE)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "metric mse has no budget (use snr with a minimum)");
    lc_status fs = lc_model_check_finite(in);
    if (!fs) fs = lc_pipeline_check_needs(p, ctx);
    if (fs) return fs;
    double wall0 = lc_pipeline_now(), cpu0 = lc_pipeline_cpu_now();
    /* passes see the input model as their reference (bias-correct) */
    lc_context local;
    if (ctx) local = *ctx;
    else {
        memset(&local, 0, sizeof local);
        local.threads = 1;
        local.batch = 64;
    }
    /* With a budget, the input (the model to restart from) and the model
       before each pass are parked on disk, not held beside the candidate:
       one model in memory instead of three (nothing may read the input as
       the reference then) */
    bool park = owns && p->max_drop >= 0 && !(p->target_size > 0 || p->auto_mode || p->n_sweep > 0) &&
                !reads_reference(p, in, ctx);
    /* in place, the input changes: nothing may read it as the reference
       (lc_pipeline_run_take checked that no step does) */
    local.reference = take || park ? NULL : in;
    ctx = &local;
    run_state r = {p, ctx, NULL, 0, NAN, p->max_drop, 0, 0, 0, "", cJSON_CreateArray(), NULL, 0,
                   NULL, 0, NULL, NULL, NAN, NAN, take || park ? NULL : in, NULL, 0, 0, 0, NULL, 0, NULL, NULL, NULL,
                   false, {NAN, NAN}, NULL};
    /* the checked BN re-estimation of every pass compares with the
       reference's outputs: computed once */
    if (local.reference && !local.reference_outputs) local.reference_outputs = r.ref_outputs = lc_reference_outputs_create();
    r.in_path_copy = strdup(in->path ? in->path : "");
    if (r.in_path_copy) r.in_path = r.in_path_copy;
    lc_pipeline_layer_rows_record(&r, in);
    cJSON_Delete(p->report);
    free(p->report_text);
    p->report_text = NULL;
    p->report = cJSON_CreateObject();
    p->budget_met = true;
    p->target_met = true;
    lc_status s = lc_pipeline_metric(&r, in, &r.float_metric);
    if (!s) s = lc_pipeline_check_samples(&r);
    if (!s) s = lc_pipeline_model_bytes(&r, in, &r.in_bytes);
    r.in_bytes_model = r.in_bytes;
    struct stat in_stat; /* the input's size is its file's, when it has one */
    if (!s && in->path && stat(in->path, &in_stat) == 0) r.in_bytes = (int64_t)in_stat.st_size;
    lc_model_info info;
    if (!s && !lc_model_info_compute(in, &info)) {
        r.in_params = info.params;
        lc_model_info_clear(&info);
    }
    if (!s) lc_pipeline_emit_start(&r, in);
    if (!s && (p->target_size > 0 || p->auto_mode || p->n_sweep > 0)) {
        s = p->n_sweep > 0 ? lc_pipeline_run_sweep(p, &r, in, out)
            : p->auto_mode ? lc_pipeline_run_auto(p, &r, in, out) : lc_pipeline_run_target(p, &r, in, out);
        lc_pipeline_add_times(p, wall0, cpu0);
        run_clear(&r);
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
    cJSON *attempts = cJSON_CreateArray();
    double t_att = lc_pipeline_now();
    r.attempt = "greedy";
    lc_pipeline_emit_attempt(&r, "greedy");
    if (!s && park) { /* the float figures are measured: only restarts read it now */
        lc_model *m = (lc_model *)in;
        *taken = true;
        in = NULL;
        s = lc_model_spill(&m, &r.in_spill);
        if (s && m) { /* no temporary file: the input stays in memory */
            s = LC_OK;
            in = r.input = m;
            *taken = park = false;
        }
    }
    if (!s) {
        *taken = *taken || take != NULL;
        s = run_steps(p, &r, in, take, false, &res, &starved, &met);
    }
    if (!s) lc_pipeline_add_attempt(attempts, "greedy", res.passes, res.acc, res.bytes, met, lc_pipeline_now() - t_att);
    if (!s && starved && p->max_drop >= 0) {
        lc_log(ctx, "a later pass was starved of budget: running the passes again with the budget shared");
        t_att = lc_pipeline_now();
        r.attempt = "shared";
        lc_pipeline_emit_attempt(&r, "shared");
        if (!(s = run_steps(p, &r, in, NULL, true, &alt, &starved, &met2))) {
            lc_pipeline_add_attempt(attempts, "shared", alt.passes, alt.acc, alt.bytes, met2, lc_pipeline_now() - t_att);
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
        run_clear(&r);
        cJSON_Delete(r.tried);
        cJSON_Delete(attempts);
        return s;
    }
    const cJSON *at;
    cJSON_ArrayForEach(at, attempts)
        cJSON_AddBoolToObject((cJSON *)at, "final", !strcmp(cJSON_GetObjectItemCaseSensitive(at, "label")->valuestring, split));
    cJSON_AddItemToObject(p->report, "attempts", attempts);
    r.attempt = split;
    /* the last step's validation already measured the result: its interval
       is the report's */
    r.final_drop[0] = res.drop[0];
    r.final_drop[1] = res.drop[1];
    r.final_drop_known = isfinite(res.drop[0]) && isfinite(res.drop[1]);
    /* in place, the input may be gone: the result has its outputs (the
       report's chance level) */
    lc_pipeline_finish_report(p, &r, take || park ? res.m : in, res.m, res.passes, res.acc, res.bytes);
    lc_pipeline_add_times(p, wall0, cpu0);
    run_clear(&r);
    *out = res.m;
    return LC_OK;
}

lc_status lc_pipeline_run(lc_pipeline *p, const lc_model *in, const lc_context *ctx, lc_model **out)
{
    bool taken;
    return run_impl(p, in, NULL, false, ctx, out, &taken);
}

/* Whether the run can change the input in place: nothing to back off to or
 * search from, and no step reads the input as its reference. */
static bool can_take(const lc_pipeline *p, const lc_model *in, const lc_context *ctx)
{
    if (p->max_drop >= 0 || p->target_size > 0 || p->auto_mode || p->n_sweep > 0 || !p->n_steps) return false;
    return !reads_reference(p, in, ctx);
}

lc_status lc_pipeline_run_take(lc_pipeline *p, lc_model **in_out, const lc_context *ctx, lc_model **out)
{
    *out = NULL;
    if (!in_out || !*in_out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_run_take: NULL model");
    lc_model *in = *in_out;
    *in_out = NULL;
    bool taken = false;
    lc_status s = run_impl(p, in, can_take(p, in, ctx) ? in : NULL, true, ctx, out, &taken);
    if (!taken) lc_model_free(in);
    /* in place, the result is the input itself (or its replacement) */
    return s;
}
