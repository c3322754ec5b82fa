/* The driver shared by RNN, GRU and LSTM (see lc_rnn.h): attributes,
 * input checks, the input projection, the time loop and the outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lc_index.h"
#include "lc_nn.h"
#include "lc_rnn.h"

enum {
    ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_AFFINE, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU, ACT_SCALEDTANH,
    ACT_HARDSIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
};

/* The activations ONNX lists for the recurrent ops, with the defaults
 * ONNX Runtime uses when activation_alpha/beta run out. */
static const struct {
    const char *name;
    int kind;
    bool has_alpha, has_beta;
    float alpha, beta;
} acts[] = {
    {"Relu", ACT_RELU, false, false, 0, 0},
    {"Tanh", ACT_TANH, false, false, 0, 0},
    {"Sigmoid", ACT_SIGMOID, false, false, 0, 0},
    {"Affine", ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDEDRELU, true, false, 1.0f, 0},
    {"ScaledTanh", ACT_SCALEDTANH, true, true, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"Elu", ACT_ELU, true, false, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, false, false, 0, 0},
    {"Softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

float lc_rnn_act_apply(const lc_rnn_act *f, float x)
{
    switch (f->kind) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_TANH: return tanhf(x);
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_AFFINE: return f->alpha * x + f->beta;
    case ACT_LEAKYRELU: return x >= 0 ? x : f->alpha * x;
    case ACT_THRESHOLDEDRELU: return x > f->alpha ? x : 0;
    case ACT_SCALEDTANH: return f->alpha * tanhf(f->beta * x);
    case ACT_HARDSIGMOID: return fmaxf(0.0f, fminf(1.0f, f->alpha * x + f->beta));
    case ACT_ELU: return x >= 0 ? x : f->alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    default: return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); /* Softplus */
    }
}

/* activations, activation_alpha and activation_beta: the list names one
 * direction's activations (repeated for the reverse one) or both; alpha
 * and beta values are taken in order by the activations that have them. */
static lc_status read_activations(const lc_node *node, int n_acts, int n_dir, const char *const *defaults, lc_rnn *r)
{
    const lc_attr *names = lc_node_attr(node, "activations");
    const lc_attr *al = lc_node_attr(node, "activation_alpha"), *be = lc_node_attr(node, "activation_beta");
    int n = names ? names->n : 0;
    if (n && n != n_acts && n != n_acts * n_dir)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "activations has %d names, expected %d per direction", n, n_acts);
    int ia = 0, ib = 0;
    for (int d = 0; d < n_dir; d++)
        for (int k = 0; k < n_acts; k++) {
            int idx = n == n_acts * n_dir ? d * n_acts + k : k;
            const char *nm = n ? names->strings[idx].data : defaults[k];
            size_t i = 0;
            while (i < sizeof acts / sizeof acts[0] && strcasecmp(acts[i].name, nm)) i++;
            if (i == sizeof acts / sizeof acts[0]) return lc_fail(LC_ERR_UNSUPPORTED, "activation '%s' is not supported", nm);
            lc_rnn_act *f = &r->act[d][k];
            f->kind = acts[i].kind;
            f->alpha = acts[i].alpha;
            f->beta = acts[i].beta;
            /* a repeated list re-reads the same values for the reverse direction */
            if (n && n == n_acts && k == 0 && d == 1) ia = ib = 0;
            if (acts[i].has_alpha && al && al->type == LC_ATTR_FLOATS && ia < al->n) f->alpha = al->floats[ia++];
            if (acts[i].has_beta && be && be->type == LC_ATTR_FLOATS && ib < be->n) f->beta = be->floats[ib++];
        }
    return LC_OK;
}

