/* Fuzz target for the .lcm reader. Built with libFuzzer when LC_FUZZ=ON
 * (clang); the plain build links fuzz_main.c, which replays the files
 * given on the command line, so the seed corpus runs as a plain test, also
 * under the sanitizers. Any input must give LC_OK with a model whose encodings
 * verify, or a clean error: never a crash, leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_lcm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    lc_lcm_reseal(copy, size); /* so mutations reach the parsers behind the CRCs */
    one(copy, size);
    free(copy);
    return 0;
}
