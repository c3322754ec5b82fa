/* The target-size search proper: a multiple-choice knapsack (lc_alloc.h)
 * picks one option per layer for an estimated byte budget from the
 * measured bytes and predicted damage; candidates are built with the
 * passes as given and their exact file size and accuracy checked; the
 * budget is shrunk until one fits, then bisected for the accuracy budget.
 * The report's "target" object and lc_pipeline_run_target. See
 * lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_alloc.h"
#include "lc_encoding.h"
#include "lc_metric_measure.h"
#include "lc_target.h"

typedef lc_pipeline_step step;
typedef lc_target target;
typedef lc_run_state run_state;

/* Runs searched step i on m for a choice: once per run of consecutive
 * layers (model order) with the same knob value, with the step's statistics
 * correction applied once after all of them (as one run of the pass on
 * every layer would). */
static lc_status build_step(target *t, int i, const int *choice, lc_model *m, char **names)
{
    run_state *r = t->r;
    const step *st = &r->p->steps[i];
    lc_correction corr = lc_correction_of(m, r->ctx, &st->params);
    lc_model *before = NULL;
    lc_status s = lc_correction_needs_before(corr, r->ctx) ? lc_model_clone(m, &before) : LC_OK;
    /* in model order, consecutive layers with the same value in one run: a
       sequential pass then fits every layer to its compressed inputs */
    for (int l0 = 0; l0 < t->n_layers && !s;) {
        double v = t->opts[choice[l0]].val[i], v2 = t->opts[choice[l0]].val2[i];
        if (isnan(v)) {
            l0++;
            continue;
        }
        int n = 0;
        for (; l0 < t->n_layers; l0++) {
            double vl = t->opts[choice[l0]].val[i], vl2 = t->opts[choice[l0]].val2[i];
            if (isnan(vl) && t->layers[l0].covered[i]) continue; /* left alone: no break */
            if (vl != v || (vl2 != v2 && !(isnan(vl2) && isnan(v2)))) break;
            names[n++] = t->layers[l0].weight;
        }
        lc_params pv;
        if ((s = lc_target_step_params(st, names, n, v, v2, &pv))) break;
        s = lc_pass_defer_correction(st->pass, &pv, corr);
        if (!s) s = lc_pass_run_params(m, st->pass, &pv, r->ctx);
        lc_params_clear(&pv);
    }
    if (!s) s = lc_correction_apply(m, corr, before, r->ctx);
    if (!s && corr != LC_CORRECT_NONE) s = lc_model_verify_encodings(m);
    lc_model_free(before);
    return s;
}

/* Builds the model for a choice: each searched step runs once per distinct
 * knob value on the layers that chose it, every other step as given; the
 * accuracy is measured once, on the result. */
