/* The charts of the --html report, each a <figure> with an id the tests
 * look for; `run` is the run report, `sens` a sensitivity report. */
#ifndef SHRINK_HTML_CHARTS_H
#define SHRINK_HTML_CHARTS_H

#include "html_svg.h"

void chart_sizes(sb *b, const cJSON *run);          /* #chart-sizes */
void chart_layer_encoding(sb *b, const cJSON *run); /* #chart-encoding */
void chart_pass_accuracy(sb *b, const cJSON *run);  /* #chart-passes */
void chart_pareto(sb *b, const cJSON *run);         /* #chart-pareto */
void chart_sensitivity(sb *b, const cJSON *sens);   /* #chart-sensitivity */
/* True when tried entry t is a setting the final model kept. */
bool is_chosen(const cJSON *t, const cJSON *passes);

#endif
