/* Recomputing an .lcm file's CRCs, for tests and fuzz targets that damage
 * files on purpose and want the damage to reach the parsers. */
#include <zlib.h>

#include "lc_lcm.h"

void lc_lcm_reseal(uint8_t *b, size_t len)
{
    if (len < 12 || !lc_lcm_is(b, len)) return;
    if (lc_get16(b + 8) == LC_LCM_MAJOR || lc_get16(b + 8) == LC_LCM_MAJOR_V2) {
        if (len >= LC_LCM_HEADER2_SIZE)
            lc_put32(b + 12, (uint32_t)crc32_z(crc32(0, b, 12), b + LC_LCM_HEADER2_SIZE, len - LC_LCM_HEADER2_SIZE));
        return;
    }
    if (len < LC_LCM_HEADER_SIZE) return;
    uint32_t n = lc_get32(b + 12);
    if (n > 65536 || LC_LCM_HEADER_SIZE + (size_t)n * LC_LCM_ENTRY_SIZE > len) return;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = b + LC_LCM_HEADER_SIZE + (size_t)i * LC_LCM_ENTRY_SIZE;
        uint64_t off = lc_get64(e + 8), sl = lc_get64(e + 16);
        if (off <= len && sl <= len - off) lc_put32(e + 24, (uint32_t)crc32_z(0, b + off, (size_t)sl));
    }
    uLong crc = crc32(0, b, 28);
    crc = crc32_z(crc, b + LC_LCM_HEADER_SIZE, (size_t)n * LC_LCM_ENTRY_SIZE);
    lc_put32(b + 28, (uint32_t)crc);
}
