/* Fuzz target for the recipe parser (lc_pipeline_load_recipe) and the
 * `--pass NAME:key=value,...` parser behind it (lc_pipeline_add_pass).
 * Input starting with '{' or '[' is a recipe; anything else is a pass
 * spec, split at the first ':'. Any input must give a clean error or a
 * pipeline: never a crash, leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libcompress.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 16)) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    lc_pipeline *p = NULL;
    if (lc_pipeline_create(&p) != LC_OK) abort();
    if (text[0] == '{' || text[0] == '[') {
        lc_pipeline_load_recipe(p, text, "fuzz.json");
    } else {
        char *colon = strchr(text, ':');
        if (colon) *colon = '\0';
        lc_pipeline_add_pass(p, text, colon ? colon + 1 : NULL);
    }
    lc_pipeline_free(p);
    free(text);
    return 0;
}
