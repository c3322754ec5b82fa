/* quantize-int8: post-training int8 quantization, written as a QDQ ONNX
 * graph the way ONNX Runtime's quantizer writes it.
 *
 *   weights      symmetric int8 in [-127, 127], per output channel (default)
 *                or per tensor: s = max|w| / 127, q = round(w / s) (with
 *                reduce_range: [-63, 63] and 63, as ONNX Runtime advises for
 *                x86 without VNNI, where its fused u8 x s8 kernels add pairs
 *                of products in saturating 16-bit lanes); stored as
 *                an int8 initializer feeding DequantizeLinear (axis = the
 *                output-channel axis when per channel). A weight already
 *                on a uniform grid (UNIFORM encoding, e.g. prune-hessian
 *                with bits) keeps its integers: s = the grid step, q =
 *                code - zero point, so nothing is rounded twice.
 *   biases       int32, scale = input scale x weight scale (per channel),
 *                zero point 0, feeding DequantizeLinear (Conv,
 *                ConvTranspose, and Gemm with alpha = beta = 1).
 *   activations  asymmetric uint8 (or int8) per tensor from calibration:
 *                range [lo, hi] widened to hold 0, s = (hi - lo) / 255,
 *                zp = round(qmin - lo / s); QuantizeLinear + DequantizeLinear
 *                on every float input of a quantized node and on its output.
 *
 * Quantized nodes: the layers whose weights are selected (Conv,
 * ConvTranspose, Gemm, MatMul through ops/include/exclude); Add and Mul of
 * two activations, Concat, AveragePool and GlobalAveragePool, which get
 * their own output ranges; and the data-movement ops (MaxPool,
 * GlobalMaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Identity)
 * whose output shares its input's scale and zero point, so their QDQ pair
 * is lossless and a runtime can run them in 8 bits. A Relu after a
 * quantized node that nothing else reads is removed and the node's output
 * takes the Relu output's range: its zero point is qmin, so QuantizeLinear
 * clamps exactly as the Relu did. Graph outputs stay float (the logits are
 * never rounded to 8 bits, so arg-max ties cannot appear).
 *
 * Local damage check (local_snr, int8_guard.h): before anything is
 * written, each layer's kernel runs again on its calibration inputs with
 * only its weights, then only its input, rounded; a layer whose own output
 * that takes below local_snr dB keeps its weights float (weights the
 * cause) or its input float with int8 weights (the input the cause).
 *
 * Every rounding is round-half-to-even, in double from the float32 values
 * (scales are rounded to float32 first, as the stored value is what runtimes
 * use). fold-batchnorm runs first. A model below the opset the QDQ nodes
 * need (13 per channel, 10 per tensor) is upgraded first (libcompress/upgrade.h).
 *
 * The weights become int8 initializers, not float tensors with an encoding
 * (lc_encoding.h describes float views), so the .lcm writer stores them as
 * plain int8 bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8_calibrate.h"
#include "int8_fallback.h"
#include "int8_guard.h"
#include "int8_qdq.h"
#include "lc_encoding.h"
#include "lc_graph_edit.h"
#include "lc_pass.h"
#include "lc_strset.h"

static const lc_param_desc params[] = {
    {"granularity", LC_PARAM_ENUM, "channel", 0, 0, "channel|tensor", "weight scales per output channel or per tensor"},
    {"act_type", LC_PARAM_ENUM, "uint8", 0, 0, "uint8|int8", "activation type (asymmetric, per tensor)"},
    {"calib", LC_PARAM_ENUM, "minmax", 0, 0, "minmax|percentile|entropy|mse",
     "activation range: min/max, a percentile of |x|, KL divergence (TensorRT) or least squared error"},
    {"pct", LC_PARAM_FLOAT, "99.99", 50, 100, NULL, "percentile of |x| kept by calib=percentile"},
    {"bins", LC_PARAM_INT, "2048", 256, 65536, NULL, "histogram bins of |x| for percentile/entropy/mse"},
    {"reduce_range", LC_PARAM_BOOL, "false", 0, 0, NULL,
     "7-bit weights in [-63, 63], for int8 runtimes whose u8 x s8 products saturate in 16 bits (x86 without VNNI)"},
    {"weights_only", LC_PARAM_BOOL, "false", 0, 0, NULL,
     "quantize only the weights (DequantizeLinear after int8 weights); activations stay float"},
    {"fallback", LC_PARAM_INT, "0", 0, 128, NULL,
     "keep float the N layers whose quantization alone hurts the first output most on the calibration data "
     "(ranking costs one calibration run per layer); the knob a budget backs off"},
    {"local_snr", LC_PARAM_FLOAT, "30", 0, 100, NULL,
     "keep float a layer whose own output, with only its weights or only its input activation rounded, is below "
     "this SNR (dB) against float on the calibration data: noise amplifiers such as edge filters (0: off)"},
    LC_WEIGHT_PARAMS,
};

enum { CALIB_MINMAX, CALIB_PERCENTILE, CALIB_ENTROPY, CALIB_MSE };

/* An activation whose nonzero values mostly (this fraction or more) round to
 * the zero point at 8 bits stays float: a power spectrum or a variance,
 * whose small values matter as much as the large ones, measured 92% on
 * openWakeWord's mel front end, against at most 51% (most under 20%) for
 * the other activations of the corpus. */
