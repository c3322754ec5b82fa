/* shrink decode MODEL.lcm -o MODEL.onnx: back to plain ONNX. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cmd_decode_help(void)
{
    printf("usage: shrink decode MODEL.lcm -o MODEL.onnx\n"
           "\n"
           "Turns a compact .lcm model back into plain ONNX that any runtime can run:\n"
           "every weight decoded to float32 (or its stored type), bit for bit what\n"
           "shrink validated. The output is written atomically.\n"
           "\n"
           "  -o, --output FILE   the ONNX file to write (required)\n");
}

int cmd_decode(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (++i >= argc) return cli_usage_error("decode", "%s needs a file name", argv[i - 1]);
            out = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("decode", "unknown option '%s'", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else {
            return cli_usage_error("decode", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!in) return cli_usage_error("decode", "no input model");
    if (!out) return cli_usage_error("decode", "no output file (-o MODEL.onnx)");
    int rc = cli_check_output("decode", out, &in, 1);
    if (rc) return rc;
    lc_model *m = NULL;
    lc_status s = lc_model_load(in, &m);
    if (s) return cli_fail_status(s);
    s = lc_model_save_onnx(m, out);
    lc_model_free(m);
    if (s) return cli_fail_status(s);
    return EXIT_OK;
}
