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

/* One row of the size chart: a layer, or the overhead. */
typedef struct size_row {
    const char *name;
    double before, after;
    bool overhead;
} size_row;

/* Horizontal bars per layer, before and after, on a log scale (a 600-byte
 * layer shows beside a 200 KB one), then the overhead (graph, other
 * tensors, format sections), so the rows add up to the files; every bar
 * carries its value as text. */
void chart_sizes(sb *b, const cJSON *run)
{
    const cJSON *layers = json_arr(run, "layers"), *l;
    figure_open(b, "chart-sizes", "Size per layer, before and after (log scale), with the overhead: they add up to the files");
    int n = json_count(layers);
    if (!n) {
        no_data(b, "No weight layers in the report: nothing to chart.");
        sb_puts(b, "</figure>");
        return;
    }
    size_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) {
        b->oom = true;
        return;
    }
    double sum_b = 0, sum_a = 0, lo = INFINITY, hi = 0;
    int nr = 0, name_chars = 8;
    cJSON_ArrayForEach(l, layers)
    {
        rows[nr++] = (size_row){json_str(l, "name"), json_num(l, "bytes_before"), json_num(l, "bytes_after"), false};
        sum_b += json_num(l, "bytes_before");
        sum_a += json_num(l, "bytes_after");
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(run, "input"), *out = cJSON_GetObjectItemCaseSensitive(run, "output"),
                *ov = cJSON_GetObjectItemCaseSensitive(run, "overhead");
    double in_b = json_num(in, "bytes"), out_b = json_num(out, "bytes");
    double ov_a = ov ? json_num(ov, "total") : out_b - sum_a;
    if (isfinite(in_b) && isfinite(ov_a)) rows[nr++] = (size_row){"overhead (graph, other tensors)", in_b - sum_b, ov_a, true};
    for (int i = 0; i < nr; i++) {
        for (int k = 0; k < 2; k++) {
            double v = k ? rows[i].after : rows[i].before;
            if (v > 0) lo = fmin(lo, v), hi = fmax(hi, v);
        }
        int c = utf8_len(rows[i].name);
        if (c > name_chars) name_chars = c;
    }
    if (!(hi > 0)) {
        no_data(b, "The layers take no bytes: nothing to chart.");
        sb_puts(b, "</figure>");
        free(rows);
        return;
    }
    if (name_chars > 38) name_chars = 38;
    double row = 34, bar = 12;
    plot p = {name_chars * CHAR_W + 20, 40, 0, nr * row + 8, axis_log(lo, hi), {0, 1, false, false}};
    p.w = SVG_W - p.x - 100;
    svg_open(b, p.y + p.h + 70, "Size per layer before and after compression, log scale, with the overhead");
    legend_item(b, p.x, 16, -1, C_BEFORE, false, "before", 20);
    legend_item(b, p.x + 110, 16, -1, C_AFTER, false, "after", 20);
    legend_item(b, p.x + 220, 16, -1, "#999999", false, "overhead", 20);
    double t[32];
    char buf[40], buf2[40];
    int nt = axis_ticks(&p.ax, t, 32);
    for (int i = 0; i < nt; i++) {
        double x = px(&p, t[i]);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>", x, p.y, x,
                  p.y + p.h);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, p.y + p.h + 18,
                  fmt_int(buf, t[i]));
    }
    sb_printf(b, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">bytes (log scale)</text>",
              p.x + p.w / 2, p.y + p.h + 40);
    for (int i = 0; i < nr; i++) {
        double y0 = p.y + i * row + (row - 2 * bar) / 2 + (rows[i].overhead ? 8 : 0);
        if (rows[i].overhead)
            sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>",
                      8.0, y0 - 6, p.x + p.w, y0 - 6);
        sb_printf(b, "<text class=\"layer-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p.x - 8, y0 + bar + 4);
        sb_esc_fit(b, rows[i].name, name_chars);
        sb_puts(b, "<title>");
        sb_esc(b, rows[i].name);
        sb_puts(b, "</title></text>");
        for (int k = 0; k < 2; k++) {
            double v = k ? rows[i].after : rows[i].before;
            if (!isfinite(v) || v < 0) v = 0;
            double w = v > 0 ? px(&p, v) - p.x : 0, y = y0 + k * bar;
            if (v > 0 && w < 1) w = 1; /* at the axis floor it still shows */
            const char *cls = rows[i].overhead ? (k ? "bar-overhead-after" : "bar-overhead-before")
                                               : (k ? "bar-after" : "bar-before");
            sb_printf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"%s>"
                         "<title>",
                      cls, p.x, y, w, bar - 1, k ? C_AFTER : C_BEFORE, rows[i].overhead ? " fill-opacity=\"0.45\"" : "");
            sb_esc(b, rows[i].name);
            sb_printf(b, ": %s %s bytes</title></rect>", k ? "after" : "before", fmt_int(buf, v));
            sb_printf(b, "<text class=\"bar-value\" x=\"%.1f\" y=\"%.1f\">%s</text>", p.x + w + 4, y + bar - 2,
                      fmt_bytes(buf, v));
        }
    }
    sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", p.x, p.y, p.x, p.y + p.h);
    sb_printf(b, "<text class=\"sum-note\" x=\"%.1f\" y=\"%.1f\">layers + overhead = the files: %s bytes before, %s "
                 "bytes after</text>",
              p.x, p.y + p.h + 62, fmt_int(buf, in_b), fmt_int(buf2, out_b));
    sb_puts(b, "</svg></figure>");
    free(rows);
}

