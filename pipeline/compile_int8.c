/* shrink compile: QDQ patterns of quantize-int8 models -> integer kernels.
 *
 *   DQ(x_q) -> Conv/Gemm/MatMul(DQ(w_q), DQ(b_q)) -> [Relu] -> Q   int8 out
 *   DQ(x_q) -> Conv/Gemm/MatMul(...)                     (no Q)   float out
 *   DQ(a_q), DQ(b_q) -> Add -> Q;  DQ(x_q) -> GlobalAveragePool -> Q
 *   DQ(x_q) -> MaxPool                                   int8, same parameters
 * The arithmetic is TFLite's: int32 accumulators, per-channel fixed-point
 * multipliers (compile_int8 computes them here, on the host). Anything else
 * falls back to the float kernels (dequantizing inputs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"

lc_status cc_multiplier(double m, int32_t *mult, int32_t *shift, const char *what)
{
    if (!(m >= 0) || !isfinite(m)) return lc_fail(LC_ERR_UNSUPPORTED, "node '%s': invalid requantization scale", what);
    if (m == 0) {
        *mult = 0, *shift = 0;
        return LC_OK;
    }
    int e;
    double f = frexp(m, &e);
    int64_t q = (int64_t)llround(f * 2147483648.0);
    if (q == ((int64_t)1 << 31)) q /= 2, e++;
    if (e < -30) { /* too small to matter: the product rounds to 0 */
        *mult = 0, *shift = 0;
        return LC_OK;
    }
    if (e > 30) return lc_fail(LC_ERR_UNSUPPORTED, "node '%s': requantization scale %g is too large", what, m);
    *mult = (int32_t)q;
    *shift = e;
    return LC_OK;
}

static int producer(const cc_ctx *c, const char *name)
{
    for (int i = 0; i < c->g->n_nodes; i++)
        for (int k = 0; k < c->g->nodes[i]->n_outputs; k++)
            if (!strcmp(c->g->nodes[i]->outputs[k], name)) return i;
    return -1;
}

/* A constant DequantizeLinear: its quantized data, scales (1 or per
 * channel) and zero points must be constant; zero points all 0. */
typedef struct qconst {
    const lc_value *q, *scale;
} qconst;

static bool dq_const(const cc_ctx *c, const char *name, int dtype, qconst *out)
{
    int p = producer(c, name);
    if (p < 0 || strcmp(c->g->nodes[p]->op_type, "DequantizeLinear")) return false;
    const lc_node *n = c->g->nodes[p];
    const lc_value *q = cc_const(c, n->inputs[0]);
    if (!q || q->dtype != dtype) return false;
    const lc_value *s = cc_const(c, n->inputs[1]);
    if (!s || s->dtype != LC_DTYPE_FLOAT) return false;
    if (n->n_inputs > 2 && *n->inputs[2]) {
        const lc_value *z = cc_const(c, n->inputs[2]);
        if (!z) return false;
        int64_t nz = 1;
        for (int d = 0; d < z->ndim; d++) nz *= z->dims[d];
        size_t es = lc_dtype_size(z->dtype);
        for (int64_t k = 0; k < nz * (int64_t)es; k++)
            if (((const uint8_t *)z->data)[k]) return false;
    }
    out->q = q;
    out->scale = s;
    return true;
}

/* The sole QuantizeLinear (int8, per tensor) reading `value`, or -1. */
static int quantize_after(cc_ctx *c, const char *value, float *scale, int32_t *zp)
{
    int only;
    if (cc_consumers(c, value, &only) != 1 || only < 0) return -1;
    const lc_node *n = c->g->nodes[only];
    if (strcmp(n->op_type, "QuantizeLinear") || n->n_inputs < 3) return -1;
    const lc_value *s = cc_const(c, n->inputs[1]), *z = cc_const(c, n->inputs[2]);
    if (!s || !z || lc_value_numel(s) != 1 || lc_value_numel(z) != 1 ||
        (z->dtype != LC_DTYPE_INT8 && z->dtype != LC_DTYPE_UINT8))
        return -1;
    *scale = (float)lc_value_scalar(s);
    *zp = (int32_t)lc_value_scalar(z) - (z->dtype == LC_DTYPE_UINT8 ? 128 : 0); /* uint8 as int8 - 128 */
    return only;
}

static int i8_input(cc_ctx *c, const char *name)
{
    int v = cc_value_find(c, name);
    return v >= 0 && c->vals[v].kind == CV_I8 ? v : -1;
}