#define SMALL_FRACTION 0.8
enum { MAG_BIAS = 160, MAG_BINS = 320 };

/* ---- op classes ---- */

static const char *const own_ops[] = {"Add", "AveragePool", "Concat", "GlobalAveragePool", "Mul", "Relu"};
static const char *const direct_ops[] = {"Flatten",  "GlobalMaxPool", "Identity",  "MaxPool",
                                         "Reshape",  "Squeeze",       "Transpose", "Unsqueeze"};
static bool in_table(const char *const *t, size_t n, const char *op)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i], op)) return true;
    return false;
}
#define IN(t, op) in_table(t, sizeof t / sizeof *t, op)

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

/* ---- activations ---- */

typedef struct act {
    char *name;          /* own copy (graph strings change during edits) */
    int link;            /* index of the act whose parameters it shares, or -1 */
    int first_reader;    /* graph inputs: node whose input is observed; -1 */
    bool wanted;         /* gets a QDQ pair */
    bool bad;            /* not float32 at run time: left alone */
    bool seen;
    double min, max, absmax;
    int64_t nonzero;     /* nonzero values seen, and their count by */
    int64_t *mag;        /* binary exponent (frexp) + MAG_BIAS */
    double *hist;
    float scale;
    int zp;
} act;

typedef struct plan {
    lc_model *m;
    act *a;
    int n, cap;
    lc_strset index;     /* name -> act index + 1 */
    int calib, bins, pass; /* pass 0: ranges, 1: histograms */
    bool s8;
    int qmin, qmax;
} plan;

static int act_find(const plan *pl, const char *name)
{
    return (int)(intptr_t)lc_strset_get(&pl->index, name) - 1;
}

/* The act for `name`, created if new. */
static lc_status act_get(plan *pl, const char *name, int *out)
{
    int i = act_find(pl, name);
    if (i >= 0) {
        *out = i;
        return LC_OK;
    }
    lc_status s = lc_vec_reserve((void **)&pl->a, &pl->cap, pl->n + 1, sizeof *pl->a);
    if (s) return s;
    char *copy = lc_strdup(name);
    if (!copy) return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    pl->a[pl->n] = (act){.name = copy, .link = -1, .first_reader = -1, .min = INFINITY, .max = -INFINITY,
                         .mag = calloc(MAG_BINS, sizeof(int64_t))};
    if (!pl->a[pl->n].mag) {
        free(copy);
        return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    }
    if ((s = lc_strset_add(&pl->index, copy, (void *)(intptr_t)(pl->n + 1), NULL))) {
        free(pl->a[pl->n].mag);
        free(copy);
        return s;
    }
    *out = pl->n++;
    return LC_OK;
}

static int act_root(const plan *pl, int i)
{
    for (int guard = 0; pl->a[i].link >= 0 && guard < pl->n; guard++) i = pl->a[i].link;
    return i;
}

static void observe_value(plan *pl, act *a, const lc_value *v)
{
    if (v->dtype != LC_DTYPE_FLOAT) {
        a->bad = true;
        return;
    }
    const float *x = v->data;
    int64_t n = lc_value_numel(v);
    a->seen = true;
    if (pl->pass == 0) {
        double lo = a->min, hi = a->max;
        for (int64_t i = 0; i < n; i++) {
            double y = x[i];
            if (y < lo) lo = y;
            if (y > hi) hi = y;
        }
        a->min = lo, a->max = hi;
        for (int64_t i = 0; a->mag && i < n; i++) {
            if (x[i] == 0 || !isfinite(x[i])) continue;
            int e;
            frexp(x[i], &e);
            a->mag[e + MAG_BIAS < 0 ? 0 : e + MAG_BIAS >= MAG_BINS ? MAG_BINS - 1 : e + MAG_BIAS]++;
            a->nonzero++;
        }
        a->absmax = fmax(fabs(lo), fabs(hi));
    } else {
        for (int64_t i = 0; i < n; i++) a->hist[lc_int8_hist_bin(fabs((double)x[i]), a->absmax, pl->bins)] += 1;
    }
}

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                         int n_out, const lc_value *const *out)
{
    (void)node;
    plan *pl = user;
    for (int k = 0; k < n_out; k++) {
        if (!out[k]) continue;
        int i = act_find(pl, out[k]->name);
        if (i >= 0 && pl->a[i].link < 0) observe_value(pl, &pl->a[i], out[k]);
    }
    for (int k = 0; k < n_in; k++) {
        if (!in[k]) continue;
        int i = act_find(pl, in[k]->name);
        if (i < 0 || pl->a[i].first_reader != node_index || pl->a[i].link >= 0) continue;
        bool dup = false; /* a node reading the same input twice counts once */
        for (int j = 0; j < k; j++) dup |= in[j] && !strcmp(in[j]->name, in[k]->name);
        if (!dup) observe_value(pl, &pl->a[i], in[k]);
    }
    return LC_OK;
}

/* Scale and zero point of the range [lo, hi] (widened to hold 0). */
static void act_params(const plan *pl, double lo, double hi, float *scale, int *zp)
{
    float rmin = (float)fmin(lo, 0.0), rmax = (float)fmax(hi, 0.0);
    if (!(rmax > rmin)) {
        *scale = 1.0f;
        *zp = pl->qmin;
        return;
    }
    *scale = (float)(((double)rmax - (double)rmin) / (pl->qmax - pl->qmin));
    double z = nearbyint(pl->qmin - (double)rmin / *scale);
    *zp = (int)fmin(fmax(z, pl->qmin), pl->qmax);
}

