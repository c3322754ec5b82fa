/* shrink compile: ONNX nodes -> micro/ float kernel calls. BatchNormalization
 * and activations are folded into the Conv/Gemm that produces their input
 * when nothing else reads it; shape-only ops become aliases. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "lc_encoding.h"

void cc_printf(cc_buf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->n + (size_t)k) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

void cc_buf_free(cc_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void cc_sym(cc_ctx *c, const char *prefix, char *out)
{
    snprintf(out, 32, "%s%d", prefix, c->n_syms++);
}

/* A float as an exact C literal. */
static void flit(char *out, float x)
{
    if (isinf(x)) x = x > 0 ? FLT_MAX : -FLT_MAX;
    snprintf(out, 40, "%af", (double)x);
}

void cc_emit_floats(cc_ctx *c, const char *prefix, const float *x, int64_t n, char *name)
{
    if (n <= 0 || !x) {
        strcpy(name, "NULL");
        return;
    }
    cc_sym(c, prefix, name);
    cc_printf(&c->data, "static const float %s[%lld] = {", name, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        char f[40];
        flit(f, x[i]);
        cc_printf(&c->data, "%s%s,", i % 6 ? " " : "\n    ", f);
    }
    cc_printf(&c->data, "\n};\n");
    c->weight_bytes += (size_t)n * 4;
}

void cc_emit_ints(cc_ctx *c, const char *prefix, const char *ctype, const int64_t *x, int64_t n, char *name)
{
    cc_sym(c, prefix, name);
    cc_printf(&c->data, "static const %s %s[%lld] = {", ctype, name, (long long)n);
    for (int64_t i = 0; i < n; i++) cc_printf(&c->data, "%s%lld,", i % 12 ? " " : "\n    ", (long long)x[i]);
    cc_printf(&c->data, "\n};\n");
    c->weight_bytes += (size_t)n * (strstr(ctype, "32") ? 4u : 1u);
}

int cc_value_new(cc_ctx *c, const char *name, int kind, int ndim, const int64_t *dims)
{
    if (lc_vec_reserve((void **)&c->vals, &c->cap_vals, c->n_vals + 1, sizeof *c->vals) != LC_OK) return -1;
    cc_value *v = &c->vals[c->n_vals];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->kind = kind;
    v->ndim = ndim;
    v->numel = 1;
    for (int d = 0; d < ndim; d++) v->dims[d] = dims[d], v->numel *= dims[d];
    v->base = c->n_vals;
    v->first = v->last = -1;
    v->f32_copy = -1;
    return c->n_vals++;
}

int cc_value_find(const cc_ctx *c, const char *name)
{
    for (int k = c->n_vals - 1; k >= 0; k--)
        if (c->vals[k].name && !strcmp(c->vals[k].name, name)) return k;
    return -1;
}

int cc_value_alias(cc_ctx *c, int v, const char *name, int ndim, const int64_t *dims)
{
    int a = cc_value_new(c, name, c->vals[v].kind, ndim, dims);
    if (a < 0) return -1;
    c->vals[a].base = c->vals[v].base;
    c->vals[a].scale = c->vals[v].scale;
    c->vals[a].zp = c->vals[v].zp;
    return a;
}

