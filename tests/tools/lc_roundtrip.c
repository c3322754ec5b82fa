/* lc_roundtrip: a test tool that round-trips ONNX models through the public
 * API only: load MODEL, save OUT; with --stable also reload OUT and check
 * that saving it again gives the same bytes (the writer is deterministic).
 *
 *   lc_roundtrip [--stable] MODEL OUT [MODEL OUT ...]
 *   lc_roundtrip [--stable] --list FILE      (FILE: one "MODEL<TAB>OUT" a line)
 *
 * Prints one line per pair: "ok<TAB>MODEL" or
 * "error<TAB>MODEL<TAB>STATUS<TAB>message". Exit 0 if every pair passed,
 * 1 if any failed, 2 on bad usage. Many pairs in one process keep the
 * 1000-model round trip fast, also under the sanitizers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcompress.h>

static lc_status read_all(const char *path, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return LC_ERR_IO;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    lc_status s = LC_OK;
    while (b) {
        if (n == cap) {
            unsigned char *p = realloc(b, cap * 2);
            if (!p) break;
            b = p;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (!b) s = LC_ERR_NO_MEMORY;
    else if (ferror(f)) s = LC_ERR_IO;
    fclose(f);
    if (s) {
        free(b);
        return s;
    }
    *buf = b;
    *len = n;
    return LC_OK;
}

/* Returns 0 on success, else prints the error line and returns 1. */
static int roundtrip(const char *model, const char *out, int stable)
{
    lc_model *m = NULL, *m2 = NULL;
    void *saved = NULL, *again = NULL;
    size_t saved_len = 0, again_len = 0;
    const char *step = "load";
    lc_status s = lc_model_load(model, &m);
    if (!s) {
        step = "save";
        s = lc_model_save_onnx(m, out);
    }
    if (!s && stable) {
        step = "reload";
        s = lc_model_load(out, &m2);
        if (!s) {
            step = "read back";
            s = read_all(out, &saved, &saved_len);
        }
        if (!s) {
            step = "save again";
            s = lc_model_save_onnx_buffer(m2, &again, &again_len);
        }
        if (!s && (saved_len != again_len || memcmp(saved, again, saved_len) != 0)) {
            printf("error\t%s\tunstable\tsave -> load -> save changed the bytes (%zu -> %zu)\n", model, saved_len,
                   again_len);
            s = LC_ERR_INTERNAL;
            step = NULL;
        }
    }
    if (s && step) printf("error\t%s\t%s\t%s: %s\n", model, lc_status_name(s), step, lc_last_error());
    else if (!s) printf("ok\t%s\n", model);
    free(saved);
    free(again);
    lc_model_free(m);
    lc_model_free(m2);
    return s ? 1 : 0;
}

int main(int argc, char **argv)
{
    int stable = 0, i = 1, failed = 0;
    const char *list = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--stable") == 0) stable = 1;
        else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc) list = argv[++i];
        else {
            fprintf(stderr, "usage: lc_roundtrip [--stable] (--list FILE | MODEL OUT ...)\n");
            return 2;
        }
    }
    if (list) {
        FILE *f = fopen(list, "r");
        if (!f) {
            fprintf(stderr, "lc_roundtrip: cannot open %s\n", list);
            return 2;
        }
        char line[8192];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            char *tab = strchr(line, '\t');
            if (!tab) continue;
            *tab = 0;
            failed |= roundtrip(line, tab + 1, stable);
            fflush(stdout);
        }
        fclose(f);
    } else {
        if ((argc - i) % 2 != 0 || argc == i) {
            fprintf(stderr, "usage: lc_roundtrip [--stable] (--list FILE | MODEL OUT ...)\n");
            return 2;
        }
        for (; i + 1 < argc; i += 2) failed |= roundtrip(argv[i], argv[i + 1], stable);
    }
    return failed;
}
