/* shrink eval MODEL --data X [--data X2 ...] [--labels Y] [--ref FLOAT_MODEL]
 *            [--out OUT.npy] [--out-all DIR] [--batch N] [--mean M --std S] [--limit N]
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
#include "eval_out.h"
#include "inputs_args.h"

#define MAX_INPUTS 16

void cmd_eval_help(void)
{
    printf("usage: shrink eval MODEL --data X [--data X2 ...] [--labels Y] [--ref FLOAT_MODEL]\n"
           "                  [--out OUT.npy] [--out-all DIR] [--batch N] [--mean M --std S] [--limit N]\n"
           "                  [--threads N] [--json] [--feed NAME=FILE.npy] [--input-shape NAME=DIMS]\n"
           "\n"
           "Runs MODEL (.onnx or .lcm) with the reference executor on data and reports accuracy.\n"
           "\n"
           "  --data X        input samples along dim 0, once per graph input not fed, in order:\n"
           "                  .npy (float32/float64/uint8/ints, C order), IDX (*-idx3-ubyte,\n"
           "                  .gz or not), or raw float32 as FILE.bin:d0xd1x...\n"
           "                  uint8 data is scaled by 1/255 first.\n"
           "  --labels Y      class labels (.npy of ints, or IDX idx1): reports top-1 (%%)\n"
           "  --ref MODEL     a reference (float) model run on the same data: reports top-1\n"
           "                  agreement (%%) and the SNR (dB) of the first output against it\n"
           "  --out OUT.npy   writes the first output for all samples (float32 .npy), its\n"
           "                  shape with dim 0 running over all samples\n"
           "  --out-all DIR   writes every output as DIR/NAME.npy (float32, or int64 for\n"
           "                  integer outputs) the same way; DIR is created if missing\n"
           "  --batch N       samples per run (default 64)\n"
           "  --mean M --std S  normalise inputs as (x - M) / S (after the uint8 scaling)\n"
           "  --limit N       use only the first N samples\n"
           CLI_INPUTS_HELP
           "  --threads N     worker threads (default: all cores)\n"
           "  --metric M      top1 (needs --labels), agreement, snr, cosine or mse (these\n"
           "                  need --ref): the metric a budget would use, named in the\n"
           "                  output (default: top1 with labels, else agreement)\n"
           "  --json          print one JSON object: samples, top1, agreement, snr_db,\n"
           "                  cosine, mse, metric, ms_per_sample\n"
           "\n"
           "Top-1 takes the arg-max of the first output over all its non-batch elements.\n"
           "With --ref, cosine is the mean over samples of the cosine between the two\n"
           "first outputs, mse the mean squared difference.\n");
}

typedef struct eval_opts {
    const char *model, *labels, *ref, *out, *out_all, *metric;
    const char *data[MAX_INPUTS];
    int n_data;
    long batch, limit, threads;
    double mean, std;
    bool has_mean, has_std, json;
    cli_inputs in;
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
        int took = cli_inputs_parse("eval", argc, argv, &i, &o->in);
        if (took > 1) return EXIT_USAGE;
        if (took) continue;
        if (a[0] != '-' || !a[1]) {
            if (o->model) return cli_usage_error("eval", "more than one MODEL given ('%s' and '%s')", o->model, a);
            o->model = a;
            continue;
        }
        static const char *const with_value[] = {"--data", "--labels", "--ref", "--out", "--batch", "--mean",
                                                 "--std", "--limit", "--threads", "--out-all", "--metric"};
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
        else if (strcmp(a, "--out-all") == 0) o->out_all = v;
        else if (strcmp(a, "--metric") == 0) o->metric = v;
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
    if (o->metric) {
        static const char *const metrics[] = {"top1", "agreement", "snr", "cosine", "mse"};
        bool known = false;
        for (size_t k = 0; k < sizeof metrics / sizeof *metrics; k++) known |= !strcmp(o->metric, metrics[k]);
        if (!known) return cli_usage_error("eval", "--metric must be top1, agreement, snr, cosine or mse, not '%s'", o->metric);
        if (!strcmp(o->metric, "top1") && !o->labels) return cli_usage_error("eval", "--metric top1 needs --labels");
        if (strcmp(o->metric, "top1") && !o->ref)
            return cli_usage_error("eval", "--metric %s compares with a reference model: give --ref", o->metric);
    }
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
    lc_array shapes[MAX_INPUTS]; /* dims[0] is filled per batch, except for feeds */
    int src[MAX_INPUTS];         /* --data index of each input, -1: fed */
    lc_executor *full, *rest;
    long full_batch, rest_batch;
} runner;

