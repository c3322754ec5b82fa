/* Shape/index/reduction kernels called directly (prepare + run), checked
 * against brute-force oracles written independently of the kernels: index
 * lists built element by element, nested loops over every output element,
 * and hand-computed values for the opset-specific forms. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_exec.h"
#include "lc_testutil.h"

#define MAXV 8

/* ---- a tiny harness: one node, its attributes, inputs and outputs ---- */

typedef struct {
    lc_node node;
    lc_attr attrs[MAXV];
    char *names[2 * MAXV];
    lc_value in[MAXV], out[MAXV];
    const lc_value *inp[MAXV];
    lc_value *outp[MAXV];
    lc_kernel_args args;
    const lc_kernel *k;
    lc_tensor *tensors[MAXV];
    int n_tensors;
} tcase;

static void tc_init(tcase *t, const char *op, int64_t opset, int n_out)
{
    memset(t, 0, sizeof *t);
    t->node.op_type = (char *)op;
    t->node.name = (char *)"n";
    t->node.domain = (char *)"";
    t->node.attrs = t->attrs;
    t->node.inputs = t->names;
    t->node.outputs = t->names + MAXV;
    t->node.n_outputs = n_out;
    for (int i = 0; i < 2 * MAXV; i++) t->names[i] = (char *)"v";
    for (int i = 0; i < n_out; i++) {
        t->out[i].name = "y";
        t->outp[i] = &t->out[i];
    }
    t->args.node = &t->node;
    t->args.opset = opset;
    t->args.in = t->inp;
    t->args.out = t->outp;
    t->args.n_out = n_out;
    t->args.threads = 1;
}

static void tc_in(tcase *t, int dtype, int ndim, const int64_t *dims, const void *data, bool is_const)
{
    lc_value *v = &t->in[t->args.n_in];
    v->name = "x";
    v->dtype = dtype;
    v->ndim = ndim;
    if (ndim) memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
    v->nbytes = (size_t)lc_value_numel(v) * lc_dtype_size(dtype);
    v->data = malloc(v->nbytes ? v->nbytes : 1);
    if (v->nbytes) memcpy(v->data, data, v->nbytes);
    v->is_const = is_const;
    t->inp[t->args.n_in++] = v;
    t->node.n_inputs = t->args.n_in;
}

static void tc_in_ints(tcase *t, int n, const int64_t *vals) { tc_in(t, LC_DTYPE_INT64, 1, (int64_t[]){n}, vals, true); }

static void tc_absent(tcase *t)
{
    t->inp[t->args.n_in++] = NULL;
    t->names[t->node.n_inputs++] = (char *)"";
}

static lc_attr *tc_attr(tcase *t, const char *name, int type)
{
    lc_attr *a = &t->attrs[t->node.n_attrs++];
    a->name = (char *)name;
    a->type = type;
    return a;
}

static void tc_int(tcase *t, const char *name, int64_t v) { t->attrs[t->node.n_attrs++] = make_attr_int(name, v); }

static void tc_ints(tcase *t, const char *name, int n, const int64_t *v)
{
    lc_attr *a = tc_attr(t, name, LC_ATTR_INTS);
    a->n = n;
    a->ints = (int64_t *)v;
}

static void tc_str(tcase *t, const char *name, const char *v) { t->attrs[t->node.n_attrs++] = make_attr_string(name, v); }

static lc_status tc_prepare(tcase *t)
{
    int lowest;
    t->k = lc_kernel_find(t->node.op_type, t->args.opset, &lowest);
    ck_assert_msg(t->k != NULL, "no kernel for %s opset %lld", t->node.op_type, (long long)t->args.opset);
    return t->k->prepare(&t->args);
}

/* Prepares, allocates the outputs and runs. */
static lc_status tc_run(tcase *t)
{
    lc_status s = tc_prepare(t);
    if (s) return s;
    for (int i = 0; i < t->args.n_out; i++) {
        lc_value *v = t->outp[i];
        if (!v) continue;
        v->nbytes = (size_t)lc_value_numel(v) * lc_dtype_size(v->dtype);
        v->data = calloc(1, v->nbytes ? v->nbytes : 1);
    }
    return t->k->run(&t->args);
}

static void tc_free(tcase *t)
{
    if (t->k && t->k->free_state) t->k->free_state(t->args.state);
    for (int i = 0; i < MAXV; i++) {
        free(t->in[i].data);
        free(t->out[i].data);
    }
    for (int i = 0; i < t->n_tensors; i++) lc_tensor_free(t->tensors[i]);
}

static void check_shape(const lc_value *v, int ndim, const int64_t *dims)
{
    ck_assert_int_eq(v->ndim, ndim);
    for (int i = 0; i < ndim; i++) ck_assert_msg(v->dims[i] == dims[i], "dim %d: got %lld want %lld", i, (long long)v->dims[i], (long long)dims[i]);
}

static float *iota_f(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)i * 0.5f - 3;
    return p;
}

/* Unravels flat index i of `dims` into idx. */
static void unravel(int64_t i, int ndim, const int64_t *dims, int64_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = dims[d] ? i % dims[d] : 0;
        i = dims[d] ? i / dims[d] : 0;
    }
}

static int64_t ravel(int ndim, const int64_t *dims, const int64_t *idx)
{
    int64_t f = 0;
    for (int d = 0; d < ndim; d++) f = f * dims[d] + idx[d];
    return f;
}