/* LC_ERR_SHAPE unless `v` (named `what`) is float with shape d0 x d1 [x d2]. */
static lc_status check_shape(const lc_value *v, const char *what, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    lc_status s = lc_nn_need_float(v, what);
    if (s) return s;
    int64_t want[3] = {d0, d1, d2};
    bool ok = v->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = v->dims[i] == want[i];
    if (!ok) {
        char w[64]; /* lc_dims_str has one buffer: format the wanted shape here */
        snprintf(w, sizeof w, ndim == 2 ? "%lldx%lld" : "%lldx%lldx%lld", (long long)d0, (long long)d1, (long long)d2);
        return lc_fail(LC_ERR_SHAPE, "input %s has shape [%s], expected [%s]", what, lc_dims_str(v->ndim, v->dims), w);
    }
    return LC_OK;
}

static const lc_value *opt_in(const lc_kernel_args *a, int i)
{
    return i < a->n_in ? a->in[i] : NULL;
}

/* Shape of a state tensor (initial_h/c, Y_h/c) in the node's layout. */
static lc_status check_state(const lc_rnn *r, const lc_value *v, const char *what)
{
    if (r->batch_first) return check_shape(v, what, 3, r->batch, r->n_dir, r->hidden);
    return check_shape(v, what, 3, r->n_dir, r->batch, r->hidden);
}

static lc_status parse(lc_kernel_args *a, int gates, bool has_c, int n_acts, const char *const *default_acts, lc_rnn *r)
{
    lc_status s;
    r->gates = gates;
    r->rb_gates = gates;
    r->has_c = has_c;
    r->n_acts = n_acts;
    if (a->n_in < 3 || !a->in[0] || !a->in[1] || !a->in[2])
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s needs inputs X, W and R", a->node->op_type);
    const lc_value *X = a->in[0], *W = a->in[1], *R = a->in[2];
    if ((s = lc_nn_need_float(X, "X"))) return s;
    const char *dir = lc_node_attr_string(a->node, "direction", "forward");
    if (!strcmp(dir, "bidirectional")) r->n_dir = 2;
    else if (!strcmp(dir, "forward") || !strcmp(dir, "reverse")) r->n_dir = 1, r->reverse = dir[0] == 'r';
    else return lc_fail(LC_ERR_INVALID_ARGUMENT, "direction '%s' is not forward, reverse or bidirectional", dir);
    int64_t layout = a->opset >= 14 ? lc_node_attr_int(a->node, "layout", 0) : 0;
    if (layout != 0 && layout != 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "layout %lld is not 0 or 1", (long long)layout);
    r->batch_first = layout == 1;
    if (X->ndim != 3) return lc_fail(LC_ERR_SHAPE, "input X has rank %d, expected 3", X->ndim);
    r->seq = X->dims[r->batch_first ? 1 : 0];
    r->batch = X->dims[r->batch_first ? 0 : 1];
    r->in = X->dims[2];
    r->hidden = lc_node_attr_int(a->node, "hidden_size", R->ndim == 3 ? R->dims[2] : 0);
    if (r->hidden <= 0 || r->hidden > (1 << 24))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "hidden_size %lld is out of range", (long long)r->hidden);
    int64_t H = r->hidden, GH = gates * H;
    if ((s = check_shape(W, "W", 3, r->n_dir, GH, r->in)) || (s = check_shape(R, "R", 3, r->n_dir, GH, H)))
        return s;
    const lc_value *B = opt_in(a, 3), *lens = opt_in(a, 4), *h0 = opt_in(a, 5);
    if (B && (s = check_shape(B, "B", 2, r->n_dir, 2 * GH, 0))) return s;
    if (lens) {
        if ((s = lc_x_need_index(lens, "sequence_lens"))) return s;
        if (lens->ndim != 1 || lens->dims[0] != r->batch)
            return lc_fail(LC_ERR_SHAPE, "input sequence_lens has shape [%s], expected [%lld]",
                           lc_dims_str(lens->ndim, lens->dims), (long long)r->batch);
    }
    if (h0 && (s = check_state(r, h0, "initial_h"))) return s;
    if (has_c) {
        const lc_value *c0 = opt_in(a, 6), *P = opt_in(a, 7);
        if (c0 && (s = check_state(r, c0, "initial_c"))) return s;
        if (P && (s = check_shape(P, "P", 2, r->n_dir, 3 * H, 0))) return s;
    }
    const lc_attr *clip = lc_node_attr(a->node, "clip");
    r->clip = clip ? clip->f : INFINITY;
    if (!(r->clip > 0)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "clip %g is not positive", (double)r->clip);
    if ((s = read_activations(a->node, n_acts, r->n_dir, default_acts, r))) return s;
    int64_t yd[4] = {r->seq, r->n_dir, r->batch, H}, hd[3] = {r->n_dir, r->batch, H};
    if (r->batch_first) {
        yd[0] = r->batch, yd[1] = r->seq, yd[2] = r->n_dir;
        hd[0] = r->batch, hd[1] = r->n_dir;
    }
    if (a->n_out > 0 && a->out[0] && (s = lc_value_set_shape(a->out[0], LC_DTYPE_FLOAT, 4, yd))) return s;
    for (int o = 1; o < (has_c ? 3 : 2); o++)
        if (a->n_out > o && a->out[o] && (s = lc_value_set_shape(a->out[o], LC_DTYPE_FLOAT, 3, hd))) return s;
    return LC_OK;
}