/* Per layer: the sparsity (share of weights pruned) and the bits per kept
 * weight, side by side: what the passes or the target-size search chose. */
void chart_layer_encoding(sb *b, const cJSON *run)
{
    const cJSON *layers = json_arr(run, "layers"), *l;
    figure_open(b, "chart-encoding", "Sparsity and bits per layer");
    int n = json_count(layers), name_chars = 8;
    double max_bits = 8;
    cJSON_ArrayForEach(l, layers)
    {
        max_bits = fmax(max_bits, json_num(l, "bits"));
        int c = utf8_len(json_str(l, "name"));
        if (c > name_chars) name_chars = c;
    }
    if (!n) {
        no_data(b, "No weight layers in the report: nothing to chart.");
        sb_puts(b, "</figure>");
        return;
    }
    if (name_chars > 38) name_chars = 38;
    double row = 26, bar = 14, x0 = name_chars * CHAR_W + 20, gap = 60;
    double pw = (SVG_W - x0 - gap - 60) / 2;
    plot ps = {x0, 40, pw, n * row, axis_linear(0, 100), {0, 1, false, false}};
    plot pb = {x0 + pw + gap, 40, pw, n * row, axis_linear(0, max_bits > 8 ? 32 : 8), {0, 1, false, false}};
    svg_open(b, ps.y + ps.h + 50, "Sparsity and bits per kept weight of each layer");
    const plot *pp[2] = {&ps, &pb};
    const char *titles[2] = {"sparsity (% of weights pruned)", "bits per kept weight"};
    char buf[40];
    for (int k = 0; k < 2; k++) {
        double t[32];
        int nt = axis_ticks(&pp[k]->ax, t, 32);
        for (int i = 0; i < nt; i++) {
            double x = px(pp[k], t[i]);
            sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>", x, pp[k]->y, x,
                      pp[k]->y + pp[k]->h);
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, pp[k]->y + pp[k]->h + 16,
                      (fmt_tick(buf, &pp[k]->ax, t[i]), buf));
        }
        sb_printf(b, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                  pp[k]->x + pp[k]->w / 2, 24.0, titles[k]);
    }
    int i = 0;
    cJSON_ArrayForEach(l, layers)
    {
        double y = ps.y + i * row + (row - bar) / 2;
        sb_printf(b, "<text class=\"layer-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 8, y + bar - 3);
        sb_esc_fit(b, json_str(l, "name"), name_chars);
        sb_puts(b, "</text>");
        double v[2] = {100 * json_num(l, "sparsity"), json_num(l, "bits")};
        for (int k = 0; k < 2; k++) {
            double x = isfinite(v[k]) ? v[k] : 0, w = px(pp[k], x) - pp[k]->x;
            sb_printf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"><title>",
                      k ? "bar-bits" : "bar-sparsity", pp[k]->x, y, w, bar, k ? "#CC79A7" : "#009E73");
            sb_esc(b, json_str(l, "name"));
            sb_printf(b, ": %s</title></rect>", k ? (snprintf(buf, sizeof buf, "%.0f bits", x), buf)
                                                  : (snprintf(buf, sizeof buf, "%.1f%% pruned", x), buf));
            sb_printf(b, "<text class=\"bar-value\" x=\"%.1f\" y=\"%.1f\">%s</text>", pp[k]->x + w + 4, y + bar - 3,
                      k ? (snprintf(buf, sizeof buf, "%.0f", x), buf) : (snprintf(buf, sizeof buf, "%.1f%%", x), buf));
        }
        i++;
    }
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
    plot p = {72, 40, SVG_W - 72 - 24, 260, {0, 1, false, false}, axis_linear(lo, hi)};
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

