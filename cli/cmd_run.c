/* shrink run MODEL -o OUT (--recipe R.json | --pass NAME[:k=v,...] ...)
 *            [--calib X] [--val X --labels Y] [--max-drop POINTS] [--seed N]
 *            [--report R.json] [--html R.html] [--quiet] ... */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_report.h"
#include "data_checks.h"
#include "inputs_args.h"
#include "jobs_args.h"
#include "report_text.h"
#include "run_output.h"

#define MAX_PASSES 64

void cmd_run_help(void)
{
    printf("usage: shrink run MODEL -o OUT (--recipe R.json | --pass NAME[:key=value,...] ...)\n"
           "       shrink run MODEL -o OUT --calib X --val X [--labels Y] --max-drop P   (auto mode)\n"
           "                 [--calib X] [--val X [--labels Y]] [--max-drop POINTS] [--seed N]\n"
           "                 [--target-size SIZE | --sweep LIST] [--report R.json] [--html R.html] [--quiet | --verbose]\n"
           "                 [--mean M --std S] [--calib-limit N] [--val-limit N] [--batch N] [--threads N]\n"
           "                 [--feed NAME=FILE.npy ...] [--input-shape NAME=DIMS ...]\n"
           "                 [--metric top1|agreement|snr|cosine|mse] [--min-snr DB | --min-cosine X]\n"
           "\n"
           "Compresses MODEL (.onnx or .lcm) with a pipeline of passes and writes OUT: .onnx (plain ONNX\n"
           "any runtime can run) or .lcm (the compact format: `shrink decode` turns it\n"
           "back into ONNX, `shrink export-c` into a C array).\n"
           "\n"
           "Auto mode (--max-drop without --recipe, --pass or --target-size): searches each\n"
           "layer's setting for the smallest OUT whose accuracy holds within P points: BatchNorm\n"
           "folded, then per layer SparseGPT's joint prune+quantize (sparsity 0/.5/.7/.8/.9/.95\n"
           "x bits 8/5/4/3/2, per-channel grids, or the layer left alone), Huffman coding;\n"
           "the recipe:\n  %s\n"
           "Each setting is measured once per layer; then an estimated size is bisected\n"
           "between the smallest reachable\n"
           "file and the most accurate one, each step built and checked on --val. The budget\n"
           "is judged at --confidence 0.95 unless given: the upper end of the 95%% interval of\n"
           "the drop must be within P, so the drop holds for data like --val's (not only for\n"
           "--val itself), which costs size; --confidence 0 judges the point estimate. No\n"
           "candidate within the budget: the most accurate is written, exit 1.\n"
           "\n"
           "  -o OUT            output model; never the input file\n"
           "  --recipe R.json   {\"passes\": [{\"pass\": NAME, PARAMETER: VALUE, ...}, ...],\n"
           "                     \"validate\": {\"max_drop\": 0.5}}\n"
           "  --pass NAME:k=v,..  a pass with parameters (repeatable, in order; repeat a key\n"
           "                    for list parameters); `shrink passes [NAME]` lists them\n"
           "  --calib X         calibration data (passes that need it, statistics correction)\n"
           "  --val X           validation data: after each pass the model is checked on it\n"
           "  --labels Y        labels of the validation data: accuracy is top-1 (%%);\n"
           "                    without labels it is top-1 agreement (%%) with MODEL\n"
           "  --metric M        top1 (needs --labels), agreement, snr, cosine (per sample,\n"
           "                    first output) or mse against MODEL on --val (default: top1\n"
           "                    with labels, else agreement); the report names it\n"
           "  --min-snr DB      budget for --metric snr: the SNR of the first output\n"
           "                    against MODEL's stays >= DB (implies --metric snr)\n"
           "  --min-cosine X    budget for --metric cosine: mean cosine >= X (implies it)\n"
           "  --max-drop P      accuracy budget in percentage points (top1, agreement): a pass that drops more\n"
           "                    is backed off (its main knob bisected) or skipped; if the\n"
           "                    budget cannot be met the best model within it is still\n"
           "                    written and the exit code is 1\n"
           "  --confidence C    keep a configuration only when the upper end of the C\n"
           "                    interval of its drop is within --max-drop (C in [0, 1); 0,\n"
           "                    the default (0.95 in auto mode), compares the point estimate). The interval\n"
           "                    (Newcombe's, on the per-image verdicts of both models)\n"
           "                    is reported either way; it speaks for data like --val's\n"
           "                    and is only as good as --val is representative\n"
           "  --target-size SIZE  find the most accurate per-layer settings (sparsity, bits)\n"
           "                    whose OUT file fits SIZE bytes (20000, 48K, 1.5M; K = 1024).\n"
           "                    BatchNorm is folded first. The recipe's passes run with\n"
           "                    their parameters; only each pass's knob is searched per\n"
           "                    layer (sparsity 0/.5/.7/.8/.9/.95, bits 8/5/4/3/2); a knob\n"
           "                    value the recipe gives caps its grid (e.g. bits=4: 8/5/4).\n"
           "                    Damage per layer and setting is estimated from the layer's\n"
           "                    output error, calibrated by real measurements; settings are\n"
           "                    allocated to fit, candidates built and checked on --val\n"
           "                    (needed); with --max-drop the smallest candidate within the\n"
           "                    budget. Nothing fits: nothing is written, exit 1.\n"
           "                    Without --recipe/--pass (needs --calib): %s\n"
           "                    A recipe may set it as \"validate\": {\"target_size\": \"48K\"}\n"
           "  --sweep LIST      a frontier in one run: one model per point of LIST (sizes as\n"
           "                    --target-size, or ratios of MODEL's file: 10x,20x,30x), written\n"
           "                    as OUT with the point before its extension (m.10x.lcm); the\n"
           "                    layers are measured once for all points. Without --recipe/--pass\n"
           "                    it runs auto mode's recipe (needs --calib). The report's \"sweep\"\n"
           "                    lists the points, the page's size-vs-accuracy plot outlines\n"
           "                    them. A point nothing fits is not written (exit 1)\n"
           "  --seed N          seed of every random choice (default 0)\n"
           "  --report R.json   write the report (input, output, ratio, accuracy, passes,\n"
           "                    layers, tried configurations)\n"
           "  --html R.html     write the report as one self-contained web page with charts\n"
           "                    (size per layer, accuracy per pass, size vs accuracy of\n"
           "                    every configuration tried) and tables\n"
           "  --quiet           print nothing but errors\n"
           "  --verbose, -v     also the passes' log (per-layer detail) on stderr\n"
           "\n"
           "Running a --target-size, --sweep or auto-mode search on many machines: its\n"
           "grid (each searched setting run on every layer, each layer's option measured\n"
           "alone) is independent jobs, one per setting; the rest of the search runs on\n"
           "--merge.\n"
           "Give every step the same MODEL, -o OUT and options (OUT is written by --merge).\n"
           CLI_JOBS_HELP
           "\n"
           "  --mean M --std S  normalise data as (x - M) / S after uint8 scaling by 1/255\n"
           "  --calib-limit N, --val-limit N   use only the first N samples\n"
           "  --batch N         samples per executor run (default 64)\n"
           "  --threads N       worker threads (default: all cores)\n"
           CLI_INPUTS_HELP
           "\n"
           "Data files: .npy, IDX (.gz or not), or raw float32 FILE.bin:d0xd1x...\n"
           "Numbers: fractions (sparsity, ratio) are 0..1 (0.8 = 80%%) on the command line and\n"
           "in recipes; accuracies and budgets (--max-drop, validate.max_drop) are percentage\n"
           "points (0.5 = half a point of top-1).\n"
           "Output: one line per attempt of each pass (the knob values tried, the accuracy\n"
           "each gave, within its share of the budget or not), then the layers adding up to\n"
           "the file, the result, the time and where the outputs went. Warnings (data that\n"
           "looks mis-normalised, labels outside the model's classes, a float model near\n"
           "chance) come before any work. A result near chance or more than 10 points below\n"
           "the float model is written but exits 1 (report key collapsed).\n",
           lc_pipeline_auto_recipe(), lc_pass_default_target_recipe());
}

