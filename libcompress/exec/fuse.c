/* Fusion: a producer that takes an epilogue (lc_fusion::set_epilogue)
 * absorbs the consumers that alone read its result: a per-channel affine
 * map folded into its weights (channel_affine, into LC_OPF_FOLD_AFFINE
 * producers), a residual sum (LC_OPF_RESIDUAL_ADD, into
 * LC_OPF_TAKES_RESIDUAL producers) and an activation (as_epilogue). The
 * executor knows these roles only through the kernels' descriptors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_plan.h"

/* Readers of each slot among the planned steps, for fusion. */
typedef struct fuse_ctx {
    int *n_reads;  /* reads per slot (an input listed twice counts twice) */
    int *reader;   /* the (last) reading step */
    int *producer; /* the producing step, -1 for inputs and constants */
} fuse_ctx;

static bool is_float_value(const lc_value *v)
{
    return v && v->dtype == LC_DTYPE_FLOAT;
}

/* The step that alone consumes slot `sl` (only as its input 0 unless
 * `any_input`), when the value is not a graph output; else -1. */
static int sole_reader(const lc_executor *ex, const fuse_ctx *fc, int sl, bool any_input)
{
    if (sl < 0 || ex->slots[sl].is_output || fc->n_reads[sl] != 1) return -1;
    int q = fc->reader[sl];
    const step *st = &ex->steps[q];
    if (st->removed || st->n_extra) return -1;
    if (!any_input && (st->args.n_in < 1 || st->in_slots[0] != sl)) return -1;
    for (int o = 1; o < st->args.n_out; o++)
        if (st->out[o]) return -1;
    return st->out_slots[0] >= 0 ? q : -1;
}

/* The fusion hooks of a step's kernel, or an empty set. */
static const lc_fusion *hooks(const step *st)
{
    static const lc_fusion none;
    return st->kernel->fusion ? st->kernel->fusion : &none;
}

/* Folds the per-channel affine map of step `af` (y = (x - sub) * k + add)
 * into the weights and bias of producer step `pr`: W' = W * k,
 * B' = (B - sub) * k + add, per output channel, into memory of the
 * producer's step (the model is not touched). False when `af` is not such
 * a map with constant parameters. */
