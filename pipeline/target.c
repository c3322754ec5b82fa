/* The --target-size search: per-layer settings of the recipe's knobs
 * (sparsity, bits), the most accurate model whose file fits a size.
 * BatchNorm is folded first. Grid runs apply each pass once per knob value
 * to every layer at once; each layer's option is then swapped alone into
 * the input model for its exact bytes, and its damage is predicted from the
 * layer's output error (a Hessian proxy) calibrated by a few real KL
 * measurements. A multiple-choice knapsack (allocate.c) picks one option
 * per layer for an estimated byte budget, and the candidates are built
 * with the passes as given and their exact file size checked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <cblas.h>

#include "lc_alloc.h"
#include "lc_encoding.h"
#include "lc_hessian.h"
#include "lc_metric_measure.h"
#include "lc_pass.h"
#include "lc_pipeline_internal.h"

typedef lc_pipeline_step step;
typedef lc_run_state run_state;

/* The grid each layer is measured at, least compressing first (values
 * outside a knob's range are dropped); sparsity 0 means the pass leaves the
 * layer alone. A knob value the recipe gives caps the grid: values more
 * compressing than it are dropped and the value itself is added. */
static const double tgt_sparsity[] = {0, 0.5, 0.7, 0.8, 0.9, 0.95};
static const double tgt_bits[] = {8, 5, 4, 3, 2};
#define TGT_MAX_GRID 8
#define TGT_MAX_STEPS 16
#define TGT_MAX_PROBES 16
/* validation samples of the real forward measurements that calibrate the
   damage estimate (KL divergence is smooth enough on a subset; the
   candidates are checked on all validation samples) */
#define TGT_MEASURE_SAMPLES 500
/* calibration samples of the grid runs and of the layer input statistics
   (the candidates are built with all of them) */
#define TGT_MEASURE_CALIB 128
/* the grid runs' weights are kept for the real measurements of the options
   the allocation picks, up to this many bytes (else only the calibration
   leaf is measured) */
#define TGT_KEEP_BYTES ((int64_t)256 << 20)
/* rounds of: allocate on the estimate, measure the picked options for real,
   refit */
#define TGT_REFINE_ROUNDS 3
/* the damage exponent outside the measured points (KL ~ proxy^1.1 was
   measured on resnet8's layers below KL 0.1) */
#define TGT_DEFAULT_EXPONENT 1.1

typedef struct tgt_probe {
    int *choice;     /* option per layer */
    lc_model *m;
    double acc;
    int64_t bytes;   /* the file as written */
    int64_t budget;  /* estimated bytes it was allocated for */
    double seconds;
    cJSON *passes;   /* the passes as run */
} tgt_probe;

typedef struct target {
    run_state *r;
    const lc_model *in;   /* the model searched on (BatchNorm folded) */
    lc_model *folded;     /* owned copy behind `in` when BatchNorm was folded */
    int n_steps, n_layers;
    char **weight;    /* weight tensor names (owned) */
    char **label;     /* node names for the report (owned) */
    int64_t *params;
    bool *covers;     /* [step * n_layers + layer]: the step compresses the layer */
    bool *grid;       /* per step: its knob is searched per layer */
    double gvals[TGT_MAX_STEPS][TGT_MAX_GRID];
    int gn[TGT_MAX_STEPS];   /* grid values per step (1 when not searched) */
    int *first;       /* options of layer l: first[l] .. first[l+1]-1 */
    int n_opts;
    double *val;      /* [option * n_steps + step]: knob value, NAN: not searched / not applied */
    double *proxy;    /* mean squared change of the layer's outputs on calibration inputs */
    double *kl;       /* measured KL divergence of the option alone (NAN: not measured) */
    double *cost;     /* predicted damage of the option alone: KL divergence from the input model's outputs */
    int64_t *delta;   /* bytes the option adds to the input model's file */
    lc_tensor **optw, **optb; /* per option: the layer's weight and bias as the grid run left them (NULL: not kept) */
    int64_t kept_bytes;   /* held by optw/optb */
    bool bias_shift;      /* a step's bias correction is emulated per layer in the grid */
    lc_model *base;   /* the input as measured against (huffman marks applied) */
    int64_t base_bytes;
    int64_t floor_file;   /* the file of the most compressing grid run */
    float *ref;       /* the input model's log-softmax outputs on the validation data */
    int64_t n_ref;
    int64_t classes;
    int n_evals;      /* real forward measurements */
    int n_runs;       /* grid runs of the passes */
    tgt_probe probes[TGT_MAX_PROBES];
    int n_probes;
} target;

static void target_free(target *t)
{
    for (int l = 0; l < t->n_layers; l++) {
        free(t->weight[l]);
        free(t->label[l]);
    }
    free(t->weight);
    free(t->label);
    free(t->params);
    free(t->covers);
    free(t->grid);
    free(t->first);
    free(t->val);
    free(t->proxy);
    free(t->kl);
    free(t->cost);
    free(t->delta);
    for (int o = 0; o < t->n_opts && t->optw; o++) {
        lc_tensor_free(t->optw[o]);
        lc_tensor_free(t->optb[o]);
    }
    free(t->optw);
    free(t->optb);
    free(t->ref);
    lc_model_free(t->base);
    lc_model_free(t->folded);
    for (int i = 0; i < t->n_probes; i++) {
        free(t->probes[i].choice);
        lc_model_free(t->probes[i].m);
        cJSON_Delete(t->probes[i].passes);
    }
}

static bool is_bits(const step *st) { return !strcmp(st->pass->knob, "bits"); }

/* The values step si takes on layer `layer` (NULL, 1: not searched there). */
static int step_values(const target *t, int si, int layer, const double **vals)
{
    *vals = NULL;
    if (!t->grid[si] || !t->covers[si * t->n_layers + layer]) return 1;
    *vals = t->gvals[si];
    return t->gn[si];
}

/* Step si's grid: the fixed one within the knob's range, capped by a
 * given value. false when fewer than two values remain. */
static bool step_grid(target *t, int si)
{
    const step *st = &t->r->p->steps[si];
    const lc_param_value *kv = lc_params_get(&st->params, st->pass->knob);
    const lc_param_desc *d = kv->desc;
    bool bits = is_bits(st);
    const double *g = bits ? tgt_bits : tgt_sparsity;
    int ng = bits ? (int)(sizeof tgt_bits / sizeof *tgt_bits) : (int)(sizeof tgt_sparsity / sizeof *tgt_sparsity);
    int n = 0;
    for (int k = 0; k < ng; k++) {
        /* more compressing than the given value: beyond the cap */
        if (kv->given && (bits ? g[k] < kv->num : g[k] > kv->num)) {
            if (n == 0 || t->gvals[si][n - 1] != kv->num) t->gvals[si][n++] = kv->num;
            break;
        }
        if (g[k] >= d->min && g[k] <= d->max) t->gvals[si][n++] = g[k];
    }
    /* a given value more compressing than the whole grid extends it */
    if (kv->given && n > 0 && n < TGT_MAX_GRID && (bits ? kv->num < t->gvals[si][n - 1] : kv->num > t->gvals[si][n - 1]))
        t->gvals[si][n++] = kv->num;
    t->gn[si] = n;
    return n >= 2;
}

