/* quantize-int8's local damage check (see int8_guard.h): one calibration
 * run of the float model; at each probed layer its kernel runs twice more
 * on the observed inputs, once with the weight rounded and once with the
 * input activation rounded, and both outputs are compared with the
 * observed float output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "int8_guard.h"
#include "lc_exec.h"

typedef struct guard {
    lc_int8_probe *p;
    int *at;      /* node index -> first probe of that node + 1, or 0 */
    int n;
    int64_t opset;
    int qmin, qmax;
    float *xq;    /* the rounded input */
    int64_t xq_cap;
    float *y;     /* a rerun's output, reused across probes and batches */
    int64_t y_cap;
} guard;

/* Runs `node`'s kernel on its observed inputs with input `which` replaced
 * by `data` (same dtype and shape) and adds sum (y' - y)^2 to *err, y the
 * observed output `ref`. */
static lc_status rerun(guard *gd, const lc_node *node, int n_in, const lc_value *const *in, int which,
                       const float *data, const lc_value *ref, int64_t ch, int64_t inner, double *err)
{
    const lc_kernel *k = lc_kernel_find(node->op_type, gd->opset, NULL);
    if (!k || n_in > 8) return lc_fail(LC_ERR_UNSUPPORTED, "quantize-int8: no kernel to check '%s'", node->op_type);
    lc_value sub = *in[which], out = {.name = ref->name};
    sub.data = (void *)data;
    sub.borrowed = true;
    const lc_value *ins[8];
    for (int i = 0; i < n_in; i++) ins[i] = i == which ? &sub : in[i];
    lc_value *outs[1] = {&out};
    lc_kernel_args a = {.node = node, .opset = gd->opset, .n_in = n_in, .in = ins, .n_out = 1, .out = outs,
                        .threads = 1};
    lc_status s = k->prepare ? k->prepare(&a) : LC_OK;
    int64_t n = lc_value_numel(ref);
    if (!s && (out.dtype != LC_DTYPE_FLOAT || lc_value_numel(&out) != n))
        s = lc_fail(LC_ERR_INTERNAL, "quantize-int8: '%s' gave another output on a second run", node->op_type);
    if (!s && n > gd->y_cap) {
        float *b = realloc(gd->y, (size_t)n * sizeof *b);
        if (!b) s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        else gd->y = b, gd->y_cap = n;
    }
    if (!s) {
        out.nbytes = (size_t)(n ? n : 1) * sizeof(float);
        out.data = gd->y;
    }
    if (!s) s = k->run(&a);
    if (!s) {
        const float *y = ref->data, *z = out.data;
        for (int64_t i = 0; i < n; i++) {
            double d = (double)z[i] - (double)y[i];
            err[(i / inner) % ch] += d * d;
        }
    }
    if (k->free_state && a.state) k->free_state(a.state);
    return s;
}

static lc_status observe(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                         int n_out, const lc_value *const *out)
{
    guard *gd = user;
    if (gd->at[node_index] == 0 || n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out[0]) return LC_OK;
    if (in[0]->dtype != LC_DTYPE_FLOAT || in[1]->dtype != LC_DTYPE_FLOAT || out[0]->dtype != LC_DTYPE_FLOAT)
        return LC_OK;
    lc_status s = LC_OK;
    for (int j = gd->at[node_index] - 1; j < gd->n && gd->p[j].node == node_index && !s; j++) {
        lc_int8_probe *p = &gd->p[j];
        const lc_value *o = out[0];
        int axis = !strcmp(node->op_type, "MatMul") || o->ndim < 2 ? o->ndim - 1 : 1;
        int64_t ch = o->ndim > 0 ? o->dims[axis] : 1, inner = 1;
        for (int d = axis + 1; d < o->ndim; d++) inner *= o->dims[d];
        if (ch < 1) continue;
        if (!p->signal) {
            p->channels = ch;
            p->signal = calloc((size_t)ch, sizeof(double));
            p->err_w = calloc((size_t)ch, sizeof(double));
            p->err_x = calloc((size_t)ch, sizeof(double));
            if (!p->signal || !p->err_w || !p->err_x) return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
        }
        if (ch != p->channels) continue; /* a batch of another shape: not comparable */
        const float *y = o->data;
        int64_t ny = lc_value_numel(o);
        for (int64_t i = 0; i < ny; i++) p->signal[(i / inner) % ch] += (double)y[i] * y[i];
        if (p->wq) s = rerun(gd, node, n_in, in, 1, p->wq, o, ch, inner, p->err_w);
        if (s || !p->x_quant) continue;
        int64_t nx = lc_value_numel(in[0]);
        if (nx > gd->xq_cap) {
            float *b = realloc(gd->xq, (size_t)nx * sizeof *b);
            if (!b) return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
            gd->xq = b, gd->xq_cap = nx;
        }
        const float *x = in[0]->data;
        for (int64_t i = 0; i < nx; i++) { /* QuantizeLinear then DequantizeLinear */
            double q = nearbyint((double)x[i] / p->x_scale) + p->x_zp;
            q = fmin(fmax(q, gd->qmin), gd->qmax);
            gd->xq[i] = (float)((q - p->x_zp) * p->x_scale);
        }
        s = rerun(gd, node, n_in, in, 0, gd->xq, o, ch, inner, p->err_x);
    }
    return s;
}

static int by_node(const void *a, const void *b)
{
    const lc_int8_probe *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

lc_status lc_int8_guard_measure(const lc_model *m, const lc_context *ctx, lc_int8_probe *p, int n, int qmin, int qmax)
{
    int n_nodes = m->graph->n_nodes;
    guard gd = {.p = p, .n = n, .opset = lc_model_opset(m, ""), .qmin = qmin, .qmax = qmax};
    gd.at = calloc((size_t)n_nodes + 1, sizeof *gd.at);
    bool *need = calloc((size_t)n_nodes + 1, sizeof *need);
    lc_status s = LC_OK;
    if (!gd.at || !need) s = lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    qsort(p, (size_t)n, sizeof *p, by_node); /* one probe per node: no ties */
    for (int j = n - 1; j >= 0 && !s; j--) {
        p[j].signal = p[j].err_w = p[j].err_x = NULL;
        p[j].channels = 0;
        if (p[j].node < 0 || p[j].node >= n_nodes) continue;
        gd.at[p[j].node] = j + 1;
        need[p[j].node] = true;
    }
    if (!s && n > 0) s = lc_calib_run_nodes(m, ctx, observe, &gd, need);
    free(gd.at);
    free(need);
    free(gd.xq);
    free(gd.y);
    return s;
}

void lc_int8_guard_free(lc_int8_probe *p, int n)
{
    for (int j = 0; j < n; j++) {
        free(p[j].signal);
        free(p[j].err_w);
        free(p[j].err_x);
        p[j].signal = p[j].err_w = p[j].err_x = NULL;
    }
}

double lc_int8_guard_db(const lc_int8_probe *p, bool x)
{
    const double *err = x ? p->err_x : p->err_w;
    double sum = 0;
    int64_t k = 0;
    for (int64_t c = 0; err && c < p->channels; c++)
        if (p->signal[c] > 0) sum += err[c] / p->signal[c], k++;
    return sum > 0 ? -10 * log10(sum / (double)k) : INFINITY;
}
