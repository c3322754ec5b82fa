/* A study's independent evaluations as jobs: the fingerprint of a study,
 * the plan and results texts, and the merge that checks every job came
 * exactly once from the same study. Shared by the sensitivity study and
 * the target/auto search. See lc_jobs.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_jobs.h"

void lc_fingerprint_init(lc_fingerprint *f) { f->h = 0xcbf29ce484222325ull; }

void lc_fingerprint_bytes(lc_fingerprint *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = f->h;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    f->h = h;
}

void lc_fingerprint_str(lc_fingerprint *f, const char *s)
{
    if (!s) s = "";
    lc_fingerprint_bytes(f, s, strlen(s) + 1);
}

void lc_fingerprint_i64(lc_fingerprint *f, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    lc_fingerprint_bytes(f, b, sizeof b);
}

void lc_fingerprint_f64(lc_fingerprint *f, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    lc_fingerprint_i64(f, (int64_t)u);
}

lc_status lc_fingerprint_model(lc_fingerprint *f, const lc_model *m)
{
    const lc_graph *g = m->graph;
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        lc_fingerprint_str(f, n->op_type);
        lc_fingerprint_str(f, n->name);
        for (int k = 0; k < n->n_inputs; k++) lc_fingerprint_str(f, n->inputs[k]);
        lc_fingerprint_i64(f, n->n_outputs);
        for (int k = 0; k < n->n_outputs; k++) lc_fingerprint_str(f, n->outputs[k]);
    }
    lc_stored *st = NULL;
    int n_st = 0;
    lc_status s = lc_model_stored_tensors(m, &st, &n_st);
    if (s) return s;
    for (int k = 0; k < n_st; k++) {
        const lc_tensor *t = st[k].tensor;
        lc_fingerprint_str(f, st[k].value);
        lc_fingerprint_i64(f, t->dtype);
        for (int d = 0; d < t->ndim; d++) lc_fingerprint_i64(f, t->dims[d]);
        if (t->data) lc_fingerprint_bytes(f, t->data, t->nbytes);
    }
    free(st);
    return LC_OK;
}

void lc_fingerprint_dataset(lc_fingerprint *f, const lc_dataset *d, int64_t limit)
{
    if (!d) {
        lc_fingerprint_i64(f, -1);
        return;
    }
    int64_t n = lc_dataset_count(d);
    if (limit > 0 && limit < n) n = limit;
    int64_t k = lc_dataset_sample_numel(d);
    lc_fingerprint_i64(f, n);
    lc_fingerprint_i64(f, k);
    const float *x = n > 0 ? lc_dataset_sample(d, 0) : NULL; /* samples are contiguous */
    if (x) lc_fingerprint_bytes(f, x, (size_t)(n * k) * sizeof *x);
}

void lc_fingerprint_context(lc_fingerprint *f, const lc_context *ctx)
{
    lc_fingerprint_dataset(f, ctx->calib, ctx->calib_limit);
    lc_fingerprint_i64(f, ctx->calib_limit);
    lc_fingerprint_i64(f, (int64_t)ctx->seed);
    lc_fingerprint_i64(f, ctx->batch);
    lc_fingerprint_i64(f, ctx->metric);
}

void lc_fingerprint_hex(const lc_fingerprint *f, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)f->h); }

cJSON *lc_jobs_number(double v)
{
    /* cJSON prints 15 digits when they read back within an epsilon, not
       exactly: 17 digits, as raw text, always read back to v */
    char txt[40];
    snprintf(txt, sizeof txt, "%.17g", v);
    if (isfinite(v)) return cJSON_CreateRaw(txt);
    return cJSON_CreateString(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

bool lc_jobs_value(const cJSON *j, double *v)
{
    if (cJSON_IsNumber(j)) {
        *v = j->valuedouble;
        return true;
    }
    if (!cJSON_IsString(j)) return false;
    if (!strcmp(j->valuestring, "nan")) *v = NAN;
    else if (!strcmp(j->valuestring, "inf")) *v = INFINITY;
    else if (!strcmp(j->valuestring, "-inf")) *v = -INFINITY;
    else return false;
    return true;
}

cJSON *lc_jobs_plan_line(const char *study, int64_t k, int64_t n)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "job", (double)k);
    cJSON_AddNumberToObject(j, "jobs", (double)n);
    cJSON_AddStringToObject(j, "study", study);
    return j;
}