/* Which layers each step compresses, and which steps are searched. */
static lc_status target_layers(target *t)
{
    lc_pipeline *p = t->r->p;
    lc_model *probe = NULL;
    lc_weight *w = NULL;
    int n = 0, cap = 0;
    t->n_steps = p->n_steps;
    if (p->n_steps > TGT_MAX_STEPS)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "target size: at most %d passes (%d given)", TGT_MAX_STEPS,
                       p->n_steps);
    t->grid = calloc((size_t)p->n_steps, sizeof *t->grid);
    lc_status s = t->grid ? lc_model_clone(t->in, &probe) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < p->n_steps && !s; i++) { /* the union of the steps' layers, in model order */
        const step *st = &p->steps[i];
        if (!lc_params_get(&st->params, "include") || !strcmp(st->pass->name, "prune-structured")) {
            s = lc_fail(LC_ERR_INVALID_ARGUMENT,
                        "target size: pass %s does not compress weights layer by layer (the search runs weight passes "
                        "per layer: prune-*, quantize-*, binarize, huffman)",
                        st->pass->name);
            break;
        }
        const char *knob = st->pass->knob;
        const lc_param_value *nm = lc_params_get(&st->params, "nm");
        t->grid[i] = knob && (!strcmp(knob, "sparsity") || !strcmp(knob, "bits")) && !(nm && nm->nm_m);
        t->gn[i] = 1;
        if (t->grid[i]) t->grid[i] = step_grid(t, i);
        if ((s = lc_weight_targets(probe, &st->params, &w, &n))) break;
        for (int k = 0; k < n && !s; k++) {
            bool known = false;
            for (int l = 0; l < t->n_layers && !known; l++) known = !strcmp(t->weight[l], w[k].tensor->name);
            if (known) continue;
            int c2 = cap;
            if ((s = lc_vec_reserve((void **)&t->weight, &cap, t->n_layers + 1, sizeof *t->weight))) break;
            if ((s = lc_vec_reserve((void **)&t->label, &c2, t->n_layers + 1, sizeof *t->label))) break;
            int64_t *pp = realloc(t->params, sizeof *pp * (size_t)(t->n_layers + 1));
            if (!pp) {
                s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
                break;
            }
            t->params = pp;
            const char *lname = w[k].node->name && *w[k].node->name ? w[k].node->name : w[k].tensor->name;
            t->weight[t->n_layers] = strdup(w[k].tensor->name);
            t->label[t->n_layers] = strdup(lname);
            t->params[t->n_layers] = lc_tensor_numel(w[k].tensor);
            t->n_layers++;
            if (!t->weight[t->n_layers - 1] || !t->label[t->n_layers - 1]) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
        free(w);
        w = NULL;
    }
    if (!s && !t->n_layers) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "target size: the passes select no weight layer");
    if (!s) {
        t->covers = calloc((size_t)p->n_steps * (size_t)t->n_layers, sizeof *t->covers);
        if (!t->covers) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < p->n_steps && !s; i++) {
        if ((s = lc_weight_targets(probe, &p->steps[i].params, &w, &n))) break;
        for (int k = 0; k < n; k++)
            for (int l = 0; l < t->n_layers; l++)
                if (!strcmp(t->weight[l], w[k].tensor->name)) t->covers[i * t->n_layers + l] = true;
        free(w);
        w = NULL;
    }
    lc_model_free(probe);
    return s;
}

/* Sets one parameter from text, replacing its value. */
static lc_status set_param(lc_params *pv, const char *key, const char *txt)
{
    lc_param_value *tv = (lc_param_value *)lc_params_get(pv, key);
    if (!tv) return LC_OK;
    free(tv->str);
    tv->str = NULL;
    return lc_params_set(pv, key, txt);
}

/* A copy of a step's parameters restricted to `names` (include), with its
 * knob set to `v` unless v is NAN. With a searched knob the pass must not
 * share it among layers (scope=layer), as each layer's value is its own. */
static lc_status step_params(const step *st, char *const *names, int n_names, double v, lc_params *out)
{
    lc_status s = lc_params_copy(out, &st->params);
    if (s) return s;
    lc_param_value *inc = (lc_param_value *)lc_params_get(out, "include");
    for (int k = 0; k < inc->n_list; k++) free(inc->list[k]);
    free(inc->list);
    inc->list = NULL;
    inc->n_list = 0;
    inc->given = false;
    for (int k = 0; k < n_names && !s; k++) s = lc_params_set(out, "include", names[k]);
    if (!s && !isnan(v)) {
        char txt[64];
        const lc_param_value *kv = lc_params_get(out, st->pass->knob);
        snprintf(txt, sizeof txt, kv->desc->type == LC_PARAM_INT ? "%.0f" : "%.6g", v);
        s = set_param(out, st->pass->knob, txt);
        if (!s && lc_params_get(out, "scope")) s = set_param(out, "scope", "layer");
    }
    if (s) lc_params_clear(out);
    return s;
}

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
            else o->kl += 1e3; /* a probability underflowed to zero: a large, finite damage */
        }
    }
    o->n += n;
    return LC_OK;
}

/* Mean KL divergence of m's outputs from the reference (or, with
 * `record`, m's outputs become the reference). */
static lc_status outputs_eval(target *t, const lc_model *m, bool record, double *kl)
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

/* ---- measuring: one grid run of the passes per knob value on all layers
 * at once, then each layer's option swapped alone into the base model ---- */

