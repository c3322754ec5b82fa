/* shrink info MODEL [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"

void cmd_info_help(void)
{
    printf("usage: shrink info MODEL [--json]\n"
           "\n"
           "Shows what a model holds: IR version, opsets, producer, graph inputs and\n"
           "outputs, an op histogram (all graphs), and one row per layer that holds\n"
           "stored tensors (initializers or Constant values): the layer's largest\n"
           "tensor's shape and dtype, its parameters and bytes. Each stored tensor\n"
           "counts once, for the first node that reads it.\n"
           "\n"
           "  MODEL    an .onnx or .lcm file (.lcm: each layer's encoding, bits,\n"
           "           sparsity and bytes as stored)\n"
           "  --json   print one JSON object with the keys ir_version, opsets, producer,\n"
           "           inputs, outputs, nodes, params, bytes, ops, layers, weight_targets (the weights\n"
           "           the passes compress by default, subgraphs and LSTM/GRU/RNN W and R included)\n");
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *dims, const char *const *params)
{
    size_t used = 0;
    buf[0] = 0;
    if (ndim < 0) {
        snprintf(buf, n, "?");
        return;
    }
    for (int i = 0; i < ndim && used + 24 < n; i++) {
        const char *sep = i ? "x" : "";
        if (dims[i] >= 0) used += (size_t)snprintf(buf + used, n - used, "%s%lld", sep, (long long)dims[i]);
        else used += (size_t)snprintf(buf + used, n - used, "%s%s", sep, params && params[i] ? params[i] : "?");
    }
    if (ndim == 0) snprintf(buf, n, "scalar");
}

static cJSON *shape_json(int ndim, const int64_t *dims, const char *const *params)
{
    if (ndim < 0) return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < ndim; i++) {
        if (dims[i] >= 0) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)dims[i]));
        else if (params && params[i]) cJSON_AddItemToArray(a, cJSON_CreateString(params[i]));
        else cJSON_AddItemToArray(a, cJSON_CreateNull());
    }
    return a;
}

static cJSON *values_json(const lc_value_summary *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v[i].name);
        cJSON_AddStringToObject(o, "dtype", lc_dtype_name(v[i].dtype));
        cJSON_AddItemToObject(o, "shape", shape_json(v[i].ndim, v[i].dims, v[i].dim_params));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static const char *layer_name(const lc_layer_summary *L, char *buf, size_t n)
{
    if (*L->name) return L->name;
    snprintf(buf, n, "%s_%d", L->op, L->node);
    return buf;
}

static bool is_recurrent(const char *op) { return !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN"); }

/* The weights the passes compress by default (lc_model_weight): the text
 * summary line, or one JSON row each when `arr` is given. */
static void weight_targets(const lc_model *m, cJSON *arr)
{
    int n = 0, nested = 0, rec = 0;
    int64_t params = 0;
    if (lc_model_weight_count(m, &n)) return;
    for (int i = 0; i < n; i++) {
        lc_weight_info w;
        if (lc_model_weight(m, i, &w)) return;
        nested += w.node_index < 0;
        rec += is_recurrent(w.op);
        params += w.numel;
        if (!arr) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "weight", w.name);
        cJSON_AddStringToObject(o, "node", w.node);
        cJSON_AddStringToObject(o, "op", w.op);
        cJSON_AddBoolToObject(o, "subgraph", w.node_index < 0);
        cJSON_AddNumberToObject(o, "params", (double)w.numel);
        cJSON_AddItemToArray(arr, o);
    }
    if (!arr)
        printf("weight targets: %d tensors, %lld params (%d in subgraphs, %d recurrent W/R)\n", n, (long long)params,
               nested, rec);
}

static int print_json(const lc_model_info *info, const lc_model *m)
{
    cJSON *o = cJSON_CreateObject();
    char name[64];
    cJSON_AddNumberToObject(o, "ir_version", (double)info->ir_version);
    cJSON *ops = cJSON_AddObjectToObject(o, "opsets");
    for (int i = 0; i < info->n_opsets; i++)
        cJSON_AddNumberToObject(ops, *info->opsets[i].domain ? info->opsets[i].domain : "ai.onnx",
                                (double)info->opsets[i].version);
    cJSON_AddStringToObject(o, "producer", info->producer);
    cJSON_AddItemToObject(o, "inputs", values_json(info->inputs, info->n_inputs));
    cJSON_AddItemToObject(o, "outputs", values_json(info->outputs, info->n_outputs));
    cJSON_AddNumberToObject(o, "nodes", info->nodes);
    cJSON_AddNumberToObject(o, "params", (double)info->params);
    cJSON_AddNumberToObject(o, "bytes", (double)info->bytes);
    cJSON *hist = cJSON_AddObjectToObject(o, "ops");
    for (int i = 0; i < info->n_ops; i++) cJSON_AddNumberToObject(hist, info->ops[i].op, info->ops[i].count);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; i < info->n_layers; i++) {
        const lc_layer_summary *L = &info->layers[i];
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", layer_name(L, name, sizeof name));
        cJSON_AddStringToObject(l, "op", L->op);
        cJSON_AddStringToObject(l, "weight", L->weight);
        cJSON_AddItemToObject(l, "shape", shape_json(L->ndim, L->dims, NULL));
        cJSON_AddNumberToObject(l, "params", (double)L->params);
        cJSON_AddNumberToObject(l, "bytes", (double)L->bytes);
        cJSON_AddStringToObject(l, "dtype", lc_dtype_name(L->dtype));
        cJSON_AddItemToArray(layers, l);
    }
    weight_targets(m, cJSON_AddArrayToObject(o, "weight_targets"));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) {
        fprintf(stderr, "shrink: error: out of memory\n");
        return EXIT_INTERNAL;
    }
    puts(s);
    free(s);
    return EXIT_OK;
}

