/* The text summary of a run report (what `shrink run` and `shrink report`
 * print): layers, file sizes, accuracy, passes, configurations tried. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_text.h"

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_tried_json(const cJSON *r)
{
    printf("\nconfigurations tried (size vs accuracy):\n%-20s %12s %10s  %s\n", "pass", "bytes", "accuracy", "params");
    const cJSON *tried = cJSON_GetObjectItemCaseSensitive(r, "tried"), *t;
    cJSON_ArrayForEach(t, tried)
    {
        printf("%-20s %12.0f %9.2f%%  %s\n", str(t, "pass"), num(t, "bytes"), num(t, "accuracy"), str(t, "params"));
    }
}

/* The target-size search's outcome: target, achieved, closest. */
static void print_target(const cJSON *r)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "target");
    if (!t) return;
    double tb = num(t, "target_bytes"), ab = num(t, "achieved_bytes");
    printf("target    %.0f bytes: %s %.0f bytes (%.1f%% of the target); smallest reached %.0f bytes; %.0f builds, "
           "%.0f single-layer settings measured in %.1f s\n",
           tb, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "fits")) ? "fits with" : "missed with", ab,
           tb > 0 ? 100 * ab / tb : 0, num(t, "smallest_bytes"), num(t, "probes"), num(t, "configurations_measured"),
           num(t, "seconds"));
}

void report_print_tried(const char *json)
{
    cJSON *r = cJSON_Parse(json);
    if (!r) return;
    print_tried_json(r);
    print_target(r);
    cJSON_Delete(r);
}

void report_print(const char *json, bool unmet)
{
    cJSON *r = cJSON_Parse(json);
    if (!r) return;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(r, "layers"), *l;
    printf("%-28s %-14s %10s %8s %5s %12s %12s\n", "layer", "op", "params", "sparsity", "bits", "bytes before",
           "bytes after");
    double tp = 0, tb = 0, ta = 0;
    cJSON_ArrayForEach(l, layers)
    {
        printf("%-28.28s %-14s %10.0f %7.1f%% %5.0f %12.0f %12.0f\n", str(l, "name"), str(l, "op"), num(l, "params"),
               100 * num(l, "sparsity"), num(l, "bits"), num(l, "bytes_before"), num(l, "bytes_after"));
        tp += num(l, "params");
        tb += num(l, "bytes_before");
        ta += num(l, "bytes_after");
    }
    printf("%-28s %-14s %10.0f %8s %5s %12.0f %12.0f\n", "weights total", "", tp, "", "", tb, ta);
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(r, "overhead");
    if (ov)
        printf("%-28s %-14s %10s %8s %5s %12s %12.0f  (header %.0f, meta %.0f, graph %.0f, other tensors %.0f)\n",
               "overhead", "", "", "", "", "", num(ov, "total"), num(ov, "header"), num(ov, "meta"), num(ov, "graph"),
               num(ov, "other_tensors"));
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, "input"), *out = cJSON_GetObjectItemCaseSensitive(r, "output");
    printf("\nfile      %s %.0f bytes -> %s %.0f bytes (%.2fx smaller)\n", str(in, "path"), num(in, "bytes"),
           str(out, "path"), num(out, "bytes"), num(r, "ratio"));
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(r, "accuracy");
    if (strcmp(str(acc, "metric"), "none") != 0)
        printf("accuracy  %s: float %.2f%%, final %.2f%%, drop %.2f points\n", str(acc, "metric"), num(acc, "float"),
               num(acc, "final"), num(acc, "drop"));
    printf("\n%-20s %-10s %9s %10s %12s  %s\n", "pass", "outcome", "seconds", "accuracy", "bytes", "params");
    const cJSON *passes = cJSON_GetObjectItemCaseSensitive(r, "passes"), *p;
    cJSON_ArrayForEach(p, passes)
    {
        printf("%-20s %-10s %9.2f %9.2f%% %12.0f  %s\n", str(p, "name"), str(p, "outcome"), num(p, "seconds"),
               num(p, "accuracy"), num(p, "bytes"), str(p, "params"));
    }
    if (unmet) print_tried_json(r);
    print_target(r);
    cJSON_Delete(r);
}