/* Layer l's weight and bias (NULL: none) in m. */
static void layer_tensors(const lc_model *m, const lc_stored *st, int n_st, const char *weight, lc_tensor **w,
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

static void swap_tensors(lc_tensor *a, lc_tensor *b)
{
    lc_tensor tmp = *a;
    *a = *b;
    *b = tmp;
}

/* Per-layer statistics of the float model's layer inputs. */
typedef struct layer_stats {
    lc_hlayer *h;     /* n_layers entries (kind IDENTITY: no statistics) */
    bool *ok;         /* lc_hlayer_init succeeded */
} layer_stats;

static void stats_free(layer_stats *ls, int n)
{
    for (int l = 0; ls->h && l < n; l++)
        if (ls->ok[l]) lc_hlayer_release(&ls->h[l]);
    free(ls->h);
    free(ls->ok);
}

static lc_status stats_collect(target *t, lc_context *mctx, layer_stats *ls)
{
    lc_model *m = (lc_model *)t->in;
    lc_weight *w = NULL;
    int n = 0;
    ls->h = calloc((size_t)t->n_layers, sizeof *ls->h);
    ls->ok = calloc((size_t)t->n_layers, sizeof *ls->ok);
    lc_status s = ls->h && ls->ok ? lc_weight_targets(m, NULL, &w, &n) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers && !s; l++)
        for (int k = 0; k < n; k++)
            if (!strcmp(w[k].tensor->name, t->weight[l])) {
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

/* The option's damage proxy: the mean over calibration inputs x of
 * ||(W' - W) x + (b' - b)||^2 (the layer's output change), from the
 * second moments H = E[x x^T] and the mean E[x]; without statistics
 * ||W' - W||^2 + ||b' - b||^2. */
static lc_status layer_proxy(const lc_hlayer *L, bool have, const lc_tensor *w0, const lc_tensor *b0,
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

/* The bias correction of a layer compressed alone: its output mean on the
 * calibration data restored, b' = b - (W' - W) E[x] per output channel
 * (what lc_correct_bias does when every other layer is float). b1 holds b0
 * on entry. */
static lc_status shift_bias(const lc_hlayer *L, const lc_tensor *w0, const lc_tensor *w1, lc_tensor *b1)
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

typedef struct grid_state {
    target *t;
    const lc_context *mctx;   /* the context with fewer calibration samples */
    layer_stats ls;
    int kidx[TGT_MAX_STEPS];  /* grid index of each searched step on the way to a leaf */
    int cal[TGT_MAX_STEPS];   /* the leaf whose options are really evaluated */
    bool *filled;
    char **names;
    int done, total;
} grid_state;

/* Layer l's option for the grid indices kidx (the steps in order, the
 * first one outermost). */
static int option_of(const target *t, int l, const int *kidx)
{
    int o = 0;
    for (int i = 0; i < t->n_steps; i++) {
        const double *g;
        int n = step_values(t, i, l, &g);
        o = o * n + (n > 1 ? kidx[i] : 0);
    }
    return t->first[l] + o;
}

/* The file m would be written as (with the .lcm META section). */
static lc_status file_bytes(target *t, const lc_model *m, int64_t *bytes)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    if (p->size_fn) return p->size_fn(p->size_user, m, bytes);
    void *buf;
    size_t len;
    cJSON *ij = lc_pipeline_input_json(r), *aj = lc_pipeline_accuracy_json(p, r->float_metric, r->float_metric);
    lc_status s = lc_pipeline_serialize(p, m, ij, aj, &buf, &len);
    cJSON_Delete(ij);
    cJSON_Delete(aj);
    if (!s) {
        free(buf);
        *bytes = (int64_t)len;
    }
    return s;
}

/* A leaf of the grid: every layer's option taken from m, swapped alone
 * into the base model for its bytes (and, on a calibration leaf, its
 * real damage). */
static lc_status grid_leaf(grid_state *gs, lc_model *m)
{
    target *t = gs->t;
    lc_stored *s0 = NULL, *s1 = NULL, *sb = NULL;
    int n0 = 0, n1 = 0, nb = 0;
    bool cal = true;
    for (int i = 0; i < t->n_steps; i++) cal = cal && (!t->grid[i] || gs->kidx[i] == gs->cal[i]);
    bool floor_leaf = true;
    for (int i = 0; i < t->n_steps; i++) floor_leaf = floor_leaf && (!t->grid[i] || gs->kidx[i] == t->gn[i] - 1);
    lc_status s = lc_model_stored_tensors(t->in, &s0, &n0);
    if (!s) s = lc_model_stored_tensors(m, &s1, &n1);
    if (!s) s = lc_model_stored_tensors(t->base, &sb, &nb);
    if (!s && floor_leaf && !t->floor_file) s = file_bytes(t, m, &t->floor_file);
    for (int l = 0; l < t->n_layers && !s; l++) {
        int o = option_of(t, l, gs->kidx);
        if (gs->filled[o] && !cal) continue;
        lc_tensor *w0, *b0, *w1, *b1, *wb, *bb;
        layer_tensors(t->in, s0, n0, t->weight[l], &w0, &b0);
        layer_tensors(m, s1, n1, t->weight[l], &w1, &b1);
        layer_tensors(t->base, sb, nb, t->weight[l], &wb, &bb);
        if (!w0 || !w1 || !wb || w1->dtype != LC_DTYPE_FLOAT || lc_tensor_numel(w1) != lc_tensor_numel(w0)) {
            s = lc_fail(LC_ERR_INTERNAL, "target size: layer '%s' lost its float weight in a grid run", t->label[l]);
            break;
        }
        bool with_bias = b0 && b1 && bb && b1->dtype == LC_DTYPE_FLOAT && lc_tensor_numel(b1) == lc_tensor_numel(b0);
        const lc_hlayer *L = &gs->ls.h[l];
        if (with_bias && t->bias_shift && gs->ls.ok[l] && L->collected && L->n > 0 && L->xsum &&
            (!b1->enc || b1->enc->kind == LC_ENC_DENSE)) { /* the grid ran without the correction: the layer's own */
            memcpy(b1->data, b0->data, b0->nbytes);
            if ((s = shift_bias(L, w0, w1, b1))) break;
        }
        for (int i = 0; i < t->n_steps; i++) {
            const step *st = &t->r->p->steps[i];
            const double *g;
            int n = step_values(t, i, l, &g);
            double v = n > 1 ? g[gs->kidx[i]] : NAN;
            t->val[(size_t)o * t->n_steps + i] = n > 1 && !(v == 0 && !is_bits(st)) ? v : NAN;
        }
        int64_t bytes = 0;
        swap_tensors(wb, w1);
        if (with_bias) swap_tensors(bb, b1);
        s = lc_pipeline_model_bytes(t->r, t->base, &bytes);
        if (!s && cal) s = outputs_eval(t, t->base, false, &t->kl[o]);
        swap_tensors(wb, w1);
        if (with_bias) swap_tensors(bb, b1);
        if (s) break;
        t->delta[o] = bytes - t->base_bytes;
        s = layer_proxy(&gs->ls.h[l], gs->ls.ok[l], w0, with_bias ? b0 : NULL, w1, with_bias ? b1 : NULL, &t->proxy[o]);
        int64_t need = (int64_t)w1->nbytes + (with_bias ? (int64_t)b1->nbytes : 0);
        if (!s && !gs->filled[o] && t->kept_bytes + need <= TGT_KEEP_BYTES) {
            t->optw[o] = lc_tensor_clone(w1);
            t->optb[o] = with_bias ? lc_tensor_clone(b1) : NULL;
            if (!t->optw[o] || (with_bias && !t->optb[o])) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            t->kept_bytes += need;
        }
        gs->filled[o] = true;
    }
    free(s0);
    free(s1);
    free(sb);
    return s;
}

/* The correction lc_pass_run_params applies after a step's pass on m
 * (auto: bn with BatchNormalization, else bias; none without data). */
static const char *step_correct(const lc_model *m, const lc_context *ctx, const lc_params *pv)
{
    const char *c = lc_params_get(pv, "correct") ? lc_params_str(pv, "correct") : NULL;
    if (!c) return "none";
    if (strcmp(c, "auto")) return c;
    if (!ctx || !ctx->calib) return "none";
    for (int i = 0; i < m->graph->n_nodes; i++)
        if (!strcmp(m->graph->nodes[i]->op_type, "BatchNormalization")) return "bn";
    return "bias";
}

/* The grid runs from step i on: each searched step once per grid value on
 * all its layers, each other step as given. */
static lc_status grid_run(grid_state *gs, int i, const lc_model *m)
{
    target *t = gs->t;
    run_state *r = t->r;
    if (i == t->n_steps) return grid_leaf(gs, (lc_model *)m);
    const step *st = &r->p->steps[i];
    lc_status s = LC_OK;
    int nv = t->grid[i] ? t->gn[i] : 1;
    for (int k = 0; k < nv && !s; k++) {
        gs->kidx[i] = k;
        double v = t->grid[i] ? t->gvals[i][k] : NAN;
        if (t->grid[i] && v == 0 && !is_bits(st)) { /* the pass leaves the layers alone */
            s = grid_run(gs, i + 1, m);
            continue;
        }
        lc_params pv;
        int n = 0;
        for (int l = 0; l < t->n_layers; l++)
            if (t->covers[i * t->n_layers + l]) gs->names[n++] = t->weight[l];
        if (t->grid[i]) s = step_params(st, gs->names, n, v, &pv);
        else s = lc_params_copy(&pv, &st->params);
        /* each layer fitted to the float model's inputs, as if compressed
           alone (sequential would fit it to inputs every earlier layer
           spoils at this grid value, which the search never combines) */
        if (!s && lc_params_get(&pv, "sequential")) s = set_param(&pv, "sequential", "false");
        /* a bias correction after a grid run would also absorb the other
           layers' errors into each layer's bias: emulated per layer in
           grid_leaf instead */
        if (!s && !strcmp(step_correct(m, gs->mctx, &pv), "bias")) {
            s = set_param(&pv, "correct", "none");
            if (!s && lc_params_get(&pv, "center") && !strcmp(lc_params_str(&pv, "center"), "auto"))
                s = set_param(&pv, "center", "yes");
            t->bias_shift = true;
        }
        if (s) break;
        lc_model *c = NULL;
        if (!(s = lc_model_clone(m, &c)) && !(s = lc_pass_run_params(c, st->pass, &pv, gs->mctx))) {
            t->n_runs++;
            lc_progress(r->ctx, "target size", ++gs->done, gs->total);
            s = grid_run(gs, i + 1, c);
        } else if (s) {
            lc_fail_prefix(s, "target size: pass %s", st->pass->name);
        }
        lc_params_clear(&pv);
        lc_model_free(c);
    }
    return s;
}

/* The damage each option is predicted to do: per layer, a piecewise
 * power law through the layer's measured options (log KL linear in log
 * proxy between neighbours; beyond them the nearest segment's exponent,
 * held within [0.8, 2], or TGT_DEFAULT_EXPONENT with one point). A layer
 * with no measured option takes the median KL/proxy of the others. */
static void fit_damage(target *t)
{
    double *lin = malloc(sizeof *lin * (size_t)t->n_layers + 1);
    int n_lin = 0, cap = 0;
    for (int l = 0; l < t->n_layers; l++) cap = t->first[l + 1] - t->first[l] > cap ? t->first[l + 1] - t->first[l] : cap;
    double *pp = malloc(sizeof *pp * (size_t)cap + 1), *kk = malloc(sizeof *kk * (size_t)cap + 1);
    if (!lin || !pp || !kk) { /* out of memory: the proxy itself */
        for (int o = 0; o < t->n_opts; o++) t->cost[o] = t->proxy[o];
        free(lin);
        free(pp);
        free(kk);
        return;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int l = 0; l < t->n_layers; l++) {
            int n = 0;
            for (int o = t->first[l]; o < t->first[l + 1]; o++) /* measured points, by proxy (insertion) */
                if (!isnan(t->kl[o]) && t->kl[o] > 0 && t->proxy[o] > 0) {
                    int j = n++;
                    for (; j > 0 && pp[j - 1] > t->proxy[o]; j--) pp[j] = pp[j - 1], kk[j] = kk[j - 1];
                    pp[j] = t->proxy[o];
                    kk[j] = t->kl[o];
                }
            if (pass == 0) {
                if (n) lin[n_lin++] = kk[0] / pp[0];
                continue;
            }
            for (int o = t->first[l]; o < t->first[l + 1]; o++) {
                double p = t->proxy[o];
                if (p <= 0) {
                    t->cost[o] = 0;
                    continue;
                }
                if (!n) { /* filled in below */
                    t->cost[o] = NAN;
                    continue;
                }
                if (n == 1) {
                    t->cost[o] = kk[0] * pow(p / pp[0], TGT_DEFAULT_EXPONENT);
                    continue;
                }
                int j = 0; /* the segment [j, j+1] */
                while (j < n - 2 && p > pp[j + 1]) j++;
                double b = fabs(log(pp[j + 1] / pp[j])) > 1e-9 ? log(kk[j + 1] / kk[j]) / log(pp[j + 1] / pp[j])
                                                               : TGT_DEFAULT_EXPONENT;
                if (p < pp[j] || p > pp[j + 1]) b = b < 0.8 ? 0.8 : b > 2 ? 2 : b;
                t->cost[o] = p < pp[j] || p <= pp[j + 1] ? kk[j] * pow(p / pp[j], b) : kk[j + 1] * pow(p / pp[j + 1], b);
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
    for (int l = 0; l < t->n_layers; l++) {
        for (int o = t->first[l]; o < t->first[l + 1]; o++)
            if (isnan(t->cost[o])) t->cost[o] = med * t->proxy[o];
    }
    free(lin);
    free(pp);
    free(kk);
}

/* The real damage of option o of layer l alone: its kept weights swapped
 * into the base model. */
static lc_status measure_option(target *t, int l, int o)
{
    lc_stored *sb = NULL;
    int nb = 0;
    lc_status s = lc_model_stored_tensors(t->base, &sb, &nb);
    if (s) return s;
    lc_tensor *wb, *bb;
    layer_tensors(t->base, sb, nb, t->weight[l], &wb, &bb);
    free(sb);
    lc_tensor *w1 = t->optw[o], *b1 = t->optb[o];
    if (!wb || !w1) return LC_OK;
    bool with_bias = b1 && bb;
    swap_tensors(wb, w1);
    if (with_bias) swap_tensors(bb, b1);
    s = outputs_eval(t, t->base, false, &t->kl[o]);
    swap_tensors(wb, w1);
    if (with_bias) swap_tensors(bb, b1);
    return s;
}

static lc_status target_measure(target *t)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    int n_opts = 0;
    grid_state gs;
    memset(&gs, 0, sizeof gs);
    gs.t = t;
    t->first = malloc(sizeof *t->first * (size_t)(t->n_layers + 1));
    if (!t->first) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers; l++) {
        t->first[l] = n_opts;
        int k = 1;
        for (int i = 0; i < t->n_steps; i++) {
            const double *g;
            k *= step_values(t, i, l, &g);
        }
        n_opts += k;
    }
    t->first[t->n_layers] = n_opts;
    t->n_opts = n_opts;
    size_t no = (size_t)n_opts + 1;
    t->val = malloc(sizeof *t->val * no * (size_t)t->n_steps);
    t->proxy = calloc(no, sizeof *t->proxy);
    t->kl = malloc(sizeof *t->kl * no);
    t->cost = calloc(no, sizeof *t->cost);
    t->delta = calloc(no, sizeof *t->delta);
    gs.filled = calloc(no, sizeof *gs.filled);
    t->optw = calloc(no, sizeof *t->optw);
    t->optb = calloc(no, sizeof *t->optb);
    gs.names = malloc(sizeof *gs.names * (size_t)t->n_layers);
    lc_status s = t->val && t->proxy && t->kl && t->cost && t->delta && gs.filled && gs.names &&
                      t->optw && t->optb
                      ? LC_OK
                      : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int o = 0; !s && o < n_opts; o++) t->kl[o] = NAN;
    double kl0;
    t->n_ref = lc_dataset_count(p->val);
    if (p->val_limit > 0 && p->val_limit < t->n_ref) t->n_ref = p->val_limit;
    if (t->n_ref > TGT_MEASURE_SAMPLES) t->n_ref = TGT_MEASURE_SAMPLES;
    /* the grid runs and the layer statistics see a subset of the
       calibration data; the candidates all of it */
    lc_context mctx = *r->ctx;
    if (mctx.calib_limit <= 0 || mctx.calib_limit > TGT_MEASURE_CALIB) mctx.calib_limit = TGT_MEASURE_CALIB;
    gs.mctx = &mctx;
    /* the calibration leaf: every searched knob at the second value of its
       grid (sparsity 0.5, bits 5): mild enough that each layer alone does
       little damage, where KL grows like the proxy (exponent 0.9-1.3 on
       the zoo's layers) and so extrapolates best */
    for (int i = 0; i < t->n_steps; i++) gs.cal[i] = t->gn[i] > 1 ? 1 : 0;
    gs.total = 0;
    for (int i = 0, prod = 1; i < t->n_steps; i++) { /* pass runs of the grid */
        prod *= t->grid[i] ? t->gn[i] : 1;
        gs.total += prod;
    }
    /* a copy, as every candidate is (the input may carry what copies drop) */
    lc_model *base = NULL;
    if (!s) s = lc_model_clone(t->in, &base);
    /* Huffman marks make the .lcm writer entropy-code every unencoded
       tensor too: marked in the base already, each layer's bytes add up */
    for (int i = 0; i < p->n_steps && !s; i++)
        if (!strcmp(p->steps[i].pass->name, "huffman"))
            s = lc_pass_run_params(base, p->steps[i].pass, &p->steps[i].params, r->ctx);
    t->base = base;
    if (!s) s = lc_pipeline_model_bytes(r, base, &t->base_bytes);
    if (!s) s = outputs_eval(t, t->in, true, &kl0);
    if (!s) s = stats_collect(t, &mctx, &gs.ls);
    lc_log(r->ctx, "target size: %d layers x settings (%d options), %d grid runs of the passes", t->n_layers, n_opts,
           gs.total);
    if (!s) s = grid_run(&gs, 0, t->in);
    for (int o = 0; !s && o < n_opts; o++)
        if (!gs.filled[o]) s = lc_fail(LC_ERR_INTERNAL, "target size: option %d was not measured", o);
    if (!s) fit_damage(t);
    stats_free(&gs.ls, t->n_layers);
    free(gs.filled);
    free(gs.names);
    return s;
}


/* Runs searched step i on m for a choice: once per run of consecutive
 * layers (model order) with the same knob value, with the step's statistics
 * correction applied once after all of them (as one run of the pass on
 * every layer would). */
static lc_status build_step(target *t, int i, const int *choice, lc_model *m, char **names)
{
    run_state *r = t->r;
    const step *st = &r->p->steps[i];
    const char *corr = step_correct(m, r->ctx, &st->params);
    lc_model *before = NULL;
    lc_status s = !strcmp(corr, "bias") ? lc_model_clone(m, &before) : LC_OK;
    /* in model order, consecutive layers with the same value in one run: a
       sequential pass then fits every layer to its compressed inputs */
    for (int l0 = 0; l0 < t->n_layers && !s;) {
        double v = t->val[(size_t)choice[l0] * t->n_steps + i];
        if (isnan(v)) {
            l0++;
            continue;
        }
        int n = 0;
        for (; l0 < t->n_layers; l0++) {
            double vl = t->val[(size_t)choice[l0] * t->n_steps + i];
            if (isnan(vl) && t->covers[i * t->n_layers + l0]) continue; /* left alone: no break */
            if (vl != v) break;
            names[n++] = t->weight[l0];
        }
        lc_params pv;
        if ((s = step_params(st, names, n, v, &pv))) break;
        s = set_param(&pv, "correct", "none");
        /* prune-hessian's center=auto follows the correction: keep it */
        if (!s && lc_params_get(&pv, "center") && !strcmp(lc_params_str(&pv, "center"), "auto"))
            s = set_param(&pv, "center", !strcmp(corr, "bias") ? "yes" : "no");
        if (!s) s = lc_pass_run_params(m, st->pass, &pv, r->ctx);
        lc_params_clear(&pv);
    }
    if (!s && !strcmp(corr, "bias")) s = lc_correct_bias(m, before, r->ctx);
    if (!s && !strcmp(corr, "bn")) s = lc_correct_bn(m, r->ctx);
    if (!s && strcmp(corr, "none")) s = lc_model_verify_encodings(m);
    lc_model_free(before);
    return s;
}

/* Builds the model for a choice: each searched step runs once per distinct
 * knob value on the layers that chose it, every other step as given; the
 * accuracy is measured once, on the result. */
static lc_status target_build(target *t, const int *choice, tgt_probe *pr)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    double t0 = lc_pipeline_now();
    lc_model *m = NULL;
    char **names = malloc(sizeof *names * (size_t)t->n_layers);
    lc_status s = names ? lc_model_clone(t->in, &m) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    pr->passes = cJSON_CreateArray();
    pr->acc = NAN;
    if (!s && t->folded) {
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", "fold-batchnorm");
        cJSON_AddStringToObject(pj, "params", "");
        cJSON_AddStringToObject(pj, "outcome", "applied");
        cJSON_AddNumberToObject(pj, "seconds", 0);
        cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)r->in_bytes_model);
        cJSON_AddItemToArray(pr->passes, pj);
    }
    for (int i = 0; i < p->n_steps && !s; i++) {
        const step *st = &p->steps[i];
        double ts = lc_pipeline_now(), acc = NAN;
        int64_t bytes;
        if (!t->grid[i]) s = lc_pass_run_params(m, st->pass, &st->params, r->ctx);
        else s = build_step(t, i, choice, m, names);
        if (!s && i == p->n_steps - 1) s = lc_pipeline_metric(r, m, &acc);
        if (!s) s = lc_pipeline_model_bytes(r, m, &bytes);
        if (s) {
            lc_fail_prefix(s, "target size: pass %s", st->pass->name);
            break;
        }
        char *ptxt = lc_params_to_string(&st->params);
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "name", st->pass->name);
        if (t->grid[i]) {
            char *full = malloc(strlen(ptxt ? ptxt : "") + 64);
            if (full) sprintf(full, "%s per layer (see target.layers); %s", st->pass->knob, ptxt ? ptxt : "");
            cJSON_AddStringToObject(pj, "params", full ? full : "");
            free(full);
        } else cJSON_AddStringToObject(pj, "params", ptxt ? ptxt : "");
        free(ptxt);
        cJSON_AddStringToObject(pj, "outcome", t->grid[i] ? "allocated" : "applied");
        cJSON_AddNumberToObject(pj, "seconds", lc_pipeline_now() - ts);
        if (isfinite(lc_metric_display(p->metric, acc)))
            cJSON_AddNumberToObject(pj, "accuracy", lc_metric_display(p->metric, acc));
        else cJSON_AddNullToObject(pj, "accuracy");
        cJSON_AddNumberToObject(pj, "bytes", (double)bytes);
        cJSON_AddItemToArray(pr->passes, pj);
        if (i == p->n_steps - 1) pr->acc = acc;
    }
    if (!s && p->size_fn) s = p->size_fn(p->size_user, m, &pr->bytes);
    else if (!s) { /* exactly the file lc_pipeline_write will write */
        void *buf;
        size_t len;
        cJSON *ij = lc_pipeline_input_json(r), *aj = lc_pipeline_accuracy_json(p, r->float_metric, pr->acc);
        s = lc_pipeline_serialize(p, m, ij, aj, &buf, &len);
        cJSON_Delete(ij);
        cJSON_Delete(aj);
        if (!s) {
            free(buf);
            pr->bytes = (int64_t)len;
        }
    }
    free(names);
    if (s) {
        lc_model_free(m);
        return s;
    }
    pr->m = m;
    pr->seconds = lc_pipeline_now() - t0;
    return LC_OK;
}

