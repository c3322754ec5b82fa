/* Helpers shared by the Check suites (see lc_testutil.h). */
#include "lc_testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void rnd_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

static uint64_t next64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

uint32_t rnd(void) { return (uint32_t)(next64() >> 16); }

int64_t rnd_int(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1)); }

float rnd_float(void) { return (float)(rnd() % 20001) / 10000.0f - 1.0f; }

float rnd_range(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() & 0xffffff) / (float)0x1000000; }

double rnd_double(void) { return (double)(next64() >> 11) / 9007199254740992.0 * 2 - 1; }

float *rnd_array(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++) p[i] = rnd_float();
    return p;
}

lc_model *empty_model(const char *name, int64_t opset)
{
    lc_model *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->ir_version = 8;
    m->n_opsets = 1;
    m->opsets = calloc(1, sizeof *m->opsets);
    ck_assert_ptr_nonnull(m->opsets);
    m->opsets[0].domain = lc_strdup("");
    m->opsets[0].version = opset;
    m->graph = calloc(1, sizeof *m->graph);
    ck_assert_ptr_nonnull(m->graph);
    m->graph->name = lc_strdup(name);
    return m;
}

lc_attr *add_attr(lc_node *n, const char *name, int type)
{
    n->attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    ck_assert_ptr_nonnull(n->attrs);
    lc_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = lc_strdup(name);
    a->type = type;
    return a;
}

void attr_int(lc_node *n, const char *name, int64_t v) { add_attr(n, name, LC_ATTR_INT)->i = v; }

void attr_ints(lc_node *n, const char *name, int cnt, const int64_t *v)
{
    lc_attr *a = add_attr(n, name, LC_ATTR_INTS);
    a->n = cnt;
    a->ints = malloc((size_t)(cnt ? cnt : 1) * sizeof *a->ints);
    ck_assert_ptr_nonnull(a->ints);
    if (cnt) memcpy(a->ints, v, (size_t)cnt * sizeof *v);
}

void attr_float(lc_node *n, const char *name, float v) { add_attr(n, name, LC_ATTR_FLOAT)->f = v; }

void attr_string(lc_node *n, const char *name, const char *v)
{
    lc_attr *a = add_attr(n, name, LC_ATTR_STRING);
    a->s.data = lc_strdup(v);
    a->s.len = strlen(v);
}

lc_value mkval(const char *name, int dtype, int ndim, const int64_t *dims, void *data)
{
    lc_value v;
    memset(&v, 0, sizeof v);
    v.name = name;
    v.dtype = dtype;
    v.ndim = ndim;
    if (ndim) memcpy(v.dims, dims, (size_t)ndim * sizeof *dims);
    v.data = data;
    v.nbytes = (size_t)lc_value_numel(&v) * lc_dtype_size(dtype);
    v.is_const = true;
    return v;
}

static lc_attr make_attr(const char *name, int type)
{
    lc_attr a;
    memset(&a, 0, sizeof a);
    a.name = (char *)name;
    a.type = type;
    return a;
}

lc_attr make_attr_int(const char *name, int64_t i)
{
    lc_attr a = make_attr(name, LC_ATTR_INT);
    a.i = i;
    return a;
}

lc_attr make_attr_float(const char *name, float f)
{
    lc_attr a = make_attr(name, LC_ATTR_FLOAT);
    a.f = f;
    return a;
}

lc_attr make_attr_string(const char *name, const char *s)
{
    lc_attr a = make_attr(name, LC_ATTR_STRING);
    a.s.data = (char *)s;
    a.s.len = strlen(s);
    return a;
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

lc_dataset *random_images(int64_t n, uint64_t seed, float **data)
{
    const int64_t dims[4] = {n, 1, 28, 28};
    rnd_seed(seed);
    *data = rnd_array(n * 28 * 28);
    for (int64_t i = 0; i < n * 28 * 28; i++) (*data)[i] = fabsf((*data)[i]);
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("images", 4, dims, *data, &d), LC_OK);
    return d;
}

lc_model *load_zoo(const char *file)
{
    const char *src = getenv("LC_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/benchmarks/zoo/%s", src ? src : ".", file);
    lc_model *m = NULL;
    ck_assert_msg(lc_model_load(path, &m) == LC_OK, "%s: %s", path, lc_last_error());
    return m;
}

int nth_node(const lc_model *m, const char *op, int k)
{
    for (int i = 0; i < m->graph->n_nodes; i++)
        if (!strcmp(m->graph->nodes[i]->op_type, op) && k-- == 0) return i;
    ck_abort_msg("no %s", op);
    return -1;
}

bool inits_equal(const lc_model *a, const lc_model *b)
{
    if (a->graph->n_inits != b->graph->n_inits) return false;
    for (int i = 0; i < a->graph->n_inits; i++) {
        const lc_tensor *t = a->graph->inits[i], *u = lc_graph_init(b->graph, t->name);
        if (!u || u->nbytes != t->nbytes || (t->nbytes && memcmp(u->data, t->data, t->nbytes))) return false;
    }
    return true;
}

lc_status record_input(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                       int n_out, const lc_value *const *out)
{
    (void)node, (void)n_in, (void)n_out, (void)out;
    seen_input *s = user;
    s->calls++;
    if (node_index != s->node) return LC_OK;
    int64_t k = lc_value_numel(in[0]);
    if (s->n + k > s->cap) {
        s->cap = 2 * (s->n + k);
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        ck_assert_ptr_nonnull(s->v);
    }
    memcpy(s->v + s->n, in[0]->data, (size_t)k * sizeof *s->v);
    s->n += k;
    s->ndim = in[0]->ndim;
    int64_t per_sample = 1;
    for (int d = 1; d < in[0]->ndim; d++) per_sample *= s->dims[d] = in[0]->dims[d];
    s->dims[0] = s->n / per_sample;
    return LC_OK;
}
