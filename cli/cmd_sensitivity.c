/* shrink sensitivity MODEL --pass NAME[:k=v,...] --grid V1,V2,... --val X [--labels Y]
 *                    [--calib X] [--mean M --std S] [--val-limit N] [--seed N] [--json] [--html R.html]
 *                    [--plan JOBS.jsonl | --job K | --jobs K..M] [--job-dir DIR] [--merge DIR] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "data_checks.h"
#include "html_report.h"
#include "inputs_args.h"
#include "jobs_args.h"

#define MAX_GRID 64

void cmd_sensitivity_help(void)
{
    printf("usage: shrink sensitivity MODEL --pass NAME[:key=value,...] [--grid V1,V2,...]\n"
           "                         --val X [--labels Y] [--calib X] [--mean M --std S]\n"
           "                         [--val-limit N] [--calib-limit N] [--seed N] [--threads N] [--json]\n"
           "                         [--html R.html] [--feed NAME=FILE.npy] [--input-shape NAME=DIMS]\n"
           "                         [--metric top1|agreement|snr|cosine|mse]\n"
           "\n"
           "Compresses each weight layer alone with pass NAME at every value of the pass's\n"
           "main knob (sparsity, bits, ratio) and reports the accuracy on --val: top-1 (%%)\n"
           "with --labels, else top-1 agreement (%%) with MODEL, or --metric snr|cosine|mse\n"
           "of the first output against MODEL's (see `shrink run --help`). Layers whose\n"
           "accuracy falls first are the ones to spare. MODEL is .onnx or .lcm. Other\n"
           "options as in `shrink run`.\n"
           "  --grid V1,...  knob values (fractions 0..1 for sparsity and ratio). Default:\n"
           "           sparsity 0.5,0.7,0.8,0.9,0.95; bits 8,6,5,4,3,2; ratio 0.25,0.5,0.75\n"
           "  --json   print {pass, knob, metric, float, grid, layers: [{name, op, weight,\n"
           "           params, accuracy: [...]}]}\n"
           "  --html R.html  also write the curves (accuracy vs knob value, one line per\n"
           "           layer) and the table as one self-contained web page\n"
           "\n"
           "Running the study on many machines: its layer x value evaluations are\n"
           "independent jobs, numbered layer * (grid values) + value index.\n"
           CLI_JOBS_HELP CLI_INPUTS_HELP);
}

/* The grid for the knob of pass `spec` ("NAME[:k=v,...]"), "" when it has
 * none (the library then names the problem). */
static const char *default_grid(const char *spec)
{
    size_t n = strcspn(spec, ":");
    for (int i = 0; i < lc_pass_count(); i++) {
        lc_pass_info p;
        if (lc_pass_describe(i, &p) || strlen(p.name) != n || strncmp(p.name, spec, n) || !p.knob) continue;
        if (!strcmp(p.knob, "bits")) return "8,6,5,4,3,2";
        if (!strcmp(p.knob, "ratio")) return "0.25,0.5,0.75";
        return "0.5,0.7,0.8,0.9,0.95";
    }
    return "0.5";
}

