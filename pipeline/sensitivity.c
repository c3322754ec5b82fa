/* Per-layer sensitivity: each weight layer compressed alone by one pass at
 * each value of its knob, validated on data. The ranking tells which
 * layers to spare first.
 *
 * The (layer, value) evaluations are independent jobs, numbered
 * layer * n_grid + value index. lc_sensitivity_run runs them all;
 * lc_sensitivity_run_jobs runs a slice and lc_sensitivity_merge assembles
 * slices, run anywhere, into the very JSON lc_sensitivity_run gives: each
 * job's accuracy is computed the same way wherever it runs, and printed
 * and parsed back exactly (%.17g). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_jobs.h"
#include "lc_metric_measure.h"
#include "lc_pass.h"

/* One sensitivity study: its pass, parameters, layers and references. */
typedef struct study {
    const lc_model *m;
    const lc_pass *pass;
    lc_params base;
    const double *grid;
    int n_grid;
    const lc_dataset *val;
    const int64_t *labels;
    int64_t limit;
    const lc_context *ctx;
    lc_context dflt;
    int kind;             /* the metric (lc_metric.h) */
    int64_t *truth;       /* the float model's predictions (agreement) */
    float *ref_out;       /* its first outputs (output-comparing metrics) */
    int64_t ref_k;        /* their elements per sample */
    lc_model *probe;      /* a copy whose layer list names the jobs */
    lc_weight *w;
    int n_w;
    char print[17];       /* the study's fingerprint (lc_jobs.h) */
} study;

/* The study's metric of `m`: top-1 (%) against the labels, agreement (%)
 * with the float model's arg-max, or its first outputs compared with the
 * float model's (SNR, cosine, MSE). */
static lc_status accuracy(const study *st, const lc_model *m, double *out)
{
    if (st->ref_out) {
        float *y;
        int64_t n, k;
        lc_status s = lc_metric_outputs(m, st->val, st->limit, st->ctx, &y, &n, &k);
        if (s) return s;
        if (k != st->ref_k)
            s = lc_fail(LC_ERR_SHAPE, "the first output changed size (%lld, was %lld)", (long long)k, (long long)st->ref_k);
        else *out = lc_metric_display(st->kind, lc_metric_compare(st->kind, y, st->ref_out, n, k));
        free(y);
        return s;
    }
    int64_t *pred, n;
    lc_status s = lc_model_predict(m, st->val, st->limit, st->ctx->batch, st->ctx->threads, st->ctx, &pred, &n);
    if (s) return s;
    const int64_t *ref = st->kind == LC_METRIC_TOP1 ? st->labels : st->truth;
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++) hit += pred[i] == ref[i];
    free(pred);
    *out = n ? 100.0 * (double)hit / (double)n : 0;
    return LC_OK;
}

static void study_free(study *st)
{
    lc_params_clear(&st->base);
    free(st->truth);
    free(st->ref_out);
    free(st->w);
    lc_model_free(st->probe);
}

/* The fingerprint of everything a job's accuracy depends on. */
static lc_status study_print(study *st, int64_t n_labels)
{
    lc_fingerprint f;
    lc_fingerprint_init(&f);
    lc_fingerprint_str(&f, "sensitivity");
    lc_status s = lc_fingerprint_model(&f, st->m);
    if (s) return s;
    char *params = lc_params_to_string(&st->base);
    if (!params) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_fingerprint_str(&f, params);
    free(params);
    for (int g = 0; g < st->n_grid; g++) lc_fingerprint_f64(&f, st->grid[g]);
    lc_fingerprint_dataset(&f, st->val, st->limit);
    int64_t n = st->labels ? n_labels : 0;
    if (n) lc_fingerprint_bytes(&f, st->labels, (size_t)n * sizeof *st->labels);
    lc_fingerprint_i64(&f, st->kind);
    lc_fingerprint_context(&f, st->ctx);
    lc_fingerprint_hex(&f, st->print);
    return LC_OK;
}

