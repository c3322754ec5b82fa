/* The pass context: calibration data, seed, threads, callbacks; and the
 * seeded RNG every random choice in the library goes through. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_metric.h"
#include "lc_pass.h"
#include "lc_plan_inputs.h"

lc_status lc_context_create(lc_context **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    (*out)->threads = 1;
    (*out)->batch = 64;
    (*out)->seed = 0;
    return LC_OK;
}

void lc_context_free(lc_context *ctx)
{
    if (!ctx) return;
    lc_context_clear_inputs(ctx);
    free(ctx);
}

void lc_context_set_calib(lc_context *ctx, const struct lc_dataset *calib, int64_t limit)
{
    ctx->calib = calib;
    ctx->calib_limit = limit > 0 ? limit : 0;
}

void lc_context_set_reference(lc_context *ctx, const lc_model *reference) { ctx->reference = reference; }

void lc_context_set_seed(lc_context *ctx, uint64_t seed) { ctx->seed = seed; }
void lc_context_set_threads(lc_context *ctx, int threads) { ctx->threads = threads > 0 ? threads : 1; }
void lc_context_set_batch(lc_context *ctx, int batch) { ctx->batch = batch > 0 ? batch : 64; }

void lc_context_set_log(lc_context *ctx, lc_log_fn fn, void *user)
{
    ctx->log = fn;
    ctx->log_user = user;
}

void lc_context_set_progress(lc_context *ctx, lc_progress_fn fn, void *user)
{
    ctx->progress = fn;
    ctx->progress_user = user;
}

void lc_log(const lc_context *ctx, const char *fmt, ...)
{
    if (!ctx || !ctx->log) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, buf);
}

void lc_progress(const lc_context *ctx, const char *what, int64_t done, int64_t total)
{
    if (ctx && ctx->progress) ctx->progress(ctx->progress_user, what, done, total);
}

static const char *const metric_names[] = {"default", "top1", "agreement", "snr", "cosine", "mse"};

const char *lc_metric_name(int kind)
{
    return kind >= 0 && kind <= LC_METRIC_MSE ? metric_names[kind] : "?";
}

int lc_metric_kind(const lc_context *ctx, bool has_labels)
{
    int k = ctx ? ctx->metric : LC_METRIC_DEFAULT;
    return k != LC_METRIC_DEFAULT ? k : has_labels ? LC_METRIC_TOP1 : LC_METRIC_AGREEMENT;
}

lc_status lc_context_set_metric(lc_context *ctx, const char *metric)
{
    if (!ctx) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_context_set_metric: NULL context");
    if (!metric || !*metric) {
        ctx->metric = LC_METRIC_DEFAULT;
        return LC_OK;
    }
    for (int k = LC_METRIC_TOP1; k <= LC_METRIC_MSE; k++)
        if (!strcmp(metric, metric_names[k])) {
            ctx->metric = k;
            return LC_OK;
        }
    return lc_fail(LC_ERR_PARAMETER, "unknown metric '%s' (valid: top1, agreement, snr, cosine, mse)", metric);
}
