/* What `shrink run` shows while it works: one line per attempt of each
 * pass (from the pipeline's events) on stdout, a progress line on stderr
 * (a terminal only) naming the attempt, pass, try and ETA, and with
 * --verbose the passes' log. */
#ifndef SHRINK_RUN_OUTPUT_H
#define SHRINK_RUN_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <libcompress.h>

#include "report_text.h"

typedef struct run_view {
    bool lines;      /* print the pass lines and the float model line */
    bool bar;        /* draw the progress line on stderr */
    bool verbose;    /* the passes' log on stderr */
    bool bar_shown;  /* a progress line is on screen */
    char attempt[16], pass[64];
    int step, steps, tries, n_attempts;
    double t_phase, t_draw, t_pass;
    int64_t last_done;
    char phase[48];
    double float_acc, chance, max_drop;
    double min_value;  /* a floor on the metric (--min-snr, --min-cosine), or NAN */
    char metric[16];   /* the start event's metric name */
    pass_line line;
} run_view;

/* Wires the view to a pipeline and context. */
void run_view_attach(run_view *v, lc_pipeline *pl, lc_context *ctx);
/* Clears the progress line (before anything else is printed). */
void run_view_clear(run_view *v);

#endif
