/* The text a person reads of a run: one line per attempt of each pass
 * (live from the pipeline's events, or rebuilt from a report), then a
 * summary that adds up to the file. Everything fits 100 columns. */
#ifndef SHRINK_REPORT_TEXT_H
#define SHRINK_REPORT_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TEXT_COLUMNS 100

/* One pass of one attempt, as it is tried: "  1 prune-hessian  sparsity
 * 0.8 -> 89.29% x  0.4 -> 90.12% ok ... kept 0.725, 78,248 B (4.1 s)". */
typedef struct pass_line {
    char text[8192];
    int len;
    char pass[64], knob[32];
    char metric[16]; /* how the tries' values are shown (fmt_metric) */
    int tries;
} pass_line;

void pass_line_begin(pass_line *pl, int step, const char *pass, const char *knob, const char *params,
                     const char *metric);
void pass_line_try(pass_line *pl, const cJSON *tried, bool within);
/* Ends the line with the pass's report row (outcome, params, bytes,
 * seconds) and prints it, wrapped at TEXT_COLUMNS. */
void pass_line_end(pass_line *pl, const cJSON *done);

/* "scope=global,method=optimal": the parameters of `params` ("k=v,...")
 * that differ from pass `pass`'s defaults, without `skip` (the knob, shown
 * elsewhere; may be NULL). malloc'ed; "" when all are defaults. */
char *params_changed(const char *pass, const char *params, const char *skip);

/* The lines of every attempt rebuilt from a report (shrink report). */
void report_print_attempts(const cJSON *r);
/* The summary: layers adding up to the file, result, attempts, collapse,
 * time; `wrote` (may be NULL) the line saying where the outputs went. */
void report_print_summary(const cJSON *r, const char *wrote);
/* The configurations tried and the target-size outcome only (a run that
 * wrote nothing). */
void report_print_tried(const char *json);
/* True when the output is UTF-8 (check marks and arrows), else ASCII. */
bool text_utf8(void);

#endif
