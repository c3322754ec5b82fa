/* The target-size search's damage estimate: the proxy (how much a layer's
 * outputs change on the calibration inputs, from the float model's layer
 * input statistics), real measurements of the KL divergence of the model's
 * outputs with one layer compressed alone, and the per-layer fit from the
 * one to the other. See lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "lc_target.h"

typedef lc_target target;
typedef lc_run_state run_state;

typedef struct out_state {
    target *t;
    bool record;           /* store the log-softmax as the reference */
    double kl;
    int64_t n;
} out_state;

static lc_status on_outputs(void *user, int64_t start, int64_t n, const lc_array *out)
{
    out_state *o = user;
    target *t = o->t;
    if (out->dtype != LC_DTYPE_FLOAT || out->ndim < 1 || out->dims[0] != n)
        return lc_fail(LC_ERR_SHAPE, "the first output must be float32 with the batch as dim 0");
    int64_t k = 1;
    for (int d = 1; d < out->ndim; d++) k *= out->dims[d];
    if (o->record && !t->ref) {
        t->classes = k;
        t->ref = malloc(sizeof *t->ref * (size_t)(t->n_ref * k + 1));
        if (!t->ref) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    if (k != t->classes || start + n > t->n_ref) return lc_fail(LC_ERR_SHAPE, "target size: the output shape changed");
    const float *y = out->data;
    for (int64_t i = 0; i < n; i++) {
        const float *yi = y + i * k;
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (yi[j] > yi[best]) best = j;
        double lse = 0;
        for (int64_t j = 0; j < k; j++) lse += exp((double)yi[j] - yi[best]);
        lse = log(lse) + yi[best];
        float *ref = t->ref + (start + i) * k;
        for (int64_t j = 0; j < k; j++) {
            double lp = yi[j] - lse;
            if (o->record) ref[j] = (float)lp;
            else if (isfinite(lp)) o->kl += exp((double)ref[j]) * ((double)ref[j] - lp);
            else o->kl += lc_target_tune.kl_underflow; /* a probability underflowed to zero */
        }
    }
    o->n += n;
    return LC_OK;
}

lc_status lc_target_outputs_eval(target *t, const lc_model *m, bool record, double *kl)
{
    run_state *r = t->r;
    out_state o = {t, record, 0, 0};
    lc_status s = lc_dataset_run(m, r->p->val, t->n_ref, r->ctx->batch, r->ctx->threads, NULL, NULL, on_outputs, &o,
                                 r->ctx);
    if (s) return s;
    *kl = o.n ? o.kl / (double)o.n : 0;
    t->n_evals += !record;
    return LC_OK;
}

void lc_target_layer_tensors(const lc_model *m, const lc_stored *st, int n_st, const char *weight, lc_tensor **w,
                          lc_tensor **b)
{
    *w = *b = NULL;
    for (int k = 0; k < n_st && !*w; k++)
        if (st[k].graph == m->graph && !strcmp(st[k].value, weight)) *w = st[k].tensor;
    for (int i = 0; *w && i < m->graph->n_nodes && !*b; i++) {
        const lc_node *n = m->graph->nodes[i];
        if (n->n_inputs < 3 || strcmp(n->inputs[1], weight) || !*n->inputs[2]) continue;
        if (strcmp(n->op_type, "Conv") && strcmp(n->op_type, "Gemm") && strcmp(n->op_type, "ConvTranspose")) continue;
        for (int k = 0; k < n_st && !*b; k++)
            if (st[k].graph == m->graph && !strcmp(st[k].value, n->inputs[2])) *b = st[k].tensor;
    }
}

void lc_target_swap_tensors(lc_tensor *a, lc_tensor *b)
{
    lc_tensor tmp = *a;
    *a = *b;
    *b = tmp;
}

void lc_target_stats_free(lc_target_stats *ls, int n)
{
    for (int l = 0; ls->h && l < n; l++)
        if (ls->ok[l]) lc_hlayer_release(&ls->h[l]);
    free(ls->h);
    free(ls->ok);
}

lc_status lc_target_stats_collect(target *t, lc_context *mctx, lc_target_stats *ls)
{
    lc_model *m = (lc_model *)t->in;
    lc_weight *w = NULL;
    int n = 0;
    ls->h = calloc((size_t)t->n_layers, sizeof *ls->h);
    ls->ok = calloc((size_t)t->n_layers, sizeof *ls->ok);
    lc_status s = ls->h && ls->ok ? lc_weight_targets(m, NULL, &w, &n) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers && !s; l++)
        for (int k = 0; k < n; k++)
            if (!strcmp(w[k].tensor->name, t->layers[l].weight)) {
                ls->ok[l] = lc_hlayer_init(&ls->h[l], &w[k]) == LC_OK;
                break;
            }
    free(w);
    /* a Gemm/MatMul layer sees one input vector per sample: at least twice
       its columns, so that its statistics (and the passes' Hessians in the
       grid runs) are not rank-deficient */
    int64_t all = mctx->calib ? lc_dataset_count(mctx->calib) : 0, limit = mctx->calib_limit;
    if (t->r->ctx->calib_limit > 0 && t->r->ctx->calib_limit < all) all = t->r->ctx->calib_limit;
    for (int l = 0; l < t->n_layers && !s; l++)
        if (ls->ok[l] && (ls->h[l].kind == LC_HL_GEMM || ls->h[l].kind == LC_HL_MATMUL) && 2 * ls->h[l].cols > limit)
            limit = 2 * ls->h[l].cols;
    mctx->calib_limit = limit < all ? limit : all;
    if (!s && mctx->calib) s = lc_hessian_collect(m, mctx, ls->h, t->n_layers, ls->ok);
    return s;
}

