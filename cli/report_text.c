/* The text a person reads of a run (see report_text.h): pass lines live or
 * rebuilt from a report, and the summary. */
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_svg.h"
#include "report_text.h"

bool text_utf8(void)
{
    static int utf8 = -1;
    if (utf8 < 0) {
        setlocale(LC_CTYPE, "");
        utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    }
    return utf8;
}

#define ARROW (text_utf8() ? "\xE2\x86\x92" : "->")
#define OK_MARK (text_utf8() ? "\xE2\x9C\x93" : "ok")
#define NO_MARK (text_utf8() ? "\xE2\x9C\x97" : "x")

/* ---- parameters ---- */

/* Value of `key` in "k=v,k=v" into buf ("" when absent). */
static const char *param_value(const char *params, const char *key, char *buf, size_t cap)
{
    size_t kl = strlen(key);
    buf[0] = 0;
    for (const char *p = params; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(buf, cap, "%.*s", (int)(n - kl - 1), p + kl + 1);
            break;
        }
        p = end ? end + 1 : NULL;
    }
    return buf;
}

static bool same_value(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*a && *b && !*ea && !*eb) return x == y;
    return !strcmp(a, b) || (!*b && !strcmp(a, "-"));
}

char *params_changed(const char *pass, const char *params, const char *skip)
{
    size_t cap = strlen(params ? params : "") + 1;
    char *out = calloc(1, cap);
    if (!out || !params) return out;
    int pi = -1;
    lc_pass_info info = {0};
    for (int i = 0; i < lc_pass_count() && pi < 0; i++)
        if (!lc_pass_describe(i, &info) && !strcmp(info.name, pass)) pi = i;
    for (const char *p = params; *p;) {
        const char *end = strchr(p, ','), *eq;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char tok[512];
        snprintf(tok, sizeof tok, "%.*s", (int)n, p);
        p = end ? end + 1 : p + n;
        if (!(eq = strchr(tok, '='))) continue;
        *(char *)eq = 0;
        const char *key = tok, *val = eq + 1;
        if (skip && !strcmp(key, skip)) continue;
        bool dflt = false;
        for (int k = 0; pi >= 0 && k < info.n_params; k++) {
            lc_param_info q;
            if (!lc_pass_param(pi, k, &q) && !strcmp(q.name, key)) dflt = same_value(val, q.def);
        }
        if (dflt) continue;
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%s=%s", o ? "," : "", key, val);
    }
    return out;
}

/* ---- pass lines ---- */

