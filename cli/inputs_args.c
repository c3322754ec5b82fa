/* --feed and --input-shape (see inputs_args.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs_args.h"

#define USAGE_FAIL (EXIT_USAGE + 1000)

/* "NAME=VALUE": NAME copied into `name` (256 bytes), VALUE in place. */
static bool split_binding(const char *arg, char *name, const char **value)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1] || eq - arg >= 256) return false;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = 0;
    *value = eq + 1;
    return true;
}

static bool parse_dims(const char *text, int *ndim, int64_t *dims)
{
    *ndim = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || *ndim == LC_MAX_DIMS) return false;
        dims[(*ndim)++] = v;
        if (*end == 'x') {
            if (!end[1]) return false;
            p = end + 1;
        } else if (*end) {
            return false;
        } else {
            p = end;
        }
    }
    return *ndim > 0;
}

int cli_inputs_parse(const char *cmd, int argc, char **argv, int *i, cli_inputs *in)
{
    const char *a = argv[*i];
    bool feed = !strcmp(a, "--feed"), shape = !strcmp(a, "--input-shape");
    if (!feed && !shape) return 0;
    if (*i + 1 >= argc) return cli_usage_error(cmd, "option %s needs a value", a), USAGE_FAIL;
    const char *v = argv[++*i], *value;
    if ((feed ? in->n_feeds : in->n_shapes) == CLI_MAX_BINDINGS)
        return cli_usage_error(cmd, "at most %d %s options", CLI_MAX_BINDINGS, a), USAGE_FAIL;
    char *name = feed ? in->feed_name[in->n_feeds] : in->shape_name[in->n_shapes];
    if (!split_binding(v, name, &value))
        return cli_usage_error(cmd, "%s takes NAME=%s, not '%s'", a, feed ? "FILE.npy" : "D0xD1x...", v), USAGE_FAIL;
    if (feed) {
        in->feed_file[in->n_feeds++] = value;
        return 1;
    }
    int k = in->n_shapes;
    if (!parse_dims(value, &in->shape_ndim[k], in->shape_dims[k]))
        return cli_usage_error(cmd, "--input-shape %s: dims must be positive integers joined by 'x' (1x3x48x320)",
                               v), USAGE_FAIL;
    in->n_shapes++;
    return 1;
}

int cli_inputs_apply(const cli_inputs *cin, const lc_model *m, lc_context *ctx)
{
    cli_inputs *in = (cli_inputs *)cin;
    lc_model_info info;
    lc_status s = lc_model_info_compute(m, &info);
    if (s) return cli_fail_status(s);
    int rc = EXIT_OK;
    lc_context *check = ctx;
    if (!check && (s = lc_context_create(&check))) rc = cli_fail_status(s);
    for (int k = 0; k < in->n_feeds && !rc; k++) {
        int dtype = -1;
        for (int i = 0; i < info.n_inputs; i++)
            if (!strcmp(info.inputs[i].name, in->feed_name[k])) dtype = info.inputs[i].dtype;
        if (dtype < 0) {
            char names[512] = "";
            size_t at = 0;
            for (int i = 0; i < info.n_inputs && at + 4 < sizeof names; i++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s'%s'", i ? ", " : "", info.inputs[i].name);
            rc = cli_error(EXIT_USAGE, "--feed %s: the model has no input '%s' (its inputs: %s)", in->feed_name[k],
                           in->feed_name[k], names);
            break;
        }
        if (!in->feed[k] && (s = lc_npy_load(in->feed_file[k], dtype, &in->feed[k]))) {
            rc = cli_fail_status(s);
            break;
        }
        const lc_tensor *t = in->feed[k];
        lc_array a = {lc_tensor_dtype(t), lc_tensor_ndim(t), {0}, lc_tensor_data(t)};
        memcpy(a.dims, lc_tensor_dims(t), (size_t)a.ndim * sizeof *a.dims);
        if ((s = lc_context_set_feed(check, in->feed_name[k], &a))) rc = cli_fail_status(s);
    }
    for (int k = 0; k < in->n_shapes && !rc; k++)
        if ((s = lc_context_set_input_shape(check, in->shape_name[k], in->shape_ndim[k], in->shape_dims[k])))
            rc = cli_fail_status(s);
    if (!rc && (s = lc_context_check_inputs(check, m))) rc = cli_fail_status(s);
    if (check != ctx) lc_context_free(check);
    lc_model_info_clear(&info);
    return rc;
}

int cli_inputs_bind_data(const cli_inputs *in, const lc_model *m, lc_context *ctx, const lc_dataset *d)
{
    if (!d) return EXIT_OK;
    lc_model_info info;
    lc_status s = lc_model_info_compute(m, &info);
    if (s) return cli_fail_status(s);
    const lc_value_summary *v = NULL;
    int open = 0;
    for (int i = 0; i < info.n_inputs; i++)
        if (!cli_inputs_feed(in, info.inputs[i].name)) v = &info.inputs[i], open++;
    const int64_t *given;
    bool symbolic = false;
    for (int k = 1; v && k < v->ndim; k++) symbolic |= v->dims[k] < 0;
    int rc = EXIT_OK;
    if (open == 1 && symbolic && cli_inputs_shape(in, v->name, &given) < 0 &&
        lc_dataset_sample_ndim(d) == v->ndim - 1) {
        int64_t dims[LC_MAX_DIMS] = {1};
        memcpy(dims + 1, lc_dataset_sample_dims(d), (size_t)(v->ndim - 1) * sizeof *dims);
        for (int k = 1; k < v->ndim; k++)
            if (v->dims[k] >= 0 && v->dims[k] != dims[k]) symbolic = false; /* the data does not fit: the run says so */
        if (symbolic && (s = lc_context_set_input_shape(ctx, v->name, v->ndim, dims))) rc = cli_fail_status(s);
    }
    lc_model_info_clear(&info);
    return rc;
}

const lc_tensor *cli_inputs_feed(const cli_inputs *in, const char *name)
{
    for (int k = 0; k < in->n_feeds; k++)
        if (!strcmp(in->feed_name[k], name)) return in->feed[k];
    return NULL;
}

int cli_inputs_shape(const cli_inputs *in, const char *name, const int64_t **dims)
{
    for (int k = in->n_shapes - 1; k >= 0; k--)
        if (!strcmp(in->shape_name[k], name)) {
            *dims = in->shape_dims[k];
            return in->shape_ndim[k];
        }
    return -1;
}

void cli_inputs_free(cli_inputs *in)
{
    for (int k = 0; k < in->n_feeds; k++) lc_tensor_free(in->feed[k]);
    memset(in, 0, sizeof *in);
}
