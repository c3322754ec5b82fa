/* Size: the input's element count as an int64 scalar. */
#include "lc_shape.h"

static lc_status prepare(lc_kernel_args *a)
{
    return lc_value_set_shape(a->out[0], LC_DTYPE_INT64, 0, NULL);
}

static lc_status run(lc_kernel_args *a)
{
    *(int64_t *)a->out[0]->data = lc_value_numel(a->in[0]);
    return LC_OK;
}

const lc_kernel lc_kernel_Size_1 = {"Size", 1, 1, LC_OPF_SHAPE_ONLY, prepare, run, NULL, NULL};