static lc_status choose_range(plan *pl, act *a, const lc_params *p)
{
    lc_status st = LC_OK;
    double lo = a->min, hi = a->max;
    if (pl->calib != CALIB_MINMAX && a->absmax > 0) {
        int k = pl->bins;
        /* one-sided data has qmax - qmin steps on its side, signed data
         * about half of them */
        bool one_sided = a->min >= 0;
        int levels = pl->qmax - pl->qmin;
        if (pl->calib == CALIB_PERCENTILE) k = lc_int8_percentile_edge(a->hist, pl->bins, lc_params_num(p, "pct"));
        else if (pl->calib == CALIB_ENTROPY)
            k = lc_int8_entropy_edge(a->hist, pl->bins, one_sided ? levels + 1 : (levels + 1) / 2, NULL, &st);
        else
            k = lc_int8_mse_edge(a->hist, pl->bins, a->absmax, fmin(a->min, 0), fmax(a->max, 0), levels);
        if (st) return st;
        double t = k * (a->absmax / pl->bins);
        lo = fmax(-t, a->min);
        hi = fmin(t, a->max);
    }
    act_params(pl, lo, hi, &a->scale, &a->zp);
    return LC_OK;
}

/* Whether SMALL_FRACTION of the nonzero values are below half a step of
 * the chosen scale (whole exponent bins only: a lower bound). */
static bool mostly_below_step(const act *a)
{
    if (!a->mag || a->nonzero == 0) return false;
    int64_t small = 0;
    for (int b = 0; b < MAG_BINS; b++)
        if (ldexp(1.0, b - MAG_BIAS) <= 0.5 * a->scale) small += a->mag[b]; /* bin b holds [2^(e-1), 2^e) */
    return (double)small >= SMALL_FRACTION * (double)a->nonzero;
}

/* ---- planning ---- */

static bool is_const(const lc_graph *g, const char *v)
{
    if (lc_graph_is_input(g, v)) return false;
    if (lc_graph_init(g, v)) return true;
    int p = lc_graph_producer(g, v);
    return p >= 0 && !strcmp(g->nodes[p]->op_type, "Constant");
}

typedef enum { Q_NONE, Q_LAYER, Q_OWN, Q_DIRECT } qclass;

static qclass classify(const lc_graph *g, const lc_node *n, const bool *is_target_layer, int i)
{
    if (!default_domain(n) || n->n_outputs < 1 || !*n->outputs[0]) return Q_NONE;
    if (is_target_layer[i]) return Q_LAYER;
    if (IN(own_ops, n->op_type)) {
        /* Add/Mul/Concat with a constant operand stay float */
        for (int k = 0; k < n->n_inputs; k++)
            if (!*n->inputs[k] || is_const(g, n->inputs[k])) return Q_NONE;
        return n->n_inputs >= 1 ? Q_OWN : Q_NONE;
    }
    if (IN(direct_ops, n->op_type) && n->n_inputs >= 1 && !is_const(g, n->inputs[0])) return Q_DIRECT;
    return Q_NONE;
}

/* Which inputs of a quantized node carry activations. */
static int act_inputs(const lc_node *n, qclass c)
{
    if (c == Q_LAYER || c == Q_DIRECT) return 1;
    return n->n_inputs;
}

/* Whether a quantized node reads `v` as an activation. An output that only
 * float ops read stays float: rounding it to 8 bits would gain no int8
 * kernel and can cost most of the accuracy (a power spectrum before Log,
 * where the small values matter relatively as much as the large ones). */
static bool quantized_reader(const lc_graph *g, const qclass *cls, const char *v)
{
    for (int j = 0; j < g->n_nodes; j++) {
        const lc_node *r = g->nodes[j];
        if (cls[j] == Q_NONE) continue;
        for (int k = 0; k < act_inputs(r, cls[j]) && k < r->n_inputs; k++)
            if (!strcmp(r->inputs[k], v)) return true;
    }
    return false;
}

/* ---- weights ---- */

typedef struct wq {
    float *scale;        /* channels entries */
    int64_t channels;
    int axis;            /* -1 per tensor */
    char *dq_name;       /* output of the weight's DequantizeLinear */
} wq;

/* Quantizes one weight, held by value `value` of graph g: the int8
 * initializer, scale, zero point and the DequantizeLinear node (prepended
 * at *pos). Their names start with the value's (a Constant node's tensor
 * has no name of its own) and are unique in the whole model (root), so
 * that no subgraph repeats a name of the main graph. */
