/* The per-op adapters of the opset upgrade (see libcompress/upgrade.h for the list
 * and lc_upgrade_adapt.h for the contract). Each rewrites one node from the
 * signature before `version` to the one at `version`, computing the same. */
#include <stdlib.h>
#include <string.h>

#include "lc_upgrade_adapt.h"

/* Moves INTS attribute `attr` into int64 input `input` (1-d); nothing when
 * the node has no such attribute. *had (optional) tells which. */
static lc_status ints_to_input(lc_upgrade_ctx *c, lc_node *n, const char *attr, int input, bool *had)
{
    lc_attr a;
    bool found = lc_upgrade_take_attr(n, attr, &a);
    if (had) *had = found;
    if (!found) return LC_OK;
    int64_t dims[1] = {a.n};
    lc_status s = a.type == LC_ATTR_INTS ? lc_upgrade_add_input(c, n, input, attr, LC_DTYPE_INT64, 1, dims, a.ints)
                                         : lc_upgrade_refuse(c, n, "attribute '%s' is not a list of ints", attr);
    lc_attr_clear(&a);
    return s;
}

static void drop_attr(lc_node *n, const char *name)
{
    lc_attr a;
    if (lc_upgrade_take_attr(n, name, &a)) lc_attr_clear(&a);
}

/* Whether output k of n exists and something reads it. */
static bool output_used(const lc_upgrade_ctx *c, const lc_node *n, int k)
{
    if (k >= n->n_outputs || !*n->outputs[k]) return false;
    return lc_graph_use_count(c->g, n->outputs[k]) > 0 || lc_graph_is_output(c->g, n->outputs[k]);
}

/* ---- attributes that became inputs ---- */

static lc_status clip_11(lc_upgrade_ctx *c, lc_node *n)
{
    static const char *const names[] = {"min", "max"};
    lc_status s = LC_OK;
    for (int k = 0; k < 2 && !s; k++) {
        lc_attr a;
        if (!lc_upgrade_take_attr(n, names[k], &a)) continue;
        float v = a.f;
        s = a.type == LC_ATTR_FLOAT ? lc_upgrade_add_float_input(c, n, 1 + k, names[k], n->inputs[0], 0, 1, &v)
                                    : lc_upgrade_refuse(c, n, "attribute '%s' is not a float", names[k]);
        lc_attr_clear(&a);
    }
    return s;
}

static lc_status pad_11(lc_upgrade_ctx *c, lc_node *n)
{
    bool had;
    lc_status s = ints_to_input(c, n, "pads", 1, &had);
    if (!s && !had) return lc_upgrade_refuse(c, n, "no 'pads' attribute");
    lc_attr a;
    if (!s && lc_upgrade_take_attr(n, "value", &a)) {
        float v = a.f;
        if (v != 0) s = lc_upgrade_add_float_input(c, n, 2, "value", n->inputs[0], 0, 1, &v);
        lc_attr_clear(&a);
    }
    return s;
}

static lc_status slice_10(lc_upgrade_ctx *c, lc_node *n)
{
    bool had_s, had_e;
    lc_status s = ints_to_input(c, n, "starts", 1, &had_s);
    if (!s) s = ints_to_input(c, n, "ends", 2, &had_e);
    if (!s && (!had_s || !had_e)) return lc_upgrade_refuse(c, n, "no 'starts' or 'ends' attribute");
    if (!s) s = ints_to_input(c, n, "axes", 3, NULL);
    return s;
}

static lc_status topk_10(lc_upgrade_ctx *c, lc_node *n)
{
    lc_attr a;
    if (!lc_upgrade_take_attr(n, "k", &a)) return lc_upgrade_refuse(c, n, "no 'k' attribute");
    int64_t k = a.i, one = 1;
    lc_attr_clear(&a);
    return lc_upgrade_add_input(c, n, 1, "k", LC_DTYPE_INT64, 1, &one, &k);
}

/* axes of Squeeze, Unsqueeze and ReduceSum, split of Split (13) */
static lc_status axes_13(lc_upgrade_ctx *c, lc_node *n) { return ints_to_input(c, n, "axes", 1, NULL); }
static lc_status split_13(lc_upgrade_ctx *c, lc_node *n) { return ints_to_input(c, n, "split", 1, NULL); }

