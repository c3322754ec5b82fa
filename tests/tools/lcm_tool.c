/* lcm_tool: helper of the .lcm tests and benchmark.
 *
 *   lcm_tool roundtrip MODEL...          each ONNX model -> .lcm -> model: the
 *                                        ONNX serialization must be identical
 *                                        and the accounting add up; prints
 *                                        "ok N" (exit 1 on any difference)
 *   lcm_tool encode IN OUT.lcm [PASS[:k=v,...]]...
 *                                        runs the passes (lc_pass_run) and
 *                                        writes OUT.lcm
 *   lcm_tool stats FILE.lcm              byte accounting as JSON
 *   lcm_tool speed FILE.lcm [SECONDS]    Huffman encode/decode speed over the
 *                                        file's Huffman-coded streams, JSON
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lc_huffman.h"
#include "lc_lcm.h"

static int read_file(const char *path, void **buf, size_t *len)
{
    if (lc_read_file(path, buf, len) != LC_OK) {
        fprintf(stderr, "lcm_tool: %s\n", lc_last_error());
        return -1;
    }
    return 0;
}

static int roundtrip(int n, char **paths)
{
    int bad = 0, ok = 0;
    for (int i = 0; i < n; i++) {
        lc_model *m = NULL, *back = NULL;
        void *lcm = NULL, *a = NULL, *b = NULL;
        size_t ll, la, lb;
        if (lc_model_load(paths[i], &m) != LC_OK) continue; /* models our reader refuses are not the point */
        const char *why = NULL;
        lc_lcm_accounting acc = {0};
        if (lc_model_save_lcm_buffer(m, NULL, &lcm, &ll) != LC_OK) why = "save";
        else if (lc_model_load_lcm_buffer(lcm, ll, paths[i], &back) != LC_OK) why = "load";
        else if (lc_model_save_onnx_buffer(m, &a, &la) || lc_model_save_onnx_buffer(back, &b, &lb)) why = "serialize";
        else if (la != lb || memcmp(a, b, la) != 0) why = "different ONNX bytes after the round trip";
        else if (lc_lcm_accounting_compute(lcm, ll, &acc) != LC_OK) why = "accounting";
        else {
            int64_t sum = acc.header_bytes + acc.meta_bytes + acc.graph_bytes;
            for (int k = 0; k < acc.n_tensors; k++) sum += acc.tensors[k].bytes;
            if (sum != (int64_t)ll) why = "accounting does not add up";
        }
        if (why) {
            printf("FAIL %s: %s: %s\n", paths[i], why, lc_last_error());
            bad++;
        } else {
            ok++;
        }
        lc_lcm_accounting_clear(&acc);
        free(lcm);
        free(a);
        free(b);
        lc_model_free(m);
        lc_model_free(back);
    }
    printf("ok %d\n", ok);
    return bad ? 1 : 0;
}

static int encode(const char *in, const char *out, int n, char **passes)
{
    lc_model *m = NULL;
    if (lc_model_load(in, &m) != LC_OK) {
        fprintf(stderr, "lcm_tool: %s\n", lc_last_error());
        return 2;
    }
    char recipe[4096];
    size_t k = (size_t)snprintf(recipe, sizeof recipe, "{\"passes\":[");
    for (int i = 0; i < n; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s", passes[i]);
        char *params = strchr(name, ':');
        if (params) *params++ = 0;
        if (lc_pass_run(m, name, params, NULL) != LC_OK) {
            fprintf(stderr, "lcm_tool: %s: %s\n", passes[i], lc_last_error());
            lc_model_free(m);
            return 2;
        }
        k += (size_t)snprintf(recipe + k, sizeof recipe - k, "%s{\"pass\":\"%s\"}", i ? "," : "", name);
        if (k >= sizeof recipe) k = sizeof recipe - 1;
    }
    snprintf(recipe + k, sizeof recipe - k, "]}");
    lc_lcm_meta meta = {"lcm_tool", recipe, NULL};
    lc_status s = lc_model_save_lcm(m, out, &meta);
    lc_model_free(m);
    if (s) {
        fprintf(stderr, "lcm_tool: %s\n", lc_last_error());
        return 2;
    }
    return 0;
}