/* The least-damage choice for an estimated byte budget (*fits false: even
 * the smallest options exceed it; choice is those then). *estimate: its
 * estimated bytes. */
static lc_status allocate(const target *t, int64_t budget, int *choice, bool *fits, int64_t *estimate)
{
    int64_t *bytes = malloc(sizeof *bytes * (size_t)t->n_opts + 1);
    int64_t floor_bytes = t->base_bytes;
    *fits = false;
    if (!bytes) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int l = 0; l < t->n_layers; l++) { /* bytes above each layer's smallest option */
        int64_t mn = INT64_MAX;
        for (int o = t->first[l]; o < t->first[l + 1]; o++) mn = t->delta[o] < mn ? t->delta[o] : mn;
        for (int o = t->first[l]; o < t->first[l + 1]; o++) bytes[o] = t->delta[o] - mn;
        floor_bytes += mn;
    }
    lc_alloc_table tab = {t->n_layers, t->first, t->cost, bytes};
    bool oom = false;
    *fits = lc_alloc_solve(&tab, budget - floor_bytes, choice, &oom);
    *estimate = floor_bytes + lc_alloc_bytes(&tab, choice);
    free(bytes);
    return oom ? lc_fail(LC_ERR_NO_MEMORY, "out of memory") : LC_OK;
}

