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

#include "lc_early_stop.h"
#include "lc_metric_measure.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

typedef lc_pipeline_step step;
typedef lc_run_state run_state;


/* ---- running ---- */


double lc_pipeline_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double lc_pipeline_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The sequential rule of a validation (lc_early_stop.h): counts the hits
 * of each batch and stops once the candidate is certainly over `allow`. */
typedef struct early_state {
    const run_state *r;
    const int64_t *truth;
    int64_t hits, counted, n;
    double allow;
} early_state;

static bool early_stop(void *user, const int64_t *pred, int64_t done)
{
    early_state *e = user;
    for (; e->counted < done; e->counted++) e->hits += e->truth ? pred[e->counted] == e->truth[e->counted] : 1;
    return lc_early_stop_missed(e->hits, done, e->n, e->r->float_metric, e->allow);
}

/* Whether a measurement may stop early: a budget judged on the point
 * estimate of top-1 or agreement, the float model measured. */
static bool may_stop_early(const run_state *r)
{
    const lc_pipeline *p = r->p;
    return p->max_drop >= 0 && !(p->confidence > 0) && !p->budget_metric && r->float_pred &&
           (p->metric == LC_METRIC_TOP1 || p->metric == LC_METRIC_AGREEMENT);
}

/* lc_pipeline_metric; with stop_allow >= 0 (and may_stop_early) the
 * validation ends once the model is certainly more than stop_allow points
 * below the float model: *out is then the most it could have reached and
 * r->early_done the samples run. */
static lc_status measure(run_state *r, const lc_model *m, double stop_allow, double *out)
{
    r->early_done = 0;
    if (stop_allow < 0 || !may_stop_early(r)) return lc_pipeline_metric(r, m, out);
    early_state e = {r, r->p->labels ? r->p->labels : r->float_pred, 0, 0, r->n_val, stop_allow};
    int64_t *pred, n, done;
    lc_status s = lc_model_predict_until(m, r->p->val, r->p->val_limit, r->ctx ? r->ctx->batch : 64,
                                         r->ctx ? r->ctx->threads : 1, r->ctx, early_stop, &e, &pred, &n, &done);
    if (s) return s;
    if (n != r->n_val) s = lc_fail(LC_ERR_INTERNAL, "validation of %lld samples, the float model's %lld", (long long)n,
                                   (long long)r->n_val);
    else if (done < n) {
        r->early_done = done;
        r->last_drop_lo = r->last_drop_hi = NAN;
        *out = lc_early_stop_accuracy(e.hits + (n - done), n);
    } else {
        lc_pipeline_note_verdicts(r, pred, n);
        *out = lc_early_stop_accuracy(e.hits, n);
    }
    free(pred);
    return s;
}

/* Top-1 (%) with labels, else top-1 agreement (%) with the float model;
 * or the context's metric comparing outputs. */
lc_status lc_pipeline_metric(run_state *r, const lc_model *m, double *out)
{
    *out = NAN;
    if (!r->p->val) return LC_OK;
    if (r->p->metric != LC_METRIC_TOP1 && r->p->metric != LC_METRIC_AGREEMENT) {
        float *y;
        int64_t n, k;
        lc_status s = lc_metric_outputs(m, r->p->val, r->p->val_limit, r->ctx, &y, &n, &k);
        if (s) return s;
        if (!r->float_out) r->float_out = y, r->n_val = n, r->out_k = k;
        if (k != r->out_k) s = lc_fail(LC_ERR_SHAPE, "the first output has %lld values per sample, the input model's "
                                                     "%lld", (long long)k, (long long)r->out_k);
        else *out = lc_metric_compare(r->p->metric, y, r->float_out, n, k);
        if (y != r->float_out) free(y);
        return s;
    }
    int64_t *pred, n;
    lc_status s = lc_model_predict(m, r->p->val, r->p->val_limit, r->ctx ? r->ctx->batch : 64, r->ctx ? r->ctx->threads : 1,
                                   r->ctx, &pred, &n);
    if (s) return s;
    int64_t hit = 0;
    const int64_t *truth = r->p->labels ? r->p->labels : r->float_pred;
    for (int64_t i = 0; i < n; i++) hit += truth ? pred[i] == truth[i] : 1;
    if (!r->float_pred) r->float_pred = pred, r->n_val = n;
    lc_pipeline_note_verdicts(r, pred, n);
    if (pred != r->float_pred) free(pred);
    *out = n ? 100.0 * (double)hit / (double)n : 0;
    return LC_OK;
}

lc_status lc_pipeline_model_bytes(run_state *r, const lc_model *m, int64_t *out)
{
    if (r->p->size_fn) return r->p->size_fn(r->p->size_user, m, out);
    size_t len;
    lc_status s;
    /* sized without a model-sized buffer */
    if ((s = r->p->format == LC_FORMAT_LCM ? lc_model_lcm_size(m, NULL, &len) : lc_model_onnx_size(m, &len))) return s;
    *out = (int64_t)len;
    return LC_OK;
}

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

