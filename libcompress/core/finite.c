/* lc_model_check_finite: refuses NaN and infinite stored weights before a
 * model is compressed. Compression on such values is meaningless (k-means,
 * Hessians and scales turn NaN, magnitude ranking silently keeps an Inf),
 * so the pipeline's callers check once, up front, and name the tensor. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_ir.h"

/* Index of the first non-finite element of `t`, or -1. */
static int64_t first_non_finite(const lc_tensor *t, double *value)
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
        if (!isfinite(v)) {
            *value = v;
            return i;
        }
    }
    return -1;
}

/* The first node of `g` that reads `value`, or NULL. */
static const lc_node *first_reader(const lc_graph *g, const char *value)
{
    for (int k = 0; k < g->n_nodes; k++)
        for (int j = 0; j < g->nodes[k]->n_inputs; j++)
            if (!strcmp(g->nodes[k]->inputs[j], value)) return g->nodes[k];
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
        int64_t at = t->data ? first_non_finite(t, &v) : -1;
        if (at < 0) continue;
        const lc_node *reader = first_reader(g, t->name);
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
        char by[160] = "";
        if (reader)
            snprintf(by, sizeof by, " (read by node '%s', %s)", *reader->name ? reader->name : "?", reader->op_type);
        return lc_fail(LC_ERR_INVALID_ARGUMENT,
                       "%s: weight '%s'%s has %s at element %lld%s%s; compressing needs finite weights",
                       label, t->name, by, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", (long long)at,
                       *idx ? " " : "", idx);
    }
    return LC_OK;
}
