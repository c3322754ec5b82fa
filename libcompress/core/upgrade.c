/* lc_model_upgrade: raises a model's default-domain opset (see
 * libcompress/upgrade.h). The walk and the shared helpers live here, the per-op
 * adapters in upgrade_ops.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_upgrade_adapt.h"

/* Every operator of the default domain up to opset 17 (onnx.defs): an op
 * outside this list is one the converter does not know. */
static const char *const known_ops[] = {
    "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
    "BatchNormalization", "Bernoulli", "BitShift", "BlackmanWindow", "Cast", "CastLike", "Ceil", "Celu", "Clip",
    "Compress", "Concat", "ConcatFromSequence", "Constant", "ConstantOfShape", "Conv", "ConvInteger",
    "ConvTranspose", "Cos", "Cosh", "CumSum", "DFT", "DepthToSpace", "DequantizeLinear", "Det", "Div", "Dropout",
    "DynamicQuantizeLinear", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "EyeLike", "Flatten", "Floor",
    "GRU", "Gather", "GatherElements", "GatherND", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
    "Greater", "GreaterOrEqual", "GridSample", "HammingWindow", "HannWindow", "HardSigmoid", "HardSwish",
    "Hardmax", "Identity", "If", "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM", "LayerNormalization",
    "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "Loop", "LpNormalization", "LpPool", "MatMul",
    "MatMulInteger", "Max", "MaxPool", "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization",
    "MelWeightMatrix", "Min", "Mod", "Mul", "Multinomial", "Neg", "NegativeLogLikelihoodLoss", "NonMaxSuppression",
    "NonZero", "Not", "OneHot", "Optional", "OptionalGetElement", "OptionalHasElement", "Or", "PRelu", "Pad",
    "Pow", "QLinearConv", "QLinearMatMul", "QuantizeLinear", "RNN", "RandomNormal", "RandomNormalLike",
    "RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum",
    "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
    "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign", "Round", "STFT", "Scan", "Scatter",
    "ScatterElements", "ScatterND", "Selu", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
    "SequenceInsert", "SequenceLength", "SequenceMap", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size",
    "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "Split",
    "SplitToSequence", "Sqrt", "Squeeze", "StringNormalizer", "Sub", "Sum", "Tan", "Tanh", "TfIdfVectorizer",
    "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where", "Xor",
};

static int cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static bool known(const char *op)
{
    return bsearch(&op, known_ops, sizeof known_ops / sizeof *known_ops, sizeof *known_ops, cmp_name) != NULL;
}

static bool default_domain(const lc_node *n) { return !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"); }

/* The IR version an opset first appeared with (onnx/helper.py's table). */
static int64_t ir_for_opset(int64_t opset)
{
    return opset >= 15 ? 8 : opset >= 12 ? 7 : opset >= 11 ? 6 : opset >= 10 ? 5 : opset >= 9 ? 4 : 3;
}

lc_status lc_upgrade_refuse(const lc_upgrade_ctx *c, const lc_node *n, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return lc_fail(LC_ERR_UNSUPPORTED, "node '%s' (%s): %s (upgrading opset %lld to %lld)", lc_node_label(n),
                   n->op_type, why, (long long)c->from, (long long)c->to);
}

bool lc_upgrade_take_attr(lc_node *n, const char *name, lc_attr *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) {
            *out = n->attrs[i];
            memmove(n->attrs + i, n->attrs + i + 1, (size_t)(n->n_attrs - i - 1) * sizeof *n->attrs);
            n->n_attrs--;
            return true;
        }
    return false;
}

lc_status lc_upgrade_name(const lc_upgrade_ctx *c, const char *base, const char *suffix, char **out)
{
    size_t len = strlen(base) + strlen(suffix) + 2;
    char *b = malloc(len);
    if (!b) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    snprintf(b, len, "%s_%s", base, suffix);
    /* the main graph's check covers its subgraphs */
    lc_status s = lc_graph_unique_name(c->m->graph, b, out);
    free(b);
    return s;
}

lc_status lc_upgrade_add_input(lc_upgrade_ctx *c, lc_node *n, int input, const char *suffix, int dtype, int ndim,
                               const int64_t *dims, const void *data)
{
    char *name = NULL;
    const char *base = n->n_outputs && *n->outputs[0] ? n->outputs[0] : lc_node_label(n);
    lc_status s = lc_upgrade_name(c, base, suffix, &name);
    if (!s) s = lc_graph_add_init(c->g, name, dtype, ndim, dims, data, NULL);
    if (!s) s = lc_node_set_input(n, input, name);
    free(name);
    return s;
}

/* Declared element type of `name` in g, or 0. */
static int declared_dtype(const lc_graph *g, const char *name)
{
    const lc_value_info *lists[] = {g->inputs, g->outputs, g->value_info};
    const int counts[] = {g->n_inputs, g->n_outputs, g->n_value_info};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < counts[l]; i++)
            if (!strcmp(lists[l][i].name, name) && lists[l][i].type.kind == LC_TYPE_TENSOR)
                return lists[l][i].type.elem_type;
    const lc_tensor *t = lc_graph_init(g, name);
    return t ? t->dtype : 0;
}

