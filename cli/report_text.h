/* The text summary of a run report, printed on stdout. */
#ifndef SHRINK_REPORT_TEXT_H
#define SHRINK_REPORT_TEXT_H

#include <stdbool.h>

/* The summary of report `json` (lc_pipeline_report); `unmet`: also every
 * configuration tried. */
void report_print(const char *json, bool unmet);
/* The configurations tried and the target-size outcome only (a run that
 * wrote nothing). */
void report_print_tried(const char *json);

#endif
