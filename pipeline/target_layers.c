/* The target-size search's layers and options: which layers the recipe's
 * steps compress, the grid of each searched knob (capped by a value the
 * recipe gives), the options of each layer (one per combination of its
 * steps' grid values), and the passes run before the search
 * (target_removes). See lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_target.h"

typedef lc_pipeline_step step;
typedef lc_target target;

/* Measured where each comment in lc_target.h says. */
const lc_target_tuning lc_target_tune = {
    .sparsity = {0, 0.5, 0.7, 0.8, 0.9, 0.95},
    .n_sparsity = 6,
    .bits = {8, 5, 4, 3, 2},
    .n_bits = 5,
    .calib_index = 1,
    .measure_samples = 500,
    .measure_calib = 128,
    .keep_bytes = (int64_t)256 << 20,
    .refine_rounds = 3,
    .default_exponent = 1.1,
    .exponent_min = 0.8,
    .exponent_max = 2,
    .kl_underflow = 1e3,
    .fit_rounds = 6,
    .fit_step_div = 200,
    .slack_div = 50,
    .slack_bytes = 64,
    .bisect_rounds_within = 5,
    .bisect_rounds_over = 6,
    .bisect_bytes = 16,
};

void lc_target_free(target *t)
{
    for (int l = 0; l < t->n_layers; l++) {
        free(t->layers[l].weight);
        free(t->layers[l].label);
    }
    free(t->layers);
    for (int o = 0; o < t->n_opts && t->opts; o++) {
        lc_tensor_free(t->opts[o].w);
        lc_tensor_free(t->opts[o].b);
    }
    free(t->opts);
    free(t->ref);
    lc_model_free(t->base);
    lc_model_free(t->folded);
    lc_target_drop_probes(t);
}

static int count_op(const lc_model *m, const char *op)
{
    int n = 0;
    for (int i = 0; i < m->graph->n_nodes; i++) n += !strcmp(m->graph->nodes[i]->op_type, op);
    return n;
}

/* The passes that remove an op type without changing the function
 * (target_removes: BatchNormalization folded into the layers before it)
 * run first when they can: those nodes and their parameters would
 * otherwise stay in every candidate (dscnn: 9 BatchNorms keep the file
 * over 2x a 10x target), and the layers' damage is then measured on the
 * weights that ship. */
lc_status lc_target_prepare(target *t)
{
    int n_pass;
    const lc_pass *const *table = lc_pass_table(&n_pass);
    for (int k = 0; k < n_pass; k++) {
        const lc_pass *pass = table[k];
        int n_op = pass->target_removes ? count_op(t->in, pass->target_removes) : 0;
        if (!n_op) continue;
        lc_params pv;
        lc_model *m = NULL;
        lc_status s = lc_params_init(&pv, pass->name, pass->params, pass->n_params);
        if (s) return s;
        if (!(s = lc_model_clone(t->in, &m))) s = lc_pass_run_params(m, pass, &pv, t->r->ctx);
        lc_params_clear(&pv);
        int left = s ? n_op : count_op(m, pass->target_removes);
        if (s || left == n_op) {
            lc_model_free(m);
            if (s) return lc_fail_prefix(s, "target size: %s", pass->name);
            continue;
        }
        lc_log(t->r->ctx, "target size: %s removed %d of %d %s nodes", pass->name, n_op - left, n_op,
               pass->target_removes);
        lc_model_free(t->folded);
        t->folded = m;
        t->in = m;
        t->prepared = pass;
    }
    return LC_OK;
}

int lc_target_step_values(const target *t, int si, int l, const double **vals)
{
    *vals = NULL;
    if (!t->steps[si].grid || !t->layers[l].covered[si]) return 1;
    *vals = t->steps[si].vals;
    return t->steps[si].n_vals;
}

bool lc_target_leaves_alone(const target *t, int si, int k)
{
    const lc_target_step *ts = &t->steps[si];
    return ts->vals[k] == 0 && t->r->p->steps[si].pass->grid == LC_GRID_SPARSITY && (!ts->joint || ts->vals2[k] == 0);
}

