/* huffman: mark weights for entropy coding. In .lcm files their index and
 * gap streams (and sparse positions) are then Huffman-coded wherever that
 * is smaller than raw bit-packing. The weights' float view does not change.
 *
 * With small=f16 (the default) it also rounds the small per-channel
 * vectors no other pass encodes (biases, normalization parameters, PRelu
 * slopes) to float16: the .lcm writer stores a tensor whose every value is
 * an exact float16 in half the bytes, which on small models is several
 * percent of the file (DS-CNN: about 1 KB of 15). The relative change is at
 * most 2^-11, and the pipeline's validation after the pass sees it.
 * small=i8 rounds the biases of Conv, ConvTranspose and Gemm further, to
 * the 8-bit grid of lc_grid8_round (one scale per tensor: max|b| / 127),
 * which the writer stores in one byte a value (format 3.0); the other
 * small vectors get float16, and so do the coded weights' scales,
 * centroids and alphas (lc_encoding_round_params_half: the writer then
 * stores them in 2 bytes; the weights move by at most 2^-11 relative). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"

/* The common weight selection without `correct`: nothing to correct, the
 * weights keep their values. */
static const lc_param_desc params[] = {
    {"ops", LC_PARAM_LIST, "", 0, 0, NULL, "op types whose weights are coded (default: Conv, ConvTranspose, Gemm, MatMul)"},
    {"include", LC_PARAM_LIST, "", 0, 0, NULL, "only these nodes or weight tensors (names; '*' matches any run of characters)"},
    {"exclude", LC_PARAM_LIST, "", 0, 0, NULL, "never these nodes or weight tensors (names, '*' glob)"},
    {"small", LC_PARAM_ENUM, "f16", 0, 0, "f16|i8|f32",
     "f16: round 1-D biases, normalization parameters and PRelu slopes to float16 (half the bytes; validated); "
     "i8: Conv/Gemm biases to an 8-bit grid with one scale per tensor (a quarter), the rest and the weights' "
     "centroids/scales float16"},
};

/* Ops whose inputs after the first are small per-channel vectors that a
 * float16 rounding only nudges (QuantizeLinear/DequantizeLinear scales are
 * not among them: they define the integer grid). */
static bool small_vector_op(const char *op)
{
    static const char *const ops[] = {"BatchNormalization", "Conv", "ConvTranspose", "Gemm", "InstanceNormalization",
                                      "LayerNormalization", "PRelu"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(op, ops[i])) return true;
    return false;
}

/* Whether every value is 0 or a normal float16 (2^-14 <= |v| <= 65504):
 * below that, float16 keeps fewer bits and the rounding is not small. */
static bool fits_f16(const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        if (!(a == 0.0f || (a >= 0x1p-14f && a <= 65504.0f))) return false;
    }
    return true;
}

/* Whether value `name` is read only as a non-first input of the ops above
 * (in the main graph: subgraphs may read it otherwise). */
static bool only_small_reads(const lc_graph *g, const char *name)
{
    bool any = false;
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            if (strcmp(n->inputs[k], name)) continue;
            if (k == 0 || (n->domain && *n->domain) || !small_vector_op(n->op_type)) return false;
            any = true;
        }
        for (int a = 0; a < n->n_attrs; a++)
            if (n->attrs[a].type == LC_ATTR_GRAPH || n->attrs[a].type == LC_ATTR_GRAPHS) return false;
    }
    return any;
}

/* Whether value `name` is read only as the bias (input 2) of Conv,
 * ConvTranspose or Gemm in the main graph. */
static bool only_bias_reads(const lc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const lc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (!strcmp(n->inputs[k], name) && (k != 2 || (strcmp(n->op_type, "Conv") && strcmp(n->op_type, "Gemm") &&
                                                            strcmp(n->op_type, "ConvTranspose"))))
                return false;
    }
    return true;
}

static int round_small_vectors(lc_model *m, bool grid8)
{
    const lc_graph *g = m->graph;
    int rounded = 0;
    for (int i = 0; i < g->n_inits; i++) {
        lc_tensor *t = g->inits[i];
        int64_t n = lc_tensor_numel(t);
        if (t->dtype != LC_DTYPE_FLOAT || t->ndim != 1 || n < 1 || !t->data) continue;
        if (t->enc && (t->enc->kind != LC_ENC_DENSE || t->enc->mask)) continue;
        if (!only_small_reads(g, t->name)) continue;
        float *v = t->data, s;
        if (lc_grid8_find(v, n, &s)) continue; /* already stored in a byte a value (rounded by a training loop) */
        /* the grid's step is relative to the largest value: tiny ones may
         * round to 0, which float16 would keep only above 2^-14 anyway */
        if (grid8 && !t->enc && only_bias_reads(g, t->name)) lc_grid8_round(v, n);
        else if (fits_f16(v, n))
            for (int64_t k = 0; k < n; k++) v[k] = lc_half_to_float(lc_float_to_half(v[k]));
        else continue;
        rounded++;
    }
    return rounded;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    lc_weight *w = NULL;
    int n = 0;
    lc_status s = lc_weight_targets(m, p, &w, &n);
    if (s) return s;
    for (int i = 0; i < n; i++) {
        lc_encoding *e = lc_tensor_encoding(w[i].tensor); /* DENSE when none */
        if (!e) {
            s = LC_ERR_NO_MEMORY;
            break;
        }
        e->entropy_coded = true;
    }
    lc_log(ctx, "huffman: %d weight tensors marked for entropy coding", n);
    /* i8: the coded weights' scales, centroids and alphas to float16 too */
    int halved = 0;
    for (int i = 0; i < n && !s && !strcmp(lc_params_str(p, "small"), "i8"); i++)
        halved += lc_encoding_round_params_half(w[i].tensor);
    if (halved) lc_log(ctx, "huffman: %d weight tensors' parameters rounded to float16", halved);
    const char *small = lc_params_str(p, "small");
    if (!s && strcmp(small, "f32"))
        lc_log(ctx, "huffman: %d small vectors rounded (%s)", round_small_vectors(m, !strcmp(small, "i8")), small);
    free(w);
    return s;
}

const lc_pass lc_pass_huffman = {
    .name = "huffman",
    .summary = "Huffman-code the index and gap streams of weights in .lcm files; float16 biases (small=f16)",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .weight_pass = true,
    .entropy = true,
    .run = run,
};
