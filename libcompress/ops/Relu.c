/* Relu: max(x, 0) (float and, from opset 14, signed integer types; we
 * accept integers at every opset). NaN stays NaN, as numpy's clip keeps it. */
#include "lc_elementwise.h"

#define RELU(T, x) ((x) < 0 ? (T)0 : (x))
#define DEF(s, T, D) LC_EW_ROW1(relu_##s, T, T, RELU)
LC_EW_FLOATS(DEF)
LC_EW_SINTS(DEF)

#define REG(s, T, D) [D] = relu_##s,
static const lc_ew_rows rows = {LC_EW_FLOATS(REG) LC_EW_SINTS(REG)};

/* Fusion: runs as a Conv/Gemm epilogue. */
static bool as_epilogue(const lc_kernel_args *a, lc_nn_epilogue *e)
{
    (void)a;
    e->act = LC_NN_ACT_RELU;
    return true;
}

static const lc_fusion fusion = {.as_epilogue = as_epilogue};

static lc_status prepare(lc_kernel_args *a)
{
    return lc_ew_unary_prepare(a, rows, 0, NULL);
}

LC_EW_KERNEL(Relu, 1, 1, 0, prepare, lc_ew_unary_run, &fusion)
LC_EW_KERNEL(Relu, 6, 1, 0, prepare, lc_ew_unary_run, &fusion)
LC_EW_KERNEL(Relu, 13, 1, 0, prepare, lc_ew_unary_run, &fusion)
LC_EW_KERNEL(Relu, 14, 1, 0, prepare, lc_ew_unary_run, &fusion)