int lc_target_option_of(const target *t, int l, const int *kidx)
{
    int o = 0;
    for (int i = 0; i < t->n_steps; i++) {
        const double *g;
        int n = lc_target_step_values(t, i, l, &g);
        o = o * n + (n > 1 ? kidx[i] : 0);
    }
    return t->layers[l].first + o;
}

/* Knob value a compresses more than b (a knob of grid kind `kind`). */
static bool more_compressing(lc_grid_kind kind, double a, double b) { return kind == LC_GRID_BITS ? a < b : a > b; }

/* One knob's grid: the fixed one of its kind within the parameter's range,
 * capped by a given value (kv). Returns the count. */
static int knob_grid(lc_grid_kind kind, const lc_param_value *kv, double *vals)
{
    const lc_param_desc *d = kv->desc;
    bool bits = kind == LC_GRID_BITS;
    const double *g = bits ? lc_target_tune.bits : lc_target_tune.sparsity;
    int ng = bits ? lc_target_tune.n_bits : lc_target_tune.n_sparsity;
    int n = 0;
    for (int k = 0; k < ng; k++) {
        /* more compressing than the given value: beyond the cap */
        if (kv->given && more_compressing(kind, g[k], kv->num)) {
            if (n == 0 || vals[n - 1] != kv->num) vals[n++] = kv->num;
            break;
        }
        if (g[k] >= d->min && g[k] <= d->max) vals[n++] = g[k];
    }
    /* a given value more compressing than the whole grid extends it */
    if (kv->given && n > 0 && n < LC_TARGET_MAX_GRID && more_compressing(kind, kv->num, vals[n - 1]))
        vals[n++] = kv->num;
    return n;
}

/* Step si's grid: its knob's, capped by a given value; on a joint step
 * (the recipe gives knob2 > 0) every combination of the two knobs, knob2
 * inner, after the setting that leaves a layer alone. false when fewer
 * than two settings remain. */
static bool step_grid(target *t, int si)
{
    const step *st = &t->r->p->steps[si];
    lc_target_step *ts = &t->steps[si];
    const lc_pass *pass = st->pass;
    int n = knob_grid(pass->grid, lc_params_get(&st->params, pass->knob), ts->vals);
    int cal = n > 1 ? lc_target_tune.calib_index : 0;
    const lc_param_value *kv2 = pass->knob2 ? lc_params_get(&st->params, pass->knob2) : NULL;
    ts->calib = cal;
    ts->joint = kv2 && kv2->given && kv2->num > 0 && pass->grid2 != LC_GRID_NONE;
    if (ts->joint) {
        double g1[LC_TARGET_MAX_GRID], g2[LC_TARGET_MAX_GRID];
        memcpy(g1, ts->vals, sizeof g1);
        int n2 = knob_grid(pass->grid2, kv2, g2), m = 0;
        int cal2 = n2 > 1 ? lc_target_tune.calib_index : 0;
        if (pass->grid == LC_GRID_SPARSITY && g1[0] == 0) { /* the layer left alone */
            ts->vals[m] = 0;
            ts->vals2[m++] = 0;
        }
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n2 && m < LC_TARGET_MAX_GRID; b++) {
                if (a == cal && b == cal2) ts->calib = m;
                ts->vals[m] = g1[a];
                ts->vals2[m++] = g2[b];
            }
        n = m;
    }
    ts->n_vals = n;
    return n >= 2;
}

/* LC_ERR_INVALID_ARGUMENT naming the passes the search can run. */
static lc_status not_per_layer(const lc_pass *pass)
{
    char names[512];
    size_t used = 0;
    int n;
    const lc_pass *const *table = lc_pass_table(&n);
    names[0] = 0;
    for (int i = 0; i < n && used < sizeof names - 64; i++)
        if (table[i]->weight_pass)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", table[i]->name);
    return lc_fail(LC_ERR_INVALID_ARGUMENT,
                   "target size: pass %s does not compress weights layer by layer (the search runs these per layer: %s)",
                   pass->name, names);
}