static int stats(const char *path)
{
    void *buf;
    size_t len;
    if (read_file(path, &buf, &len)) return 2;
    lc_lcm_accounting a;
    if (lc_lcm_accounting_compute(buf, len, &a) != LC_OK) {
        fprintf(stderr, "lcm_tool: %s\n", lc_last_error());
        free(buf);
        return 2;
    }
    printf("{\"file_bytes\": %lld, \"header_bytes\": %lld, \"meta_bytes\": %lld, \"graph_bytes\": %lld, \"tensors\": [",
           (long long)a.file_bytes, (long long)a.header_bytes, (long long)a.meta_bytes, (long long)a.graph_bytes);
    for (int i = 0; i < a.n_tensors; i++) {
        const lc_lcm_tensor_info *t = &a.tensors[i];
        printf("%s\n {\"name\": \"%s\", \"store\": %d, \"sparsity\": %d, \"numel\": %lld, \"kept\": %lld, \"bytes\": %lld, \"streams\": [",
               i ? "," : "", t->name, t->store, t->sparsity, (long long)t->numel, (long long)t->kept, (long long)t->bytes);
        for (int k = 0; k < t->n_streams; k++) {
            const lc_lcm_stream_info *s = &t->streams[k];
            printf("%s{\"role\": %d, \"coding\": %d, \"bits\": %d, \"symbols\": %lld, \"bytes\": %lld, \"table_bytes\": %lld, "
                   "\"entropy_bits\": %.3f}",
                   k ? ", " : "", s->role, s->coding, s->bits, (long long)s->symbols, (long long)s->bytes,
                   (long long)s->table_bytes, s->entropy_bits);
        }
        printf("]}");
    }
    printf("]}\n");
    lc_lcm_accounting_clear(&a);
    free(buf);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct timing {
    int pass, streams;
    double enc_t, dec_t, syms, bulk_enc, bulk_dec, bulk_syms;
} timing;

/* Times decode and encode of one Huffman-coded stream (and, on the first
 * pass, of its symbols repeated to 4M so table set-up does not dominate). */
static void time_stream(void *user, const uint8_t *p, uint64_t bytes, int coding, int w, uint64_t n)
{
    timing *t = user;
    if (coding != LC_LCM_CODING_HUFFMAN || n == 0) return;
    uint8_t *sym = malloc(n), *out = malloc(bytes + 8);
    double t0 = now();
    lc_huff_stream_read(p, bytes, w, sym, n);
    double t1 = now();
    uint64_t hist[256] = {0};
    lc_huff_histogram(sym, n, hist);
    uint8_t lens[256] = {0};
    lc_huff_lengths(hist, 1 << w, LC_HUFF_MAX_LEN, lens);
    lc_huff_stream_write(sym, n, lens, w, out);
    double t2 = now();
    t->dec_t += t1 - t0;
    t->enc_t += t2 - t1;
    t->syms += (double)n;
    if (t->pass == 0) {
        t->streams++;
        size_t big = (size_t)1 << 22;
        uint8_t *rep = malloc(big), *back = malloc(big);
        for (size_t j = 0; j < big; j++) rep[j] = sym[j % n];
        uint64_t h2[256] = {0};
        lc_huff_histogram(rep, big, h2);
        size_t sz = lc_huff_stream_size(h2, lens, w);
        uint8_t *coded = malloc(sz);
        double b0 = now();
        lc_huff_stream_write(rep, big, lens, w, coded);
        double b1 = now();
        if (lc_huff_stream_read(coded, sz, w, back, big) != LC_OK || memcmp(rep, back, big) != 0) {
            fprintf(stderr, "lcm_tool: bulk round trip failed\n");
            exit(1);
        }
        double b2 = now();
        t->bulk_enc += b1 - b0;
        t->bulk_dec += b2 - b1;
        t->bulk_syms += (double)big;
        free(rep);
        free(back);
        free(coded);
    }
    free(sym);
    free(out);
}

/* Times encode and decode of every Huffman-coded stream of the file. The
 * walk decodes the file as a load does; the times are the codec's alone. */
static int speed(const char *path, double seconds)
{
    void *vbuf;
    size_t len;
    if (read_file(path, &vbuf, &len)) return 2;
    timing t = {0};
    for (t.pass = 0; t.pass < 1000 && (t.pass == 0 || t.enc_t + t.dec_t < seconds); t.pass++) {
        if (lc_lcm_walk_streams(vbuf, len, time_stream, &t) != LC_OK) {
            fprintf(stderr, "lcm_tool: %s\n", lc_last_error());
            free(vbuf);
            return 2;
        }
    }
    printf("{\"streams\": %d, \"symbols\": %.0f, \"encode_mb_s\": %.1f, \"decode_mb_s\": %.1f, "
           "\"bulk_encode_mb_s\": %.1f, \"bulk_decode_mb_s\": %.1f}\n",
           t.streams, t.syms, t.enc_t > 0 ? t.syms / t.enc_t / 1e6 : 0.0, t.dec_t > 0 ? t.syms / t.dec_t / 1e6 : 0.0,
           t.bulk_enc > 0 ? t.bulk_syms / t.bulk_enc / 1e6 : 0.0, t.bulk_dec > 0 ? t.bulk_syms / t.bulk_dec / 1e6 : 0.0);
    free(vbuf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "roundtrip")) return roundtrip(argc - 2, argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "encode")) return encode(argv[2], argv[3], argc - 4, argv + 4);
    if (argc == 3 && !strcmp(argv[1], "stats")) return stats(argv[2]);
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "speed")) return speed(argv[2], argc == 4 ? atof(argv[3]) : 1.0);
    fprintf(stderr, "usage: lcm_tool roundtrip MODEL... | encode IN OUT.lcm [PASS[:k=v,...]]... | stats FILE.lcm | "
                    "speed FILE.lcm [SECONDS]\n");
    return 2;
}
