/* The --html report of `shrink run` and `shrink sensitivity`: one
 * self-contained HTML file (inline CSS and SVG, no scripts, no external
 * resources) with the header facts, per-layer size bars, accuracy after
 * each pass, the Pareto plot of every configuration tried, the sensitivity
 * curves, and the layer, pass and configuration tables. */
#ifndef SHRINK_HTML_REPORT_H
#define SHRINK_HTML_REPORT_H

/* Renders the report to `path`, written atomically (lc_write_file).
 * `run_report_json` is the JSON of lc_pipeline_report and
 * `sensitivity_json` the JSON of lc_sensitivity_run; either may be NULL,
 * not both. Every string taken from the JSON is HTML-escaped. Returns
 * EXIT_OK, or prints "shrink: error: ..." and returns the CLI exit code
 * (EXIT_USAGE for unreadable JSON or an unwritable path, EXIT_INTERNAL
 * when out of memory). */
int html_write(const char *path, const char *run_report_json, const char *sensitivity_json);

#endif
