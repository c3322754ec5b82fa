/* shrink passes [NAME] */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report_text.h"

void cmd_passes_help(void)
{
    printf("usage: shrink passes [NAME]\n"
           "\n"
           "Lists the compression passes, or shows one pass's parameters with their\n"
           "types, defaults, ranges and meaning. Parameters are given to `shrink run` as\n"
           "--pass NAME:key=value,key=value (repeat a key to build a list) or in a recipe.\n");
}

/* 0.5, 128, 1000000, 1e9: short and exact for the ranges the passes use. */
static const char *range_num(char buf[32], double v)
{
    if (v == floor(v) && fabs(v) < 1e7) snprintf(buf, 32, "%.0f", v);
    else if (v == floor(v)) {
        int e = (int)floor(log10(fabs(v)));
        double m = v / pow(10, e);
        if (m == floor(m)) snprintf(buf, 32, "%.0fe%d", m, e);
        else snprintf(buf, 32, "%g", v);
    } else snprintf(buf, 32, "%g", v);
    return buf;
}

/* `text` from column `col` on, wrapped at TEXT_COLUMNS with `indent`. */
static void print_wrapped(const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        int room = TEXT_COLUMNS - col;
        int n = (int)strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ') n--;
            if (n == 0) n = room;
        }
        printf("%.*s\n", n, p);
        p += n;
        while (*p == ' ') p++;
        if (*p) printf("%*s", indent, "");
        col = indent;
    }
    if (!*text) putchar('\n');
}

static void print_pass(int i)
{
    lc_pass_info p;
    lc_pass_describe(i, &p);
    printf("%s: ", p.name);
    print_wrapped(p.summary, (int)strlen(p.name) + 2, 2);
    if (p.needs_calib) printf("needs calibration data (--calib)\n");
    if (p.knob) printf("main knob (backed off to meet --max-drop): %s\n", p.knob);
    if (!p.n_params) {
        printf("\nno parameters\n");
        return;
    }
    printf("fractions (sparsity, ratio) are 0..1: 0.8 is 80%%\n");
    printf("\n%-12s %-6s %-9s %-15s %s\n", "parameter", "type", "default", "range", "meaning");
    for (int k = 0; k < p.n_params; k++) {
        lc_param_info q;
        lc_pass_param(i, k, &q);
        char range[64] = "", lo[32], hi[32];
        if (!strcmp(q.type, "float") || !strcmp(q.type, "int"))
            snprintf(range, sizeof range, "%s..%s", range_num(lo, q.min), range_num(hi, q.max));
        else if (*q.choices) snprintf(range, sizeof range, "%s", q.choices);
        printf("%-12s %-6s %-9s %-15s ", q.name, q.type, *q.def ? q.def : "-", range);
        int col = 12 + 1 + 6 + 1 + 9 + 1 + 15 + 1;
        int used = (int)(strlen(q.name) > 12 ? strlen(q.name) - 12 : 0) + (int)(strlen(range) > 15 ? strlen(range) - 15 : 0);
        if (col + used > 60) { /* a long range pushes the meaning onto its own lines */
            printf("\n%*s", col, "");
            used = 0;
        }
        print_wrapped(q.help, col + used, col);
    }
}

int cmd_passes(int argc, char **argv)
{
    if (argc > 2) return cli_usage_error("passes", "expected at most one NAME");
    int n = lc_pass_count();
    if (argc == 2) {
        for (int i = 0; i < n; i++) {
            lc_pass_info p;
            lc_pass_describe(i, &p);
            if (!strcmp(p.name, argv[1])) {
                print_pass(i);
                return EXIT_OK;
            }
        }
        const char *names[64];
        int k = 0;
        for (int i = 0; i < n && k < 64; i++) {
            lc_pass_info p;
            if (!lc_pass_describe(i, &p)) names[k++] = p.name;
        }
        const char *close = lc_closest_name(argv[1], names, k);
        fprintf(stderr, "shrink: error: unknown pass '%s'%s%s%s; passes are:", argv[1], close ? ": did you mean '" : "",
                close ? close : "", close ? "'?" : "");
        for (int i = 0; i < k; i++) fprintf(stderr, " %s", names[i]);
        fprintf(stderr, "\n");
        return EXIT_USAGE;
    }
    for (int i = 0; i < n; i++) {
        lc_pass_info p;
        lc_pass_describe(i, &p);
        printf("  %-18s ", p.name);
        print_wrapped(p.summary, 21, 21);
    }
    if (!n) printf("(no passes built in)\n");
    return EXIT_OK;
}