/* Checks the arguments and lists the layers. */
static lc_status study_init(study *st, const lc_model *m, const char *pass_name, const char *params, const double *grid,
                            int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                            const lc_context *ctx)
{
    memset(st, 0, sizeof *st);
    st->m = m;
    st->grid = grid;
    st->n_grid = n_grid;
    st->val = val;
    st->labels = labels;
    st->limit = limit;
    if (!m || !pass_name) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_run: NULL model or pass");
    st->pass = lc_pass_find(pass_name);
    if (!st->pass) return lc_pass_unknown(pass_name);
    if (!st->pass->knob) return lc_fail(LC_ERR_PARAMETER, "%s has no knob to vary", st->pass->name);
    if (n_grid < 1 || !grid) return lc_fail(LC_ERR_PARAMETER, "the grid is empty");
    if (!val) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_run needs validation data (val)");
    lc_status s = lc_model_check_finite(m);
    if (s) return s;
    if (!ctx) {
        st->dflt.threads = 1;
        st->dflt.batch = 64;
        ctx = &st->dflt;
    }
    st->ctx = ctx;
    if ((s = lc_params_init(&st->base, st->pass->name, st->pass->params, st->pass->n_params))) return s;
    if ((s = lc_params_parse(&st->base, params ? params : ""))) return s;
    char txt[64];
    for (int g = 0; g < n_grid && !s; g++) { /* validate the grid against the knob's range first */
        lc_params probe;
        if ((s = lc_params_copy(&probe, &st->base))) break;
        snprintf(txt, sizeof txt, "%.17g", grid[g]);
        s = lc_params_set(&probe, st->pass->knob, txt);
        lc_params_clear(&probe);
    }
    if (s) return s;
    st->kind = lc_metric_kind(ctx, labels != NULL);
    if (st->kind == LC_METRIC_TOP1 && !labels)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "metric top1 needs labels of the validation data");
    if (st->kind != LC_METRIC_TOP1 && st->kind != LC_METRIC_AGREEMENT) {
        int64_t n_out;
        if ((s = lc_metric_outputs(m, val, limit, ctx, &st->ref_out, &n_out, &st->ref_k))) return s;
    } else if (st->kind == LC_METRIC_TOP1) {
        int64_t count = lc_dataset_count(val);
        if (limit > 0 && limit < count) count = limit;
        if (n_labels < count)
            return lc_fail(LC_ERR_SHAPE, "%lld labels for %lld validation samples", (long long)n_labels, (long long)count);
    } else {
        int64_t n_truth;
        if ((s = lc_model_predict(m, val, limit, ctx->batch, ctx->threads, ctx, &st->truth, &n_truth))) return s;
    }
    if ((s = lc_model_clone(m, &st->probe))) return s;
    if ((s = lc_weight_targets(st->probe, &st->base, &st->w, &st->n_w))) return s;
    return study_print(st, n_labels);
}

static int64_t study_jobs(const study *st) { return (int64_t)st->n_w * st->n_grid; }

/* Job k: layer k / n_grid alone at grid value k % n_grid. */
static lc_status study_job(const study *st, int64_t k, double *acc)
{
    int i = (int)(k / st->n_grid), g = (int)(k % st->n_grid);
    const lc_pass *pass = st->pass;
    lc_params pv;
    lc_model *cand = NULL;
    char txt[64];
    *acc = NAN;
    lc_status s = lc_params_copy(&pv, &st->base);
    if (s) return s;
    /* only this layer: select it by its weight tensor's name */
    lc_param_value *inc = (lc_param_value *)lc_params_get(&pv, "include");
    if (inc) {
        for (int q = 0; q < inc->n_list; q++) free(inc->list[q]);
        free(inc->list);
        inc->list = NULL;
        inc->n_list = 0;
        inc->given = false;
    }
    snprintf(txt, sizeof txt, "%.17g", st->grid[g]);
    if (!(s = lc_params_set(&pv, "include", st->w[i].tensor->name)) && !(s = lc_params_set(&pv, pass->knob, txt)) &&
        !(s = lc_model_clone(st->m, &cand)) && !(s = lc_pass_run_params(cand, pass, &pv, st->ctx)))
        s = accuracy(st, cand, acc);
    lc_model_free(cand);
    lc_params_clear(&pv);
    if (s) lc_fail_prefix(s, "layer '%s' at %s=%s", st->w[i].tensor->name, pass->knob, txt);
    return s;
}