static lc_status target_build(target *t, const int *choice, lc_target_probe *pr)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    double t0 = lc_pipeline_now();
    lc_model *m = NULL;
    char **names = malloc(sizeof *names * (size_t)t->n_layers);
    lc_status s = names ? lc_model_clone(t->in, &m) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    pr->passes = cJSON_CreateArray();
    pr->acc = NAN;
    pr->drop_hi = NAN;
    if (!s && t->folded) {
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", t->prepared->name);
        cJSON_AddStringToObject(pj, "params", "");
        cJSON_AddStringToObject(pj, "outcome", "applied");
        cJSON_AddNumberToObject(pj, "seconds", 0);
        cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)r->in_bytes_model);
        cJSON_AddItemToArray(pr->passes, pj);
    }
    for (int i = 0; i < p->n_steps && !s; i++) {
        const step *st = &p->steps[i];
        double ts = lc_pipeline_now(), acc = NAN;
        int64_t bytes;
        if (!t->steps[i].grid) s = lc_pass_run_params(m, st->pass, &st->params, r->ctx);
        else s = build_step(t, i, choice, m, names);
        bool last = i == p->n_steps - 1;
        if (!s && last) s = lc_pipeline_metric(r, m, &acc);
        /* the last step's row shows exactly the file lc_pipeline_write will
           write (its META included) */
        if (!s) s = last ? lc_pipeline_file_bytes(r, m, acc, &bytes) : lc_pipeline_model_bytes(r, m, &bytes);
        if (s) {
            lc_fail_prefix(s, "target size: pass %s", st->pass->name);
            break;
        }
        char *ptxt = lc_params_to_string(&st->params);
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", st->pass->name);
        if (t->steps[i].grid) {
            static const char fmt[] = "%s per layer (see target.layers); %s";
            const char *rest = ptxt ? ptxt : "";
            size_t len = (size_t)snprintf(NULL, 0, fmt, st->pass->knob, rest) + 1;
            char *full = malloc(len);
            if (full) snprintf(full, len, fmt, st->pass->knob, rest);
            cJSON_AddStringToObject(pj, "params", full ? full : "");
            free(full);
        } else cJSON_AddStringToObject(pj, "params", ptxt ? ptxt : "");
        free(ptxt);
        cJSON_AddStringToObject(pj, "outcome", t->steps[i].grid ? "allocated" : "applied");
        cJSON_AddNumberToObject(pj, "seconds", lc_pipeline_now() - ts);
        if (isfinite(lc_metric_display(p->metric, acc)))
            cJSON_AddNumberToObject(pj, "accuracy", lc_metric_display(p->metric, acc));
        else cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)bytes);
        cJSON_AddItemToArray(pr->passes, pj);
        if (last) {
            pr->acc = acc;
            pr->drop_hi = r->last_drop_hi;
            pr->bytes = bytes;
        }
    }
    free(names);
    if (s) {
        lc_model_free(m);
        return s;
    }
    pr->m = m;
    pr->seconds = lc_pipeline_now() - t0;
    return LC_OK;
}

/* The bytes layer l's smallest option adds. */
static int64_t layer_min_delta(const target *t, int l)
{
    int64_t mn = INT64_MAX;
    for (int o = t->layers[l].first; o < t->layers[l].first + t->layers[l].n_opts; o++)
        mn = t->opts[o].delta < mn ? t->opts[o].delta : mn;
    return mn;
}

/* The estimated file with every layer's smallest option. */
int64_t lc_target_smallest_bytes(const target *t)
{
    int64_t floor_bytes = t->base_bytes;
    for (int l = 0; l < t->n_layers; l++) floor_bytes += layer_min_delta(t, l);
    return floor_bytes;
}

/* The least-damage choice for an estimated byte budget (*fits false: even
 * the smallest options exceed it; choice is those then). *estimate: its
 * estimated bytes. */
lc_status lc_target_allocate(const target *t, int64_t budget, int *choice, bool *fits, int64_t *estimate)
{
    int64_t *bytes = malloc(sizeof *bytes * (size_t)t->n_opts + 1);
    double *cost = malloc(sizeof *cost * (size_t)t->n_opts + 1);
    int *first = malloc(sizeof *first * (size_t)(t->n_layers + 1));
    *fits = false;
    if (!bytes || !cost || !first) {
        free(bytes);
        free(cost);
        free(first);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    for (int l = 0; l < t->n_layers; l++) { /* bytes above each layer's smallest option */
        const lc_target_layer *L = &t->layers[l];
        int64_t mn = layer_min_delta(t, l);
        first[l] = L->first;
        for (int o = L->first; o < L->first + L->n_opts; o++) {
            bytes[o] = t->opts[o].delta - mn;
            cost[o] = t->opts[o].cost;
        }
    }
    first[t->n_layers] = t->n_opts;
    int64_t floor_bytes = lc_target_smallest_bytes(t);
    lc_alloc_table tab = {t->n_layers, first, cost, bytes};
    bool oom = false;
    *fits = lc_alloc_solve(&tab, budget - floor_bytes, choice, &oom);
    *estimate = floor_bytes + lc_alloc_bytes(&tab, choice);
    free(bytes);
    free(cost);
    free(first);
    return oom ? lc_fail(LC_ERR_NO_MEMORY, "out of memory") : LC_OK;
}

/* Refines the damage estimate where it matters: the options the
 * allocation picks for `budget` are measured for real (those whose weights
 * were kept) and the fit redone, until the picks are all measured. */
lc_status lc_target_refine(target *t, int64_t budget)
{
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    lc_status s = choice ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int round = 0; round < lc_target_tune.refine_rounds && !s; round++) {
        bool fits;
        int64_t est, n_new = 0;
        if ((s = lc_target_allocate(t, budget, choice, &fits, &est))) break;
        for (int l = 0; l < t->n_layers && !s; l++) {
            int o = choice[l];
            if (!isnan(t->opts[o].kl) || (!t->opts[o].w && !t->opts[o].kept) || t->opts[o].proxy <= 0) continue;
            s = lc_target_measure_option(t, l, o);
            n_new++;
        }
        lc_log(t->r->ctx, "target size: refine %d: %lld options measured", round + 1, (long long)n_new);
        if (!n_new) break;
        lc_target_fit_damage(t);
    }
    free(choice);
    return s;
}

