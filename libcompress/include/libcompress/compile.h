/*
 * libcompress/compile.h - freestanding C for a microcontroller (`shrink compile`).
 * Part of the public API: include <libcompress.h>, which includes this file; never include it directly.
 *
 * lc_model_compile lowers a model to calls into the micro/ runtime (a
 * freestanding C99 library: no malloc, no stdio) and writes a folder that
 * builds on its own:
 *
 *     DIR/NAME.h     NAME_ARENA_BYTES, NAME_INPUT_COUNT, NAME_OUTPUT_COUNT,
 *                    int NAME_run(const float *input, float *output, void *arena);
 *     DIR/NAME.c     the weights as static const arrays, still in their
 *                    compressed encodings, and NAME_run
 *     DIR/mc*.{h,c}  the runtime sources the model uses
 *     DIR/NAME.json  arena and weight bytes
 *
 * BatchNormalization and activations are folded into the producing Conv/
 * Gemm on the host; QDQ models from quantize-int8 run on int8 kernels with
 * fixed-point requantization; the arena is planned by liveness.
 */
#ifndef LIBCOMPRESS_COMPILE_H
#define LIBCOMPRESS_COMPILE_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/compile.h>"
#endif

/** What lc_model_compile produced. */
typedef struct lc_compile_info {
    size_t arena_bytes;    /* NAME_ARENA_BYTES */
    int64_t input_count;   /* NAME_INPUT_COUNT */
    int64_t output_count;  /* NAME_OUTPUT_COUNT */
    size_t weight_bytes;   /* bytes of the weight data in NAME.c (flash) */
    int int8;              /* 1 when integer kernels are used */
    int steps;             /* kernel calls in NAME_run */
} lc_compile_info;

/** Compiles `m` (single float input, static shapes; a symbolic leading
 *  dim is taken as batch 1) into the folder `dir`, which must not exist or
 *  be empty: it is built in a temporary folder beside it and renamed into
 *  place, so nothing is left behind on failure. `name` (a C identifier)
 *  prefixes every generated symbol. `info` may be NULL.
 *  Returns LC_ERR_UNSUPPORTED naming the node and op for anything micro/
 *  cannot run (and for several inputs), LC_ERR_SHAPE naming the input for
 *  a symbolic dim, LC_ERR_INVALID_ARGUMENT for a bad name, LC_ERR_IO,
 *  LC_ERR_NO_MEMORY. Thread-safe for distinct folders. */
lc_status lc_model_compile(const lc_model *m, const char *name, const char *dir, lc_compile_info *info);

#endif /* LIBCOMPRESS_COMPILE_H */