/* ---- Reshape ---- */

static void reshape_case(int64_t opset, int ndim, const int64_t *dims, int n, const int64_t *shape, int allowzero,
                         lc_status want, int out_ndim, const int64_t *out_dims)
{
    tcase t;
    tc_init(&t, "Reshape", opset, 1);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= dims[i];
    float *x = iota_f(numel);
    tc_in(&t, LC_DTYPE_FLOAT, ndim, dims, x, false);
    if (opset < 5) tc_ints(&t, "shape", n, shape);
    else tc_in_ints(&t, n, shape);
    if (allowzero >= 0) tc_int(&t, "allowzero", allowzero);
    lc_status s = tc_run(&t);
    ck_assert_int_eq(s, want);
    if (!s) {
        check_shape(&t.out[0], out_ndim, out_dims);
        ck_assert(numel == 0 || memcmp(t.out[0].data, x, (size_t)numel * 4) == 0);
    }
    free(x);
    tc_free(&t);
}

START_TEST(test_reshape)
{
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){0, -1}, -1, LC_OK, 2, (int64_t[]){2, 12});
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 3, (int64_t[]){-1, 0, 2}, -1, LC_OK, 3, (int64_t[]){4, 3, 2});
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 1, (int64_t[]){-1}, -1, LC_OK, 1, (int64_t[]){24});
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 0, NULL, -1, LC_ERR_SHAPE, 0, NULL);
    reshape_case(14, 2, (int64_t[]){1, 1}, 0, NULL, -1, LC_OK, 0, NULL);
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){-1, -1}, -1, LC_ERR_INVALID_ARGUMENT, 0, NULL);
    reshape_case(14, 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){5, -1}, -1, LC_ERR_SHAPE, 0, NULL);
    /* allowzero: 0 is a literal zero dim */
    reshape_case(14, 2, (int64_t[]){0, 3}, 2, (int64_t[]){3, 0}, 1, LC_OK, 2, (int64_t[]){3, 0});
    reshape_case(14, 2, (int64_t[]){2, 3}, 2, (int64_t[]){0, 6}, 1, LC_ERR_SHAPE, 0, NULL);
    reshape_case(14, 2, (int64_t[]){2, 3}, 2, (int64_t[]){0, 3}, 0, LC_OK, 2, (int64_t[]){2, 3});
    /* opset 1-4: shape attribute */
    reshape_case(4, 2, (int64_t[]){4, 6}, 3, (int64_t[]){2, -1, 3}, -1, LC_OK, 3, (int64_t[]){2, 4, 3});
}
END_TEST

/* ---- Slice: random cases against an index-list oracle ---- */

/* The indices ONNX selects along one axis of size d. */
static int slice_indices(int64_t d, int64_t start, int64_t end, int64_t step, int64_t *out)
{
    int n = 0;
    if (d == 0) return 0;
    if (start < 0) start += d;
    if (end < 0) end += d;
    if (step > 0) {
        start = start < 0 ? 0 : start > d ? d : start;
        end = end < 0 ? 0 : end > d ? d : end;
        for (int64_t i = start; i < end; i += step) out[n++] = i;
    } else {
        start = start < 0 ? 0 : start > d - 1 ? d - 1 : start;
        end = end < -1 ? -1 : end > d - 1 ? d - 1 : end;
        for (int64_t i = start; i > end; i += step) out[n++] = i;
    }
    return n;
}

START_TEST(test_slice_random)
{
    for (int iter = 0; iter < 400; iter++) {
        int64_t opset = iter % 4 == 0 ? 1 : 13;
        int ndim = (int)rnd_int(1, 4), ns = (int)rnd_int(1, ndim);
        int64_t dims[4], starts[4], ends[4], axes[4], steps[4], sel[4][16], nsel[4], odims[4];
        for (int d = 0; d < ndim; d++) dims[d] = rnd_int(0, 5);
        int64_t perm[4] = {0, 1, 2, 3};
        for (int d = ndim - 1; d > 0; d--) {
            int j = (int)rnd_int(0, d);
            int64_t tmp = perm[d];
            perm[d] = perm[j];
            perm[j] = tmp;
        }
        for (int i = 0; i < ns; i++) {
            axes[i] = rnd_int(0, 1) ? perm[i] : perm[i] - ndim;
            starts[i] = rnd_int(-8, 8);
            ends[i] = rnd_int(0, 9) == 0 ? (rnd_int(0, 1) ? INT64_MAX : INT64_MIN) : rnd_int(-8, 8);
            steps[i] = opset < 10 ? 1 : rnd_int(0, 1) ? rnd_int(1, 3) : -rnd_int(1, 3);
        }
        bool with_axes = rnd_int(0, 3) != 0, with_steps = opset >= 10 && rnd_int(0, 3) != 0;
        for (int i = 0; i < ns; i++) {
            if (!with_steps) steps[i] = 1;
            if (!with_axes) axes[i] = i; /* the default axes */
        }
        for (int d = 0; d < ndim; d++) {
            nsel[d] = dims[d];
            for (int64_t i = 0; i < dims[d]; i++) sel[d][i] = i;
        }
        for (int i = 0; i < ns; i++) {
            int ax = (int)(axes[i] < 0 ? axes[i] + ndim : axes[i]);
            nsel[ax] = slice_indices(dims[ax], starts[i], ends[i], steps[i], sel[ax]);
        }
        int64_t numel = 1, onumel = 1;
        for (int d = 0; d < ndim; d++) {
            numel *= dims[d];
            odims[d] = nsel[d];
            onumel *= nsel[d];
        }
        /* int64 data: the kernels are dtype-generic, exercise 8-byte moves */
        int64_t *x = malloc((size_t)(numel ? numel : 1) * 8);
        for (int64_t i = 0; i < numel; i++) x[i] = i * 7 + 1;
        tcase t;
        tc_init(&t, "Slice", opset, 1);
        tc_in(&t, LC_DTYPE_INT64, ndim, dims, x, false);
        if (opset < 10) {
            tc_ints(&t, "starts", ns, starts);
            tc_ints(&t, "ends", ns, ends);
            if (with_axes) tc_ints(&t, "axes", ns, axes);
        } else {
            tc_in_ints(&t, ns, starts);
            tc_in_ints(&t, ns, ends);
            if (with_axes) tc_in_ints(&t, ns, axes);
            else if (with_steps) tc_absent(&t);
            if (with_steps) tc_in_ints(&t, ns, steps);
        }
        ck_assert_int_eq(tc_run(&t), LC_OK);
        check_shape(&t.out[0], ndim, odims);
        const int64_t *y = t.out[0].data;
        for (int64_t i = 0; i < onumel; i++) {
            int64_t oi[4], xi[4];
            unravel(i, ndim, odims, oi);
            for (int d = 0; d < ndim; d++) xi[d] = sel[d][oi[d]];
            ck_assert_int_eq(y[i], x[ravel(ndim, dims, xi)]);
        }
        free(x);
        tc_free(&t);
    }
}
END_TEST

