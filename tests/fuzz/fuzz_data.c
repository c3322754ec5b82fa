/* Fuzz target for the dataset readers (.npy and IDX, each plain or
 * gzip'ed). The readers take paths, so the input is written to a private
 * file first. Byte 0 selects the variant: bit 0 gzips the rest before it
 * is written (so mutations reach the headers behind the gzip layer), bit 1
 * keeps only the first sample (the limit option), bit 2 normalises. The
 * rest is the file, read both as a dataset and as labels. The same source
 * builds fuzz_npy (which also feeds the .npy header parser directly) and
 * fuzz_idx; they differ in their seeds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "lc_array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *scratch_path(void)
{
    static char path[64];
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/lc_fuzz_data_%ld", dir, (long)getpid());
    }
    return path;
}

static int write_input(const char *path, const uint8_t *p, size_t n, int gzip)
{
    if (gzip) {
        gzFile gz = gzopen(path, "wb1");
        if (!gz) return -1;
        int ok = n == 0 || gzwrite(gz, p, (unsigned)n) == (int)n;
        if (gzclose(gz) != Z_OK || !ok) return -1;
        return 0;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = n == 0 || fwrite(p, 1, n, f) == n;
    if (fclose(f) || !ok) return -1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) return 0;
    uint8_t mode = data[0];
    const uint8_t *file = data + 1;
    size_t n = size - 1;
#ifdef FUZZ_NPY
    /* the header parser alone, on the bytes behind the 10-byte preamble */
    if (n > 10) {
        const lc_elem_type *type;
        int ndim;
        int64_t dims[LC_MAX_DIMS];
        char *text = malloc(n - 10);
        if (text) {
            memcpy(text, file + 10, n - 10);
            lc_npy_parse_header("fuzz.npy", text, n - 10, &type, &ndim, dims);
            free(text);
        }
    }
#endif
    const char *path = scratch_path();
    if (write_input(path, file, n, mode & 1)) abort();
    lc_data_options opt = {0};
    opt.limit = (mode & 2) ? 1 : 0;
    if (mode & 4) {
        opt.has_norm = 1;
        opt.mean = 0.5f;
        opt.std = 0.25f;
    }
    lc_dataset *d = NULL;
    if (lc_dataset_load(path, &opt, &d) == LC_OK) {
        int64_t count = lc_dataset_count(d);
        int64_t numel = lc_dataset_sample_numel(d);
        if (count < 1 || numel < 1) abort();
        /* every sample must be readable */
        const float *last = lc_dataset_sample(d, count - 1);
        volatile float sink = last[numel - 1];
        (void)sink;
        if (lc_dataset_sample(d, count)) abort();
        lc_dataset_free(d);
    }
    int64_t *labels = NULL, cnt = 0;
    if (lc_labels_load(path, opt.limit, &labels, &cnt) == LC_OK) {
        for (int64_t i = 0; i < cnt; i++)
            if (labels[i] < 0) abort();
        free(labels);
    }
    unlink(path);
    return 0;
}
