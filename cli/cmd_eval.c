/* shrink eval MODEL --data X [--data X2 ...] [--labels Y] [--ref FLOAT_MODEL]
 *            [--out OUT.npy] [--batch N] [--mean M --std S] [--limit N]
 *            [--threads N] [--json] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "data_checks.h"

#define MAX_INPUTS 16

void cmd_eval_help(void)
{
    printf("usage: shrink eval MODEL --data X [--data X2 ...] [--labels Y] [--ref FLOAT_MODEL]\n"
           "                  [--out OUT.npy] [--batch N] [--mean M --std S] [--limit N]\n"
           "                  [--threads N] [--json]\n"
           "\n"
           "Runs MODEL (.onnx or .lcm) with the reference executor on data and reports accuracy.\n"
           "\n"
           "  --data X        input samples along dim 0, once per graph input, in order:\n"
           "                  .npy (float32/float64/uint8/ints, C order), IDX (*-idx3-ubyte,\n"
           "                  .gz or not), or raw float32 as FILE.bin:d0xd1x...\n"
           "                  uint8 data is scaled by 1/255 first.\n"
           "  --labels Y      class labels (.npy of ints, or IDX idx1): reports top-1 (%%)\n"
           "  --ref MODEL     a reference (float) model run on the same data: reports top-1\n"
           "                  agreement (%%) and the SNR (dB) of the first output against it\n"
           "  --out OUT.npy   writes the first output for all samples (float32 .npy)\n"
           "  --batch N       samples per run (default 64)\n"
           "  --mean M --std S  normalise inputs as (x - M) / S (after the uint8 scaling)\n"
           "  --limit N       use only the first N samples\n"
           "  --threads N     worker threads (default: all cores)\n"
           "  --json          print one JSON object: samples, top1, agreement, snr_db,\n"
           "                  ms_per_sample\n"
           "\n"
           "Top-1 takes the arg-max of the first output over all its non-batch elements.\n");
}

typedef struct eval_opts {
    const char *model, *labels, *ref, *out;
    const char *data[MAX_INPUTS];
    int n_data;
    long batch, limit, threads;
    double mean, std;
    bool has_mean, has_std, json;
} eval_opts;

static int parse_args(int argc, char **argv, eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        const char *v = has_value ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (a[0] != '-' || !a[1]) {
            if (o->model) return cli_usage_error("eval", "more than one MODEL given ('%s' and '%s')", o->model, a);
            o->model = a;
            continue;
        }
        static const char *const with_value[] = {"--data", "--labels", "--ref", "--out", "--batch", "--mean",
                                                 "--std", "--limit", "--threads"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) known |= strcmp(a, with_value[k]) == 0;
        if (!known) return cli_unknown_option("eval", a, with_value, (int)(sizeof with_value / sizeof *with_value));
        if (!has_value) return cli_usage_error("eval", "option %s needs a value", a);
        i++;
        if (strcmp(a, "--data") == 0) {
            if (o->n_data == MAX_INPUTS) return cli_usage_error("eval", "at most %d --data options", MAX_INPUTS);
            o->data[o->n_data++] = v;
        } else if (strcmp(a, "--labels") == 0) o->labels = v;
        else if (strcmp(a, "--ref") == 0) o->ref = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_long(v, 1, &o->batch)) return cli_usage_error("eval", "--batch must be a positive integer, not '%s'", v);
        } else if (strcmp(a, "--limit") == 0) {
            if (!cli_parse_long(v, 1, &o->limit)) return cli_usage_error("eval", "--limit must be a positive integer, not '%s'", v);
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_long(v, 1, &o->threads)) return cli_usage_error("eval", "--threads must be a positive integer, not '%s'", v);
        } else if (strcmp(a, "--mean") == 0) {
            if (!cli_parse_double(v, &o->mean)) return cli_usage_error("eval", "--mean must be a number, not '%s'", v);
            o->has_mean = true;
        } else if (strcmp(a, "--std") == 0) {
            if (!cli_parse_double(v, &o->std) || o->std <= 0)
                return cli_usage_error("eval", "--std must be a positive number, not '%s'", v);
            o->has_std = true;
        }
    }
    if (!o->model) return cli_usage_error("eval", "missing MODEL");
    if (!o->n_data) return cli_usage_error("eval", "missing --data");
    if (o->has_mean != o->has_std) return cli_usage_error("eval", "--mean and --std go together");
    if (o->out) {
        const char *inputs[MAX_INPUTS + 3] = {o->model, o->ref, o->labels};
        for (int i = 0; i < o->n_data; i++) inputs[3 + i] = o->data[i];
        return cli_check_output("eval", o->out, inputs, 3 + o->n_data);
    }
    return EXIT_OK;
}

/* A model, its plan inputs and executors for full and remainder batches. */
typedef struct runner {
    lc_model *model;
    const char *path;
    int n_inputs;
    lc_array shapes[MAX_INPUTS]; /* dims[0] is filled per batch */
    lc_executor *full, *rest;
    long full_batch, rest_batch;
} runner;

