/* The --html report: one self-contained page (inline CSS and SVG, no
 * scripts) rendered from the JSON reports of `shrink run` and
 * `shrink sensitivity`. Charts are drawn by hand into a string buffer; a
 * chart without data says so instead of drawing empty axes. Colours are
 * the Okabe-Ito palette, which stays distinct under the common forms of
 * colour blindness; series also differ by marker shape. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_charts.h"
#include "html_report.h"
#include "report_text.h"

/* ------------------------------------------------------------------ */
/* Tables and facts                                                     */
/* ------------------------------------------------------------------ */

static void td_text(sb *b, const char *s, const char *cls)
{
    sb_printf(b, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    sb_esc(b, s);
    sb_puts(b, "</td>");
}

/* Parameters that differ from the pass's defaults (all of them in the JSON). */
static void td_changed(sb *b, const char *pass, const char *params)
{
    char *chg = params_changed(pass, params, NULL);
    td_text(b, chg && *chg ? chg : (*params ? "(defaults)" : ""), "params");
    free(chg);
}

static void fact(sb *b, const char *key, const char *value)
{
    sb_puts(b, "<div><dt>");
    sb_esc(b, key);
    sb_puts(b, "</dt><dd>");
    sb_esc(b, value);
    sb_puts(b, "</dd></div>");
}

static void run_facts(sb *b, const cJSON *run)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(run, "input"), *out = cJSON_GetObjectItemCaseSensitive(run, "output"),
                *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"),
                *met = cJSON_GetObjectItemCaseSensitive(run, "budget_met");
    char v[1200], b1[40], b2[40];
    sb_puts(b, "<dl class=\"facts\" id=\"facts\">");
    snprintf(v, sizeof v, "%s (%s bytes, %s parameters in all stored tensors)", json_str(in, "path"),
             fmt_int(b1, json_num(in, "bytes")),
             fmt_int(b2, json_num(in, "params")));
    fact(b, "input", v);
    snprintf(v, sizeof v, "%s (%s bytes)", json_str(out, "path"), fmt_int(b1, json_num(out, "bytes")));
    fact(b, "output", v);
    snprintf(v, sizeof v, "%.2fx smaller", json_num(run, "ratio"));
    fact(b, "ratio", v);
    const char *metric = json_str(acc, "metric");
    if (!*metric || !strcmp(metric, "none")) fact(b, "accuracy", "not measured (no --val data)");
    else {
        snprintf(v, sizeof v, "%s: float %s, final %s", metric, fmt_metric(b1, metric, json_num(acc, "float")),
                 fmt_metric(b2, metric, json_num(acc, "final")));
        fact(b, "accuracy", v);
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(acc, "drop_ci");
        if (cJSON_GetArraySize(ci) == 2)
            snprintf(v, sizeof v, "%.2f points, %.0f%% interval [%.2f, %.2f] on %.0f paired samples%s", json_num(acc, "drop"),
                     100 * json_num(acc, "confidence"), cJSON_GetArrayItem(ci, 0)->valuedouble,
                     cJSON_GetArrayItem(ci, 1)->valuedouble, json_num(acc, "samples"),
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acc, "budget_on_upper_bound"))
                         ? " (the budget holds the upper end)"
                         : "");
        else snprintf(v, sizeof v, "%.2f points", json_num(acc, "drop"));
        fact(b, "drop", v);
        double md = json_num(acc, "max_drop");
        if (isfinite(md) && md >= 0) {
            snprintf(v, sizeof v, "%.2f points (%s)", md,
                     cJSON_IsBool(met) ? (cJSON_IsTrue(met) ? "met" : "NOT met") : "unknown");
            fact(b, "budget", v);
        }
    }
    const cJSON *att = json_arr(run, "attempts"), *a;
    if (json_count(att) > 1) {
        size_t o = 0;
        cJSON_ArrayForEach(a, att)
            o += (size_t)snprintf(v + o, o < sizeof v ? sizeof v - o : 0, "%s%s: %s bytes%s", o ? "; " : "",
                                  json_str(a, "label"), fmt_int(b1, json_num(a, "bytes")),
                                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "final")) ? " (the final model)" : "");
        fact(b, "attempts", v);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "collapsed"))) {
        snprintf(v, sizeof v, "yes: the final accuracy is near chance (%s) or more than 10 points below float",
                 fmt_pct(b1, json_num(run, "chance")));
        fact(b, "COLLAPSED", v);
    }
    if (isfinite(json_num(run, "seconds"))) {
        snprintf(v, sizeof v, "%.1f s wall, %.1f s CPU", json_num(run, "seconds"), json_num(run, "cpu_seconds"));
        fact(b, "time", v);
    }
    sb_puts(b, "</dl>");
}