typedef struct run_opts {
    const char *model, *out, *recipe, *calib, *val, *labels, *report, *html, *metric;
    const char *passes[MAX_PASSES];
    int n_passes;
    double max_drop, mean, std, min_snr, min_cosine, confidence;
    int64_t target_size;
    const char *sweep;             /* --sweep as given */
    int n_sweep;
    int64_t sweep_bytes[16];
    char sweep_label[16][32];
    bool has_max_drop, has_mean, has_std, quiet, verbose, has_min_snr, has_min_cosine, has_confidence;
    long seed, calib_limit, val_limit, batch, threads;
    cli_inputs in;
    cli_jobs jobs;
} run_opts;

/* --sweep 10x,20x,48K: sizes (as --target-size) or ratios of MODEL's file
 * (Nx); each point's label names its output file (OUT.10x.lcm). */
static int parse_sweep(run_opts *o)
{
    if (o->target_size) return cli_usage_error("run", "--sweep sets the target sizes itself: not with --target-size");
    struct stat st;
    const char *v = o->sweep;
    while (*v) {
        const char *end = strchr(v, ',');
        size_t n = end ? (size_t)(end - v) : strlen(v);
        char item[32];
        if (n == 0 || n >= sizeof item)
            return cli_usage_error("run", "--sweep: give sizes (20000, 48K) or ratios (10x) separated by commas, not '%s'",
                                   o->sweep);
        if (o->n_sweep == 16) return cli_usage_error("run", "--sweep: at most 16 points");
        memcpy(item, v, n);
        item[n] = 0;
        for (size_t k = 0; k < n; k++)
            if (!((item[k] >= '0' && item[k] <= '9') || (item[k] >= 'A' && item[k] <= 'Z') || (item[k] >= 'a' && item[k] <= 'z') || item[k] == '.'))
                return cli_usage_error("run", "--sweep: '%s' is not a size (20000, 48K) or a ratio (10x)", item);
        int64_t bytes = 0;
        if (item[n - 1] == 'x' || item[n - 1] == 'X') {
            double ratio;
            char num[32];
            memcpy(num, item, n - 1);
            num[n - 1] = 0;
            if (!cli_parse_double(num, &ratio) || !(ratio >= 1))
                return cli_usage_error("run", "--sweep: ratio '%s' must be a number >= 1 followed by x", item);
            if (stat(o->model, &st) != 0) return cli_error(EXIT_USAGE, "%s: cannot read: %s", o->model, strerror(errno));
            bytes = (int64_t)((double)st.st_size / ratio);
        } else if (lc_parse_size(item, &bytes)) {
            return cli_usage_error("run", "--sweep: %s", lc_last_error());
        }
        if (bytes <= 0) return cli_usage_error("run", "--sweep: '%s' leaves no bytes", item);
        o->sweep_bytes[o->n_sweep] = bytes;
        snprintf(o->sweep_label[o->n_sweep++], sizeof o->sweep_label[0], "%s", item);
        v += n + (end ? 1 : 0);
        if (end && !*v) return cli_usage_error("run", "--sweep: an empty point after the last comma");
    }
    if (!o->n_sweep) return cli_usage_error("run", "--sweep: no point given");
    return EXIT_OK;
}