/* Allocates settings for an estimated byte budget and builds them, unless
 * an earlier probe made the same choice. *idx: the probe, or -1 when the
 * estimate says nothing fits the budget (and `force` is false). */
lc_status lc_target_probe_budget(target *t, int64_t budget, bool force, int *idx)
{
    run_state *r = t->r;
    *idx = -1;
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    bool fits = false;
    int64_t estimate = 0;
    lc_status s = choice ? lc_target_allocate(t, budget, choice, &fits, &estimate) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s && (fits || force)) {
        for (int i = 0; i < t->n_probes && *idx < 0; i++)
            if (!memcmp(t->probes[i].choice, choice, sizeof *choice * (size_t)t->n_layers)) *idx = i;
        if (*idx < 0 && t->n_probes < LC_TARGET_MAX_PROBES) {
            lc_target_probe *pr = &t->probes[t->n_probes];
            memset(pr, 0, sizeof *pr);
            pr->budget = budget;
            if (!(s = target_build(t, choice, pr))) {
                pr->choice = choice;
                choice = NULL;
                *idx = t->n_probes++;
                cJSON *tj = cJSON_CreateObject();
                char txt[96];
                snprintf(txt, sizeof txt, "per-layer settings for an estimated %lld bytes (estimate %lld)",
                         (long long)budget, (long long)estimate);
                cJSON_AddStringToObject(tj, "pass", "target-size");
                cJSON_AddStringToObject(tj, "params", txt);
                cJSON_AddNumberToObject(tj, "bytes", (double)pr->bytes);
                if (isfinite(pr->acc)) cJSON_AddNumberToObject(tj, "accuracy", pr->acc);
                else cJSON_AddNullToObject(tj, "accuracy");
                cJSON *sj = cJSON_AddArrayToObject(tj, "settings");
                for (int l = 0; l < t->n_layers; l++) {
                    char one[256];
                    int len = snprintf(one, sizeof one, "%s:", t->layers[l].label);
                    for (int i = 0; i < t->n_steps && len < (int)sizeof one; i++) {
                        double v = t->opts[pr->choice[l]].val[i], v2 = t->opts[pr->choice[l]].val2[i];
                        if (t->steps[i].grid)
                            len += snprintf(one + len, sizeof one - (size_t)len, " %s=%g", r->p->steps[i].pass->knob,
                                            isnan(v) ? 0 : v);
                        if (t->steps[i].joint && len < (int)sizeof one)
                            len += snprintf(one + len, sizeof one - (size_t)len, " %s=%g", r->p->steps[i].pass->knob2,
                                            isnan(v2) ? 0 : v2);
                    }
                    cJSON_AddItemToArray(sj, cJSON_CreateString(one));
                }
                cJSON_AddItemToArray(r->tried, tj);
                pr->row = tj;
                lc_log(r->ctx, "target size: probe %d: %lld bytes, accuracy %.2f", t->n_probes, (long long)pr->bytes,
                       pr->acc);
            } else {
                cJSON_Delete(pr->passes);
                pr->passes = NULL;
            }
        }
    }
    free(choice);
    return s;
}