/* Adds the layer of weight w unless known; *l: its index. */
static lc_status add_layer(target *t, const lc_weight *w, int *cap, int *l)
{
    for (*l = 0; *l < t->n_layers; (*l)++)
        if (!strcmp(t->layers[*l].weight, w->tensor->name)) return LC_OK;
    lc_status s = lc_vec_reserve((void **)&t->layers, cap, t->n_layers + 1, sizeof *t->layers);
    if (s) return s;
    lc_target_layer *L = &t->layers[t->n_layers];
    memset(L, 0, sizeof *L);
    const char *lname = w->node->name && *w->node->name ? w->node->name : w->tensor->name;
    L->weight = strdup(w->tensor->name);
    L->label = strdup(lname);
    L->params = lc_tensor_numel(w->tensor);
    t->n_layers++;
    return L->weight && L->label ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

/* Each layer's options: one per combination of its steps' values. */
static lc_status layer_options(target *t)
{
    int n_opts = 0;
    for (int l = 0; l < t->n_layers; l++) {
        int k = 1;
        for (int i = 0; i < t->n_steps; i++) {
            const double *g;
            k *= lc_target_step_values(t, i, l, &g);
        }
        t->layers[l].first = n_opts;
        t->layers[l].n_opts = k;
        n_opts += k;
    }
    t->opts = calloc((size_t)n_opts + 1, sizeof *t->opts);
    if (!t->opts) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    t->n_opts = n_opts;
    for (int o = 0; o < n_opts; o++) {
        t->opts[o].kl = NAN;
        for (int i = 0; i < LC_TARGET_MAX_STEPS; i++) t->opts[o].val[i] = t->opts[o].val2[i] = NAN;
    }
    return LC_OK;
}

lc_status lc_target_layers(target *t)
{
    lc_pipeline *p = t->r->p;
    lc_model *probe = NULL;
    lc_weight *w = NULL;
    int n = 0, cap = 0;
    t->n_steps = p->n_steps;
    if (p->n_steps > LC_TARGET_MAX_STEPS)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "target size: at most %d passes (%d given)", LC_TARGET_MAX_STEPS,
                       p->n_steps);
    lc_status s = lc_model_clone(t->in, &probe);
    for (int i = 0; i < p->n_steps && !s; i++) { /* the union of the steps' layers, in model order */
        const step *st = &p->steps[i];
        if (!st->pass->weight_pass) {
            s = not_per_layer(st->pass);
            break;
        }
        const lc_param_value *nm = lc_params_get(&st->params, "nm");
        t->steps[i].grid = st->pass->grid != LC_GRID_NONE && !(nm && nm->nm_m);
        t->steps[i].n_vals = 1;
        if (t->steps[i].grid) t->steps[i].grid = step_grid(t, i);
        if ((s = lc_weight_targets(probe, &st->params, &w, &n))) break;
        for (int k = 0; k < n && !s; k++) {
            int l;
            if (!(s = add_layer(t, &w[k], &cap, &l))) t->layers[l].covered[i] = true;
        }
        free(w);
        w = NULL;
    }
    lc_model_free(probe);
    if (!s && !t->n_layers) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "target size: the passes select no weight layer");
    if (!s) s = layer_options(t);
    return s;
}

lc_status lc_target_step_params(const step *st, char *const *names, int n_names, double v, double v2, lc_params *out)
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
        /* a searched knob is each layer's own: the pass must not share it
           among layers */
        char txt[64];
        const lc_param_value *kv = lc_params_get(out, st->pass->knob);
        snprintf(txt, sizeof txt, kv->desc->type == LC_PARAM_INT ? "%.0f" : "%.6g", v);
        s = lc_params_override(out, st->pass->knob, txt);
        if (!s) s = lc_params_override(out, "scope", "layer");
    }
    if (!s && !isnan(v2) && st->pass->knob2) {
        char txt[64];
        const lc_param_value *kv = lc_params_get(out, st->pass->knob2);
        snprintf(txt, sizeof txt, kv->desc->type == LC_PARAM_INT ? "%.0f" : "%.6g", v2);
        s = lc_params_override(out, st->pass->knob2, txt);
    }
    if (s) lc_params_clear(out);
    return s;
}
