/* SpaceToDepth: [N, C, H, W] -> [N, C*bs^2, H/bs, W/bs], the inverse of
 * DepthToSpace's DCR mode: x seen as [N, C, H', bs, W', bs] and copied in
 * the order [N, bs, bs, C, H', W']. Any sized dtype. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = lc_input(a, 0);
    if (!x || a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs an input and an output");
    lc_status s = lc_need_sized(x, "input");
    if (s) return s;
    int64_t bs = lc_node_attr_int(a->node, "blocksize", 0);
    if (bs < 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "blocksize must be given and >= 1");
    if (x->ndim != 4) return lc_fail(LC_ERR_SHAPE, "input must have rank 4, has %d", x->ndim);
    if (x->dims[2] % bs || x->dims[3] % bs)
        return lc_fail(LC_ERR_SHAPE, "spatial dims %lldx%lld are not divisible by blocksize %lld", (long long)x->dims[2],
                       (long long)x->dims[3], (long long)bs);
    int64_t dims[4] = {x->dims[0], x->dims[1] * bs * bs, x->dims[2] / bs, x->dims[3] / bs};
    return lc_value_set_shape(a->out[0], x->dtype, 4, dims);
}

static lc_status run(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t bs = lc_node_attr_int(a->node, "blocksize", 0);
    int64_t v[6] = {x->dims[0], x->dims[1], x->dims[2] / bs, bs, x->dims[3] / bs, bs}, vs[6];
    lc_contig_strides(6, v, vs);
    int64_t od[6] = {v[0], bs, bs, v[1], v[2], v[4]};
    int64_t os[6] = {vs[0], vs[3], vs[5], vs[1], vs[2], vs[4]};
    lc_copy_view(a->out[0]->data, x->data, lc_dtype_size(x->dtype), 6, od, os, 0);
    return LC_OK;
}

const lc_kernel lc_kernel_SpaceToDepth_1 = {"SpaceToDepth", 1, 1, 0, prepare, run, NULL, NULL};
const lc_kernel lc_kernel_SpaceToDepth_13 = {"SpaceToDepth", 13, 1, 0, prepare, run, NULL, NULL};
