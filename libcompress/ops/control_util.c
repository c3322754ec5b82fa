/* Helpers of the control-flow kernels (see lc_control.h). */
#include <string.h>

#include "lc_control.h"

lc_status lc_cf_graph(const lc_kernel_args *a, const char *name, const lc_graph **g)
{
    const lc_attr *at = lc_node_attr(a->node, name);
    if (!at || at->type != LC_ATTR_GRAPH || !at->g)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "attribute '%s' (a graph) is required", name);
    *g = at->g;
    return LC_OK;
}

const lc_value *lc_cf_output_value(const lc_executor *sub, int i)
{
    const char *name = NULL;
    lc_executor_output(sub, i, NULL, &name);
    return name ? lc_executor_value(sub, name) : NULL;
}

void lc_cf_copy_output(void *dst, const lc_executor *sub, int i, size_t nbytes)
{
    lc_array o;
    if (nbytes && lc_executor_output(sub, i, &o, NULL) == LC_OK && o.data && o.data != dst) memcpy(dst, o.data, nbytes);
}

size_t lc_cf_nbytes(const lc_value *v)
{
    return (size_t)lc_value_numel(v) * lc_dtype_size(v->dtype);
}

bool lc_cf_same_type(const lc_value *x, const lc_value *y)
{
    if (x->dtype != y->dtype || x->ndim != y->ndim) return false;
    for (int d = 0; d < x->ndim; d++)
        if (x->dims[d] != y->dims[d]) return false;
    return true;
}