int cmd_sensitivity(int argc, char **argv)
{
    const char *model_path = NULL, *pass = NULL, *grid_text = NULL, *val_path = NULL, *labels_path = NULL,
               *calib_path = NULL, *html_path = NULL, *metric = NULL;
    cli_jobs jobs;
    cli_jobs_init(&jobs);
    double mean = 0, std = 0, grid[MAX_GRID];
    bool has_mean = false, has_std = false, json = false;
    cli_inputs in = {0};
    long val_limit = 0, calib_limit = 0, seed = 0, threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    int n_grid = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        int took = cli_inputs_parse("sensitivity", argc, argv, &i, &in);
        if (!took) took = cli_jobs_parse("sensitivity", argc, argv, &i, &jobs);
        if (took > 1) return EXIT_USAGE;
        if (took) continue;
        if (a[0] != '-' || !a[1]) {
            if (model_path) return cli_usage_error("sensitivity", "more than one MODEL given");
            model_path = a;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("sensitivity", "option %s needs a value (or is unknown)", a);
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (!strcmp(a, "--pass")) pass = v;
        else if (!strcmp(a, "--grid")) grid_text = v;
        else if (!strcmp(a, "--val")) val_path = v;
        else if (!strcmp(a, "--labels")) labels_path = v;
        else if (!strcmp(a, "--calib")) calib_path = v;
        else if (!strcmp(a, "--html")) html_path = v;
        else if (!strcmp(a, "--metric")) metric = v;
        else if (!strcmp(a, "--mean") || !strcmp(a, "--std")) {
            double x = strtod(v, &end);
            if (!*v || *end || !isfinite(x) || (a[2] == 's' && x <= 0))
                return cli_usage_error("sensitivity", "%s must be a %snumber, not '%s'", a, a[2] == 's' ? "positive " : "", v);
            if (a[2] == 'm') mean = x, has_mean = true;
            else std = x, has_std = true;
        } else if (!strcmp(a, "--val-limit") || !strcmp(a, "--calib-limit") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--threads")) {
            long x = strtol(v, &end, 10);
            if (!*v || *end || errno || x < (strcmp(a, "--seed") ? 1 : 0))
                return cli_usage_error("sensitivity", "%s must be an integer, not '%s'", a, v);
            if (!strcmp(a, "--val-limit")) val_limit = x;
            else if (!strcmp(a, "--calib-limit")) calib_limit = x;
            else if (!strcmp(a, "--seed")) seed = x;
            else threads = x;
        } else {
            static const char *const opts[] = {"--pass", "--grid", "--val", "--labels", "--calib", "--html", "--mean",
                                               "--std", "--val-limit", "--calib-limit", "--seed", "--threads", "--json"};
            return cli_unknown_option("sensitivity", a, opts, (int)(sizeof opts / sizeof *opts));
        }
    }
    if (!model_path) return cli_usage_error("sensitivity", "missing MODEL");
    if (!pass) return cli_usage_error("sensitivity", "missing --pass NAME");
    if (!val_path) return cli_usage_error("sensitivity", "missing --val data");
    if (has_mean != has_std) return cli_usage_error("sensitivity", "--mean and --std go together");
    const char *inputs[] = {model_path, val_path, labels_path, calib_path};
    int jrc = cli_jobs_check("sensitivity", &jobs, inputs, 4);
    if (jrc) return jrc;
    if (metric && !strcmp(metric, "top1") && !labels_path)
        return cli_usage_error("sensitivity", "--metric top1 needs --labels");
    if (html_path) {
        int rc = cli_check_output("sensitivity", html_path, inputs, 4);
        if (rc) return rc;
    }
    if (!grid_text) grid_text = default_grid(pass);
    for (const char *p = grid_text; *p;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || (*end && *end != ','))
            return cli_usage_error("sensitivity", "--grid must be numbers separated by commas, not '%s'", grid_text);
        if (n_grid == MAX_GRID) return cli_usage_error("sensitivity", "at most %d grid values", MAX_GRID);
        grid[n_grid++] = x;
        p = *end ? end + 1 : end;
    }
    char name[128];
    const char *colon = strchr(pass, ':');
    size_t n = colon ? (size_t)(colon - pass) : strlen(pass);
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, pass, n);
    name[n] = 0;

    lc_model *m = NULL;
    lc_dataset *val = NULL, *calib = NULL;
    lc_context *ctx = NULL;
    int64_t *labels = NULL, n_labels = 0;
    char *out = NULL;
    int rc = EXIT_OK;
    lc_status s;
    lc_data_options dopt = {has_mean, (float)mean, (float)std, val_limit};
    if ((s = lc_model_load(model_path, &m)) || (s = lc_model_check_finite(m)) ||
        (s = lc_dataset_load(val_path, &dopt, &val)) || (s = lc_context_create(&ctx)))
        goto fail;
    if (labels_path && ((s = lc_labels_load(labels_path, val_limit, &labels, &n_labels)) ||
                        (s = lc_dataset_check_labels(val, n_labels, labels_path))))
        goto fail;
    check_data_scale(val, has_mean, mean, std);
    if (labels_path) check_labels_range(labels_path, labels, n_labels, m);
    if (calib_path) {
        dopt.limit = calib_limit;
        if ((s = lc_dataset_load(calib_path, &dopt, &calib))) goto fail;
        lc_context_set_calib(ctx, calib, calib_limit);
    }
    if ((rc = cli_inputs_apply(&in, m, ctx))) goto done;
    if ((s = lc_context_set_metric(ctx, metric))) goto fail;
    if (!calib && (rc = cli_inputs_bind_data(&in, m, ctx, val))) goto done;
    lc_context_set_seed(ctx, (uint64_t)seed);
    lc_context_set_threads(ctx, (int)threads);
    const char *params = colon ? colon + 1 : "";
    if (jobs.plan) {
        if ((s = lc_sensitivity_plan(m, name, params, grid, n_grid, val, labels, n_labels, val_limit, ctx, &out)) ||
            (s = lc_write_file(jobs.plan, out, strlen(out))))
            goto fail;
        goto done;
    }
    if (jobs.first >= 0) {
        for (long k = jobs.first; k < jobs.last; k++) {
            free(out);
            out = NULL;
            if ((s = lc_sensitivity_run_jobs(m, name, params, grid, n_grid, val, labels, n_labels, val_limit, ctx, k,
                                             k + 1, &out)) ||
                (s = cli_jobs_write(&jobs, k, out)))
                goto fail;
        }
        goto done;
    }
    if (jobs.merge) {
        if ((rc = cli_jobs_read(&jobs))) goto done;
        if ((s = lc_sensitivity_merge(m, name, params, grid, n_grid, val, labels, n_labels, val_limit, ctx,
                                      (const char *const *)jobs.texts, (const char *const *)jobs.names, jobs.n_texts,
                                      &out)))
            goto fail;
    } else if ((s = lc_sensitivity_run(m, name, params, grid, n_grid, val, labels, n_labels, val_limit, ctx, &out))) {
        goto fail;
    }
    if (html_path && (rc = html_write(html_path, NULL, out)) != EXIT_OK) goto done;
    if (json) puts(out);
    else {
        cJSON *r = cJSON_Parse(out);
        const cJSON *layers = cJSON_GetObjectItemCaseSensitive(r, "layers"), *l;
        const char *mname = cJSON_GetObjectItemCaseSensitive(r, "metric")->valuestring;
        bool pct = !strcmp(mname, "top1") || !strcmp(mname, "agreement");
        printf("%s per layer, %s = ", mname, cJSON_GetObjectItemCaseSensitive(r, "knob")->valuestring);
        for (int g = 0; g < n_grid; g++) printf("%s%g", g ? ", " : "", grid[g]);
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(r, "float");
        if (pct) printf(" (float %.2f%%)", fl->valuedouble);
        printf("\n%-32s %-10s", "layer", "op");
        for (int g = 0; g < n_grid; g++) printf(" %8g", grid[g]);
        printf("\n");
        cJSON_ArrayForEach(l, layers)
        {
            printf("%-32.32s %-10s", cJSON_GetObjectItemCaseSensitive(l, "name")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(l, "op")->valuestring);
            const cJSON *a;
            cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(l, "accuracy"))
            {
                if (cJSON_IsNull(a)) printf(" %8s", "inf");
                else if (pct) printf(" %7.2f%%", a->valuedouble);
                else printf(" %8.4g", a->valuedouble);
            }
            printf("\n");
        }
        cJSON_Delete(r);
    }
    goto done;
fail:
    rc = cli_fail_status(s);
done:
    free(out);
    free(labels);
    lc_model_free(m);
    lc_dataset_free(val);
    lc_dataset_free(calib);
    lc_context_free(ctx);
    cli_inputs_free(&in);
    cli_jobs_free(&jobs);
    return rc;
}
