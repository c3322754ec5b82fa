/* lc_pass_tool: runs one pass on a model through the public API and saves
 * the result, with no pipeline around it (no validation, no back-off), so
 * tests and benchmarks can check exactly what a pass computed.
 *
 *   lc_pass_tool MODEL OUT.onnx PASS [PARAMS] [--calib X.npy] [--mean M --std S]
 *                [--calib-limit N] [--batch N] [--seed N] [--threads N] [--verbose]
 *
 * PARAMS is "k=v,k=v" as in `shrink run --pass NAME:k=v,...` ("" or
 * omitted: defaults). The pass's log lines go to stderr with --verbose.
 * Exit 0 on success, 2 on bad usage or a failed pass (message on stderr). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcompress.h>

static void on_log(void *user, const char *message)
{
    (void)user;
    fprintf(stderr, "%s\n", message);
}

static int usage(void)
{
    fprintf(stderr, "usage: lc_pass_tool MODEL OUT.onnx PASS [PARAMS] [--calib X] [--mean M --std S] "
                    "[--calib-limit N] [--batch N] [--seed N] [--threads N] [--verbose]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *pos[4] = {NULL, NULL, NULL, ""};
    int n_pos = 0;
    const char *calib = NULL;
    lc_data_options opt = {0, 0.0f, 1.0f, 0};
    int64_t limit = 0;
    int batch = 0, threads = 1, verbose = 0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--calib") && has_val) calib = argv[++i];
        else if (!strcmp(a, "--mean") && has_val) opt.mean = strtof(argv[++i], NULL), opt.has_norm = 1;
        else if (!strcmp(a, "--std") && has_val) opt.std = strtof(argv[++i], NULL), opt.has_norm = 1;
        else if (!strcmp(a, "--calib-limit") && has_val) limit = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(a, "--batch") && has_val) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && has_val) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--threads") && has_val) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else if (a[0] == '-' && a[1] == '-') return usage();
        else if (n_pos < 4) pos[n_pos++] = a;
        else return usage();
    }
    if (n_pos < 3) return usage();
    lc_model *m = NULL;
    lc_context *ctx = NULL;
    lc_dataset *d = NULL;
    lc_status s = lc_model_load(pos[0], &m);
    if (!s) s = lc_context_create(&ctx);
    if (!s && calib) s = lc_dataset_load(calib, &opt, &d);
    if (!s) {
        lc_context_set_calib(ctx, d, limit);
        lc_context_set_seed(ctx, seed);
        lc_context_set_threads(ctx, threads);
        if (batch > 0) lc_context_set_batch(ctx, batch);
        if (verbose) lc_context_set_log(ctx, on_log, NULL);
        s = lc_pass_run(m, pos[2], pos[3], ctx);
    }
    if (!s) s = lc_model_save_onnx(m, pos[1]);
    if (s) fprintf(stderr, "lc_pass_tool: %s: %s\n", lc_status_name(s), lc_last_error());
    lc_model_free(m);
    lc_context_free(ctx);
    lc_dataset_free(d);
    return s ? 2 : 0;
}