lc_status lc_rnn_prepare(lc_kernel_args *a, size_t state_size, int gates, bool has_c, int n_acts,
                         const char *const *default_acts)
{
    lc_rnn *r = calloc(1, state_size);
    if (!r) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = parse(a, gates, has_c, n_acts, default_acts, r);
    if (s) free(r);
    else a->state = r;
    return s;
}

const float *lc_rnn_R(const lc_rnn *r, const lc_kernel_args *a, int d)
{
    return (const float *)a->in[2]->data + (int64_t)d * r->gates * r->hidden * r->hidden;
}

const float *lc_rnn_B(const lc_rnn *r, const lc_kernel_args *a, int d)
{
    const lc_value *B = opt_in(a, 3);
    return B ? (const float *)B->data + (int64_t)d * 2 * r->gates * r->hidden : NULL;
}

void lc_rnn_recur(const lc_rnn *r, const float *R, int gate0, int n_gates, const float *h, float *hr, int64_t ld)
{
    int64_t H = r->hidden;
    lc_sgemm(false, true, r->batch, n_gates * H, H, 1.0f, h, H, R + gate0 * H * H, H, 0.0f, hr, ld);
}

/* Offset of (direction d, batch b) in a state tensor of the node's layout. */
static int64_t state_off(const lc_rnn *r, int d, int64_t b)
{
    return (r->batch_first ? b * r->n_dir + d : d * r->batch + b) * r->hidden;
}

/* xw = X * W_d^T + Wb_d + Rb_d (R bias for the first rb_gates gates). */
static void project_input(const lc_rnn *r, const lc_kernel_args *a, int d, float *xw)
{
    int64_t rows = r->seq * r->batch, GH = r->gates * r->hidden;
    const float *W = (const float *)a->in[1]->data + d * GH * r->in;
    if (r->in > 0) lc_sgemm(false, true, rows, GH, r->in, 1.0f, a->in[0]->data, r->in, W, r->in, 0.0f, xw, GH);
    else memset(xw, 0, (size_t)(rows * GH) * sizeof *xw);
    const float *B = lc_rnn_B(r, a, d);
    if (!B) return;
    int64_t rbn = r->rb_gates * r->hidden;
    for (int64_t i = 0; i < rows; i++) {
        float *x = xw + i * GH;
        for (int64_t j = 0; j < GH; j++) x[j] += B[j] + (j < rbn ? B[GH + j] : 0.0f);
    }
}