/* True when tried entry t is a setting the final model kept: the report's
 * mark, or for reports without marks a pass row with the same params. */
bool is_chosen(const cJSON *t, const cJSON *passes)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "kept"), *ps;
    if (cJSON_IsBool(k)) return cJSON_IsTrue(k);
    cJSON_ArrayForEach(ps, passes)
    {
        if (!strcmp(json_str(ps, "name"), json_str(t, "pass")) && !strcmp(json_str(ps, "params"), json_str(t, "params")) &&
            strcmp(json_str(ps, "outcome"), "skipped") != 0)
            return true;
    }
    return false;
}

static bool is_final(const cJSON *t) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "final")); }

/* The stage of a configuration: its step in the recipe (1, 2, ...), or 0
 * for whole-model builds of the target-size search. */
static int stage_of(const cJSON *t)
{
    double st = json_num(t, "step");
    return isfinite(st) && st >= 1 ? (int)st : 0;
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

/* Size vs accuracy of every configuration tried, coloured by stage (the
 * recipe step it belongs to), the ones the final model kept outlined, the
 * final model ringed, the Pareto front (smaller and at least as accurate)
 * drawn as a step line; log x when the sizes span more than 20x. Other
 * attempts' configurations are drawn faint. */
void chart_pareto(sb *b, const cJSON *run)
{
    const cJSON *tried = json_arr(run, "tried"), *passes = json_arr(run, "passes"),
                *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"), *t;
    figure_open(b, "chart-pareto", "Size vs accuracy of every configuration tried, by stage");
    int n = 0, max_stage = 0;
    double bmin = INFINITY, bmax = 0, amin = INFINITY, amax = -INFINITY;
    const char *stage_name[N_PALETTE + 1] = {0};
    cJSON_ArrayForEach(t, tried)
    {
        double by = json_num(t, "bytes"), a = json_num(t, "accuracy");
        int st = stage_of(t);
        if (st > max_stage) max_stage = st;
        if (st <= N_PALETTE && !stage_name[st]) stage_name[st] = json_str(t, "pass");
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
    const char *final_attempt = json_str(run, "budget_split");
    int n_legend = 0;
    for (int st = 0; st <= max_stage && st <= N_PALETTE; st++) n_legend += stage_name[st] != NULL;
    double legend_rows = ceil((n_legend + 3) / 4.0);
    plot p = {72, 20 + 20 * legend_rows, SVG_W - 72 - 24, 320, {0, 1, false, false}, axis_linear(amin, amax)};
    if (logx) p.ax = axis_log(bmin / scale, bmax / scale);
    else {
        double pad = (bmax - bmin) * 0.05;
        p.ax = axis_linear(fmax(0, (bmin - pad)) / scale, (bmax + pad) / scale);
    }
    char xtitle[80], ytitle[80], buf[40], buf2[40], label[96];
    snprintf(xtitle, sizeof xtitle, "model size (%s%s)", unit, logx ? ", log scale" : "");
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", json_str(acc, "metric"));
    svg_open(b, p.y + p.h + 56, "Size versus accuracy of every configuration tried, coloured by stage");
    int li = 0;
    for (int st = 0; st <= max_stage && st <= N_PALETTE; st++) {
        if (!stage_name[st]) continue;
        if (st) snprintf(label, sizeof label, "%d. %s", st, stage_name[st]);
        else snprintf(label, sizeof label, "%s build", stage_name[st]);
        legend_item(b, p.x + (li % 4) * 210, 12 + 20 * (li / 4), st, palette[(st + N_PALETTE - 1) % N_PALETTE], false,
                    label, 26);
        li++;
    }
    sb_printf(b, "<g class=\"legend-item\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#bbb\" stroke=\"#000\" "
                 "stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.1f\">%s</text></g>",
              p.x + (li % 4) * 210 + 11, 12.0 + 20 * (li / 4), p.x + (li % 4) * 210 + 28, 16.0 + 20 * (li / 4),
              cJSON_GetObjectItemCaseSensitive(run, "sweep") ? "sweep points (outlined)" : "kept by the final model (outlined)");
    li++;
    legend_item(b, p.x + (li % 4) * 210, 12 + 20 * (li / 4), -1, "#000000", true, "Pareto front", 26);
    li++;
    sb_printf(b, "<g class=\"legend-item\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" stroke=\"#000\" "
                 "stroke-width=\"2.5\"/><text x=\"%.1f\" y=\"%.1f\">final model</text></g>",
              p.x + (li % 4) * 210 + 11, 12.0 + 20 * (li / 4), p.x + (li % 4) * 210 + 28, 16.0 + 20 * (li / 4));
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
    /* the points: other attempts faint, then this one, kept ones last so
       they are drawn on top, and the final model's ring over all */
    for (int layer = 0; layer < 3; layer++) {
        cJSON_ArrayForEach(t, tried)
        {
            double by = json_num(t, "bytes"), a = json_num(t, "accuracy");
            if (!(by > 0) || !isfinite(a)) continue;
            const char *att = json_str(t, "attempt");
            bool other = *att && *final_attempt && strcmp(att, final_attempt) != 0, chosen = is_chosen(t, passes);
            if ((layer == 0) != other || (layer == 2) != (!other && chosen)) continue;
            int st = stage_of(t);
            const char *c = palette[(st + N_PALETTE - 1) % N_PALETTE];
            double x = px(&p, by / scale), y = py(&p, a);
            char cls[96];
            snprintf(cls, sizeof cls, "pt-config pt-stage-%d%s%s", st, chosen ? " pt-chosen" : "",
                     other ? " pt-other-attempt" : "");
            draw_marker(b, st, x, y, chosen ? 7 : 5, c, chosen ? "#000000" : c, cls);
            sb_printf(b, " fill-opacity=\"%s\"><title>", other ? "0.3" : "0.9");
            if (*att) sb_printf(b, "%s attempt, ", att);
            sb_esc(b, json_str(t, "pass"));
            sb_puts(b, " ");
            sb_esc(b, json_str(t, "params"));
            sb_printf(b, ": %s bytes, %s%s</title></%s>", fmt_int(buf, by), fmt_pct(buf2, a), chosen ? " (kept)" : "",
                      st % 4 == 0 ? "circle" : st % 4 == 1 ? "rect" : "path");
            if (is_final(t))
                sb_printf(b, "<circle class=\"pt-final\" cx=\"%.1f\" cy=\"%.1f\" r=\"12\" fill=\"none\" stroke=\"#000\" "
                             "stroke-width=\"2.5\"><title>the final model: %s bytes, %s</title></circle>",
                          x, y, fmt_int(buf, by), fmt_pct(buf2, a));
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
    /* one sample's worth of accuracy: differences inside the band are noise */
    double samples = json_num(sens, "samples"), one = samples > 0 ? 100.0 / samples : NAN;
    if (isfinite(fl)) amax = fmax(amax, fl + (isfinite(one) ? one : 0));
    /* zoomed to the region that matters: at most 5 points below the float
       model (or the data, when it stays closer); lower points sit on the
       bottom edge as downward triangles */
    double floor_acc = isfinite(fl) ? fmax(amin, fl - 5) : amin;
    if (isfinite(fl) && isfinite(one)) floor_acc = fmin(floor_acc, fl - one);
    double legend_w = 300, row = 20;
    plot p = {72, 20, SVG_W - 72 - 24 - legend_w, 340, axis_linear(gmin, gmax), axis_linear(floor_acc, amax)};
    /* toward more compression: fewer bits to the right */
    p.ax.rev = !strcmp(json_str(sens, "knob"), "bits");
    double clip = p.ay.lo;
    double h = fmax(p.y + p.h + 56, p.y + (nl + 3) * row + 20);
    char xtitle[160], ytitle[80];
    snprintf(xtitle, sizeof xtitle, "%s of %s (more compression to the right)", json_str(sens, "knob"),
             json_str(sens, "pass"));
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", json_str(sens, "metric"));
    svg_open(b, h, "Per-layer sensitivity curves");
    draw_axes(b, &p, true, xtitle, ytitle);
    if (isfinite(fl) && isfinite(one)) {
        double y1 = py(&p, fmin(fl + one, p.ay.hi)), y0 = py(&p, fmax(fl - one, p.ay.lo));
        sb_printf(b, "<rect class=\"noise-band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#999\" "
                     "fill-opacity=\"0.18\"><title>float model \xC2\xB1 one sample of %.0f (%.3f points)</title></rect>",
                  p.x, y1, p.w, y0 - y1, samples, one);
    }
    draw_hline(b, &p, fl, "#555555", "float-line", "", false);
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
                sb_printf(b, "%.1f,%.1f ", px(&p, gv->valuedouble), py(&p, fmax(av->valuedouble, clip)));
        }
        sb_puts(b, "\"/>");
        for (int k = 0; k < ng; k++) {
            const cJSON *gv = cJSON_GetArrayItem(grid, k), *av = cJSON_GetArrayItem(accs, k);
            if (!cJSON_IsNumber(gv) || !cJSON_IsNumber(av)) continue;
            bool low = av->valuedouble < clip;
            draw_marker(b, low ? 2 : li, px(&p, gv->valuedouble), py(&p, fmax(av->valuedouble, clip)), 4.5, c, c,
                        low ? "sens-pt sens-pt-clipped" : "sens-pt");
            if (low) sb_printf(b, " transform=\"rotate(180 %.1f %.1f)\"", px(&p, gv->valuedouble), py(&p, clip));
            sb_puts(b, "><title>");
            sb_esc(b, json_str(l, "name"));
            sb_printf(b, " at %s = %g: %s%s</title></%s>", json_str(sens, "knob"), gv->valuedouble,
                      fmt_pct(buf, av->valuedouble), low ? " (below the chart)" : "",
                      low ? "path" : li % 4 == 0 ? "circle" : li % 4 == 1 ? "rect" : "path");
        }
        sb_puts(b, "</g>");
        legend_item(b, p.x + p.w + 20, p.y + 8 + li * row, li % 4, c, true, json_str(l, "name"), (int)(legend_w / CHAR_W) - 6);
        li++;
    }
    free(order);
    /* the float model and the noise band in the legend, clear of the lines */
    double ly = p.y + 8 + li * row + 6;
    legend_item(b, p.x + p.w + 20, ly, -1, "#555555", true, "float model", (int)(legend_w / CHAR_W) - 6);
    sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"11\" fill=\"#999\" fill-opacity=\"0.3\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\">\xC2\xB1 one sample (%s)</text>",
              p.x + p.w + 20, ly + row - 5.5, p.x + p.w + 48, ly + row + 4,
              isfinite(one) ? (snprintf(buf, sizeof buf, "%.2f points", one), buf) : "unknown");
    sb_puts(b, "</svg></figure>");
}