/* From the second moments H = E[x x^T] and the mean E[x] of the layer's
 * inputs: E||D x + db||^2 = tr(D H D^T) + 2 db.(D E[x]) + ||db||^2. */
lc_status lc_target_proxy(const lc_hlayer *L, bool have, const lc_tensor *w0, const lc_tensor *b0,
                          const lc_tensor *w1, const lc_tensor *b1, double *out)
{
    *out = 0;
    int64_t numel = lc_tensor_numel(w0);
    const float *f0 = w0->data, *f1 = w1->data;
    const float *c0 = b0 && b1 && lc_tensor_numel(b0) == lc_tensor_numel(b1) ? b0->data : NULL;
    const float *c1 = c0 ? b1->data : NULL;
    if (!have || !L->collected || L->n <= 0) {
        double e = 0;
        for (int64_t i = 0; i < numel; i++) e += ((double)f1[i] - f0[i]) * ((double)f1[i] - f0[i]);
        for (int64_t i = 0; c0 && i < lc_tensor_numel(b0); i++) e += ((double)c1[i] - c0[i]) * ((double)c1[i] - c0[i]);
        *out = e;
        return LC_OK;
    }
    int64_t rows = L->rows, k = L->cols;
    double *h = malloc(sizeof *h * (size_t)(k * k));
    double *d = malloc(sizeof *d * (size_t)(rows * k));
    double *a = malloc(sizeof *a * (size_t)(rows * k));
    double *wa = malloc(sizeof *wa * (size_t)(rows * k));
    uint8_t *keep = malloc((size_t)(rows * k));
    lc_status s = h && d && a && wa && keep ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_hlayer La = *L, Lb = *L;
    La.w.tensor = (lc_tensor *)w0;
    Lb.w.tensor = (lc_tensor *)w1;
    double inv_n = 1.0 / (double)L->n, e = 0;
    for (int64_t g = 0; g < L->groups && !s; g++) {
        const double *src = L->h + g * k * k, *xs = L->xsum + g * k;
        for (int64_t i = 0; i < k; i++) /* H = E[x x^T], from the upper triangle */
            for (int64_t j = i; j < k; j++) h[i * k + j] = h[j * k + i] = src[i * k + j] * inv_n;
        lc_hlayer_load(&La, g, NULL, wa, keep);
        lc_hlayer_load(&Lb, g, NULL, d, keep);
        for (int64_t i = 0; i < rows * k; i++) d[i] -= wa[i];
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)rows, (int)k, 1.0, h, (int)k, d, (int)k, 0.0, a, (int)k);
        for (int64_t r = 0; r < rows; r++) {
            double quad = 0, lin = 0;
            for (int64_t j = 0; j < k; j++) {
                quad += a[r * k + j] * d[r * k + j];
                lin += d[r * k + j] * xs[j] * inv_n;
            }
            int64_t ch = g * rows + r;
            double db = c0 ? (double)c1[ch] - c0[ch] : 0;
            e += quad + 2 * db * lin + db * db;
        }
    }
    free(h);
    free(d);
    free(a);
    free(wa);
    free(keep);
    *out = e > 0 ? e : 0;
    return s;
}

/* Its output mean on the calibration data restored, per output channel:
 * what lc_correct_bias does when every other layer is float. */
lc_status lc_target_shift_bias(const lc_hlayer *L, const lc_tensor *w0, const lc_tensor *w1, lc_tensor *b1)
{
    int64_t rows = L->rows, k = L->cols;
    double *a = malloc(sizeof *a * (size_t)(rows * k) + 1), *c = malloc(sizeof *c * (size_t)(rows * k) + 1);
    uint8_t *keep = malloc((size_t)(rows * k) + 1);
    lc_status s = a && c && keep ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_hlayer La = *L, Lb = *L;
    La.w.tensor = (lc_tensor *)w0;
    Lb.w.tensor = (lc_tensor *)w1;
    float *b = b1->data;
    for (int64_t g = 0; g < L->groups && !s; g++) {
        lc_hlayer_load(&La, g, NULL, a, keep);
        lc_hlayer_load(&Lb, g, NULL, c, keep);
        for (int64_t r = 0; r < rows; r++) {
            double m = 0;
            for (int64_t j = 0; j < k; j++) m += (c[r * k + j] - a[r * k + j]) * L->xsum[g * k + j];
            b[g * rows + r] = (float)((double)b[g * rows + r] - m / (double)L->n);
        }
    }
    free(a);
    free(c);
    free(keep);
    return s;
}

