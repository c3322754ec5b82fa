/* Which tensors are compressible weights: the float32 stored tensors read
 * as the weight input of Conv, ConvTranspose, Gemm and MatMul nodes,
 * filtered by the common pass parameters (ops, include, exclude). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"
#include "lc_strset.h"

static const char *const default_ops[] = {"Conv", "ConvTranspose", "Gemm", "MatMul"};

static bool in_list(const lc_param_value *v, const char *s)
{
    for (int i = 0; v && i < v->n_list; i++)
        if (fnmatch(v->list[i], s, 0) == 0) return true;
    return false;
}

static bool op_selected(const lc_params *p, const char *op)
{
    const lc_param_value *ops = lc_params_get(p, "ops");
    if (ops && ops->n_list) {
        for (int i = 0; i < ops->n_list; i++)
            if (strcmp(ops->list[i], op) == 0) return true;
        return false;
    }
    for (size_t i = 0; i < sizeof default_ops / sizeof *default_ops; i++)
        if (strcmp(default_ops[i], op) == 0) return true;
    return false;
}

/* The weight input of a layer node and its channel axes; false if the node
 * has no weight input we compress. */
static bool weight_slot(const lc_node *n, const lc_tensor *t, int *input, int *out_axis, int *in_axis)
{
    const char *op = n->op_type;
    if (!strcmp(op, "Conv") && t->ndim >= 3) {
        *input = 1, *out_axis = 0, *in_axis = 1;
        return true;
    }
    if (!strcmp(op, "ConvTranspose") && t->ndim >= 3) {
        *input = 1, *out_axis = 1, *in_axis = 0;
        return true;
    }
    if (!strcmp(op, "Gemm") && t->ndim == 2) {
        bool tb = lc_node_attr_int(n, "transB", 0) != 0;
        *input = 1, *out_axis = tb ? 0 : 1, *in_axis = tb ? 1 : 0;
        return true;
    }
    if (!strcmp(op, "MatMul") && t->ndim >= 2) {
        *input = 1, *out_axis = t->ndim - 1, *in_axis = t->ndim - 2;
        return true;
    }
    return false;
}

lc_status lc_weight_targets(lc_model *m, const lc_params *p, lc_weight **out, int *n)
{
    *out = NULL;
    *n = 0;
    lc_stored *st = NULL;
    int n_st = 0, cap = 0;
    lc_strset byname = {0};
    lc_weight *list = NULL;
    lc_status s = lc_model_stored_tensors(m, &st, &n_st);
    if (s) return s;
    for (int i = 0; i < n_st && !s; i++)
        if (st[i].graph == m->graph) s = lc_strset_add(&byname, st[i].value, st[i].tensor, NULL);
    const lc_param_value *inc = lc_params_get(p, "include"), *exc = lc_params_get(p, "exclude");
    lc_strset seen = {0};
    for (int i = 0; i < m->graph->n_nodes && !s; i++) {
        lc_node *node = m->graph->nodes[i];
        if ((node->domain && *node->domain && strcmp(node->domain, "ai.onnx") != 0) || !op_selected(p, node->op_type))
            continue;
        if (node->n_inputs < 2 || !*node->inputs[1]) continue;
        lc_tensor *t = lc_strset_get(&byname, node->inputs[1]);
        int input, oa, ia;
        if (!t || t->dtype != LC_DTYPE_FLOAT || !weight_slot(node, t, &input, &oa, &ia)) continue;
        const char *nname = node->name ? node->name : "";
        if (inc && inc->n_list && !in_list(inc, nname) && !in_list(inc, t->name) && !in_list(inc, node->inputs[1]))
            continue;
        if (in_list(exc, nname) || in_list(exc, t->name) || in_list(exc, node->inputs[1])) continue;
        /* a tensor shared by several layers is compressed once, for its first */
        bool added;
        if ((s = lc_strset_add(&seen, node->inputs[1], NULL, &added)) || !added) continue;
        if ((s = lc_vec_reserve((void **)&list, &cap, *n + 1, sizeof *list))) break;
        list[(*n)++] = (lc_weight){t, node, i, input, oa, ia};
    }
    free(st);
    lc_strset_clear(&byname);
    lc_strset_clear(&seen);
    if (s) {
        free(list);
        *n = 0;
        return s;
    }
    *out = list;
    return LC_OK;
}
