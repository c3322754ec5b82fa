/* Per-layer sensitivity: each weight layer compressed alone by one pass at
 * each value of its knob, validated on data. The ranking tells which
 * layers to spare first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lc_pass.h"

static lc_status accuracy(const lc_model *m, const lc_dataset *val, const int64_t *truth, int64_t limit,
                          const lc_context *ctx, double *out)
{
    int64_t *pred, n;
    lc_status s = lc_model_predict(m, val, limit, ctx->batch, ctx->threads, ctx, &pred, &n);
    if (s) return s;
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++) hit += pred[i] == truth[i];
    free(pred);
    *out = n ? 100.0 * (double)hit / (double)n : 0;
    return LC_OK;
}

lc_status lc_sensitivity_run(const lc_model *m, const char *pass_name, const char *params, const double *grid,
                             int n_grid, const lc_dataset *val, const int64_t *labels, int64_t n_labels, int64_t limit,
                             const lc_context *ctx, char **json)
{
    *json = NULL;
    const lc_pass *pass = lc_pass_find(pass_name);
    if (!pass) return lc_pass_unknown(pass_name);
    if (!pass->knob) return lc_fail(LC_ERR_PARAMETER, "%s has no knob to vary", pass->name);
    if (n_grid < 1) return lc_fail(LC_ERR_PARAMETER, "the grid is empty");
    if (!val) return lc_fail(LC_ERR_INVALID_ARGUMENT, "sensitivity needs validation data (--val)");
    lc_status fs = lc_model_check_finite(m);
    if (fs) return fs;
    lc_context dflt;
    if (!ctx) {
        memset(&dflt, 0, sizeof dflt);
        dflt.threads = 1;
        dflt.batch = 64;
        ctx = &dflt;
    }
    lc_params base;
    lc_status s = lc_params_init(&base, pass->name, pass->params, pass->n_params);
    if (s) return s;
    if ((s = lc_params_parse(&base, params))) goto out_params;
    char txt[64];
    for (int g = 0; g < n_grid && !s; g++) { /* validate the grid against the knob's range first */
        lc_params probe;
        if ((s = lc_params_copy(&probe, &base))) break;
        snprintf(txt, sizeof txt, "%.17g", grid[g]);
        s = lc_params_set(&probe, pass->knob, txt);
        lc_params_clear(&probe);
    }
    if (s) goto out_params;

    int64_t *truth = NULL, n_truth = 0;
    lc_weight *w = NULL;
    int n_w = 0;
    cJSON *root = NULL;
    if (labels) {
        int64_t count = lc_dataset_count(val);
        if (limit > 0 && limit < count) count = limit;
        if (n_labels < count) {
            s = lc_fail(LC_ERR_SHAPE, "%lld labels for %lld validation samples", (long long)n_labels, (long long)count);
            goto out;
        }
    } else if ((s = lc_model_predict(m, val, limit, ctx->batch, ctx->threads, ctx, &truth, &n_truth))) goto out;
    const int64_t *ref = labels ? labels : truth;
    double base_acc;
    if ((s = accuracy(m, val, ref, limit, ctx, &base_acc))) goto out;
    lc_model *probe_model = NULL;
    if ((s = lc_model_clone(m, &probe_model))) goto out;
    s = lc_weight_targets(probe_model, &base, &w, &n_w);
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "pass", pass->name);
    cJSON_AddStringToObject(root, "knob", pass->knob);
    cJSON_AddStringToObject(root, "metric", labels ? "top1" : "agreement");
    cJSON_AddNumberToObject(root, "float", base_acc);
    int64_t n_val = lc_dataset_count(val);
    cJSON_AddNumberToObject(root, "samples", (double)(limit > 0 && limit < n_val ? limit : n_val));
    cJSON *gj = cJSON_AddArrayToObject(root, "grid");
    for (int g = 0; g < n_grid; g++) cJSON_AddItemToArray(gj, cJSON_CreateNumber(grid[g]));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < n_w && !s; i++) {
        cJSON *lj = cJSON_CreateObject();
        const lc_node *node = w[i].node;
        cJSON_AddStringToObject(lj, "name", node->name && *node->name ? node->name : w[i].tensor->name);
        cJSON_AddStringToObject(lj, "op", node->op_type);
        cJSON_AddStringToObject(lj, "weight", w[i].tensor->name);
        cJSON_AddNumberToObject(lj, "params", (double)lc_tensor_numel(w[i].tensor));
        cJSON *acc = cJSON_AddArrayToObject(lj, "accuracy");
        cJSON_AddItemToArray(layers, lj);
        for (int g = 0; g < n_grid && !s; g++) {
            lc_params pv;
            lc_model *cand = NULL;
            double a = NAN;
            if ((s = lc_params_copy(&pv, &base))) break;
            /* only this layer: select it by its weight tensor's name */
            lc_param_value *inc = (lc_param_value *)lc_params_get(&pv, "include");
            if (inc) {
                for (int k = 0; k < inc->n_list; k++) free(inc->list[k]);
                free(inc->list);
                inc->list = NULL;
                inc->n_list = 0;
                inc->given = false;
            }
            snprintf(txt, sizeof txt, "%.17g", grid[g]);
            if (!(s = lc_params_set(&pv, "include", w[i].tensor->name)) && !(s = lc_params_set(&pv, pass->knob, txt)) &&
                !(s = lc_model_clone(m, &cand)) && !(s = lc_pass_run_params(cand, pass, &pv, ctx)))
                s = accuracy(cand, val, ref, limit, ctx, &a);
            lc_model_free(cand);
            lc_params_clear(&pv);
            if (s) lc_fail_prefix(s, "layer '%s' at %s=%s", w[i].tensor->name, pass->knob, txt);
            cJSON_AddItemToArray(acc, cJSON_CreateNumber(a));
            lc_progress(ctx, "sensitivity", (int64_t)i * n_grid + g + 1, (int64_t)n_w * n_grid);
        }
    }
    lc_model_free(probe_model);
    if (!s) {
        *json = cJSON_Print(root);
        if (!*json) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
out:
    cJSON_Delete(root);
    free(w);
    free(truth);
out_params:
    lc_params_clear(&base);
    return s;
}