/* Per layer, a piecewise power law through the layer's measured options
 * (log KL linear in log proxy between neighbours; beyond them the nearest
 * segment's exponent, held within [exponent_min, exponent_max], or
 * default_exponent with one point). A layer with no measured option takes
 * the median KL/proxy of the others. */
void lc_target_fit_damage(target *t)
{
    const lc_target_tuning *tune = &lc_target_tune;
    double *lin = malloc(sizeof *lin * (size_t)t->n_layers + 1);
    int n_lin = 0, cap = 0;
    for (int l = 0; l < t->n_layers; l++) cap = t->layers[l].n_opts > cap ? t->layers[l].n_opts : cap;
    double *pp = malloc(sizeof *pp * (size_t)cap + 1), *kk = malloc(sizeof *kk * (size_t)cap + 1);
    if (!lin || !pp || !kk) { /* out of memory: the proxy itself */
        for (int o = 0; o < t->n_opts; o++) t->opts[o].cost = t->opts[o].proxy;
        free(lin);
        free(pp);
        free(kk);
        return;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int l = 0; l < t->n_layers; l++) {
            lc_target_option *opt = t->opts + t->layers[l].first, *end = opt + t->layers[l].n_opts;
            int n = 0;
            for (const lc_target_option *q = opt; q < end; q++) /* measured points, by proxy (insertion) */
                if (!isnan(q->kl) && q->kl > 0 && q->proxy > 0) {
                    int j = n++;
                    for (; j > 0 && pp[j - 1] > q->proxy; j--) pp[j] = pp[j - 1], kk[j] = kk[j - 1];
                    pp[j] = q->proxy;
                    kk[j] = q->kl;
                }
            if (pass == 0) {
                if (n) lin[n_lin++] = kk[0] / pp[0];
                continue;
            }
            for (lc_target_option *q = opt; q < end; q++) {
                double p = q->proxy;
                if (p <= 0) {
                    q->cost = 0;
                    continue;
                }
                if (!n) { /* filled in below */
                    q->cost = NAN;
                    continue;
                }
                if (n == 1) {
                    q->cost = kk[0] * pow(p / pp[0], tune->default_exponent);
                    continue;
                }
                int j = 0; /* the segment [j, j+1] */
                while (j < n - 2 && p > pp[j + 1]) j++;
                double b = fabs(log(pp[j + 1] / pp[j])) > 1e-9 ? log(kk[j + 1] / kk[j]) / log(pp[j + 1] / pp[j])
                                                               : tune->default_exponent;
                if (p < pp[j] || p > pp[j + 1])
                    b = b < tune->exponent_min ? tune->exponent_min : b > tune->exponent_max ? tune->exponent_max : b;
                q->cost = p < pp[j] || p <= pp[j + 1] ? kk[j] * pow(p / pp[j], b) : kk[j + 1] * pow(p / pp[j + 1], b);
            }
        }
    /* layers without a measured point: the median ratio of the others */
    for (int i = 1; i < n_lin; i++) {
        double v = lin[i];
        int j = i;
        for (; j > 0 && lin[j - 1] > v; j--) lin[j] = lin[j - 1];
        lin[j] = v;
    }
    double med = n_lin ? lin[n_lin / 2] : 1;
    for (int o = 0; o < t->n_opts; o++)
        if (isnan(t->opts[o].cost)) t->opts[o].cost = med * t->opts[o].proxy;
    free(lin);
    free(pp);
    free(kk);
}

lc_status lc_target_measure_option(target *t, int l, int o)
{
    if (t->opts[o].kept) { /* measured by a job */
        t->opts[o].kl = t->opts[o].kl_job;
        t->n_evals++;
        return LC_OK;
    }
    lc_stored *sb = NULL;
    int nb = 0;
    lc_status s = lc_model_stored_tensors(t->base, &sb, &nb);
    if (s) return s;
    lc_tensor *wb, *bb;
    lc_target_layer_tensors(t->base, sb, nb, t->layers[l].weight, &wb, &bb);
    free(sb);
    lc_tensor *w1 = t->opts[o].w, *b1 = t->opts[o].b;
    if (!wb || !w1) return LC_OK;
    bool with_bias = b1 && bb;
    lc_target_swap_tensors(wb, w1);
    if (with_bias) lc_target_swap_tensors(bb, b1);
    s = lc_target_outputs_eval(t, t->base, false, &t->opts[o].kl);
    lc_target_swap_tensors(wb, w1);
    if (with_bias) lc_target_swap_tensors(bb, b1);
    return s;
}