/* Plan input shapes: the model's declared dims where known, else the
 * data's sample dims (when the ranks agree). */
static int runner_open(runner *r, const char *path, lc_dataset *const *data, int n_data, const cli_inputs *in)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    lc_status s = lc_model_load(path, &r->model);
    if (s) return cli_fail_status(s);
    int rc = cli_inputs_apply(in, r->model, NULL);
    if (rc) return rc;
    lc_model_info info;
    if ((s = lc_model_info_compute(r->model, &info))) return cli_fail_status(s);
    int n_fed = 0;
    for (int i = 0; i < info.n_inputs; i++) n_fed += cli_inputs_feed(in, info.inputs[i].name) != NULL;
    if (info.n_inputs > MAX_INPUTS)
        rc = cli_error(EXIT_USAGE, "%s has %d inputs (at most %d)", path, info.n_inputs, MAX_INPUTS);
    else if (info.n_inputs - n_fed != n_data)
        rc = cli_error(EXIT_USAGE, "%s has %d input%s (%d fed by --feed) but %d --data given", path, info.n_inputs,
                       info.n_inputs == 1 ? "" : "s", n_fed, n_data);
    r->n_inputs = info.n_inputs;
    for (int i = 0, next = 0; i < info.n_inputs && !rc; i++) {
        const lc_value_summary *v = &info.inputs[i];
        lc_array *a = &r->shapes[i];
        const lc_tensor *feed = cli_inputs_feed(in, v->name);
        if (feed) {
            *a = (lc_array){lc_tensor_dtype(feed), lc_tensor_ndim(feed), {0}, lc_tensor_data(feed)};
            memcpy(a->dims, lc_tensor_dims(feed), (size_t)a->ndim * sizeof *a->dims);
            r->src[i] = -1;
            continue;
        }
        r->src[i] = next++;
        const int64_t *given;
        int given_ndim = cli_inputs_shape(in, v->name, &given);
        if (v->dtype != LC_DTYPE_FLOAT) {
            rc = cli_error(EXIT_USAGE, "%s: input '%s' is %s; eval feeds float32 data only", path, v->name,
                           lc_dtype_name(v->dtype));
            break;
        }
        const lc_dataset *d = data[r->src[i]];
        int nd = given_ndim >= 1 ? given_ndim - 1 : v->ndim > 0 ? v->ndim - 1 : v->ndim;
        const int64_t *want = given_ndim >= 1 ? given + 1 : v->ndim > 0 ? v->dims + 1 : NULL;
        if ((s = lc_dataset_check_shape(d, nd, want, v->name))) {
            rc = cli_fail_status(s);
            break;
        }
        a->dtype = LC_DTYPE_FLOAT;
        bool known = v->ndim >= 1;
        for (int k = 1; k < v->ndim; k++) known &= v->dims[k] >= 0;
        if (given_ndim >= 1) {
            a->ndim = given_ndim;
            memcpy(a->dims, given, (size_t)given_ndim * sizeof *given);
        } else if (known) {
            a->ndim = v->ndim;
            memcpy(a->dims, v->dims, sizeof a->dims);
        } else if (v->ndim < 0 || lc_dataset_sample_ndim(d) == v->ndim - 1) {
            a->ndim = lc_dataset_sample_ndim(d) + 1;
            memcpy(a->dims + 1, lc_dataset_sample_dims(d), (size_t)(a->ndim - 1) * sizeof(int64_t));
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
    for (int i = 0; i < r->n_inputs; i++)
        if (r->src[i] >= 0) r->shapes[i].dims[0] = batch;
    lc_status s = lc_executor_create(r->model, r->shapes, r->n_inputs, threads, ex);
    if (!s) *planned = batch;
    return s;
}

/* Runs samples [start, start+n) and returns the first output (borrowed)
 * and the executor that holds every output. */
static lc_status runner_run(runner *r, lc_dataset *const *data, int64_t start, long n, long full_batch, int threads,
                            lc_array *out, lc_executor **used)
{
    lc_executor **ex = n == full_batch ? &r->full : &r->rest;
    long *planned = n == full_batch ? &r->full_batch : &r->rest_batch;
    lc_status s = runner_plan(r, n, threads, ex, planned);
    if (s) return s;
    lc_array in[MAX_INPUTS];
    for (int i = 0; i < r->n_inputs; i++) {
        in[i] = r->shapes[i];
        if (r->src[i] < 0) continue; /* a --feed: the same value every run */
        in[i].dims[0] = n;
        in[i].data = lc_dataset_sample(data[r->src[i]], start);
    }
    if ((s = lc_executor_run(*ex, in, r->n_inputs))) return s;
    if (used) *used = *ex;
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
    eval_outputs outs = {0};
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
    if ((rc = runner_open(&model, o.model, data, o.n_data, &o.in))) goto done;
    for (int i = 0; i < o.n_data; i++) check_data_scale(data[i], o.has_mean, o.mean, o.std);
    if (o.labels) check_labels_range(o.labels, labels, n_labels, model.model);
    if (o.ref && (rc = runner_open(&ref, o.ref, data, o.n_data, &o.in))) goto done;

    long batch = o.batch < count ? o.batch : (long)count;
    int64_t correct = 0, agree = 0, per_out = 0;
    double sig = 0, noise = 0, ms = 0, cos_sum = 0;
    for (int64_t start = 0; start < count; start += batch) {
        long n = (long)(count - start < batch ? count - start : batch);
        lc_array out, rout;
        lc_executor *ex = NULL;
        double t0 = now_ms();
        if ((s = runner_run(&model, data, start, n, batch, (int)o.threads, &out, &ex))) goto fail;
        ms += now_ms() - t0;
        if (out.dtype != LC_DTYPE_FLOAT || out.ndim < 1 || out.dims[0] != n) {
            rc = cli_error(EXIT_USAGE, "%s: first output is not float32 with the batch as dim 0", o.model);
            goto done;
        }
        int64_t k = 1;
        for (int d = 1; d < out.ndim; d++) k *= out.dims[d];
        per_out = k;
        if ((o.out || o.out_all) &&
            (rc = eval_outputs_add(&outs, ex, 0, o.out_all ? lc_executor_output_count(ex) : 1, start, n, count)))
            goto done;
        const float *y = out.data;
        if (labels)
            for (long i = 0; i < n; i++) correct += k > 0 && argmax(y + i * k, k) == labels[start + i];
        if (o.ref) {
            /* the two executors own separate buffers: `y` stays valid */
            if ((s = runner_run(&ref, data, start, n, batch, (int)o.threads, &rout, NULL))) goto fail;
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
            for (long i = 0; i < n; i++) { /* cosine per sample; two zero vectors agree */
                double yy = 0, rr = 0, yr = 0;
                for (int64_t j = 0; j < k; j++) {
                    double a = y[i * k + j], b = r[i * k + j];
                    yy += a * a, rr += b * b, yr += a * b;
                }
                cos_sum += yy == 0 && rr == 0 ? 1.0 : yy == 0 || rr == 0 ? 0.0 : yr / sqrt(yy * rr);
            }
        }
    }
    if ((rc = eval_outputs_write(&outs, o.out, o.out_all))) goto done;
    double top1 = labels ? 100.0 * (double)correct / (double)count : NAN;
    double agreement = o.ref ? 100.0 * (double)agree / (double)count : NAN;
    double snr = o.ref ? (noise > 0 ? 10 * log10(sig / noise) : INFINITY) : NAN;
    double cosine = o.ref ? cos_sum / (double)count : NAN;
    double mse = o.ref && per_out > 0 ? noise / (double)(count * per_out) : NAN;
    const char *metric = o.metric ? o.metric : labels ? "top1" : o.ref ? "agreement" : NULL;
    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "samples", (double)count);
        if (labels) cJSON_AddNumberToObject(j, "top1", top1);
        if (o.ref) {
            cJSON_AddNumberToObject(j, "agreement", agreement);
            /* JSON has no infinity: identical outputs report null */
            if (isfinite(snr)) cJSON_AddNumberToObject(j, "snr_db", snr);
            else cJSON_AddNullToObject(j, "snr_db");
            cJSON_AddNumberToObject(j, "cosine", cosine);
            cJSON_AddNumberToObject(j, "mse", mse);
        }
        if (metric) cJSON_AddStringToObject(j, "metric", metric);
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
            printf("cosine         %.6f (mean per sample)\n", cosine);
            printf("mse            %.6g\n", mse);
        }
        if (metric) printf("metric         %s\n", metric);
        printf("time           %.4f ms/sample (%.0f samples/s, batch %ld, %ld thread%s)\n", ms / (double)count,
               ms > 0 ? 1000.0 * (double)count / ms : 0.0, batch, o.threads, o.threads == 1 ? "" : "s");
        if (o.out) printf("wrote          %s\n", o.out);
        if (o.out_all) printf("wrote          %d output%s into %s\n", outs.n, outs.n == 1 ? "" : "s", o.out_all);
    }
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail_status(s);
done:
    for (int i = 0; i < o.n_data; i++) lc_dataset_free(data[i]);
    free(labels);
    eval_outputs_free(&outs);
    cli_inputs_free(&o.in);
    runner_close(&model);
    runner_close(&ref);
    return rc;
}
