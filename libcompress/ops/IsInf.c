/* IsInf: bool mask of infinite elements (float types); detect_negative
 * and detect_positive (both 1 by default) select which infinities count.
 * The flags live in p.alpha (negative) and p.beta (positive). */
#include "lc_elementwise.h"

#define ISINF(T, x) ((T)(((x) == INFINITY && p->beta != 0) || ((x) == -INFINITY && p->alpha != 0)))
LC_EW_ROW1(isinf_f32, float, uint8_t, ISINF)
LC_EW_ROW1(isinf_f64, double, uint8_t, ISINF)

static const lc_ew_rows rows = {[LC_DTYPE_FLOAT] = isinf_f32, [LC_DTYPE_DOUBLE] = isinf_f64};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_unary_prepare(a, rows, LC_DTYPE_BOOL, &st);
    if (s) return s;
    st->p.alpha = lc_node_attr_int(a->node, "detect_negative", 1) != 0;
    st->p.beta = lc_node_attr_int(a->node, "detect_positive", 1) != 0;
    return LC_OK;
}

LC_EW_KERNEL(IsInf, 10, 1, 0, prepare, lc_ew_unary_run, NULL)
LC_EW_KERNEL(IsInf, 20, 1, 0, prepare, lc_ew_unary_run, NULL)