static lc_status new_out(cc_ctx *c, const char *name, int kind, float scale, int32_t zp, int *out)
{
    const lc_value *pv = lc_executor_value(c->ex, name);
    if (!pv) return lc_fail(LC_ERR_INTERNAL, "lc_model_compile: no planned shape for '%s'", name);
    int y = cc_value_new(c, name, kind, pv->ndim, pv->dims);
    if (y < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    c->vals[y].scale = scale;
    c->vals[y].zp = zp;
    *out = y;
    return LC_OK;
}

/* Conv, Gemm, MatMul with int8 input and int8 weights. */
static lc_status lower_qlinear(cc_ctx *c, int i, bool *handled)
{
    const lc_node *n = c->g->nodes[i];
    bool conv = !strcmp(n->op_type, "Conv"), gemm = !strcmp(n->op_type, "Gemm");
    int x = i8_input(c, n->inputs[0]);
    qconst w, b = {0};
    if (x < 0 || n->n_inputs < 2 || !dq_const(c, n->inputs[1], LC_DTYPE_INT8, &w)) return LC_OK;
    bool has_bias = n->n_inputs > 2 && *n->inputs[2];
    if (has_bias && !dq_const(c, n->inputs[2], LC_DTYPE_INT32, &b)) return LC_OK;
    if (gemm && (lc_node_attr_int(n, "transA", 0) || lc_node_attr_float(n, "alpha", 1.0f) != 1.0f ||
                 lc_node_attr_float(n, "beta", 1.0f) != 1.0f))
        return LC_OK;
    if (conv ? (w.q->ndim != 4 || c->vals[x].ndim != 4) : w.q->ndim != 2) return LC_OK;
    bool tb = gemm && lc_node_attr_int(n, "transB", 0);
    int64_t rows = conv || tb ? w.q->dims[0] : w.q->dims[1];
    int64_t numel = lc_value_numel(w.q), row_len = numel / rows;
    int64_t ns = lc_value_numel(w.scale);
    if (ns != 1 && ns != rows) return LC_OK;
    if (has_bias && lc_value_numel(b.q) != rows) return LC_OK;
    float sx = c->vals[x].scale;
    /* output: int8 through a following [Relu ->] QuantizeLinear, else float */
    float sy = 0;
    int32_t zy = 0, lo = -128;
    const char *out = n->outputs[0];
    int q = quantize_after(c, out, &sy, &zy), relu = -1, only;
    if (q < 0 && cc_consumers(c, out, &only) == 1 && only >= 0 && !strcmp(c->g->nodes[only]->op_type, "Relu")) {
        relu = only;
        q = quantize_after(c, c->g->nodes[only]->outputs[0], &sy, &zy);
        if (q < 0) return LC_OK;
        lo = zy;
    }
    *handled = true;
    int8_t *wr = malloc((size_t)numel);
    int64_t *bias = malloc(sizeof(int64_t) * (size_t)rows), *mult = malloc(sizeof(int64_t) * (size_t)rows);
    int64_t *shift = malloc(sizeof(int64_t) * (size_t)rows);
    float *deq = malloc(sizeof(float) * (size_t)rows);
    lc_status s = LC_OK;
    if (!wr || !bias || !mult || !shift || !deq) {
        s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
        goto done;
    }
    const int8_t *src = w.q->data;
    for (int64_t k = 0; k < numel; k++) {
        int64_t j = conv || tb ? k : (k % row_len) * rows + k / row_len;
        wr[k] = src[j];
    }
    for (int64_t r = 0; r < rows; r++) {
        float sw = ((const float *)w.scale->data)[ns == 1 ? 0 : r];
        double acc_scale = (double)sx * sw;
        deq[r] = (float)acc_scale;
        bias[r] = 0;
        if (has_bias) {
            int64_t nb = lc_value_numel(b.scale);
            float sb = ((const float *)b.scale->data)[nb == 1 ? 0 : r];
            int32_t bq = ((const int32_t *)b.q->data)[r];
            bias[r] = fabs(sb - acc_scale) <= 1e-6 * acc_scale ? bq : llround((double)bq * sb / acc_scale);
        }
        int32_t m32 = 0, s32 = 0;
        if (q >= 0 && (s = cc_multiplier(acc_scale / sy, &m32, &s32, n->name)) != LC_OK) goto done;
        mult[r] = m32, shift[r] = s32;
    }
    cc_wmat wm = {0};
    wm.rows = rows;
    wm.row_len = row_len;
    wm.i8 = wr;
    wm.entropy = true;
    char wn[32], bn[32] = "NULL", mn[32] = "NULL", sn[32] = "NULL", dn[32] = "NULL", ln[32];
    if ((s = cc_emit_weights(c, &wm, wn)) != LC_OK) goto done;
    if (has_bias) cc_emit_ints(c, "B", "int32_t", bias, rows, bn);
    if (q >= 0) {
        cc_emit_ints(c, "M", "int32_t", mult, rows, mn);
        cc_emit_ints(c, "R", "int8_t", shift, rows, sn);
    } else {
        cc_emit_floats(c, "D", deq, rows, dn);
    }
    int y;
    const char *yname = q >= 0 ? c->g->nodes[q]->outputs[0] : out;
    if ((s = new_out(c, yname, q >= 0 ? CV_I8 : CV_F32, sy, zy, &y)) != LC_OK) goto done;
    if (q >= 0) c->done[q] = true;
    if (relu >= 0) c->done[relu] = true;
    cc_sym(c, "L", ln);
    const cc_value *xv = &c->vals[x], *yv = &c->vals[y];
    size_t scratch, in_place_scratch = 0;
    bool in_place = false;
    char pw_call[96] = "";
    if (conv) {
        int64_t kernel[2] = {w.q->dims[2], w.q->dims[3]};
        cc_window win;
        cc_window_of(c, n, xv, kernel, &win);
        const int64_t *st = win.st, *dl = win.dl, *pads = win.p;
        if (xv->dims[1] > 65535 || xv->dims[2] > 65535 || xv->dims[3] > 65535 || rows > 65535 ||
            w.q->dims[2] > 255 || w.q->dims[3] > 255 || pads[0] > 255 || pads[1] > 255 || st[0] > 255 ||
            st[1] > 255 || dl[0] > 255 || dl[1] > 255) {
            s = lc_fail(LC_ERR_UNSUPPORTED, "node '%s' (Conv): a size micro/ cannot take", n->name);
            goto done;
        }
        cc_printf(&c->data,
                  "static const mc_qconv %s = {{%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
                  "%lld, %lld, %lld}, %d, %d, %d, 127, %s, %s, %s, %s, &%s};\n",
                  ln, (long long)xv->dims[1], (long long)xv->dims[2], (long long)xv->dims[3], (long long)rows,
                  (long long)yv->dims[2], (long long)yv->dims[3], (long long)lc_node_attr_int(n, "group", 1),
                  (long long)w.q->dims[2], (long long)w.q->dims[3], (long long)st[0], (long long)st[1],
                  (long long)dl[0], (long long)dl[1], (long long)pads[0], (long long)pads[1], (int)xv->zp, (int)zy,
                  (int)lo, bn, mn, sn, dn, wn);
        scratch = 4 * (size_t)yv->dims[3] + (size_t)row_len;
        /* the in-place kernels of micro/ (mc_qconv_i8 depthwise, mc_qconv_pw_i8) */
        int64_t groups = lc_node_attr_int(n, "group", 1), cin = xv->dims[1];
        bool depthwise = groups == cin && rows == cin && yv->dims[2] * yv->dims[3] <= xv->dims[2] * xv->dims[3];
        bool pointwise = groups == 1 && rows <= cin && w.q->dims[2] == 1 && w.q->dims[3] == 1 && st[0] == 1 &&
                         st[1] == 1 && !pads[0] && !pads[1] && !pads[2] && !pads[3] && yv->dims[2] == xv->dims[2] &&
                         yv->dims[3] == xv->dims[3];
        if (q >= 0 && (depthwise || pointwise)) {
            in_place = true;
            if (!depthwise) /* y named too, as in the general call: no unused variable */
                snprintf(pw_call, sizeof pw_call, "mc_qconv_pw_i8(&%s, (int8_t *)v%d, (int8_t *)s); (void)v%d;", ln, x, y);
            in_place_scratch = scratch + (size_t)(depthwise ? xv->dims[2] * xv->dims[3] : rows * yv->dims[3]);
        }
    } else {
        int64_t m = xv->numel / row_len;
        cc_printf(&c->data, "static const mc_qdense %s = {%lld, %lld, %lld, %d, %d, %d, 127, %s, %s, %s, %s, &%s};\n", ln,
                  (long long)m, (long long)row_len, (long long)rows, (int)xv->zp, (int)zy, (int)lo, bn, mn, sn, dn, wn);
        scratch = m > 1 ? (size_t)row_len : 0;
    }
    c->int8 = true;
    if (q >= 0)
        s = cc_step_add(c, y, scratch, &x, 1, "mc_q%s_i8(&%s, (const int8_t *)v%d, (int8_t *)v%d, NULL, (int8_t *)s);",
                        conv ? "conv" : "dense", ln, x, y);
    else
        s = cc_step_add(c, y, scratch, &x, 1, "mc_q%s_i8(&%s, (const int8_t *)v%d, NULL, (float *)v%d, (int8_t *)s);",
                        conv ? "conv" : "dense", ln, x, y);
    if (s == LC_OK && in_place) {
        cc_step *st = &c->steps[c->n_steps - 1];
        st->may_run_in_place = true;
        st->in_place_scratch = in_place_scratch;
        if (*pw_call && !(st->in_place_call = lc_strdup(pw_call)))
            s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    }
done:
    free(wr), free(bias), free(mult), free(shift), free(deq);
    return s;
}

static lc_status lower_qadd(cc_ctx *c, int i, bool *handled)
{
    const lc_node *n = c->g->nodes[i];
    int a = i8_input(c, n->inputs[0]), b = i8_input(c, n->inputs[1]);
    float sy;
    int32_t zy;
    if (a < 0 || b < 0 || c->vals[a].numel != c->vals[b].numel) return LC_OK;
    int q = quantize_after(c, n->outputs[0], &sy, &zy);
    if (q < 0) return LC_OK;
    *handled = true;
    const cc_value ac = c->vals[a], bc = c->vals[b], *av = &ac, *bv = &bc; /* new_out may move the values */
    double twice = 2.0 * fmax(av->scale, bv->scale);
    int32_t am, as, bm, bs, ym, ys;
    lc_status s;
    if ((s = cc_multiplier(av->scale / twice, &am, &as, n->name)) != LC_OK ||
        (s = cc_multiplier(bv->scale / twice, &bm, &bs, n->name)) != LC_OK ||
        (s = cc_multiplier(twice / ((double)(1 << 20) * sy), &ym, &ys, n->name)) != LC_OK)
        return s;
    int y;
    if ((s = new_out(c, c->g->nodes[q]->outputs[0], CV_I8, sy, zy, &y)) != LC_OK) return s;
    c->done[q] = true;
    char ln[32];
    cc_sym(c, "L", ln);
    cc_printf(&c->data, "static const mc_qadd %s = {%d, %d, %d, -128, 127, %ld, %ld, %ld, %ld, %ld, %ld};\n", ln,
              (int)av->zp, (int)bv->zp, (int)zy, (long)am, (long)as, (long)bm, (long)bs, (long)ym, (long)ys);
    int ab[2] = {a, b};
    c->int8 = true;
    return cc_step_add(c, y, 0, ab, 2, "mc_qadd_i8(&%s, (const int8_t *)v%d, (const int8_t *)v%d, (int8_t *)v%d, %lldu);",
                       ln, a, b, y, (long long)av->numel);
}

static lc_status lower_qpool(cc_ctx *c, int i, bool *handled)
{
    const lc_node *n = c->g->nodes[i];
    int x = i8_input(c, n->inputs[0]), y;
    if (x < 0) return LC_OK;
    lc_status s;
    const cc_value *xv = &c->vals[x];
    if (!strcmp(n->op_type, "MaxPool")) {
        if (n->n_outputs > 1 && *n->outputs[1]) return LC_OK;
        *handled = true;
        char ln[32];
        if ((s = cc_pool_params(c, n, xv, ln)) != LC_OK) return s;
        if ((s = new_out(c, n->outputs[0], CV_I8, c->vals[x].scale, c->vals[x].zp, &y)) != LC_OK) return s;
        c->int8 = true;
        return cc_step_add(c, y, 0, &x, 1, "mc_maxpool_i8(&%s, (const int8_t *)v%d, (int8_t *)v%d);", ln, x, y);
    }
    float sy;
    int32_t zy, m, sh;
    int q = quantize_after(c, n->outputs[0], &sy, &zy);
    if (q < 0 || xv->ndim < 3) return LC_OK;
    *handled = true;
    int64_t ch = xv->dims[1], inner = xv->numel / ch;
    if ((s = cc_multiplier((double)xv->scale / ((double)sy * (double)inner), &m, &sh, n->name)) != LC_OK) return s;
    if ((s = new_out(c, c->g->nodes[q]->outputs[0], CV_I8, sy, zy, &y)) != LC_OK) return s;
    c->done[q] = true;
    c->int8 = true;
    return cc_step_add(c, y, 0, &x, 1, "mc_gap_i8((const int8_t *)v%d, (int8_t *)v%d, %lldu, %lldu, %d, %ld, %ld, %d);",
                       x, y, (long long)ch, (long long)inner, (int)c->vals[x].zp, (long)m, (long)sh, (int)zy);
}

lc_status cc_lower_int8(cc_ctx *c, int i, bool *handled)
{
    const char *op = c->g->nodes[i]->op_type;
    *handled = false;
    lc_status s = LC_OK;
    if (!strcmp(op, "Conv") || !strcmp(op, "Gemm") || !strcmp(op, "MatMul")) s = lower_qlinear(c, i, handled);
    else if (!strcmp(op, "Add")) s = lower_qadd(c, i, handled);
    else if (!strcmp(op, "MaxPool") || !strcmp(op, "GlobalAveragePool")) s = lower_qpool(c, i, handled);
    if (*handled) c->done[i] = true;
    return s;
}