/* The initial state of direction d from input `slot`, or zeros. */
static void init_state(const lc_rnn *r, const lc_kernel_args *a, int slot, int d, float *st)
{
    const lc_value *v = opt_in(a, slot);
    int64_t H = r->hidden;
    for (int64_t b = 0; b < r->batch; b++) {
        if (v) memcpy(st + b * H, (const float *)v->data + state_off(r, d, b), (size_t)H * sizeof *st);
        else memset(st + b * H, 0, (size_t)H * sizeof *st);
    }
}

static void store_state(const lc_rnn *r, const lc_kernel_args *a, int slot, int d, const float *st)
{
    lc_value *v = a->n_out > slot ? a->out[slot] : NULL;
    if (!v) return;
    for (int64_t b = 0; b < r->batch; b++)
        memcpy((float *)v->data + state_off(r, d, b), st + b * r->hidden, (size_t)r->hidden * sizeof *st);
}

static lc_status read_lengths(const lc_rnn *r, const lc_kernel_args *a, int64_t *len)
{
    const lc_value *v = opt_in(a, 4);
    for (int64_t b = 0; b < r->batch; b++) {
        len[b] = v ? lc_x_index(v, b) : r->seq;
        if (len[b] < 0 || len[b] > r->seq)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "sequence_lens[%lld] is %lld, outside [0, %lld]", (long long)b,
                           (long long)len[b], (long long)r->seq);
    }
    return LC_OK;
}

lc_status lc_rnn_run(const lc_rnn *r, const lc_kernel_args *a, lc_rnn_cell_fn cell)
{
    int64_t H = r->hidden, GH = r->gates * H, S = r->seq, NB = r->batch;
    lc_value *Y = a->n_out > 0 ? a->out[0] : NULL;
    int64_t *len = malloc((size_t)(NB + 1) * sizeof *len);
    float *xw = malloc((size_t)(S * NB * GH + 1) * sizeof *xw);
    float *h = malloc((size_t)(NB * H + 1) * sizeof *h);
    float *c = r->has_c ? malloc((size_t)(NB * H + 1) * sizeof *c) : NULL;
    float *scratch = malloc((size_t)(NB * (r->gates + 1) * H + 1) * sizeof *scratch);
    const float **rows = malloc((size_t)(NB + 1) * sizeof *rows);
    int64_t *t_of = malloc((size_t)(NB + 1) * sizeof *t_of);
    lc_status s = LC_OK;
    if (!len || !xw || !h || (r->has_c && !c) || !scratch || !rows || !t_of) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory for a %lld-step sequence", (long long)S);
        goto done;
    }
    if ((s = read_lengths(r, a, len))) goto done;
    if (Y) memset(Y->data, 0, Y->nbytes);
    for (int d = 0; d < r->n_dir; d++) {
        bool rev = d == 1 || r->reverse;
        project_input(r, a, d, xw);
        init_state(r, a, 5, d, h);
        if (c) init_state(r, a, 6, d, c);
        for (int64_t step = 0; step < S; step++) {
            bool any = false;
            for (int64_t b = 0; b < NB; b++) {
                rows[b] = NULL;
                if (step >= len[b]) continue;
                int64_t t = rev ? len[b] - 1 - step : step;
                rows[b] = xw + (r->batch_first ? b * S + t : t * NB + b) * GH;
                t_of[b] = t;
                any = true;
            }
            if (!any) break; /* every sequence has ended */
            cell(r, a, d, rows, h, c, scratch);
            for (int64_t b = 0; Y && b < NB; b++) {
                if (!rows[b]) continue;
                int64_t t = t_of[b];
                int64_t off = r->batch_first ? ((b * S + t) * r->n_dir + d) * H : ((t * r->n_dir + d) * NB + b) * H;
                memcpy((float *)Y->data + off, h + b * H, (size_t)H * sizeof *h);
            }
        }
        store_state(r, a, 1, d, h);
        if (c) store_state(r, a, 2, d, c);
    }
done:
    free(len);
    free(xw);
    free(h);
    free(c);
    free(scratch);
    free(rows);
    free(t_of);
    return s;
}
