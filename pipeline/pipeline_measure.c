/* Measuring a model: the validation metric (with the exact early stop of
 * lc_early_stop.h), its bytes as written, and the clocks of the report. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "lc_early_stop.h"
#include "lc_metric_measure.h"
#include "lc_pipeline_internal.h"

typedef lc_run_state run_state;

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
lc_status lc_pipeline_measure(run_state *r, const lc_model *m, double stop_allow, double *out)
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
