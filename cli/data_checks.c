/* Data sanity warnings (see data_checks.h). */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "data_checks.h"

void check_data_scale(const lc_dataset *d, bool has_mean, double mean, double std)
{
    const char *path = lc_dataset_path(d);
    if (lc_dataset_file_dtype(d) == LC_DTYPE_UINT8) {
        if (!has_mean)
            cli_warn("%s: uint8 data is scaled to 0..1 and not normalised (no --mean/--std): if the model was "
                     "trained on normalised inputs, give them (in 0..1 units, e.g. --mean 0.286 --std 0.353)",
                     path);
        else if (mean > 1 || std > 1)
            cli_warn("%s: --mean %g --std %g look like pixel units (0..255), but uint8 data is scaled to 0..1 "
                     "first: give them in 0..1 units (e.g. %g and %g)",
                     path, mean, std, mean / 255, std / 255);
        return;
    }
    if (!has_mean) return;
    /* the values before (x - mean) / std: raw = x * std + mean */
    int64_t n = lc_dataset_count(d), per = lc_dataset_sample_numel(d);
    if (n > 64) n = 64;
    double lo = INFINITY;
    for (int64_t i = 0; i < n; i++) {
        const float *x = lc_dataset_sample(d, i);
        for (int64_t k = 0; x && k < per; k++) lo = fmin(lo, x[k] * std + mean);
    }
    if (lo < -0.05)
        cli_warn("%s: the data has negative values (down to %.2f), so it looks normalised already, and --mean %g "
                 "--std %g normalise it again",
                 path, lo, mean, std);
}

void check_labels_range(const char *labels_path, const int64_t *labels, int64_t n, const lc_model *m)
{
    lc_model_info info;
    if (!labels || lc_model_info_compute(m, &info)) return;
    int64_t classes = 0;
    if (info.n_outputs > 0 && info.outputs[0].ndim >= 2) {
        classes = 1;
        for (int i = 1; i < info.outputs[0].ndim; i++) classes *= info.outputs[0].dims[i] > 0 ? info.outputs[0].dims[i] : 1;
    }
    lc_model_info_clear(&info);
    if (classes < 2) return;
    int64_t lo = INT64_MAX, hi = INT64_MIN, out = 0;
    for (int64_t i = 0; i < n; i++) {
        lo = labels[i] < lo ? labels[i] : lo;
        hi = labels[i] > hi ? labels[i] : hi;
        out += labels[i] >= classes;
    }
    if (out)
        cli_warn("%s: %lld of %lld labels are outside 0..%lld, the classes of the model's output (labels run "
                 "%lld..%lld%s): accuracy will be wrong",
                 labels_path, (long long)out, (long long)n, (long long)classes - 1, (long long)lo, (long long)hi,
                 lo == 1 && hi == classes ? "; numbered from 1?" : "");
}
