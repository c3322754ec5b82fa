#include <stdio.h>
#include <libcompress.h>

// Prunes a model's layer weights to 80% sparsity, shares the survivors'
// values through 16-entry codebooks, prints what each weight became and
// writes the compact .lcm file.
int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.onnx OUT.lcm\n", argv[0]);
        return 2;
    }
    lc_model *m = NULL;
    int n = 0;
    lc_status s = lc_model_load(argv[1], &m);
    if (s == LC_OK) s = lc_pass_run(m, "prune-magnitude", "sparsity=0.8,scope=layer", NULL);
    if (s == LC_OK) s = lc_pass_run(m, "quantize-kmeans", "bits=4", NULL);
    if (s == LC_OK) s = lc_model_weight_count(m, &n);
    for (int i = 0; i < n && s == LC_OK; i++) {
        lc_weight_info w;
        s = lc_model_weight(m, i, &w);
        if (s == LC_OK)
            printf("%s: %lld weights, sparsity %.4f, %d-bit codes\n", w.name,
                   (long long)w.numel, w.sparsity, w.bits);
    }
    if (s == LC_OK) s = lc_model_save_lcm(m, argv[2], NULL);
    if (s != LC_OK)
        fprintf(stderr, "error: %s (%s)\n", lc_last_error(), lc_status_name(s));
    lc_model_free(m);
    return s == LC_OK ? 0 : 1;
}
