/* The charts of the --html report: size per layer, accuracy after each
 * pass, size vs accuracy of every configuration tried, and per-layer
 * sensitivity. A chart without data says so instead of drawing empty
 * axes; series differ by marker shape as well as colour. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "html_charts.h"
/* Scale for byte counts: the unit that keeps axis numbers short. */
double bytes_unit(double max, const char **name)
{
    if (max >= 10.0 * 1024 * 1024) return *name = "MiB", 1024.0 * 1024;
    if (max >= 10.0 * 1024) return *name = "KiB", 1024.0;
    return *name = "bytes", 1.0;
}

/* Horizontal bars per layer, before and after, on a linear scale so
 * lengths compare honestly; every bar carries its value as text. */
void chart_sizes(sb *b, const cJSON *run)
{
    const cJSON *layers = json_arr(run, "layers"), *l;
    figure_open(b, "chart-sizes", "Size per layer, before and after");
    int n = json_count(layers);
    double max = 0;
    int name_chars = 8;
    cJSON_ArrayForEach(l, layers)
    {
        max = fmax(max, fmax(json_num(l, "bytes_before"), json_num(l, "bytes_after")));
        int c = utf8_len(json_str(l, "name"));
        if (c > name_chars) name_chars = c;
    }
    if (!n || !(max > 0)) {
        no_data(b, "No weight layers in the report: nothing to chart.");
        sb_puts(b, "</figure>");
        return;
    }
    if (name_chars > 38) name_chars = 38;
    const char *unit;
    double scale = bytes_unit(max, &unit);
    double row = 34, bar = 12;
    plot p = {name_chars * CHAR_W + 20, 40, 0, n * row, axis_linear(0, max / scale), {0, 1, false}};
    p.ax.lo = 0;
    p.w = SVG_W - p.x - 100;
    char title[64];
    snprintf(title, sizeof title, "weight bytes (%s)", unit);
    svg_open(b, p.y + p.h + 52, "Size per layer before and after compression");
    legend_item(b, p.x, 16, -1, C_BEFORE, false, "before", 20);
    legend_item(b, p.x + 110, 16, -1, C_AFTER, false, "after", 20);
    double t[32];
    char buf[40];
    int nt = axis_ticks(&p.ax, t, 32);
    for (int i = 0; i < nt; i++) {
        double x = px(&p, t[i]);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>", x, p.y, x,
                  p.y + p.h);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, p.y + p.h + 18,
                  (fmt_tick(buf, &p.ax, t[i]), buf));
    }
    sb_printf(b, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", p.x + p.w / 2,
              p.y + p.h + 40, title);
    int i = 0;
    cJSON_ArrayForEach(l, layers)
    {
        double y0 = p.y + i * row + (row - 2 * bar) / 2;
        sb_printf(b, "<text class=\"layer-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p.x - 8, y0 + bar + 4);
        sb_esc_fit(b, json_str(l, "name"), name_chars);
        sb_puts(b, "<title>");
        sb_esc(b, json_str(l, "name"));
        sb_puts(b, "</title></text>");
        for (int k = 0; k < 2; k++) {
            double v = json_num(l, k ? "bytes_after" : "bytes_before");
            if (!isfinite(v) || v < 0) v = 0;
            double w = p.w * v / scale / p.ax.hi, y = y0 + k * bar;
            if (v > 0 && w < 1) w = 1; /* a tiny layer still shows */
            sb_printf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\">"
                         "<title>",
                      k ? "bar-after" : "bar-before", p.x, y, w, bar - 1, k ? C_AFTER : C_BEFORE);
            sb_esc(b, json_str(l, "name"));
            sb_printf(b, ": %s %s bytes</title></rect>", k ? "after" : "before", fmt_int(buf, v));
            sb_printf(b, "<text class=\"bar-value\" x=\"%.1f\" y=\"%.1f\">%s</text>", p.x + w + 4, y + bar - 2,
                      fmt_bytes(buf, v));
        }
        i++;
    }
    sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", p.x, p.y, p.x, p.y + p.h);
    sb_puts(b, "</svg></figure>");
}