static lc_status quantize_weight(const lc_graph *root, lc_graph *g, const char *value, lc_tensor *w, int axis,
                                 bool per_channel, int wmax, int *pos, wq *out)
{
    lc_status s = LC_OK;
    char *qn = NULL, *sn = NULL, *zn = NULL, *dn = NULL, *buf = NULL;
    int8_t *q = NULL, *z = NULL;
    int64_t n = lc_tensor_numel(w), ch = per_channel ? w->dims[axis] : 1;
    out->scale = malloc((size_t)(ch ? ch : 1) * sizeof *out->scale);
    q = malloc((size_t)(n ? n : 1));
    z = calloc((size_t)(ch ? ch : 1), 1);
    size_t len = strlen(value) + 32;
    buf = malloc(len);
    if (!out->scale || !q || !z || !buf) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        goto done;
    }
    out->channels = ch;
    out->axis = per_channel ? axis : -1;
    lc_int8_round_weight(w, axis, per_channel, wmax, out->scale, q);
    snprintf(buf, len, "%s_quantized", value);
    if ((s = lc_graph_unique_name(root, buf, &qn))) goto done;
    if ((s = lc_graph_add_init(g, qn, LC_DTYPE_INT8, w->ndim, w->dims, q, NULL))) goto done;
    snprintf(buf, len, "%s_scale", value);
    if ((s = lc_graph_unique_name(root, buf, &sn))) goto done;
    if ((s = lc_graph_add_init(g, sn, LC_DTYPE_FLOAT, per_channel ? 1 : 0, &ch, out->scale, NULL))) goto done;
    snprintf(buf, len, "%s_zero_point", value);
    if ((s = lc_graph_unique_name(root, buf, &zn))) goto done;
    if ((s = lc_graph_add_init(g, zn, LC_DTYPE_INT8, per_channel ? 1 : 0, &ch, z, NULL))) goto done;
    snprintf(buf, len, "%s_DequantizeLinear_Output", value);
    if ((s = lc_graph_unique_name(root, buf, &dn))) goto done;
    snprintf(buf, len, "%s_DequantizeLinear", value);
    const char *in[3] = {qn, sn, zn};
    lc_node *node = lc_int8_qdq_node(root, "DequantizeLinear", buf, in, dn);
    if (!node) {
        s = LC_ERR_NO_MEMORY;
        goto done;
    }
    if (per_channel && (s = lc_node_set_attr_int(node, "axis", axis))) {
        lc_node_free(node);
        goto done;
    }
    if ((s = lc_graph_insert_node_take(g, (*pos)++, node))) goto done;
    out->dq_name = dn;
    dn = NULL;
done:
    free(qn);
    free(sn);
    free(zn);
    free(dn);
    free(buf);
    free(q);
    free(z);
    return s;
}

/* Replaces input 2 (the bias) of `node` by int32 codes with scale
 * s_in * s_w[c] through a DequantizeLinear inserted before the node. */
static lc_status quantize_bias(lc_graph *g, lc_node *node, float s_in, const wq *w, bool *done)
{
    *done = false;
    const char *bname = node->inputs[2];
    lc_tensor *b = lc_graph_is_input(g, bname) ? NULL : lc_graph_init(g, bname);
    if (!b || b->dtype != LC_DTYPE_FLOAT) return LC_OK;
    int64_t n = lc_tensor_numel(b);
    bool per_channel = w->axis >= 0;
    /* a grouped ConvTranspose's weight [C_in, C_out/group, ...] has one
     * scale per column j, shared by output channels j, j + C_out/group, ... */
    if (per_channel && n != w->channels && !(!strcmp(node->op_type, "ConvTranspose") && w->channels > 0 &&
                                             n % w->channels == 0))
        return LC_OK;
    if (!per_channel && n < 1) return LC_OK;
    lc_status s = LC_OK;
    int64_t sc_n = per_channel ? n : 1;
    float *sc = malloc((size_t)sc_n * sizeof *sc);
    int32_t *q = malloc((size_t)n * sizeof *q), *z = calloc((size_t)sc_n, sizeof *z);
    char *qn = NULL, *sn = NULL, *zn = NULL, *dn = NULL, *buf = NULL;
    size_t len = strlen(bname) + 32;
    buf = malloc(len);
    if (!sc || !q || !z || !buf) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        goto out;
    }
    for (int64_t c = 0; c < sc_n; c++) {
        sc[c] = (float)((double)s_in * (double)w->scale[per_channel ? c % w->channels : 0]);
        if (!(sc[c] > 0)) goto out; /* underflow: keep the float bias */
    }
    const float *v = b->data;
    for (int64_t i = 0; i < n; i++) {
        double r = nearbyint((double)v[i] / sc[per_channel ? i : 0]);
        q[i] = (int32_t)fmin(fmax(r, -2147483648.0), 2147483647.0);
    }
    snprintf(buf, len, "%s_quantized", bname);
    if ((s = lc_graph_unique_name(g, buf, &qn))) goto out;
    if ((s = lc_graph_add_init(g, qn, LC_DTYPE_INT32, b->ndim, b->dims, q, NULL))) goto out;
    snprintf(buf, len, "%s_scale", bname);
    if ((s = lc_graph_unique_name(g, buf, &sn))) goto out;
    if ((s = lc_graph_add_init(g, sn, LC_DTYPE_FLOAT, per_channel ? 1 : 0, &sc_n, sc, NULL))) goto out;
    snprintf(buf, len, "%s_zero_point", bname);
    if ((s = lc_graph_unique_name(g, buf, &zn))) goto out;
    if ((s = lc_graph_add_init(g, zn, LC_DTYPE_INT32, per_channel ? 1 : 0, &sc_n, z, NULL))) goto out;
    snprintf(buf, len, "%s_DequantizeLinear_Output", bname);
    if ((s = lc_graph_unique_name(g, buf, &dn))) goto out;
    snprintf(buf, len, "%s_DequantizeLinear", bname);
    const char *in[3] = {qn, sn, zn};
    lc_node *dq = lc_int8_qdq_node(g, "DequantizeLinear", buf, in, dn);
    if (!dq) {
        s = LC_ERR_NO_MEMORY;
        goto out;
    }
    if (per_channel && (s = lc_node_set_attr_int(dq, "axis", b->ndim - 1))) {
        lc_node_free(dq);
        goto out;
    }
    if ((s = lc_node_set_input(node, 2, dn))) {
        lc_node_free(dq);
        goto out;
    }
    if ((s = lc_graph_insert_node_take(g, lc_graph_node_index(g, node), dq))) goto out;
    *done = true;
