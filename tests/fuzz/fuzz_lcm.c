/* Fuzz target for the .lcm reader. Built with libFuzzer when LC_FUZZ=ON
 * (clang); the plain build links fuzz_main.c, which replays the files
 * given on the command line, so the seed corpus runs as a plain test, also
 * under the sanitizers. Any input must give LC_OK with a model whose encodings
 * verify, or a clean error: never a crash, leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lc_encoding.h"
#include "lc_lcm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Recomputes the header's and the sections' CRCs, so mutations reach the
 * parsers behind them instead of stopping at a CRC mismatch. */
static void fix_crcs(uint8_t *b, size_t len)
{
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

static void one(const uint8_t *data, size_t size)
{
    lc_model *m = NULL;
    if (lc_model_load_lcm_buffer(data, size, "fuzz.lcm", &m) == LC_OK) {
        if (lc_model_verify_encodings(m) != LC_OK) abort();
        void *buf = NULL;
        size_t len = 0;
        /* what decode would write, and a second .lcm of the result */
        if (lc_model_save_onnx_buffer(m, &buf, &len) == LC_OK) free(buf);
        if (lc_model_save_lcm_buffer(m, NULL, &buf, &len) == LC_OK) free(buf);
        lc_model_free(m);
        lc_lcm_accounting a;
        if (lc_lcm_accounting_compute(data, size, &a) != LC_OK) abort();
        lc_lcm_accounting_clear(&a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    fix_crcs(copy, size);
    one(copy, size);
    free(copy);
    return 0;
}
