/* The target-size search's grid runs: each searched pass runs once per
 * value of its grid on every layer it compresses at once (the steps
 * nested, the first outermost); at each leaf every layer's option is
 * swapped alone into the input model for the exact bytes it adds and its
 * damage proxy, and on the calibration leaf its real damage. See
 * lc_target.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_jobs.h"
#include "lc_target.h"

typedef lc_pipeline_step step;
typedef lc_target target;
typedef lc_run_state run_state;

typedef struct grid_state {
    target *t;
    const lc_context *mctx;   /* the context with fewer calibration samples */
    lc_target_stats ls;
    int kidx[LC_TARGET_MAX_STEPS]; /* grid index of each searched step on the way to a leaf */
    bool jobs;                /* the grid runs of the jobs first .. last-1 only,
                                 each leaf's measurements into its results */
    int64_t first, last;
    cJSON *leaf;              /* the results object of the job at hand */
    char **names;
    int done, total;
} grid_state;

bool lc_target_shift_at(const target *t, const int *kidx)
{
    /* the grid runs step i first at the leaf prefix (0, ..., 0, a): a its
       first setting that does not leave the layers alone */
    for (int i = 0; i < t->n_steps; i++) {
        const lc_target_step *ts = &t->steps[i];
        int a = 0;
        if (!t->corrects[i]) continue;
        while (ts->grid && a < ts->n_vals && lc_target_leaves_alone(t, i, a)) a++;
        if (ts->grid && a == ts->n_vals) continue; /* never runs */
        bool later = kidx[i] >= a;
        for (int j = 0; j < i; j++) later = later || kidx[j] > 0;
        if (later) return true;
    }
    return false;
}

lc_status lc_target_store(target *t, const int *kidx, int l, bool cal, const lc_target_meas *me, const lc_tensor *w1,
                          const lc_tensor *b1)
{
    lc_target_option *opt = &t->opts[lc_target_option_of(t, l, kidx)];
    if (opt->filled && !cal) return LC_OK;
    for (int i = 0; i < t->n_steps; i++) {
        const double *g;
        int n = lc_target_step_values(t, i, l, &g);
        bool set = n > 1 && !lc_target_leaves_alone(t, i, kidx[i]);
        opt->val[i] = set ? g[kidx[i]] : NAN;
        opt->val2[i] = set && t->steps[i].joint ? t->steps[i].vals2[kidx[i]] : NAN;
    }
    opt->delta = me->delta;
    opt->proxy = me->proxy;
    if (cal) opt->kl = me->kl;
    if (!opt->filled && t->kept_bytes + me->need <= lc_target_tune.keep_bytes) {
        if (w1) {
            opt->w = lc_tensor_clone(w1);
            opt->b = b1 ? lc_tensor_clone(b1) : NULL;
            if (!opt->w || (b1 && !opt->b)) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        } else {
            opt->kept = true;
            opt->kl_job = me->kl;
        }
        t->kept_bytes += me->need;
    }
    opt->filled = true;
    return LC_OK;
}

/* A leaf of the grid: every layer's option taken from m, swapped alone
 * into the base model for its bytes (and, on a calibration leaf, its
 * real damage). A job (gs->leaf) measures every layer's real damage and
 * adds the measurements to its results instead of storing them. */