static const char *outcome_color(const char *outcome)
{
    if (!strcmp(outcome, "applied")) return "#009E73";
    if (!strcmp(outcome, "backed off")) return "#E69F00";
    if (!strcmp(outcome, "skipped")) return "#D55E00";
    return "#555555";
}

/* Accuracy of the float model, then after each pass, with the budget line. */
void chart_pass_accuracy(sb *b, const cJSON *run)
{
    const cJSON *passes = json_arr(run, "passes"), *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"), *ps;
    figure_open(b, "chart-passes", "Accuracy after each pass");
    double fl = json_num(acc, "float"), max_drop = json_num(acc, "max_drop");
    double lo = fl, hi = fl;
    int n = json_count(passes), with_acc = 0;
    cJSON_ArrayForEach(ps, passes)
    {
        double a = json_num(ps, "accuracy");
        if (!isfinite(a)) continue;
        with_acc++;
        lo = isfinite(lo) ? fmin(lo, a) : a;
        hi = isfinite(hi) ? fmax(hi, a) : a;
    }
    if (!with_acc) {
        no_data(b, n ? "Accuracy was not measured (run with --val data to check it after each pass)."
                     : "The report lists no passes.");
        sb_puts(b, "</figure>");
        return;
    }
    double budget = isfinite(fl) && isfinite(max_drop) && max_drop >= 0 ? fl - max_drop : NAN;
    if (isfinite(budget)) lo = fmin(lo, budget);
    /* room for the value labels: at least two points of span, padded */
    double span = fmax(hi - lo, 2);
    lo = fmax(0, lo - 0.15 * span);
    hi = fmin(100, hi + 0.2 * span);
    plot p = {72, 40, SVG_W - 72 - 24, 260, {0, 1, false}, axis_linear(lo, hi)};
    const char *metric = json_str(acc, "metric");
    char ytitle[80];
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", *metric ? metric : "");
    svg_open(b, p.y + p.h + 56, "Accuracy after each pass");
    legend_item(b, p.x, 14, 0, outcome_color("applied"), false, "pass applied", 20);
    legend_item(b, p.x + 150, 14, 0, outcome_color("backed off"), false, "pass backed off", 20);
    legend_item(b, p.x + 320, 14, 0, outcome_color("skipped"), false, "pass skipped", 20);
    legend_item(b, p.x + 470, 14, 1, "#000000", false, "float model", 20);
    draw_axes(b, &p, false, "pipeline step", ytitle);
    int ncat = n + 1;
    double slot = p.w / ncat;
    int chars = (int)(slot / CHAR_W) - 1;
    char buf[40], label[160];
    /* category labels: "float" then "1. pass" ... */
    for (int i = 0; i < ncat; i++) {
        const cJSON *pi = i ? cJSON_GetArrayItem(passes, i - 1) : NULL;
        if (pi) snprintf(label, sizeof label, "%d. %s", i, json_str(pi, "name"));
        else snprintf(label, sizeof label, "float model");
        sb_printf(b, "<text class=\"cat-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", p.x + (i + 0.5) * slot,
                  p.y + p.h + 18);
        sb_esc_fit(b, label, chars);
        sb_puts(b, "</text>");
    }
    draw_hline(b, &p, budget, C_BUDGET, "budget-line", "budget (float \xE2\x88\x92 max drop)", true);
    /* line through the measured points, float first */
    sb_puts(b, "<polyline class=\"acc-line\" fill=\"none\" stroke=\"#777\" stroke-width=\"1.5\" points=\"");
    if (isfinite(fl)) sb_printf(b, "%.1f,%.1f ", p.x + 0.5 * slot, py(&p, fl));
    int i = 1;
    cJSON_ArrayForEach(ps, passes)
    {
        double a = json_num(ps, "accuracy");
        if (isfinite(a)) sb_printf(b, "%.1f,%.1f ", p.x + (i + 0.5) * slot, py(&p, a));
        i++;
    }
    sb_puts(b, "\"/>");
    if (isfinite(fl)) {
        draw_marker(b, 1, p.x + 0.5 * slot, py(&p, fl), 5, "#000000", "#000000", "pt-float");
        sb_printf(b, "><title>float model: %s</title></rect>", fmt_pct(buf, fl));
        sb_printf(b, "<text class=\"pt-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                  p.x + 0.5 * slot, py(&p, fl) - 10, fmt_pct(buf, fl));
    }
    i = 1;
    cJSON_ArrayForEach(ps, passes)
    {
        double a = json_num(ps, "accuracy");
        const char *outcome = json_str(ps, "outcome"), *c = outcome_color(outcome);
        if (isfinite(a)) {
            double x = p.x + (i + 0.5) * slot, y = py(&p, a);
            sb_printf(b, "<circle class=\"pt-pass\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\" stroke=\"#222\" "
                         "stroke-width=\"1\"><title>",
                      x, y, c);
            sb_esc(b, json_str(ps, "name"));
            sb_printf(b, " (%s): %s</title></circle>", outcome, fmt_pct(buf, a));
            sb_printf(b, "<text class=\"pt-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, y - 11,
                      fmt_pct(buf, a));
        }
        i++;
    }
    sb_puts(b, "</svg></figure>");
}

/* True when tried entry t is the setting its pass kept. */
bool is_chosen(const cJSON *t, const cJSON *passes)
{
    const cJSON *ps;
    cJSON_ArrayForEach(ps, passes)
    {
        if (!strcmp(json_str(ps, "name"), json_str(t, "pass")) && !strcmp(json_str(ps, "params"), json_str(t, "params")) &&
            strcmp(json_str(ps, "outcome"), "skipped") != 0)
            return true;
    }
    return false;
}

typedef struct cfg {
    double bytes, acc;
    bool chosen;
} cfg;

static int cfg_cmp(const void *a, const void *b)
{
    const cfg *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? -1 : 1;
    return x->acc > y->acc ? -1 : x->acc < y->acc;
}

/* Size vs accuracy of every configuration tried, the kept ones
 * highlighted, the Pareto front (smaller and at least as accurate) drawn
 * as a step line; log x when the sizes span more than 20x. */
void chart_pareto(sb *b, const cJSON *run)
{
    const cJSON *tried = json_arr(run, "tried"), *passes = json_arr(run, "passes"),
                *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"), *t;
    figure_open(b, "chart-pareto", "Size vs accuracy of every configuration tried");
    int n = 0;
    double bmin = INFINITY, bmax = 0, amin = INFINITY, amax = -INFINITY;
    cJSON_ArrayForEach(t, tried)
    {
        double by = json_num(t, "bytes"), a = json_num(t, "accuracy");
        if (!(by > 0) || !isfinite(a)) continue;
        n++;
        bmin = fmin(bmin, by);
        bmax = fmax(bmax, by);
        amin = fmin(amin, a);
        amax = fmax(amax, a);
    }
    if (!n) {
        no_data(b, json_count(tried) ? "No configuration has a measured accuracy (run with --val data)."
                                : "The report lists no configurations.");
        sb_puts(b, "</figure>");
        return;
    }
    cfg *pts = malloc(sizeof *pts * (size_t)n);
    if (!pts) {
        b->oom = true;
        return;
    }
    const char *unit;
    double scale = bytes_unit(bmax, &unit);
    bool logx = bmax / bmin > 20;
    double fl = json_num(acc, "float"), max_drop = json_num(acc, "max_drop");
    double budget = isfinite(fl) && isfinite(max_drop) && max_drop >= 0 ? fl - max_drop : NAN;
    if (isfinite(fl)) amax = fmax(amax, fl);
    if (isfinite(budget)) amin = fmin(amin, budget);
    plot p = {72, 36, SVG_W - 72 - 24, 320, {0, 1, false}, axis_linear(amin, amax)};
    if (logx) p.ax = axis_log(bmin / scale, bmax / scale);
    else {
        double pad = (bmax - bmin) * 0.05;
        p.ax = axis_linear(fmax(0, (bmin - pad)) / scale, (bmax + pad) / scale);
    }
    char xtitle[80], ytitle[80], buf[40], buf2[40];
    snprintf(xtitle, sizeof xtitle, "model size (%s%s)", unit, logx ? ", log scale" : "");
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", json_str(acc, "metric"));
    svg_open(b, p.y + p.h + 56, "Size versus accuracy of every configuration tried");
    legend_item(b, p.x, 12, 0, "#56B4E9", false, "configuration tried", 30);
    legend_item(b, p.x + 200, 12, 3, "#D55E00", false, "kept by the pipeline", 30);
    legend_item(b, p.x + 400, 12, -1, "#000000", true, "Pareto front", 30);
    draw_axes(b, &p, true, xtitle, ytitle);
    draw_hline(b, &p, fl, "#555555", "float-line", "float model", true);
    draw_hline(b, &p, budget, C_BUDGET, "budget-line", "budget", false);
    int i = 0;
    cJSON_ArrayForEach(t, tried)
    {
        double by = json_num(t, "bytes"), a = json_num(t, "accuracy");
        if (!(by > 0) || !isfinite(a)) continue;
        pts[i++] = (cfg){by / scale, a, is_chosen(t, passes)};
    }
    qsort(pts, (size_t)n, sizeof *pts, cfg_cmp);
    /* front: walking up in size, keep each point more accurate than all smaller ones */
    sb_puts(b, "<polyline class=\"pareto-front\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\" points=\"");
    double best = -INFINITY, last_y = 0;
    for (int k = 0; k < n; k++) {
        if (!(pts[k].acc > best)) continue;
        double x = px(&p, pts[k].bytes), y = py(&p, pts[k].acc);
        if (best > -INFINITY) sb_printf(b, "%.1f,%.1f ", x, last_y);
        sb_printf(b, "%.1f,%.1f ", x, y);
        best = pts[k].acc;
        last_y = y;
    }
    sb_puts(b, "\"/>");
    free(pts);
    /* the points, kept ones last so they are drawn on top */
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(t, tried)
        {
            double by = json_num(t, "bytes"), a = json_num(t, "accuracy");
            if (!(by > 0) || !isfinite(a) || is_chosen(t, passes) != (pass == 1)) continue;
            double x = px(&p, by / scale), y = py(&p, a);
            if (pass) draw_marker(b, 3, x, y, 7, "#D55E00", "#000000", "pt-config pt-chosen");
            else draw_marker(b, 0, x, y, 5, "#56B4E9", "#0072B2", "pt-config");
            sb_puts(b, " fill-opacity=\"0.85\"><title>");
            sb_esc(b, json_str(t, "pass"));
            sb_puts(b, " ");
            sb_esc(b, json_str(t, "params"));
            sb_printf(b, ": %s bytes, %s</title></%s>", fmt_int(buf, by), fmt_pct(buf2, a), pass ? "path" : "circle");
        }
    }
    sb_puts(b, "</svg></figure>");
}