out:
    free(sc);
    free(q);
    free(z);
    free(qn);
    free(sn);
    free(zn);
    free(dn);
    free(buf);
    return s;
}

/* ---- opset ---- */

/* QuantizeLinear/DequantizeLinear exist from opset 10; their per-channel
 * `axis` from 13. An older model is upgraded (lc_model_upgrade) to the
 * opset the chosen granularity needs. */
static lc_status ensure_opset(lc_model *m, const lc_context *ctx, bool per_channel)
{
    int64_t v = lc_model_opset(m, ""), need = per_channel ? 13 : 10;
    if (v >= need) return LC_OK;
    lc_status s = lc_model_upgrade(m, need);
    if (s)
        return lc_fail_prefix(s, "quantize-int8 (%s QDQ needs opset %lld)", per_channel ? "per-channel" : "per-tensor",
                              (long long)need);
    lc_log(ctx, "quantize-int8: upgraded the model from opset %lld to %lld", (long long)v, (long long)need);
    return LC_OK;
}

/* ---- the pass ---- */

/* The layer nodes: layer_w[i] = the index in tw of the weight node i reads
 * as a layer (every layer reading a selected weight tensor is a quantized
 * layer), -1 for other nodes and for the layers kept float. A layer whose
 * input stays float (x_float[k], may be NULL) is no quantized layer
 * (target false): its weight alone is quantized, as outside the main graph. */
static void find_layers(const lc_graph *g, const lc_weight *tw, int n_tw, const bool *keep_float, const bool *x_float,
                        bool *target, int *layer_w)
{
    for (int i = 0; i < g->n_nodes; i++) {
        layer_w[i] = -1;
        target[i] = false;
        const lc_node *n = g->nodes[i];
        for (int k = 0; k < n_tw && n->n_inputs > 1; k++)
            if (lc_weight_is_layer(&tw[k]) && !(keep_float && keep_float[k]) &&
                !strcmp(n->inputs[1], tw[k].node->inputs[1]) && !strcmp(n->op_type, tw[k].node->op_type))
                layer_w[i] = k, target[i] = !(x_float && x_float[k]);
    }
}

/* The class of every node. Data movement is quantized only on the way to a
 * quantized node (readers come later in the node order); Add, Mul, Concat,
 * pools and Relu only next to one (an input from it or a reader), so a
 * chain of float ops (a power spectrum built by Pow and Add, the
 * neighbours of layers kept float) stays float. */
static void plan_classes(const lc_graph *g, const bool *target, qclass *cls)
{
    int n_nodes = g->n_nodes;
    for (int i = 0; i < n_nodes; i++) cls[i] = classify(g, g->nodes[i], target, i);
    for (int i = n_nodes - 1; i >= 0; i--)
        if (cls[i] == Q_DIRECT && !quantized_reader(g, cls, g->nodes[i]->outputs[0])) cls[i] = Q_NONE;
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < n_nodes; i++) {
            const lc_node *n = g->nodes[i];
            if (cls[i] != Q_OWN || quantized_reader(g, cls, n->outputs[0])) continue;
            bool fed = false;
            for (int k = 0; k < n->n_inputs && !fed; k++) {
                int pi = *n->inputs[k] ? lc_graph_producer(g, n->inputs[k]) : -1;
                fed = pi >= 0 && cls[pi] != Q_NONE;
            }
            if (!fed) cls[i] = Q_NONE, changed = true;
        }
    }
}

/* Marks wanted the activations the quantized nodes read and write.
 * `create`: the planning run (creates them, links data movement to its
 * input); otherwise they exist from it (fewer quantized nodes read a
 * subset of them). */
static lc_status mark_acts(plan *pl, const lc_graph *g, const qclass *cls, bool create)
{
    lc_status s = LC_OK;
    for (int i = 0; i < pl->n; i++) pl->a[i].wanted = false;
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const lc_node *n = g->nodes[i];
        if (cls[i] == Q_NONE) continue;
        int ins = act_inputs(n, cls[i]), ai;
        for (int k = 0; k < ins && !s; k++) {
            const char *v = n->inputs[k];
            if (!*v || is_const(g, v)) continue;
            if (create) s = act_get(pl, v, &ai);
            else if ((ai = act_find(pl, v)) < 0) continue;
            if (s) break;
            pl->a[ai].wanted = true;
            if (create && lc_graph_producer(g, v) < 0 && pl->a[ai].first_reader < 0) pl->a[ai].first_reader = i;
        }
        if (s || lc_graph_is_output(g, n->outputs[0]) || !quantized_reader(g, cls, n->outputs[0])) continue;
        if (create) s = act_get(pl, n->outputs[0], &ai);
        else if ((ai = act_find(pl, n->outputs[0])) < 0) continue;
        if (s) break;
        pl->a[ai].wanted = true;
        if (create && cls[i] == Q_DIRECT) pl->a[ai].link = act_find(pl, n->inputs[0]);
    }
    return s;
}

