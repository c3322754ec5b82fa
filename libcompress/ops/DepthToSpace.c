/* DepthToSpace: [N, C, H, W] -> [N, C/bs^2, H*bs, W*bs], moving channel
 * blocks into spatial blocks: mode DCR (default; depth-column-row order,
 * x seen as [N, bs, bs, C', H, W]) or CRD (opset 11; [N, C', bs, bs, H,
 * W]). A single strided copy; any sized dtype. */
#include <string.h>

#include "lc_shape.h"

static lc_status read_mode(const lc_kernel_args *a, bool *crd)
{
    const char *mode = a->opset >= 11 ? lc_node_attr_string(a->node, "mode", "DCR") : "DCR";
    *crd = strcmp(mode, "CRD") == 0;
    if (!*crd && strcmp(mode, "DCR") != 0)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "mode must be DCR or CRD, is \"%s\"", mode);
    return LC_OK;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0);
    if (!x || a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    bool crd;
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = read_mode(a, &crd);
    if (s) return s;
    int64_t bs = lc_node_attr_int(a->node, "blocksize", 0);
    if (bs < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "blocksize must be given and >= 1");
    if (x->ndim != 4) return lc_fail(LC_ERR_SHAPE, "input must have rank 4, has %d", x->ndim);
    if (x->dims[1] % (bs * bs))
        return lc_fail(LC_ERR_SHAPE, "channels (%lld) are not divisible by blocksize^2 (%lld)", (long long)x->dims[1],
                       (long long)(bs * bs));
    int64_t dims[4] = {x->dims[0], x->dims[1] / (bs * bs), x->dims[2] * bs, x->dims[3] * bs};
    return lc_value_set_shape(a->out[0], x->dtype, 4, dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    bool crd;
    read_mode(a, &crd);
    int64_t bs = lc_node_attr_int(a->node, "blocksize", 0);
    int64_t n = x->dims[0], c = x->dims[1] / (bs * bs), h = x->dims[2], w = x->dims[3];
    int64_t vd[6], vs[6];
    if (crd) {
        int64_t v[6] = {n, c, bs, bs, h, w};
        lc_contig_strides(6, v, vs);
    } else {
        int64_t v[6] = {n, bs, bs, c, h, w};
        lc_contig_strides(6, v, vs);
    }
    /* output view [N, C', H, bs, W, bs] and the input stride of each axis */
    int64_t od[6] = {n, c, h, bs, w, bs};
    int64_t os[6];
    if (crd) {
        int64_t p[6] = {vs[0], vs[1], vs[4], vs[2], vs[5], vs[3]};
        memcpy(os, p, sizeof os);
    } else {
        int64_t p[6] = {vs[0], vs[3], vs[4], vs[1], vs[5], vs[2]};
        memcpy(os, p, sizeof os);
    }
    memcpy(vd, od, sizeof vd);
    lc_copy_view(a->out[0]->data, x->data, lc_dtype_size(x->dtype), 6, vd, os, 0);
    return LC_OK;
}

const lc_kernel lc_kernel_DepthToSpace_1 = {"DepthToSpace", 1, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_DepthToSpace_11 = {"DepthToSpace", 11, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_DepthToSpace_13 = {"DepthToSpace", 13, 1, 0, prepare, run, NULL, NULL};
