/* lc_model_check_finite: refuses NaN and infinite stored weights before a
 * model is compressed, where they matter. Compression on such values is
 * meaningless (k-means, Hessians and scales turn NaN, magnitude ranking
 * silently keeps an Inf), so the pipeline's callers check once, up front,
 * and name the tensor. But infinities are legitimate elsewhere: a Clip
 * bound of +Inf, a -Inf attention mask that is added before a Softmax, a
 * Max/Min/Where operand. So an Inf is refused only in a tensor that a node
 * multiplies or normalizes with (the layers passes compress or fold, Mul,
 * PRelu...: Inf x 0 is NaN), and a NaN in a tensor any node computes with. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lc_ir.h"

/* Index of the first NaN (nan) or infinite (!nan) element of `t`, or -1. */
static int64_t first_non_finite(const lc_tensor *t, bool nan, double *value)
{
    int64_t n = t->nbytes / (lc_dtype_size(t->dtype) ? lc_dtype_size(t->dtype) : 1);
    for (int64_t i = 0; i < n; i++) {
        double v;
        switch (t->dtype) {
        case LC_DTYPE_FLOAT: v = ((const float *)t->data)[i]; break;
        case LC_DTYPE_DOUBLE: v = ((const double *)t->data)[i]; break;
        case LC_DTYPE_FLOAT16: v = lc_half_to_float(((const uint16_t *)t->data)[i]); break;
        case LC_DTYPE_BFLOAT16: {
            uint32_t bits = (uint32_t)((const uint16_t *)t->data)[i] << 16;
            float f;
            memcpy(&f, &bits, sizeof f);
            v = f;
            break;
        }
        default: return -1;
        }
        if (nan ? isnan(v) : isinf(v)) {
            *value = v;
            return i;
        }
    }
    return -1;
}

/* Ops for which an infinite operand makes NaN (Inf x 0, Inf - Inf in a
 * sum of products, Inf / Inf in a normalization) or which passes compress
 * or fold into compressed weights. Sorted. */
static const char *const inf_unsafe[] = {
    "BatchNormalization", "Conv", "ConvTranspose", "DequantizeLinear", "Einsum", "GRU", "Gemm",
    "InstanceNormalization", "LSTM", "LayerNormalization", "MatMul", "Mul", "PRelu", "QuantizeLinear", "RNN"};
/* Ops that never compute with their input's values. */
static const char *const value_blind[] = {"IsNaN", "Shape", "Size"};

static bool in_list(const char *const *list, size_t n, const char *op)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], op)) return true;
    return false;
}

/* The first node of `g` that reads `value` and for which a value like `v`
 * (NaN or +-Inf) matters, or NULL. */
static const lc_node *harmed_reader(const lc_graph *g, const char *value, double v)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const lc_node *n = g->nodes[k];
        bool harmed = isnan(v) ? !in_list(value_blind, sizeof value_blind / sizeof *value_blind, n->op_type)
                               : in_list(inf_unsafe, sizeof inf_unsafe / sizeof *inf_unsafe, n->op_type);
        for (int j = 0; j < n->n_inputs && harmed; j++)
            if (!strcmp(n->inputs[j], value)) return n;
    }
    return NULL;
}

lc_status lc_model_check_finite(const lc_model *m)
{
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_check_finite: NULL model");
    const lc_graph *g = m->graph;
    const char *label = m->path ? m->path : "model";
    for (int i = 0; i < g->n_inits; i++) {
        const lc_tensor *t = g->inits[i];
        double v = 0;
        const lc_node *reader = NULL;
        int64_t at = -1;
        for (int nan = 1; nan >= 0 && !reader; nan--) {
            at = t->data ? first_non_finite(t, nan, &v) : -1;
            if (at >= 0) reader = harmed_reader(g, t->name, v);
        }
        if (!reader) continue;
        char idx[LC_MAX_DIMS * 24 + 4];
        /* element index in the tensor's own dims, e.g. [0, 0, 1, 2] */
        size_t used = 0;
        int64_t rest = at;
        int64_t coord[LC_MAX_DIMS] = {0};
        for (int d = t->ndim - 1; d >= 0; d--) {
            coord[d] = t->dims[d] ? rest % t->dims[d] : 0;
            rest = t->dims[d] ? rest / t->dims[d] : 0;
        }
        idx[0] = 0;
        for (int d = 0; d < t->ndim && used + 22 < sizeof idx; d++)
            used += (size_t)snprintf(idx + used, sizeof idx - used, "%s%lld", d ? ", " : "[", (long long)coord[d]);
        if (t->ndim > 0 && used + 2 <= sizeof idx) snprintf(idx + used, sizeof idx - used, "]");
        char by[160];
        snprintf(by, sizeof by, " (read by node '%s', %s)", reader->name && *reader->name ? reader->name : "?",
                 reader->op_type);
        return lc_fail(LC_ERR_INVALID_ARGUMENT,
                       "%s: weight '%s'%s has %s at element %lld%s%s; compressing needs finite weights",
                       label, t->name, by, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", (long long)at,
                       *idx ? " " : "", idx);
    }
    return LC_OK;
}
