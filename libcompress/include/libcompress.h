/*
 * libcompress.h - the public API of shrink's compression library.
 *
 * Overview
 * --------
 * libcompress compresses trained neural networks for small devices. It loads
 * an ONNX model (or its own compact .lcm file) into one in-memory model
 * (lc_model), lets compression passes rewrite it in place (pruning,
 * quantization, codebooks, binarization, entropy coding), runs it with a
 * reference executor to measure accuracy, and writes it back as ONNX or as
 * the compact .lcm format.
 *
 *   lc_model      a model: graph plus weights. Each float32 weight has a
 *                 float view (what the executor computes with) and may carry
 *                 an encoding (mask, codes, codebooks) that decodes to that
 *                 float view bit for bit. See "Weights" below.
 *   lc_pass_run   runs one pass ("prune-magnitude", "quantize-kmeans", ...;
 *                 lc_pass_count/lc_pass_describe list them and their
 *                 parameters) on a model.
 *   lc_pipeline   runs a recipe of passes on a copy of a model, validating
 *                 after each against an accuracy budget, and reports.
 *   lc_executor   runs a model on input arrays (lc_dataset loads .npy, IDX
 *                 and raw data).
 *   lc_weight_*   read and write one weight's float view, mask and codes,
 *                 e.g. from a training loop (prune, fine-tune, write back).
 *
 * Conventions
 * -----------
 *  - every fallible function returns an lc_status: LC_OK (0) or a negative
 *    error kind; results come back through out-parameters, which are set to
 *    NULL (or 0) on failure;
 *  - on failure a one-line message with context (file, node, tensor) is
 *    available from lc_last_error(): valid until the thread's next
 *    libcompress call, which may replace it;
 *  - the library never prints, exits or aborts on bad input;
 *  - ownership: every object returned through `**out` is owned by the
 *    caller and has exactly one destructor (`_free`, which accepts NULL);
 *    `const` pointers and strings returned by getters are borrowed and live
 *    as long as their owner; text returned through `char **` is malloc'ed
 *    and released with free(); caller buffers are only read or written
 *    during the call;
 *  - thread-safety, unless a function says otherwise: functions without an
 *    object argument are thread-safe; distinct objects may be used from
 *    distinct threads at once; one object may be read (const arguments)
 *    from several threads at once but must not be modified while another
 *    thread uses it;
 *  - versions: LC_VERSION_* give the header's version, lc_version() and
 *    lc_version_number() the linked library's. The values of every public
 *    enum (status, dtype, encoding kind, format, .lcm accounting) are
 *    stable; new ones are only appended. Changes to the stable API are
 *    listed in the README ("C API changes in 0.2", ...);
 *  - experimental tier: what may still change (parsing sizes, writing
 *    .npy, the .lcm byte accounting, the array-level API, sensitivity
 *    jobs) is declared only when the including code defines
 *    LC_EXPERIMENTAL before the include (libcompress/experimental.h and
 *    libcompress/jobs.h).
 *
 * The declarations live in topical headers under libcompress/, which this
 * file includes and which are installed with it: status.h (status, dtypes,
 * tensors), model.h (models, atomic writes, summaries), executor.h,
 * dataset.h, passes.h (context and passes), weights.h, pipeline.h
 * (pipeline and sensitivity), lcm.h, experimental.h and jobs.h. Include only
 * <libcompress.h>.
 *
 * Example
 * -------
 * Prune, share weights, inspect, write .lcm (tests/capi_example.c; the test
 * suite builds and runs this exact code):
 *
 *     #include <stdio.h>
 *     #include <libcompress.h>
 *
 *     // Prunes a model's layer weights to 80% sparsity, shares the survivors'
 *     // values through 16-entry codebooks, prints what each weight became and
 *     // writes the compact .lcm file.
 *     int main(int argc, char **argv)
 *     {
 *         if (argc != 3) {
 *             fprintf(stderr, "usage: %s IN.onnx OUT.lcm\n", argv[0]);
 *             return 2;
 *         }
 *         lc_model *m = NULL;
 *         int n = 0;
 *         lc_status s = lc_model_load(argv[1], &m);
 *         if (s == LC_OK) s = lc_pass_run(m, "prune-magnitude", "sparsity=0.8,scope=layer", NULL);
 *         if (s == LC_OK) s = lc_pass_run(m, "quantize-kmeans", "bits=4", NULL);
 *         if (s == LC_OK) s = lc_model_weight_count(m, &n);
 *         for (int i = 0; i < n && s == LC_OK; i++) {
 *             lc_weight_info w;
 *             s = lc_model_weight(m, i, &w);
 *             if (s == LC_OK)
 *                 printf("%s: %lld weights, sparsity %.4f, %d-bit codes\n", w.name,
 *                        (long long)w.numel, w.sparsity, w.bits);
 *         }
 *         if (s == LC_OK) s = lc_model_save_lcm(m, argv[2], NULL);
 *         if (s != LC_OK)
 *             fprintf(stderr, "error: %s (%s)\n", lc_last_error(), lc_status_name(s));
 *         lc_model_free(m);
 *         return s == LC_OK ? 0 : 1;
 *     }
 *
 * Build against the installed library with
 *     cc app.c $(pkg-config --cflags --libs libcompress)
 * (statically: link libcompress.a and `pkg-config --static --libs
 * libcompress` minus -lcompress), or in CMake with
 *     find_package(libcompress 0.2 REQUIRED)
 *     target_link_libraries(app PRIVATE libcompress::libcompress)
 * (libcompress::libcompress_static for the static library).
 */
#ifndef LIBCOMPRESS_H
#define LIBCOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shared library is built with hidden symbol visibility and exports
 * exactly the functions this header and its parts declare: everything
 * between this push and the pop at the end of the file. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#define LC_VERSION_MAJOR 0
#define LC_VERSION_MINOR 2
#define LC_VERSION_PATCH 0
#define LC_VERSION_STRING "0.2.0"
/** One number for comparisons: MAJOR * 10000 + MINOR * 100 + PATCH
 *  (e.g. `#if LC_VERSION_NUMBER >= 200` for 0.2.0 or later). */
#define LC_VERSION_NUMBER (LC_VERSION_MAJOR * 10000 + LC_VERSION_MINOR * 100 + LC_VERSION_PATCH)

/** The linked library's version as "MAJOR.MINOR.PATCH" (may differ from
 *  the header's LC_VERSION_STRING when linked against another build).
 *  Static string, never NULL. Thread-safe. */
const char *lc_version(void);

/** The linked library's LC_VERSION_NUMBER (MAJOR * 10000 + MINOR * 100 +
 *  PATCH), for comparisons at run time. Never fails. Thread-safe. */
int lc_version_number(void);

#include <libcompress/status.h>
#include <libcompress/model.h>
#include <libcompress/executor.h>
#include <libcompress/dataset.h>
#include <libcompress/passes.h>
#include <libcompress/weights.h>
#include <libcompress/pipeline.h>
#include <libcompress/lcm.h>
#include <libcompress/upgrade.h>
#include <libcompress/inputs.h>
#include <libcompress/metrics.h>
#include <libcompress/compile.h>
#ifdef LC_EXPERIMENTAL
#include <libcompress/experimental.h>
#include <libcompress/jobs.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
