/* shrink passes [NAME] */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cmd_passes_help(void)
{
    printf("usage: shrink passes [NAME]\n"
           "\n"
           "Lists the compression passes, or shows one pass's parameters with their\n"
           "types, defaults, ranges and meaning. Parameters are given to `shrink run` as\n"
           "--pass NAME:key=value,key=value (repeat a key to build a list) or in a recipe.\n");
}

static void print_pass(int i)
{
    lc_pass_info p;
    lc_pass_describe(i, &p);
    printf("%s: %s\n", p.name, p.summary);
    if (p.needs_calib) printf("needs calibration data (--calib)\n");
    if (p.knob) printf("main knob (backed off to meet --max-drop): %s\n", p.knob);
    if (!p.n_params) {
        printf("\nno parameters\n");
        return;
    }
    printf("\n%-12s %-7s %-14s %-16s %s\n", "parameter", "type", "default", "range", "meaning");
    for (int k = 0; k < p.n_params; k++) {
        lc_param_info q;
        lc_pass_param(i, k, &q);
        char range[64] = "";
        if (!strcmp(q.type, "float") || !strcmp(q.type, "int")) snprintf(range, sizeof range, "%g..%g", q.min, q.max);
        else if (*q.choices) snprintf(range, sizeof range, "%s", q.choices);
        printf("%-12s %-7s %-14s %-16s %s\n", q.name, q.type, *q.def ? q.def : "-", range, q.help);
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
        fprintf(stderr, "shrink passes: unknown pass '%s'; passes are:", argv[1]);
        for (int i = 0; i < n; i++) {
            lc_pass_info p;
            lc_pass_describe(i, &p);
            fprintf(stderr, " %s", p.name);
        }
        fprintf(stderr, "\n");
        return EXIT_USAGE;
    }
    for (int i = 0; i < n; i++) {
        lc_pass_info p;
        lc_pass_describe(i, &p);
        printf("%-20s %s\n", p.name, p.summary);
    }
    if (!n) printf("(no passes built in)\n");
    return EXIT_OK;
}