/* Refines the damage estimate where it matters: the options the
 * allocation picks for `budget` are measured for real (those whose weights
 * were kept) and the fit redone, until the picks are all measured. */
static lc_status target_refine(target *t, int64_t budget)
{
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    lc_status s = choice ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int round = 0; round < TGT_REFINE_ROUNDS && !s; round++) {
        bool fits;
        int64_t est, n_new = 0;
        if ((s = allocate(t, budget, choice, &fits, &est))) break;
        for (int l = 0; l < t->n_layers && !s; l++) {
            int o = choice[l];
            if (!isnan(t->kl[o]) || !t->optw[o] || t->proxy[o] <= 0) continue;
            s = measure_option(t, l, o);
            n_new++;
        }
        lc_log(t->r->ctx, "target size: refine %d: %lld options measured", round + 1, (long long)n_new);
        if (!n_new) break;
        fit_damage(t);
    }
    free(choice);
    return s;
}

/* Allocates settings for an estimated byte budget and builds them, unless
 * an earlier probe made the same choice. *idx: the probe, or -1 when the
 * estimate says nothing fits the budget (and `force` is false). */
static lc_status target_probe(target *t, int64_t budget, bool force, int *idx)
{
    run_state *r = t->r;
    *idx = -1;
    int *choice = malloc(sizeof *choice * (size_t)t->n_layers + 1);
    bool fits = false;
    int64_t estimate = 0;
    lc_status s = choice ? allocate(t, budget, choice, &fits, &estimate) : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s && (fits || force)) {
        for (int i = 0; i < t->n_probes && *idx < 0; i++)
            if (!memcmp(t->probes[i].choice, choice, sizeof *choice * (size_t)t->n_layers)) *idx = i;
        if (*idx < 0 && t->n_probes < TGT_MAX_PROBES) {
            tgt_probe *pr = &t->probes[t->n_probes];
            memset(pr, 0, sizeof *pr);
            pr->budget = budget;
            if (!(s = target_build(t, choice, pr))) {
                pr->choice = choice;
                choice = NULL;
                *idx = t->n_probes++;
                cJSON *tj = cJSON_CreateObject();
                char txt[96];
                snprintf(txt, sizeof txt, "per-layer settings for an estimated %lld bytes (estimate %lld)",
                         (long long)budget, (long long)estimate);
                cJSON_AddStringToObject(tj, "pass", "target-size");
                cJSON_AddStringToObject(tj, "params", txt);
                cJSON_AddNumberToObject(tj, "bytes", (double)pr->bytes);
                if (isfinite(pr->acc)) cJSON_AddNumberToObject(tj, "accuracy", pr->acc);
                else cJSON_AddNullToObject(tj, "accuracy");
                cJSON *sj = cJSON_AddArrayToObject(tj, "settings");
                for (int l = 0; l < t->n_layers; l++) {
                    char one[256];
                    int len = snprintf(one, sizeof one, "%s:", t->label[l]);
                    for (int i = 0; i < t->n_steps && len < (int)sizeof one; i++) {
                        double v = t->val[(size_t)pr->choice[l] * t->n_steps + i];
                        if (t->grid[i])
                            len += snprintf(one + len, sizeof one - (size_t)len, " %s=%g", r->p->steps[i].pass->knob,
                                            isnan(v) ? 0 : v);
                    }
                    cJSON_AddItemToArray(sj, cJSON_CreateString(one));
                }
                cJSON_AddItemToArray(r->tried, tj);
                lc_log(r->ctx, "target size: probe %d: %lld bytes, accuracy %.2f", t->n_probes, (long long)pr->bytes,
                       pr->acc);
            } else {
                cJSON_Delete(pr->passes);
                pr->passes = NULL;
            }
        }
    }
    free(choice);
    return s;
}

