/* The --html report: one self-contained page (inline CSS and SVG, no
 * scripts) rendered from the JSON reports of `shrink run` and
 * `shrink sensitivity`. Charts are drawn by hand into a string buffer; a
 * chart without data says so instead of drawing empty axes. Colours are
 * the Okabe-Ito palette, which stays distinct under the common forms of
 * colour blindness; series also differ by marker shape. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_report.h"

/* Okabe-Ito, yellow left out: it is unreadable on white. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
#define N_PALETTE ((int)(sizeof palette / sizeof *palette))
#define C_BEFORE "#E69F00"
#define C_AFTER "#0072B2"
#define C_BUDGET "#D55E00"
#define C_GRID "#e4e4e4"

#define SVG_W 960.0
#define CHAR_W 7.0 /* average advance of a 12px sans-serif character */
#define ELLIPSIS "\xE2\x80\xA6"

/* ------------------------------------------------------------------ */
/* String buffer                                                        */
/* ------------------------------------------------------------------ */

typedef struct sb {
    char *p;
    size_t n, cap;
    bool oom;
} sb;

static bool sb_reserve(sb *b, size_t extra)
{
    if (b->oom) return false;
    if (b->n + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void sb_put(sb *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_puts(sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0) return;
    if ((size_t)len < sizeof small) {
        sb_put(b, small, (size_t)len);
        return;
    }
    if (!sb_reserve(b, (size_t)len)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

/* Appends n bytes of s escaped for HTML text and attribute values.
 * Control characters (which HTML forbids) become spaces. */
static void sb_esc_n(sb *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default:
            if (c < 0x20 || c == 0x7f) c = ' ';
            sb_put(b, (const char *)&c, 1);
        }
    }
}

static void sb_esc(sb *b, const char *s) { sb_esc_n(b, s, strlen(s)); }

static int utf8_len(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Escaped s, at most max_chars characters: a long name keeps its tail
 * (the distinguishing part of names like /classifier/classifier.3/Gemm)
 * behind an ellipsis, cut on a character boundary. */
static void sb_esc_fit(sb *b, const char *s, int max_chars)
{
    if (max_chars < 2) max_chars = 2;
    int n = utf8_len(s);
    if (n <= max_chars) {
        sb_esc(b, s);
        return;
    }
    const char *t = s;
    for (int skip = n - (max_chars - 1); skip > 0 || ((unsigned char)*t & 0xC0) == 0x80; t++)
        if (((unsigned char)*t & 0xC0) != 0x80) skip--;
    sb_puts(b, ELLIPSIS);
    sb_esc(b, t);
}

/* ------------------------------------------------------------------ */
/* JSON access and number formatting                                    */
/* ------------------------------------------------------------------ */

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static const cJSON *arr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsArray(v) ? v : NULL;
}

static int count(const cJSON *a) { return a ? cJSON_GetArraySize(a) : 0; }

/* 249270 -> "249,270"; NaN -> "–". */
static const char *fmt_int(char buf[40], double v)
{
    if (!isfinite(v)) return "\xE2\x80\x93";
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t n = strlen(digits), o = 0;
    if (v < 0 && digits[0] != '0') buf[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

static const char *fmt_bytes(char buf[40], double v)
{
    if (!isfinite(v)) return "\xE2\x80\x93";
    if (v < 1024) snprintf(buf, 40, "%.0f B", v);
    else if (v < 1024.0 * 1024) snprintf(buf, 40, "%.1f KiB", v / 1024);
    else snprintf(buf, 40, "%.2f MiB", v / (1024.0 * 1024));
    return buf;
}

static const char *fmt_pct(char buf[40], double v)
{
    if (!isfinite(v)) return "\xE2\x80\x93";
    snprintf(buf, 40, "%.2f%%", v);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Axes                                                                 */
/* ------------------------------------------------------------------ */

typedef struct axis {
    double lo, hi;
    bool log;
} axis;

typedef struct plot {
    double x, y, w, h; /* plot area inside the svg */
    axis ax, ay;
} plot;

static double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* A linear axis over [lo, hi] widened to whole tick steps. */
static axis axis_linear(double lo, double hi)
{
    if (!(hi - lo > 1e-12 * fmax(fabs(lo), fabs(hi)))) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    double step = nice_step(hi - lo, 5);
    axis a = {floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step, false};
    return a;
}

static axis axis_log(double lo, double hi)
{
    axis a = {pow(10, floor(log10(lo))), pow(10, ceil(log10(hi))), true};
    if (a.hi <= a.lo) a.hi = a.lo * 10;
    return a;
}

static double axis_frac(const axis *a, double v)
{
    if (a->log) return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return (v - a->lo) / (a->hi - a->lo);
}

static double px(const plot *p, double v) { return p->x + p->w * axis_frac(&p->ax, v); }
static double py(const plot *p, double v) { return p->y + p->h * (1 - axis_frac(&p->ay, v)); }

/* Tick values of an axis (at most max); linear ticks on whole steps, log
 * ticks on decades plus 2x and 5x when the axis spans few decades. */
static int axis_ticks(const axis *a, double *t, int max)
{
    int n = 0;
    if (a->log) {
        int decades = (int)lround(log10(a->hi / a->lo));
        for (double d = a->lo; d <= a->hi * 1.0001 && n < max; d *= 10) {
            t[n++] = d;
            if (decades <= 2 && d * 2 < a->hi && n + 2 <= max) {
                t[n++] = d * 2;
                t[n++] = d * 5;
            }
        }
        return n;
    }
    double step = nice_step(a->hi - a->lo, 5);
    for (double v = a->lo; v <= a->hi + step * 1e-6 && n < max; v += step) t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

static void fmt_tick(char buf[40], const axis *a, double v)
{
    if (a->log) {
        snprintf(buf, 40, "%g", v);
        return;
    }
    double step = nice_step(a->hi - a->lo, 5);
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, 40, "%.*f", decimals, v);
}

/* Grid lines, ticks, tick labels and axis titles; x ticks only when
 * x_ticks (category axes label their own). */
static void draw_axes(sb *b, const plot *p, bool x_ticks, const char *x_title, const char *y_title)
{
    double t[32];
    char buf[40];
    int n = axis_ticks(&p->ay, t, 32);
    sb_puts(b, "<g class=\"axis y-axis\">");
    for (int i = 0; i < n; i++) {
        double y = py(p, t[i]);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>", p->x, y,
                  p->x + p->w, y);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", p->x - 6, y + 4,
                  (fmt_tick(buf, &p->ay, t[i]), buf));
    }
    sb_printf(b, "<text class=\"axis-title\" transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">",
              p->x - 48, p->y + p->h / 2);
    sb_esc(b, y_title);
    sb_puts(b, "</text></g><g class=\"axis x-axis\">");
    if (x_ticks) {
        n = axis_ticks(&p->ax, t, 32);
        for (int i = 0; i < n; i++) {
            double x = px(p, t[i]);
            sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>", x, p->y, x,
                      p->y + p->h);
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, p->y + p->h + 18,
                      (fmt_tick(buf, &p->ax, t[i]), buf));
        }
    }
    sb_printf(b, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", p->x + p->w / 2,
              p->y + p->h + 40);
    sb_esc(b, x_title);
    sb_puts(b, "</text>");
    sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/></g>", p->x,
              p->y, p->w, p->h);
}