static lc_status fold_affine(step *pr, const step *af, bool *done)
{
    const lc_value *w = pr->in[1], *b = pr->args.n_in > 2 ? pr->in[2] : NULL;
    const int64_t m = w->dims[0], per = lc_value_numel(w) / (m ? m : 1);
    *done = false;
    double *coef = malloc((size_t)(3 * m + 1) * sizeof *coef);
    if (!coef) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    double *k = coef, *sub = coef + m, *add = coef + 2 * m;
    if (!hooks(af)->channel_affine(&af->args, m, k, sub, add)) {
        free(coef);
        return LC_OK;
    }
    float *mem = malloc((size_t)(m * per + m) * sizeof *mem);
    if (!mem) {
        free(coef);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    const float *wd = w->data, *bd = b ? b->data : NULL;
    for (int64_t oc = 0; oc < m; oc++) {
        for (int64_t i = 0; i < per; i++) mem[oc * per + i] = (float)(wd[oc * per + i] * k[oc]);
        mem[m * per + oc] = (float)(((bd ? bd[oc] : 0.0) - sub[oc]) * k[oc] + add[oc]);
    }
    free(coef);
    free(pr->fdata);
    pr->fdata = mem;
    pr->fw = *w;
    pr->fw.data = mem;
    pr->fw.borrowed = false;
    pr->fb = *w;
    pr->fb.name = af->node->outputs[0];
    pr->fb.ndim = 1;
    pr->fb.dims[0] = m;
    pr->fb.data = mem + m * per;
    pr->fb.nbytes = (size_t)m * sizeof(float);
    pr->fb.borrowed = false;
    *done = true;
    return LC_OK;
}

static bool same_shape(const lc_value *a, const lc_value *b)
{
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* Makes room for a fourth input (a Conv's residual). */
static lc_status add_residual_input(lc_executor *ex, step *st, int sl)
{
    const lc_value **in = realloc(st->in, 4 * sizeof *in);
    if (!in) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->in = in;
    int *slots = realloc(st->in_slots, 4 * sizeof *slots);
    if (!slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    st->in_slots = slots;
    for (int i = st->args.n_in; i < 3; i++) {
        st->in[i] = NULL;
        st->in_slots[i] = -1;
    }
    st->in[3] = &ex->slots[sl].v;
    st->in_slots[3] = sl;
    st->args.n_in = 4;
    st->args.in = st->in;
    return LC_OK;
}

/* Whether producer step `pr` (taking an affine fold) has constant float
 * weights and a constant bias or none. */
static bool const_weights(const step *pr)
{
    return pr->args.n_in >= 2 && is_float_value(pr->in[1]) && pr->in[1]->is_const && pr->in[1]->ndim >= 1 &&
           (pr->args.n_in < 3 || !pr->in[2] || pr->in[2]->is_const);
}

/* Tries the chain producer [-> affine] [-> residual add] [-> activation]
 * starting at step p, each link as the producer's flags and the
 * consumers' hooks allow (Conv [-> BatchNormalization] [-> Add]
 * [-> Relu/Clip/LeakyRelu], Gemm -> activation). */
static lc_status fuse_at(lc_executor *ex, const fuse_ctx *fc, int p)
{
    step *st = &ex->steps[p];
    const unsigned flags = st->kernel->flags;
    if (!hooks(st)->set_epilogue || st->args.n_out != 1 || !st->out[0] || st->n_extra) return LC_OK;
    lc_nn_epilogue e = {0};
    int cur = st->out_slots[0], q, affine = -1, add = -1, act = -1, residual = -1;
    lc_status s;
    if ((flags & LC_OPF_FOLD_AFFINE) && const_weights(st) && (q = sole_reader(ex, fc, cur, false)) >= 0 &&
        hooks(&ex->steps[q])->channel_affine) {
        bool done;
        if ((s = fold_affine(st, &ex->steps[q], &done))) return s;
        if (done) {
            affine = q;
            cur = ex->steps[q].out_slots[0];
        }
    }
    if ((flags & LC_OPF_TAKES_RESIDUAL) && (q = sole_reader(ex, fc, cur, true)) >= 0 &&
        (ex->steps[q].kernel->flags & LC_OPF_RESIDUAL_ADD) && ex->steps[q].args.n_in == 2) {
        const step *a = &ex->steps[q];
        int other = a->in_slots[0] == cur ? a->in_slots[1] : a->in_slots[0];
        const lc_value *r = other >= 0 ? &ex->slots[other].v : NULL;
        /* the residual must exist when the producer runs, and be a plain
         * same-shape float tensor (no broadcasting, no aliasing) */
        if (r && other != cur && is_float_value(r) && same_shape(r, &ex->slots[cur].v) &&
            same_shape(a->out[0], r) && fc->producer[other] < p) {
            add = q;
            residual = other;
            cur = a->out_slots[0];
        }
    }
    if ((q = sole_reader(ex, fc, cur, false)) >= 0) {
        const step *a = &ex->steps[q];
        if (hooks(a)->as_epilogue && is_float_value(a->in[0]) && is_float_value(a->out[0]) &&
            hooks(a)->as_epilogue(&a->args, &e)) {
            act = q;
            cur = a->out_slots[0];
        }
    }
    if (affine < 0 && add < 0 && act < 0) return LC_OK;
    if (affine >= 0) {
        if (st->args.n_in < 3) {
            /* the folded bias becomes input 2 */
            const lc_value **in = realloc(st->in, 3 * sizeof *in);
            int *slots = in ? realloc(st->in_slots, 3 * sizeof *slots) : NULL;
            if (in) st->in = in;
            if (!in || !slots) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            st->in_slots = slots;
            st->args.n_in = 3;
            st->args.in = st->in;
        }
        st->in[1] = &st->fw;
        st->in[2] = &st->fb;
        /* the original weights are no longer read by this step */
        st->in_slots[1] = -1;
        st->in_slots[2] = -1;
    }
    if (residual >= 0) {
        e.residual = true;
        if ((s = add_residual_input(ex, st, residual))) return s;
    }
    if ((s = hooks(st)->set_epilogue(st->args.state, &e))) return s;
    const int merged[3] = {affine, add, act};
    for (int i = 0; i < 3; i++)
        if (merged[i] >= 0) {
            ex->steps[merged[i]].removed = true;
            ex->n_fused++;
        }
    st->out_slots[0] = cur;
    st->out[0] = &ex->slots[cur].v;
    return LC_OK;
}

lc_status lc_exec_fuse(lc_executor *ex)
{
    fuse_ctx fc = {0};
    lc_status s = LC_OK;
    size_t ns = (size_t)(ex->n_slots ? ex->n_slots : 1);
    fc.n_reads = calloc(ns, sizeof *fc.n_reads);
    fc.reader = calloc(ns, sizeof *fc.reader);
    fc.producer = malloc(ns * sizeof *fc.producer);
    if (!fc.n_reads || !fc.reader || !fc.producer) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < ex->n_slots; i++) fc.producer[i] = -1;
    for (int p = 0; p < ex->n_steps; p++) {
        const step *st = &ex->steps[p];
        for (int i = 0; i < st->args.n_in + st->n_extra; i++) {
            int sl = i < st->args.n_in ? st->in_slots[i] : st->extra_slots[i - st->args.n_in];
            if (sl < 0) continue;
            fc.n_reads[sl]++;
            fc.reader[sl] = p;
        }
        for (int o = 0; o < st->args.n_out; o++)
            if (st->out_slots[o] >= 0) fc.producer[st->out_slots[o]] = p;
    }
    for (int p = 0; p < ex->n_steps && !s; p++)
        if (!ex->steps[p].removed && (s = fuse_at(ex, &fc, p)))
            s = lc_exec_node_fail(ex, s, ex->steps[p].node_index, ex->steps[p].node);
    if (s) goto done;
    /* drop the merged steps */
    int k = 0;
    for (int p = 0; p < ex->n_steps; p++) {
        if (ex->steps[p].removed) {
            lc_exec_step_clear(&ex->steps[p]);
            continue;
        }
        if (k != p) {
            ex->steps[k] = ex->steps[p];
            memset(&ex->steps[p], 0, sizeof ex->steps[p]);
        }
        k++;
    }
    ex->n_steps = k;
    /* the struct moved: re-point the fused weights and the args arrays */
    for (int p = 0; p < ex->n_steps; p++) {
        step *st = &ex->steps[p];
        if (st->fdata) {
            st->in[1] = &st->fw;
            st->in[2] = &st->fb;
        }
    }
done:
    free(fc.n_reads);
    free(fc.reader);
    free(fc.producer);
    return s;
}