/* A configuration measured on the input model: a second attempt of the
 * passes starts from the same model and repeats the first step's probes. */
typedef struct lc_try_memo {
    int step;
    char *params;
    double acc, drop_lo, drop_hi;
    int64_t bytes, early_done;
} lc_try_memo;

static void memo_clear(run_state *r)
{
    for (int i = 0; i < r->n_memo; i++) free(r->memo[i].params);
    free(r->memo);
    r->memo = NULL;
    r->n_memo = r->cap_memo = 0;
}

/* Whether the pass runs on the input model (cur, or the parked model) */
static bool at_input(const run_state *r, const lc_model *cur)
{
    return r->in_spill ? r->ckpt == r->in_spill : cur == r->input;
}

static const lc_try_memo *memo_find(const run_state *r, const lc_model *cur, const char *ptxt)
{
    for (int i = 0; at_input(r, cur) && ptxt && i < r->n_memo; i++)
        if (r->memo[i].step == r->step && !strcmp(r->memo[i].params, ptxt)) return &r->memo[i];
    return NULL;
}

/* Remembers the measurement just made (best effort: a failed allocation
 * only means measuring again). */
static void memo_add(run_state *r, const lc_model *cur, const char *ptxt, double acc, int64_t bytes)
{
    if (!at_input(r, cur) || !ptxt) return;
    if (r->n_memo == r->cap_memo) {
        int cap = r->cap_memo ? 2 * r->cap_memo : 16;
        lc_try_memo *mm = realloc(r->memo, (size_t)cap * sizeof *mm);
        if (!mm) return;
        r->memo = mm;
        r->cap_memo = cap;
    }
    char *txt = strdup(ptxt);
    if (!txt) return;
    r->memo[r->n_memo++] = (lc_try_memo){r->step, txt, acc, r->last_drop_lo, r->last_drop_hi, bytes, r->early_done};
}

/* Runs one configuration of a step on a copy of `cur` (cur itself stays
 * unchanged: the pass's correction reads it as the model before), or on
 * `own` itself, the pipeline's own copy of cur, when there is nothing to
 * back off to (NULL: copy), or on a model loaded from the parked one
 * (r->ckpt; cur is then NULL). */
static lc_status build_step(run_state *r, const lc_model *cur, lc_model *own, const step *st, const lc_params *pv,
                            lc_model **out)
{
    *out = NULL;
    if (own) {
        lc_status s = lc_pass_run_params(own, st->pass, pv, r->ctx);
        if (!s) *out = own;
        return s;
    }
    lc_model *cand = NULL;
    lc_status s;
    if (r->ckpt) { /* the correction collects what it needs before the pass */
        s = lc_spilled_load(r->ckpt, &cand);
        if (!s) s = lc_pass_run_params(cand, st->pass, pv, r->ctx);
    } else {
        s = lc_model_clone(cur, &cand);
        if (!s) s = lc_pass_run_copy(cand, cur, st->pass, pv, r->ctx);
    }
    if (s) {
        lc_model_free(cand);
        cand = NULL;
    }
    *out = cand;
    return s;
}

/* Applies one configuration of a step to a copy of `cur` and measures it.
 * A configuration measured before on the same model is not run again:
 * *out is then NULL and the caller builds the model if it keeps it. */
static lc_status try_step(run_state *r, const lc_model *cur, lc_model *own, const step *st, const lc_params *pv,
                          lc_model **out, double *acc, int64_t *bytes)
{
    *out = NULL;
    lc_model *cand = NULL;
    char *ptxt = lc_params_to_string(pv);
    const lc_try_memo *hit = memo_find(r, cur, ptxt);
    lc_status s = LC_OK;
    if (hit) {
        *acc = hit->acc;
        *bytes = hit->bytes;
        r->last_drop_lo = hit->drop_lo;
        r->last_drop_hi = hit->drop_hi;
        r->early_done = hit->early_done;
    } else {
        /* a candidate over the whole budget is over every share of it */
        s = build_step(r, cur, own, st, pv, &cand);
        if (!s) s = measure(r, cand, r->p->max_drop, acc);
        if (!s) s = lc_pipeline_file_bytes(r, cand, *acc, bytes);
        if (!s) memo_add(r, cur, ptxt, *acc, *bytes);
    }
    if (s) {
        free(ptxt);
        if (cand != own) lc_model_free(cand);
        return lc_fail_prefix(s, "pass %s", st->pass->name);
    }
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "pass", st->pass->name);
    cJSON_AddStringToObject(t, "params", ptxt ? ptxt : "");
    cJSON_AddNumberToObject(t, "bytes", (double)*bytes);
    double shown = lc_metric_display(r->p->metric, *acc);
    if (r->early_done) { /* a bound, not a measurement */
        cJSON_AddNullToObject(t, "accuracy");
        cJSON *e = cJSON_AddObjectToObject(t, "early_stop");
        cJSON_AddStringToObject(e, "rule", "stopped once certainly over the budget (exact bound, not a statistical test)");
        cJSON_AddNumberToObject(e, "samples", (double)r->early_done);
        cJSON_AddNumberToObject(e, "of", (double)r->n_val);
        cJSON_AddNumberToObject(e, "accuracy_at_most", shown);
    } else if (isfinite(shown)) cJSON_AddNumberToObject(t, "accuracy", shown);
    else cJSON_AddNullToObject(t, "accuracy");
    cJSON_AddItemToArray(r->tried, t);
    lc_pipeline_tried_row(r, t, lc_pipeline_within_drop(r, *acc, r->allow));
    free(ptxt);
    *out = cand;
    return LC_OK;
}

