/* HardSigmoid: clamp(alpha * x + beta, 0, 1), alpha 0.2 and beta 0.5 by
 * default (float types). NaN stays NaN. */
#include "lc_elementwise.h"

static inline float hsig_f(float x, float alpha, float beta)
{
    float v = alpha * x + beta;
    v = v < 0 ? 0 : v;
    return v > 1 ? 1 : v;
}

static inline double hsig_d(double x, double alpha, double beta)
{
    double v = alpha * x + beta;
    v = v < 0 ? 0 : v;
    return v > 1 ? 1 : v;
}

#define HSIG_F32(T, x) hsig_f(x, p->alpha, p->beta)
#define HSIG_F64(T, x) hsig_d(x, p->alpha_d, p->beta_d)
LC_EW_ROW1(hsig_f32, float, float, HSIG_F32)
LC_EW_ROW1(hsig_f64, double, double, HSIG_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = hsig_f32, [LC_DTYPE_DOUBLE] = hsig_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 0.2f);
    st->p.beta = lc_node_attr_float(a->node, "beta", 0.5f);
    st->p.alpha_d = st->p.alpha;
    st->p.beta_d = st->p.beta;
    return LC_OK;
}

LC_EW_KERNEL(HardSigmoid, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(HardSigmoid, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
