/* SVG and HTML primitives of the --html reports: a growing string buffer
 * with HTML escaping, JSON field access, number formatting, linear and log
 * axes, markers, legends and figure boxes. The charts (html_charts.c) and
 * the page (html_report.c) are drawn with these. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "html_svg.h"

const char *const palette[N_PALETTE] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
/* ------------------------------------------------------------------ */
/* String buffer                                                        */
/* ------------------------------------------------------------------ */


bool sb_reserve(sb *b, size_t extra)
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

void sb_put(sb *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void sb_puts(sb *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(sb *b, const char *fmt, ...)
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
void sb_esc_n(sb *b, const char *s, size_t n)
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

void sb_esc(sb *b, const char *s) { sb_esc_n(b, s, strlen(s)); }

int utf8_len(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Escaped s, at most max_chars characters: a long name keeps its tail
 * (the distinguishing part of names like /classifier/classifier.3/Gemm)
 * behind an ellipsis, cut on a character boundary. */
void sb_esc_fit(sb *b, const char *s, int max_chars)
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

double json_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

const cJSON *json_arr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsArray(v) ? v : NULL;
}

int json_count(const cJSON *a) { return a ? cJSON_GetArraySize(a) : 0; }

/* 249270 -> "249,270"; NaN -> "–". */
const char *fmt_int(char buf[40], double v)
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

const char *fmt_bytes(char buf[40], double v)
{
    if (!isfinite(v)) return "\xE2\x80\x93";
    if (v < 1024) snprintf(buf, 40, "%.0f B", v);
    else if (v < 1024.0 * 1024) snprintf(buf, 40, "%.1f KiB", v / 1024);
    else snprintf(buf, 40, "%.2f MiB", v / (1024.0 * 1024));
    return buf;
}

const char *fmt_pct(char buf[40], double v)
{
    if (!isfinite(v)) return "\xE2\x80\x93";
    snprintf(buf, 40, "%.2f%%", v);
    return buf;
}

const char *fmt_metric(char buf[40], const char *metric, double v)
{
    if (!metric || !*metric || !strcmp(metric, "top1") || !strcmp(metric, "agreement") || !strcmp(metric, "none"))
        return fmt_pct(buf, v);
    if (!strcmp(metric, "snr")) { /* identical outputs: infinite (null in the JSON) */
        if (isfinite(v)) snprintf(buf, 40, "%.2f dB", v);
        else snprintf(buf, 40, "inf dB");
        return buf;
    }
    if (!isfinite(v)) return "\xE2\x80\x93";
    snprintf(buf, 40, !strcmp(metric, "cosine") ? "%.4f" : "%.4g", v);
    return buf;
}

const char *metric_drop_unit(const char *metric)
{
    if (!metric || !*metric || !strcmp(metric, "top1") || !strcmp(metric, "agreement")) return "points";
    return !strcmp(metric, "snr") ? "dB" : "";
}

/* ------------------------------------------------------------------ */
/* Axes                                                                 */
/* ------------------------------------------------------------------ */


double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* A linear axis over [lo, hi] widened to whole tick steps. */
axis axis_linear(double lo, double hi)
{
    if (!(hi - lo > 1e-12 * fmax(fabs(lo), fabs(hi)))) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    double step = nice_step(hi - lo, 5);
    axis a = {floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step, false, false};
    return a;
}

axis axis_log(double lo, double hi)
{
    axis a = {pow(10, floor(log10(lo))), pow(10, ceil(log10(hi))), true, false};
    if (a.hi <= a.lo) a.hi = a.lo * 10;
    return a;
}

double axis_frac(const axis *a, double v)
{
    double f = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) : (v - a->lo) / (a->hi - a->lo);
    return a->rev ? 1 - f : f;
}

double px(const plot *p, double v) { return p->x + p->w * axis_frac(&p->ax, v); }
double py(const plot *p, double v) { return p->y + p->h * (1 - axis_frac(&p->ay, v)); }

/* Tick values of an axis (at most max); linear ticks on whole steps, log
 * ticks on decades plus 2x and 5x when the axis spans few decades. */
int axis_ticks(const axis *a, double *t, int max)
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

void fmt_tick(char buf[40], const axis *a, double v)
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
void draw_axes(sb *b, const plot *p, bool x_ticks, const char *x_title, const char *y_title)
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
void draw_hline(sb *b, const plot *p, double v, const char *color, const char *cls, const char *label,
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
void draw_marker(sb *b, int shape, double x, double y, double r, const char *fill, const char *stroke,
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

void svg_open(sb *b, double h, const char *label)
{
    sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "role=\"img\" aria-label=\"",
              SVG_W, h, SVG_W, h);
    sb_esc(b, label);
    sb_puts(b, "\">");
}

void figure_open(sb *b, const char *id, const char *caption)
{
    sb_printf(b, "<figure class=\"chart\" id=\"%s\"><figcaption>", id);
    sb_esc(b, caption);
    sb_puts(b, "</figcaption>");
}

void no_data(sb *b, const char *why)
{
    sb_puts(b, "<p class=\"nodata\">");
    sb_esc(b, why);
    sb_puts(b, "</p>");
}

/* Legend entry: a swatch (marker or bar) and a label, at (x, y). */
void legend_item(sb *b, double x, double y, int shape, const char *color, bool line, const char *label,
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