lc_status lc_upgrade_add_float_input(lc_upgrade_ctx *c, lc_node *n, int input, const char *suffix, const char *like,
                                     int ndim, int count, const float *values)
{
    int dtype = declared_dtype(c->g, like);
    if (!dtype) dtype = declared_dtype(c->m->graph, like);
    if (dtype != LC_DTYPE_DOUBLE && dtype != LC_DTYPE_FLOAT16) dtype = LC_DTYPE_FLOAT;
    int64_t dims[1] = {count};
    double d[LC_MAX_DIMS * 2 + 2];
    uint16_t h[LC_MAX_DIMS * 2 + 2];
    if (count > (int)(sizeof d / sizeof *d)) return lc_upgrade_refuse(c, n, "too many values (%d)", count);
    for (int i = 0; i < count; i++) {
        d[i] = values[i];
        h[i] = lc_float_to_half(values[i]);
    }
    const void *data = dtype == LC_DTYPE_DOUBLE ? (const void *)d : dtype == LC_DTYPE_FLOAT16 ? (const void *)h
                                                                                               : (const void *)values;
    return lc_upgrade_add_input(c, n, input, suffix, dtype, ndim, dims, data);
}

static int declared_rank(const lc_graph *g, const char *name)
{
    const lc_value_info *lists[] = {g->inputs, g->outputs, g->value_info};
    const int counts[] = {g->n_inputs, g->n_outputs, g->n_value_info};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < counts[l]; i++)
            if (!strcmp(lists[l][i].name, name) && lists[l][i].type.kind == LC_TYPE_TENSOR &&
                lists[l][i].type.has_shape)
                return lists[l][i].type.ndim;
    const lc_tensor *t = lc_graph_init(g, name);
    return t ? t->ndim : -1;
}

int lc_upgrade_rank(const lc_upgrade_ctx *c, const char *name)
{
    int r = declared_rank(c->g, name);
    return r >= 0 ? r : declared_rank(c->m->graph, name);
}

static lc_status upgrade_graph(lc_upgrade_ctx *c, lc_graph *g);

/* Applies the adapters of versions from+1..to to node c->g->nodes[c->index]
 * (an adapter may rename the op: Upsample becomes Resize at 10). */
static lc_status upgrade_node(lc_upgrade_ctx *c, lc_node *n)
{
    if (!known(n->op_type)) return lc_upgrade_refuse(c, n, "the opset converter does not know op '%s'", n->op_type);
    for (int64_t v = c->from + 1; v <= c->to; v++)
        for (int k = 0; k < lc_upgrade_adapter_count; k++) {
            const lc_upgrade_adapter *a = &lc_upgrade_adapters[k];
            if (a->version != v || strcmp(a->op, n->op_type)) continue;
            c->step = v;
            lc_status s = a->fn(c, n);
            if (s) return s;
            break;
        }
    return LC_OK;
}

static lc_status upgrade_graph(lc_upgrade_ctx *c, lc_graph *g)
{
    lc_graph *outer = c->g;
    int outer_index = c->index;
    lc_status s = LC_OK;
    c->g = g;
    for (c->index = 0; c->index < g->n_nodes && !s; c->index++) {
        lc_node *n = g->nodes[c->index];
        for (int a = 0; a < n->n_attrs && !s; a++) {
            lc_attr *at = &n->attrs[a];
            if (at->type == LC_ATTR_GRAPH && at->g) s = upgrade_graph(c, at->g);
            for (int k = 0; at->type == LC_ATTR_GRAPHS && k < at->n && !s; k++) s = upgrade_graph(c, at->graphs[k]);
        }
        if (!s && default_domain(n)) s = upgrade_node(c, n);
        /* continue after n and the nodes an adapter put after it */
        if (!s) c->index = lc_graph_node_index(g, n) + c->after;
        c->after = 0;
    }
    c->g = outer;
    c->index = outer_index;
    return s;
}

/* IR 3 required every initializer to be listed as a graph input too, so
 * exporters listed them all; from IR 4 an initializer that is also an input
 * is a default the caller may override, which keeps passes from treating it
 * as a constant (no BatchNorm folding, the float weight kept beside its
 * int8 copy). Leaving IR 3 drops those entries, as ONNX Runtime's
 * remove_initializer_from_input does. */
static void drop_initializer_inputs(lc_graph *g)
{
    int j = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        if (lc_graph_init(g, g->inputs[i].name)) {
            lc_value_info_clear(&g->inputs[i]);
            continue;
        }
        g->inputs[j++] = g->inputs[i];
    }
    g->n_inputs = j;
}

lc_status lc_model_upgrade(lc_model *m, int64_t opset)
{
    if (!m || !m->graph) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_upgrade: NULL model");
    if (opset < LC_UPGRADE_MIN_OPSET || opset > LC_UPGRADE_MAX_OPSET)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_upgrade: opset %lld is out of range (%d to %d)",
                       (long long)opset, LC_UPGRADE_MIN_OPSET, LC_UPGRADE_MAX_OPSET);
    const char *label = m->path ? m->path : "model";
    int64_t from = lc_model_opset(m, "");
    if (from == opset) return LC_OK;
    if (from < LC_UPGRADE_MIN_OPSET)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "%s: the model imports opset %lld; upgrading to opset %lld starts from opset %d or later",
                       label, (long long)from, (long long)opset, LC_UPGRADE_MIN_OPSET);
    if (from > opset)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: the model imports opset %lld, newer than opset %lld (no downgrade)",
                       label, (long long)from, (long long)opset);
    lc_upgrade_ctx c = {.m = m, .from = from, .to = opset};
    lc_status s = upgrade_graph(&c, m->graph);
    if (!s) s = lc_model_set_opset(m, opset);
    if (!s && m->ir_version < 4 && ir_for_opset(opset) >= 4) drop_initializer_inputs(m->graph);
    if (!s && m->ir_version < ir_for_opset(opset)) m->ir_version = ir_for_opset(opset);
    if (!s) s = lc_model_verify(m, "lc_model_upgrade");
    return s;
}
