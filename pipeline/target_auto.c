/* Auto mode: the smallest file whose accuracy holds within the budget, no
 * size given. The target-size machinery measures once (grid runs, damage
 * fit); then one search over the estimated byte budget does both the size
 * and the accuracy search: a bisection (on a log scale) between the
 * smallest reachable estimate and the least-damage one, each probe's
 * allocation refined by real measurements of the options it picks, each
 * probe built with the passes as given and checked on the validation data
 * (with a confidence: the upper end of its drop's interval). See
 * lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_target.h"

typedef lc_target target;
typedef lc_run_state run_state;

/* The search's constants: at most `rounds` probes of the bisection, which
 * stops once hi / lo is within 1 + `tol` (0.5%: below what two runs of the
 * same settings differ by in the file). Not tuned per model. */
static const struct {
    int rounds;
    double tol;
} auto_tune = {9, 0.005};

const char *lc_pipeline_auto_recipe(void)
{
    /* SparseGPT's joint mode: each layer's sparsity and bits searched
       together (bits=2 caps the grid at 2 bits: 8/5/4/3/2), the Hessian
       damped for calibration sets smaller than a layer's inputs, the
       output channels' scale restored after each wave (BatchNorm is folded
       first, so there is no BatchNorm to re-estimate) */
    return "{\"passes\": [{\"pass\": \"prune-hessian\", \"bits\": 2, \"damp\": 0.3, \"rescale\": true, \"grid\": \"shared\"},"
           " {\"pass\": \"huffman\"}]}";
}

static bool probe_within(const target *t, int idx)
{
    const run_state *r = t->r;
    return idx >= 0 && lc_pipeline_within_budget(r, t->probes[idx].acc, t->probes[idx].drop_hi, r->p->max_drop);
}

/* The estimated file of the least-damage choice (every layer's most
 * accurate option). */
static lc_status largest_estimate(const target *t, int64_t *est)
{
    int64_t all = t->base_bytes;
    for (int o = 0; o < t->n_opts; o++) all += t->opts[o].delta > 0 ? t->opts[o].delta : 0;
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    bool fits;
    lc_status s = choice ? lc_target_allocate(t, all, choice, &fits, est) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    free(choice);
    return s;
}

/* The bisection. *chosen: the smallest probe within the budget, else the
 * most accurate one (p->budget_met false). */
static lc_status auto_search(target *t, int *chosen)
{
    run_state *r = t->r;
    int64_t lo = 0, hi = 0;
    lc_status s = largest_estimate(t, &hi);
    if (s) return s;
    lo = lc_target_smallest_bytes(t);
    lc_log(r->ctx, "auto: estimated files from %lld to %lld bytes", (long long)lo, (long long)hi);
    /* lo: over the budget (the smallest reachable, not built), hi: within
       it (assumed until a probe says otherwise) */
    for (int k = 0; k < auto_tune.rounds && !s && t->n_probes < LC_TARGET_MAX_PROBES; k++) {
        int64_t mid = (int64_t)sqrt((double)lo * (double)hi);
        if ((double)hi <= (double)lo * (1 + auto_tune.tol) || mid <= lo || mid >= hi) break;
        int idx;
        if ((s = lc_target_refine(t, mid))) break;
        if ((s = lc_target_probe_budget(t, mid, true, &idx))) break;
        if (idx < 0) break;
        bool ok = probe_within(t, idx);
        lc_log(r->ctx, "auto: estimated %lld bytes -> %lld bytes, accuracy %.2f: %s", (long long)mid,
               (long long)t->probes[idx].bytes, t->probes[idx].acc, ok ? "within the budget" : "over it");
        if (ok) hi = mid;
        else lo = mid;
    }
    if (s) return s;
    if (lc_target_best(t, false, true, true) < 0 && t->n_probes < LC_TARGET_MAX_PROBES) {
        /* nothing within the budget yet: the least-damage choice */
        int idx;
        if ((s = largest_estimate(t, &hi)) || (s = lc_target_probe_budget(t, hi, true, &idx))) return s;
    }
    *chosen = lc_target_best(t, false, true, true);
    if (*chosen < 0) {
        r->p->budget_met = false;
        *chosen = lc_target_best(t, false, false, false);
    }
    return LC_OK;
}

lc_status lc_pipeline_run_auto(lc_pipeline *p, run_state *r, const lc_model *in, lc_model **out)
{
    if (!p->val || p->max_drop < 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "auto mode needs validation data (lc_pipeline_set_validation) and an "
                                                "accuracy budget (lc_pipeline_set_max_drop)");
    double t0 = lc_pipeline_now();
    target t;
    int chosen = -1;
    lc_status s = lc_target_start(&t, r, in);
    if (!s && !t.stopped) s = auto_search(&t, &chosen);
    if (!s && t.stopped) { /* jobs planned or run (lc_pipeline_set_jobs) */
        lc_target_free(&t);
        return LC_OK;
    }
    if (!s && chosen < 0) s = lc_fail(LC_ERR_INTERNAL, "auto mode: no candidate was built");
    if (s) {
        lc_target_free(&t);
        return s;
    }
    lc_target_probe *pr = &t.probes[chosen];
    lc_model *result = pr->m;
    pr->m = NULL;
    int64_t smallest = t.floor_file;
    for (int i = 0; i < t.n_probes; i++) smallest = t.probes[i].bytes < smallest ? t.probes[i].bytes : smallest;
    cJSON *tj = lc_target_report(&t, chosen, smallest, lc_pipeline_now() - t0);
    cJSON_AddStringToObject(tj, "search", "bisection of the estimated bytes from the smallest reachable file to the "
                                          "least-damage one; the smallest build within the budget");
    cJSON_AddItemToObject(p->report, "target", tj);
    lc_pipeline_finish_report(p, r, in, result, cJSON_Duplicate(pr->passes, 1), pr->acc, pr->bytes);
    lc_target_free(&t);
    *out = result;
    return LC_OK;
}
