/* LeakyRelu: x < 0 ? alpha * x : x, alpha default 0.01 (float types). */
#include "lc_elementwise.h"

#define LRELU_F32(T, x) ((x) < 0 ? p->alpha * (x) : (x))
#define LRELU_F64(T, x) ((x) < 0 ? p->alpha_d * (x) : (x))
LC_EW_ROW1(lrelu_f32, float, float, LRELU_F32)
LC_EW_ROW1(lrelu_f64, double, double, LRELU_F64)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = lrelu_f32, [LC_DTYPE_DOUBLE] = lrelu_f64};

/* Fusion: runs as a Conv/Gemm epilogue. */
static bool as_epilogue(const lc_kernel_args *a, lc_nn_epilogue *e)
{
    e->act = LC_NN_ACT_LEAKY;
    e->alpha = lc_node_attr_float(a->node, "alpha", 0.01f);
    return true;
}

static const lc_fusion fusion = {.as_epilogue = as_epilogue};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, 0, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_float(a->node, "alpha", 0.01f);
    st->p.alpha_d = st->p.alpha;
    return LC_OK;
}

LC_EW_KERNEL(LeakyRelu, 1, 1, 0, prepare, lc_ew_unary_run, &fusion)
LC_EW_KERNEL(LeakyRelu, 6, 1, 0, prepare, lc_ew_unary_run, &fusion)
LC_EW_KERNEL(LeakyRelu, 16, 1, 0, prepare, lc_ew_unary_run, &fusion)