/* Plan input shapes: the model's declared dims where known, else the
 * data's sample dims (when the ranks agree). */
static int runner_open(runner *r, const char *path, lc_dataset *const *data, int n_data)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    lc_status s = lc_model_load(path, &r->model);
    if (s) return cli_fail_status(s);
    lc_model_info info;
    if ((s = lc_model_info_compute(r->model, &info))) return cli_fail_status(s);
    int rc = EXIT_OK;
    if (info.n_inputs != n_data)
        rc = cli_error(EXIT_USAGE, "%s has %d input%s but %d --data given", path, info.n_inputs,
                       info.n_inputs == 1 ? "" : "s", n_data);
    r->n_inputs = info.n_inputs;
    for (int i = 0; i < info.n_inputs && !rc; i++) {
        const lc_value_summary *v = &info.inputs[i];
        lc_array *a = &r->shapes[i];
        if (v->dtype != LC_DTYPE_FLOAT) {
            rc = cli_error(EXIT_USAGE, "%s: input '%s' is %s; eval feeds float32 data only", path, v->name,
                           lc_dtype_name(v->dtype));
            break;
        }
        int nd = v->ndim > 0 ? v->ndim - 1 : v->ndim;
        if ((s = lc_dataset_check_shape(data[i], nd, v->ndim > 0 ? v->dims + 1 : NULL, v->name))) {
            rc = cli_fail_status(s);
            break;
        }
        a->dtype = LC_DTYPE_FLOAT;
        bool known = v->ndim >= 1;
        for (int k = 1; k < v->ndim; k++) known &= v->dims[k] >= 0;
        if (known) {
            a->ndim = v->ndim;
            memcpy(a->dims, v->dims, sizeof a->dims);
        } else if (v->ndim < 0 || lc_dataset_sample_ndim(data[i]) == v->ndim - 1) {
            a->ndim = lc_dataset_sample_ndim(data[i]) + 1;
            memcpy(a->dims + 1, lc_dataset_sample_dims(data[i]), (size_t)(a->ndim - 1) * sizeof(int64_t));
        } else {
            rc = cli_error(EXIT_USAGE, "%s: cannot tell the shape of input '%s' from the model or the data", path,
                           v->name);
        }
    }
    lc_model_info_clear(&info);
    return rc;
}

static lc_status runner_plan(runner *r, long batch, int threads, lc_executor **ex, long *planned)
{
    if (*ex && *planned == batch) return LC_OK;
    lc_executor_free(*ex);
    *ex = NULL;
    for (int i = 0; i < r->n_inputs; i++) r->shapes[i].dims[0] = batch;
    lc_status s = lc_executor_create(r->model, r->shapes, r->n_inputs, threads, ex);
    if (!s) *planned = batch;
    return s;
}

/* Runs samples [start, start+n) and returns the first output (borrowed). */
static lc_status runner_run(runner *r, lc_dataset *const *data, int64_t start, long n, long full_batch, int threads,
                            lc_array *out)
{
    lc_executor **ex = n == full_batch ? &r->full : &r->rest;
    long *planned = n == full_batch ? &r->full_batch : &r->rest_batch;
    lc_status s = runner_plan(r, n, threads, ex, planned);
    if (s) return s;
    lc_array in[MAX_INPUTS];
    for (int i = 0; i < r->n_inputs; i++) {
        in[i] = r->shapes[i];
        in[i].dims[0] = n;
        in[i].data = lc_dataset_sample(data[i], start);
    }
    if ((s = lc_executor_run(*ex, in, r->n_inputs))) return s;
    return lc_executor_output(*ex, 0, out, NULL);
}