static void pl_add(pass_line *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pl_add(pass_line *pl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int room = (int)sizeof pl->text - pl->len;
    int n = room > 1 ? vsnprintf(pl->text + pl->len, (size_t)room, fmt, ap) : 0;
    va_end(ap);
    if (n > 0) pl->len += n < room ? n : room - 1;
}

void pass_line_begin(pass_line *pl, int step, const char *pass, const char *knob, const char *params,
                     const char *metric)
{
    memset(pl, 0, sizeof *pl);
    snprintf(pl->pass, sizeof pl->pass, "%s", pass);
    snprintf(pl->knob, sizeof pl->knob, "%s", knob ? knob : "");
    snprintf(pl->metric, sizeof pl->metric, "%s", metric ? metric : "");
    pl_add(pl, "%d %s", step, pass);
    char *chg = params ? params_changed(pass, params, knob) : NULL;
    if (chg && *chg) pl_add(pl, "\x1f(%s)", chg);
    free(chg);
}

void pass_line_try(pass_line *pl, const cJSON *t, bool within)
{
    char v[64], acc[40];
    double a = json_num(t, "accuracy");
    const char *as = isfinite(a) ? fmt_metric(acc, pl->metric, a) : "not measured";
    if (*pl->knob) {
        param_value(json_str(t, "params"), pl->knob, v, sizeof v);
        if (!pl->tries) pl_add(pl, "\x1f%s %s %s %s", pl->knob, v, ARROW, as);
        else pl_add(pl, "\x1f%s %s %s", v, ARROW, as);
    } else pl_add(pl, "\x1f%s %s", ARROW, as);
    if (isfinite(a)) pl_add(pl, " %s", within ? OK_MARK : NO_MARK);
    pl->tries++;
}

static int text_width(const char *s, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++) w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

void pass_line_end(pass_line *pl, const cJSON *done)
{
    char v[64], b[40];
    const char *outcome = json_str(done, "outcome");
    if (!strcmp(outcome, "skipped")) pl_add(pl, "\x1fskipped: no setting within the budget");
    else {
        if (!strcmp(outcome, "backed off") && *pl->knob)
            pl_add(pl, "\x1f%s kept %s %s", ARROW, pl->knob, param_value(json_str(done, "params"), pl->knob, v, sizeof v));
        pl_add(pl, "\x1f%s B", fmt_int(b, json_num(done, "bytes")));
    }
    pl_add(pl, " (%.1f s)", json_num(done, "seconds"));
    /* words are separated by \x1f: two spaces, or a new line indented
       under the first setting when the next would pass the margin */
    const int indent = 22;
    const char *p = pl->text, *e = strchr(p, '\x1f');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    printf("  %-*.*s", indent - 2, (int)n, p);
    int col = indent;
    for (p = e ? e + 1 : p + n; e; p = e ? e + 1 : p + n) {
        e = strchr(p, '\x1f');
        n = e ? (size_t)(e - p) : strlen(p);
        int w = text_width(p, n);
        if (col > indent && col + 2 + w > TEXT_COLUMNS) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputs("  ", stdout);
            col += 2;
        }
        fwrite(p, 1, n, stdout);
        col += w;
    }
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- rebuilt from a report ---- */

static const char *attempt_title(const char *label)
{
    return !strcmp(label, "greedy") ? "greedy (the first pass may spend the whole budget)"
                                    : "shared budget (each pass with a knob an equal share of what is left)";
}

static const char *knob_of(const char *pass)
{
    lc_pass_info info;
    for (int i = 0; i < lc_pass_count(); i++)
        if (!lc_pass_describe(i, &info) && !strcmp(info.name, pass)) return info.knob;
    return NULL;
}

void report_print_attempts(const cJSON *r)
{
    const cJSON *attempts = json_arr(r, "attempts"), *a, *t;
    double fl = json_num(cJSON_GetObjectItemCaseSensitive(r, "accuracy"), "float");
    double md = json_num(cJSON_GetObjectItemCaseSensitive(r, "accuracy"), "max_drop");
    const char *metric = json_str(cJSON_GetObjectItemCaseSensitive(r, "accuracy"), "metric");
    int ai = 0;
    cJSON_ArrayForEach(a, attempts)
    {
        const char *label = json_str(a, "label");
        printf("attempt %d, %s%s\n", ++ai, attempt_title(label),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "final")) ? ": the final model" : "");
        int step = 0;
        const cJSON *done;
        cJSON_ArrayForEach(done, json_arr(a, "passes"))
        {
            step++;
            pass_line pl;
            const char *pass = json_str(done, "name");
            bool begun = false;
            double allow = json_num(done, "drop_allowed");
            cJSON_ArrayForEach(t, json_arr(r, "tried"))
            {
                if (strcmp(json_str(t, "attempt"), label) || (int)json_num(t, "step") != step) continue;
                if (!begun) pass_line_begin(&pl, step, pass, knob_of(pass), json_str(t, "params"), metric);
                begun = true;
                double acc = json_num(t, "accuracy");
                pass_line_try(&pl, t, !isfinite(md) || !isfinite(acc) || fl - acc <= (isfinite(allow) ? allow : md) + 1e-9);
            }
            if (!begun) pass_line_begin(&pl, step, pass, knob_of(pass), json_str(done, "params"), metric);
            pass_line_end(&pl, done);
        }
    }
}

/* ---- summary ---- */

/* name fitted to w columns: a long name keeps its tail behind "..." */
static void print_fit(const char *s, int w)
{
    int n = text_width(s, strlen(s));
    if (n <= w) {
        printf("%-*s", w + (int)strlen(s) - n, s);
        return;
    }
    const char *t = s;
    for (int skip = n - (w - 3); skip > 0 || ((unsigned char)*t & 0xC0) == 0x80; t++)
        if (((unsigned char)*t & 0xC0) != 0x80) skip--;
    printf("...%s", t);
}

