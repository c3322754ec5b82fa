/* shrink run's live output (see run_output.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_svg.h"
#include "run_output.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void run_view_clear(run_view *v)
{
    if (!v->bar_shown) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    v->bar_shown = false;
}

static void on_log(void *user, const char *msg)
{
    run_view_clear(user);
    fprintf(stderr, "%s\n", msg);
}

/* One progress line for the whole try: the phase's bar fills, the line
 * names where the run is, and ETA is the phase's remaining time at its
 * rate so far. Redrawn at most 10 times a second. */
static void on_progress(void *user, const char *what, int64_t done, int64_t total)
{
    run_view *v = user;
    if (total <= 0) return;
    double t = now();
    if (strcmp(what, v->phase) || done < v->last_done) {
        snprintf(v->phase, sizeof v->phase, "%s", what);
        v->t_phase = t;
    }
    v->last_done = done;
    if (done < total && t - v->t_draw < 0.1) return;
    v->t_draw = t;
    char where[160] = "", eta[32] = "";
    if (*v->pass)
        snprintf(where, sizeof where, "%s%s%d/%d %s try %d: ", *v->attempt ? v->attempt : "", *v->attempt ? " " : "",
                 v->step, v->steps, v->pass, v->tries + 1);
    double el = t - v->t_phase;
    if (done > 0 && done < total && el > 0.5) snprintf(eta, sizeof eta, " ETA %.0f s", el * (double)(total - done) / (double)done);
    int width = 20, filled = (int)(width * done / total);
    char in_pass[32] = "", line[512];
    if (*v->pass) snprintf(in_pass, sizeof in_pass, "  (pass %.0f s)", t - v->t_pass);
    snprintf(line, sizeof line, "%s%s [%.*s%*s] %3d%%%s%s", where, what, filled, "####################", width - filled,
             "", (int)(100 * done / total), eta, in_pass);
    /* one terminal row: a wrapped line would not be erased by \r */
    struct winsize ws;
    int cols = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
    if ((int)strlen(line) > cols - 1) line[cols - 1] = 0;
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    v->bar_shown = true;
}

static void on_event(void *user, const char *json)
{
    run_view *v = user;
    cJSON *e = cJSON_Parse(json);
    if (!e) return;
    const char *kind = json_str(e, "event");
    char b1[40], b2[40];
    if (!strcmp(kind, "start")) {
        v->float_acc = json_num(e, "float");
        v->chance = json_num(e, "chance");
        v->max_drop = json_num(e, "max_drop");
        v->min_value = json_num(e, "min_value");
        snprintf(v->metric, sizeof v->metric, "%s", json_str(e, "metric"));
        v->steps = (int)json_num(e, "steps");
        if (v->lines && *v->metric && strcmp(v->metric, "none")) {
            run_view_clear(v);
            printf("float model  %s %s on %.0f samples", v->metric, fmt_metric(b1, v->metric, v->float_acc),
                   json_num(e, "samples"));
            if (isfinite(v->chance)) printf(" (chance %s)", fmt_pct(b2, v->chance));
            if (isfinite(v->min_value))
                printf("; budget %s >= %s", v->metric, fmt_metric(b2, v->metric, v->min_value));
            else if (isfinite(v->max_drop))
                printf("; budget %.2f points: keep >= %.2f%%", v->max_drop, v->float_acc - v->max_drop);
            putchar('\n');
            fflush(stdout);
            if (isfinite(v->chance) && v->float_acc <= 2 * v->chance)
                cli_warn("the float model itself scores %.2f%%, near chance (%.2f%%): check the data's "
                         "normalisation (--mean/--std) and the labels before trusting any result",
                         v->float_acc, v->chance);
        }
        if (v->lines && json_num(e, "target_size") > 0)
            printf("target size  %s bytes: searching per-layer settings\n", fmt_int(b1, json_num(e, "target_size")));
    } else if (!strcmp(kind, "attempt")) {
        snprintf(v->attempt, sizeof v->attempt, "%s", json_str(e, "attempt"));
        v->n_attempts++;
        if (v->lines && (isfinite(v->max_drop) || isfinite(v->min_value))) {
            run_view_clear(v);
            printf("attempt %d, %s\n", v->n_attempts,
                   v->n_attempts == 1 ? "greedy (the first pass may spend the whole budget)"
                                      : "shared budget (a later pass was starved: each pass with a knob gets an "
                                        "equal share)");
        }
    } else if (!strcmp(kind, "pass")) {
        snprintf(v->pass, sizeof v->pass, "%s", json_str(e, "pass"));
        v->step = (int)json_num(e, "step");
        v->tries = 0;
        v->t_pass = now();
        v->line.len = -1; /* begun at the first try, which has the parameters */
    } else if (!strcmp(kind, "tried")) {
        if (v->line.len < 0) {
            lc_pass_info info = {0};
            const char *knob = NULL;
            for (int i = 0; i < lc_pass_count(); i++)
                if (!lc_pass_describe(i, &info) && !strcmp(info.name, v->pass)) knob = info.knob;
            pass_line_begin(&v->line, v->step, v->pass, knob, json_str(e, "params"), v->metric);
        }
        pass_line_try(&v->line, e, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "within")));
        v->tries++;
    } else if (!strcmp(kind, "done")) {
        if (v->line.len < 0) pass_line_begin(&v->line, v->step, v->pass, NULL, NULL, v->metric);
        run_view_clear(v);
        if (v->lines) pass_line_end(&v->line, e);
        *v->pass = 0;
    }
    cJSON_Delete(e);
}

void run_view_attach(run_view *v, lc_pipeline *pl, lc_context *ctx)
{
    lc_pipeline_set_events(pl, on_event, v);
    if (v->verbose) lc_context_set_log(ctx, on_log, v);
    if (v->bar) lc_context_set_progress(ctx, on_progress, v);
}