/* ---- Gather ---- */

START_TEST(test_gather)
{
    int64_t dims[3] = {3, 4, 2}, idims[2] = {2, 3};
    int32_t idx[6] = {0, -1, 2, -4, 3, 1};
    float *x = iota_f(24);
    for (int axis = -3; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        tcase t;
        tc_init(&t, "Gather", 13, 1);
        tc_in(&t, LC_DTYPE_FLOAT, 3, dims, x, false);
        int32_t use[6];
        for (int i = 0; i < 6; i++) use[i] = idx[i] % (int32_t)dims[ax]; /* keep in [-d+1, d-1] */
        tc_in(&t, LC_DTYPE_INT32, 2, idims, use, false);
        tc_int(&t, "axis", axis);
        ck_assert_int_eq(tc_run(&t), LC_OK);
        int64_t od[4];
        int k = 0;
        for (int d = 0; d < ax; d++) od[k++] = dims[d];
        od[k++] = 2;
        od[k++] = 3;
        for (int d = ax + 1; d < 3; d++) od[k++] = dims[d];
        check_shape(&t.out[0], 4, od);
        const float *y = t.out[0].data;
        for (int64_t i = 0; i < 24 / dims[ax] * 6; i++) {
            int64_t oi[4], xi[3];
            unravel(i, 4, od, oi);
            int m = 0;
            for (int d = 0; d < 3; d++) {
                if (d == ax) {
                    int64_t j = use[oi[m] * 3 + oi[m + 1]];
                    xi[d] = j < 0 ? j + dims[d] : j;
                    m += 2;
                } else xi[d] = oi[m++];
            }
            ck_assert_float_eq(y[i], x[ravel(3, dims, xi)]);
        }
        tc_free(&t);
    }
    /* out-of-range index fails at run time */
    tcase t;
    tc_init(&t, "Gather", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 3, dims, x, false);
    int64_t bad[1] = {-4}, one = 1;
    tc_in(&t, LC_DTYPE_INT64, 1, &one, bad, false);
    ck_assert_int_eq(tc_run(&t), LC_ERR_INVALID_ARGUMENT);
    tc_free(&t);
    free(x);
}
END_TEST

/* ---- Transpose, Expand, Tile on several dtypes ---- */

START_TEST(test_transpose_random)
{
    static const int dtypes[] = {LC_DTYPE_FLOAT, LC_DTYPE_INT64, LC_DTYPE_BOOL, LC_DTYPE_FLOAT16, LC_DTYPE_UINT8};
    for (int iter = 0; iter < 100; iter++) {
        int dt = dtypes[iter % 5], ndim = (int)rnd_int(0, 5);
        size_t es = lc_dtype_size(dt);
        int64_t dims[5], perm[5], od[5], numel = 1;
        for (int d = 0; d < ndim; d++) {
            dims[d] = rnd_int(1, 4);
            numel *= dims[d];
            perm[d] = d;
        }
        for (int d = ndim - 1; d > 0; d--) {
            int j = (int)rnd_int(0, d);
            int64_t tmp = perm[d];
            perm[d] = perm[j];
            perm[j] = tmp;
        }
        unsigned char *x = malloc((size_t)numel * es);
        for (size_t i = 0; i < (size_t)numel * es; i++) x[i] = (unsigned char)rnd_int(0, 255);
        tcase t;
        tc_init(&t, "Transpose", 13, 1);
        tc_in(&t, dt, ndim, dims, x, false);
        bool dflt = iter % 7 == 0;
        if (dflt)
            for (int d = 0; d < ndim; d++) perm[d] = ndim - 1 - d;
        else tc_ints(&t, "perm", ndim, perm);
        ck_assert_int_eq(tc_run(&t), LC_OK);
        for (int d = 0; d < ndim; d++) od[d] = dims[perm[d]];
        check_shape(&t.out[0], ndim, od);
        for (int64_t i = 0; i < numel; i++) {
            int64_t oi[5], xi[5];
            unravel(i, ndim, od, oi);
            for (int d = 0; d < ndim; d++) xi[perm[d]] = oi[d];
            ck_assert(!memcmp((char *)t.out[0].data + i * (int64_t)es, x + ravel(ndim, dims, xi) * (int64_t)es, es));
        }
        free(x);
        tc_free(&t);
    }
}
END_TEST

