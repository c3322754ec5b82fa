/* Selu: gamma * (x <= 0 ? alpha * (e^x - 1) : x), with ONNX's defaults
 * alpha = 1.6732632..., gamma = 1.0507010... (float types). */
#include "lc_elementwise.h"

#define SELU_F32(T, x) ((x) <= 0 ? p->beta * p->alpha * expm1f(x) : p->beta * (x))
#define SELU_F64(T, x) ((x) <= 0 ? p->beta_d * p->alpha_d * expm1(x) : p->beta_d * (x))
LC_EW_ROW1(selu_f32, float, float, SELU_F32)
LC_EW_ROW1(selu_f64, double, double, SELU_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = selu_f32, [LC_DTYPE_DOUBLE] = selu_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    /* p.beta holds gamma */
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 1.67326319217681884765625f);
    st->p.beta = lc_node_attr_float(a->node, "gamma", 1.05070102214813232421875f);
    st->p.alpha_d = st->p.alpha;
    st->p.beta_d = st->p.beta;
    return LC_OK;
}

LC_EW_KERNEL(Selu, 1, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Selu, 6, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(Selu, 22, 1, 0, prepare, lc_ew_unary_run, NULL)
