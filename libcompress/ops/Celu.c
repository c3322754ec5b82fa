/* Celu: max(0, x) + min(0, alpha * (e^(x/alpha) - 1)), alpha default 1
 * (float types). */
#include "lc_elementwise.h"

#define CELU_F32(T, x) ((x) > 0 ? (x) : p->alpha * expm1f((x) / p->alpha))
#define CELU_F64(T, x) ((x) > 0 ? (x) : p->alpha_d * expm1((x) / p->alpha_d))
LC_EW_ROW1(celu_f32, float, float, CELU_F32)
LC_EW_ROW1(celu_f64, double, double, CELU_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = celu_f32, [LC_DTYPE_DOUBLE] = celu_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 1.0f);
    st->p.alpha_d = st->p.alpha;
    if (st->p.alpha == 0) return lc_fail(LC_ERR_INVALID_ARGUMENT, "alpha must not be 0");
    return LC_OK;
}

LC_EW_KERNEL(Celu, 12, 1, 0, prepare, lc_ew_unary_run, NULL)