START_TEST(test_expand_tile)
{
    int64_t dims[3] = {3, 1, 2};
    int32_t x[6] = {1, 2, 3, 4, 5, 6};
    /* Expand: [3,1,2] with [2,1,4,1] -> [2,3,4,2] */
    tcase t;
    tc_init(&t, "Expand", 13, 1);
    tc_in(&t, LC_DTYPE_INT32, 3, dims, x, false);
    tc_in_ints(&t, 4, (int64_t[]){2, 1, 4, 1});
    ck_assert_int_eq(tc_run(&t), LC_OK);
    int64_t od[4] = {2, 3, 4, 2};
    check_shape(&t.out[0], 4, od);
    for (int64_t i = 0; i < 48; i++) {
        int64_t oi[4];
        unravel(i, 4, od, oi);
        ck_assert_int_eq(((int32_t *)t.out[0].data)[i], x[oi[1] * 2 + oi[3]]);
    }
    tc_free(&t);
    /* Tile: repeats [2,3,1] -> out[i,j,k] = x[i%3, j%1, k%2] */
    tc_init(&t, "Tile", 13, 1);
    tc_in(&t, LC_DTYPE_INT32, 3, dims, x, false);
    tc_in_ints(&t, 3, (int64_t[]){2, 3, 1});
    ck_assert_int_eq(tc_run(&t), LC_OK);
    int64_t td[3] = {6, 3, 2};
    check_shape(&t.out[0], 3, td);
    for (int64_t i = 0; i < 36; i++) {
        int64_t oi[3];
        unravel(i, 3, td, oi);
        ck_assert_int_eq(((int32_t *)t.out[0].data)[i], x[(oi[0] % 3) * 2 + oi[2] % 2]);
    }
    tc_free(&t);
    /* Tile opset 1: scalar tiles and axis inputs */
    tc_init(&t, "Tile", 1, 1);
    tc_in(&t, LC_DTYPE_INT32, 3, dims, x, false);
    int64_t three = 3, ax = 2;
    tc_in(&t, LC_DTYPE_INT64, 0, NULL, &three, true);
    tc_in(&t, LC_DTYPE_INT64, 0, NULL, &ax, true);
    ck_assert_int_eq(tc_run(&t), LC_OK);
    check_shape(&t.out[0], 3, (int64_t[]){3, 1, 6});
    for (int64_t i = 0; i < 18; i++) ck_assert_int_eq(((int32_t *)t.out[0].data)[i], x[(i / 6) * 2 + (i % 6) % 2]);
    tc_free(&t);
}
END_TEST

/* ---- Split, Squeeze, Unsqueeze, Flatten, Concat ---- */

static void split_case(int64_t opset, int64_t d, int nout, const int64_t *split, bool as_input, int num_outputs,
                       lc_status want, const int64_t *want_sizes)
{
    tcase t;
    tc_init(&t, "Split", opset, nout);
    int64_t dims[2] = {2, d};
    float *x = iota_f(2 * d);
    tc_in(&t, LC_DTYPE_FLOAT, 2, dims, x, false);
    tc_int(&t, "axis", -1);
    if (split && as_input) tc_in_ints(&t, nout, split);
    else if (split) tc_ints(&t, "split", nout, split);
    if (num_outputs) tc_int(&t, "num_outputs", num_outputs);
    lc_status s = tc_run(&t);
    ck_assert_int_eq(s, want);
    if (!s) {
        int64_t start = 0;
        for (int i = 0; i < nout; i++) {
            check_shape(&t.out[i], 2, (int64_t[]){2, want_sizes[i]});
            for (int64_t r = 0; r < 2; r++)
                for (int64_t c = 0; c < want_sizes[i]; c++)
                    ck_assert_float_eq(((float *)t.out[i].data)[r * want_sizes[i] + c], x[r * d + start + c]);
            start += want_sizes[i];
        }
    }
    free(x);
    tc_free(&t);
}

START_TEST(test_split)
{
    split_case(2, 6, 3, (int64_t[]){1, 0, 5}, false, 0, LC_OK, (int64_t[]){1, 0, 5});
    split_case(13, 6, 3, (int64_t[]){2, 3, 1}, true, 0, LC_OK, (int64_t[]){2, 3, 1});
    split_case(13, 6, 3, NULL, false, 0, LC_OK, (int64_t[]){2, 2, 2});
    split_case(13, 7, 3, NULL, false, 0, LC_ERR_SHAPE, NULL);
    split_case(18, 7, 3, NULL, false, 3, LC_OK, (int64_t[]){3, 3, 1});
    split_case(18, 8, 3, NULL, false, 3, LC_OK, (int64_t[]){3, 3, 2});
    split_case(13, 6, 2, (int64_t[]){2, 3}, true, 0, LC_ERR_SHAPE, NULL);
}
END_TEST