/* The best probe: within the size (and budget, when `need_budget`), the
 * most accurate, or with a budget the smallest within it. -1 if none. */
int lc_target_best(const target *t, bool need_fit, bool need_budget, bool smallest)
{
    const run_state *r = t->r;
    int best = -1;
    for (int i = 0; i < t->n_probes; i++) {
        const lc_target_probe *pr = &t->probes[i];
        if (need_fit && pr->bytes > r->p->target_size) continue;
        if (need_budget && !lc_pipeline_within_budget(r, pr->acc, pr->drop_hi, r->p->max_drop)) continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const lc_target_probe *b = &t->probes[best];
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
    for (int k = 0; k < rounds && !s && hi - lo > lc_target_tune.bisect_bytes && t->n_probes < LC_TARGET_MAX_PROBES; k++) {
        int64_t mid = lo + (hi - lo) / 2;
        int idx;
        if ((s = lc_target_probe_budget(t, mid, false, &idx))) break;
        if (idx >= 0 && lc_pipeline_within_budget(t->r, t->probes[idx].acc, t->probes[idx].drop_hi, t->r->p->max_drop)) hi = mid;
        else lo = mid;
    }
    return s;
}

/* An option's searched knob values (0: left alone). */
static cJSON *setting_json(const target *t, const lc_target_option *opt)
{
    cJSON *sj = cJSON_CreateArray();
    for (int i = 0; i < t->n_steps; i++) {
        if (t->steps[i].grid) cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(opt->val[i]) ? 0 : opt->val[i]));
        if (t->steps[i].joint) cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(opt->val2[i]) ? 0 : opt->val2[i]));
    }
    return sj;
}

cJSON *lc_target_report(const target *t, int chosen, int64_t smallest, double seconds)
{
    const run_state *r = t->r;
    cJSON *tj = cJSON_CreateObject();
    bool sized = r->p->target_size > 0;
    /* auto mode: the smallest file within the budget, no size given */
    cJSON_AddStringToObject(tj, "mode", sized ? "target-size" : "auto");
    if (sized) cJSON_AddNumberToObject(tj, "target_bytes", (double)r->p->target_size);
    cJSON_AddNumberToObject(tj, "achieved_bytes", chosen >= 0 ? (double)t->probes[chosen].bytes : (double)smallest);
    if (sized) cJSON_AddBoolToObject(tj, "fits", chosen >= 0 && t->probes[chosen].bytes <= r->p->target_size);
    cJSON_AddNumberToObject(tj, "smallest_bytes", (double)smallest);
    cJSON_AddNumberToObject(tj, "probes", t->n_probes);
    cJSON_AddNumberToObject(tj, "configurations_measured", t->n_opts);
    cJSON_AddNumberToObject(tj, "grid_runs", t->n_runs);
    cJSON_AddNumberToObject(tj, "evaluations", t->n_evals);
    cJSON_AddBoolToObject(tj, "batchnorm_folded", t->folded != NULL);
    cJSON_AddNumberToObject(tj, "seconds", seconds);
    cJSON *knobs = cJSON_AddArrayToObject(tj, "knobs");
    for (int i = 0; i < t->n_steps; i++)
        if (t->steps[i].grid) {
            char k[96];
            snprintf(k, sizeof k, "%s.%s", r->p->steps[i].pass->name, r->p->steps[i].pass->knob);
            cJSON_AddItemToArray(knobs, cJSON_CreateString(k));
            if (t->steps[i].joint) {
                snprintf(k, sizeof k, "%s.%s", r->p->steps[i].pass->name, r->p->steps[i].pass->knob2);
                cJSON_AddItemToArray(knobs, cJSON_CreateString(k));
            }
        }
    cJSON *layers = cJSON_AddArrayToObject(tj, "layers");
    for (int l = 0; l < t->n_layers; l++) {
        cJSON *lj = cJSON_CreateObject();
        const lc_target_layer *L = &t->layers[l];
        cJSON_AddStringToObject(lj, "name", L->label);
        cJSON_AddStringToObject(lj, "weight", L->weight);
        cJSON_AddNumberToObject(lj, "params", (double)L->params);
        if (chosen >= 0) {
            const lc_target_option *opt = &t->opts[t->probes[chosen].choice[l]];
            cJSON_AddItemToObject(lj, "setting", setting_json(t, opt));
            cJSON_AddNumberToObject(lj, "alone_damage", opt->cost);
            cJSON_AddNumberToObject(lj, "alone_bytes_added", (double)opt->delta);
        }
        cJSON *opts = cJSON_AddArrayToObject(lj, "grid");
        for (int o = L->first; t->opts && o < L->first + L->n_opts; o++) {
            const lc_target_option *opt = &t->opts[o];
            cJSON *oj = cJSON_CreateObject();
            cJSON_AddItemToObject(oj, "setting", setting_json(t, opt));
            cJSON_AddNumberToObject(oj, "proxy", opt->proxy);
            cJSON_AddNumberToObject(oj, "damage", opt->cost);
            if (!isnan(opt->kl)) cJSON_AddNumberToObject(oj, "kl", opt->kl);
            cJSON_AddNumberToObject(oj, "bytes_added", (double)opt->delta);
            cJSON_AddItemToArray(opts, oj);
        }
        cJSON_AddItemToArray(layers, lj);
    }
    return tj;
}