static void layers_table(sb *b, const cJSON *run)
{
    const cJSON *layers = json_arr(run, "layers"), *l;
    sb_puts(b, "<h2>Layers</h2>");
    if (!json_count(layers)) {
        no_data(b, "No weight layers in the report.");
        return;
    }
    sb_puts(b, "<table id=\"table-layers\"><thead><tr><th>layer</th><th>op</th><th>weight</th><th class=\"n\">params"
               "</th><th class=\"n\">sparsity</th><th class=\"n\">bits</th><th class=\"n\">bytes before</th>"
               "<th class=\"n\">bytes after</th></tr></thead><tbody>");
    char buf[40];
    double tp = 0, tb = 0, ta = 0;
    cJSON_ArrayForEach(l, layers)
    {
        sb_puts(b, "<tr>");
        td_text(b, json_str(l, "name"), NULL);
        td_text(b, json_str(l, "op"), NULL);
        td_text(b, json_str(l, "weight"), NULL);
        td_text(b, fmt_int(buf, json_num(l, "params")), "n");
        snprintf(buf, sizeof buf, "%.1f%%", 100 * json_num(l, "sparsity"));
        td_text(b, buf, "n");
        td_text(b, fmt_int(buf, json_num(l, "bits")), "n");
        td_text(b, fmt_int(buf, json_num(l, "bytes_before")), "n");
        td_text(b, fmt_int(buf, json_num(l, "bytes_after")), "n");
        sb_puts(b, "</tr>");
        tp += json_num(l, "params");
        tb += json_num(l, "bytes_before");
        ta += json_num(l, "bytes_after");
    }
    sb_printf(b, "</tbody><tfoot><tr><th>layer weights</th><td></td><td></td><td class=\"n\">%s</td><td></td><td></td>",
              fmt_int(buf, tp));
    sb_printf(b, "<td class=\"n\">%s</td>", fmt_int(buf, tb));
    sb_printf(b, "<td class=\"n\">%s</td></tr>", fmt_int(buf, ta));
    /* the overhead and the files: the rows above add up to them */
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(run, "input"), *out = cJSON_GetObjectItemCaseSensitive(run, "output"),
                *ov = cJSON_GetObjectItemCaseSensitive(run, "overhead");
    double in_b = json_num(in, "bytes"), out_b = json_num(out, "bytes"), ov_a = ov ? json_num(ov, "total") : out_b - ta;
    char b2[40], b3[40];
    sb_printf(b, "<tr class=\"overhead\"><th>overhead (graph, other tensors)</th><td></td><td></td><td></td><td></td>"
                 "<td></td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
              fmt_int(buf, in_b - tb), fmt_int(b2, ov_a));
    sb_printf(b, "<tr class=\"file\"><th>file</th><td></td><td></td><td class=\"n\">%s</td><td></td><td></td>"
                 "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr></tfoot></table>",
              fmt_int(buf, json_num(in, "params")), fmt_int(b2, in_b), fmt_int(b3, out_b));
}