START_TEST(test_squeeze_unsqueeze_flatten)
{
    int64_t dims[4] = {1, 3, 1, 2};
    float *x = iota_f(6);
    struct {
        const char *op;
        int64_t opset;
        int n;
        int64_t axes[3];
        lc_status want;
        int ondim;
        int64_t od[6];
    } cases[] = {
        {"Squeeze", 11, 1, {-2}, LC_OK, 3, {1, 3, 2}},
        {"Squeeze", 13, 2, {0, 2}, LC_OK, 2, {3, 2}},
        {"Squeeze", 13, -1, {0}, LC_OK, 2, {3, 2}},
        {"Squeeze", 13, 1, {1}, LC_ERR_SHAPE, 0, {0}},
        {"Unsqueeze", 11, 2, {0, -1}, LC_OK, 6, {1, 1, 3, 1, 2, 1}},
        {"Unsqueeze", 13, 2, {5, 1}, LC_OK, 6, {1, 1, 3, 1, 2, 1}},
        {"Unsqueeze", 13, 2, {1, 1}, LC_ERR_INVALID_ARGUMENT, 0, {0}},
        {"Flatten", 13, 1, {0}, LC_OK, 2, {1, 6}},
        {"Flatten", 13, 1, {4}, LC_OK, 2, {6, 1}},
        {"Flatten", 13, 1, {-2}, LC_OK, 2, {3, 2}},
        {"Flatten", 13, 1, {5}, LC_ERR_INVALID_ARGUMENT, 0, {0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tcase t;
        tc_init(&t, cases[c].op, cases[c].opset, 1);
        tc_in(&t, LC_DTYPE_FLOAT, 4, dims, x, false);
        if (!strcmp(cases[c].op, "Flatten")) tc_int(&t, "axis", cases[c].axes[0]);
        else if (cases[c].n >= 0 && cases[c].opset < 13) tc_ints(&t, "axes", cases[c].n, cases[c].axes);
        else if (cases[c].n >= 0) tc_in_ints(&t, cases[c].n, cases[c].axes);
        lc_status s = tc_run(&t);
        ck_assert_msg(s == cases[c].want, "case %zu: %d", c, s);
        if (!s) {
            check_shape(&t.out[0], cases[c].ondim, cases[c].od);
            ck_assert(!memcmp(t.out[0].data, x, 24));
        }
        tc_free(&t);
    }
    free(x);
}
END_TEST

START_TEST(test_concat)
{
    int64_t a_dims[3] = {2, 1, 3}, b_dims[3] = {2, 2, 3}, e_dims[3] = {2, 0, 3};
    uint16_t a[6], b[12];
    for (int i = 0; i < 6; i++) a[i] = (uint16_t)(100 + i);
    for (int i = 0; i < 12; i++) b[i] = (uint16_t)(200 + i);
    tcase t;
    tc_init(&t, "Concat", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT16, 3, a_dims, a, false);
    tc_in(&t, LC_DTYPE_FLOAT16, 3, e_dims, NULL, false);
    tc_in(&t, LC_DTYPE_FLOAT16, 3, b_dims, b, false);
    tc_int(&t, "axis", -2);
    ck_assert_int_eq(tc_run(&t), LC_OK);
    check_shape(&t.out[0], 3, (int64_t[]){2, 3, 3});
    const uint16_t *y = t.out[0].data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                ck_assert_int_eq(y[(i * 3 + j) * 3 + k], j == 0 ? a[i * 3 + k] : b[(i * 2 + j - 1) * 3 + k]);
    tc_free(&t);
}
END_TEST

/* ---- reductions and ArgMax against nested-loop oracles ---- */

START_TEST(test_reduce_random)
{
    static const char *const ops[] = {"ReduceSum", "ReduceMean", "ReduceMax"};
    for (int iter = 0; iter < 300; iter++) {
        int op = iter % 3, ndim = (int)rnd_int(1, 4);
        bool use_input = rnd_int(0, 1), keep = rnd_int(0, 1);
        int64_t opset = use_input ? (op == 0 ? 13 : 18) : 11;
        int64_t dims[4], axes[4], numel = 1;
        bool mask[4] = {false};
        for (int d = 0; d < ndim; d++) numel *= (dims[d] = rnd_int(1, 4));
        int na = (int)rnd_int(0, ndim);
        for (int i = 0; i < na; i++) {
            int d;
            do d = (int)rnd_int(0, ndim - 1);
            while (mask[d]);
            mask[d] = true;
            axes[i] = rnd_int(0, 1) ? d : d - ndim;
        }
        bool noop = use_input && na == 0 && rnd_int(0, 1);
        if (na == 0 && !noop)
            for (int d = 0; d < ndim; d++) mask[d] = true;
        float *x = malloc((size_t)numel * sizeof *x);
        for (int64_t i = 0; i < numel; i++) x[i] = (float)rnd_int(-1000, 1000) / 64;
        tcase t;
        tc_init(&t, ops[op], opset, 1);
        tc_in(&t, LC_DTYPE_FLOAT, ndim, dims, x, false);
        if (na && use_input) tc_in_ints(&t, na, axes);
        else if (na) tc_ints(&t, "axes", na, axes);
        tc_int(&t, "keepdims", keep);
        if (noop) tc_int(&t, "noop_with_empty_axes", 1);
        ck_assert_int_eq(tc_run(&t), LC_OK);
        int64_t kd[4], od[4];
        int ond = 0;
        for (int d = 0; d < ndim; d++) {
            kd[d] = mask[d] ? 1 : dims[d];
            if (!mask[d] || keep) od[ond++] = kd[d];
        }
        check_shape(&t.out[0], ond, od);
        int64_t on = 1;
        for (int d = 0; d < ndim; d++) on *= kd[d];
        for (int64_t o = 0; o < on; o++) {
            int64_t oi[4], xi[4];
            unravel(o, ndim, kd, oi);
            double acc = op == 2 ? -INFINITY : 0;
            int64_t cnt = 0;
            for (int64_t i = 0; i < numel; i++) {
                unravel(i, ndim, dims, xi);
                bool in = true;
                for (int d = 0; d < ndim; d++)
                    if (!mask[d] && xi[d] != oi[d]) in = false;
                if (!in) continue;
                cnt++;
                acc = op == 2 ? fmax(acc, x[i]) : acc + x[i];
            }
            if (op == 1) acc /= (double)cnt;
            float got = ((float *)t.out[0].data)[o];
            ck_assert_msg(fabs(got - acc) <= 1e-5 + 1e-5 * fabs(acc), "%s: got %g want %g", ops[op], got, acc);
        }
        free(x);
        tc_free(&t);
    }
}
END_TEST

START_TEST(test_argmax)
{
    /* ties: first index by default, last with select_last_index */
    int64_t dims[2] = {2, 4};
    float x[8] = {1, 5, 5, 0, 7, 7, 7, 7};
    for (int last = 0; last < 2; last++)
        for (int axis = 0; axis < 2; axis++) {
            tcase t;
            tc_init(&t, "ArgMax", 13, 1);
            tc_in(&t, LC_DTYPE_FLOAT, 2, dims, x, false);
            tc_int(&t, "axis", axis);
            tc_int(&t, "keepdims", 0);
            tc_int(&t, "select_last_index", last);
            ck_assert_int_eq(tc_run(&t), LC_OK);
            const int64_t *y = t.out[0].data;
            ck_assert_int_eq(t.out[0].dtype, LC_DTYPE_INT64);
            if (axis == 1) {
                ck_assert_int_eq(y[0], last ? 2 : 1);
                ck_assert_int_eq(y[1], last ? 3 : 0);
            } else
                for (int j = 0; j < 4; j++) ck_assert_int_eq(y[j], 1);
            tc_free(&t);
        }
}
END_TEST

/* ---- Shape, Size, Constant, ConstantOfShape, Range ---- */

START_TEST(test_shape_size_constant_range)
{
    int64_t dims[4] = {2, 3, 4, 5};
    float *x = iota_f(120);
    struct {
        int64_t opset, start, end;
        int n;
        int64_t want[4];
    } sc[] = {{13, 0, 0, 4, {2, 3, 4, 5}}, {15, 1, 99, 3, {3, 4, 5}}, {15, -3, -1, 2, {3, 4}}, {15, -99, 1, 1, {2}},
              {15, 3, 1, 0, {0}}};
    for (size_t c = 0; c < sizeof sc / sizeof sc[0]; c++) {
        tcase t;
        tc_init(&t, "Shape", sc[c].opset, 1);
        tc_in(&t, LC_DTYPE_FLOAT, 4, dims, x, false);
        if (sc[c].opset >= 15) {
            tc_int(&t, "start", sc[c].start);
            tc_int(&t, "end", sc[c].end);
        }
        ck_assert_int_eq(tc_run(&t), LC_OK);
        check_shape(&t.out[0], 1, (int64_t[]){sc[c].n});
        for (int i = 0; i < sc[c].n; i++) ck_assert_int_eq(((int64_t *)t.out[0].data)[i], sc[c].want[i]);
        tc_free(&t);
    }
    tcase t;
    tc_init(&t, "Size", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 4, dims, x, false);
    ck_assert_int_eq(tc_run(&t), LC_OK);
    ck_assert_int_eq(t.out[0].ndim, 0);
    ck_assert_int_eq(*(int64_t *)t.out[0].data, 120);
    tc_free(&t);
    free(x);

    int64_t ints[3] = {4, -5, 6};
    tc_init(&t, "Constant", 13, 1);
    tc_ints(&t, "value_ints", 3, ints);
    ck_assert_int_eq(tc_run(&t), LC_OK);
    check_shape(&t.out[0], 1, (int64_t[]){3});
    ck_assert(!memcmp(t.out[0].data, ints, sizeof ints));
    tc_free(&t);
    tc_init(&t, "Constant", 13, 1);
    tc_attr(&t, "value_float", LC_ATTR_FLOAT)->f = 2.5f;
    ck_assert_int_eq(tc_run(&t), LC_OK);
    ck_assert_int_eq(t.out[0].ndim, 0);
    ck_assert_float_eq(*(float *)t.out[0].data, 2.5f);
    tc_free(&t);
    tc_init(&t, "Constant", 13, 1);
    tc_attr(&t, "sparse_value", LC_ATTR_SPARSE_TENSOR);
    ck_assert_int_eq(tc_run(&t), LC_ERR_UNSUPPORTED);
    tc_free(&t);

    tc_init(&t, "ConstantOfShape", 13, 1);
    int32_t seven = 7;
    lc_tensor *v = NULL;
    ck_assert_int_eq(lc_tensor_create("v", LC_DTYPE_INT32, 1, (int64_t[]){1}, &seven, &v), LC_OK);
    t.tensors[t.n_tensors++] = v;
    tc_attr(&t, "value", LC_ATTR_TENSOR)->t = v;
    tc_in_ints(&t, 2, (int64_t[]){2, 3});
    ck_assert_int_eq(tc_run(&t), LC_OK);
    ck_assert_int_eq(t.out[0].dtype, LC_DTYPE_INT32);
    check_shape(&t.out[0], 2, (int64_t[]){2, 3});
    for (int i = 0; i < 6; i++) ck_assert_int_eq(((int32_t *)t.out[0].data)[i], 7);
    tc_free(&t);

    /* Range: float and int64, positive and negative deltas, empty */
    struct {
        double b, e, d;
        int64_t n;
    } rc[] = {{1, 5, 0.5, 8}, {10, 4, -3, 2}, {0, 3, 1, 3}, {3, 1, 1, 0}, {-1, -1.01, -0.004, 3}};
    for (size_t c = 0; c < sizeof rc / sizeof rc[0]; c++)
        for (int as_int = 0; as_int < 2; as_int++) {
            if (as_int && (rc[c].b != floor(rc[c].b) || rc[c].d != floor(rc[c].d) || rc[c].e != floor(rc[c].e))) continue;
            tc_init(&t, "Range", 11, 1);
            if (as_int) {
                int64_t b = (int64_t)rc[c].b, e = (int64_t)rc[c].e, d = (int64_t)rc[c].d;
                tc_in(&t, LC_DTYPE_INT64, 0, NULL, &b, true);
                tc_in(&t, LC_DTYPE_INT64, 0, NULL, &e, true);
                tc_in(&t, LC_DTYPE_INT64, 0, NULL, &d, true);
            } else {
                float b = (float)rc[c].b, e = (float)rc[c].e, d = (float)rc[c].d;
                tc_in(&t, LC_DTYPE_FLOAT, 0, NULL, &b, true);
                tc_in(&t, LC_DTYPE_FLOAT, 0, NULL, &e, true);
                tc_in(&t, LC_DTYPE_FLOAT, 0, NULL, &d, true);
            }
            ck_assert_int_eq(tc_run(&t), LC_OK);
            check_shape(&t.out[0], 1, &rc[c].n);
            for (int64_t i = 0; i < rc[c].n; i++) {
                double want = rc[c].b + (double)i * rc[c].d;
                double got = as_int ? (double)((int64_t *)t.out[0].data)[i] : ((float *)t.out[0].data)[i];
                ck_assert_msg(fabs(got - want) < 1e-5, "range %zu[%lld]: %g vs %g", c, (long long)i, got, want);
            }
            tc_free(&t);
        }
}
END_TEST

/* ---- Resize / Upsample against direct 2-D formulas ---- */

START_TEST(test_resize_linear_2d)
{
    /* Direct bilinear (not separable) with half_pixel / align_corners. */
    static const char *const modes[] = {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"};
    int64_t dims[4] = {1, 2, 3, 5};
    float *x = iota_f(30);
    for (int i = 0; i < 30; i++) x[i] = (float)((i * 37) % 11) - 4;
    for (int m = 0; m < 4; m++) {
        int64_t sizes[4] = {1, 2, 7, 2};
        tcase t;
        tc_init(&t, "Resize", 13, 1);
        tc_in(&t, LC_DTYPE_FLOAT, 4, dims, x, false);
        tc_absent(&t);
        tc_absent(&t);
        tc_in_ints(&t, 4, sizes);
        tc_str(&t, "mode", "linear");
        tc_str(&t, "coordinate_transformation_mode", modes[m]);
        ck_assert_int_eq(tc_run(&t), LC_OK);
        check_shape(&t.out[0], 4, sizes);
        for (int c = 0; c < 2; c++)
            for (int oy = 0; oy < 7; oy++)
                for (int ox = 0; ox < 2; ox++) {
                    double src[2];
                    int64_t in_len[2] = {3, 5}, out_len[2] = {7, 2}, o[2] = {oy, ox};
                    for (int k = 0; k < 2; k++) {
                        double s = (double)out_len[k] / (double)in_len[k], v;
                        if (m == 0) v = (o[k] + 0.5) / s - 0.5;
                        else if (m == 1) v = (double)o[k] * (double)(in_len[k] - 1) / (double)(out_len[k] - 1);
                        else if (m == 2) v = o[k] / s;
                        else v = out_len[k] > 1 ? (o[k] + 0.5) / s - 0.5 : 0;
                        src[k] = fmin(fmax(v, 0), (double)(in_len[k] - 1));
                    }
                    int y0 = (int)floor(src[0]), x0 = (int)floor(src[1]);
                    int y1 = y0 + 1 < 3 ? y0 + 1 : 2, x1 = x0 + 1 < 5 ? x0 + 1 : 4;
                    double fy = src[0] - y0, fx = src[1] - x0;
                    const float *p = x + c * 15;
                    double want = (1 - fy) * ((1 - fx) * p[y0 * 5 + x0] + fx * p[y0 * 5 + x1]) +
                                  fy * ((1 - fx) * p[y1 * 5 + x0] + fx * p[y1 * 5 + x1]);
                    float got = ((float *)t.out[0].data)[(c * 7 + oy) * 2 + ox];
                    ck_assert_msg(fabs(got - want) <= 1e-5 + 1e-4 * fabs(want), "%s: got %g want %g", modes[m], got, want);
                }
        tc_free(&t);
    }
    free(x);
}
END_TEST

START_TEST(test_resize_nearest_modes)
{
    /* 1-D [4] -> [7] with half_pixel: x_orig = (x + 0.5) * 4/7 - 0.5 */
    static const char *const nm[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    int64_t dims[1] = {4}, n7 = 7;
    int64_t xin[4] = {10, 11, 12, 13};
    for (int k = 0; k < 4; k++) {
        tcase t;
        tc_init(&t, "Resize", 13, 1);
        tc_in(&t, LC_DTYPE_INT64, 1, dims, xin, false);
        tc_absent(&t);
        tc_absent(&t);
        tc_in_ints(&t, 1, &n7);
        tc_str(&t, "nearest_mode", nm[k]);
        ck_assert_int_eq(tc_run(&t), LC_OK);
        for (int x = 0; x < 7; x++) {
            double o = (x + 0.5) * 4.0 / 7.0 - 0.5, f = floor(o), r;
            if (k == 0) r = o - f > 0.5 ? f + 1 : f;
            else if (k == 1) r = o - f >= 0.5 ? f + 1 : f;
            else if (k == 2) r = f;
            else r = ceil(o);
            int64_t i = r < 0 ? 0 : r > 3 ? 3 : (int64_t)r;
            ck_assert_int_eq(((int64_t *)t.out[0].data)[x], xin[i]);
        }
        tc_free(&t);
    }
    /* Upsample opset 7 (scales attribute), nearest: repeats */
    tcase t;
    tc_init(&t, "Upsample", 7, 1);
    int64_t d2[2] = {2, 2};
    float x[4] = {1, 2, 3, 4};
    tc_in(&t, LC_DTYPE_FLOAT, 2, d2, x, false);
    float sc[2] = {2, 3};
    lc_attr *a = tc_attr(&t, "scales", LC_ATTR_FLOATS);
    a->n = 2;
    a->floats = sc;
    ck_assert_int_eq(tc_run(&t), LC_OK);
    check_shape(&t.out[0], 2, (int64_t[]){4, 6});
    for (int i = 0; i < 24; i++) ck_assert_float_eq(((float *)t.out[0].data)[i], x[(i / 6 / 2) * 2 + (i % 6) / 3]);
    tc_free(&t);
}
END_TEST

/* ---- plan-time errors ---- */

START_TEST(test_errors)
{
    tcase t;
    int64_t dims[1] = {2};
    float x[2] = {1, 2};
    /* a shape that is not known at plan time */
    tc_init(&t, "Reshape", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 1, dims, x, false);
    int64_t shape[1] = {2}, one = 1;
    tc_in(&t, LC_DTYPE_INT64, 1, &one, shape, false);
    ck_assert_int_eq(tc_prepare(&t), LC_ERR_UNSUPPORTED);
    tc_free(&t);
    /* a dtype without a fixed element size */
    tc_init(&t, "Transpose", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 1, dims, x, false);
    t.in[0].dtype = LC_DTYPE_STRING;
    ck_assert_int_eq(tc_prepare(&t), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "string"));
    tc_free(&t);
    /* reductions: float/int only */
    tc_init(&t, "ReduceSum", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 1, dims, x, false);
    t.in[0].dtype = LC_DTYPE_FLOAT16;
    ck_assert_int_eq(tc_prepare(&t), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lc_last_error(), "float16"));
    tc_free(&t);
    /* Resize: cubic works, unknown modes are refused */
    tc_init(&t, "Resize", 13, 1);
    tc_in(&t, LC_DTYPE_FLOAT, 1, dims, x, false);
    tc_absent(&t);
    float s2 = 2;
    tc_in(&t, LC_DTYPE_FLOAT, 1, &one, &s2, true);
    tc_str(&t, "mode", "lanczos");
    ck_assert_int_eq(tc_prepare(&t), LC_ERR_UNSUPPORTED);
    tc_free(&t);
}
END_TEST

START_TEST(test_table)
{
    /* every (op, since) pair is unique and findable */
    int n;
    const lc_kernel *const *tab = lc_kernel_table(&n);
    for (int i = 0; i < n; i++) {
        ck_assert_ptr_eq(lc_kernel_find(tab[i]->op, tab[i]->since, NULL), tab[i]);
        for (int j = i + 1; j < n; j++)
            ck_assert(strcmp(tab[i]->op, tab[j]->op) || tab[i]->since != tab[j]->since);
    }
    ck_assert_int_eq(lc_kernel_find("Reshape", 4, NULL)->since, 1);
    ck_assert_int_eq(lc_kernel_find("Reshape", 21, NULL)->since, 5);
    ck_assert_ptr_null(lc_kernel_find("Range", 10, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_shape");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, test_reshape);
    tcase_add_test(tc, test_slice_random);
    tcase_add_test(tc, test_gather);
    tcase_add_test(tc, test_transpose_random);
    tcase_add_test(tc, test_expand_tile);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_squeeze_unsqueeze_flatten);
    tcase_add_test(tc, test_concat);
    tcase_add_test(tc, test_reduce_random);
    tcase_add_test(tc, test_argmax);
    tcase_add_test(tc, test_shape_size_constant_range);
    tcase_add_test(tc, test_resize_linear_2d);
    tcase_add_test(tc, test_resize_nearest_modes);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_table);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
