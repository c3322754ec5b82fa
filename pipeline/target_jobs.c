/* The target-size and auto searches as jobs (lc_pipeline_set_jobs): the
 * grid's leaves are the jobs, in the order the grid runs visit them; a
 * job measures every layer's option at its leaf (bytes, proxy and real
 * damage) and the merge stores the measurements in that order, as the
 * grid runs would have (lc_target_store), the real damage of options
 * outside the calibration leaf held back until the search asks for it
 * (lc_target_measure_option). See lc_target.h and lc_jobs.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_jobs.h"
#include "lc_target.h"

typedef lc_target target;

void lc_target_jobs_free(struct lc_target_jobs *j)
{
    if (!j) return;
    for (int i = 0; i < j->n_results; i++) {
        free(j->results[i]);
        free(j->names[i]);
    }
    free(j->results);
    free(j->names);
    for (int64_t i = 0; i < j->n_out; i++) free(j->out[i]);
    free(j->out);
    free(j);
}

lc_status lc_pipeline_set_jobs(lc_pipeline *p, lc_jobs_mode mode, int64_t first, int64_t last,
                               const char *const *results, const char *const *names, int n_results)
{
    if (!p || mode < LC_JOBS_NONE || mode > LC_JOBS_MERGE)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_jobs: NULL pipeline or unknown mode %d", (int)mode);
    if (mode == LC_JOBS_RUN && (first < 0 || last <= first))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_jobs: empty slice %lld..%lld", (long long)first,
                       (long long)last - 1);
    if (mode == LC_JOBS_MERGE && (n_results < 0 || (n_results && !results)))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pipeline_set_jobs: no results to merge");
    lc_target_jobs_free(p->jobs);
    p->jobs = NULL;
    if (mode == LC_JOBS_NONE) return LC_OK;
    struct lc_target_jobs *j = calloc(1, sizeof *j);
    if (!j) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    j->mode = mode;
    j->first = first;
    j->last = last;
    if (mode == LC_JOBS_MERGE) {
        j->results = calloc((size_t)n_results + 1, sizeof *j->results);
        j->names = calloc((size_t)n_results + 1, sizeof *j->names);
        for (int i = 0; j->results && j->names && i < n_results; i++, j->n_results++) {
            j->results[i] = strdup(results[i] ? results[i] : "");
            j->names[i] = strdup(names && names[i] ? names[i] : "job results");
            if (!j->results[i] || !j->names[i]) break;
        }
        if (j->n_results != n_results) {
            lc_target_jobs_free(j);
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
    }
    p->jobs = j;
    return LC_OK;
}

void lc_target_jobs_clear(lc_pipeline *p)
{
    for (int64_t i = 0; p->jobs && i < p->jobs->n_out; i++) free(p->jobs->out[i]);
    if (p->jobs) p->jobs->n_out = 0;
}

const char *lc_pipeline_jobs_output(const lc_pipeline *p, int64_t i)
{
    return p && p->jobs && i >= 0 && i < p->jobs->n_out ? p->jobs->out[i] : NULL;
}

/* Settings of step i the grid visits (1 when not searched). */
static int step_settings(const target *t, int i) { return t->steps[i].grid ? t->steps[i].n_vals : 1; }

int64_t lc_target_jobs(const target *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->n_steps; i++) n *= step_settings(t, i);
    return n;
}

int64_t lc_target_jobs_below(const target *t, int i)
{
    int64_t n = 1;
    for (int j = i + 1; j < t->n_steps; j++) n *= step_settings(t, j);
    return n;
}

void lc_target_job_leaf(const target *t, int64_t k, int *kidx)
{
    for (int i = t->n_steps - 1; i >= 0; i--) {
        kidx[i] = (int)(k % step_settings(t, i));
        k /= step_settings(t, i);
    }
}

bool lc_target_leaf_is_calib(const target *t, const int *kidx)
{
    bool cal = true;
    for (int i = 0; i < t->n_steps; i++) cal = cal && (!t->steps[i].grid || kidx[i] == t->steps[i].calib);
    return cal;
}