/* A horizontal reference line across the plot with a label at its right end. */
static void draw_hline(sb *b, const plot *p, double v, const char *color, const char *cls, const char *label,
                       bool label_left)
{
    if (!isfinite(v) || axis_frac(&p->ay, v) < 0 || axis_frac(&p->ay, v) > 1) return;
    double y = py(p, v);
    sb_printf(b, "<g class=\"%s\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
              cls, p->x, y, p->x + p->w, y, color);
    sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\" class=\"ref-label\">",
              label_left ? p->x + 4 : p->x + p->w - 4, y - 4, label_left ? "start" : "end", color);
    sb_esc(b, label);
    sb_puts(b, "</text></g>");
}

/* Marker shapes, so series differ by more than colour. */
static void draw_marker(sb *b, int shape, double x, double y, double r, const char *fill, const char *stroke,
                        const char *cls)
{
    switch (shape % 4) {
    case 0:
        sb_printf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", cls, x, y, r);
        break;
    case 1:
        sb_printf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", cls, x - r * 0.9,
                  y - r * 0.9, r * 1.8, r * 1.8);
        break;
    case 2:
        sb_printf(b, "<path class=\"%s\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", cls, x, y - r * 1.2, x + r * 1.1,
                  y + r * 0.8, x - r * 1.1, y + r * 0.8);
        break;
    default:
        sb_printf(b, "<path class=\"%s\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", cls, x, y - r * 1.3,
                  x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y);
    }
    sb_printf(b, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"", fill, stroke);
}