static void print_target(const cJSON *r)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "target");
    if (!t) return;
    char b1[40], b2[40], b3[40];
    double tb = json_num(t, "target_bytes"), ab = json_num(t, "achieved_bytes");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(t, "mode");
    if (cJSON_IsString(mode) && !strcmp(mode->valuestring, "auto"))
        printf("auto      the smallest build within the budget: %s B; smallest reached %s B\n", fmt_int(b2, ab),
               fmt_int(b3, json_num(t, "smallest_bytes")));
    else
        printf("target    %s B: %s %s B (%.1f%% of it); smallest reached %s B\n", fmt_int(b1, tb),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "fits")) ? "fits with" : "missed with", fmt_int(b2, ab),
               tb > 0 ? 100 * ab / tb : 0, fmt_int(b3, json_num(t, "smallest_bytes")));
    printf("          %.0f builds, %.0f single-layer settings measured in %.1f s\n", json_num(t, "probes"),
           json_num(t, "configurations_measured"), json_num(t, "seconds"));
}

void report_print_tried(const char *json)
{
    cJSON *r = cJSON_Parse(json);
    if (!r) return;
    const cJSON *t;
    char b[40], a[40];
    const char *metric = json_str(cJSON_GetObjectItemCaseSensitive(r, "accuracy"), "metric");
    printf("configurations tried:\n%-16s %10s %9s  %s\n", "pass", "bytes", "accuracy", "settings");
    cJSON_ArrayForEach(t, json_arr(r, "tried"))
    {
        printf("%-16s %10s %9s  ", json_str(t, "pass"), fmt_int(b, json_num(t, "bytes")), fmt_metric(a, metric, json_num(t, "accuracy")));
        print_fit(json_str(t, "params"), TEXT_COLUMNS - 39);
        putchar('\n');
    }
    print_target(r);
    cJSON_Delete(r);
}