void lc_target_drop_probes(target *t)
{
    for (int i = 0; i < t->n_probes; i++) {
        free(t->probes[i].choice);
        lc_model_free(t->probes[i].m);
        cJSON_Delete(t->probes[i].passes);
    }
    memset(t->probes, 0, sizeof t->probes);
    t->n_probes = 0;
}

lc_status lc_target_search_size(target *t, int *chosen, int64_t *smallest)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    const lc_target_tuning *tune = &lc_target_tune;
    int64_t T = p->target_size;
    *chosen = -1;
    *smallest = INT64_MAX;
    lc_status s = LC_OK;
    /* the most compressing grid run: when even it does not fit, nothing does */
    int64_t floor_file = t->floor_file;
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddStringToObject(fj, "pass", "target-size");
    cJSON_AddStringToObject(fj, "params", "the most compressing grid setting on every layer (grid run)");
    cJSON_AddNumberToObject(fj, "bytes", (double)floor_file);
    cJSON_AddNullToObject(fj, "accuracy");
    cJSON_AddItemToArray(r->tried, fj);
    lc_log(r->ctx, "target size: the most compressing settings give %lld bytes", (long long)floor_file);
    if (floor_file > T) {
        *smallest = floor_file;
        return LC_OK;
    }
    /* the META section and other fixed bytes: measured on the input model
       (a sweep's points differ in theirs) */
    int64_t fixed = 0;
    if (!p->size_fn && p->format == LC_FORMAT_LCM) {
        int64_t len;
        if ((s = lc_pipeline_file_bytes(r, t->base, r->float_metric, &len))) return s;
        fixed = len - t->base_bytes;
    }
    if ((s = lc_target_refine(t, T - fixed))) return s;
    /* fit: shrink the estimated budget until a real build fits */
    int64_t budget = T - fixed, fit_budget = -1;
    int idx = -1;
    for (int k = 0; k < tune->fit_rounds && !s; k++) {
        if ((s = lc_target_probe_budget(t, budget, false, &idx))) break;
        if (idx < 0) break; /* the estimate says nothing fits */
        const lc_target_probe *pr = &t->probes[idx];
        if (pr->bytes <= T) {
            fit_budget = budget;
            break;
        }
        budget -= pr->bytes - T + (T / tune->fit_step_div + 1) * (k + 1);
    }
    if (s) return s;
    if (fit_budget < 0) { /* the fewest bytes of every layer: the smallest reachable */
        if ((s = lc_target_probe_budget(t, -1, true, &idx))) return s;
        if (idx >= 0 && t->probes[idx].bytes <= T) fit_budget = -1; /* fits after all: kept below */
    } else if (t->probes[idx].bytes < T - (T / tune->slack_div + tune->slack_bytes)) {
        /* the estimate was pessimistic: spend the slack once */
        if ((s = lc_target_probe_budget(t, fit_budget + (T - t->probes[idx].bytes), false, &idx))) return s;
    }
    int fit = lc_target_best(t, true, false, false);
    if (fit >= 0 && p->max_drop >= 0 && p->val) {
        int64_t fb = t->probes[fit].budget;
        if (lc_pipeline_within_budget(r, t->probes[fit].acc, t->probes[fit].drop_hi, p->max_drop)) { /* smaller models within the budget */
            s = target_bisect(t, lc_target_smallest_bytes(t), fb, tune->bisect_rounds_within);
        }
        else { /* over the budget: the smallest model within it, larger than the target */
            int64_t hi = fb;
            for (int o = 0; o < t->n_opts; o++) hi += t->opts[o].delta > 0 ? t->opts[o].delta : 0;
            s = target_bisect(t, fb, hi, tune->bisect_rounds_over);
        }
        if (s) return s;
    }
    *smallest = floor_file;
    for (int i = 0; i < t->n_probes; i++) *smallest = t->probes[i].bytes < *smallest ? t->probes[i].bytes : *smallest;
    if (p->max_drop >= 0 && p->val) {
        *chosen = lc_target_best(t, true, true, true);
        if (*chosen < 0 && lc_target_best(t, true, false, false) >= 0) {
            p->budget_met = false; /* fits, but not within the accuracy budget */
            *chosen = lc_target_best(t, false, true, true);
        }
    } else {
        *chosen = lc_target_best(t, true, false, false);
    }
    return LC_OK;
}