/* One line per layer: accuracy with that layer alone compressed at each
 * knob value, the float accuracy as reference, a legend at the right. */
void chart_sensitivity(sb *b, const cJSON *sens)
{
    figure_open(b, "chart-sensitivity", "Sensitivity: accuracy with one layer compressed at a time");
    if (!sens) {
        no_data(b, "No sensitivity data in this report (see `shrink sensitivity MODEL --pass NAME --grid ... --html "
                   "R.html`).");
        sb_puts(b, "</figure>");
        return;
    }
    const cJSON *grid = json_arr(sens, "grid"), *layers = json_arr(sens, "layers"), *l, *g;
    int ng = json_count(grid), nl = json_count(layers);
    double gmin = INFINITY, gmax = -INFINITY, amin = INFINITY, amax = -INFINITY, fl = json_num(sens, "float");
    cJSON_ArrayForEach(g, grid)
    {
        if (!cJSON_IsNumber(g)) continue;
        gmin = fmin(gmin, g->valuedouble);
        gmax = fmax(gmax, g->valuedouble);
    }
    int n_vals = 0;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *a;
        cJSON_ArrayForEach(a, json_arr(l, "accuracy"))
        {
            if (!cJSON_IsNumber(a)) continue;
            amin = fmin(amin, a->valuedouble);
            amax = fmax(amax, a->valuedouble);
            n_vals++;
        }
    }
    if (!ng || !nl || !n_vals || !isfinite(gmin)) {
        no_data(b, "The sensitivity scan has no measured values.");
        sb_puts(b, "</figure>");
        return;
    }
    if (isfinite(fl)) amax = fmax(amax, fl);
    double legend_w = 300, row = 20;
    plot p = {72, 20, SVG_W - 72 - 24 - legend_w, 340, axis_linear(gmin, gmax), axis_linear(amin, amax)};
    double h = fmax(p.y + p.h + 56, p.y + nl * row + 20);
    char xtitle[160], ytitle[80];
    snprintf(xtitle, sizeof xtitle, "%s of %s", json_str(sens, "knob"), json_str(sens, "pass"));
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", json_str(sens, "metric"));
    svg_open(b, h, "Per-layer sensitivity curves");
    draw_axes(b, &p, true, xtitle, ytitle);
    draw_hline(b, &p, fl, "#555555", "float-line", "float model", false);
    /* grid order may be unsorted: draw each line by increasing knob value */
    int *order = malloc(sizeof *order * (size_t)ng);
    if (!order) {
        b->oom = true;
        return;
    }
    for (int k = 0; k < ng; k++) order[k] = k;
    for (int k = 1; k < ng; k++)
        for (int j = k; j > 0 && cJSON_GetArrayItem(grid, order[j - 1])->valuedouble >
                                     cJSON_GetArrayItem(grid, order[j])->valuedouble;
             j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    int li = 0;
    char buf[40];
    cJSON_ArrayForEach(l, layers)
    {
        const char *c = palette[li % N_PALETTE];
        const cJSON *accs = json_arr(l, "accuracy");
        sb_puts(b, "<g class=\"sens-layer\">");
        sb_printf(b, "<polyline class=\"sens-line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", c,
                  li / N_PALETTE % 2 ? " stroke-dasharray=\"7 4\"" : "");
        for (int k = 0; k < ng; k++) {
            const cJSON *gv = cJSON_GetArrayItem(grid, order[k]), *av = cJSON_GetArrayItem(accs, order[k]);
            if (cJSON_IsNumber(gv) && cJSON_IsNumber(av))
                sb_printf(b, "%.1f,%.1f ", px(&p, gv->valuedouble), py(&p, av->valuedouble));
        }
        sb_puts(b, "\"/>");
        for (int k = 0; k < ng; k++) {
            const cJSON *gv = cJSON_GetArrayItem(grid, k), *av = cJSON_GetArrayItem(accs, k);
            if (!cJSON_IsNumber(gv) || !cJSON_IsNumber(av)) continue;
            draw_marker(b, li, px(&p, gv->valuedouble), py(&p, av->valuedouble), 4.5, c, c, "sens-pt");
            sb_puts(b, "><title>");
            sb_esc(b, json_str(l, "name"));
            sb_printf(b, " at %s = %g: %s</title></%s>", json_str(sens, "knob"), gv->valuedouble,
                      fmt_pct(buf, av->valuedouble), li % 4 == 0 ? "circle" : li % 4 == 1 ? "rect" : "path");
        }
        sb_puts(b, "</g>");
        legend_item(b, p.x + p.w + 20, p.y + 8 + li * row, li % 4, c, true, json_str(l, "name"), (int)(legend_w / CHAR_W) - 6);
        li++;
    }
    free(order);
    sb_puts(b, "</svg></figure>");
}
