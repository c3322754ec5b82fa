/* shrink compile MODEL(.lcm|.onnx) -o DIR [--name NAME]: freestanding C for
 * a microcontroller (NAME.c, NAME.h and the micro/ runtime it calls). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cmd_compile_help(void)
{
    printf("usage: shrink compile MODEL(.lcm|.onnx) -o DIR [--name NAME] [--quiet]\n"
           "\n"
           "Writes DIR/NAME.h, DIR/NAME.c and the micro/ runtime sources the model\n"
           "needs, so that DIR builds on its own with any C99 compiler (no malloc, no\n"
           "stdio). The weights stay in their compressed encodings in flash and are\n"
           "decoded inside the kernels; BatchNormalization and activations are folded\n"
           "on the host; QDQ models from quantize-int8 run on int8 kernels. API:\n"
           "  #define NAME_ARENA_BYTES / NAME_INPUT_COUNT / NAME_OUTPUT_COUNT\n"
           "  int NAME_run(const float *input, float *output, void *arena);\n"
           "DIR/NAME.json holds the arena and weight bytes. DIR must not exist or be\n"
           "empty; it is written atomically.\n"
           "\n"
           "  -o, --output DIR   the folder to write (required)\n"
           "  --name NAME        prefix of the generated symbols (default: the model\n"
           "                     file's stem as a C identifier)\n"
           "  --quiet            print nothing but errors\n");
}

/* "dir/my-model.lcm" -> "my_model" */
static void default_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base), k = 0;
    if (n && isdigit((unsigned char)*base) && k + 1 < size) out[k++] = '_';
    for (size_t i = 0; i < n && k + 1 < size; i++) out[k++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
    out[k] = 0;
    if (!k) snprintf(out, size, "model");
}

int cmd_compile(int argc, char **argv)
{
    const char *in = NULL, *dir = NULL, *name = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") || !strcmp(argv[i], "--name")) {
            if (i + 1 >= argc) return cli_usage_error("compile", "%s needs a value", argv[i]);
            if (!strcmp(argv[i], "--name")) name = argv[++i];
            else dir = argv[++i];
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("compile", "unknown option '%s'", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else {
            return cli_usage_error("compile", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!in) return cli_usage_error("compile", "no input model");
    if (!dir) return cli_usage_error("compile", "no output folder (-o DIR)");
    char sym[200];
    if (name) {
        bool ok = *name && !isdigit((unsigned char)*name) && strlen(name) < sizeof sym;
        for (const char *c = name; ok && *c; c++) ok = isalnum((unsigned char)*c) || *c == '_';
        if (!ok) return cli_usage_error("compile", "--name '%s' is not a C identifier", name);
        snprintf(sym, sizeof sym, "%s", name);
    } else {
        default_name(in, sym, sizeof sym);
    }
    lc_model *m = NULL;
    lc_status s = lc_model_load(in, &m);
    if (s) return cli_fail_status(s);
    lc_compile_info info;
    s = lc_model_compile(m, sym, dir, &info);
    lc_model_free(m);
    if (s) return cli_fail_status(s);
    if (!quiet)
        printf("wrote %s: %s.c %s.h (%s path, %d kernel calls)\n"
               "arena %zu bytes, weights %zu bytes, input %lld floats, output %lld floats\n",
               dir, sym, sym, info.int8 ? "int8" : "float", info.steps, info.arena_bytes, info.weight_bytes,
               (long long)info.input_count, (long long)info.output_count);
    return EXIT_OK;
}
