/* Shared pieces of the shrink command: the subcommand table entry type,
 * exit codes and error reporting. */
#ifndef SHRINK_CLI_H
#define SHRINK_CLI_H

#include <stdbool.h>
#include <libcompress.h>

/* Exit codes of the CLI contract (DESIGN.md section 4). */
enum {
    EXIT_OK = 0,
    EXIT_UNMET = 1,    /* ran, but could not meet what was asked */
    EXIT_USAGE = 2,    /* bad usage or bad input */
    EXIT_INTERNAL = 3
};

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
    void (*help)(void);
} cli_command;

/* Prints "shrink: error: <message>" for the library's last error and
 * returns the exit code matching `s`. */
int cli_fail_status(lc_status s);
/* Prints "shrink: error: <message> (see 'shrink <cmd> --help')" (printf
 * format; for command-line mistakes, not file errors) and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "shrink: error: <message>" (printf format) and returns `code`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "shrink: goal not met: <message>" (a run that worked but could
 * not do what was asked; printf format) and returns EXIT_UNMET. */
int cli_unmet(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "shrink: warning: <message>" on stderr (printf format). */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "unknown option 'ARG'", with the closest of `opts` as a suggestion;
 * returns EXIT_USAGE. */
int cli_unknown_option(const char *cmd, const char *arg, const char *const *opts, int n);
/* Whole-string numbers: an integer >= min (no overflow), a finite double. */
bool cli_parse_long(const char *s, long min, long *out);
bool cli_parse_double(const char *s, double *out);
/* Checks an output path before any work is done: it must not be the same
 * file as any of `others` (inputs or other outputs; NULL entries skipped;
 * compared by device and inode, so any spelling, symlink or hard link is
 * caught), not a folder, and its folder must exist and be writable. Prints
 * one "shrink: error: ..." line and returns EXIT_USAGE, or returns EXIT_OK. */
int cli_check_output(const char *cmd, const char *out, const char *const *others, int n_others);
/* A whole file as a NUL-terminated string (malloc'ed), or NULL with errno. */
char *cli_read_text(const char *path);

/* True when argv[i] is "-h" or "--help". */
bool cli_is_help(const char *arg);

int cmd_info(int argc, char **argv);
void cmd_info_help(void);
int cmd_run(int argc, char **argv);
void cmd_run_help(void);
int cmd_sensitivity(int argc, char **argv);
void cmd_sensitivity_help(void);
int cmd_passes(int argc, char **argv);
void cmd_passes_help(void);
int cmd_eval(int argc, char **argv);
void cmd_eval_help(void);
int cmd_decode(int argc, char **argv);
void cmd_decode_help(void);
int cmd_export_c(int argc, char **argv);
void cmd_export_c_help(void);
int cmd_upgrade(int argc, char **argv);
void cmd_upgrade_help(void);
int cmd_report(int argc, char **argv);
void cmd_report_help(void);
int cmd_compile(int argc, char **argv);
void cmd_compile_help(void);

#endif