/* OUT with the point's label before its extension: m.lcm -> m.10x.lcm. */
static void sweep_path(const run_opts *o, int i, char *buf, size_t cap)
{
    const char *dot = strrchr(o->out, '.');
    snprintf(buf, cap, "%.*s.%s%s", (int)(dot - o->out), o->out, o->sweep_label[i], dot);
}

static int parse_args(int argc, char **argv, run_opts *o)
{
    int rc_sweep;
    memset(o, 0, sizeof *o);
    cli_jobs_init(&o->jobs);
    o->batch = 64;
    o->threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    static const char *const valued[] = {"-o", "--recipe", "--pass", "--calib", "--val", "--labels", "--max-drop",
                                         "--seed", "--report", "--html", "--mean", "--std", "--calib-limit",
                                         "--val-limit", "--batch", "--threads", "--target-size", "--metric",
                                         "--min-snr", "--min-cosine", "--confidence", "--sweep"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = true;
            continue;
        }
        int took = cli_inputs_parse("run", argc, argv, &i, &o->in);
        if (!took) took = cli_jobs_parse("run", argc, argv, &i, &o->jobs);
        if (took > 1) return EXIT_USAGE;
        if (took) continue;
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = true;
            continue;
        }
        if (a[0] != '-' || !a[1]) {
            if (o->model) return cli_usage_error("run", "more than one MODEL given ('%s' and '%s')", o->model, a);
            o->model = a;
            continue;
        }
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= !strcmp(a, valued[k]);
        if (!known) {
            const char *all[sizeof valued / sizeof *valued + 2];
            memcpy(all, valued, sizeof valued);
            all[sizeof valued / sizeof *valued] = "--quiet";
            all[sizeof valued / sizeof *valued + 1] = "--verbose";
            return cli_unknown_option("run", a, all, (int)(sizeof all / sizeof *all));
        }
        if (i + 1 >= argc) return cli_usage_error("run", "option %s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "-o")) o->out = v;
        else if (!strcmp(a, "--recipe")) o->recipe = v;
        else if (!strcmp(a, "--pass")) {
            if (o->n_passes == MAX_PASSES) return cli_usage_error("run", "at most %d --pass options", MAX_PASSES);
            o->passes[o->n_passes++] = v;
        } else if (!strcmp(a, "--calib")) o->calib = v;
        else if (!strcmp(a, "--val")) o->val = v;
        else if (!strcmp(a, "--labels")) o->labels = v;
        else if (!strcmp(a, "--report")) o->report = v;
        else if (!strcmp(a, "--html")) o->html = v;
        else if (!strcmp(a, "--metric")) o->metric = v;
        else if (!strcmp(a, "--min-snr")) {
            if (!cli_parse_double(v, &o->min_snr)) return cli_usage_error("run", "--min-snr must be a number (dB), not '%s'", v);
            o->has_min_snr = true;
        } else if (!strcmp(a, "--min-cosine")) {
            if (!cli_parse_double(v, &o->min_cosine) || o->min_cosine < -1 || o->min_cosine > 1)
                return cli_usage_error("run", "--min-cosine must be a number in [-1, 1], not '%s'", v);
            o->has_min_cosine = true;
        } else if (!strcmp(a, "--target-size")) {
            if (lc_parse_size(v, &o->target_size))
                return cli_usage_error("run", "--target-size: %s", lc_last_error());
        }
        else if (!strcmp(a, "--sweep")) o->sweep = v;
        else if (!strcmp(a, "--confidence")) {
            if (!cli_parse_double(v, &o->confidence) || !(o->confidence >= 0 && o->confidence < 1))
                return cli_usage_error("run", "--confidence must be a number in [0, 1) (0.95 for 95%%), not '%s'", v);
            o->has_confidence = true;
        } else if (!strcmp(a, "--max-drop")) {
            if (!cli_parse_double(v, &o->max_drop) || o->max_drop < 0)
                return cli_usage_error("run", "--max-drop must be a number >= 0 (percentage points), not '%s'", v);
            if (o->max_drop > 0 && o->max_drop < 0.01)
                return cli_usage_error("run", "--max-drop %s is in percentage points, below what any validation set "
                                              "resolves: for %g%% write --max-drop %g", v, o->max_drop * 100,
                                       o->max_drop * 100);
            o->has_max_drop = true;
        } else if (!strcmp(a, "--mean")) {
            if (!cli_parse_double(v, &o->mean)) return cli_usage_error("run", "--mean must be a number, not '%s'", v);
            o->has_mean = true;
        } else if (!strcmp(a, "--std")) {
            if (!cli_parse_double(v, &o->std) || o->std <= 0) return cli_usage_error("run", "--std must be > 0, not '%s'", v);
            o->has_std = true;
        } else {
            long *dst = !strcmp(a, "--seed") ? &o->seed : !strcmp(a, "--calib-limit") ? &o->calib_limit
                      : !strcmp(a, "--val-limit") ? &o->val_limit : !strcmp(a, "--batch") ? &o->batch : &o->threads;
            long min = !strcmp(a, "--seed") ? 0 : 1;
            if (!cli_parse_long(v, min, dst)) return cli_usage_error("run", "%s must be an integer >= %ld, not '%s'", a, min, v);
        }
    }
    if (!o->model) return cli_usage_error("run", "missing MODEL");
    if (!o->out) return cli_usage_error("run", "missing -o OUT");
    if (o->sweep && (rc_sweep = parse_sweep(o))) return rc_sweep;
    if (o->sweep && !o->val) return cli_usage_error("run", "--sweep needs --val data to rank settings on");
    if (o->sweep && !o->recipe && !o->n_passes && !o->calib)
        return cli_usage_error("run", "--sweep without a recipe runs the auto-mode recipe (Hessian pruning): give --calib data");
    bool auto_mode = !o->recipe && !o->n_passes && !o->target_size && !o->sweep;
    if (auto_mode && !o->has_max_drop)
        return cli_usage_error("run", "give a --recipe, at least one --pass, a --target-size, or a --max-drop alone "
                                      "(auto mode)");
    if (auto_mode && !o->val) return cli_usage_error("run", "auto mode (--max-drop without --recipe/--pass) needs --val data to check accuracy on");
    if (auto_mode && !o->calib)
        return cli_usage_error("run", "auto mode (--max-drop without --recipe/--pass) runs Hessian pruning: give --calib data");
    if (auto_mode && o->metric && strcmp(o->metric, "top1") && strcmp(o->metric, "agreement"))
        return cli_usage_error("run", "auto mode's budget is --max-drop in points of top1 or agreement, not %s", o->metric);
    if (o->target_size && !o->val) return cli_usage_error("run", "--target-size needs --val data to rank settings on");
    if (o->target_size && !o->recipe && !o->n_passes && !o->calib)
        return cli_usage_error("run", "--target-size without a recipe runs %s: give --calib data",
                               lc_pass_default_target_recipe());
    if (o->has_mean != o->has_std) return cli_usage_error("run", "--mean and --std go together");
    if (o->labels && !o->val) return cli_usage_error("run", "--labels needs --val");
    if (o->has_max_drop && !o->val) return cli_usage_error("run", "--max-drop needs --val data to check accuracy on");
    if ((o->has_max_drop ? 1 : 0) + (o->has_min_snr ? 1 : 0) + (o->has_min_cosine ? 1 : 0) > 1)
        return cli_usage_error("run", "give one budget: --max-drop (top1, agreement), --min-snr or --min-cosine");
    if (o->has_min_snr || o->has_min_cosine) {
        const char *need = o->has_min_snr ? "snr" : "cosine";
        if (o->metric && strcmp(o->metric, need))
            return cli_usage_error("run", "--min-%s is a budget on the %s metric, not %s", need, need, o->metric);
        if (!o->val) return cli_usage_error("run", "--min-%s needs --val data", need);
        if (!o->metric) o->metric = need;
    }
    if (o->metric) {
        if (strcmp(o->metric, "top1") && strcmp(o->metric, "agreement") && strcmp(o->metric, "snr") &&
            strcmp(o->metric, "cosine") && strcmp(o->metric, "mse"))
            return cli_usage_error("run", "--metric must be top1, agreement, snr, cosine or mse, not '%s'", o->metric);
        if (!o->val) return cli_usage_error("run", "--metric needs --val data");
        if (!strcmp(o->metric, "top1") && !o->labels) return cli_usage_error("run", "--metric top1 needs --labels");
        if (o->has_max_drop && strcmp(o->metric, "top1") && strcmp(o->metric, "agreement"))
            return cli_usage_error("run", "--max-drop is in points of top1 or agreement; for %s use %s", o->metric,
                                   !strcmp(o->metric, "cosine") ? "--min-cosine" : "--min-snr (with --metric snr)");
    }
    if (cli_jobs_any(&o->jobs) && !auto_mode && !o->target_size && !o->sweep)
        return cli_usage_error("run", "--plan, --job/--jobs and --merge split a --target-size, --sweep or auto-mode "
                                      "search");
    size_t n = strlen(o->out);
    if (!(n > 5 && !strcmp(o->out + n - 5, ".onnx")) && !(n > 4 && !strcmp(o->out + n - 4, ".lcm")))
        return cli_usage_error("run", "output '%s' must end in .onnx or .lcm", o->out);
    return EXIT_OK;
}