/* The best probe: within the size (and budget, when `need_budget`), the
 * most accurate, or with a budget the smallest within it. -1 if none. */
static int target_best(const target *t, bool need_fit, bool need_budget, bool smallest)
{
    const run_state *r = t->r;
    int best = -1;
    for (int i = 0; i < t->n_probes; i++) {
        const tgt_probe *pr = &t->probes[i];
        if (need_fit && pr->bytes > r->p->target_size) continue;
        if (need_budget && !lc_pipeline_within_drop(r, pr->acc, r->p->max_drop)) continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const tgt_probe *b = &t->probes[best];
        double pa = isfinite(pr->acc) ? pr->acc : 0, ba = isfinite(b->acc) ? b->acc : 0;
        bool better = smallest ? pr->bytes < b->bytes || (pr->bytes == b->bytes && pa > ba)
                               : pa > ba || (pa == ba && pr->bytes < b->bytes);
        if (better) best = i;
    }
    return best;
}

/* Bisects the estimated budget between lo and hi with real builds, for
 * the smallest model within the accuracy budget (fitting the target when
 * `need_fit`). */
static lc_status target_bisect(target *t, int64_t lo, int64_t hi, int rounds)
{
    lc_status s = LC_OK;
    for (int k = 0; k < rounds && !s && hi - lo > 16 && t->n_probes < TGT_MAX_PROBES; k++) {
        int64_t mid = lo + (hi - lo) / 2;
        int idx;
        if ((s = target_probe(t, mid, false, &idx))) break;
        if (idx >= 0 && lc_pipeline_within_drop(t->r, t->probes[idx].acc, t->r->p->max_drop)) hi = mid;
        else lo = mid;
    }
    return s;
}