static void svg_open(sb *b, double h, const char *label)
{
    sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "role=\"img\" aria-label=\"",
              SVG_W, h, SVG_W, h);
    sb_esc(b, label);
    sb_puts(b, "\">");
}

static void figure_open(sb *b, const char *id, const char *caption)
{
    sb_printf(b, "<figure class=\"chart\" id=\"%s\"><figcaption>", id);
    sb_esc(b, caption);
    sb_puts(b, "</figcaption>");
}

static void no_data(sb *b, const char *why)
{
    sb_puts(b, "<p class=\"nodata\">");
    sb_esc(b, why);
    sb_puts(b, "</p>");
}

/* Legend entry: a swatch (marker or bar) and a label, at (x, y). */
static void legend_item(sb *b, double x, double y, int shape, const char *color, bool line, const char *label,
                        int max_chars)
{
    sb_puts(b, "<g class=\"legend-item\">");
    if (line)
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>", x,
                  y, x + 22, y, color);
    if (shape >= 0) {
        draw_marker(b, shape, x + 11, y, 4.5, color, color, "legend-marker");
        sb_puts(b, "/>");
    } else if (!line) {
        sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"11\" fill=\"%s\"/>", x, y - 5.5, color);
    }
    sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 28, y + 4);
    sb_esc_fit(b, label, max_chars);
    sb_puts(b, "</text></g>");
}

/* ------------------------------------------------------------------ */
/* Charts                                                               */
/* ------------------------------------------------------------------ */

/* Scale for byte counts: the unit that keeps axis numbers short. */
static double bytes_unit(double max, const char **name)
{
    if (max >= 10.0 * 1024 * 1024) return *name = "MiB", 1024.0 * 1024;
    if (max >= 10.0 * 1024) return *name = "KiB", 1024.0;
    return *name = "bytes", 1.0;
}

/* Horizontal bars per layer, before and after, on a linear scale so
 * lengths compare honestly; every bar carries its value as text. */