typedef struct qrun {
    const lc_context *ctx;
    const lc_params *p;
    plan *pl;
    bool weights_only, per_channel;
    const char *cal;
    int n_small;
    bool *x_float;       /* per weight: its layer's input stays float (NULL: none) */
} qrun;

/* Writes the quantized model into `m` (the model after fold-batchnorm, as
 * planned) from the planned activation ranges; the layers of the weights
 * with keep_float[k] true (NULL: none) stay float. `log`: report what was
 * done. */
static lc_status apply(qrun *q, lc_model *m, const bool *keep_float, bool log)
{
    const lc_params *p = q->p;
    plan *plp = q->pl;
    const bool weights_only = q->weights_only, per_channel = q->per_channel;
    lc_weight *tw = NULL;
    wq *wqs = NULL;
    bool *target = NULL, *fold = NULL;
    int *layer_w = NULL;
    qclass *cls = NULL;
    lc_node **orig = NULL; /* the nodes before any edit (pointers stay valid) */
    int n_tw = 0, n_nodes = 0, n_acts = 0, n_bias = 0, n_relu = 0, n_alone = 0, n_wq = 0;
    lc_graph *g = m->graph;
    lc_status s = lc_weight_targets(m, p, &tw, &n_tw);
    if (s) return s;
    n_nodes = g->n_nodes;
    orig = malloc(((size_t)n_nodes + 1) * sizeof *orig);
    if (orig) memcpy(orig, g->nodes, (size_t)n_nodes * sizeof *orig);
    target = calloc((size_t)n_nodes + 1, sizeof *target);
    layer_w = malloc(((size_t)n_nodes + 1) * sizeof *layer_w);
    cls = calloc((size_t)n_nodes + 1, sizeof *cls);
    fold = calloc((size_t)n_nodes + 1, sizeof *fold);
    wqs = calloc((size_t)n_tw + 1, sizeof *wqs);
    if (!orig || !target || !layer_w || !cls || !fold || !wqs) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        goto done;
    }
    find_layers(g, tw, n_tw, keep_float, q->x_float, target, layer_w);

    if (!weights_only) {
        plan_classes(g, target, cls);
        if ((s = mark_acts(plp, g, cls, false))) goto done;
        /* Relu folding candidates: a Relu reading the own-range output of a
         * quantized node that nothing else reads */
        for (int i = 0; i < n_nodes; i++) {
            const lc_node *n = g->nodes[i];
            if (cls[i] != Q_OWN || strcmp(n->op_type, "Relu") || n->n_inputs != 1) continue;
            int pi = lc_graph_producer(g, n->inputs[0]);
            if (pi < 0 || (cls[pi] != Q_LAYER && cls[pi] != Q_OWN) || fold[pi]) continue;
            if (lc_graph_use_count(g, n->inputs[0]) != 1 || lc_graph_is_output(g, n->outputs[0])) continue;
            fold[i] = true;
        }
        /* a Relu folds only where its output gets a QuantizeLinear (not
         * when only float layers read it) whose zero point is qmin (so it
         * clamps negatives to 0) */
        for (int i = 0; i < n_nodes; i++) {
            if (!fold[i]) continue;
            int ri = act_find(plp, orig[i]->outputs[0]), xi = act_find(plp, orig[i]->inputs[0]);
            if (ri < 0 || xi < 0 || !plp->a[ri].wanted || plp->a[ri].bad || plp->a[xi].bad ||
                plp->a[ri].zp != plp->qmin)
                fold[i] = false;
            else plp->a[xi].wanted = false; /* the pre-Relu value disappears */
        }
    }

    /* weights (and their DequantizeLinear nodes, first in the graph that
     * holds the tensor: the weights of subgraphs and recurrent nodes are
     * quantized alone, their activations stay float) */
    int pos = 0; /* weight DequantizeLinear nodes go first, in order */
    for (int k = 0; k < n_tw && !s; k++) {
        if (keep_float && keep_float[k]) continue;
        lc_tensor *w = tw[k].tensor;
        lc_graph *home = tw[k].home;
        int sub_pos = 0;
        char *wname = lc_strdup(tw[k].value);
        if (!wname) {
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
            break;
        }
        n_alone += !lc_weight_is_layer(&tw[k]);
        n_wq++;
        s = quantize_weight(g, home, wname, w, tw[k].out_axis, per_channel,
                            lc_params_num(p, "reduce_range") != 0 ? 63 : 127, home == g ? &pos : &sub_pos, &wqs[k]);
        if (!s) s = lc_graph_rename_uses(home, wname, wqs[k].dq_name, NULL, false, NULL);
        free(wname);
    }
    if (!weights_only) {
        /* biases, from the input activation's scale */
        for (int i = 0; i < n_nodes && !s; i++) {
            if (cls[i] != Q_LAYER || layer_w[i] < 0) continue;
            lc_node *n = orig[i];
            if (n->n_inputs < 3 || !*n->inputs[2] || !strcmp(n->op_type, "MatMul")) continue;
            if (!strcmp(n->op_type, "Gemm") &&
                (lc_node_attr_float(n, "alpha", 1.0f) != 1.0f || lc_node_attr_float(n, "beta", 1.0f) != 1.0f))
                continue;
            int ai = act_find(plp, n->inputs[0]);
            if (ai < 0 || plp->a[ai].bad) continue;
            bool done = false;
            s = quantize_bias(g, n, plp->a[ai].scale, &wqs[layer_w[i]], &done);
            n_bias += done;
        }
        /* fold Relus: the producer takes over the Relu's output */
        for (int i = 0; i < n_nodes && !s; i++) {
            if (!fold[i]) continue;
            lc_node *r = orig[i];
            int pi = lc_graph_producer(g, r->inputs[0]);
            char *x = lc_strdup(r->inputs[0]);
            if (!x || pi < 0) {
                free(x);
                s = lc_fail(LC_ERR_INTERNAL, "quantize-int8: lost the producer of a Relu");
                break;
            }
            s = lc_node_set_output(g->nodes[pi], 0, r->outputs[0]);
            if (!s) {
                lc_graph_remove_node(g, lc_graph_node_index(g, r));
                lc_graph_drop_value_info(g, x);
                n_relu++;
            }
            free(x);
        }
        /* activations, in the order their producers run */
        for (int i = 0; i < plp->n && !s; i++) {
            act *a = &plp->a[i];
            if (!a->wanted || a->bad) continue;
            s = lc_int8_insert_qdq(g, a->name, a->scale, a->zp, plp->s8);
            n_acts++;
        }
    }
    for (int k = 0; k < n_tw && !s; k++)
        if (tw[k].home != g) s = lc_graph_prune_unused(tw[k].home, NULL);
    if (!s) s = lc_graph_prune_unused(g, NULL);
    if (!s && log)
        lc_log(q->ctx,
               "quantize-int8: %d weight(s) (%s; %d in subgraphs or recurrent nodes, weights only), %d bias(es), "
               "%d activation(s) (%s, %s; %d left float: most of their values would round to zero), %d Relu(s) folded",
               n_wq, per_channel ? "per channel" : "per tensor", n_alone, n_bias, n_acts, plp->s8 ? "int8" : "uint8",
               q->cal, q->n_small, n_relu);