bool lc_pipeline_within_drop(const run_state *r, double acc, double allow)
{
    return lc_pipeline_within_budget(r, acc, r->last_drop_hi, allow);
}

static bool within(const run_state *r, double acc) { return lc_pipeline_within_drop(r, acc, r->allow); }

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
    bool up_is_safe = st->pass->knob_safe == LC_SAFE_HIGH;
    double lo = kv->num, hi = up_is_safe ? d->max : d->min; /* lo: requested (fails), hi: safe end */
    lc_params trial;
    lc_status s = lc_params_copy(&trial, &st->params);
    if (s) return s;
    bool pending = false; /* the best was measured before: built at the end */
    lc_spilled *best_sp = NULL; /* the best, parked while another setting is tried */
    for (int iter = 0; iter < 8 && !s; iter++) {
        double mid = is_int ? (iter == 0 ? hi : round((lo + hi) / 2)) : (iter == 0 ? hi : (lo + hi) / 2);
        if (is_int && iter > 0 && (mid == lo || mid == hi)) break;
        char txt[64];
        snprintf(txt, sizeof txt, is_int ? "%.0f" : "%.6g", mid);
        lc_param_value *tv = (lc_param_value *)lc_params_get(&trial, d->name);
        free(tv->str);
        tv->str = NULL;
        if ((s = lc_params_set(&trial, d->name, txt))) break;
        if (r->ckpt && *best && (s = lc_model_spill(best, &best_sp))) break;
        lc_model *cand;
        double acc;
        int64_t bytes;
        if ((s = try_step(r, cur, NULL, st, &trial, &cand, &acc, &bytes))) break;
        lc_log(r->ctx, "  back-off %s %s=%s: accuracy %.2f", st->pass->name, d->name, txt, acc);
        bool ok = within(r, acc);
        if (!ok && iter == 0 && r->allow < r->p->max_drop && lc_pipeline_within_drop(r, acc, r->p->max_drop)) {
            r->allow = r->p->max_drop;
            ok = true;
        }
        if (ok) {
            r->kept_row = r->last_tried;
            lc_model_free(*best);
            lc_spilled_free(best_sp);
            best_sp = NULL;
            *best = cand;
            pending = !cand;
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
    if (!s && best_sp) s = lc_spilled_load(best_sp, best);
    lc_spilled_free(best_sp);
    if (!s && pending) s = build_step(r, cur, NULL, st, best_params, best);
    if (s) {
        lc_model_free(*best);
        *best = NULL;
    }
    return s;
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
        double t0 = lc_pipeline_now(), acc;
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
        if ((s = try_step(r, cur, own, st, &st->params, &cand, &acc, &bytes))) {
            lc_params_clear(&used);
            break;
        }
        cJSON *kept = r->last_tried;
        const char *outcome = "applied";
        if (!cand && within(r, acc) && (s = build_step(r, cur, NULL, st, &st->params, &cand))) {
            lc_params_clear(&used);
            break;
        }
        if (!within(r, acc)) {
            lc_log(ctx, "  %s: the drop of %.2f points (accuracy %.2f, float %.2f) is over its share of the budget "
                        "(%.2f of %.2f points so far): backing off",
                   st->pass->name, r->float_metric - acc, acc, r->float_metric, r->allow, p->max_drop);
            kept = NULL;
            r->kept_row = NULL;
            lc_model_free(cand);
            cand = NULL;
            if (st->pass->knob && (s = back_off(r, cur, st, &cand, &acc, &bytes, &used))) {
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
    res->bytes = cur_bytes;
    return LC_OK;
}

/* Frees what one run holds besides the report. */
static void run_clear(run_state *r)
{
    free(r->float_pred);
    free(r->float_out);
    memo_clear(r);
    lc_pipeline_layer_rows_free(r);
    free(r->in_path_copy);
    r->in_path_copy = NULL;
    lc_spilled_free(r->in_spill);
    r->in_spill = NULL;
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
                   NULL, 0, NULL, NULL, NAN, NAN, take || park ? NULL : in, NULL, 0, 0, 0, NULL, 0, NULL, NULL, NULL};
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
    /* the last step's validation already measured the result */
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
