/* Metrics that compare a model's first output with the float model's
 * (libcompress/metrics.h): SNR, cosine per sample, mean squared error. Each is a
 * score where higher is better, so the pipeline's budget logic (a drop
 * from the float model's score) serves them all: the SNR of the float
 * model against itself, infinite, is capped at LC_METRIC_SNR_CAP dB. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_metric_measure.h"

typedef struct collect {
    float *out;
    int64_t n, k;
} collect;

static lc_status on_batch(void *user, int64_t start, int64_t n, const lc_array *out)
{
    collect *c = user;
    if (out->dtype != LC_DTYPE_FLOAT || out->ndim < 1 || out->dims[0] != n)
        return lc_fail(LC_ERR_SHAPE, "the first output must be float32 with the batch as dim 0");
    int64_t k = 1;
    for (int d = 1; d < out->ndim; d++) k *= out->dims[d];
    if (!c->out) {
        c->k = k;
        if (!(c->out = malloc((size_t)(c->n * k > 0 ? c->n * k : 1) * sizeof *c->out)))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory for the outputs of %lld samples", (long long)c->n);
    } else if (k != c->k) {
        return lc_fail(LC_ERR_SHAPE, "the first output changes size from batch to batch");
    }
    memcpy(c->out + start * k, out->data, (size_t)(n * k) * sizeof *c->out);
    return LC_OK;
}

lc_status lc_metric_outputs(const lc_model *m, const lc_dataset *val, int64_t limit, const lc_context *ctx,
                            float **out, int64_t *n, int64_t *k)
{
    *out = NULL;
    *n = *k = 0;
    collect c = {NULL, lc_dataset_count(val), 0};
    if (limit > 0 && limit < c.n) c.n = limit;
    lc_status s = lc_dataset_run(m, val, c.n, ctx ? ctx->batch : 64, ctx ? ctx->threads : 1, NULL, NULL, on_batch,
                                 &c, ctx);
    if (s) {
        free(c.out);
        return s;
    }
    *out = c.out;
    *n = c.n;
    *k = c.k;
    return LC_OK;
}

double lc_metric_compare(int kind, const float *y, const float *ref, int64_t n, int64_t k)
{
    double sig = 0, noise = 0, cos_sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double yy = 0, rr = 0, yr = 0;
        for (int64_t j = 0; j < k; j++) {
            double a = y[i * k + j], b = ref[i * k + j];
            sig += b * b;
            noise += (a - b) * (a - b);
            yy += a * a, rr += b * b, yr += a * b;
        }
        /* two zero vectors agree; one zero vector is orthogonal to all */
        cos_sum += yy == 0 && rr == 0 ? 1.0 : yy == 0 || rr == 0 ? 0.0 : yr / sqrt(yy * rr);
    }
    switch (kind) {
    case LC_METRIC_SNR: {
        double db = noise > 0 ? 10 * log10(sig / noise) : LC_METRIC_SNR_CAP;
        return db < LC_METRIC_SNR_CAP ? db : LC_METRIC_SNR_CAP;
    }
    case LC_METRIC_COSINE: return n ? cos_sum / (double)n : 1.0;
    case LC_METRIC_MSE: return n * k > 0 ? -noise / (double)(n * k) : 0.0;
    default: return NAN;
    }
}

double lc_metric_display(int kind, double score)
{
    if (kind == LC_METRIC_MSE) return -score;
    if (kind == LC_METRIC_SNR && score >= LC_METRIC_SNR_CAP) return INFINITY;
    return score;
}