static cJSON *target_report(const target *t, int chosen, int64_t smallest, double seconds)
{
    const run_state *r = t->r;
    cJSON *tj = cJSON_CreateObject();
    cJSON_AddNumberToObject(tj, "target_bytes", (double)r->p->target_size);
    cJSON_AddNumberToObject(tj, "achieved_bytes", chosen >= 0 ? (double)t->probes[chosen].bytes : (double)smallest);
    cJSON_AddBoolToObject(tj, "fits", chosen >= 0 && t->probes[chosen].bytes <= r->p->target_size);
    cJSON_AddNumberToObject(tj, "smallest_bytes", (double)smallest);
    cJSON_AddNumberToObject(tj, "probes", t->n_probes);
    cJSON_AddNumberToObject(tj, "configurations_measured", t->n_opts);
    cJSON_AddNumberToObject(tj, "grid_runs", t->n_runs);
    cJSON_AddNumberToObject(tj, "evaluations", t->n_evals);
    cJSON_AddBoolToObject(tj, "batchnorm_folded", t->folded != NULL);
    cJSON_AddNumberToObject(tj, "seconds", seconds);
    cJSON *knobs = cJSON_AddArrayToObject(tj, "knobs");
    for (int i = 0; i < t->n_steps; i++)
        if (t->grid[i]) {
            char k[96];
            snprintf(k, sizeof k, "%s.%s", r->p->steps[i].pass->name, r->p->steps[i].pass->knob);
            cJSON_AddItemToArray(knobs, cJSON_CreateString(k));
        }
    cJSON *layers = cJSON_AddArrayToObject(tj, "layers");
    for (int l = 0; l < t->n_layers; l++) {
        cJSON *lj = cJSON_CreateObject();
        cJSON_AddStringToObject(lj, "name", t->label[l]);
        cJSON_AddStringToObject(lj, "weight", t->weight[l]);
        cJSON_AddNumberToObject(lj, "params", (double)t->params[l]);
        if (chosen >= 0) {
            int o = t->probes[chosen].choice[l];
            cJSON *sj = cJSON_AddArrayToObject(lj, "setting");
            for (int i = 0; i < t->n_steps; i++)
                if (t->grid[i]) {
                    double v = t->val[(size_t)o * t->n_steps + i];
                    cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(v) ? 0 : v));
                }
            cJSON_AddNumberToObject(lj, "alone_damage", t->cost[o]);
            cJSON_AddNumberToObject(lj, "alone_bytes_added", (double)t->delta[o]);
        }
        cJSON *opts = cJSON_AddArrayToObject(lj, "grid");
        for (int o = t->first ? t->first[l] : 0; t->first && o < t->first[l + 1]; o++) {
            cJSON *oj = cJSON_CreateObject();
            cJSON *sj = cJSON_AddArrayToObject(oj, "setting");
            for (int i = 0; i < t->n_steps; i++)
                if (t->grid[i]) {
                    double v = t->val[(size_t)o * t->n_steps + i];
                    cJSON_AddItemToArray(sj, cJSON_CreateNumber(isnan(v) ? 0 : v));
                }
            cJSON_AddNumberToObject(oj, "proxy", t->proxy[o]);
            cJSON_AddNumberToObject(oj, "damage", t->cost[o]);
            if (!isnan(t->kl[o])) cJSON_AddNumberToObject(oj, "kl", t->kl[o]);
            cJSON_AddNumberToObject(oj, "bytes_added", (double)t->delta[o]);
            cJSON_AddItemToArray(opts, oj);
        }
        cJSON_AddItemToArray(layers, lj);
    }
    return tj;
}

/* The target-size search. *chosen: the probe to return (-1: nothing fits
 * the size); *smallest: the smallest file reached. */