static lc_status upsample_9(lc_upgrade_ctx *c, lc_node *n)
{
    lc_attr a;
    if (!lc_upgrade_take_attr(n, "scales", &a)) return lc_upgrade_refuse(c, n, "no 'scales' attribute");
    lc_status s = a.type == LC_ATTR_FLOATS && a.n <= LC_MAX_DIMS
                      ? lc_upgrade_add_input(c, n, 1, "scales", LC_DTYPE_FLOAT, 1, (int64_t[]){a.n}, a.floats)
                      : lc_upgrade_refuse(c, n, "attribute 'scales' is not a list of at most %d floats", LC_MAX_DIMS);
    lc_attr_clear(&a);
    return s;
}

static lc_status dropout_12(lc_upgrade_ctx *c, lc_node *n)
{
    drop_attr(n, "is_test");
    lc_attr a;
    if (!lc_upgrade_take_attr(n, "ratio", &a)) return LC_OK;
    float r = a.f;
    lc_attr_clear(&a);
    return lc_upgrade_add_float_input(c, n, 1, "ratio", n->inputs[0], 0, 1, &r);
}

/* ---- replaced operators ---- */

static lc_status rename_op(lc_node *n, const char *op)
{
    char *t = lc_strdup(op);
    if (!t) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    free(n->op_type);
    n->op_type = t;
    return LC_OK;
}

/* Upsample is deprecated at 10; Resize-10 has the same inputs and modes */
static lc_status upsample_10(lc_upgrade_ctx *c, lc_node *n)
{
    (void)c;
    return rename_op(n, "Resize");
}

static lc_status scatter_11(lc_upgrade_ctx *c, lc_node *n)
{
    (void)c;
    return rename_op(n, "ScatterElements");
}

static lc_status set_string_attr(lc_node *n, const char *name, const char *value)
{
    lc_attr a;
    drop_attr(n, name);
    lc_attr *na = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *na);
    if (!na) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    n->attrs = na;
    memset(&a, 0, sizeof a);
    a.type = LC_ATTR_STRING;
    a.name = lc_strdup(name);
    a.s.data = lc_strdup(value);
    a.s.len = strlen(value);
    if (!a.name || !a.s.data) {
        lc_attr_clear(&a);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    n->attrs[n->n_attrs++] = a;
    return LC_OK;
}

/* Resize-10 (X, scales) maps coordinates asymmetrically and takes the
 * floor for nearest; at 11 that is spelled out, and roi comes between. */
static lc_status resize_11(lc_upgrade_ctx *c, lc_node *n)
{
    if (n->n_inputs != 2) return lc_upgrade_refuse(c, n, "expected 2 inputs, found %d", n->n_inputs);
    char *scales = lc_strdup(n->inputs[1]);
    if (!scales) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    int64_t zero = 0;
    lc_status s = lc_node_set_input(n, 2, scales);
    free(scales);
    if (!s) s = lc_upgrade_add_input(c, n, 1, "roi", LC_DTYPE_FLOAT, 1, &zero, NULL);
    if (!s) s = set_string_attr(n, "coordinate_transformation_mode", "asymmetric");
    if (!s && !strcmp(lc_node_attr_string(n, "mode", "nearest"), "nearest"))
        s = set_string_attr(n, "nearest_mode", "floor");
    return s;
}

static lc_status resize_13(lc_upgrade_ctx *c, lc_node *n)
{
    if (!strcmp(lc_node_attr_string(n, "coordinate_transformation_mode", ""), "tf_half_pixel_for_nn"))
        return lc_upgrade_refuse(c, n, "coordinate_transformation_mode 'tf_half_pixel_for_nn' has no equivalent at "
                                       "opset 13");
    return LC_OK;
}

/* ---- removed attributes, changed outputs ---- */

static lc_status batchnorm_9(lc_upgrade_ctx *c, lc_node *n)
{
    if (lc_node_attr(n, "spatial") && lc_node_attr_int(n, "spatial", 1) == 0)
        return lc_upgrade_refuse(c, n, "spatial=0 (statistics per element) has no equivalent from opset 9 on");
    drop_attr(n, "spatial");
    drop_attr(n, "is_test");
    drop_attr(n, "consumed_inputs");
    return LC_OK;
}

/* From 14 the optional outputs are the running statistics of training
 * mode; the old ones (statistics of a training step) must go unused. */
static lc_status batchnorm_14(lc_upgrade_ctx *c, lc_node *n)
{
    for (int k = 1; k < n->n_outputs; k++)
        if (output_used(c, n, k))
            return lc_upgrade_refuse(c, n, "output %d ('%s') holds training statistics, gone at opset 14", k,
                                     n->outputs[k]);
    while (n->n_outputs > 1) free(n->outputs[--n->n_outputs]);
    return LC_OK;
}

