/* Dropout at inference: output = input; the optional mask is all true
 * (bool from opset 10, x's dtype with value 1 before). Training mode
 * (opset 12+ input `training_mode` true, or not known at plan time) is
 * refused. Before opset 7 the `is_test` attribute is ignored: this
 * executor only ever runs inference. */
#include "lc_elementwise.h"

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || !a->in[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing input");
    if (a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing output");
    const lc_value *x = a->in[0];
    if (lc_ew_kind(x->dtype) != 'f') return lc_ew_bad_dtype(a, "input", x->dtype);
    if (a->opset >= 12 && a->n_in > 2 && a->in[2]) {
        const lc_value *t = a->in[2];
        if (!t->is_const)
            return lc_fail(LC_ERR_UNSUPPORTED, "training_mode input '%s' is not a constant (training is not supported)",
                           t->name);
        if (lc_value_scalar(t) != 0) return lc_fail(LC_ERR_UNSUPPORTED, "training_mode=true is not supported");
    }
    lc_status s = lc_value_set_shape(a->out[0], x->dtype, x->ndim, x->dims);
    if (s) return s;
    if (a->n_out > 1 && a->out[1])
        s = lc_value_set_shape(a->out[1], a->opset >= 10 ? LC_DTYPE_BOOL : x->dtype, x->ndim, x->dims);
    return s;
}

static lc_status run(lc_kernel_args *a)
{
    lc_status s = lc_ew_copy_run(a);
    if (s || a->n_out < 2 || !a->out[1]) return s;
    lc_value *m = a->out[1];
    int64_t n = lc_value_numel(m);
    const int64_t one[1] = {1};
    if (m->dtype == LC_DTYPE_BOOL) {
        if (n) memset(m->data, 1, (size_t)n);
    } else {
        size_t es = lc_dtype_size(m->dtype);
        lc_ew_store_i64(m->dtype, one, n ? 1 : 0, m->data);
        for (int64_t i = 1; i < n; i++) memcpy((char *)m->data + (size_t)i * es, m->data, es);
    }
    return LC_OK;
}

LC_EW_KERNEL(Dropout, 1, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Dropout, 6, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Dropout, 7, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Dropout, 10, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Dropout, 12, 1, 0, prepare, run, NULL)
LC_EW_KERNEL(Dropout, 13, 1, 0, prepare, run, NULL)