done:
    for (int k = 0; k < n_tw && wqs; k++) {
        free(wqs[k].scale);
        free(wqs[k].dq_name);
    }
    free(wqs);
    free(tw);
    free(target);
    free(layer_w);
    free(cls);
    free(fold);
    free(orig);
    return s;
}

/* The local damage check (int8_guard.h): a layer whose own output the
 * rounding of its weight alone takes below min_db on the calibration data
 * stays float (keep_float[k]); one whose input activation's rounding alone
 * does keeps that input float and its weights int8 (q->x_float[k]). Both
 * are logged. */
static lc_status guard_layers(qrun *q, lc_model *m, const lc_weight *tw, int n_tw, const int *layer_w, double min_db,
                              bool *keep_float)
{
    const plan *pl = q->pl;
    const lc_graph *g = m->graph;
    int n = 0, wmax = lc_params_num(q->p, "reduce_range") != 0 ? 63 : 127;
    lc_int8_probe *pr = calloc((size_t)g->n_nodes + 1, sizeof *pr);
    float **wv = calloc((size_t)n_tw + 1, sizeof *wv);
    lc_status s = pr && wv ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    for (int i = 0; i < g->n_nodes && !s; i++) {
        int k = layer_w[i];
        if (k < 0 || keep_float[k]) continue;
        if (!wv[k]) s = lc_int8_dequantized_weight(tw[k].tensor, tw[k].out_axis, q->per_channel, wmax, &wv[k]);
        int ai = q->weights_only ? -1 : act_find(pl, g->nodes[i]->inputs[0]);
        pr[n++] = (lc_int8_probe){.node = i, .wq = wv[k], .x_quant = ai >= 0 && pl->a[ai].wanted && !pl->a[ai].bad,
                                  .x_scale = ai >= 0 ? pl->a[ai].scale : 1, .x_zp = ai >= 0 ? pl->a[ai].zp : 0};
    }
    if (!s) s = lc_int8_guard_measure(m, q->ctx, pr, n, pl->qmin, pl->qmax);
    for (int j = 0; j < n && !s; j++) {
        double dw = lc_int8_guard_db(&pr[j], false), dx = lc_int8_guard_db(&pr[j], true);
        int k = layer_w[pr[j].node];
        const lc_node *nd = g->nodes[pr[j].node];
        const char *name = nd->name && *nd->name ? nd->name : tw[k].value;
        if (dw < min_db && !keep_float[k]) {
            keep_float[k] = true;
            lc_log(q->ctx, "quantize-int8: layer '%s' stays float: its weights rounded alone leave its output at "
                   "%.1f dB SNR (input rounded alone: %.1f dB; local_snr %.0f)", name, dw, dx, min_db);
        } else if (dx < min_db && !keep_float[k] && !q->x_float[k]) {
            q->x_float[k] = true;
            lc_log(q->ctx, "quantize-int8: layer '%s' keeps its input float (weights int8): its input rounded alone "
                   "leaves its output at %.1f dB SNR (weights rounded alone: %.1f dB; local_snr %.0f)", name, dx, dw,
                   min_db);
        }
    }
    for (int k = 0; k < n_tw && wv; k++) free(wv[k]);
    free(wv);
    if (pr) lc_int8_guard_free(pr, n);
    free(pr);
    return s;
}