/* The mask output turns bool at 10 */
static lc_status dropout_10(lc_upgrade_ctx *c, lc_node *n)
{
    if (output_used(c, n, 1))
        return lc_upgrade_refuse(c, n, "its mask output '%s' changes type at opset 10", n->outputs[1]);
    drop_attr(n, "is_test");
    return LC_OK;
}

/* Until 12 RoiAlign sampled without the half-pixel offset, the default
 * from 16 on. */
static lc_status roialign_16(lc_upgrade_ctx *c, lc_node *n)
{
    (void)c;
    if (lc_node_attr(n, "coordinate_transformation_mode")) return LC_OK;
    return set_string_attr(n, "coordinate_transformation_mode", "output_half_pixel");
}

static lc_status scan_9(lc_upgrade_ctx *c, lc_node *n)
{
    return lc_upgrade_refuse(c, n, "Scan-8's batch axis has no equivalent from opset 9 on");
}

/* Softmax, LogSoftmax, Hardmax before 13 flatten the input to 2-d at
 * `axis` and normalize over the trailing part; from 13 over one axis. The
 * same unless axis is the last: Shape + Flatten + op(axis=1) + Reshape. */
static lc_status softmax_13(lc_upgrade_ctx *c, lc_node *n)
{
    int64_t axis = lc_node_attr_int(n, "axis", 1);
    int rank = lc_upgrade_rank(c, n->inputs[0]);
    if (axis == -1 || (rank > 0 && (axis == rank - 1 || axis + rank == rank - 1))) {
        if (!lc_node_attr(n, "axis")) return lc_node_set_attr_int(n, "axis", 1);
        return LC_OK;
    }
    char *shape = NULL, *flat = NULL, *norm = NULL;
    const char *x = n->inputs[0], *y = n->outputs[0];
    lc_status s = lc_upgrade_name(c, y, "shape", &shape);
    if (!s) s = lc_upgrade_name(c, y, "flat", &flat);
    if (!s) s = lc_upgrade_name(c, y, "2d", &norm);
    if (s) goto out;
    lc_node *sh = lc_node_make("Shape", NULL, 1, &x, 1, (const char *const *)&shape);
    lc_node *fl = lc_node_make("Flatten", NULL, 1, &x, 1, (const char *const *)&flat);
    const char *rin[2] = {norm, shape};
    lc_node *rs = lc_node_make("Reshape", NULL, 2, rin, 1, &y);
    if (!sh || !fl || !rs) {
        lc_node_free(sh), lc_node_free(fl), lc_node_free(rs);
        s = LC_ERR_NO_MEMORY;
        goto out;
    }
    if ((s = lc_node_set_attr_int(fl, "axis", axis)) || (s = lc_node_set_attr_int(n, "axis", 1)) ||
        (s = lc_node_set_input(n, 0, flat)) || (s = lc_node_set_output(n, 0, norm))) {
        lc_node_free(sh), lc_node_free(fl), lc_node_free(rs);
        goto out;
    }
    int at = lc_graph_node_index(c->g, n);
    if ((s = lc_graph_insert_node_take(c->g, at + 1, rs))) {
        lc_node_free(sh), lc_node_free(fl);
        goto out;
    }
    c->after++;
    if ((s = lc_graph_insert_node_take(c->g, at, fl))) {
        lc_node_free(sh);
        goto out;
    }
    s = lc_graph_insert_node_take(c->g, at, sh);
out:
    free(shape);
    free(flat);
    free(norm);
    return s;
}

/* Sorted by op, then version. */
const lc_upgrade_adapter lc_upgrade_adapters[] = {
    {"BatchNormalization", 9, batchnorm_9},
    {"BatchNormalization", 14, batchnorm_14},
    {"Clip", 11, clip_11},
    {"Dropout", 10, dropout_10},
    {"Dropout", 12, dropout_12},
    {"Hardmax", 13, softmax_13},
    {"LogSoftmax", 13, softmax_13},
    {"Pad", 11, pad_11},
    {"ReduceSum", 13, axes_13},
    {"Resize", 11, resize_11},
    {"Resize", 13, resize_13},
    {"RoiAlign", 16, roialign_16},
    {"Scan", 9, scan_9},
    {"Scatter", 11, scatter_11},
    {"Slice", 10, slice_10},
    {"Softmax", 13, softmax_13},
    {"Split", 13, split_13},
    {"Squeeze", 13, axes_13},
    {"TopK", 10, topk_10},
    {"Unsqueeze", 13, axes_13},
    {"Upsample", 9, upsample_9},
    {"Upsample", 10, upsample_10},
};
const int lc_upgrade_adapter_count = (int)(sizeof lc_upgrade_adapters / sizeof *lc_upgrade_adapters);
