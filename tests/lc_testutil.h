/* Helpers shared by the Check suites: a deterministic random stream, and
 * values, nodes and attributes built by hand for kernel and executor tests.
 * Test code only (linked into every Check suite, never into the library). */
#ifndef LC_TESTUTIL_H
#define LC_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "lc_exec.h"
#include "lc_ir.h"

/* ---- deterministic random numbers (xorshift64; each Check test runs in
 * its own process, so every test starts from the same state) ---- */

/* Restarts the stream at `seed` (nonzero). */
void rnd_seed(uint64_t seed);
/* 32 random bits. */
uint32_t rnd(void);
/* A uniform integer in [lo, hi] (inclusive; hi - lo < 2^32). */
int64_t rnd_int(int64_t lo, int64_t hi);
/* A float in [-1, 1] on a 1e-4 grid. */
float rnd_float(void);
/* A float in [lo, hi) with 24 random bits. */
float rnd_range(float lo, float hi);
/* A double in [-1, 1) with 53 random bits. */
double rnd_double(void);
/* A malloc'ed array of n rnd_float() values (the caller frees it). */
float *rnd_array(int64_t n);
/* n random non-negative (image-like) 1x28x28 samples from `seed`: *data
 * (malloc'ed, free it after the dataset) holds them. */
lc_dataset *random_images(int64_t n, uint64_t seed, float **data);

/* ---- models ---- */

/* The zoo model `file` (e.g. "lenet5.onnx") from $LC_SOURCE_DIR/benchmarks/zoo;
 * fails the test when it does not load. */
lc_model *load_zoo(const char *file);

/* Whether every stored tensor (initializer) of a's main graph equals b's
 * of the same name, bit for bit (and they have as many). */
bool inits_equal(const lc_model *a, const lc_model *b);

/* Index of the k-th (0-based) node of type op in m's main graph (the test
 * fails if there is none). */
int nth_node(const lc_model *m, const char *op, int k);

/* An empty model (IR 8, default-domain opset `opset`, no nodes) whose main
 * graph is named `name`. */
lc_model *empty_model(const char *name, int64_t opset);

/* ---- attributes added to a node (owned by the node) ---- */

/* Appends an empty attribute `name` of `type` to `n` and returns it. */
lc_attr *add_attr(lc_node *n, const char *name, int type);
void attr_int(lc_node *n, const char *name, int64_t v);
void attr_ints(lc_node *n, const char *name, int cnt, const int64_t *v);
void attr_float(lc_node *n, const char *name, float v);
void attr_string(lc_node *n, const char *name, const char *v);

/* ---- borrowed values and attributes for calling a kernel directly ---- */

/* A constant value viewing `data` (not copied) of `dtype` and shape. */
lc_value mkval(const char *name, int dtype, int ndim, const int64_t *dims, void *data);
/* Attributes by value; `name` and `s` are borrowed. */
lc_attr make_attr_int(const char *name, int64_t i);
lc_attr make_attr_float(const char *name, float f);
lc_attr make_attr_string(const char *name, const char *s);

/* ---- observing a run ---- */

/* What node `node`'s first input held over a run, batch after batch, and
 * how many times the observer was called (for any node). dims: the last
 * batch's shape with dims[0] the samples of all batches. Free v. */
typedef struct seen_input {
    int node;
    float *v;
    int64_t n, cap;
    int calls;
    int ndim;
    int64_t dims[LC_MAX_DIMS];
} seen_input;

/* An lc_observer (user: a seen_input) that records it. */
lc_status record_input(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                       int n_out, const lc_value *const *out);

/* Runs every test of `s` (and frees it): 0 when all pass, else 1, for
 * main's return. */
int run_suite(Suite *s);

#endif