void report_print_summary(const cJSON *r, const char *wrote)
{
    const cJSON *l, *in = cJSON_GetObjectItemCaseSensitive(r, "input"), *out = cJSON_GetObjectItemCaseSensitive(r, "output"),
                   *acc = cJSON_GetObjectItemCaseSensitive(r, "accuracy"), *ov = cJSON_GetObjectItemCaseSensitive(r, "overhead");
    char b1[40], b2[40], b3[40];
    printf("\n%-30s %-8s %9s %8s %4s %13s %13s\n", "layer", "op", "params", "sparsity", "bits", "bytes before",
           "bytes after");
    double tp = 0, tb = 0, ta = 0;
    int n = 0;
    cJSON_ArrayForEach(l, json_arr(r, "layers"))
    {
        print_fit(json_str(l, "name"), 30);
        printf(" %-8.8s %9s %7.1f%% %4.0f %13s %13s\n", json_str(l, "op"), fmt_int(b1, json_num(l, "params")),
               100 * json_num(l, "sparsity"), json_num(l, "bits"), fmt_int(b2, json_num(l, "bytes_before")),
               fmt_int(b3, json_num(l, "bytes_after")));
        tp += json_num(l, "params");
        tb += json_num(l, "bytes_before");
        ta += json_num(l, "bytes_after");
        n++;
    }
    printf("%-30s %-8s %9s %8s %4s %13s %13s\n", "layer weights", "", fmt_int(b1, tp), "", "", fmt_int(b2, tb),
           fmt_int(b3, ta));
    double inb = json_num(in, "bytes"), outb = json_num(out, "bytes");
    if (ov) printf("%-30s %-8s %9s %8s %4s %13s %13s\n", "overhead (graph, other tensors)", "", "", "", "",
                   fmt_int(b2, inb - tb), fmt_int(b3, json_num(ov, "total")));
    printf("%-30s %-8s %9s %8s %4s %13s %13s\n", "file", "", fmt_int(b1, json_num(in, "params")), "", "",
           fmt_int(b2, inb), fmt_int(b3, outb));
    printf("params: elements of the %d layer weight tensors; the file line counts every stored tensor\n\n", n);

    printf("result    %s -> %s bytes, %.2fx smaller\n", fmt_int(b1, inb), fmt_int(b2, outb), json_num(r, "ratio"));
    const char *metric = json_str(acc, "metric");
    if (*metric && strcmp(metric, "none")) {
        double md = json_num(acc, "max_drop");
        double drop = json_num(acc, "drop");
        printf("accuracy  %s %s (float %s)", metric, fmt_metric(b1, metric, json_num(acc, "final")),
               fmt_metric(b2, metric, json_num(acc, "float")));
        if (isfinite(drop) && *metric_drop_unit(metric)) printf(", drop %.2f %s", drop, metric_drop_unit(metric));
        else if (isfinite(drop)) printf(", drop %.4g", drop);
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(acc, "drop_ci");
        bool on_upper = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acc, "budget_on_upper_bound"));
        double hi = cJSON_GetArraySize(ci) == 2 ? cJSON_GetArrayItem(ci, 1)->valuedouble : NAN;
        if (cJSON_GetArraySize(ci) == 2)
            printf(" [%.2f, %.2f] at %.0f%%", cJSON_GetArrayItem(ci, 0)->valuedouble, hi, 100 * json_num(acc, "confidence"));
        if (isfinite(md)) { /* of the model written (the target search may miss its size, not the budget) */
            double judged = on_upper && isfinite(hi) ? hi : json_num(acc, "drop");
            /* on its own line: with the interval the line would pass 100 columns */
            printf("\nbudget    %.2f points%s: %s", md, on_upper ? ", judged on the interval's upper end" : "",
                   judged <= md + 1e-9 ? "held" : "NOT held");
        }
        double ms = json_num(acc, "min_snr"), mc = json_num(acc, "min_cosine"), fin = json_num(acc, "final");
        if (isfinite(ms) || isfinite(mc)) { /* a floor on the metric; an SNR of identical outputs is null */
            bool held = isfinite(ms) ? !isfinite(fin) || fin >= ms : fin >= mc;
            printf("\nbudget    %s >= %s: %s", metric, fmt_metric(b3, metric, isfinite(ms) ? ms : mc),
                   held ? "held" : "NOT held");
        }
        putchar('\n');
    }
    const cJSON *attempts = json_arr(r, "attempts"), *a;
    if (json_count(attempts) > 1) {
        printf("attempts ");
        cJSON_ArrayForEach(a, attempts)
        {
            printf(" %s %s B%s%s%s", json_str(a, "label"), fmt_int(b1, json_num(a, "bytes")),
                   cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "budget_met")) ? " (budget not met)" : "",
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "final")) ? " = final" : "", a->next ? ";" : "\n");
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(r, "target")) {
        const cJSON *t;
        cJSON_ArrayForEach(t, json_arr(r, "tried"))
        {
            if (!isfinite(json_num(t, "accuracy"))) continue; /* the grid floor: size only */
            printf("  build %s %10s B %8s  ", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "final")) ? "*" : " ",
                   fmt_int(b1, json_num(t, "bytes")), fmt_metric(b2, metric, json_num(t, "accuracy")));
            print_fit(json_str(t, "params"), TEXT_COLUMNS - 34);
            putchar('\n');
        }
    }
    print_target(r);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "collapsed")))
        printf("WARNING   the model collapsed: %s %s is %s (chance %s, float %s)\n", metric,
               fmt_pct(b1, json_num(acc, "final")),
               json_num(acc, "final") <= json_num(r, "chance") + 5 ? "near chance" : "more than 10 points below float",
               fmt_pct(b2, json_num(r, "chance")), fmt_pct(b3, json_num(acc, "float")));
    if (isfinite(json_num(r, "seconds")))
        printf("time      %.1f s wall, %.1f s CPU\n", json_num(r, "seconds"), json_num(r, "cpu_seconds"));
    if (wrote) printf("wrote     %s\n", wrote);
}