/* The study's JSON from every job's accuracy. */
static lc_status study_json(const study *st, const double *acc, char **json)
{
    double base_acc;
    lc_status s = accuracy(st, st->m, &base_acc);
    if (s) return s;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "pass", st->pass->name);
    cJSON_AddStringToObject(root, "knob", st->pass->knob);
    cJSON_AddStringToObject(root, "metric", lc_metric_name(st->kind));
    /* JSON has no infinity: an SNR of identical outputs is null */
    cJSON_AddItemToObject(root, "float", isfinite(base_acc) ? cJSON_CreateNumber(base_acc) : cJSON_CreateNull());
    int64_t n_val = lc_dataset_count(st->val);
    cJSON_AddNumberToObject(root, "samples", (double)(st->limit > 0 && st->limit < n_val ? st->limit : n_val));
    cJSON *gj = cJSON_AddArrayToObject(root, "grid");
    for (int g = 0; g < st->n_grid; g++) cJSON_AddItemToArray(gj, cJSON_CreateNumber(st->grid[g]));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < st->n_w; i++) {
        cJSON *lj = cJSON_CreateObject();
        const lc_node *node = st->w[i].node;
        cJSON_AddStringToObject(lj, "name", node->name && *node->name ? node->name : st->w[i].tensor->name);
        cJSON_AddStringToObject(lj, "op", node->op_type);
        cJSON_AddStringToObject(lj, "weight", st->w[i].tensor->name);
        cJSON_AddNumberToObject(lj, "params", (double)lc_tensor_numel(st->w[i].tensor));
        cJSON *aj = cJSON_AddArrayToObject(lj, "accuracy");
        for (int g = 0; g < st->n_grid; g++) {
            double a = acc[(int64_t)i * st->n_grid + g];
            cJSON_AddItemToArray(aj, isfinite(a) ? cJSON_CreateNumber(a) : cJSON_CreateNull());
        }
        cJSON_AddItemToArray(layers, lj);
    }
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    return *json ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

lc_status lc_sensitivity_run(const lc_model *m, const char *pass_name, const char *params, const double *grid,
                             int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                             const lc_context *ctx, char **json)
{
    if (json) *json = NULL;
    if (!json) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_run: json is NULL");
    study st;
    lc_status s = study_init(&st, m, pass_name, params, grid, n_grid, val, labels, n_labels, limit, ctx);
    int64_t n = s ? 0 : study_jobs(&st);
    double *acc = s ? NULL : malloc((size_t)(n ? n : 1) * sizeof *acc);
    if (!s && !acc) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t k = 0; k < n && !s; k++) {
        s = study_job(&st, k, &acc[k]);
        lc_progress(st.ctx, "sensitivity", k + 1, n);
    }
    if (!s) s = study_json(&st, acc, json);
    free(acc);
    study_free(&st);
    return s;
}