static void human_bytes(char *buf, size_t n, int64_t b)
{
    if (b < 1024) snprintf(buf, n, "%lld B", (long long)b);
    else if (b < 1024 * 1024) snprintf(buf, n, "%.1f KiB", b / 1024.0);
    else snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024.0));
}

/* A layer name in 30 columns: a long one keeps its tail. */
static void print_name(const char *s)
{
    size_t n = strlen(s);
    if (n <= 30) printf("%-30s", s);
    else printf("...%s", s + n - 27);
}

/* How each layer weight is stored (what an .lcm file holds): encoding,
 * bits, sparsity and its bytes in the .lcm file. */
static void print_stored(const lc_model *m, int64_t file_bytes)
{
    char *json = NULL;
    if (lc_model_report(m, &json)) return;
    cJSON *r = cJSON_Parse(json), *w;
    free(json);
    printf("\nas stored in .lcm:\n%-30s %-9s %4s %8s %7s %11s %11s\n", "weight", "encoding", "bits", "sparsity", "huffman",
           "params", "lcm bytes");
    double total = 0;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(r, "weights"))
    {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(w, "node"), *name = cJSON_GetObjectItemCaseSensitive(w, "name");
        print_name(cJSON_IsString(node) && *node->valuestring ? node->valuestring
                   : cJSON_IsString(name)                     ? name->valuestring : "");
        const cJSON *enc = cJSON_GetObjectItemCaseSensitive(w, "encoding");
        double lb = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "lcm_bytes"));
        printf(" %-9s %4.0f %7.1f%% %7s %11.0f %11.0f\n", cJSON_IsString(enc) ? enc->valuestring : "?",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "bits")),
               100 * cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "sparsity")),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "entropy_coded")) ? "yes" : "no",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "params")), lb);
        total += lb;
    }
    printf("%-30s %-9s %4s %8s %7s %11s %11.0f\n", "layer weights", "", "", "", "", "", total);
    if (file_bytes > 0)
        printf("%-30s %-9s %4s %8s %7s %11s %11.0f\n", "the file (with graph, META...)", "", "", "", "", "",
               (double)file_bytes);
    cJSON_Delete(r);
}

static void print_text(const char *path, const lc_model_info *info)
{
    char buf[256], name[64];
    printf("model     %s\n", path);
    printf("ir        %lld\n", (long long)info->ir_version);
    printf("opsets   ");
    for (int i = 0; i < info->n_opsets; i++)
        printf(" %s %lld", *info->opsets[i].domain ? info->opsets[i].domain : "ai.onnx", (long long)info->opsets[i].version);
    printf("\nproducer  %s\n", *info->producer ? info->producer : "(none)");
    for (int k = 0; k < 2; k++) {
        const lc_value_summary *v = k ? info->outputs : info->inputs;
        int n = k ? info->n_outputs : info->n_inputs;
        for (int i = 0; i < n; i++) {
            shape_str(buf, sizeof buf, v[i].ndim, v[i].dims, v[i].dim_params);
            printf("%-9s %s: %s [%s]\n", i ? "" : (k ? "outputs" : "inputs"), v[i].name, lc_dtype_name(v[i].dtype), buf);
        }
    }
    printf("ops      ");
    for (int i = 0; i < info->n_ops; i++) printf(" %s %d%s", info->ops[i].op, info->ops[i].count, i + 1 < info->n_ops ? "," : "");
    printf("\n\n%-30s %-14s %-14s %11s %11s  %s\n", "layer", "op", "shape", "params", "bytes", "dtype");
    int64_t lp = 0, lb = 0;
    for (int i = 0; i < info->n_layers; i++) {
        const lc_layer_summary *L = &info->layers[i];
        shape_str(buf, sizeof buf, L->ndim, L->dims, NULL);
        print_name(layer_name(L, name, sizeof name));
        printf(" %-14s %-14s %11lld %11lld  %s\n", L->op, buf, (long long)L->params, (long long)L->bytes,
               lc_dtype_name(L->dtype));
        lp += L->params;
        lb += L->bytes;
    }
    if (lp != info->params)
        printf("%-30s %-14s %-14s %11lld %11lld\n", "(unused tensors)", "", "", (long long)(info->params - lp),
               (long long)(info->bytes - lb));
    human_bytes(buf, sizeof buf, info->bytes);
    printf("%-30s %-14s %-14s %11lld %11lld  (%s)\n", "total", "", "", (long long)info->params, (long long)info->bytes, buf);
    printf("%d nodes, %d layers with parameters\n", info->nodes, info->n_layers);
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            static const char *const opts[] = {"--json"};
            return cli_unknown_option("info", argv[i], opts, 1);
        }
        else if (path) return cli_usage_error("info", "more than one MODEL given ('%s' and '%s')", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return cli_usage_error("info", "missing MODEL");
    lc_model *m = NULL;
    lc_status s = lc_model_load(path, &m);
    if (s) return cli_fail_status(s);
    lc_model_info info;
    s = lc_model_info_compute(m, &info);
    int rc;
    if (s) rc = cli_fail_status(s);
    else {
        if (json) rc = print_json(&info, m);
        else {
            print_text(path, &info);
            weight_targets(m, NULL);
            size_t n = strlen(path);
            struct stat st;
            if (n > 4 && !strcmp(path + n - 4, ".lcm")) print_stored(m, stat(path, &st) == 0 ? (int64_t)st.st_size : 0);
            rc = EXIT_OK;
        }
        lc_model_info_clear(&info);
    }
    lc_model_free(m);
    return rc;
}
