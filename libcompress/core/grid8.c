/* The 8-bit grid of small float vectors (biases): one float32 scale per
 * tensor, s = max|v| / 127, and every value an integer multiple q * s with
 * |q| <= 127. The .lcm writer stores a vector that lies on such a grid in
 * one byte per value (a UNIFORM record without encoding, formats/LCM.md),
 * so a pass or a training loop that rounds biases to it (lc_grid8_round,
 * or the same arithmetic in float32 elsewhere) gets them stored in a
 * quarter of the bytes, and the file still decodes to exactly the float
 * view that was validated. */
#include <math.h>
#include <string.h>

#include "lc_encoding.h"

static float grid_scale(const float *v, int64_t n)
{
    float m = 0;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        if (!(a <= 3.0e38f)) return 0; /* inf or NaN: no grid */
        if (a > m) m = a;
    }
    return m / (float)LC_GRID8_LEVELS;
}

/* Whether every value is q * s with |q| <= 127, bit for bit (+0.0 for
 * q = 0: an integer converted to float has no sign of zero). */
static bool on_grid(const float *v, int64_t n, float s)
{
    if (!(s > 0) || !isfinite(s)) return false;
    for (int64_t i = 0; i < n; i++) {
        float q = rintf(v[i] / s);
        if (!(fabsf(q) <= (float)LC_GRID8_LEVELS)) return false;
        float back = (float)(int)q * s;
        if (memcmp(&back, &v[i], 4)) return false;
    }
    return true;
}

int64_t lc_grid8_round(float *v, int64_t n)
{
    float s = grid_scale(v, n);
    if (!(s > 0) || lc_grid8_find(v, n, &s)) return 0; /* idempotent: a grid's max may give a scale an ulp off */
    int64_t moved = 0;
    for (int64_t i = 0; i < n; i++) {
        float r = (float)(int)rintf(v[i] / s) * s;
        moved += memcmp(&r, &v[i], 4) != 0;
        v[i] = r;
    }
    return moved;
}

bool lc_grid8_find(const float *v, int64_t n, float *scale)
{
    /* max|v| is fl(127 s); dividing back lands on s or within an ulp or two */
    float s0 = grid_scale(v, n);
    if (!(s0 > 0)) return false;
    float c[5] = {s0, nextafterf(s0, 0), nextafterf(s0, INFINITY), 0, 0};
    c[3] = nextafterf(c[1], 0);
    c[4] = nextafterf(c[2], INFINITY);
    for (int k = 0; k < 5; k++)
        if (on_grid(v, n, c[k])) {
            *scale = c[k];
            return true;
        }
    return false;
}
