/* Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0, lambd 0.5 and
 * bias 0 by default (float types). */
#include "lc_elementwise.h"

#define SHRINK_F32(T, x) ((x) < -p->alpha ? (x) + p->beta : (x) > p->alpha ? (x) - p->beta : 0.0f)
#define SHRINK_F64(T, x) ((x) < -p->alpha_d ? (x) + p->beta_d : (x) > p->alpha_d ? (x) - p->beta_d : 0.0)
LC_EW_ROW1(shrink_f32, float, float, SHRINK_F32)
LC_EW_ROW1(shrink_f64, double, double, SHRINK_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = shrink_f32, [LC_DTYPE_DOUBLE] = shrink_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "lambd", 0.5f);
    st->p.beta = lc_node_attr_float(a->node, "bias", 0.0f);
    st->p.alpha_d = st->p.alpha;
    st->p.beta_d = st->p.beta;
    return LC_OK;
}

LC_EW_KERNEL(Shrink, 9, 1, 0, prepare, lc_ew_unary_run, NULL)