static lc_status build_variant(void *user, lc_model *m, const bool *keep_float)
{
    return apply(user, m, keep_float, false);
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    const char *cal = lc_params_str(p, "calib");
    plan pl = {.m = m, .bins = (int)lc_params_num(p, "bins")};
    qrun q = {.ctx = ctx, .p = p, .pl = &pl, .cal = cal};
    q.weights_only = lc_params_num(p, "weights_only") != 0;
    q.per_channel = !strcmp(lc_params_str(p, "granularity"), "channel");
    const int fallback = (int)lc_params_num(p, "fallback");
    pl.s8 = !strcmp(lc_params_str(p, "act_type"), "int8");
    pl.qmin = pl.s8 ? -128 : 0;
    pl.qmax = pl.s8 ? 127 : 255;
    pl.calib = !strcmp(cal, "percentile") ? CALIB_PERCENTILE
               : !strcmp(cal, "entropy")  ? CALIB_ENTROPY
               : !strcmp(cal, "mse")      ? CALIB_MSE
                                          : CALIB_MINMAX;
    lc_weight *tw = NULL;
    bool *target = NULL, *keep_float = NULL;
    int *layer_w = NULL;
    qclass *cls = NULL;
    int n_tw = 0, n_nodes = 0;
    lc_status s = LC_OK;
    lc_graph *g = m->graph;

    if (!q.weights_only && (!ctx || !ctx->calib))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "quantize-int8 needs calibration data (lc_context_set_calib), or weights_only=true");
    /* the upgrade first: leaving IR 3 turns initializers listed as inputs
     * into constants fold-batchnorm can fold */
    if ((s = ensure_opset(m, ctx, q.per_channel))) return s;
    if ((s = lc_pass_run(m, "fold-batchnorm", "", ctx))) return s;
    if ((s = lc_weight_targets(m, p, &tw, &n_tw))) return s;
    n_nodes = g->n_nodes;
    target = calloc((size_t)n_nodes + 1, sizeof *target);
    layer_w = malloc(((size_t)n_nodes + 1) * sizeof *layer_w);
    cls = calloc((size_t)n_nodes + 1, sizeof *cls);
    keep_float = calloc((size_t)n_tw + 1, sizeof *keep_float);
    q.x_float = calloc((size_t)n_tw + 1, sizeof *q.x_float);
    if (!target || !layer_w || !cls || !keep_float || !q.x_float) {
        s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        goto done;
    }
    find_layers(g, tw, n_tw, NULL, NULL, target, layer_w);

    if (!q.weights_only) {
        /* plan the activations of the model with every layer quantized (a
         * layer kept float needs a subset of them, with the same ranges) */
        plan_classes(g, target, cls);
        if ((s = mark_acts(&pl, g, cls, true))) goto done;
        /* calibrate: ranges, then (histogram calibrators) histograms */
        s = lc_calib_run(m, ctx, observe, &pl);
        if (!s && pl.calib != CALIB_MINMAX) {
            for (int i = 0; i < pl.n && !s; i++)
                if (pl.a[i].link < 0 && !(pl.a[i].hist = calloc((size_t)pl.bins, sizeof(double))))
                    s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
            pl.pass = 1;
            if (!s) s = lc_calib_run(m, ctx, observe, &pl);
        }
        for (int i = 0; i < pl.n && !s; i++) {
            act *a = &pl.a[i];
            if (a->link >= 0) continue;
            if (!a->seen) a->bad = true;
            if (!a->bad) s = choose_range(&pl, a, p);
            if (!s && !a->bad && mostly_below_step(a)) a->bad = true, q.n_small++;
        }
        for (int i = 0; i < pl.n && !s; i++) {
            act *a = &pl.a[i];
            int r = act_root(&pl, i);
            if (pl.a[r].bad) a->bad = true;
            a->scale = pl.a[r].scale;
            a->zp = pl.a[r].zp;
        }
    }
    const double local_snr = lc_params_num(p, "local_snr");
    if (!s && local_snr > 0 && ctx && ctx->calib)
        s = guard_layers(&q, m, tw, n_tw, layer_w, local_snr, keep_float);
    if (!s && fallback > 0) s = lc_int8_fallback_choose(m, ctx, tw, n_tw, fallback, build_variant, &q, keep_float);
    if (!s) s = apply(&q, m, keep_float, true);
done:
    for (int i = 0; i < pl.n; i++) {
        free(pl.a[i].hist);
        free(pl.a[i].mag);
        free(pl.a[i].name);
    }
    free(pl.a);
    lc_strset_clear(&pl.index);
    free(tw);
    free(target);
    free(layer_w);
    free(cls);
    free(keep_float);
    free(q.x_float);
    return s;
}

const lc_pass lc_pass_quantize_int8 = {
    .name = "quantize-int8",
    .summary = "int8 post-training quantization to a QDQ ONNX graph (weights per channel, calibrated activations)",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .knob = "fallback",
    .knob_safe = LC_SAFE_HIGH,
    .weight_pass = true,
    .run = run,
};
