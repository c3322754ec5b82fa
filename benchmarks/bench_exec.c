/*
 * bench_exec - times shrink's executor on one model, using only the public
 * API (<libcompress.h>).
 *
 *   bench_exec MODEL [--batch N] [--threads T] [--warmup N] [--iters N]
 *              [--max-seconds S] [--out OUT.npy]
 *
 * Builds an executor for batch N and T threads, feeds deterministic inputs
 * (the formula below, which benchmarks/ort/ort_bench.js reproduces bit for
 * bit), runs `warmup` untimed batches, then up to `iters` timed ones (at
 * least 3, fewer than `iters` once `max-seconds` have passed), and prints
 * one JSON line: median/min/mean milliseconds per batch, the median per
 * sample, the mean CPU milliseconds per timed batch (cpu_ms), a checksum
 * of the outputs and the kernels' instruction set. --out writes output 0 as .npy so
 * a driver can compare it with another runtime's.
 */
#define _POSIX_C_SOURCE 200809L
#include <libcompress.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Internal (libcompress/ops/lc_nn.h), resolved from the static library:
 * the kernels' instruction set after the LC_ISA cap, printed as "isa".
 * Weak, so this file also builds against older libraries ("unknown"). */
__attribute__((weak)) int lc_nn_isa(void);
__attribute__((weak)) const char *lc_nn_isa_name(int isa);

/* Element i of plan input k: integers spread over [-1, 1] in steps of
 * 1/1000, computed in double and rounded once to float, so any IEEE
 * language gets the same bits (JavaScript: Float32Array of the same
 * double). */
static float input_value(int k, int64_t i)
{
    int64_t r = (i * 7919 + 13 + 1009 * (int64_t)k) % 2001;
    return (float)((double)(r - 1000) / 1000.0);
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int64_t array_numel(const lc_array *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++) n *= a->dims[d];
    return n;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_exec MODEL [--batch N] [--threads T] [--warmup N] [--iters N]\n"
                    "                  [--max-seconds S] [--out OUT.npy]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = NULL;
    int batch = 1, threads = 1, warmup = 2, iters = 20;
    double max_seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (model_path) return usage();
            model_path = a;
            continue;
        }
        if (i + 1 >= argc) return usage();
        const char *v = argv[++i];
        if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--threads") == 0) threads = atoi(v);
        else if (strcmp(a, "--warmup") == 0) warmup = atoi(v);
        else if (strcmp(a, "--iters") == 0) iters = atoi(v);
        else if (strcmp(a, "--max-seconds") == 0) max_seconds = atof(v);
        else if (strcmp(a, "--out") == 0) out_path = v;
        else return usage();
    }
    if (!model_path || batch < 1 || threads < 1 || warmup < 0 || iters < 1) return usage();

    int rc = 1, n_in = 0;
    lc_model *m = NULL;
    lc_executor *ex = NULL;
    lc_array *inputs = NULL;
    double *times = NULL;
    lc_status s;

    if ((s = lc_model_load(model_path, &m))) goto fail;
    double t0 = now_ms();
    if ((s = lc_executor_create_batch(m, batch, threads, &ex))) goto fail;
    double plan_ms = now_ms() - t0;

    n_in = lc_executor_input_count(ex);
    inputs = calloc((size_t)(n_in ? n_in : 1), sizeof *inputs);
    times = calloc((size_t)iters, sizeof *times);
    if (!inputs || !times) {
        fprintf(stderr, "bench_exec: out of memory\n");
        goto done;
    }
    for (int k = 0; k < n_in; k++) {
        const char *name;
        if ((s = lc_executor_input(ex, k, &inputs[k], &name))) goto fail;
        if (inputs[k].dtype != LC_DTYPE_FLOAT) {
            fprintf(stderr, "bench_exec: input '%s' is %s; only float inputs are generated\n", name,
                    lc_dtype_name(inputs[k].dtype));
            goto done;
        }
        int64_t n = array_numel(&inputs[k]);
        float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
        if (!x) {
            fprintf(stderr, "bench_exec: out of memory\n");
            goto done;
        }
        for (int64_t i = 0; i < n; i++) x[i] = input_value(k, i);
        inputs[k].data = x;
    }

    for (int r = 0; r < warmup; r++)
        if ((s = lc_executor_run(ex, inputs, n_in))) goto fail;
    int runs = 0;
    double start = now_ms(), cpu_start = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    while (runs < iters) {
        double a = now_ms();
        if ((s = lc_executor_run(ex, inputs, n_in))) goto fail;
        times[runs++] = now_ms() - a;
        if (runs >= 3 && now_ms() - start > max_seconds * 1e3) break;
    }
    /* CPU time of the whole process per timed batch: on a shared machine
     * it moves much less with the load than wall time */
    const double cpu_ms = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / runs;
    double sum = 0;
    for (int r = 0; r < runs; r++) sum += times[r];
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double median = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);

    /* Checksum: sum and sum of magnitudes of every float output. */
    double checksum = 0, abs_sum = 0;
    int64_t out_numel = 0;
    for (int o = 0; o < lc_executor_output_count(ex); o++) {
        lc_array y;
        if ((s = lc_executor_output(ex, o, &y, NULL))) goto fail;
        if (y.dtype != LC_DTYPE_FLOAT) continue;
        const float *p = y.data;
        int64_t n = array_numel(&y);
        for (int64_t i = 0; i < n; i++) {
            checksum += p[i];
            abs_sum += p[i] < 0 ? -p[i] : p[i];
        }
        out_numel += n;
        if (o == 0 && out_path && (s = lc_npy_write(out_path, y.dtype, y.ndim, y.dims, y.data))) goto fail;
    }

    printf("{\"runtime\": \"shrink\", \"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"runs\": %d, "
           "\"plan_ms\": %.3f, \"median_ms\": %.4f, \"min_ms\": %.4f, \"mean_ms\": %.4f, \"ms_per_sample\": %.5f, "
           "\"outputs\": %lld, \"checksum\": %.9g, \"abs_sum\": %.9g, \"cpu_ms\": %.4f, \"isa\": \"%s\"}\n",
           model_path, batch, threads, runs, plan_ms, median, times[0], sum / runs, median / batch,
           (long long)out_numel, checksum, abs_sum, cpu_ms,
           lc_nn_isa && lc_nn_isa_name ? lc_nn_isa_name(lc_nn_isa()) : "unknown");
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bench_exec: %s: %s\n", lc_status_name(s), lc_last_error());
done:
    for (int k = 0; inputs && k < n_in; k++) free((void *)inputs[k].data);
    free(inputs);
    free(times);
    lc_executor_free(ex);
    lc_model_free(m);
    return rc;
}