static void runner_close(runner *r)
{
    lc_executor_free(r->full);
    lc_executor_free(r->rest);
    lc_model_free(r->model);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int64_t argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;

    lc_dataset *data[MAX_INPUTS] = {0};
    int64_t *labels = NULL, n_labels = 0;
    float *outbuf = NULL;
    runner model = {0}, ref = {0};
    lc_status s = LC_OK;
    lc_data_options dopt = {o.has_mean, (float)o.mean, (float)o.std, o.limit};
    for (int i = 0; i < o.n_data && !s; i++) s = lc_dataset_load(o.data[i], &dopt, &data[i]);
    if (s) goto fail;
    int64_t count = lc_dataset_count(data[0]);
    for (int i = 1; i < o.n_data; i++)
        if (lc_dataset_count(data[i]) != count) {
            rc = cli_error(EXIT_USAGE, "%s has %lld samples but %s has %lld", o.data[i],
                           (long long)lc_dataset_count(data[i]), o.data[0], (long long)count);
            goto done;
        }
    if (o.labels) {
        if ((s = lc_labels_load(o.labels, o.limit, &labels, &n_labels))) goto fail;
        if ((s = lc_dataset_check_labels(data[0], n_labels, o.labels))) goto fail;
    }
    if ((rc = runner_open(&model, o.model, data, o.n_data))) goto done;
    for (int i = 0; i < o.n_data; i++) check_data_scale(data[i], o.has_mean, o.mean, o.std);
    if (o.labels) check_labels_range(o.labels, labels, n_labels, model.model);
    if (o.ref && (rc = runner_open(&ref, o.ref, data, o.n_data))) goto done;

    long batch = o.batch < count ? o.batch : (long)count;
    int64_t correct = 0, agree = 0, per_sample = -1;
    double sig = 0, noise = 0, ms = 0;
    for (int64_t start = 0; start < count; start += batch) {
        long n = (long)(count - start < batch ? count - start : batch);
        lc_array out, rout;
        double t0 = now_ms();
        if ((s = runner_run(&model, data, start, n, batch, (int)o.threads, &out))) goto fail;
        ms += now_ms() - t0;
        if (out.dtype != LC_DTYPE_FLOAT || out.ndim < 1 || out.dims[0] != n) {
            rc = cli_error(EXIT_USAGE, "%s: first output is not float32 with the batch as dim 0", o.model);
            goto done;
        }
        int64_t k = 1;
        for (int d = 1; d < out.ndim; d++) k *= out.dims[d];
        if (per_sample < 0) {
            per_sample = k;
            if (o.out && !(outbuf = malloc((size_t)(count * k) * sizeof *outbuf))) {
                rc = cli_error(EXIT_INTERNAL, "out of memory for %lld outputs", (long long)(count * k));
                goto done;
            }
        }
        const float *y = out.data;
        if (outbuf) memcpy(outbuf + start * k, y, (size_t)(n * k) * sizeof *y);
        if (labels)
            for (long i = 0; i < n; i++) correct += k > 0 && argmax(y + i * k, k) == labels[start + i];
        if (o.ref) {
            /* the two executors own separate buffers: `y` stays valid */
            if ((s = runner_run(&ref, data, start, n, batch, (int)o.threads, &rout))) goto fail;
            int64_t rk = 1;
            for (int d = 1; d < rout.ndim; d++) rk *= rout.dims[d];
            if (rout.dtype != LC_DTYPE_FLOAT || rk != k) {
                rc = cli_error(EXIT_USAGE, "%s and %s have first outputs of different shapes", o.model, o.ref);
                goto done;
            }
            const float *r = rout.data;
            for (long i = 0; i < n; i++) agree += argmax(y + i * k, k) == argmax(r + i * k, k);
            for (int64_t i = 0; i < n * k; i++) {
                sig += (double)r[i] * r[i];
                noise += ((double)y[i] - r[i]) * ((double)y[i] - r[i]);
            }
        }
    }
    if (o.out) {
        int64_t dims[2] = {count, per_sample};
        if ((s = lc_npy_write(o.out, LC_DTYPE_FLOAT, 2, dims, outbuf))) goto fail;
    }
    double top1 = labels ? 100.0 * (double)correct / (double)count : NAN;
    double agreement = o.ref ? 100.0 * (double)agree / (double)count : NAN;
    double snr = o.ref ? (noise > 0 ? 10 * log10(sig / noise) : INFINITY) : NAN;
    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "samples", (double)count);
        if (labels) cJSON_AddNumberToObject(j, "top1", top1);
        if (o.ref) {
            cJSON_AddNumberToObject(j, "agreement", agreement);
            /* JSON has no infinity: identical outputs report null */
            if (isfinite(snr)) cJSON_AddNumberToObject(j, "snr_db", snr);
            else cJSON_AddNullToObject(j, "snr_db");
        }
        cJSON_AddNumberToObject(j, "ms_per_sample", ms / (double)count);
        char *txt = cJSON_Print(j);
        cJSON_Delete(j);
        if (txt) puts(txt);
        free(txt);
    } else {
        printf("samples        %lld\n", (long long)count);
        if (labels) printf("top-1          %.2f%%\n", top1);
        if (o.ref) {
            printf("agreement      %.2f%% with %s\n", agreement, o.ref);
            if (isfinite(snr)) printf("snr            %.2f dB\n", snr);
            else printf("snr            inf (outputs identical)\n");
        }
        printf("time           %.4f ms/sample (%.0f samples/s, batch %ld, %ld thread%s)\n", ms / (double)count,
               ms > 0 ? 1000.0 * (double)count / ms : 0.0, batch, o.threads, o.threads == 1 ? "" : "s");
        if (o.out) printf("wrote          %s\n", o.out);
    }
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail_status(s);
done:
    for (int i = 0; i < o.n_data; i++) lc_dataset_free(data[i]);
    free(labels);
    free(outbuf);
    runner_close(&model);
    runner_close(&ref);
    return rc;
}
