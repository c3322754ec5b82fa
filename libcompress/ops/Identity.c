/* Identity: a copy of the input tensor (any fixed-size dtype; sequences
 * and optionals are not tensors and are refused by the executor). */
#include "lc_elementwise.h"

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    const lc_value *x = a->in[0];
    if (!lc_dtype_size(x->dtype)) return lc_ew_bad_dtype(a, "input", x->dtype);
    return lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
}

LC_EW_KERNEL(Identity, 1, 1, 0, prepare, lc_ew_copy_run, NULL)
LC_EW_KERNEL(Identity, 13, 1, 0, prepare, lc_ew_copy_run, NULL)
LC_EW_KERNEL(Identity, 14, 1, 0, prepare, lc_ew_copy_run, NULL)
LC_EW_KERNEL(Identity, 16, 1, 0, prepare, lc_ew_copy_run, NULL)