/* After a sweep: each point's model as OUT.LABEL.ext, the report and the
 * page, one line per point. Exit 1 when a point does not fit or misses
 * the budget. */
static int write_sweep(const run_opts *o, lc_pipeline *pl)
{
    int n_unmet = 0;
    char path[PATH_MAX];
    for (int i = 0; i < o->n_sweep; i++) {
        sweep_path(o, i, path, sizeof path);
        lc_status s = lc_pipeline_write_sweep(pl, i, path);
        if (s && s != LC_ERR_INVALID_ARGUMENT) return cli_fail_status(s);
    }
    const char *report = lc_pipeline_report(pl);
    lc_status s = o->report ? lc_write_file(o->report, report, strlen(report)) : LC_OK;
    if (s) return cli_fail_status(s);
    if (o->html) {
        int rc = html_write(o->html, report, NULL);
        if (rc != EXIT_OK) return rc;
    }
    cJSON *rj = cJSON_Parse(report), *pt;
    int i = 0;
    cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(rj, "sweep"))
    {
        const cJSON *wb = cJSON_GetObjectItemCaseSensitive(pt, "within_budget");
        bool fits = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pt, "fits")), within = !wb || cJSON_IsTrue(wb);
        n_unmet += !fits || !within;
        if (!o->quiet) {
            const cJSON *path_j = cJSON_GetObjectItemCaseSensitive(pt, "path");
            printf("sweep %-6s %9.0f B target: ", o->sweep_label[i],
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "target_bytes")));
            if (cJSON_IsString(path_j))
                printf("%.0f B (%.1fx), accuracy %.2f, drop %.2f%s%s -> %s\n",
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "bytes")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "ratio")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "accuracy")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "drop")), fits ? "" : ", over the size",
                       within ? "" : ", over the budget", path_j->valuestring);
            else
                printf("nothing fits (smallest %.0f B), nothing written\n",
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "smallest_bytes")));
        }
        i++;
    }
    cJSON_Delete(rj);
    if (n_unmet) return cli_unmet("%d of %d sweep points do not fit their size or the budget", n_unmet, o->n_sweep);
    return EXIT_OK;
}