bool lc_target_leaf_is_floor(const target *t, const int *kidx)
{
    bool floor_leaf = true;
    for (int i = 0; i < t->n_steps; i++)
        floor_leaf = floor_leaf && (!t->steps[i].grid || kidx[i] == t->steps[i].n_vals - 1);
    return floor_leaf;
}

int lc_target_grid_runs(const target *t)
{
    int runs = 0, prefixes = 1; /* the grid runs step i once per leaf prefix before it */
    for (int i = 0; i < t->n_steps; i++) {
        int run = 0;
        for (int k = 0; k < step_settings(t, i); k++) run += !(t->steps[i].grid && lc_target_leaves_alone(t, i, k));
        runs += prefixes * run;
        prefixes *= step_settings(t, i);
    }
    return runs;
}

lc_status lc_target_fingerprint(target *t)
{
    const lc_run_state *r = t->r;
    const lc_pipeline *p = r->p;
    lc_fingerprint f;
    lc_fingerprint_init(&f);
    lc_fingerprint_str(&f, "target");
    lc_status s = lc_fingerprint_model(&f, t->in);
    for (int i = 0; i < p->n_steps && !s; i++) {
        char *params = lc_params_to_string(&p->steps[i].params);
        if (!params) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        lc_fingerprint_str(&f, p->steps[i].pass->name);
        lc_fingerprint_str(&f, params);
        free(params);
    }
    if (s) return s;
    /* the bytes: the format (the .lcm META section, which holds the target
       size and budget, is added by the merge: lc_target.fixed_bytes) */
    lc_fingerprint_i64(&f, p->format);
    lc_fingerprint_i64(&f, p->size_fn != NULL);
    lc_fingerprint_f64(&f, r->float_metric);
    lc_fingerprint_i64(&f, p->metric);
    lc_fingerprint_dataset(&f, p->val, p->val_limit);
    if (p->labels) lc_fingerprint_bytes(&f, p->labels, (size_t)p->n_labels * sizeof *p->labels);
    lc_fingerprint_context(&f, r->ctx);
    lc_fingerprint_i64(&f, t->n_ref);
    if (t->ref) lc_fingerprint_bytes(&f, t->ref, (size_t)(t->n_ref * t->classes) * sizeof *t->ref);
    lc_fingerprint_hex(&f, t->print);
    return LC_OK;
}

/* Takes a text into the pipeline's outputs. */
static lc_status add_output(lc_pipeline *p, char *text)
{
    struct lc_target_jobs *j = p->jobs;
    char **out = text ? realloc(j->out, sizeof *out * (size_t)(j->n_out + 1)) : NULL;
    if (!out) {
        free(text);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    j->out = out;
    j->out[j->n_out++] = text;
    return LC_OK;
}

lc_status lc_target_plan(target *t)
{
    lc_pipeline *p = t->r->p;
    int64_t n = lc_target_jobs(t);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    lc_status s = f ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    int kidx[LC_TARGET_MAX_STEPS];
    for (int64_t k = 0; k < n && !s; k++) {
        cJSON *line = lc_jobs_plan_line(t->print, k, n), *set = cJSON_AddObjectToObject(line, "setting");
        lc_target_job_leaf(t, k, kidx);
        for (int i = 0; i < t->n_steps; i++) {
            const lc_pass *pass = p->steps[i].pass;
            char key[96];
            if (!t->steps[i].grid) continue;
            snprintf(key, sizeof key, "%s.%s", pass->name, pass->knob);
            cJSON_AddNumberToObject(set, key, t->steps[i].vals[kidx[i]]);
            if (!t->steps[i].joint) continue;
            snprintf(key, sizeof key, "%s.%s", pass->name, pass->knob2);
            cJSON_AddNumberToObject(set, key, t->steps[i].vals2[kidx[i]]);
        }
        s = lc_jobs_append_line(f, line);
    }
    if (f && fclose(f) != 0 && !s) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (s) {
        free(text);
        return s;
    }
    return add_output(p, text);
}

cJSON *lc_target_job_layer(const target *t, int l, const lc_target_meas *me)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "weight", t->layers[l].weight);
    cJSON_AddNumberToObject(j, "bytes_added", (double)me->delta);
    cJSON_AddItemToObject(j, "proxy", lc_jobs_number(me->proxy));
    cJSON_AddItemToObject(j, "kl", lc_jobs_number(me->kl));
    cJSON_AddNumberToObject(j, "kept_bytes", (double)me->need);
    return j;
}