lc_status lc_sensitivity_plan(const lc_model *m, const char *pass_name, const char *params, const double *grid,
                              int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                              const lc_context *ctx, char **jsonl)
{
    if (jsonl) *jsonl = NULL;
    if (!jsonl) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_plan: jsonl is NULL");
    study st;
    lc_status s = study_init(&st, m, pass_name, params, grid, n_grid, val, labels, n_labels, limit, ctx);
    int64_t n = s ? 0 : study_jobs(&st);
    char *out = NULL;
    size_t len = 0;
    FILE *f = s ? NULL : open_memstream(&out, &len);
    if (!s && !f) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int64_t k = 0; k < n && !s; k++) {
        cJSON *j = lc_jobs_plan_line(st.print, k, n);
        cJSON_AddStringToObject(j, "weight", st.w[k / n_grid].tensor->name);
        cJSON_AddNumberToObject(j, st.pass->knob, grid[k % n_grid]);
        s = lc_jobs_append_line(f, j);
    }
    if (f && fclose(f) != 0 && !s) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s) {
        *jsonl = out;
        out = NULL;
    }
    free(out);
    study_free(&st);
    return s;
}

lc_status lc_sensitivity_run_jobs(const lc_model *m, const char *pass_name, const char *params, const double *grid,
                                  int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                                  int64_t limit, const lc_context *ctx, int64_t first, int64_t last, char **json)
{
    if (json) *json = NULL;
    if (!json) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_run_jobs: json is NULL");
    study st;
    lc_status s = study_init(&st, m, pass_name, params, grid, n_grid, val, labels, n_labels, limit, ctx);
    int64_t n = s ? 0 : study_jobs(&st);
    if (!s) s = lc_jobs_check_slice(first, last, n);
    cJSON *res = NULL, *root = s ? NULL : lc_jobs_results_create(st.print, n, &res);
    for (int64_t k = first; root && k < last && !s; k++) {
        double a;
        if ((s = study_job(&st, k, &a))) break;
        cJSON *r = lc_jobs_result(k);
        cJSON_AddStringToObject(r, "weight", st.w[k / n_grid].tensor->name);
        cJSON_AddItemToObject(r, "accuracy", lc_jobs_number(a));
        cJSON_AddItemToArray(res, r);
        lc_progress(st.ctx, "sensitivity jobs", k - first + 1, last - first);
    }
    if (root && !s && !(*json = cJSON_Print(root))) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    cJSON_Delete(root);
    study_free(&st);
    return s;
}

/* One job's result into the accuracies (lc_jobs_take_fn). */
typedef struct merge_state {
    const study *st;
    double *acc;
} merge_state;

static lc_status take_result(void *user, int64_t j, const cJSON *r, const char *what)
{
    merge_state *ms = user;
    const study *st = ms->st;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "weight");
    const char *here = st->w[j / st->n_grid].tensor->name;
    if (!cJSON_IsString(w) || !lc_jobs_value(cJSON_GetObjectItemCaseSensitive(r, "accuracy"), &ms->acc[j]))
        return lc_fail(LC_ERR_FORMAT, "%s: job %lld has no valid weight and accuracy", what, (long long)j);
    if (strcmp(w->valuestring, here))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: job %lld was weight '%s', here it is '%s' (another model or pass?)",
                       what, (long long)j, w->valuestring, here);
    return LC_OK;
}

lc_status lc_sensitivity_merge(const lc_model *m, const char *pass_name, const char *params, const double *grid,
                               int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels,
                               int64_t limit, const lc_context *ctx, const char *const *results,
                               const char *const *names, int n_results, char **json)
{
    if (json) *json = NULL;
    if (!json || (n_results && !results)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_sensitivity_merge: NULL argument");
    study st;
    lc_status s = study_init(&st, m, pass_name, params, grid, n_grid, val, labels, n_labels, limit, ctx);
    int64_t n = s ? 0 : study_jobs(&st);
    double *acc = s ? NULL : malloc((size_t)(n ? n : 1) * sizeof *acc);
    if (!s && !acc) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    merge_state ms = {&st, acc};
    if (!s) s = lc_jobs_merge("sensitivity", st.print, n, results, names, n_results, take_result, &ms);
    if (!s) s = study_json(&st, acc, json);
    free(acc);
    study_free(&st);
    return s;
}
