/* Convolution geometry shared by the float and int8 kernels. */
#include "mc.h"

/* Output columns ox whose input column ox * s + k * d - p lies in [0, w). */
void mc_conv_span(uint32_t k, const mc_conv_dims *d, uint32_t *lo, uint32_t *hi)
{
    int32_t off = (int32_t)(k * d->dw) - d->pl; /* ix = ox * sw + off */
    int32_t a = off >= 0 ? 0 : (-off + d->sw - 1) / d->sw;
    int32_t b = (int32_t)d->w_in - 1 - off < 0 ? 0 : ((int32_t)d->w_in - 1 - off) / d->sw + 1;
    *lo = (uint32_t)a;
    *hi = (uint32_t)(b < (int32_t)d->w_out ? b : (int32_t)d->w_out);
    if (*hi < *lo) *hi = *lo;
}