lc_status lc_target_job_add(target *t, int64_t k, cJSON *leaf)
{
    cJSON *res, *root = lc_jobs_results_create(t->print, lc_target_jobs(t), &res), *r = lc_jobs_result(k), *item;
    /* the leaf's fields after the job number */
    while ((item = leaf->child)) cJSON_AddItemToObject(r, item->string, cJSON_DetachItemViaPointer(leaf, item));
    cJSON_AddItemToArray(res, r);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return add_output(t->r->p, text);
}

/* An integer field of a job's results, exactly. */
static bool int_field(const cJSON *o, const char *key, int64_t *v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(j) || j->valuedouble != (double)(int64_t)j->valuedouble) return false;
    *v = (int64_t)j->valuedouble;
    return true;
}

/* One job's results stored as the grid runs would (lc_jobs_take_fn). */
static lc_status take_leaf(void *user, int64_t k, const cJSON *res, const char *what)
{
    target *t = user;
    int kidx[LC_TARGET_MAX_STEPS];
    lc_target_job_leaf(t, k, kidx);
    bool cal = lc_target_leaf_is_calib(t, kidx);
    int64_t floor_bytes;
    if (lc_target_leaf_is_floor(t, kidx)) {
        if (!int_field(res, "floor_bytes", &floor_bytes))
            return lc_fail(LC_ERR_FORMAT, "%s: job %lld has no floor_bytes", what, (long long)k);
        if (!t->floor_file) t->floor_file = floor_bytes + t->fixed_bytes;
    }
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(res, "layers"), *lj;
    if (cJSON_GetArraySize(layers) != t->n_layers)
        return lc_fail(LC_ERR_FORMAT, "%s: job %lld has %d layers, the search %d", what, (long long)k,
                       cJSON_GetArraySize(layers), t->n_layers);
    int l = 0;
    cJSON_ArrayForEach(lj, layers)
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(lj, "weight");
        lc_target_meas me;
        if (!cJSON_IsString(w) || strcmp(w->valuestring, t->layers[l].weight))
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: job %lld's layer %d is not weight '%s' (another model?)", what,
                           (long long)k, l, t->layers[l].weight);
        if (!int_field(lj, "bytes_added", &me.delta) || !int_field(lj, "kept_bytes", &me.need) ||
            !lc_jobs_value(cJSON_GetObjectItemCaseSensitive(lj, "proxy"), &me.proxy) ||
            !lc_jobs_value(cJSON_GetObjectItemCaseSensitive(lj, "kl"), &me.kl))
            return lc_fail(LC_ERR_FORMAT, "%s: job %lld, weight '%s': not a measurement", what, (long long)k,
                           t->layers[l].weight);
        t->n_evals += cal; /* the grid measures the calibration leaf's damage: counted as then */
        lc_status s = lc_target_store(t, kidx, l, cal, &me, NULL, NULL);
        if (s) return s;
        l++;
    }
    return LC_OK;
}

lc_status lc_target_merge(target *t)
{
    const struct lc_target_jobs *j = t->r->p->jobs;
    lc_status s = lc_jobs_merge("target search", t->print, lc_target_jobs(t), (const char *const *)j->results,
                                (const char *const *)j->names, j->n_results, take_leaf, t);
    if (!s) t->n_runs = lc_target_grid_runs(t);
    return s;
}
