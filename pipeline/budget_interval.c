/* The accuracy budget on unseen data: each candidate's drop gets a paired
 * confidence interval (lc_drop_interval.h) from its per-sample verdicts
 * against the float model's, and with a confidence > 0 a candidate is kept
 * only when the upper end of that interval is within the budget. */
#include <math.h>
#include <stdlib.h>

#include "lc_drop_interval.h"
#include "lc_metric.h"
#include "lc_pipeline_internal.h"

/* The confidence of the reported interval: the budget's, or 95% when the
 * budget takes the point estimate. */
static double report_confidence(const lc_pipeline *p) { return p->confidence > 0 ? p->confidence : 0.95; }

static bool paired_metric(const lc_pipeline *p) { return p->metric == LC_METRIC_TOP1 || p->metric == LC_METRIC_AGREEMENT; }

/* The 2x2 table of `pred` against the float model's predictions. */
static lc_pair_counts verdicts(const lc_run_state *r, const int64_t *pred, int64_t n)
{
    lc_pair_counts c = {0, 0, 0, 0};
    const int64_t *labels = r->p->labels;
    for (int64_t i = 0; i < n; i++) {
        bool f = labels ? r->float_pred[i] == labels[i] : true;
        bool m = labels ? pred[i] == labels[i] : pred[i] == r->float_pred[i];
        if (f && m) c.both++;
        else if (f) c.float_only++;
        else if (m) c.compressed_only++;
        else c.neither++;
    }
    return c;
}

void lc_pipeline_note_verdicts(lc_run_state *r, const int64_t *pred, int64_t n)
{
    r->last_drop_lo = r->last_drop_hi = NAN;
    if (!paired_metric(r->p) || !r->float_pred || n != r->n_val) return;
    lc_pair_counts c = verdicts(r, pred, n);
    lc_drop_interval(&c, report_confidence(r->p), &r->last_drop_lo, &r->last_drop_hi);
}

bool lc_pipeline_within_budget(const lc_run_state *r, double acc, double drop_hi, double allow)
{
    if (allow < 0 || !isfinite(acc)) return true;
    if (r->p->confidence > 0 && paired_metric(r->p) && !isnan(drop_hi)) return drop_hi <= allow + 1e-9;
    return r->float_metric - acc <= allow + 1e-9;
}

lc_status lc_pipeline_check_samples(const lc_run_state *r)
{
    const lc_pipeline *p = r->p;
    if (!(p->confidence > 0) || p->max_drop < 0 || !paired_metric(p) || !p->val) return LC_OK;
    int64_t need = lc_drop_interval_min_samples(p->confidence, p->max_drop, r->float_metric);
    if (r->n_val >= need) return LC_OK;
    return lc_fail(LC_ERR_INVALID_ARGUMENT,
                   "the validation data has %lld samples: a %.2f-point budget at %g%% confidence needs at least %lld "
                   "even if no sample changes (more samples, or confidence 0 for the point estimate: "
                   "lc_pipeline_set_confidence)",
                   (long long)r->n_val, p->max_drop, 100 * p->confidence, (long long)need);
}

/* The report's interval [lo, hi] of the drop measured on n samples. */
static void add_interval(const lc_pipeline *p, cJSON *accuracy, double lo, double hi, int64_t n)
{
    cJSON *ci = cJSON_CreateArray();
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(hi));
    cJSON_AddItemToObject(accuracy, "drop_ci", ci);
    cJSON_AddNumberToObject(accuracy, "confidence", report_confidence(p));
    cJSON_AddBoolToObject(accuracy, "budget_on_upper_bound", p->confidence > 0);
    cJSON_AddNumberToObject(accuracy, "samples", (double)n);
}

lc_status lc_pipeline_add_drop_ci(const lc_run_state *r, const lc_model *out, cJSON *accuracy)
{
    const lc_pipeline *p = r->p;
    if (!accuracy || !out || !p->val || !paired_metric(p) || !r->float_pred) return LC_OK;
    if (r->final_drop_known) { /* the result's own validation measured it */
        add_interval(p, accuracy, r->final_drop[0], r->final_drop[1], r->n_val);
        return LC_OK;
    }
    int64_t *pred, n;
    lc_status s = lc_model_predict(out, p->val, p->val_limit, r->ctx ? r->ctx->batch : 64, r->ctx ? r->ctx->threads : 1,
                                   r->ctx, &pred, &n);
    if (s) return s;
    if (n == r->n_val) {
        lc_pair_counts c = verdicts(r, pred, n);
        double lo, hi;
        lc_drop_interval(&c, report_confidence(p), &lo, &hi);
        add_interval(p, accuracy, lo, hi, n);
    }
    free(pred);
    return LC_OK;
}
