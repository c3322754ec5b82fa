/* Mod: remainder of A / B with numpy broadcasting. fmod=0 (the default)
 * gives the sign of the divisor, like Python's %; fmod=1 that of the
 * dividend, like C's fmod and %. Integers: x % 0 is 0 (undefined in C,
 * ONNX leaves it open) and INT_MIN % -1 is 0. */
#include "lc_elementwise.h"

/* C remainder (sign of dividend) without the two undefined cases. */
#define CREM(T, x, y) ((y) == 0 || (y) == -1 ? (T)0 : (T)((x) % (y)))
#define UREM(T, x, y) ((y) == 0 ? (T)0 : (T)((x) % (y)))
/* Python remainder: C's, moved by the divisor when the signs differ. */
#define PYREM(T, x, y) ((T)(CREM(T, x, y) != 0 && ((CREM(T, x, y) < 0) != ((y) < 0)) ? CREM(T, x, y) + (y) : CREM(T, x, y)))
#define FMOD_F32(T, x, y) fmodf(x, y)
#define FMOD_F64(T, x, y) fmod(x, y)

static inline float pymod_f(float x, float y)
{
    float r = fmodf(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}

static inline double pymod_d(double x, double y)
{
    double r = fmod(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}

#define PYMOD_F32(T, x, y) pymod_f(x, y)
#define PYMOD_F64(T, x, y) pymod_d(x, y)

LC_EW_ROW2(fmod_f32, float, float, float, FMOD_F32)
LC_EW_ROW2(fmod_f64, double, double, double, FMOD_F64)
LC_EW_ROW2(pymod_f32, float, float, float, PYMOD_F32)
LC_EW_ROW2(pymod_f64, double, double, double, PYMOD_F64)
#define DEF_S(s, T, D) LC_EW_ROW2(crem_##s, T, T, T, CREM) LC_EW_ROW2(pyrem_##s, T, T, T, PYREM)
#define DEF_U(s, T, D) LC_EW_ROW2(urem_##s, T, T, T, UREM)
LC_EW_SINTS(DEF_S)
LC_EW_UINTS(DEF_U)

/* unsigned remainders are the same under both conventions */
#define REG_C(s, T, D) [D] = crem_##s,
#define REG_PY(s, T, D) [D] = pyrem_##s,
#define REG_U(s, T, D) [D] = urem_##s,
static const lc_ew_rows rows_fmod = {[LC_DTYPE_FLOAT] = fmod_f32, [LC_DTYPE_DOUBLE] = fmod_f64, LC_EW_SINTS(REG_C)
                                     LC_EW_UINTS(REG_U)};
static const lc_ew_rows rows_py = {[LC_DTYPE_FLOAT] = pymod_f32, [LC_DTYPE_DOUBLE] = pymod_f64, LC_EW_SINTS(REG_PY)
                                   LC_EW_UINTS(REG_U)};

static lc_status prepare(lc_kernel_args *a)
{
    int64_t f = lc_node_attr_int(a->node, "fmod", 0);
    if (f != 0 && f != 1) return lc_fail(LC_ERR_INVALID_ARGUMENT, "fmod must be 0 or 1, is %lld", (long long)f);
    /* ONNX requires fmod=1 for floats; fmod=0 on floats follows numpy.mod */
    return lc_ew_binary_prepare(a, f ? rows_fmod : rows_py, 0, NULL);
}

LC_EW_KERNEL(Mod, 10, 2, 0, prepare, lc_ew_binary_run, NULL)
LC_EW_KERNEL(Mod, 13, 2, 0, prepare, lc_ew_binary_run, NULL)
