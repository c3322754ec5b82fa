/* --plan, --job/--jobs, --job-dir and --merge: a study's independent
 * evaluations as jobs, shared by sensitivity and run (jobs_args.c). */
#ifndef SHRINK_JOBS_ARGS_H
#define SHRINK_JOBS_ARGS_H

#include <stdbool.h>

#include "cli.h"

typedef struct cli_jobs {
    const char *plan;   /* --plan JOBS.jsonl */
    const char *merge;  /* --merge DIR */
    const char *dir;    /* --job-dir DIR (default shrink-jobs) */
    long first, last;   /* --job K / --jobs K..M: [first, last); first -1: none */
    char **texts, **names; /* --merge: the results read (cli_jobs_read) */
    int n_texts;
} cli_jobs;

/* Sets the defaults. */
void cli_jobs_init(cli_jobs *j);
/* Consumes argv[*i] (and its value) when it is one of the job options:
 * returns 1 (and advances *i), 0 for another option, or EXIT_USAGE + 1000
 * after printing a usage error. */
int cli_jobs_parse(const char *cmd, int argc, char **argv, int *i, cli_jobs *j);
/* A step given: plan, jobs or merge. */
bool cli_jobs_any(const cli_jobs *j);
/* Checks the steps exclude each other, the plan path against the inputs,
 * and creates the job folder for --job/--jobs. Returns an exit code. */
int cli_jobs_check(const char *cmd, const cli_jobs *j, const char *const *inputs, int n_inputs);
/* Reads DIR/job-*.json (sorted by name, so messages are reproducible).
 * Returns an exit code. */
int cli_jobs_read(cli_jobs *j);
/* Writes job k's results as DIR/job-K.json (atomically). */
lc_status cli_jobs_write(const cli_jobs *j, long k, const char *text);
void cli_jobs_free(cli_jobs *j);

#define CLI_JOBS_HELP                                                                                             \
    "  --plan JOBS.jsonl  write the jobs, one JSON line each, and stop\n"                                         \
    "  --job K | --jobs K..M  run job K, or jobs K to M, each into its own file\n"                                \
    "           DIR/job-K.json (written atomically), and stop\n"                                                  \
    "  --job-dir DIR  where --job/--jobs write (default: shrink-jobs)\n"                                           \
    "  --merge DIR  read every DIR/job-*.json and go on as one process would have:\n"                             \
    "           the same output byte for byte\n"                                                                  \
    "Every process of a study takes the same MODEL, options and data; the merge\n"                                \
    "refuses missing jobs, jobs given twice and results of another study. Jobs can\n"                              \
    "run under GNU parallel, a Slurm job array or a Kubernetes Indexed Job\n"                                      \
    "(examples: benchmarks/cluster/).\n"

#endif