/* --target-size: the search of the per-layer settings instead of the
 * passes as given. */
lc_status lc_pipeline_run_target(lc_pipeline *p, run_state *r, const lc_model *in, lc_model **out)
{
    if (!p->val)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "a target size needs validation data (lc_pipeline_set_validation) to rank the settings on");
    double t0 = lc_pipeline_now();
    target t;
    int chosen = -1;
    int64_t smallest = 0;
    lc_status s = lc_target_start(&t, r, in);
    if (!s && t.stopped) { /* jobs planned or run (lc_pipeline_set_jobs) */
        lc_target_free(&t);
        return LC_OK;
    }
    if (!s) s = lc_target_search_size(&t, &chosen, &smallest);
    if (s) {
        lc_target_free(&t);
        return s;
    }
    const lc_target_probe *pr = chosen >= 0 ? &t.probes[chosen] : NULL;
    bool fits = pr && pr->bytes <= p->target_size;
    bool none_fits = smallest > p->target_size;
    p->target_met = fits;
    lc_model *result = NULL;
    if (pr) {
        result = pr->m;
        t.probes[chosen].m = NULL;
    } else if (!none_fits && (s = lc_model_clone(in, &result))) { /* over budget everywhere: the input model */
        lc_target_free(&t);
        return s;
    }
    cJSON_AddItemToObject(p->report, "target", lc_target_report(&t, chosen, smallest, lc_pipeline_now() - t0));
    cJSON *passes = pr ? cJSON_Duplicate(pr->passes, 1) : cJSON_CreateArray();
    double acc = pr ? pr->acc : r->float_metric;
    int64_t bytes = pr ? pr->bytes : r->in_bytes;
    lc_pipeline_finish_report(p, r, in, none_fits ? NULL : result, passes, acc, bytes);
    lc_target_free(&t);
    if (none_fits) {
        lc_model_free(result);
        return lc_fail(LC_ERR_BUDGET, "no configuration fits %lld bytes: the smallest file reached is %lld bytes (%.1fx the target)",
                       (long long)p->target_size, (long long)smallest, (double)smallest / (double)p->target_size);
    }
    *out = result;
    return LC_OK;
}