lc_status lc_jobs_append_line(FILE *f, cJSON *line)
{
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    lc_status s = !text || fprintf(f, "%s\n", text) < 0 ? lc_fail(LC_ERR_NO_MEMORY, "out of memory") : LC_OK;
    free(text);
    return s;
}

cJSON *lc_jobs_results_create(const char *study, int64_t n, cJSON **results)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "jobs", (double)n);
    cJSON_AddStringToObject(root, "study", study);
    *results = cJSON_AddArrayToObject(root, "results");
    return root;
}

cJSON *lc_jobs_result(int64_t k)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "job", (double)k);
    return r;
}

lc_status lc_jobs_check_slice(int64_t first, int64_t last, int64_t n)
{
    if (first < 0 || last <= first || last > n)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "jobs %lld..%lld: the study has jobs 0..%lld", (long long)first,
                       (long long)last - 1, (long long)n - 1);
    return LC_OK;
}

lc_status lc_jobs_merge(const char *kind, const char *study, int64_t n, const char *const *results,
                        const char *const *names, int n_results, lc_jobs_take_fn take, void *user)
{
    if (n_results && !results) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_jobs_merge: results is NULL");
    cJSON **roots = calloc((size_t)n_results + 1, sizeof *roots);
    const cJSON **by_job = calloc((size_t)(n > 0 ? n : 1), sizeof *by_job);
    const char **from = calloc((size_t)(n > 0 ? n : 1), sizeof *from);
    lc_status s = roots && by_job && from ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int f = 0; f < n_results && !s; f++) {
        const char *what = names && names[f] ? names[f] : "job results";
        cJSON *root = roots[f] = cJSON_Parse(results[f]);
        const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(root, "jobs"),
                    *sj = cJSON_GetObjectItemCaseSensitive(root, "study"),
                    *res = cJSON_GetObjectItemCaseSensitive(root, "results"), *r;
        if (!cJSON_IsNumber(jobs) || !cJSON_IsString(sj) || !cJSON_IsArray(res)) {
            s = lc_fail(LC_ERR_FORMAT, "%s: not the results of %s jobs", what, kind);
            break;
        }
        if ((int64_t)jobs->valuedouble != n || strcmp(sj->valuestring, study)) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT,
                        "%s: results of another %s (study %s of %lld jobs; this one is %s of %lld jobs): another "
                        "model, recipe, data or options, or a machine that computes differently (LC_ISA)",
                        what, kind, sj->valuestring, (long long)jobs->valuedouble, study, (long long)n);
            break;
        }
        cJSON_ArrayForEach(r, res)
        {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "job");
            int64_t j = cJSON_IsNumber(k) ? (int64_t)k->valuedouble : -1;
            if (j < 0 || j >= n || (double)j != k->valuedouble) {
                s = lc_fail(LC_ERR_FORMAT, "%s: a result without a valid job number", what);
                break;
            }
            if (by_job[j]) {
                s = lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: job %lld given twice (also in %s)", what, (long long)j, from[j]);
                break;
            }
            by_job[j] = r;
            from[j] = what;
        }
    }
    for (int64_t k = 0; k < n && !s; k++)
        if (!by_job[k]) s = lc_fail(LC_ERR_NOT_FOUND, "job %lld of %lld has no result", (long long)k, (long long)n);
    for (int64_t k = 0; k < n && !s; k++) s = take(user, k, by_job[k], from[k]);
    for (int f = 0; roots && f < n_results; f++) cJSON_Delete(roots[f]);
    free(roots);
    free(by_job);
    free(from);
    return s;
}
