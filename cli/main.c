/* shrink: compress trained neural networks for edge devices. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"

static const cli_command commands[] = {
    {"info", "show a model's inputs, outputs, ops and per-layer parameters", cmd_info, cmd_info_help},
    {"run", "compress a model with a pipeline of passes within an accuracy budget", cmd_run, cmd_run_help},
    {"sensitivity", "accuracy of each layer compressed alone over a grid of knob values", cmd_sensitivity,
     cmd_sensitivity_help},
    {"passes", "list compression passes, or one pass's parameters", cmd_passes, cmd_passes_help},
    {"eval", "run a model on data: top-1, agreement and SNR against a reference, speed", cmd_eval, cmd_eval_help},
    {"decode", "turn a compact .lcm model back into plain ONNX", cmd_decode, cmd_decode_help},
    {"export-c", "write an .lcm model as a C array for firmware", cmd_export_c, cmd_export_c_help},
    {"upgrade", "rewrite a model exported at an old opset for a newer one", cmd_upgrade, cmd_upgrade_help},
    {"report", "print a run's JSON report again, or render it as a web page (--html)", cmd_report, cmd_report_help},
    {"compile", "freestanding C for a microcontroller: NAME_run(input, output, arena)", cmd_compile, cmd_compile_help},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

/* Library messages name the C call that supplies what is missing; the
 * CLI's users supply it with a flag. */
static const char *const flag_of[][2] = {
    {"(lc_context_set_calib)", "(--calib)"},
    {"(lc_pipeline_set_validation)", "(--val)"},
    {"(lc_pipeline_add_pass, lc_pipeline_load_recipe)", "(give a recipe or --pass)"},
    {"lc_sensitivity_run needs validation data (val)", "sensitivity needs validation data (--val)"},
    {"confidence 0 for the point estimate: lc_pipeline_set_confidence)", "--confidence 0 for the point estimate)"},
};

static void print_library_error(const char *msg)
{
    fputs("shrink: error: ", stderr);
    while (*msg) {
        const char *hit = NULL;
        size_t k = 0;
        for (size_t i = 0; i < sizeof flag_of / sizeof *flag_of; i++) {
            const char *h = strstr(msg, flag_of[i][0]);
            if (h && (!hit || h < hit)) hit = h, k = i;
        }
        if (!hit) {
            fputs(msg, stderr);
            break;
        }
        fwrite(msg, 1, (size_t)(hit - msg), stderr);
        fputs(flag_of[k][1], stderr);
        msg = hit + strlen(flag_of[k][0]);
    }
    fputc('\n', stderr);
}

int cli_fail_status(lc_status s)
{
    print_library_error(*lc_last_error() ? lc_last_error() : lc_status_name(s));
    switch (s) {
    case LC_OK: return EXIT_OK;
    case LC_ERR_BUDGET: return EXIT_UNMET;
    case LC_ERR_NO_MEMORY:
    case LC_ERR_INTERNAL: return EXIT_INTERNAL;
    default: return EXIT_USAGE;
    }
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shrink: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'shrink %s --help')\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_unknown_option(const char *cmd, const char *arg, const char *const *opts, int n)
{
    const char *close = lc_closest_name(arg, opts, n);
    if (close) return cli_usage_error(cmd, "unknown option '%s': did you mean '%s'?", arg, close);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

/* "shrink: <kind>: <message>" on stderr. */
static void say(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "shrink: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("error", fmt, ap);
    va_end(ap);
    return code;
}

int cli_unmet(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("goal not met", fmt, ap);
    va_end(ap);
    return EXIT_UNMET;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("warning", fmt, ap);
    va_end(ap);
}

bool cli_parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min) return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* stat() of a path, or of a raw-data spec "FILE.bin:d0xd1x..." without its
 * shape suffix. */
static int stat_spec(const char *path, struct stat *st)
{
    if (stat(path, st) == 0) return 0;
    const char *colon = strrchr(path, ':');
    if (!colon || colon == path) return -1;
    char *file = strndup(path, (size_t)(colon - path));
    int r = file ? stat(file, st) : -1;
    free(file);
    return r;
}

