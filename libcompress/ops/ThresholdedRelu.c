/* ThresholdedRelu: x > alpha ? x : 0, alpha default 1 (float types). */
#include "lc_elementwise.h"

#define TR_F32(T, x) ((x) > p->alpha ? (x) : 0.0f)
#define TR_F64(T, x) ((x) > p->alpha_d ? (x) : 0.0)
LC_EW_ROW1(trelu_f32, float, float, TR_F32)
LC_EW_ROW1(trelu_f64, double, double, TR_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = trelu_f32, [LC_DTYPE_DOUBLE] = trelu_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 1.0f);
    st->p.alpha_d = st->p.alpha;
    return LC_OK;
}

LC_EW_KERNEL(ThresholdedRelu, 10, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(ThresholdedRelu, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
