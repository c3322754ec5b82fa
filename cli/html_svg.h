/* SVG and HTML primitives shared by the --html report's charts
 * (html_charts.c) and page (html_report.c). Everything drawn goes into a
 * string buffer `sb` that records running out of memory instead of
 * failing each call; every string taken from a report is HTML-escaped. */
#ifndef SHRINK_HTML_SVG_H
#define SHRINK_HTML_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Okabe-Ito, yellow left out: it is unreadable on white. */
#define N_PALETTE 7
extern const char *const palette[N_PALETTE];
#define C_BEFORE "#E69F00"
#define C_AFTER "#0072B2"
#define C_BUDGET "#D55E00"
#define C_GRID "#e4e4e4"

#define SVG_W 960.0
#define CHAR_W 7.0 /* average advance of a 12px sans-serif character */
#define ELLIPSIS "\xE2\x80\xA6"

/* ---- string buffer ---- */
typedef struct sb {
    char *p;
    size_t n, cap;
    bool oom; /* an allocation failed: the text is incomplete */
} sb;

bool sb_reserve(sb *b, size_t extra);
void sb_put(sb *b, const char *s, size_t n);
void sb_puts(sb *b, const char *s);
void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s escaped for HTML text and attribute values (control characters become spaces) */
void sb_esc_n(sb *b, const char *s, size_t n);
void sb_esc(sb *b, const char *s);
/* s escaped, at most max_chars characters: a long name keeps its tail behind an ellipsis */
void sb_esc_fit(sb *b, const char *s, int max_chars);
int utf8_len(const char *s);

/* ---- JSON access (missing or mistyped: NaN, "", NULL, 0) ---- */
double json_num(const cJSON *o, const char *k);
const char *json_str(const cJSON *o, const char *k);
const cJSON *json_arr(const cJSON *o, const char *k);
int json_count(const cJSON *a);

/* ---- numbers as text into buf (NaN: an en dash) ---- */
const char *fmt_int(char buf[40], double v);   /* 249270 -> "249,270" */
const char *fmt_bytes(char buf[40], double v); /* "600 B", "17.5 KiB", "1.20 MiB" */
const char *fmt_pct(char buf[40], double v);   /* "89.71%" */
/* A value of `metric` with its unit: "89.71%" (top1, agreement, or no
 * metric given), "21.10 dB" (snr), "0.9987" (cosine), "0.0012" (mse). */
const char *fmt_metric(char buf[40], const char *metric, double v);
/* The unit of a drop in `metric`: "points", "dB" or "" (cosine, mse). */
const char *metric_drop_unit(const char *metric);

/* ---- axes and plots ---- */
typedef struct axis {
    double lo, hi;
    bool log;
    bool rev; /* values run from hi to lo (toward more compression) */
} axis;

typedef struct plot {
    double x, y, w, h; /* plot area inside the svg */
    axis ax, ay;
} plot;

double nice_step(double range, int target);
/* a linear axis over [lo, hi] widened to whole tick steps */
axis axis_linear(double lo, double hi);
/* a log axis over whole decades around [lo, hi] (lo > 0) */
axis axis_log(double lo, double hi);
double axis_frac(const axis *a, double v);
double px(const plot *p, double v); /* x pixel of value v */
double py(const plot *p, double v); /* y pixel of value v */
int axis_ticks(const axis *a, double *t, int max);
void fmt_tick(char buf[40], const axis *a, double v);
/* grid lines, ticks, tick labels and axis titles; x ticks only when x_ticks */
void draw_axes(sb *b, const plot *p, bool x_ticks, const char *x_title, const char *y_title);
/* a dashed horizontal reference line with a label at one end */
void draw_hline(sb *b, const plot *p, double v, const char *color, const char *cls, const char *label,
                bool label_left);
/* opens a marker element (circle, square, triangle, diamond by shape % 4);
 * the caller closes it ("/>" or "><title>...</title></TAG>") */
void draw_marker(sb *b, int shape, double x, double y, double r, const char *fill, const char *stroke,
                 const char *cls);
void svg_open(sb *b, double h, const char *label);
void figure_open(sb *b, const char *id, const char *caption);
/* a note in place of a chart that has nothing to draw */
void no_data(sb *b, const char *why);
/* legend entry: a swatch (marker, bar or line) and a label at (x, y) */
void legend_item(sb *b, double x, double y, int shape, const char *color, bool line, const char *label,
                 int max_chars);

#endif
