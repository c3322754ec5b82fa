/* shrink report R.json [--html OUT.html] [--sensitivity S.json]:
 * re-renders a run report (the JSON of `shrink run --report`) as text and,
 * with --html, as the web page, without running anything again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "html_report.h"
#include "report_text.h"

void cmd_report_help(void)
{
    printf("usage: shrink report R.json [--html OUT.html] [--sensitivity S.json] [--quiet]\n"
           "\n"
           "Prints the summary of a run report (written by `shrink run --report R.json`)\n"
           "and, with --html, renders it as the same self-contained web page as\n"
           "`shrink run --html`, without compressing anything again.\n"
           "\n"
           "  --html OUT.html     write the web page (never over R.json or S.json)\n"
           "  --sensitivity S.json  add the curves of `shrink sensitivity --json` to the page\n"
           "  --quiet             print nothing but errors\n");
}

char *cli_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* fopen opens folders for reading */
        fclose(f);
        errno = EISDIR;
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0) break;
    }
    fclose(f);
    buf[len] = 0;
    return buf;
}


/* The text of a JSON object file, or NULL after printing the error. */
static char *read_json(const char *path, const char *what, int *rc)
{
    char *text = cli_read_text(path);
    if (!text) {
        *rc = cli_error(EXIT_USAGE, "%s: cannot read %s: %s", path, what, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    bool ok = cJSON_IsObject(j);
    cJSON_Delete(j);
    if (!ok) {
        *rc = cli_error(EXIT_USAGE, "%s: not a JSON %s (an object, as `shrink %s` writes)", path, what,
                        strcmp(what, "report") ? "sensitivity --json" : "run --report");
        free(text);
        return NULL;
    }
    return text;
}

int cmd_report(int argc, char **argv)
{
    const char *in = NULL, *html = NULL, *sens_path = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = true;
        else if (!strcmp(a, "--html") || !strcmp(a, "--sensitivity")) {
            if (++i >= argc) return cli_usage_error("report", "option %s needs a value", a);
            *(!strcmp(a, "--html") ? &html : &sens_path) = argv[i];
        } else if (a[0] == '-' && a[1]) return cli_usage_error("report", "unknown option '%s'", a);
        else if (!in) in = a;
        else return cli_usage_error("report", "more than one report given ('%s' and '%s')", in, a);
    }
    if (!in) return cli_usage_error("report", "missing R.json");
    const char *files[] = {in, sens_path};
    int rc = html ? cli_check_output("report", html, files, 2) : EXIT_OK;
    if (rc) return rc;
    char *run = read_json(in, "report", &rc), *sens = NULL;
    if (run && sens_path) sens = read_json(sens_path, "sensitivity report", &rc);
    if (run && (!sens_path || sens)) {
        cJSON *r = cJSON_Parse(run);
        if (!quiet) {
            report_print_attempts(r);
            report_print_summary(r, NULL);
        }
        cJSON_Delete(r);
        if (html) rc = html_write(html, run, sens);
    }
    free(run);
    free(sens);
    return rc;
}
