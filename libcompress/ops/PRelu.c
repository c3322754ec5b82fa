/* PRelu: x < 0 ? slope * x : x. From opset 7 slope broadcasts to X
 * (unidirectionally, numpy rules). Before, slope is one value or, as
 * PyTorch exports it, one value per channel (1-D of size X.shape[1]). */
#include <stdio.h>

#include "lc_elementwise.h"

#define PRELU_F(T, x, s) ((x) < 0 ? (s) * (x) : (x))
#define PRELU_S(T, x, s) ((x) < 0 ? LC_EW_WRAP_MUL(T, s, x) : (x))
#define PRELU_U(T, x, s) ((void)(s), (x))
#define DEF_F(s, T, D) LC_EW_ROW2(prelu_##s, T, T, T, PRELU_F)
#define DEF_S(s, T, D) LC_EW_ROW2(prelu_##s, T, T, T, PRELU_S)
#define DEF_U(s, T, D) LC_EW_ROW2(prelu_##s, T, T, T, PRELU_U)
LC_EW_FLOATS(DEF_F)
LC_EW_SINTS(DEF_S)
LC_EW_UINTS(DEF_U)

#define REG(s, T, D) [D] = prelu_##s,
static const lc_ew_rows rows = {LC_EW_NUMERIC(REG)};

static lc_status prepare(lc_kernel_args *a)
{
    lc_ew_state *st;
    lc_status s = lc_ew_binary_args(a);
    if (s) return s;
    const lc_value *x = a->in[0], *slope = a->in[1];
    if (x->dtype != slope->dtype)
        return lc_fail(LC_ERR_DTYPE, "X is %s, slope is %s", lc_dtype_name(x->dtype), lc_dtype_name(slope->dtype));
    if ((s = lc_ew_state_new(a, &st))) return s;
    if ((s = lc_ew_pick(a, st, rows, x->dtype, 2, x->dtype))) return s;
    if (a->opset < 7) {
        if (lc_value_numel(slope) == 1) {
            st->legacy = true;
            st->axis = 0;
        } else if (slope->ndim == 1 && x->ndim >= 2 && slope->dims[0] == x->dims[1]) {
            st->legacy = true;
            st->axis = 1;
        }
    }
    if ((s = lc_ew_binary_shape(a, st))) return s;
    const lc_value *o = a->out[0];
    bool same = o->ndim == x->ndim;
    for (int i = 0; same && i < x->ndim; i++) same = o->dims[i] == x->dims[i];
    if (!same) {
        char sd[256]; /* lc_dims_str's buffer is reused by the second call */
        snprintf(sd, sizeof sd, "%s", lc_dims_str(slope->ndim, slope->dims));
        return lc_fail(LC_ERR_SHAPE, "slope [%s] does not broadcast to X [%s]", sd, lc_dims_str(x->ndim, x->dims));
    }
    return LC_OK;
}

LC_EW_KERNEL(PRelu, 1, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(PRelu, 6, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(PRelu, 7, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(PRelu, 9, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(PRelu, 16, 2, 0, prepare, lc_ew_binary_run, NULL)
