/* Fuzz target for the ONNX loader and the executor's planner. A model that
 * loads is written back (what `shrink run -o x.onnx` does), then planned
 * with small fixed input shapes and, when its buffers are small, run once
 * on zeros: hostile models crash inference libraries in shape inference
 * and kernels, not only in the protobuf parser. Any input must give a
 * clean error or a clean result: never a crash, leak or undefined
 * behaviour. Built with libFuzzer when LC_FUZZ=ON (clang); the plain
 * build links fuzz_main.c, which replays files (the regression inputs). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "lc_exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    MAX_DIM = 8,               /* each input dim is clamped to 1..MAX_DIM */
    MAX_INPUT_NUMEL = 4096,    /* and an input to this many elements */
    MAX_RUN_BYTES = 1 << 22    /* run only plans with small buffers */
};

/* Small concrete shapes for the graph's real inputs: declared dims when
 * in 1..MAX_DIM, else 1 (also for symbolic and unknown dims); rank 2 when
 * the rank is unknown. Returns the count, or -1 if an input is not a
 * tensor. */
static int input_shapes(const lc_model *m, lc_array *shapes, int cap)
{
    const lc_graph *g = m->graph;
    int n = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const lc_value_info *vi = &g->inputs[i];
        if (lc_graph_init(g, vi->name)) continue;
        if (n >= cap || vi->type.kind != LC_TYPE_TENSOR) return -1;
        lc_array *a = &shapes[n++];
        memset(a, 0, sizeof *a);
        a->dtype = vi->type.elem_type ? vi->type.elem_type : LC_DTYPE_FLOAT;
        a->ndim = vi->type.has_shape ? vi->type.ndim : 2;
        if (a->ndim > LC_MAX_DIMS) return -1;
        int64_t numel = 1;
        for (int d = 0; d < a->ndim; d++) {
            int64_t v = 1;
            if (vi->type.has_shape && vi->type.dims[d].kind == LC_DIM_VALUE && vi->type.dims[d].value >= 1 &&
                vi->type.dims[d].value <= MAX_DIM)
                v = vi->type.dims[d].value;
            if (numel * v > MAX_INPUT_NUMEL) v = 1;
            a->dims[d] = v;
            numel *= v;
        }
    }
    return n;
}

static void run_zeros(lc_executor *ex)
{
    int n = lc_executor_input_count(ex);
    lc_array in[16];
    void *bufs[16] = {0};
    if (n > 16) return;
    for (int i = 0; i < n; i++) {
        if (lc_executor_input(ex, i, &in[i], NULL) != LC_OK) goto done;
        size_t es = lc_dtype_size(in[i].dtype);
        int64_t numel = lc_shape_numel(in[i].ndim, in[i].dims, es);
        if (!es || numel < 0) goto done;
        bufs[i] = calloc((size_t)numel + 1, es);
        if (!bufs[i]) goto done;
        in[i].data = bufs[i];
    }
    if (lc_executor_run(ex, in, n) == LC_OK) {
        for (int i = 0; i < lc_executor_output_count(ex); i++) {
            lc_array out;
            if (lc_executor_output(ex, i, &out, NULL) != LC_OK) abort();
        }
    }
done:
    for (int i = 0; i < n; i++) free(bufs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_model *m = NULL;
    if (lc_model_load_onnx_buffer(data, size, NULL, "fuzz.onnx", &m) != LC_OK) return 0;
    void *buf = NULL;
    size_t len = 0;
    if (lc_model_save_onnx_buffer(m, &buf, &len) == LC_OK) {
        size_t sized = 0;
        /* the size-only path must agree with what is written */
        if (lc_model_onnx_size(m, &sized) != LC_OK || sized != len) abort();
        free(buf);
    }
    lc_array shapes[16];
    int n = input_shapes(m, shapes, 16);
    lc_executor *ex = NULL;
    if (n >= 0 && lc_executor_create(m, shapes, n, 1, &ex) == LC_OK) {
        if (lc_executor_buffer_bytes(ex) <= MAX_RUN_BYTES) run_zeros(ex);
        lc_executor_free(ex);
    }
    lc_model_free(m);
    return 0;
}