static lc_status grid_leaf(grid_state *gs, lc_model *m)
{
    target *t = gs->t;
    lc_stored *s0 = NULL, *s1 = NULL, *sb = NULL;
    int n0 = 0, n1 = 0, nb = 0;
    bool cal = lc_target_leaf_is_calib(t, gs->kidx), shift = lc_target_shift_at(t, gs->kidx);
    bool floor_leaf = lc_target_leaf_is_floor(t, gs->kidx);
    lc_status s = lc_model_stored_tensors(t->in, &s0, &n0);
    if (!s) s = lc_model_stored_tensors(m, &s1, &n1);
    if (!s) s = lc_model_stored_tensors(t->base, &sb, &nb);
    /* the floor's file: its model's bytes and the file's fixed ones, which
       a job leaves to the merge (they depend on the target size, budget) */
    int64_t floor_bytes = 0;
    if (!s && floor_leaf) s = lc_pipeline_model_bytes(t->r, m, &floor_bytes);
    if (!s && floor_leaf && !t->floor_file) t->floor_file = floor_bytes + t->fixed_bytes;
    if (!s && floor_leaf && gs->leaf) cJSON_AddNumberToObject(gs->leaf, "floor_bytes", (double)floor_bytes);
    cJSON *layers = gs->leaf ? cJSON_AddArrayToObject(gs->leaf, "layers") : NULL;
    for (int l = 0; l < t->n_layers && !s; l++) {
        const char *weight = t->layers[l].weight;
        const lc_target_option *opt = &t->opts[lc_target_option_of(t, l, gs->kidx)];
        if (!gs->leaf && opt->filled && !cal) continue;
        lc_tensor *w0, *b0, *w1, *b1, *wb, *bb;
        lc_target_layer_tensors(t->in, s0, n0, weight, &w0, &b0);
        lc_target_layer_tensors(m, s1, n1, weight, &w1, &b1);
        lc_target_layer_tensors(t->base, sb, nb, weight, &wb, &bb);
        if (!w0 || !w1 || !wb || w1->dtype != LC_DTYPE_FLOAT || lc_tensor_numel(w1) != lc_tensor_numel(w0)) {
            s = lc_fail(LC_ERR_INTERNAL, "target size: layer '%s' lost its float weight in a grid run", t->layers[l].label);
            break;
        }
        bool with_bias = b0 && b1 && bb && b1->dtype == LC_DTYPE_FLOAT && lc_tensor_numel(b1) == lc_tensor_numel(b0);
        const lc_hlayer *L = &gs->ls.h[l];
        if (with_bias && shift && gs->ls.ok[l] && L->collected && L->n > 0 && L->xsum &&
            (!b1->enc || b1->enc->kind == LC_ENC_DENSE)) { /* the grid ran without the correction: the layer's own */
            memcpy(b1->data, b0->data, b0->nbytes);
            if ((s = lc_target_shift_bias(L, w0, w1, b1))) break;
        }
        lc_target_meas me = {0, 0, NAN, (int64_t)w1->nbytes + (with_bias ? (int64_t)b1->nbytes : 0)};
        int64_t bytes = 0;
        lc_target_swap_tensors(wb, w1);
        if (with_bias) lc_target_swap_tensors(bb, b1);
        s = lc_pipeline_model_bytes(t->r, t->base, &bytes);
        if (!s && (cal || gs->leaf)) s = lc_target_outputs_eval(t, t->base, false, &me.kl);
        lc_target_swap_tensors(wb, w1);
        if (with_bias) lc_target_swap_tensors(bb, b1);
        if (s) break;
        me.delta = bytes - t->base_bytes;
        s = lc_target_proxy(L, gs->ls.ok[l], w0, with_bias ? b0 : NULL, w1, with_bias ? b1 : NULL, &me.proxy);
        if (!s && layers) cJSON_AddItemToArray(layers, lc_target_job_layer(t, l, &me));
        else if (!s) s = lc_target_store(t, gs->kidx, l, cal, &me, w1, with_bias ? b1 : NULL);
    }
    free(s0);
    free(s1);
    free(sb);
    return s;
}

/* A job: its leaf's measurements as its results. */
static lc_status grid_job(grid_state *gs, lc_model *m, int64_t k)
{
    gs->leaf = cJSON_CreateObject();
    lc_status s = grid_leaf(gs, m);
    if (!s) s = lc_target_job_add(gs->t, k, gs->leaf);
    cJSON_Delete(gs->leaf);
    gs->leaf = NULL;
    lc_progress(gs->t->r->ctx, "target size jobs", k - gs->first + 1, gs->last - gs->first);
    return s;
}

/* The grid runs from step i on: each searched step once per grid value on
 * all its layers, each other step as given; for jobs, only on the way to
 * their leaves (a slice of consecutive jobs shares the runs of earlier
 * steps, as one process does). `job`: the first leaf below. */
static lc_status grid_run(grid_state *gs, int i, const lc_model *m, int64_t job)
{
    target *t = gs->t;
    run_state *r = t->r;
    if (i == t->n_steps) return gs->jobs ? grid_job(gs, (lc_model *)m, job) : grid_leaf(gs, (lc_model *)m);
    const step *st = &r->p->steps[i];
    lc_status s = LC_OK;
    const lc_target_step *ts = &t->steps[i];
    int nv = ts->grid ? ts->n_vals : 1;
    int64_t below = lc_target_jobs_below(t, i);
    for (int k = 0; k < nv && !s; k++) {
        int64_t lo = job + k * below;
        if (gs->jobs && (lo + below <= gs->first || lo >= gs->last)) continue; /* no job of the slice below */
        gs->kidx[i] = k;
        double v = ts->grid ? ts->vals[k] : NAN, v2 = ts->joint ? ts->vals2[k] : NAN;
        if (ts->grid && lc_target_leaves_alone(t, i, k)) { /* the pass leaves the layers alone */
            s = grid_run(gs, i + 1, m, lo);
            continue;
        }
        lc_params pv;
        int n = 0;
        for (int l = 0; l < t->n_layers; l++)
            if (t->layers[l].covered[i]) gs->names[n++] = t->layers[l].weight;
        if (ts->grid) s = lc_target_step_params(st, gs->names, n, v, v2, &pv);
        else s = lc_params_copy(&pv, &st->params);
        /* each layer fitted to the float model's inputs, as if compressed
           alone (sequential would fit it to inputs every earlier layer
           spoils at this grid value, which the search never combines) */
        if (!s) s = lc_params_override(&pv, "sequential", "false");
        /* a bias correction after a grid run would also absorb the other
           layers' errors into each layer's bias: emulated per layer in
           grid_leaf instead */
        if (!s && lc_correction_of(m, gs->mctx, &pv) == LC_CORRECT_BIAS)
            s = lc_pass_defer_correction(st->pass, &pv, LC_CORRECT_BIAS);
        if (s) break;
        lc_model *c = NULL;
        if (!(s = lc_model_clone(m, &c)) && !(s = lc_pass_run_params(c, st->pass, &pv, gs->mctx))) {
            t->n_runs++;
            lc_progress(r->ctx, "target size", ++gs->done, gs->total);
            s = grid_run(gs, i + 1, c, lo);
        } else if (s) {
            lc_fail_prefix(s, "target size: pass %s", st->pass->name);
        }
        lc_params_clear(&pv);
        lc_model_free(c);
    }
    return s;
}