lc_status cc_step_add(cc_ctx *c, int write, size_t scratch, const int *reads, int n_reads, const char *fmt, ...)
{
    if (lc_vec_reserve((void **)&c->steps, &c->cap_steps, c->n_steps + 1, sizeof *c->steps) != LC_OK)
        return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    cc_step *s = &c->steps[c->n_steps];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *call = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (call) {
        va_start(ap, fmt);
        vsnprintf(call, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    s->reads = malloc(sizeof(int) * (size_t)(n_reads + 1));
    if (!call || !s->reads) {
        free(call);
        free(s->reads);
        return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    }
    s->call = call;
    for (int k = 0; k < n_reads; k++) s->reads[k] = reads[k], c->vals[reads[k]].used = true;
    s->n_reads = n_reads;
    s->write = write;
    if (write >= 0) c->vals[write].used = true;
    s->scratch = scratch;
    c->n_steps++;
    return LC_OK;
}

int cc_need_f32(cc_ctx *c, int v)
{
    if (c->vals[v].kind == CV_F32) return v;
    if (c->vals[v].f32_copy >= 0) return c->vals[v].f32_copy;
    int f = cc_value_new(c, NULL, CV_F32, c->vals[v].ndim, c->vals[v].dims);
    if (f < 0) return -1;
    char s[40];
    flit(s, c->vals[v].scale);
    if (cc_step_add(c, f, 0, &v, 1, "mc_dequantize((const int8_t *)v%d, (float *)v%d, %lldu, %s, %d);", v, f,
                    (long long)c->vals[v].numel, s, (int)c->vals[v].zp) != LC_OK)
        return -1;
    c->vals[v].f32_copy = f;
    c->float_kernels = true;
    return f;
}

const lc_value *cc_const(const cc_ctx *c, const char *name)
{
    if (!name || !*name) return NULL;
    const lc_value *v = lc_executor_value(c->ex, name);
    if (v && v->is_const && v->data) return v;
    /* folded constants no executed node reads have no planned value */
    lc_tensor *t = lc_graph_init(c->g, name);
    if (!t || !t->data) return NULL;
    /* a view of the initializer; callers hold a few at once, so a ring */
    static __thread lc_value ring[16];
    static __thread int next;
    lc_value *tv = &ring[next++ % 16];
    memset(tv, 0, sizeof *tv);
    tv->name = t->name;
    tv->dtype = t->dtype;
    tv->ndim = t->ndim;
    memcpy(tv->dims, t->dims, sizeof t->dims);
    tv->data = t->data;
    tv->nbytes = t->nbytes;
    tv->is_const = true;
    return tv;
}

int cc_consumers(const cc_ctx *c, const char *name, int *only_node)
{
    int n = 0;
    *only_node = -1;
    for (int i = 0; i < c->g->n_nodes; i++) {
        if (!c->needed[i]) continue;
        const lc_node *nd = c->g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (!strcmp(nd->inputs[k], name)) {
                n++;
                *only_node = i;
                break;
            }
    }
    for (int k = 0; k < c->g->n_outputs; k++)
        if (!strcmp(c->g->outputs[k].name, name)) n++, *only_node = -1;
    return n;
}

/* ---- weights as rows ---- */

static lc_status fail_node(const lc_node *n, lc_status s, const char *what)
{
    return lc_fail(s, "node '%s' (%s): %s", n->name ? n->name : "", n->op_type, what);
}

/* The constant float weight `name` as rows of row_len: transposed
 * ([K, N] -> [N, K]) when `transpose`; keeps its encoding when the
 * per-channel axis is the output axis (out_axis) or per tensor. */
static lc_status weight_rows(cc_ctx *c, const lc_node *n, const char *name, bool transpose, int out_axis,
                             char *wname)
{
    const lc_value *v = cc_const(c, name);
    if (!v || v->dtype != LC_DTYPE_FLOAT) return fail_node(n, LC_ERR_UNSUPPORTED, "the weight must be a float constant");
    const lc_tensor *t = lc_graph_init(c->g, name);
    const lc_encoding *e = t ? t->enc : NULL;
    int64_t numel = 1;
    for (int d = 0; d < v->ndim; d++) numel *= v->dims[d];
    int64_t rows = transpose ? v->dims[1] : v->dims[0], row_len = numel / (rows ? rows : 1);
    cc_wmat w = {0};
    w.rows = rows;
    w.row_len = row_len;
    w.kind = LC_ENC_DENSE;
    w.entropy = e && e->entropy_coded;
    bool keep = e && e->kind != LC_ENC_DENSE && (e->axis < 0 || e->axis == out_axis);
    float *f = malloc(sizeof(float) * (size_t)numel);
    uint8_t *codes = malloc((size_t)numel), *mask = malloc((size_t)numel);
    if (!f || !codes || !mask) {
        free(f), free(codes), free(mask);
        return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    }
    const float *src = v->data;
    for (int64_t i = 0; i < numel; i++) {
        int64_t j = transpose ? (i % row_len) * rows + i / row_len : i; /* source of row-major (n, k) */
        f[i] = src[j];
        codes[i] = e && e->codes ? e->codes[j] : 0;
        mask[i] = e && e->mask ? e->mask[j] : 1;
    }
    w.f32 = f;
    w.mask = e && e->mask ? mask : NULL;
    if (keep) {
        w.kind = e->kind;
        w.codes = codes;
        w.bits = e->bits;
        w.n_codes = e->n_codes;
        w.per_row = e->axis >= 0;
        w.params = e->kind == LC_ENC_UNIFORM ? e->scale : e->kind == LC_ENC_CODEBOOK ? e->codebook : e->alpha;
        w.zero_point = e->zero_point;
    }
    lc_status s = cc_emit_weights(c, &w, wname);
    free(f), free(codes), free(mask);
    return s;
}

/* ---- folding ---- */

typedef struct fused {
    float *oscale, *bias;  /* n entries each, oscale NULL when 1 */
    char act[200];         /* mc_act initializer */
    const char *out;       /* the value the fused chain writes */
} fused;

static bool act_of(const cc_ctx *c, const lc_node *n, char *init)
{
    float a = 0, b = 0;
    int kind;
    const char *op = n->op_type;
    if (!strcmp(op, "Relu")) kind = 1;
    else if (!strcmp(op, "Clip")) {
        kind = 2;
        a = -INFINITY, b = INFINITY;
        if (lc_model_opset(c->m, "") < 11) {
            a = lc_node_attr_float(n, "min", -FLT_MAX);
            b = lc_node_attr_float(n, "max", FLT_MAX);
        } else {
            const lc_value *lo = n->n_inputs > 1 ? cc_const(c, n->inputs[1]) : NULL;
            const lc_value *hi = n->n_inputs > 2 ? cc_const(c, n->inputs[2]) : NULL;
            if ((n->n_inputs > 1 && *n->inputs[1] && !lo) || (n->n_inputs > 2 && *n->inputs[2] && !hi)) return false;
            if (lo) a = (float)lc_value_scalar(lo);
            if (hi) b = (float)lc_value_scalar(hi);
        }
    } else if (!strcmp(op, "LeakyRelu")) kind = 3, a = lc_node_attr_float(n, "alpha", 0.01f);
    else if (!strcmp(op, "Sigmoid")) kind = 4;
    else if (!strcmp(op, "HardSigmoid"))
        kind = 5, a = lc_node_attr_float(n, "alpha", 0.2f), b = lc_node_attr_float(n, "beta", 0.5f);
    else if (!strcmp(op, "HardSwish")) kind = 6;
    else if (!strcmp(op, "Tanh")) kind = 7;
    else return false;
    char fa[40], fb[40];
    flit(fa, a), flit(fb, b);
    snprintf(init, 200, "{%d, %s, %s}", kind, fa, fb);
    return true;
}

/* The node reading `value` when it is the only reader (and no graph output). */
static int sole(cc_ctx *c, const char *value)
{
    int only;
    return cc_consumers(c, value, &only) == 1 ? only : -1;
}

/* BatchNormalization as y = x * s + t per channel. */
static bool bn_affine(const cc_ctx *c, const lc_node *n, int64_t ch, float *s, float *t)
{
    const lc_value *g = cc_const(c, n->inputs[1]), *b = cc_const(c, n->inputs[2]);
    const lc_value *mu = cc_const(c, n->inputs[3]), *var = cc_const(c, n->inputs[4]);
    if (!g || !b || !mu || !var || g->dtype != LC_DTYPE_FLOAT || b->dtype != LC_DTYPE_FLOAT ||
        mu->dtype != LC_DTYPE_FLOAT || var->dtype != LC_DTYPE_FLOAT || lc_value_numel(g) != ch)
        return false;
    float eps = lc_node_attr_float(n, "epsilon", 1e-5f);
    for (int64_t k = 0; k < ch; k++) {
        s[k] = ((const float *)g->data)[k] / sqrtf(((const float *)var->data)[k] + eps);
        t[k] = ((const float *)b->data)[k] - ((const float *)mu->data)[k] * s[k];
    }
    return true;
}

/* Folds BatchNormalization and one activation following node i (whose
 * output has `ch` channels) into f; marks the folded nodes done. */
static lc_status fold_after(cc_ctx *c, int i, int64_t ch, const float *bias_in, float alpha, fused *f)
{
    f->oscale = malloc(sizeof(float) * (size_t)ch);
    f->bias = malloc(sizeof(float) * (size_t)ch);
    if (!f->oscale || !f->bias) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    bool scaled = alpha != 1.0f;
    for (int64_t k = 0; k < ch; k++) f->oscale[k] = alpha, f->bias[k] = bias_in ? bias_in[k] : 0.0f;
    f->out = c->g->nodes[i]->outputs[0];
    strcpy(f->act, "{0, 0x0p+0f, 0x0p+0f}");
    int j = sole(c, f->out);
    if (j >= 0 && !strcmp(c->g->nodes[j]->op_type, "BatchNormalization") && c->g->nodes[j]->n_inputs >= 5) {
        float *s = malloc(sizeof(float) * (size_t)ch), *t = malloc(sizeof(float) * (size_t)ch);
        if (s && t && bn_affine(c, c->g->nodes[j], ch, s, t)) {
            for (int64_t k = 0; k < ch; k++) f->oscale[k] *= s[k], f->bias[k] = f->bias[k] * s[k] + t[k];
            scaled = true;
            c->done[j] = true;
            f->out = c->g->nodes[j]->outputs[0];
            j = sole(c, f->out);
        }
        free(s), free(t);
    }
    if (j >= 0 && act_of(c, c->g->nodes[j], f->act)) {
        c->done[j] = true;
        f->out = c->g->nodes[j]->outputs[0];
    }
    if (!scaled) free(f->oscale), f->oscale = NULL;
    return LC_OK;
}

static lc_status out_value(cc_ctx *c, const lc_node *n, const char *name, int kind, int *out)
{
    const lc_value *pv = lc_executor_value(c->ex, name);
    if (!pv) return fail_node(n, LC_ERR_INTERNAL, "no planned shape for its output");
    *out = cc_value_new(c, name, kind, pv->ndim, pv->dims);
    return *out < 0 ? lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory") : LC_OK;
}

static lc_status in_value(cc_ctx *c, const lc_node *n, const char *name, bool want_f32, int *out)
{
    int v = cc_value_find(c, name);
    if (v < 0) return fail_node(n, LC_ERR_UNSUPPORTED, "an input is neither computed nor a float constant");
    if (want_f32) v = cc_need_f32(c, v);
    if (v < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    *out = v;
    return LC_OK;
}

static bool fits(int64_t x, int64_t hi)
{
    return x >= 0 && x <= hi;
}

static lc_status lower_conv(cc_ctx *c, int i, const lc_node *n)
{
    int x, y;
    lc_status s = in_value(c, n, n->inputs[0], true, &x);
    if (s != LC_OK) return s;
    const lc_value *wv = cc_const(c, n->inputs[1]);
    const cc_value *xv = &c->vals[x];
    if (!wv || (wv->ndim != 4 && wv->ndim != 3) || xv->ndim != wv->ndim)
        return fail_node(n, LC_ERR_UNSUPPORTED, "only 1-D and 2-D convolutions with a constant weight are supported");
    bool two = wv->ndim == 4;
    int64_t kernel[2] = {two ? wv->dims[2] : 1, two ? wv->dims[3] : wv->dims[2]};
    cc_window win;
    cc_window_of(c, n, xv, kernel, &win);
    const int64_t *k = win.k, *st = win.st, *dl = win.dl, *pads = win.p;
    int64_t hin = win.hin, wn = win.win, hout = win.hout, wout = win.wout;
    int64_t groups = lc_node_attr_int(n, "group", 1), cout = wv->dims[0];
    if (!fits(xv->dims[1], 65535) || !fits(hin, 65535) || !fits(wn, 65535) || !fits(cout, 65535) ||
        !fits(hout, 65535) || !fits(wout, 65535) || !fits(k[0], 255) || !fits(k[1], 255) || !fits(st[0], 255) ||
        !fits(st[1], 255) || !fits(dl[0], 255) || !fits(dl[1], 255) || !fits(pads[0], 255) || !fits(pads[1], 255))
        return fail_node(n, LC_ERR_UNSUPPORTED, "a size is too large for micro/");
    const float *bias = NULL;
    if (n->n_inputs > 2 && *n->inputs[2]) {
        const lc_value *bv = cc_const(c, n->inputs[2]);
        if (!bv || bv->dtype != LC_DTYPE_FLOAT) return fail_node(n, LC_ERR_UNSUPPORTED, "the bias must be a float constant");
        bias = bv->data;
    }
    char wname[32], sb[32], so[32], ln[32];
    if ((s = weight_rows(c, n, n->inputs[1], false, 0, wname)) != LC_OK) return s;
    fused f = {0};
    if ((s = fold_after(c, i, cout, bias, 1.0f, &f)) == LC_OK) {
        cc_emit_floats(c, "B", f.bias, cout, sb);
        cc_emit_floats(c, "S", f.oscale, f.oscale ? cout : 0, so);
        s = out_value(c, n, f.out, CV_F32, &y);
    }
    free(f.bias), free(f.oscale);
    if (s != LC_OK) return s;
    xv = &c->vals[x]; /* out_value may have moved the values */
    cc_sym(c, "L", ln);
    cc_printf(&c->data,
              "static const mc_conv %s = {{%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
              "%lld, %lld, %lld}, %s, %s, %s, &%s};\n",
              ln, (long long)xv->dims[1], (long long)hin, (long long)wn, (long long)cout, (long long)hout,
              (long long)wout, (long long)groups, (long long)k[0], (long long)k[1], (long long)st[0],
              (long long)st[1], (long long)dl[0], (long long)dl[1], (long long)pads[0], (long long)pads[1], sb, so,
              f.act, wname);
    c->float_kernels = true;
    size_t scratch = sizeof(float) * (size_t)(wv->dims[1] * k[0] * k[1]);
    return cc_step_add(c, y, scratch, &x, 1, "mc_conv_f32(&%s, (const float *)v%d, (float *)v%d, (float *)s);", ln, x, y);
}

/* Gemm (B constant) and MatMul with a constant 2-D weight. */
static lc_status lower_dense(cc_ctx *c, int i, const lc_node *n)
{
    bool gemm = !strcmp(n->op_type, "Gemm");
    int x, y;
    lc_status s = in_value(c, n, n->inputs[0], true, &x);
    if (s != LC_OK) return s;
    const lc_value *wv = cc_const(c, n->inputs[1]);
    if (!wv || wv->ndim != 2) return fail_node(n, LC_ERR_UNSUPPORTED, "the weight must be a 2-D constant");
    bool tb = gemm && lc_node_attr_int(n, "transB", 0);
    if (gemm && lc_node_attr_int(n, "transA", 0) && c->vals[x].dims[c->vals[x].ndim - 1] != 1 &&
        c->vals[x].numel != c->vals[x].dims[c->vals[x].ndim - 1])
        return fail_node(n, LC_ERR_UNSUPPORTED, "transA needs a single input row");
    int64_t nout = tb ? wv->dims[0] : wv->dims[1], kin = tb ? wv->dims[1] : wv->dims[0];
    int64_t m = c->vals[x].numel / kin;
    if (!fits(m, 65535) || !fits(kin, 65535) || !fits(nout, 65535) || m * kin != c->vals[x].numel)
        return fail_node(n, LC_ERR_UNSUPPORTED, "a size is too large for micro/");
    float alpha = gemm ? lc_node_attr_float(n, "alpha", 1.0f) : 1.0f, beta = gemm ? lc_node_attr_float(n, "beta", 1.0f) : 1.0f;
    float *bias = calloc((size_t)nout, sizeof(float));
    if (!bias) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    if (gemm && n->n_inputs > 2 && *n->inputs[2]) {
        const lc_value *bv = cc_const(c, n->inputs[2]);
        int64_t bn = bv ? lc_value_numel(bv) : 0;
        if (!bv || bv->dtype != LC_DTYPE_FLOAT || (bn != 1 && bn != nout)) {
            free(bias);
            return fail_node(n, LC_ERR_UNSUPPORTED, "C must be a float constant of N or 1 values");
        }
        for (int64_t k = 0; k < nout; k++) bias[k] = beta * ((const float *)bv->data)[bn == 1 ? 0 : k];
    }
    char wname[32], sb[32], so[32], ln[32];
    fused f = {0};
    if ((s = weight_rows(c, n, n->inputs[1], !tb, tb ? 0 : 1, wname)) == LC_OK &&
        (s = fold_after(c, i, nout, bias, alpha, &f)) == LC_OK) {
        cc_emit_floats(c, "B", f.bias, nout, sb);
        cc_emit_floats(c, "S", f.oscale, f.oscale ? nout : 0, so);
        s = out_value(c, n, f.out, CV_F32, &y);
    }
    free(bias), free(f.bias), free(f.oscale);
    if (s != LC_OK) return s;
    cc_sym(c, "L", ln);
    cc_printf(&c->data, "static const mc_dense %s = {%lld, %lld, %lld, %s, %s, %s, &%s};\n", ln, (long long)m,
              (long long)kin, (long long)nout, sb, so, f.act, wname);
    c->float_kernels = true;
    return cc_step_add(c, y, m > 1 ? sizeof(float) * (size_t)kin : 0, &x, 1,
                       "mc_dense_f32(&%s, (const float *)v%d, (float *)v%d, (float *)s);", ln, x, y);
}

/* Channels and inner size of an NC... value. */
static void chw(const cc_value *v, int64_t *ch, int64_t *inner)
{
    *ch = v->ndim > 1 ? v->dims[1] : 1;
    *inner = v->numel / (*ch ? *ch : 1);
}

static lc_status lower_unary(cc_ctx *c, int i, const lc_node *n)
{
    int x, y;
    lc_status s = in_value(c, n, n->inputs[0], true, &x);
    if (s != LC_OK) return s;
    if (!strcmp(n->op_type, "BatchNormalization")) {
        int64_t ch, inner;
        chw(&c->vals[x], &ch, &inner);
        float *sc = malloc(sizeof(float) * (size_t)ch), *t = malloc(sizeof(float) * (size_t)ch);
        char sn[32] = "NULL", tn[32] = "NULL";
        bool ok = sc && t && n->n_inputs >= 5 && bn_affine(c, n, ch, sc, t);
        if (ok) cc_emit_floats(c, "S", sc, ch, sn), cc_emit_floats(c, "B", t, ch, tn);
        free(sc), free(t);
        if (!ok) return fail_node(n, LC_ERR_UNSUPPORTED, "BatchNormalization needs constant float parameters");
        if ((s = out_value(c, n, n->outputs[0], CV_F32, &y)) != LC_OK) return s;
        return cc_step_add(c, y, 0, &x, 1, "mc_affine_f32((const float *)v%d, (float *)v%d, %lldu, %lldu, %s, %s);", x,
                           y, (long long)ch, (long long)inner, sn, tn);
    }
    char act[200], ln[32];
    if (!act_of(c, n, act)) return fail_node(n, LC_ERR_UNSUPPORTED, "Clip bounds must be constants");
    (void)i;
    if ((s = out_value(c, n, n->outputs[0], CV_F32, &y)) != LC_OK) return s;
    cc_sym(c, "L", ln);
    cc_printf(&c->data, "static const mc_act %s = %s;\n", ln, act);
    return cc_step_add(c, y, 0, &x, 1, "mc_act_f32(&%s, (const float *)v%d, (float *)v%d, %lldu);", ln, x, y,
                       (long long)c->vals[x].numel);
}

/* A constant operand as a value stored in flash. */
static lc_status const_value(cc_ctx *c, const lc_node *n, const char *name, int *out)
{
    const lc_value *cv = cc_const(c, name);
    if (!cv || cv->dtype != LC_DTYPE_FLOAT) return fail_node(n, LC_ERR_UNSUPPORTED, "a constant input must be float");
    char kn[32];
    cc_emit_floats(c, "K", cv->data, lc_value_numel(cv), kn);
    int v = cc_value_new(c, NULL, CV_F32, cv->ndim, cv->dims);
    if (v < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    c->vals[v].where = CW_CONST;
    strcpy(c->vals[v].sym, kn);
    *out = v;
    return LC_OK;
}

static lc_status lower_binary(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    int ab[2], y;
    lc_status s;
    for (int k = 0; k < 2; k++) {
        if (cc_value_find(c, n->inputs[k]) >= 0) s = in_value(c, n, n->inputs[k], true, &ab[k]);
        else s = const_value(c, n, n->inputs[k], &ab[k]);
        if (s != LC_OK) return s;
    }
    if ((s = out_value(c, n, n->outputs[0], CV_F32, &y)) != LC_OK) return s;
    const cc_value *o = &c->vals[y];
    if (o->ndim > 4) return fail_node(n, LC_ERR_UNSUPPORTED, "more than 4 dims");
    long long dims[4], st[2][4];
    for (int d = 0; d < 4; d++) {
        int od = d - (4 - o->ndim);
        dims[d] = od >= 0 ? o->dims[od] : 1;
    }
    for (int k = 0; k < 2; k++) {
        const cc_value *v = &c->vals[ab[k]];
        long long stride = 1;
        for (int d = 3; d >= 0; d--) {
            int vd = d - (4 - v->ndim);
            long long len = vd >= 0 ? v->dims[vd] : 1;
            st[k][d] = len == 1 ? 0 : stride;
            stride *= len;
        }
    }
    char ln[32];
    cc_sym(c, "L", ln);
    cc_printf(&c->data, "static const mc_binary %s = {%d, {%lld, %lld, %lld, %lld}, {%lld, %lld, %lld, %lld}, "
                        "{%lld, %lld, %lld, %lld}};\n",
              ln, strcmp(n->op_type, "Mul") ? 0 : 1, dims[0], dims[1], dims[2], dims[3], st[0][0], st[0][1], st[0][2],
              st[0][3], st[1][0], st[1][1], st[1][2], st[1][3]);
    return cc_step_add(c, y, 0, ab, 2, "mc_binary_f32(&%s, (const float *)v%d, (const float *)v%d, (float *)v%d);", ln,
                       ab[0], ab[1], y);
}

/* MaxPool / AveragePool parameters (2-D, or 1-D as H = 1). */
void cc_window_of(const cc_ctx *c, const lc_node *n, const cc_value *xv, const int64_t *kernel, cc_window *w)
{
    const lc_value *pv = lc_executor_value(c->ex, n->outputs[0]);
    int64_t tmp[4];
    int nk;
    bool two = xv->ndim == 4;
    for (int d = 0; d < 2; d++) w->k[d] = kernel ? kernel[d] : 1, w->st[d] = w->dl[d] = 1;
    for (int d = 0; d < 4; d++) w->p[d] = 0;
    if (!kernel && lc_attr_ints(n, "kernel_shape", tmp, 4, &nk) == LC_OK && nk) w->k[0] = two ? tmp[0] : 1, w->k[1] = tmp[nk - 1];
    if (lc_attr_ints(n, "strides", tmp, 4, &nk) == LC_OK && nk) w->st[0] = two ? tmp[0] : 1, w->st[1] = tmp[nk - 1];
    if (lc_attr_ints(n, "dilations", tmp, 4, &nk) == LC_OK && nk) w->dl[0] = two ? tmp[0] : 1, w->dl[1] = tmp[nk - 1];
    w->hin = two ? xv->dims[2] : 1, w->win = xv->dims[xv->ndim - 1];
    w->hout = two ? pv->dims[2] : 1, w->wout = pv->dims[pv->ndim - 1];
    const char *ap = lc_node_attr_string(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t th = (w->hout - 1) * w->st[0] + (w->k[0] - 1) * w->dl[0] + 1 - w->hin;
        int64_t tw = (w->wout - 1) * w->st[1] + (w->k[1] - 1) * w->dl[1] + 1 - w->win;
        th = th < 0 ? 0 : th, tw = tw < 0 ? 0 : tw;
        bool up = !strcmp(ap, "SAME_UPPER");
        w->p[0] = up ? th / 2 : th - th / 2, w->p[1] = up ? tw / 2 : tw - tw / 2;
        w->p[2] = th - w->p[0], w->p[3] = tw - w->p[1];
    } else if (lc_attr_ints(n, "pads", tmp, 4, &nk) == LC_OK && nk) {
        if (two) w->p[0] = tmp[0], w->p[1] = tmp[1], w->p[2] = tmp[2], w->p[3] = tmp[3];
        else w->p[1] = tmp[0], w->p[3] = tmp[1];
    }
}

lc_status cc_pool_params(cc_ctx *c, const lc_node *n, const cc_value *xv, char *ln)
{
    if (xv->ndim != 3 && xv->ndim != 4) return fail_node(n, LC_ERR_UNSUPPORTED, "only 1-D and 2-D pooling");
    cc_window win;
    cc_window_of(c, n, xv, NULL, &win);
    const int64_t *k = win.k, *st = win.st, *dl = win.dl, *p = win.p;
    int64_t hin = win.hin, wn = win.win, hout = win.hout, wout = win.wout;
    for (int d = 0; d < 4; d++)
        if (!fits(p[d], 255)) return fail_node(n, LC_ERR_UNSUPPORTED, "pads too large for micro/");
    if (!fits(k[0], 255) || !fits(k[1], 255) || !fits(st[0], 255) || !fits(st[1], 255) || !fits(xv->dims[1], 65535) ||
        !fits(hin, 65535) || !fits(wn, 65535))
        return fail_node(n, LC_ERR_UNSUPPORTED, "a size is too large for micro/");
    cc_sym(c, "L", ln);
    cc_printf(&c->data,
              "static const mc_pool %s = {%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
              "%lld, %lld, %lld, %d};\n",
              ln, (long long)xv->dims[1], (long long)hin, (long long)wn, (long long)hout, (long long)wout,
              (long long)k[0], (long long)k[1], (long long)st[0], (long long)st[1], (long long)dl[0], (long long)dl[1],
              (long long)p[0], (long long)p[1], (long long)p[2], (long long)p[3],
              (int)lc_node_attr_int(n, "count_include_pad", 0));
    return LC_OK;
}

static lc_status lower_pool(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    int x, y;
    lc_status s = in_value(c, n, n->inputs[0], true, &x);
    if (s != LC_OK || (s = out_value(c, n, n->outputs[0], CV_F32, &y)) != LC_OK) return s;
    if (!strcmp(n->op_type, "GlobalAveragePool")) {
        int64_t ch, inner;
        chw(&c->vals[x], &ch, &inner);
        return cc_step_add(c, y, 0, &x, 1, "mc_gap_f32((const float *)v%d, (float *)v%d, %lldu, %lldu);", x, y,
                           (long long)ch, (long long)inner);
    }
    char ln[32];
    if ((s = cc_pool_params(c, n, &c->vals[x], ln)) != LC_OK) return s;
    return cc_step_add(c, y, 0, &x, 1, "mc_%s_f32(&%s, (const float *)v%d, (float *)v%d);",
                       strcmp(n->op_type, "MaxPool") ? "avgpool" : "maxpool", ln, x, y);
}

static lc_status lower_softmax(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    int x, y;
    lc_status s = in_value(c, n, n->inputs[0], true, &x);
    if (s != LC_OK || (s = out_value(c, n, n->outputs[0], CV_F32, &y)) != LC_OK) return s;
    const cc_value *v = &c->vals[x];
    bool old = lc_model_opset(c->m, "") < 13;
    int64_t axis = lc_node_attr_int(n, "axis", old ? 1 : -1);
    if (axis < 0) axis += v->ndim;
    if (axis < 0 || axis >= v->ndim) return fail_node(n, LC_ERR_UNSUPPORTED, "axis out of range");
    long long outer = 1, len = 1, inner = 1;
    for (int d = 0; d < v->ndim; d++) {
        if (d < axis) outer *= v->dims[d];
        else if (d == axis || old) len *= v->dims[d];
        else inner *= v->dims[d];
    }
    return cc_step_add(c, y, 0, &x, 1, "mc_softmax_f32((const float *)v%d, (float *)v%d, %lldu, %lldu, %lldu);", x, y,
                       outer, len, inner);
}

static lc_status lower_concat(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    int y, *xs = malloc(sizeof(int) * (size_t)n->n_inputs);
    if (!xs) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    lc_status s = LC_OK;
    for (int k = 0; k < n->n_inputs && s == LC_OK; k++) {
        if (cc_value_find(c, n->inputs[k]) >= 0) s = in_value(c, n, n->inputs[k], true, &xs[k]);
        else s = const_value(c, n, n->inputs[k], &xs[k]);
    }
    if (s == LC_OK) s = out_value(c, n, n->outputs[0], CV_F32, &y);
    if (s != LC_OK) {
        free(xs);
        return s;
    }
    int64_t axis = lc_node_attr_int(n, "axis", 1);
    if (axis < 0) axis += c->vals[y].ndim;
    int64_t outer = 1, chunks[64];
    for (int d = 0; d < axis; d++) outer *= c->vals[y].dims[d];
    if (n->n_inputs > 64) {
        free(xs);
        return fail_node(n, LC_ERR_UNSUPPORTED, "more than 64 inputs");
    }
    for (int k = 0; k < n->n_inputs; k++) chunks[k] = c->vals[xs[k]].numel / outer * 4;
    char cn[32];
    cc_emit_ints(c, "C", "uint32_t", chunks, n->n_inputs, cn);
    cc_buf b = {0};
    cc_printf(&b, "{ const void *in[%d] = {", n->n_inputs);
    for (int k = 0; k < n->n_inputs; k++) cc_printf(&b, "%sv%d", k ? ", " : "", xs[k]);
    cc_printf(&b, "}; mc_concat(in, %s, %du, %lldu, v%d); }", cn, n->n_inputs, (long long)outer, y);
    s = b.oom ? lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory") : cc_step_add(c, y, 0, xs, n->n_inputs, "%s", b.p);
    cc_buf_free(&b);
    free(xs);
    return s;
}

static lc_status lower_alias(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    int x = cc_value_find(c, n->inputs[0]);
    lc_status s;
    if (x < 0 && (s = const_value(c, n, n->inputs[0], &x)) != LC_OK) return s;
    const lc_value *pv = lc_executor_value(c->ex, n->outputs[0]);
    if (!pv) return fail_node(n, LC_ERR_INTERNAL, "no planned shape for its output");
    return cc_value_alias(c, x, n->outputs[0], pv->ndim, pv->dims) < 0
               ? lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory")
               : LC_OK;
}

static lc_status lower_quantize(cc_ctx *c, int i, const lc_node *n)
{
    (void)i;
    const lc_value *sc = n->n_inputs > 1 ? cc_const(c, n->inputs[1]) : NULL;
    const lc_value *zp = n->n_inputs > 2 && *n->inputs[2] ? cc_const(c, n->inputs[2]) : NULL;
    bool u8 = zp && zp->dtype == LC_DTYPE_UINT8;
    if (!sc || lc_value_numel(sc) != 1 || (zp && ((zp->dtype != LC_DTYPE_INT8 && !u8) || lc_value_numel(zp) != 1)) ||
        (!zp && strcmp(n->op_type, "QuantizeLinear") == 0))
        return fail_node(n, LC_ERR_UNSUPPORTED, "only per-tensor int8/uint8 quantization of activations is supported");
    float scale = (float)lc_value_scalar(sc);
    /* uint8 q with zero point z is int8 q - 128 with z - 128: same values */
    int32_t z = zp ? (int32_t)lc_value_scalar(zp) - (u8 ? 128 : 0) : 0;
    int x = cc_value_find(c, n->inputs[0]);
    if (x < 0) return fail_node(n, LC_ERR_UNSUPPORTED, "the input is neither computed nor constant");
    const lc_value *pv = lc_executor_value(c->ex, n->outputs[0]);
    if (!strcmp(n->op_type, "DequantizeLinear")) {
        if (c->vals[x].kind != CV_I8) return fail_node(n, LC_ERR_UNSUPPORTED, "dequantizes a value that is not int8");
        return cc_value_alias(c, x, n->outputs[0], pv->ndim, pv->dims) < 0
                   ? lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory") : LC_OK;
    }
    const cc_value xv_copy = c->vals[x], *xv = &xv_copy; /* cc_value_new may move the values */
    if (xv->kind == CV_I8 && xv->scale == scale && xv->zp == z) {
        return cc_value_alias(c, x, n->outputs[0], pv->ndim, pv->dims) < 0
                   ? lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory") : LC_OK;
    }
    int y = cc_value_new(c, n->outputs[0], CV_I8, pv->ndim, pv->dims);
    if (y < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    c->vals[y].scale = scale;
    c->vals[y].zp = z;
    c->int8 = true;
    char f[40];
    flit(f, scale);
    if (xv->kind == CV_I8) {
        int32_t mult, shift;
        lc_status s = cc_multiplier((double)xv->scale / scale, &mult, &shift, n->name);
        if (s != LC_OK) return s;
        return cc_step_add(c, y, 0, &x, 1, "mc_requant_i8((const int8_t *)v%d, (int8_t *)v%d, %lldu, %d, %ld, %ld, %d);", x,
                           y, (long long)xv->numel, (int)xv->zp, (long)mult, (long)shift, (int)z);
    }
    return cc_step_add(c, y, 0, &x, 1, "mc_quantize((const float *)v%d, (int8_t *)v%d, %lldu, %s, %d);", x, y,
                       (long long)xv->numel, f, (int)z);
}

typedef lc_status (*lower_fn)(cc_ctx *c, int i, const lc_node *n);
static const struct {
    const char *op;
    lower_fn fn;
} LOWER[] = {
    {"Add", lower_binary}, {"AveragePool", lower_pool}, {"BatchNormalization", lower_unary},
    {"Clip", lower_unary}, {"Concat", lower_concat}, {"Conv", lower_conv},
    {"DequantizeLinear", lower_quantize}, {"Flatten", lower_alias}, {"Gemm", lower_dense},
    {"GlobalAveragePool", lower_pool}, {"HardSigmoid", lower_unary}, {"HardSwish", lower_unary},
    {"Identity", lower_alias}, {"LeakyRelu", lower_unary}, {"MatMul", lower_dense},
    {"MaxPool", lower_pool}, {"Mul", lower_binary}, {"QuantizeLinear", lower_quantize},
    {"Relu", lower_unary}, {"Reshape", lower_alias}, {"Sigmoid", lower_unary},
    {"Softmax", lower_softmax}, {"Squeeze", lower_alias}, {"Tanh", lower_unary},
    {"Unsqueeze", lower_alias},
};

lc_status cc_lower(cc_ctx *c)
{
    const lc_graph *g = c->g;
    /* only what the first output needs */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const lc_node *n = g->nodes[i];
        bool need = false;
        for (int k = 0; k < n->n_outputs && !need; k++) {
            if (!strcmp(n->outputs[k], g->outputs[0].name)) need = true;
            for (int j = i + 1; j < g->n_nodes && !need; j++)
                if (c->needed[j])
                    for (int q = 0; q < g->nodes[j]->n_inputs; q++)
                        if (*n->outputs[k] && !strcmp(g->nodes[j]->inputs[q], n->outputs[k])) need = true;
        }
        c->needed[i] = need && !lc_executor_node_folded(c->ex, i);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        if (!c->needed[i] || c->done[i] || !strcmp(n->op_type, "Constant")) continue;
        if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
            return lc_fail(LC_ERR_UNSUPPORTED, "node '%s' (%s): domain '%s' is not supported by micro/ (lc_model_compile)",
                           n->name, n->op_type, n->domain);
        bool handled = false;
        lc_status s = cc_lower_int8(c, i, &handled);
        if (s != LC_OK) return s;
        if (handled) continue;
        lower_fn fn = NULL;
        for (size_t k = 0; k < sizeof LOWER / sizeof LOWER[0]; k++)
            if (!strcmp(LOWER[k].op, n->op_type)) fn = LOWER[k].fn;
        if (!fn) return lc_fail(LC_ERR_UNSUPPORTED, "node '%s' (%s): op not supported by micro/ (lc_model_compile)", n->name, n->op_type);
        if ((s = fn(c, i, n)) != LC_OK) return s;
        c->done[i] = true;
    }
    return LC_OK;
}
