/* shrink upgrade MODEL -o OUT --opset N: raise a model's opset. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cmd_upgrade_help(void)
{
    printf("usage: shrink upgrade MODEL -o OUT(.onnx|.lcm) [--opset N]\n"
           "\n"
           "Rewrites a model exported at an old opset (%d or later) for a newer one, so\n"
           "that it computes the same: attributes that became inputs (Clip, Pad, Slice,\n"
           "TopK, Upsample, Split, Squeeze, Unsqueeze, ReduceSum, Dropout) become\n"
           "initializers, removed attributes go, Upsample becomes Resize, Scatter\n"
           "ScatterElements, and Softmax over flattened dims keeps its meaning.\n"
           "Passes that need a newer opset (quantize-int8 per channel: 13) upgrade by\n"
           "themselves; this command writes the upgraded model for other tools.\n"
           "\n"
           "  -o, --output FILE   the model to write (.lcm by extension, else ONNX; required)\n"
           "  --opset N           the opset to reach, %d to %d (default 13)\n"
           "\n"
           "An op the converter does not know, or a use with no equivalent at the new\n"
           "opset, is an error (exit 2) naming the node and both opsets.\n",
           LC_UPGRADE_MIN_OPSET, LC_UPGRADE_MIN_OPSET, LC_UPGRADE_MAX_OPSET);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int cmd_upgrade(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    long opset = 13;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (++i >= argc) return cli_usage_error("upgrade", "%s needs a file name", argv[i - 1]);
            out = argv[i];
        } else if (!strcmp(argv[i], "--opset")) {
            if (++i >= argc || !cli_parse_long(argv[i], 0, &opset) || opset < LC_UPGRADE_MIN_OPSET ||
                opset > LC_UPGRADE_MAX_OPSET)
                return cli_usage_error("upgrade", "--opset needs a number from %d to %d", LC_UPGRADE_MIN_OPSET,
                                       LC_UPGRADE_MAX_OPSET);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("upgrade", "unknown option '%s'", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else {
            return cli_usage_error("upgrade", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!in) return cli_usage_error("upgrade", "no input model");
    if (!out) return cli_usage_error("upgrade", "no output file (-o OUT.onnx)");
    int rc = cli_check_output("upgrade", out, &in, 1);
    if (rc) return rc;
    lc_model *m = NULL;
    lc_status s = lc_model_load(in, &m);
    if (!s) s = lc_model_upgrade(m, opset);
    if (!s) s = ends_with(out, ".lcm") ? lc_model_save_lcm(m, out, NULL) : lc_model_save_onnx(m, out);
    lc_model_free(m);
    return s ? cli_fail_status(s) : EXIT_OK;
}
