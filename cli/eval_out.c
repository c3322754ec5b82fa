/* shrink eval --out / --out-all: gathers model outputs over all batches and
 * writes them as .npy, each keeping its shape with dim 0 running over all
 * samples (a 1x4420x2 output per sample gives N x 4420 x 2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval_out.h"

/* int64 holds every integer output; float32 every floating-point one */
static int stored_dtype(int dtype)
{
    switch (dtype) {
    case LC_DTYPE_FLOAT: return LC_DTYPE_FLOAT;
    case LC_DTYPE_INT64: case LC_DTYPE_INT32: case LC_DTYPE_INT16: case LC_DTYPE_INT8:
    case LC_DTYPE_UINT8: case LC_DTYPE_UINT16: case LC_DTYPE_UINT32: case LC_DTYPE_BOOL: return LC_DTYPE_INT64;
    default: return 0;
    }
}

static int64_t element_i64(const void *data, int dtype, int64_t i)
{
    switch (dtype) {
    case LC_DTYPE_INT64: return ((const int64_t *)data)[i];
    case LC_DTYPE_INT32: return ((const int32_t *)data)[i];
    case LC_DTYPE_INT16: return ((const int16_t *)data)[i];
    case LC_DTYPE_INT8: return ((const int8_t *)data)[i];
    case LC_DTYPE_UINT8: case LC_DTYPE_BOOL: return ((const uint8_t *)data)[i];
    case LC_DTYPE_UINT16: return ((const uint16_t *)data)[i];
    default: return ((const uint32_t *)data)[i];
    }
}

int eval_outputs_add(eval_outputs *c, const lc_executor *ex, int first, int last, int64_t start, long n, int64_t count)
{
    if (!c->n) {
        c->n = last - first;
        c->first = first;
        if (!(c->out = calloc((size_t)c->n + 1, sizeof *c->out))) return cli_error(EXIT_INTERNAL, "out of memory");
    }
    for (int k = 0; k < c->n; k++) {
        eval_output *o = &c->out[k];
        lc_array a;
        const char *name;
        lc_status s = lc_executor_output(ex, c->first + k, &a, &name);
        if (s) return cli_fail_status(s);
        /* an output without the batch as dim 0 is written whole, which needs
         * one run over all samples */
        bool batched = a.ndim >= 1 && a.dims[0] == n;
        if (!batched && n != count)
            return cli_error(EXIT_USAGE,
                             "output '%s' has no batch as dim 0 (rank %d, dim 0 is %lld for %ld samples): use "
                             "--batch %lld to write it whole",
                             name, a.ndim, a.ndim ? (long long)a.dims[0] : 0LL, n, (long long)count);
        int64_t per = 1;
        for (int d = batched ? 1 : 0; d < a.ndim; d++) per *= a.dims[d];
        if (!o->data) {
            if (!(o->dtype = stored_dtype(a.dtype)))
                return cli_error(EXIT_USAGE, "output '%s' is %s; outputs are written as float32 or int64", name,
                                 lc_dtype_name(a.dtype));
            o->name = name;
            o->batched = batched;
            o->ndim = a.ndim;
            memcpy(o->dims, a.dims, sizeof o->dims);
            if (batched) o->dims[0] = count;
            o->per_sample = per;
            int64_t total = batched ? per * count : per;
            if (!(o->data = malloc((size_t)(total ? total : 1) * lc_dtype_size(o->dtype))))
                return cli_error(EXIT_INTERNAL, "out of memory for output '%s'", name);
        } else if (per != o->per_sample || a.ndim != o->ndim) {
            return cli_error(EXIT_USAGE, "output '%s' changes shape from batch to batch", name);
        }
        int64_t at = batched ? start * per : 0, len = batched ? n * per : per;
        if (o->dtype == LC_DTYPE_FLOAT) memcpy((float *)o->data + at, a.data, (size_t)len * sizeof(float));
        else
            for (int64_t i = 0; i < len; i++) ((int64_t *)o->data)[at + i] = element_i64(a.data, a.dtype, i);
    }
    return EXIT_OK;
}

/* A file name from an output name: characters other than letters, digits,
 * '.', '-' and '_' become '_'. */
static void file_name(const char *dir, const char *name, int k, char *buf, size_t len)
{
    int used = snprintf(buf, len, "%s/", dir);
    size_t at = used > 0 ? (size_t)used : 0;
    for (const char *p = name; *p && at + 16 < len; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '-' || ch == '_';
        buf[at++] = ok ? ch : '_';
    }
    if (!*name || name[0] == '.') at += (size_t)snprintf(buf + at, len - at, "output%d", k);
    snprintf(buf + at, len - at, ".npy");
}

int eval_outputs_write(const eval_outputs *c, const char *out, const char *dir)
{
    lc_status s;
    if (out && c->n) {
        const eval_output *o = &c->out[0];
        if ((s = lc_npy_write(out, o->dtype, o->ndim, o->dims, o->data))) return cli_fail_status(s);
    }
    if (!dir) return EXIT_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cli_error(EXIT_USAGE, "cannot create folder '%s': %s", dir, strerror(errno));
    for (int k = 0; k < c->n; k++) {
        char path[4096];
        file_name(dir, c->out[k].name, k, path, sizeof path);
        for (int j = 0; j < k; j++) {
            char other[4096];
            file_name(dir, c->out[j].name, j, other, sizeof other);
            if (!strcmp(path, other)) snprintf(path + strlen(path) - 4, sizeof path - strlen(path) + 4, "_%d.npy", k);
        }
        const eval_output *o = &c->out[k];
        if ((s = lc_npy_write(path, o->dtype, o->ndim, o->dims, o->data))) return cli_fail_status(s);
    }
    return EXIT_OK;
}

void eval_outputs_free(eval_outputs *c)
{
    for (int k = 0; k < c->n; k++) free(c->out[k].data);
    free(c->out);
    memset(c, 0, sizeof *c);
}