lc_status lc_target_measure(target *t)
{
    run_state *r = t->r;
    lc_pipeline *p = r->p;
    grid_state gs;
    memset(&gs, 0, sizeof gs);
    gs.t = t;
    gs.names = malloc(sizeof *gs.names * (size_t)t->n_layers);
    lc_status s = gs.names ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    double kl0;
    t->n_ref = lc_dataset_count(p->val);
    if (p->val_limit > 0 && p->val_limit < t->n_ref) t->n_ref = p->val_limit;
    if (t->n_ref > lc_target_tune.measure_samples) t->n_ref = lc_target_tune.measure_samples;
    /* the grid runs and the layer statistics see a subset of the
       calibration data; the candidates all of it */
    lc_context mctx = *r->ctx;
    if (mctx.calib_limit <= 0 || mctx.calib_limit > lc_target_tune.measure_calib)
        mctx.calib_limit = lc_target_tune.measure_calib;
    gs.mctx = &mctx;
    /* the calibration leaf (lc_target_step.calib): every searched knob at
       the same mild value of its grid (lc_target_tuning.calib_index) */
    gs.total = 0;
    for (int i = 0, prod = 1; i < t->n_steps; i++) { /* pass runs of the grid */
        prod *= t->steps[i].grid ? t->steps[i].n_vals : 1;
        gs.total += prod;
    }
    /* a copy, as every candidate is (the input may carry what copies drop) */
    lc_model *base = NULL;
    if (!s) s = lc_model_clone(t->in, &base);
    /* entropy-coding marks make the .lcm writer code every unencoded
       tensor too: marked in the base already, each layer's bytes add up */
    for (int i = 0; i < p->n_steps && !s; i++)
        if (p->steps[i].pass->entropy)
            s = lc_pass_run_params(base, p->steps[i].pass, &p->steps[i].params, r->ctx);
    t->base = base;
    if (!s) s = lc_pipeline_model_bytes(r, base, &t->base_bytes);
    int64_t file_bytes = t->base_bytes;
    if (!s && !p->size_fn && p->format == LC_FORMAT_LCM) s = lc_pipeline_file_bytes(r, base, r->float_metric, &file_bytes);
    t->fixed_bytes = file_bytes - t->base_bytes;
    if (!s) s = lc_target_outputs_eval(t, t->in, true, &kl0);
    /* whether each step's bias correction is emulated in the grid (the
       correction depends on the step's parameters and BatchNorm nodes,
       which no grid run adds or removes) */
    for (int i = 0; i < t->n_steps; i++)
        t->corrects[i] = lc_correction_of(t->in, &mctx, &p->steps[i].params) == LC_CORRECT_BIAS;
    lc_jobs_mode mode = p->jobs ? p->jobs->mode : LC_JOBS_NONE;
    lc_target_jobs_clear(p);
    if (!s && mode != LC_JOBS_NONE) s = lc_target_fingerprint(t);
    if (!s && mode == LC_JOBS_PLAN) s = lc_target_plan(t);
    if (!s && mode == LC_JOBS_MERGE) s = lc_target_merge(t);
    if (!s && (mode == LC_JOBS_NONE || mode == LC_JOBS_RUN)) s = lc_target_stats_collect(t, &mctx, &gs.ls);
    lc_log(r->ctx, "target size: %d layers x settings (%d options), %d grid runs of the passes", t->n_layers, t->n_opts,
           gs.total);
    if (!s && mode == LC_JOBS_RUN) {
        gs.jobs = true;
        gs.first = p->jobs->first;
        gs.last = p->jobs->last;
        s = lc_jobs_check_slice(gs.first, gs.last, lc_target_jobs(t));
    }
    if (!s && (mode == LC_JOBS_NONE || mode == LC_JOBS_RUN)) s = grid_run(&gs, 0, t->in, 0);
    t->stopped = mode == LC_JOBS_PLAN || mode == LC_JOBS_RUN;
    if (t->stopped) {
        lc_target_stats_free(&gs.ls, t->n_layers);
        free(gs.names);
        return s;
    }
    for (int o = 0; !s && o < t->n_opts; o++)
        if (!t->opts[o].filled) s = lc_fail(LC_ERR_INTERNAL, "target size: option %d was not measured", o);
    if (!s) lc_target_fit_damage(t);
    lc_target_stats_free(&gs.ls, t->n_layers);
    free(gs.names);
    return s;
}



lc_status lc_target_start(target *t, run_state *r, const lc_model *in)
{
    memset(t, 0, sizeof *t);
    t->r = r;
    t->in = in;
    lc_status s = lc_target_prepare(t);
    if (!s) s = lc_target_layers(t);
    if (!s) s = lc_target_measure(t);
    return s;
}
