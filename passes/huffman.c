/* huffman: mark weights for entropy coding. In .lcm files their index and
 * gap streams (and sparse positions) are then Huffman-coded wherever that
 * is smaller than raw bit-packing. The float view does not change. */
#include <stdlib.h>

#include "lc_encoding.h"
#include "lc_pass.h"

/* The common weight selection without `correct`: nothing to correct, the
 * weights keep their values. */
static const lc_param_desc params[] = {
    {"ops", LC_PARAM_LIST, "", 0, 0, NULL, "op types whose weights are coded (default: Conv, ConvTranspose, Gemm, MatMul)"},
    {"include", LC_PARAM_LIST, "", 0, 0, NULL, "only these nodes or weight tensors (names; '*' matches any run of characters)"},
    {"exclude", LC_PARAM_LIST, "", 0, 0, NULL, "never these nodes or weight tensors (names, '*' glob)"},
};

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
    free(w);
    return s;
}

const lc_pass lc_pass_huffman = {
    .name = "huffman",
    .summary = "Huffman-code the index and gap streams of weights in .lcm files (values unchanged)",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .weight_pass = true,
    .entropy = true,
    .run = run,
};