static lc_status target_search(target *t, int *chosen, int64_t *smallest)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    int64_t T = p->target_size;
    *chosen = -1;
    *smallest = INT64_MAX;
    lc_status s = target_layers(t);
    if (!s) s = target_measure(t);
    if (s) return s;
    /* the most compressing grid run: when even it does not fit, nothing does */
    int64_t floor_file = t->floor_file;
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddStringToObject(fj, "pass", "target-size");
    cJSON_AddStringToObject(fj, "params", "the most compressing grid setting on every layer (grid run)");
    cJSON_AddNumberToObject(fj, "bytes", (double)floor_file);
    cJSON_AddNullToObject(fj, "accuracy");
    cJSON_AddItemToArray(r->tried, fj);
    lc_log(r->ctx, "target size: the most compressing settings give %lld bytes", (long long)floor_file);
    if (floor_file > T) {
        *smallest = floor_file;
        return LC_OK;
    }
    /* the META section and other fixed bytes: measured on the input model */
    int64_t fixed = 0;
    if (!p->size_fn && p->format == LC_FORMAT_LCM) {
        void *buf;
        size_t len;
        cJSON *ij = lc_pipeline_input_json(r), *aj = lc_pipeline_accuracy_json(p, r->float_metric, r->float_metric);
        s = lc_pipeline_serialize(p, t->base, ij, aj, &buf, &len);
        cJSON_Delete(ij);
        cJSON_Delete(aj);
        if (s) return s;
        free(buf);
        fixed = (int64_t)len - t->base_bytes;
    }
    if ((s = target_refine(t, T - fixed))) return s;
    /* fit: shrink the estimated budget until a real build fits */
    int64_t budget = T - fixed, fit_budget = -1;
    int idx = -1;
    for (int k = 0; k < 6 && !s; k++) {
        if ((s = target_probe(t, budget, false, &idx))) break;
        if (idx < 0) break; /* the estimate says nothing fits */
        const tgt_probe *pr = &t->probes[idx];
        if (pr->bytes <= T) {
            fit_budget = budget;
            break;
        }
        budget -= pr->bytes - T + (T / 200 + 1) * (k + 1);
    }
    if (s) return s;
    if (fit_budget < 0) { /* the fewest bytes of every layer: the smallest reachable */
        if ((s = target_probe(t, -1, true, &idx))) return s;
        if (idx >= 0 && t->probes[idx].bytes <= T) fit_budget = -1; /* fits after all: kept below */
    } else if (t->probes[idx].bytes < T - (T / 50 + 64)) {
        /* the estimate was pessimistic: spend the slack once */
        if ((s = target_probe(t, fit_budget + (T - t->probes[idx].bytes), false, &idx))) return s;
    }
    int fit = target_best(t, true, false, false);
    if (fit >= 0 && p->max_drop >= 0 && p->val) {
        int64_t fb = t->probes[fit].budget;
        if (lc_pipeline_within_drop(r, t->probes[fit].acc, p->max_drop)) { /* smaller models within the budget */
            int64_t floor_bytes = t->base_bytes;
            for (int l = 0; l < t->n_layers; l++) {
                int64_t mn = INT64_MAX;
                for (int o = t->first[l]; o < t->first[l + 1]; o++) mn = t->delta[o] < mn ? t->delta[o] : mn;
                floor_bytes += mn;
            }
            s = target_bisect(t, floor_bytes, fb, 5);
        }
        else { /* over the budget: the smallest model within it, larger than the target */
            int64_t hi = fb;
            for (int o = 0; o < t->n_opts; o++) hi += t->delta[o] > 0 ? t->delta[o] : 0;
            s = target_bisect(t, fb, hi, 6);
        }
        if (s) return s;
    }
    *smallest = floor_file;
    for (int i = 0; i < t->n_probes; i++) *smallest = t->probes[i].bytes < *smallest ? t->probes[i].bytes : *smallest;
    if (p->max_drop >= 0 && p->val) {
        *chosen = target_best(t, true, true, true);
        if (*chosen < 0 && target_best(t, true, false, false) >= 0) {
            p->budget_met = false; /* fits, but not within the accuracy budget */
            *chosen = target_best(t, false, true, true);
        }
    } else {
        *chosen = target_best(t, true, false, false);
    }
    return LC_OK;
}

/* BatchNormalization folded into the layers before it, when any can be: its
 * parameters and nodes would otherwise stay in every candidate (dscnn: 9
 * BatchNorms keep the file over 2x a 10x target), and the layers' damage is
 * then measured on the weights that ship. t->in becomes the folded copy. */
static lc_status fold_batchnorm(target *t, const lc_model *in)
{
    int n_bn = 0;
    for (int i = 0; i < in->graph->n_nodes; i++) n_bn += !strcmp(in->graph->nodes[i]->op_type, "BatchNormalization");
    if (!n_bn) return LC_OK;
    const lc_pass *fold = lc_pass_find("fold-batchnorm");
    if (!fold) return LC_OK;
    lc_params pv;
    lc_model *m = NULL;
    lc_status s = lc_params_init(&pv, fold->name, fold->params, fold->n_params);
    if (s) return s;
    if (!(s = lc_model_clone(in, &m))) s = lc_pass_run_params(m, fold, &pv, t->r->ctx);
    lc_params_clear(&pv);
    int left = 0;
    for (int i = 0; !s && i < m->graph->n_nodes; i++) left += !strcmp(m->graph->nodes[i]->op_type, "BatchNormalization");
    if (s || left == n_bn) {
        lc_model_free(m);
        return s ? lc_fail_prefix(s, "target size: fold-batchnorm") : LC_OK;
    }
    lc_log(t->r->ctx, "target size: folded %d of %d BatchNormalization nodes into the layers before them", n_bn - left,
           n_bn);
    t->folded = m;
    t->in = m;
    return LC_OK;
}

/* --target-size: the search of the per-layer settings instead of the
 * passes as given. */
lc_status lc_pipeline_run_target(lc_pipeline *p, run_state *r, const lc_model *in, lc_model **out)
{
    if (!p->val)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "a target size needs validation data (--val) to rank the settings on");
    double t0 = lc_pipeline_now();
    target t;
    memset(&t, 0, sizeof t);
    t.r = r;
    t.in = in;
    int chosen = -1;
    int64_t smallest = 0;
    lc_status s = fold_batchnorm(&t, in);
    if (!s) s = target_search(&t, &chosen, &smallest);
    if (s) {
        target_free(&t);
        return s;
    }
    const tgt_probe *pr = chosen >= 0 ? &t.probes[chosen] : NULL;
    bool fits = pr && pr->bytes <= p->target_size;
    bool none_fits = smallest > p->target_size;
    p->target_met = fits;
    lc_model *result = NULL;
    if (pr) {
        result = pr->m;
        t.probes[chosen].m = NULL;
    } else if (!none_fits && (s = lc_model_clone(in, &result))) { /* over budget everywhere: the input model */
        target_free(&t);
        return s;
    }
    cJSON_AddItemToObject(p->report, "target", target_report(&t, chosen, smallest, lc_pipeline_now() - t0));
    cJSON *passes = pr ? cJSON_Duplicate(pr->passes, 1) : cJSON_CreateArray();
    double acc = pr ? pr->acc : r->float_metric;
    int64_t bytes = pr ? pr->bytes : r->in_bytes;
    lc_pipeline_finish_report(p, r, in, none_fits ? NULL : result, passes, acc, bytes);
    target_free(&t);
    if (none_fits) {
        lc_model_free(result);
        return lc_fail(LC_ERR_BUDGET, "no configuration fits %lld bytes: the smallest file reached is %lld bytes (%.1fx the target)",
                       (long long)p->target_size, (long long)smallest, (double)smallest / (double)p->target_size);
    }
    *out = result;
    return LC_OK;
}
