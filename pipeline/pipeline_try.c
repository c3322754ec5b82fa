/* Trying configurations of a step: building a candidate (on a copy, in
 * place, or from the parked model), measuring it once (the memo of
 * configurations measured on the input model), and the back-off that
 * bisects the step's knob when the requested setting is over budget. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_metric_measure.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

typedef lc_pipeline_step step;
typedef lc_run_state run_state;

/* A configuration measured on the input model: a second attempt of the
 * passes starts from the same model and repeats the first step's probes. */
typedef struct lc_try_memo {
    int step;
    char *params;
    double acc, drop_lo, drop_hi;
    int64_t bytes, early_done;
} lc_try_memo;

void lc_pipeline_memo_clear(run_state *r)
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
lc_status lc_pipeline_build_step(run_state *r, const lc_model *cur, lc_model *own, const step *st, const lc_params *pv,
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
lc_status lc_pipeline_try_step(run_state *r, const lc_model *cur, lc_model *own, const step *st, const lc_params *pv,
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
        s = lc_pipeline_build_step(r, cur, own, st, pv, &cand);
        if (!s) s = lc_pipeline_measure(r, cand, r->p->max_drop, acc);
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

/* The probe between lo and hi (rounded for an integer knob). */
static double midpoint(double lo, double hi, bool is_int) { return is_int ? round((lo + hi) / 2) : (lo + hi) / 2; }

#define BACK_OFF_PROBES 7 /* settings measured between the ends, at most */

/* A setting the back-off measured (its row in the report's "tried"). */
typedef struct probe {
    double v, acc, drop[2];
    int64_t bytes;
    cJSON *row;
} probe;

/* One back-off: the step, the knob, the best setting so far. */
typedef struct back_off {
    run_state *r;
    const lc_model *cur;
    const step *st;
    const lc_param_desc *d;
    bool is_int;
    double resolution; /* a float knob's bisection stops there */
    lc_params trial, *best_params;
    lc_model **best;
    bool found;        /* a setting is kept */
    bool pending;      /* the best was measured before: built at the end */
    lc_spilled *best_sp; /* the best, parked while another setting is tried */
    double *best_acc, *best_drop;
    int64_t *best_bytes;
    probe known[2 * BACK_OFF_PROBES + 1];
    int n_known;
} back_off;

/* Measures setting v (or takes what was measured of it) and keeps it when
 * within r->allow, or within the whole budget with `widen` (the pass then
 * gets the whole budget). *ok: kept. */
static lc_status probe_setting(back_off *b, double v, bool widen, bool *ok)
{
    run_state *r = b->r;
    *ok = false;
    char txt[64];
    snprintf(txt, sizeof txt, b->is_int ? "%.0f" : "%.6g", v);
    lc_param_value *tv = (lc_param_value *)lc_params_get(&b->trial, b->d->name);
    free(tv->str);
    tv->str = NULL;
    lc_status s = lc_params_set(&b->trial, b->d->name, txt);
    if (s) return s;
    const probe *k = NULL;
    for (int i = 0; i < b->n_known && !k; i++)
        if (b->known[i].v == v) k = &b->known[i];
    lc_model *cand = NULL;
    probe got;
    if (k) { /* judged again against a widened budget */
        got = *k;
        r->last_drop_lo = got.drop[0];
        r->last_drop_hi = got.drop[1];
    } else {
        if (r->ckpt && *b->best && (s = lc_model_spill(b->best, &b->best_sp))) return s;
        if ((s = lc_pipeline_try_step(r, b->cur, NULL, b->st, &b->trial, &cand, &got.acc, &got.bytes))) return s;
        lc_log(r->ctx, "  back-off %s %s=%s: accuracy %.2f", b->st->pass->name, b->d->name, txt, got.acc);
        got = (probe){v, got.acc, {r->last_drop_lo, r->last_drop_hi}, got.bytes, r->last_tried};
        if (b->n_known < (int)(sizeof b->known / sizeof *b->known)) b->known[b->n_known++] = got;
    }
    *ok = within(r, got.acc);
    if (!*ok && widen && r->allow < r->p->max_drop && lc_pipeline_within_drop(r, got.acc, r->p->max_drop)) {
        r->allow = r->p->max_drop;
        *ok = true;
    }
    if (!*ok) {
        lc_model_free(cand);
        return LC_OK;
    }
    r->kept_row = got.row;
    lc_model_free(*b->best);
    lc_spilled_free(b->best_sp);
    b->best_sp = NULL;
    *b->best = cand;
    b->pending = !cand;
    b->found = true;
    *b->best_acc = got.acc;
    b->best_drop[0] = got.drop[0];
    b->best_drop[1] = got.drop[1];
    *b->best_bytes = got.bytes;
    lc_params_clear(b->best_params);
    return lc_params_copy(b->best_params, &b->trial);
}

/* Bisects between lo (over the budget) and hi, keeping what fits. */
static lc_status bisect(back_off *b, double lo, double hi)
{
    lc_status s = LC_OK;
    for (int i = 0; i < BACK_OFF_PROBES && !s && !(fabs(hi - lo) < b->resolution); i++) {
        double mid = midpoint(lo, hi, b->is_int);
        if (b->is_int && (mid == lo || mid == hi)) break;
        bool ok;
        if ((s = probe_setting(b, mid, false, &ok))) break;
        if (ok) hi = mid;
        else lo = mid;
    }
    return s;
}

/* Bisects the step's knob between its safe end (no or least compression)
 * and the requested value, keeping the most compressing setting within the
 * pass's share of the budget. When even the safe end is over the share but
 * within the whole budget, the pass gets the whole budget. *best is NULL
 * when even the safe end does not fit; best_drop gets its drop's interval
 * as measured (NAN: none).
 *
 * The result is that of a bisection that measures the safe end first, but
 * the safe end is measured only when no setting between fits: accuracy
 * falls with compression, so a setting that fits says the safe end does
 * (and within the share: the budget is not widened). When none fits and
 * the safe end widens the budget, the bisection is judged again against
 * the whole budget, with what was measured (only new settings are run). */
lc_status lc_pipeline_back_off(run_state *r, const lc_model *cur, const step *st, lc_model **best, double *best_acc,
                               double best_drop[2], int64_t *best_bytes, lc_params *best_params)
{
    *best = NULL;
    const lc_param_value *kv = lc_params_get(&st->params, st->pass->knob);
    if (!kv) return LC_OK;
    const lc_param_desc *d = kv->desc;
    bool is_int = d->type == LC_PARAM_INT;
    back_off b = {.r = r, .cur = cur, .st = st, .d = d, .is_int = is_int, .resolution = is_int ? 0 : 0.01 * (d->max - d->min),
                  .best_params = best_params, .best = best, .best_acc = best_acc, .best_drop = best_drop,
                  .best_bytes = best_bytes};
    double lo = kv->num, safe = st->pass->knob_safe == LC_SAFE_HIGH ? d->max : d->min; /* lo: requested (fails) */
    lc_status s = lc_params_copy(&b.trial, &st->params);
    if (s) return s;
    s = bisect(&b, lo, safe);
    if (!s && !b.found) {
        double allow = r->allow;
        bool ok;
        s = probe_setting(&b, safe, true, &ok);
        if (!s && ok && r->allow > allow) s = bisect(&b, lo, safe);
    }
    lc_params_clear(&b.trial);
    if (!s && b.best_sp) s = lc_spilled_load(b.best_sp, best);
    lc_spilled_free(b.best_sp);
    if (!s && b.pending) s = lc_pipeline_build_step(r, cur, NULL, st, best_params, best);
    if (s) {
        lc_model_free(*best);
        *best = NULL;
    }
    return s;
}
