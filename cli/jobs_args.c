/* --plan, --job/--jobs, --job-dir and --merge (jobs_args.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobs_args.h"

#define USAGE_FAIL (EXIT_USAGE + 1000)

void cli_jobs_init(cli_jobs *j)
{
    memset(j, 0, sizeof *j);
    j->dir = "shrink-jobs";
    j->first = j->last = -1;
}

/* Parses "K" or "K..M" into [*first, *last). */
static bool parse_slice(const char *v, bool range, long *first, long *last)
{
    const char *dots = range ? strstr(v, "..") : NULL;
    char a[32];
    if (range && !dots) return false;
    size_t n = dots ? (size_t)(dots - v) : strlen(v);
    if (n == 0 || n >= sizeof a) return false;
    memcpy(a, v, n);
    a[n] = 0;
    if (!cli_parse_long(a, 0, first)) return false;
    if (!dots) {
        *last = *first + 1;
        return true;
    }
    long m;
    if (!cli_parse_long(dots + 2, *first, &m)) return false;
    *last = m + 1;
    return true;
}

int cli_jobs_parse(const char *cmd, int argc, char **argv, int *i, cli_jobs *j)
{
    const char *a = argv[*i];
    bool job = !strcmp(a, "--job"), jobs = !strcmp(a, "--jobs");
    if (!job && !jobs && strcmp(a, "--plan") && strcmp(a, "--merge") && strcmp(a, "--job-dir")) return 0;
    if (*i + 1 >= argc) return cli_usage_error(cmd, "option %s needs a value", a), USAGE_FAIL;
    const char *v = argv[++*i];
    if (!strcmp(a, "--plan")) j->plan = v;
    else if (!strcmp(a, "--merge")) j->merge = v;
    else if (!strcmp(a, "--job-dir")) j->dir = v;
    else if (!parse_slice(v, jobs, &j->first, &j->last))
        return cli_usage_error(cmd, "%s takes %s, not '%s'", a, jobs ? "K..M" : "a job number K", v), USAGE_FAIL;
    return 1;
}

bool cli_jobs_any(const cli_jobs *j) { return j->plan || j->merge || j->first >= 0; }

int cli_jobs_check(const char *cmd, const cli_jobs *j, const char *const *inputs, int n_inputs)
{
    if ((j->plan != NULL) + (j->first >= 0) + (j->merge != NULL) > 1)
        return cli_usage_error(cmd, "--plan, --job/--jobs and --merge are separate steps: give one");
    if (j->plan) {
        int rc = cli_check_output(cmd, j->plan, inputs, n_inputs);
        if (rc) return rc;
    }
    struct stat st;
    if (j->first >= 0 && stat(j->dir, &st) != 0 && mkdir(j->dir, 0777) != 0 && errno != EEXIST)
        return cli_error(EXIT_USAGE, "%s: cannot create the job folder: %s", j->dir, strerror(errno));
    return EXIT_OK;
}

int cli_jobs_read(cli_jobs *j)
{
    const char *dir = j->merge;
    struct dirent **list = NULL;
    int count = scandir(dir, &list, NULL, alphasort);
    if (count < 0) return cli_error(EXIT_USAGE, "%s: cannot read the folder: %s", dir, strerror(errno));
    int rc = EXIT_OK, k = 0;
    j->texts = calloc((size_t)count + 1, sizeof *j->texts);
    j->names = calloc((size_t)count + 1, sizeof *j->names);
    if (!j->texts || !j->names) rc = cli_error(EXIT_INTERNAL, "out of memory");
    for (int i = 0; i < count; i++) {
        const char *e = list[i]->d_name;
        size_t l = strlen(e);
        if (!rc && !strncmp(e, "job-", 4) && l > 9 && !strcmp(e + l - 5, ".json")) {
            char *path = malloc(strlen(dir) + l + 2);
            if (!path) rc = cli_error(EXIT_INTERNAL, "out of memory");
            else {
                snprintf(path, strlen(dir) + l + 2, "%s/%s", dir, e);
                j->names[k] = path;
                if (!(j->texts[k] = cli_read_text(path))) rc = cli_error(EXIT_USAGE, "%s: %s", path, strerror(errno));
                k++;
            }
        }
        free(list[i]);
    }
    free(list);
    j->n_texts = k;
    if (!rc && k == 0) rc = cli_error(EXIT_USAGE, "%s: no job-*.json results to merge", dir);
    return rc;
}

lc_status cli_jobs_write(const cli_jobs *j, long k, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/job-%06ld.json", j->dir, k);
    return lc_write_file(path, text, strlen(text));
}

void cli_jobs_free(cli_jobs *j)
{
    for (int i = 0; i < j->n_texts; i++) {
        free(j->texts[i]);
        free(j->names[i]);
    }
    free(j->texts);
    free(j->names);
    j->texts = j->names = NULL;
    j->n_texts = 0;
}
