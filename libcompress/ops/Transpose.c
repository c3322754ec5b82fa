/* Transpose: out.dims[i] = in.dims[perm[i]]; perm defaults to reversed. */
#include <stdlib.h>

#include "lc_shape.h"

typedef struct {
    int perm[LC_MAX_DIMS];
} state;

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *x = a->in[0];
    int64_t perm[LC_MAX_DIMS], dims[LC_MAX_DIMS];
    int n = 0;
    bool seen[LC_MAX_DIMS] = {false};
    lc_status s = lc_need_sized(x, "input");
    if (!s) s = lc_attr_ints(a->node, "perm", perm, LC_MAX_DIMS, &n);
    if (s) return s;
    if (!lc_node_attr(a->node, "perm")) {
        n = x->ndim;
        for (int i = 0; i < n; i++) perm[i] = n - 1 - i;
    }
    if (n != x->ndim) return lc_fail(LC_ERR_SHAPE, "perm has %d entries, input has rank %d", n, x->ndim);
    state *st = malloc(sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        int p;
        s = lc_norm_axis(perm[i], n, "perm entry", &p);
        if (!s && seen[p]) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "perm lists axis %d twice", p);
        if (s) goto fail;
        seen[p] = true;
        st->perm[i] = p;
        dims[i] = x->dims[p];
    }
    s = lc_value_set_shape(a->out[0], x->dtype, n, dims);
    if (s) goto fail;
    a->state = st;
    return LC_OK;
fail:
    free(st);
    return s;
}

static lc_status run(lc_kernel_args *a)
{
    const state *st = a->state;
    const lc_value *x = a->in[0];
    int64_t in_strides[LC_MAX_DIMS], strides[LC_MAX_DIMS];
    lc_contig_strides(x->ndim, x->dims, in_strides);
    for (int i = 0; i < x->ndim; i++) strides[i] = in_strides[st->perm[i]];
    lc_copy_view(a->out[0]->data, x->data, lc_dtype_size(x->dtype), x->ndim, a->out[0]->dims, strides, 0);
    return LC_OK;
}

const lc_kernel lc_kernel_Transpose_1 = {"Transpose", 1, 1, 0, prepare, run, free, NULL};
