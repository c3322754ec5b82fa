/* --feed NAME=FILE.npy and --input-shape NAME=DIMS, shared by run, eval and
 * sensitivity (inputs_args.c). */
#ifndef SHRINK_INPUTS_ARGS_H
#define SHRINK_INPUTS_ARGS_H

#include "cli.h"

#define CLI_MAX_BINDINGS 32

typedef struct cli_inputs {
    int n_feeds, n_shapes;
    char feed_name[CLI_MAX_BINDINGS][256];
    const char *feed_file[CLI_MAX_BINDINGS];
    lc_tensor *feed[CLI_MAX_BINDINGS];    /* loaded by cli_inputs_apply */
    char shape_name[CLI_MAX_BINDINGS][256];
    int shape_ndim[CLI_MAX_BINDINGS];
    int64_t shape_dims[CLI_MAX_BINDINGS][LC_MAX_DIMS];
} cli_inputs;

/* Parsing allocates nothing (an early return leaks nothing); the feeds
 * loaded by cli_inputs_apply are freed by cli_inputs_free. */

/* Consumes argv[*i] (and its value) when it is --feed or --input-shape:
 * returns 1 (and advances *i), 0 for another option, or EXIT_USAGE + 1000
 * after printing a usage error. */
int cli_inputs_parse(const char *cmd, int argc, char **argv, int *i, cli_inputs *in);
/* Loads the feeds in the dtypes of the inputs they name and sets feeds and
 * shapes on `ctx` (may be NULL), then checks them against `m`. Returns an
 * exit code (messages printed). */
int cli_inputs_apply(const cli_inputs *in, const lc_model *m, lc_context *ctx);
/* Binds the symbolic dims of the input the data `d` feeds (the one input
 * without --feed, when it has no --input-shape) to the data's sample dims
 * on `ctx`, so passes that plan the model themselves (prune-structured)
 * see them even when only --val data is given. Returns an exit code. */
int cli_inputs_bind_data(const cli_inputs *in, const lc_model *m, lc_context *ctx, const lc_dataset *d);
/* The feed / shape given for input `name`, or NULL. */
const lc_tensor *cli_inputs_feed(const cli_inputs *in, const char *name);
int cli_inputs_shape(const cli_inputs *in, const char *name, const int64_t **dims);
void cli_inputs_free(cli_inputs *in);

#define CLI_INPUTS_HELP                                                                                         \
    "  --feed NAME=FILE.npy  give input NAME the same value for every sample (any rank,\n"                    \
    "                    0-d too: a sample rate, an initial RNN state; repeatable)\n"                           \
    "  --input-shape NAME=D0xD1x...  plan input NAME with these dims (D0, the batch, is\n"                    \
    "                    replaced by the batch size; repeatable); without it symbolic\n"                        \
    "                    dims are taken from the data\n"

#endif