static void chart_sizes(sb *b, const cJSON *run)
{
    const cJSON *layers = arr(run, "layers"), *l;
    figure_open(b, "chart-sizes", "Size per layer, before and after");
    int n = count(layers);
    double max = 0;
    int name_chars = 8;
    cJSON_ArrayForEach(l, layers)
    {
        max = fmax(max, fmax(num(l, "bytes_before"), num(l, "bytes_after")));
        int c = utf8_len(str(l, "name"));
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
        sb_esc_fit(b, str(l, "name"), name_chars);
        sb_puts(b, "<title>");
        sb_esc(b, str(l, "name"));
        sb_puts(b, "</title></text>");
        for (int k = 0; k < 2; k++) {
            double v = num(l, k ? "bytes_after" : "bytes_before");
            if (!isfinite(v) || v < 0) v = 0;
            double w = p.w * v / scale / p.ax.hi, y = y0 + k * bar;
            if (v > 0 && w < 1) w = 1; /* a tiny layer still shows */
            sb_printf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\">"
                         "<title>",
                      k ? "bar-after" : "bar-before", p.x, y, w, bar - 1, k ? C_AFTER : C_BEFORE);
            sb_esc(b, str(l, "name"));
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
static void chart_pass_accuracy(sb *b, const cJSON *run)
{
    const cJSON *passes = arr(run, "passes"), *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"), *ps;
    figure_open(b, "chart-passes", "Accuracy after each pass");
    double fl = num(acc, "float"), max_drop = num(acc, "max_drop");
    double lo = fl, hi = fl;
    int n = count(passes), with_acc = 0;
    cJSON_ArrayForEach(ps, passes)
    {
        double a = num(ps, "accuracy");
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
    const char *metric = str(acc, "metric");
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
        if (pi) snprintf(label, sizeof label, "%d. %s", i, str(pi, "name"));
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
        double a = num(ps, "accuracy");
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
        double a = num(ps, "accuracy");
        const char *outcome = str(ps, "outcome"), *c = outcome_color(outcome);
        if (isfinite(a)) {
            double x = p.x + (i + 0.5) * slot, y = py(&p, a);
            sb_printf(b, "<circle class=\"pt-pass\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\" stroke=\"#222\" "
                         "stroke-width=\"1\"><title>",
                      x, y, c);
            sb_esc(b, str(ps, "name"));
            sb_printf(b, " (%s): %s</title></circle>", outcome, fmt_pct(buf, a));
            sb_printf(b, "<text class=\"pt-value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, y - 11,
                      fmt_pct(buf, a));
        }
        i++;
    }
    sb_puts(b, "</svg></figure>");
}

/* True when tried entry t is the setting its pass kept. */
static bool is_chosen(const cJSON *t, const cJSON *passes)
{
    const cJSON *ps;
    cJSON_ArrayForEach(ps, passes)
    {
        if (!strcmp(str(ps, "name"), str(t, "pass")) && !strcmp(str(ps, "params"), str(t, "params")) &&
            strcmp(str(ps, "outcome"), "skipped") != 0)
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
static void chart_pareto(sb *b, const cJSON *run)
{
    const cJSON *tried = arr(run, "tried"), *passes = arr(run, "passes"),
                *acc = cJSON_GetObjectItemCaseSensitive(run, "accuracy"), *t;
    figure_open(b, "chart-pareto", "Size vs accuracy of every configuration tried");
    int n = 0;
    double bmin = INFINITY, bmax = 0, amin = INFINITY, amax = -INFINITY;
    cJSON_ArrayForEach(t, tried)
    {
        double by = num(t, "bytes"), a = num(t, "accuracy");
        if (!(by > 0) || !isfinite(a)) continue;
        n++;
        bmin = fmin(bmin, by);
        bmax = fmax(bmax, by);
        amin = fmin(amin, a);
        amax = fmax(amax, a);
    }
    if (!n) {
        no_data(b, count(tried) ? "No configuration has a measured accuracy (run with --val data)."
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
    double fl = num(acc, "float"), max_drop = num(acc, "max_drop");
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
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", str(acc, "metric"));
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
        double by = num(t, "bytes"), a = num(t, "accuracy");
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
            double by = num(t, "bytes"), a = num(t, "accuracy");
            if (!(by > 0) || !isfinite(a) || is_chosen(t, passes) != (pass == 1)) continue;
            double x = px(&p, by / scale), y = py(&p, a);
            if (pass) draw_marker(b, 3, x, y, 7, "#D55E00", "#000000", "pt-config pt-chosen");
            else draw_marker(b, 0, x, y, 5, "#56B4E9", "#0072B2", "pt-config");
            sb_puts(b, " fill-opacity=\"0.85\"><title>");
            sb_esc(b, str(t, "pass"));
            sb_puts(b, " ");
            sb_esc(b, str(t, "params"));
            sb_printf(b, ": %s bytes, %s</title></%s>", fmt_int(buf, by), fmt_pct(buf2, a), pass ? "path" : "circle");
        }
    }
    sb_puts(b, "</svg></figure>");
}

/* One line per layer: accuracy with that layer alone compressed at each
 * knob value, the float accuracy as reference, a legend at the right. */
static void chart_sensitivity(sb *b, const cJSON *sens)
{
    figure_open(b, "chart-sensitivity", "Sensitivity: accuracy with one layer compressed at a time");
    if (!sens) {
        no_data(b, "No sensitivity data in this report (see `shrink sensitivity MODEL --pass NAME --grid ... --html "
                   "R.html`).");
        sb_puts(b, "</figure>");
        return;
    }
    const cJSON *grid = arr(sens, "grid"), *layers = arr(sens, "layers"), *l, *g;
    int ng = count(grid), nl = count(layers);
    double gmin = INFINITY, gmax = -INFINITY, amin = INFINITY, amax = -INFINITY, fl = num(sens, "float");
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
        cJSON_ArrayForEach(a, arr(l, "accuracy"))
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
    snprintf(xtitle, sizeof xtitle, "%s of %s", str(sens, "knob"), str(sens, "pass"));
    snprintf(ytitle, sizeof ytitle, "%s accuracy (%%)", str(sens, "metric"));
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
        const cJSON *accs = arr(l, "accuracy");
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
            sb_esc(b, str(l, "name"));
            sb_printf(b, " at %s = %g: %s</title></%s>", str(sens, "knob"), gv->valuedouble,
                      fmt_pct(buf, av->valuedouble), li % 4 == 0 ? "circle" : li % 4 == 1 ? "rect" : "path");
        }
        sb_puts(b, "</g>");
        legend_item(b, p.x + p.w + 20, p.y + 8 + li * row, li % 4, c, true, str(l, "name"), (int)(legend_w / CHAR_W) - 6);
        li++;
    }
    free(order);
    sb_puts(b, "</svg></figure>");
}

/* ------------------------------------------------------------------ */
/* Tables and facts                                                     */
/* ------------------------------------------------------------------ */

static void td_text(sb *b, const char *s, const char *cls)
{
    sb_printf(b, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    sb_esc(b, s);
    sb_puts(b, "</td>");
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
    snprintf(v, sizeof v, "%s (%s bytes, %s parameters)", str(in, "path"), fmt_int(b1, num(in, "bytes")),
             fmt_int(b2, num(in, "params")));
    fact(b, "input", v);
    snprintf(v, sizeof v, "%s (%s bytes)", str(out, "path"), fmt_int(b1, num(out, "bytes")));
    fact(b, "output", v);
    snprintf(v, sizeof v, "%.2fx smaller", num(run, "ratio"));
    fact(b, "ratio", v);
    const char *metric = str(acc, "metric");
    if (!*metric || !strcmp(metric, "none")) fact(b, "accuracy", "not measured (no --val data)");
    else {
        snprintf(v, sizeof v, "%s: float %s, final %s", metric, fmt_pct(b1, num(acc, "float")),
                 fmt_pct(b2, num(acc, "final")));
        fact(b, "accuracy", v);
        snprintf(v, sizeof v, "%.2f points", num(acc, "drop"));
        fact(b, "drop", v);
        double md = num(acc, "max_drop");
        if (isfinite(md) && md >= 0) {
            snprintf(v, sizeof v, "%.2f points (%s)", md,
                     cJSON_IsBool(met) ? (cJSON_IsTrue(met) ? "met" : "NOT met") : "unknown");
            fact(b, "budget", v);
        }
    }
    sb_puts(b, "</dl>");
}

static void layers_table(sb *b, const cJSON *run)
{
    const cJSON *layers = arr(run, "layers"), *l;
    sb_puts(b, "<h2>Layers</h2>");
    if (!count(layers)) {
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
        td_text(b, str(l, "name"), NULL);
        td_text(b, str(l, "op"), NULL);
        td_text(b, str(l, "weight"), NULL);
        td_text(b, fmt_int(buf, num(l, "params")), "n");
        snprintf(buf, sizeof buf, "%.1f%%", 100 * num(l, "sparsity"));
        td_text(b, buf, "n");
        td_text(b, fmt_int(buf, num(l, "bits")), "n");
        td_text(b, fmt_int(buf, num(l, "bytes_before")), "n");
        td_text(b, fmt_int(buf, num(l, "bytes_after")), "n");
        sb_puts(b, "</tr>");
        tp += num(l, "params");
        tb += num(l, "bytes_before");
        ta += num(l, "bytes_after");
    }
    sb_printf(b, "</tbody><tfoot><tr><th>total</th><td></td><td></td><td class=\"n\">%s</td><td></td><td></td>",
              fmt_int(buf, tp));
    sb_printf(b, "<td class=\"n\">%s</td>", fmt_int(buf, tb));
    sb_printf(b, "<td class=\"n\">%s</td></tr></tfoot></table>", fmt_int(buf, ta));
}

static void passes_table(sb *b, const cJSON *run)
{
    const cJSON *passes = arr(run, "passes"), *ps;
    sb_puts(b, "<h2>Passes</h2>");
    if (!count(passes)) {
        no_data(b, "The report lists no passes.");
        return;
    }
    sb_puts(b, "<table id=\"table-passes\"><thead><tr><th>#</th><th>pass</th><th>outcome</th><th class=\"n\">"
               "accuracy</th><th class=\"n\">bytes</th><th class=\"n\">seconds</th><th>parameters</th></tr></thead>"
               "<tbody>");
    char buf[40];
    int i = 1;
    cJSON_ArrayForEach(ps, passes)
    {
        sb_printf(b, "<tr><td class=\"n\">%d</td>", i++);
        td_text(b, str(ps, "name"), "nw");
        td_text(b, str(ps, "outcome"), "nw");
        td_text(b, fmt_pct(buf, num(ps, "accuracy")), "n");
        td_text(b, fmt_int(buf, num(ps, "bytes")), "n");
        snprintf(buf, sizeof buf, "%.2f", num(ps, "seconds"));
        td_text(b, buf, "n");
        td_text(b, str(ps, "params"), "params");
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void tried_table(sb *b, const cJSON *run)
{
    const cJSON *tried = arr(run, "tried"), *passes = arr(run, "passes"), *t;
    sb_puts(b, "<h2>Configurations tried</h2>");
    if (!count(tried)) {
        no_data(b, "The report lists no configurations.");
        return;
    }
    sb_puts(b, "<table id=\"table-tried\"><thead><tr><th>#</th><th>pass</th><th class=\"n\">bytes</th>"
               "<th class=\"n\">accuracy</th><th>kept</th><th>parameters</th></tr></thead><tbody>");
    char buf[40];
    int i = 1;
    cJSON_ArrayForEach(t, tried)
    {
        bool chosen = is_chosen(t, passes);
        sb_printf(b, "<tr%s><td class=\"n\">%d</td>", chosen ? " class=\"chosen\"" : "", i++);
        td_text(b, str(t, "pass"), "nw");
        td_text(b, fmt_int(buf, num(t, "bytes")), "n");
        td_text(b, fmt_pct(buf, num(t, "accuracy")), "n");
        td_text(b, chosen ? "yes" : "", NULL);
        td_text(b, str(t, "params"), "params");
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table>");
}

static void sensitivity_facts(sb *b, const cJSON *sens)
{
    char v[600], buf[40];
    sb_puts(b, "<dl class=\"facts\" id=\"sensitivity-facts\">");
    fact(b, "pass", str(sens, "pass"));
    fact(b, "knob", str(sens, "knob"));
    snprintf(v, sizeof v, "%s, float model %s", str(sens, "metric"), fmt_pct(buf, num(sens, "float")));
    fact(b, "accuracy", v);
    sb_puts(b, "</dl>");
}

static void sensitivity_table(sb *b, const cJSON *sens)
{
    const cJSON *grid = arr(sens, "grid"), *layers = arr(sens, "layers"), *l, *g;
    char buf[40];
    if (!count(layers)) return;
    sb_puts(b, "<h2>Sensitivity per layer</h2><table id=\"table-sensitivity\"><thead><tr><th>layer</th><th>op</th><th class=\"n\">params</th>");
    cJSON_ArrayForEach(g, grid)
    {
        sb_puts(b, "<th class=\"n\">");
        sb_esc(b, str(sens, "knob"));
        sb_printf(b, " %g</th>", cJSON_IsNumber(g) ? g->valuedouble : NAN);
    }
    sb_puts(b, "</tr></thead><tbody>");
    cJSON_ArrayForEach(l, layers)
    {
        sb_puts(b, "<tr>");
        td_text(b, str(l, "name"), NULL);
        td_text(b, str(l, "op"), NULL);
        td_text(b, fmt_int(buf, num(l, "params")), "n");
        const cJSON *a;
        cJSON_ArrayForEach(a, arr(l, "accuracy")) td_text(b, fmt_pct(buf, cJSON_IsNumber(a) ? a->valuedouble : NAN), "n");
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
    const char *subject = run ? str(cJSON_GetObjectItemCaseSensitive(run, "input"), "path") : str(sens, "pass");
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
        chart_pass_accuracy(&b, run);
        sb_puts(&b, "\n");
        chart_pareto(&b, run);
        sb_puts(&b, "\n");
        chart_sensitivity(&b, sens);
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
