/* The statistics correction after a weight pass (the common parameter
 * `correct`): which one applies, running it, and handing it to a caller
 * that applies it itself (the target-size search corrects once after
 * several runs of a pass, or emulates the correction per layer). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"

static bool has_op(const lc_model *m, const char *op)
{
    for (int i = 0; i < m->graph->n_nodes; i++)
        if (strcmp(m->graph->nodes[i]->op_type, op) == 0) return true;
    return false;
}

static const char *const names[] = {"none", "bn", "bias", "bn"};

const char *lc_correction_name(lc_correction c) { return names[c]; }

lc_correction lc_correction_of(const lc_model *m, const lc_context *ctx, const lc_params *p)
{
    const lc_param_value *v = lc_params_get(p, "correct");
    if (!v || !v->str) return LC_CORRECT_NONE;
    if (strcmp(v->str, "auto") != 0) {
        for (int c = LC_CORRECT_NONE; c <= LC_CORRECT_BIAS; c++)
            if (!strcmp(v->str, names[c])) return (lc_correction)c;
        return LC_CORRECT_NONE; /* the enum parameter admits no other value */
    }
    if (!ctx || !ctx->calib) return LC_CORRECT_NONE;
    return has_op(m, "BatchNormalization") ? LC_CORRECT_BN_CHECKED : LC_CORRECT_BIAS;
}

/* The first output over the calibration samples, appended as doubles. */
typedef struct outputs {
    double *v;
    int64_t n, cap;
} outputs;

static lc_status collect(void *user, int64_t start, int64_t n, const lc_array *out)
{
    (void)start, (void)n;
    outputs *o = user;
    int64_t k = 1;
    for (int d = 0; d < out->ndim; d++) k *= out->dims[d];
    if (out->dtype != LC_DTYPE_FLOAT) return LC_OK;
    if (o->n + k > o->cap) {
        int64_t cap = 2 * (o->n + k);
        double *v = realloc(o->v, (size_t)cap * sizeof *v);
        if (!v) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        o->v = v, o->cap = cap;
    }
    for (int64_t i = 0; i < k; i++) o->v[o->n++] = ((const float *)out->data)[i];
    return LC_OK;
}

static lc_status run_outputs(const lc_model *m, const lc_context *ctx, outputs *o)
{
    return lc_dataset_run(m, ctx->calib, ctx->calib_limit, ctx->batch > 0 ? ctx->batch : 32, ctx->threads, NULL, NULL,
                          collect, o, ctx);
}

struct lc_reference_outputs {
    outputs o;
    bool filled;
    const lc_model *model; /* what o was computed with */
    const struct lc_dataset *calib;
    int64_t limit;
    int batch, threads;
};

lc_reference_outputs *lc_reference_outputs_create(void) { return calloc(1, sizeof(lc_reference_outputs)); }

void lc_reference_outputs_free(lc_reference_outputs *m)
{
    if (m) free(m->o.v);
    free(m);
}

/* ctx->reference's outputs: *use points at the memo's, or at *own (the
 * caller frees own->v) when the context has no memo. */
static lc_status reference_outputs(const lc_context *ctx, outputs *own, const outputs **use)
{
    lc_reference_outputs *m = ctx->reference_outputs;
    *use = own;
    if (m && m->filled && m->model == ctx->reference && m->calib == ctx->calib && m->limit == ctx->calib_limit &&
        m->batch == ctx->batch && m->threads == ctx->threads) {
        *use = &m->o;
        return LC_OK;
    }
    lc_status s = run_outputs(ctx->reference, ctx, own);
    if (s || !m) return s;
    free(m->o.v);
    *m = (lc_reference_outputs){*own, true, ctx->reference, ctx->calib, ctx->calib_limit, ctx->batch, ctx->threads};
    *own = (outputs){0};
    *use = &m->o;
    return LC_OK;
}

/* Squared error of `o` against the reference outputs `r` (INFINITY if the
 * lengths differ). */
static double sq_error(const outputs *r, const outputs *o)
{
    if (r->n != o->n) return INFINITY;
    double e = 0;
    for (int64_t i = 0; i < r->n; i++) e += (r->v[i] - o->v[i]) * (r->v[i] - o->v[i]);
    return e;
}

/* BatchNorm re-estimation replaces the statistics the model was trained
 * with by those of the calibration data, which is right for real data and
 * wrong for data of another kind (synthetic images, too few samples of one
 * class): PP-OCR pruned 10% loses 30 dB that way. With a reference model
 * (ctx->reference) the re-estimate is kept only if it brings the first
 * output closer to the reference's on the calibration data; otherwise the
 * bias correction against the model before the pass (`before`, or what
 * lc_bias_ref_collect gathered of it) runs instead, which needs no
 * statistics of the data's kind beyond channel means (PP-OCR pruned 10%:
 * det 30.2 dB, cls 11.7 dB instead of 28.5 and 7.3 with no correction). */
static lc_status correct_bn_checked(lc_model *m, const lc_model *before, const lc_bias_ref *before_ref,
                                    const lc_context *ctx)
{
    if (!ctx->reference) return lc_correct_bn(m, ctx);
    lc_model *plain = NULL;
    outputs ref = {0}, without = {0}, with = {0};
    const outputs *ref_use = &ref;
    bool reverted = false;
    lc_status s = lc_model_clone(m, &plain);
    if (!s) s = lc_correct_bn(m, ctx);
    if (!s) s = reference_outputs(ctx, &ref, &ref_use);
    if (!s) s = run_outputs(plain, ctx, &without);
    if (!s) s = run_outputs(m, ctx, &with);
    if (!s) {
        double e_with = sq_error(ref_use, &with), e_without = sq_error(ref_use, &without);
        if (e_with > e_without) {
            lc_log(ctx, "recalibrate-bn: reverted: the re-estimated statistics move the output away from the reference "
                        "model on the calibration data (squared error %.4g, %.4g without); is the data of the model's "
                        "own kind? bias correction instead",
                   e_with, e_without);
            lc_model swap = *m;
            *m = *plain;
            *plain = swap;
            reverted = true;
        }
    }
    lc_model_free(plain);
    free(ref.v);
    free(without.v);
    free(with.v);
    if (!s && reverted && before_ref) s = lc_correct_bias_ref(m, before_ref, ctx);
    else if (!s && reverted && before) s = lc_correct_bias(m, before, ctx);
    return s;
}

lc_status lc_correction_apply_ref(lc_model *m, lc_correction c, const lc_model *before, const lc_bias_ref *before_ref,
                                  const lc_context *ctx)
{
    if (c == LC_CORRECT_BN) return lc_correct_bn(m, ctx);
    if (c == LC_CORRECT_BN_CHECKED) return correct_bn_checked(m, before, before_ref, ctx);
    if (c == LC_CORRECT_BIAS) return before_ref ? lc_correct_bias_ref(m, before_ref, ctx) : lc_correct_bias(m, before, ctx);
    return LC_OK;
}

lc_status lc_correction_apply(lc_model *m, lc_correction c, const lc_model *before, const lc_context *ctx)
{
    return lc_correction_apply_ref(m, c, before, NULL, ctx);
}

bool lc_correction_needs_before(lc_correction c, const lc_context *ctx)
{
    return c == LC_CORRECT_BIAS || (c == LC_CORRECT_BN_CHECKED && ctx && ctx->reference);
}

lc_status lc_pass_defer_correction(const lc_pass *pass, lc_params *p, lc_correction c)
{
    lc_status s = lc_params_override(p, "correct", "none");
    if (!s && pass->defer_correction) s = pass->defer_correction(p, c);
    return s;
}