/* After --plan or --job/--jobs: the plan, or each job's results. */
static int write_jobs(const run_opts *o, const lc_pipeline *pl)
{
    lc_status s = LC_OK;
    const char *plan = o->jobs.plan ? lc_pipeline_jobs_output(pl, 0) : NULL;
    if (o->jobs.plan && !plan) return cli_error(EXIT_INTERNAL, "the search listed no jobs");
    if (plan) s = lc_write_file(o->jobs.plan, plan, strlen(plan));
    for (long k = o->jobs.first; k >= 0 && k < o->jobs.last && !s; k++) {
        const char *res = lc_pipeline_jobs_output(pl, k - o->jobs.first);
        if (!res) return cli_error(EXIT_INTERNAL, "job %ld gave no results", k);
        s = cli_jobs_write(&o->jobs, k, res);
    }
    return s ? cli_fail_status(s) : EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    /* every output is checked against every input and the other outputs
     * before any work, so a bad path fails fast and writes nothing */
    const char *files[] = {o.model, o.recipe, o.calib, o.val, o.labels, o.out, o.report, o.html};
    if ((rc = cli_check_output("run", o.out, files, 5)) ||
        (o.report && (rc = cli_check_output("run", o.report, files, 6))) ||
        (o.html && (rc = cli_check_output("run", o.html, files, 7))))
        return rc;
    for (int i = 0; i < o.n_sweep; i++) {
        char path[PATH_MAX];
        sweep_path(&o, i, path, sizeof path);
        if ((rc = cli_check_output("run", path, files, 8))) return rc;
    }
    if ((rc = cli_jobs_check("run", &o.jobs, files, 8))) return rc;
    bool jobs_stop = o.jobs.plan || o.jobs.first >= 0; /* plan or jobs: nothing else is written */

    lc_model *model = NULL, *result = NULL;
    lc_dataset *calib = NULL, *val = NULL;
    lc_context *ctx = NULL;
    lc_pipeline *pl = NULL;
    int64_t *labels = NULL, n_labels = 0;
    char *recipe = NULL;
    lc_status s;
    if ((s = lc_pipeline_create(&pl)) || (s = lc_context_create(&ctx))) goto fail;
    if (o.has_max_drop) lc_pipeline_set_max_drop(pl, o.max_drop);
    if (o.has_confidence && (s = lc_pipeline_set_confidence(pl, o.confidence))) goto fail;
    if (o.has_min_snr) lc_pipeline_set_min_snr(pl, o.min_snr);
    if (o.has_min_cosine) lc_pipeline_set_min_cosine(pl, o.min_cosine);
    if ((s = lc_context_set_metric(ctx, o.metric))) goto fail;
    if (o.recipe) {
        if (!(recipe = cli_read_text(o.recipe))) {
            rc = cli_error(EXIT_USAGE, "%s: cannot read recipe: %s", o.recipe, strerror(errno));
            goto done;
        }
        if ((s = lc_pipeline_load_recipe(pl, recipe, o.recipe))) goto fail;
    }
    for (int i = 0; i < o.n_passes; i++) {
        char name[128];
        const char *colon = strchr(o.passes[i], ':');
        size_t n = colon ? (size_t)(colon - o.passes[i]) : strlen(o.passes[i]);
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, o.passes[i], n);
        name[n] = 0;
        if ((s = lc_pipeline_add_pass(pl, name, colon ? colon + 1 : ""))) goto fail;
    }
    if (o.target_size) lc_pipeline_set_target_size(pl, o.target_size);
    bool auto_mode = !o.recipe && !o.n_passes && !o.target_size && !o.sweep;
    if (auto_mode) lc_pipeline_set_auto(pl, 1); /* the default auto recipe, confidence 0.95 unless given */
    if (o.sweep && !o.recipe && !o.n_passes && (s = lc_pipeline_load_recipe(pl, lc_pipeline_auto_recipe(), "auto-mode recipe")))
        goto fail;
    if (o.sweep && (s = lc_pipeline_set_sweep(pl, o.sweep_bytes, o.n_sweep))) goto fail;
    if (o.target_size && !o.recipe && !o.n_passes && (s = lc_pipeline_load_recipe(pl, lc_pass_default_target_recipe(), "default target-size recipe")))
        goto fail;
    if (lc_pipeline_target_size(pl) > 0 && !o.val) {
        rc = cli_error(EXIT_USAGE, "the recipe sets validate.target_size: give --val data to rank settings on");
        goto done;
    }
    if (lc_pipeline_max_drop(pl) >= 0 && !o.val) {
        rc = cli_error(EXIT_USAGE, "the recipe sets validate.max_drop: give --val data to check accuracy on");
        goto done;
    }
    if ((s = lc_model_load(o.model, &model)) || (s = lc_model_check_finite(model))) goto fail;
    if ((rc = cli_inputs_apply(&o.in, model, ctx))) goto done;
    lc_data_options dopt = {o.has_mean, (float)o.mean, (float)o.std, 0};
    if (o.calib) {
        dopt.limit = o.calib_limit;
        if ((s = lc_dataset_load(o.calib, &dopt, &calib))) goto fail;
        if (!o.quiet) check_data_scale(calib, o.has_mean, o.mean, o.std);
        lc_context_set_calib(ctx, calib, o.calib_limit);
    }
    if (o.val) {
        dopt.limit = o.val_limit;
        if ((s = lc_dataset_load(o.val, &dopt, &val))) goto fail;
        if (!o.quiet && !o.calib) check_data_scale(val, o.has_mean, o.mean, o.std);
        if (o.labels) {
            if ((s = lc_labels_load(o.labels, o.val_limit, &labels, &n_labels))) goto fail;
            if ((s = lc_dataset_check_labels(val, n_labels, o.labels))) goto fail;
            if (!o.quiet) check_labels_range(o.labels, labels, n_labels, model);
        }
        if ((s = lc_pipeline_set_validation(pl, val, labels, n_labels, o.val_limit))) goto fail;
        if (!calib && (rc = cli_inputs_bind_data(&o.in, model, ctx, val))) goto done;
    }
    lc_context_set_seed(ctx, (uint64_t)o.seed);
    lc_context_set_threads(ctx, (int)o.threads);
    lc_context_set_batch(ctx, (int)o.batch);
    run_view view = {.lines = !o.quiet, .bar = !o.quiet && isatty(2), .verbose = o.verbose && !o.quiet};
    run_view_attach(&view, pl, ctx);

    size_t olen = strlen(o.out);
    lc_pipeline_set_format(pl, olen > 4 && !strcmp(o.out + olen - 4, ".lcm") ? LC_FORMAT_LCM : LC_FORMAT_ONNX);
    if (o.jobs.merge && (rc = cli_jobs_read(&o.jobs))) goto done;
    if (cli_jobs_any(&o.jobs) &&
        (s = lc_pipeline_set_jobs(pl, o.jobs.plan ? LC_JOBS_PLAN : o.jobs.merge ? LC_JOBS_MERGE : LC_JOBS_RUN,
                                  o.jobs.first, o.jobs.last, (const char *const *)o.jobs.texts,
                                  (const char *const *)o.jobs.names, o.jobs.n_texts)))
        goto fail;
    /* the pipeline takes the input over (it runs in place on it when nothing
       needs the original; the report records what it needs first) */
    if ((s = lc_pipeline_run_take(pl, &model, ctx, &result))) {
        if (s == LC_ERR_BUDGET && lc_pipeline_target_size(pl) > 0) { /* nothing fits: nothing is written */
            char *msg = strdup(lc_last_error());
            run_view_clear(&view);
            if (!o.quiet) report_print_tried(lc_pipeline_report(pl));
            rc = cli_unmet("%s; nothing written", msg ? msg : "no configuration fits the target size");
            free(msg);
            goto done;
        }
        run_view_clear(&view);
        goto fail;
    }
    run_view_clear(&view);
    if (jobs_stop) {
        rc = write_jobs(&o, pl);
        goto done;
    }
    if (o.sweep) {
        rc = write_sweep(&o, pl);
        goto done;
    }
    if ((s = lc_pipeline_write(pl, result, o.out))) goto fail;
    const char *report = lc_pipeline_report(pl);
    if (o.report && (s = lc_write_file(o.report, report, strlen(report)))) goto fail;
    if (o.html && (rc = html_write(o.html, report, NULL)) != EXIT_OK) goto done;
    bool met = lc_pipeline_budget_met(pl);
    cJSON *rj = cJSON_Parse(report);
    bool collapsed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rj, "collapsed"));
    if (!o.quiet && rj) {
        char wrote[3 * PATH_MAX + 64];
        snprintf(wrote, sizeof wrote, "%s%s%s%s%s", o.out, o.report ? "\n          report " : "",
                 o.report ? o.report : "", o.html ? "\n          page   " : "", o.html ? o.html : "");
        report_print_summary(rj, wrote);
    }
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(rj, "accuracy");
    double final_acc = acc ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(acc, "final")) : NAN,
           float_acc = acc ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(acc, "float")) : NAN;
    cJSON_Delete(rj);
    if (lc_pipeline_target_size(pl) > 0 && !lc_pipeline_target_met(pl)) {
        rc = cli_unmet("no configuration fits %lld bytes within the accuracy budget of %.2f points; wrote the "
                       "smallest model within the budget to %s",
                       (long long)lc_pipeline_target_size(pl), lc_pipeline_max_drop(pl), o.out);
        goto done;
    }
    if (!met && auto_mode) {
        rc = cli_unmet("no candidate holds the accuracy budget of %.2f points%s; wrote the most accurate one to %s",
                       lc_pipeline_max_drop(pl), lc_pipeline_confidence(pl) > 0 ? " on the upper end of its interval" : "",
                       o.out);
        goto done;
    }
    if (!met) {
        if (o.has_min_snr || o.has_min_cosine)
            rc = cli_unmet("the budget (%s >= %g) could not be met for every pass; wrote the best model within it "
                           "to %s",
                           o.metric, o.has_min_snr ? o.min_snr : o.min_cosine, o.out);
        else
            rc = cli_unmet("the accuracy budget of %.2f points could not be met for every pass; wrote the best "
                           "model within it to %s",
                           lc_pipeline_max_drop(pl), o.out);
        goto done;
    }
    if (collapsed) {
        rc = cli_unmet("the model collapsed (accuracy %.2f%%, float %.2f%%: near chance or more than 10 points "
                       "below float); wrote it to %s anyway",
                       final_acc, float_acc, o.out);
        goto done;
    }
    rc = EXIT_OK;
    goto done;
fail:
    if (!o.calib && s == LC_ERR_INVALID_ARGUMENT && strstr(lc_last_error(), "needs calibration data"))
        rc = cli_error(EXIT_USAGE, "%s; give calibration data with --calib", lc_last_error());
    else rc = cli_fail_status(s);
done:
    free(recipe);
    free(labels);
    lc_model_free(result);
    lc_model_free(model);
    lc_dataset_free(calib);
    lc_dataset_free(val);
    lc_context_free(ctx);
    lc_pipeline_free(pl);
    cli_inputs_free(&o.in);
    cli_jobs_free(&o.jobs);
    return rc;
}
