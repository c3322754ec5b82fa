/* quantize-int8's fallback ranking: one model per candidate layer with only
 * that layer quantized, run on the calibration data, its first output
 * compared with the float model's (see int8_fallback.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "int8_fallback.h"

typedef struct collect {
    float *ref;        /* the float model's first outputs, sample after sample */
    int64_t n_ref, cap;
    double num, den;   /* comparing: sum (y - ref)^2, sum ref^2 */
    bool compare;
} collect;

static lc_status on_batch(void *user, int64_t start, int64_t n, const lc_array *out)
{
    (void)start;
    (void)n;
    collect *c = user;
    if (out->dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_UNSUPPORTED, "quantize-int8 fallback: the first output must be float32");
    int64_t k = 1;
    for (int d = 0; d < out->ndim; d++) k *= out->dims[d];
    const float *y = out->data;
    if (c->compare) {
        if (c->n_ref + k > c->cap)
            return lc_fail(LC_ERR_SHAPE, "quantize-int8 fallback: the first output changed size after quantization");
        for (int64_t i = 0; i < k; i++) {
            double r = c->ref[c->n_ref + i], d = (double)y[i] - r;
            c->num += d * d;
            c->den += r * r;
        }
        c->n_ref += k;
        return LC_OK;
    }
    if (c->n_ref + k > c->cap) {
        int64_t cap = 2 * (c->n_ref + k);
        float *r = realloc(c->ref, (size_t)cap * sizeof *r);
        if (!r) return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8 fallback: out of memory");
        c->ref = r, c->cap = cap;
    }
    memcpy(c->ref + c->n_ref, y, (size_t)k * sizeof *y);
    c->n_ref += k;
    return LC_OK;
}

static lc_status run_first(const lc_model *m, const lc_context *ctx, collect *c)
{
    return lc_dataset_run(m, ctx->calib, ctx->calib_limit, ctx->batch, ctx->threads, NULL, NULL, on_batch, c, ctx);
}

lc_status lc_int8_fallback_rank(const lc_model *m, const lc_context *ctx, int n, const bool *candidate,
                                lc_int8_build_fn build, void *user, int *order, int *n_ranked, double *err)
{
    *n_ranked = 0;
    if (!ctx || !ctx->calib)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "quantize-int8: fallback > 0 ranks the layers on calibration data "
                                                "(lc_context_set_calib)");
    collect c = {0};
    bool *keep = malloc(((size_t)n + 1) * sizeof *keep);
    lc_status s = keep ? run_first(m, ctx, &c) : lc_fail(LC_ERR_NO_MEMORY, "quantize-int8 fallback: out of memory");
    c.cap = c.n_ref;
    c.compare = true;
    for (int u = 0; u < n && !s; u++) {
        if (!candidate[u]) continue;
        for (int v = 0; v < n; v++) keep[v] = v != u;
        lc_model *q = NULL;
        /* the quantizer writes new tensors only: the weights can be shared */
        s = lc_model_clone_shared(m, &q);
        if (!s) s = build(user, q, keep);
        c.n_ref = 0, c.num = 0, c.den = 0;
        if (!s) s = run_first(q, ctx, &c);
        lc_model_free(q);
        if (s) break;
        err[u] = c.den > 0 ? c.num / c.den : c.num;
        if (!(err[u] == err[u])) err[u] = INFINITY;
        /* insertion, most damaging first; equal errors keep unit order */
        int at = (*n_ranked)++;
        while (at > 0 && err[order[at - 1]] < err[u]) order[at] = order[at - 1], at--;
        order[at] = u;
        lc_progress(ctx, "quantize-int8 fallback ranking", u + 1, n);
    }
    free(keep);
    free(c.ref);
    return s;
}

lc_status lc_int8_fallback_choose(const lc_model *m, const lc_context *ctx, const lc_weight *tw, int n_tw, int fallback,
                                  lc_int8_build_fn build, void *user, bool *keep_float)
{
    bool *cand = calloc((size_t)n_tw + 1, sizeof *cand);
    int *order = malloc(((size_t)n_tw + 1) * sizeof *order), n_cand = 0, n_ranked = 0;
    double *err = calloc((size_t)n_tw + 1, sizeof *err);
    lc_status s = LC_OK;
    if (!cand || !order || !err) s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    for (int k = 0; k < n_tw && !s; k++)
        if ((cand[k] = lc_weight_is_layer(&tw[k]) && !keep_float[k])) order[n_cand++] = k; /* not kept float already */
    if (!s && fallback < n_cand) s = lc_int8_fallback_rank(m, ctx, n_tw, cand, build, user, order, &n_ranked, err);
    else n_ranked = n_cand;
    for (int j = 0; !s && j < n_ranked && j < fallback; j++) {
        const lc_weight *w = &tw[order[j]];
        keep_float[order[j]] = true;
        const char *name = w->node->name && *w->node->name ? w->node->name : w->value;
        if (n_ranked < n_cand || fallback < n_cand)
            lc_log(ctx, "quantize-int8: layer '%s' stays float (fallback %d of %d; quantized alone: relative error %.3g)",
                   name, j + 1, fallback, err[order[j]]);
        else
            lc_log(ctx, "quantize-int8: layer '%s' stays float (fallback %d covers every layer)", name, fallback);
    }
    free(cand);
    free(order);
    free(err);
    return s;
}