static void passes_table(sb *b, const cJSON *run)
{
    const cJSON *passes = json_arr(run, "passes"), *ps;
    sb_puts(b, "<h2>Passes</h2>");
    if (!json_count(passes)) {
        no_data(b, "The report lists no passes.");
        return;
    }
    sb_puts(b, "<table id=\"table-passes\"><thead><tr><th>#</th><th>pass</th><th>outcome</th><th class=\"n\">"
               "accuracy</th><th class=\"n\">bytes</th><th class=\"n\">seconds</th><th>parameters (not at their "
               "defaults)</th></tr></thead>"
               "<tbody>");
    char buf[40];
    int i = 1;
    cJSON_ArrayForEach(ps, passes)
    {
        sb_printf(b, "<tr><td class=\"n\">%d</td>", i++);
        td_text(b, json_str(ps, "name"), "nw");
        td_text(b, json_str(ps, "outcome"), "nw");
        td_text(b, fmt_pct(buf, json_num(ps, "accuracy")), "n");
        td_text(b, fmt_int(buf, json_num(ps, "bytes")), "n");
        snprintf(buf, sizeof buf, "%.2f", json_num(ps, "seconds"));
        td_text(b, buf, "n");
        td_changed(b, json_str(ps, "name"), json_str(ps, "params"));
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void tried_table(sb *b, const cJSON *run)
{
    const cJSON *tried = json_arr(run, "tried"), *passes = json_arr(run, "passes"), *t;
    sb_puts(b, "<h2>Configurations tried</h2>");
    if (!json_count(tried)) {
        no_data(b, "The report lists no configurations.");
        return;
    }
    sb_puts(b, "<table id=\"table-tried\"><thead><tr><th>#</th><th>attempt</th><th>pass</th><th class=\"n\">bytes"
               "</th><th class=\"n\">accuracy</th><th>kept</th><th>parameters (not at their defaults)</th></tr>"
               "</thead><tbody>");
    char buf[40];
    int i = 1;
    cJSON_ArrayForEach(t, tried)
    {
        bool chosen = is_chosen(t, passes);
        bool final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "final"));
        sb_printf(b, "<tr%s><td class=\"n\">%d</td>", final ? " class=\"chosen final\"" : chosen ? " class=\"chosen\"" : "",
                  i++);
        td_text(b, json_str(t, "attempt"), "nw");
        td_text(b, json_str(t, "pass"), "nw");
        td_text(b, fmt_int(buf, json_num(t, "bytes")), "n");
        td_text(b, fmt_pct(buf, json_num(t, "accuracy")), "n");
        td_text(b, final ? "final model" : chosen ? "yes" : "", NULL);
        td_changed(b, json_str(t, "pass"), json_str(t, "params"));
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void sensitivity_facts(sb *b, const cJSON *sens)
{
    char v[600], buf[40];
    sb_puts(b, "<dl class=\"facts\" id=\"sensitivity-facts\">");
    fact(b, "pass", json_str(sens, "pass"));
    fact(b, "knob", json_str(sens, "knob"));
    snprintf(v, sizeof v, "%s, float model %s", json_str(sens, "metric"), fmt_pct(buf, json_num(sens, "float")));
    fact(b, "accuracy", v);
    sb_puts(b, "</dl>");
}

static void sensitivity_table(sb *b, const cJSON *sens)
{
    const cJSON *grid = json_arr(sens, "grid"), *layers = json_arr(sens, "layers"), *l, *g;
    char buf[40];
    if (!json_count(layers)) return;
    sb_puts(b, "<h2>Sensitivity per layer</h2><table id=\"table-sensitivity\"><thead><tr><th>layer</th><th>op</th><th class=\"n\">params</th>");
    cJSON_ArrayForEach(g, grid)
    {
        sb_puts(b, "<th class=\"n\">");
        sb_esc(b, json_str(sens, "knob"));
        sb_printf(b, " %g</th>", cJSON_IsNumber(g) ? g->valuedouble : NAN);
    }
    sb_puts(b, "</tr></thead><tbody>");
    cJSON_ArrayForEach(l, layers)
    {
        sb_puts(b, "<tr>");
        td_text(b, json_str(l, "name"), NULL);
        td_text(b, json_str(l, "op"), NULL);
        td_text(b, fmt_int(buf, json_num(l, "params")), "n");
        const cJSON *a;
        cJSON_ArrayForEach(a, json_arr(l, "accuracy")) td_text(b, fmt_pct(buf, cJSON_IsNumber(a) ? a->valuedouble : NAN), "n");
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static const char css[] =
    "body{font:15px/1.45 \"DejaVu Sans\",Verdana,sans-serif;color:#222;background:#fff;max-width:1000px;"
    "margin:24px auto;padding:0 16px}"
    "h1{font-size:24px;margin:0 0 12px}h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid #ccc}"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}"
    "dl.facts div{display:contents}dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}"
    "figure{margin:18px 0}figcaption{font-weight:bold;margin-bottom:6px}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-family:\"DejaVu Sans\",Verdana,sans-serif;font-size:12px;fill:#222}"
    "svg .axis-title{font-size:13px;font-weight:bold}svg .bar-value,svg .pt-value{font-size:11px;fill:#444}"
    ".nodata{padding:20px;border:1px dashed #999;color:#555;background:#fafafa;margin:0}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%}"
    "th,td{padding:3px 8px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}"
    "th.n,td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.nw{white-space:nowrap}"
    "td.params{font-family:\"DejaVu Sans Mono\",monospace;font-size:12px;overflow-wrap:anywhere}"
    "tr.chosen td{background:#fdf0e6;font-weight:bold}thead th{background:#f3f3f3}"
    "footer{margin-top:32px;color:#777;font-size:12px}";

/* ------------------------------------------------------------------ */

int html_write(const char *path, const char *run_report_json, const char *sensitivity_json)
{
    cJSON *run = NULL, *sens = NULL;
    sb b = {0};
    int rc = EXIT_OK;
    if (!run_report_json && !sensitivity_json) {
        rc = cli_error(EXIT_INTERNAL, "html report: nothing to render");
        goto done;
    }
    if (run_report_json && !cJSON_IsObject(run = cJSON_Parse(run_report_json))) {
        rc = cli_error(EXIT_USAGE, "html report: the run report is not a JSON object");
        goto done;
    }
    if (sensitivity_json && !cJSON_IsObject(sens = cJSON_Parse(sensitivity_json))) {
        rc = cli_error(EXIT_USAGE, "html report: the sensitivity report is not a JSON object");
        goto done;
    }
    const char *subject = run ? json_str(cJSON_GetObjectItemCaseSensitive(run, "input"), "path") : json_str(sens, "pass");
    const char *base = strrchr(subject, '/') ? strrchr(subject, '/') + 1 : subject;
    sb_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    sb_puts(&b, run ? "shrink report: " : "shrink sensitivity: ");
    sb_esc(&b, base);
    sb_printf(&b, "</title><style>%s</style></head><body>\n<h1>", css);
    sb_puts(&b, run ? "shrink report: " : "shrink sensitivity: ");
    sb_esc(&b, base);
    sb_puts(&b, "</h1>\n");
    if (run) {
        run_facts(&b, run);
        sb_puts(&b, "\n<h2>Charts</h2>\n");
        chart_sizes(&b, run);
        sb_puts(&b, "\n");
        chart_layer_encoding(&b, run);
        sb_puts(&b, "\n");
        chart_pass_accuracy(&b, run);
        sb_puts(&b, "\n");
        chart_pareto(&b, run);
        sb_puts(&b, "\n");
        if (sens) chart_sensitivity(&b, sens); /* no empty box without a scan */
        sb_puts(&b, "\n");
        layers_table(&b, run);
        passes_table(&b, run);
        tried_table(&b, run);
        if (sens) sensitivity_table(&b, sens);
    } else {
        sensitivity_facts(&b, sens);
        chart_sensitivity(&b, sens);
        sensitivity_table(&b, sens);
    }
    sb_printf(&b, "\n<footer>Written by shrink (libcompress %s).</footer>\n</body></html>\n", lc_version());
    if (b.oom) {
        rc = cli_error(EXIT_INTERNAL, "html report: out of memory");
        goto done;
    }
    lc_status s = lc_write_file(path, b.p, b.n);
    if (s) rc = cli_fail_status(s);
done:
    free(b.p);
    cJSON_Delete(run);
    cJSON_Delete(sens);
    return rc;
}