int cli_check_output(const char *cmd, const char *out, const char *const *others, int n_others)
{
    (void)cmd;
    struct stat so;
    bool exists = stat(out, &so) == 0;
    for (int i = 0; i < n_others; i++) {
        struct stat si;
        const char *in = others[i];
        if (!in) continue;
        /* by device and inode, so "./a/../b", symlinks and hard links to the
         * same file are caught whatever the spelling */
        if (!strcmp(out, in) ||
            (exists && stat_spec(in, &si) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino))
            return cli_error(EXIT_USAGE, "output '%s' would overwrite '%s' (the same file); write elsewhere", out, in);
    }
    if (exists && S_ISDIR(so.st_mode)) return cli_error(EXIT_USAGE, "output '%s' is a folder, not a file", out);
    /* the atomic writer creates a temporary file beside the output: the
     * folder must exist and be writable */
    const char *slash = strrchr(out, '/');
    char *dir = slash ? strndup(out, slash == out ? 1 : (size_t)(slash - out)) : strdup(".");
    if (!dir) return cli_error(EXIT_INTERNAL, "out of memory");
    struct stat sd;
    int rc = EXIT_OK;
    if (stat(dir, &sd) != 0) rc = cli_error(EXIT_USAGE, "cannot write '%s': folder '%s': %s", out, dir, strerror(errno));
    else if (!S_ISDIR(sd.st_mode)) rc = cli_error(EXIT_USAGE, "cannot write '%s': '%s' is not a folder", out, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        rc = cli_error(EXIT_USAGE, "cannot write '%s': folder '%s': %s", out, dir, strerror(errno));
    free(dir);
    return rc;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shrink COMMAND [ARGS...]\n"
            "\n"
            "Makes trained neural networks (ONNX) small enough for edge devices.\n"
            "\n"
            "commands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "  shrink COMMAND --help   explains a command and its options\n"
            "  shrink --version        prints the version\n"
            "\n"
            "exit codes: 0 success, 1 ran but could not meet what was asked,\n"
            "            2 bad usage or bad input, 3 internal error\n");
}

/* The guard of the outputs this process writes (all from the main thread). */
static lc_write_guard *volatile write_guard;

/* Ctrl-C, kill or a closed terminal while an output is being written: the
 * temporary file goes, then the signal takes its default course (the exit
 * status still says which signal ended the process). */
static void on_stop_signal(int sig)
{
    lc_write_guard_abort(write_guard);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_stop_signals(void)
{
    lc_write_guard *g = NULL;
    if (lc_write_guard_create(&g) != LC_OK) return; /* out of memory: no cleanup on signals */
    lc_write_guard_attach(g);
    write_guard = g;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        /* a signal the caller ignores (nohup) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) sigaction(sigs[i], &sa, NULL);
    }
}

int main(int argc, char **argv)
{
    catch_stop_signals();
#ifdef __GLIBC__
    /* Tensors and activations of 1 MiB and more get their own mappings,
     * returned to the system when freed: glibc's threshold otherwise rises
     * to 32 MiB and freed tensors stay in the heap (ResNet-50 run with
     * k-means: peak RSS 485 -> 378 MB, benchmarks/results/memory.md). */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (int i = 0; i < n_commands; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    commands[i].help();
                    return EXIT_OK;
                }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("shrink %s\n", lc_version());
        return EXIT_OK;
    }
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            for (int k = 2; k < argc; k++)
                if (cli_is_help(argv[k])) {
                    commands[i].help();
                    return EXIT_OK;
                }
            return commands[i].run(argc - 1, argv + 1);
        }
    const char *names[16];
    for (int i = 0; i < n_commands && i < 16; i++) names[i] = commands[i].name;
    const char *close = lc_closest_name(argv[1], names, n_commands < 16 ? n_commands : 16);
    fprintf(stderr, "shrink: error: unknown command '%s'", argv[1]);
    if (close) fprintf(stderr, ": did you mean '%s'?", close);
    fprintf(stderr, "; commands are:");
    for (int i = 0; i < n_commands; i++) fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, " (see 'shrink --help')\n");
    return EXIT_USAGE;
}
