/* Elu: x < 0 ? alpha * (e^x - 1) : x, alpha default 1 (float types).
 * expm1 keeps small negative inputs accurate. */
#include "lc_elementwise.h"

#define ELU_F32(T, x) ((x) < 0 ? p->alpha * expm1f(x) : (x))
#define ELU_F64(T, x) ((x) < 0 ? p->alpha_d * expm1(x) : (x))
LC_EW_ROW1(elu_f32, float, float, ELU_F32)
LC_EW_ROW1(elu_f64, double, double, ELU_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = elu_f32, [LC_DTYPE_DOUBLE] = elu_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 1.0f);
    st->p.alpha_d = st->p.alpha;
    return LC_OK;
}

LC_EW_KERNEL(Elu, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Elu, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Elu, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
