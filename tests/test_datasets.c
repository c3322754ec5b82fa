/* Dataset readers: .npy, IDX, raw float32, labels, the .npy writer.
 *
 * Run without arguments: self-contained cases (hand-made headers, hostile
 * and truncated files, mutations, shape and label checks).
 * Run with a folder (tests/datasets_crosscheck.py does): also every case of
 * its manifest.txt, whose expected values NumPy computed, and writes
 * written_*.npy files that the script reads back with NumPy. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_dataset.h"
#include "lc_ir.h"
#include "lc_testutil.h"

static const char *g_folder; /* crosscheck folder, or NULL */
static char g_tmp[256];      /* per-test scratch folder */

static void tmp_setup(void)
{
    /* tmpfs when there is one: the mutation and truncation loops create
     * thousands of small files */
    snprintf(g_tmp, sizeof g_tmp, "/dev/shm/lc_datasets_XXXXXX");
    if (mkdtemp(g_tmp)) return;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/lc_datasets_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_tmp));
}

static void tmp_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, name);
    return buf;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A .npy file with header dict `dict` (padded like NumPy) and a payload. */
static size_t make_npy(uint8_t *buf, int major, const char *dict, const void *payload, size_t n)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict), hlen = dl + 1;
    hlen += (64 - (pre + hlen) % 64) % 64;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', hlen - dl - 1);
    buf[pre + hlen - 1] = '\n';
    memcpy(buf + pre + hlen, payload, n);
    return pre + hlen + n;
}

static lc_status load(const char *spec, const lc_data_options *o, lc_dataset **d)
{
    lc_status s = lc_dataset_load(spec, o, d);
    if (s) ck_assert_ptr_null(*d);
    return s;
}

static void assert_error(lc_status got, lc_status want, const char *substring)
{
    ck_assert_msg(got == want, "status %s, expected %s (%s)", lc_status_name(got), lc_status_name(want),
                  lc_last_error());
    ck_assert_msg(strstr(lc_last_error(), substring), "message '%s' lacks '%s'", lc_last_error(), substring);
}

/* ---------------------------------------------------------------- */

START_TEST(npy_header_variants)
{
    static const char *dicts[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{\"shape\": (2L, 3L), \"descr\": \"<f4\", \"fortran_order\": False}",
        "{'fortran_order':False,'shape':[2,3],'descr':'=f4'}",
        "  {\n'descr' : '<f4' ,\t'fortran_order' : False , 'shape' : ( 2 , 3 , ) }",
    };
    float v[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    uint8_t buf[512];
    for (size_t k = 0; k < sizeof dicts / sizeof dicts[0]; k++) {
        for (int major = 1; major <= 3; major++) {
            size_t n = make_npy(buf, major, dicts[k], v, sizeof v);
            write_bytes(tmp_path("h.npy"), buf, n);
            lc_dataset *d = NULL;
            ck_assert_msg(load(tmp_path("h.npy"), NULL, &d) == LC_OK, "dict %zu v%d: %s", k, major,
                          lc_last_error());
            ck_assert_int_eq(lc_dataset_count(d), 2);
            ck_assert_int_eq(lc_dataset_sample_ndim(d), 1);
            ck_assert_int_eq(lc_dataset_sample_dims(d)[0], 3);
            ck_assert_int_eq(lc_dataset_file_dtype(d), LC_DTYPE_FLOAT);
            ck_assert_mem_eq(lc_dataset_sample(d, 0), v, sizeof v);
            ck_assert_ptr_eq(lc_dataset_sample(d, 1), lc_dataset_sample(d, 0) + 3);
            ck_assert_ptr_null(lc_dataset_sample(d, 2));
            ck_assert_ptr_null(lc_dataset_sample(d, -1));
            lc_dataset_free(d);
        }
    }
    /* old writers padded with NULs; 1-byte big-endian is fine */
    uint8_t u[4] = {0, 51, 102, 255};
    const char *dict = "{'descr': '>u1', 'fortran_order': False, 'shape': (4,)}";
    size_t n = make_npy(buf, 1, dict, u, 4);
    memset(buf + 10 + strlen(dict), 0, 3);
    write_bytes(tmp_path("u.npy"), buf, n);
    lc_dataset *d = NULL;
    ck_assert_msg(load(tmp_path("u.npy"), NULL, &d) == LC_OK, "%s", lc_last_error());
    ck_assert_int_eq(lc_dataset_sample_ndim(d), 0);
    ck_assert_float_eq(lc_dataset_sample(d, 1)[0], 0.2f);
    ck_assert_float_eq(lc_dataset_sample(d, 3)[0], 1.0f);
    lc_dataset_free(d);
}
END_TEST

static const struct {
    const char *dict;
    lc_status status;
    const char *msg;
} bad_headers[] = {
    {"{'descr': '<f4', 'fortran_order': False}", LC_ERR_FORMAT, "missing key 'shape'"},
    {"{'descr': '<f4', 'shape': (2,)}", LC_ERR_FORMAT, "missing key 'fortran_order'"},
    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "duplicate key"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", LC_ERR_FORMAT, "unexpected key 'x'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", LC_ERR_FORMAT, "non-negative integers"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", LC_ERR_FORMAT, "expected ','"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}", LC_ERR_FORMAT, "'shape' must be a tuple"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", LC_ERR_FORMAT, "overflows"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", LC_ERR_FORMAT, "too large"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000)}", LC_ERR_FORMAT, "the file has only 8"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2)}", LC_ERR_UNSUPPORTED,
     "more than 16 dimensions"},
    {"{'descr': 4, 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "expected a string"},
    {"{'descr': '', 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "empty dtype"},
    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", LC_ERR_FORMAT, "True or False"},
    {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", LC_ERR_FORMAT, "True or False"},
    {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", LC_ERR_UNSUPPORTED, "Fortran-order"},
    {"{'descr': '>f8', 'fortran_order': False, 'shape': (1,)}", LC_ERR_UNSUPPORTED, "big-endian"},
    {"{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "lacks a byte order"},
    {"{'descr': '<f4x', 'fortran_order': False, 'shape': (2,)}", LC_ERR_UNSUPPORTED, "not supported"},
    {"{'descr': '<f99999999999', 'fortran_order': False, 'shape': (2,)}", LC_ERR_UNSUPPORTED, "not supported"},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", LC_ERR_UNSUPPORTED, "object arrays"},
    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", LC_ERR_UNSUPPORTED, "structured"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", LC_ERR_FORMAT, "after the dict"},
    {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "bad .npy header"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", LC_ERR_FORMAT, "expected ',' or '}'"},
    {"['descr', '<f4']", LC_ERR_FORMAT, "expected '{'"},
    {"{'de\\x73cr': '<f4', 'fortran_order': False, 'shape': (2,)}", LC_ERR_FORMAT, "unsupported character"},
    {"", LC_ERR_FORMAT, "expected '{'"},
};

START_TEST(npy_header_errors)
{
    float v[2] = {1, 2};
    uint8_t buf[512];
    size_t n = make_npy(buf, 1, bad_headers[_i].dict, v, sizeof v);
    write_bytes(tmp_path("bad.npy"), buf, n);
    lc_dataset *d = NULL;
    lc_status s = load(tmp_path("bad.npy"), NULL, &d);
    assert_error(s, bad_headers[_i].status, bad_headers[_i].msg);
    ck_assert_msg(strstr(lc_last_error(), "bad.npy"), "message '%s' does not name the file", lc_last_error());
    lc_dataset_free(d);
}
END_TEST

START_TEST(npy_prefix_errors)
{
    float v[2] = {1, 2};
    uint8_t buf[512];
    lc_dataset *d = NULL;
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", v, sizeof v);
    buf[6] = 4;
    write_bytes(tmp_path("v4.npy"), buf, n);
    assert_error(load(tmp_path("v4.npy"), NULL, &d), LC_ERR_UNSUPPORTED, "version 4.0");
    buf[6] = 1;
    buf[5] = 'X';
    write_bytes(tmp_path("magic.npy"), buf, n);
    assert_error(load(tmp_path("magic.npy"), NULL, &d), LC_ERR_FORMAT, "bad .npy magic");
    buf[5] = 'Y';
    buf[8] = 0xff;
    buf[9] = 0xff; /* header length past the end */
    write_bytes(tmp_path("hlen.npy"), buf, n);
    assert_error(load(tmp_path("hlen.npy"), NULL, &d), LC_ERR_FORMAT, "claims 65535 bytes");
    /* v2 header length of 4 GB */
    n = make_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", v, sizeof v);
    memset(buf + 8, 0xff, 4);
    write_bytes(tmp_path("hlen2.npy"), buf, n);
    assert_error(load(tmp_path("hlen2.npy"), NULL, &d), LC_ERR_FORMAT, "implausibly large");
    write_bytes(tmp_path("text.txt"), "hello world\n", 12);
    assert_error(load(tmp_path("text.txt"), NULL, &d), LC_ERR_FORMAT, "not a .npy or IDX file");
    write_bytes(tmp_path("one.npy"), "\x93", 1);
    assert_error(load(tmp_path("one.npy"), NULL, &d), LC_ERR_FORMAT, "too short");
    assert_error(load(tmp_path("absent.npy"), NULL, &d), LC_ERR_IO, "absent.npy: cannot open");
}
END_TEST

/* Every proper prefix of a file must fail with a clean error; the whole
 * file must load. */
static void check_prefixes(const char *path, int labels)
{
    void *buf;
    size_t len;
    ck_assert_int_eq(lc_read_file(path, &buf, &len), LC_OK);
    char cut[600];
    snprintf(cut, sizeof cut, "%s", tmp_path("prefix.cut"));
    for (size_t n = 0; n <= len; n++) {
        write_bytes(cut, buf, n);
        lc_status s;
        if (labels) {
            int64_t *v = NULL, c = -1;
            s = lc_labels_load(cut, 0, &v, &c);
            if (s) ck_assert(v == NULL && c == 0);
            free(v);
        } else {
            lc_dataset *d = NULL;
            s = load(cut, NULL, &d);
            lc_dataset_free(d);
        }
        if (n < len) {
            ck_assert_msg(s == LC_ERR_FORMAT, "%s cut at %zu of %zu: %s (%s)", path, n, len, lc_status_name(s),
                          lc_last_error());
            ck_assert_msg(strstr(lc_last_error(), ".cut"), "message '%s' does not name the file", lc_last_error());
        } else {
            ck_assert_msg(s == LC_OK, "%s whole: %s", path, lc_last_error());
        }
    }
    unlink(cut);
    free(buf);
}

START_TEST(truncation_own_files)
{
    int64_t dims[2] = {3, 2};
    float f[6] = {1, 2, 3, 4, 5, 6};
    int64_t l[3] = {7, 8, 9};
    ck_assert_int_eq(lc_npy_write(tmp_path("t.npy"), LC_DTYPE_FLOAT, 2, dims, f), LC_OK);
    check_prefixes(tmp_path("t.npy"), 0);
    ck_assert_int_eq(lc_npy_write(tmp_path("l.npy"), LC_DTYPE_INT64, 1, dims, l), LC_OK);
    check_prefixes(tmp_path("l.npy"), 1);
    uint8_t idx[4 + 8 + 6] = {0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6};
    write_bytes(tmp_path("t-idx2-ubyte"), idx, sizeof idx);
    check_prefixes(tmp_path("t-idx2-ubyte"), 0);
}
END_TEST

/* Mutated files: any status, but never a crash or a memory error (the
 * ASan build runs this too), and a success must be self-consistent. */
START_TEST(mutations)
{
    float v[6] = {1, 2, 3, 4, 5, 6};
    uint8_t base[3][512], buf[512];
    size_t len[3];
    len[0] = make_npy(base[0], 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", v, sizeof v);
    len[1] = make_npy(base[1], 2, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", v, 6);
    uint8_t idx[4 + 8 + 6] = {0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6};
    memcpy(base[2], idx, sizeof idx);
    len[2] = sizeof idx;
    for (int it = 0; it < 3000; it++) {
        int k = it % 3;
        size_t n = len[k];
        memcpy(buf, base[k], n);
        int flips = 1 + (int)(rnd() % 4);
        for (int j = 0; j < flips; j++) {
            size_t pos = rnd() % (k == 2 ? n : 80); /* mostly the header */
            buf[pos] = (uint8_t)rnd();
        }
        if (rnd() % 4 == 0) n = rnd() % (n + 1);
        write_bytes(tmp_path("m"), buf, n);
        lc_dataset *d = NULL;
        lc_status s = lc_dataset_load(tmp_path("m"), NULL, &d);
        if (s == LC_OK) {
            int64_t numel = lc_shape_numel(lc_dataset_sample_ndim(d), lc_dataset_sample_dims(d), 4);
            ck_assert_int_eq(numel, lc_dataset_sample_numel(d));
            ck_assert_int_le(lc_dataset_count(d) * numel, (int64_t)n);
            const float *x = lc_dataset_sample(d, lc_dataset_count(d) - 1);
            volatile float sink = x[numel - 1];
            (void)sink;
        } else {
            ck_assert_ptr_null(d);
            ck_assert(lc_last_error()[0] != 0);
        }
        lc_dataset_free(d);
        int64_t *lab = NULL, c;
        if (lc_labels_load(tmp_path("m"), 0, &lab, &c) == LC_OK) ck_assert_int_le(c, 6);
        free(lab);
    }
}
END_TEST

START_TEST(raw_specs)
{
    float v[12];
    for (int i = 0; i < 12; i++) v[i] = (float)i * 0.5f - 2.0f;
    write_bytes(tmp_path("r.bin"), v, sizeof v);
    char spec[600];
    lc_dataset *d = NULL;
    snprintf(spec, sizeof spec, "%s:3x2x2", tmp_path("r.bin"));
    ck_assert_int_eq(load(spec, NULL, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_count(d), 3);
    ck_assert_int_eq(lc_dataset_sample_ndim(d), 2);
    ck_assert_mem_eq(lc_dataset_sample(d, 0), v, sizeof v);
    ck_assert_str_eq(lc_dataset_path(d), spec);
    lc_dataset_free(d);
    static const char *bad[] = {":", ":3x", ":x3", ":3xx2", ":0", ":3x-2", ":3x2x2 ", ":99999999999999999999",
                                ":1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(spec, sizeof spec, "%s%s", tmp_path("r.bin"), bad[i]);
        assert_error(load(spec, NULL, &d), LC_ERR_INVALID_ARGUMENT, "bad raw float32 shape");
    }
    snprintf(spec, sizeof spec, "%s:5x3", tmp_path("r.bin"));
    assert_error(load(spec, NULL, &d), LC_ERR_FORMAT, "the file has only 48");
    /* a raw file that starts like gzip stays raw */
    uint8_t g[8] = {0x1f, 0x8b, 0, 0, 0, 0, 0x80, 0x3f};
    write_bytes(tmp_path("g.bin"), g, sizeof g);
    snprintf(spec, sizeof spec, "%s:2", tmp_path("g.bin"));
    ck_assert_int_eq(load(spec, NULL, &d), LC_OK);
    ck_assert_float_eq(lc_dataset_sample(d, 1)[0], 1.0f);
    lc_dataset_free(d);
    /* an existing file whose name has a ':' is a path */
    int64_t dims[1] = {2};
    ck_assert_int_eq(lc_npy_write(tmp_path("a:2"), LC_DTYPE_FLOAT, 1, dims, v), LC_OK);
    ck_assert_int_eq(load(tmp_path("a:2"), NULL, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_count(d), 2);
    lc_dataset_free(d);
}
END_TEST

START_TEST(norm_and_limit)
{
    uint8_t u[6] = {0, 51, 102, 153, 204, 255};
    uint8_t buf[512];
    size_t n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }", u, sizeof u);
    write_bytes(tmp_path("u.npy"), buf, n);
    lc_dataset *d = NULL;
    /* 51/255 = 0.2 exactly in decimal; (x - 0.5) / 0.25 */
    static const double want_norm[6] = {-2.0, -1.2, -0.4, 0.4, 1.2, 2.0};
    lc_data_options o = {1, 0.5f, 0.25f, 0};
    ck_assert_int_eq(load(tmp_path("u.npy"), &o, &d), LC_OK);
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(lc_dataset_sample(d, 0)[i], want_norm[i], 1e-6);
    lc_dataset_free(d);
    o.has_norm = 0;
    o.limit = 2;
    ck_assert_int_eq(load(tmp_path("u.npy"), &o, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_count(d), 2);
    for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(lc_dataset_sample(d, 0)[i], i * 0.2, 1e-7);
    lc_dataset_free(d);
    o.limit = 1000;
    ck_assert_int_eq(load(tmp_path("u.npy"), &o, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_count(d), 3);
    lc_dataset_free(d);
    /* normalisation applies to float data too, without the 1/255 */
    float f[2] = {3.0f, -1.0f};
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f, sizeof f);
    write_bytes(tmp_path("f.npy"), buf, n);
    lc_data_options of = {1, 1.0f, 2.0f, 0};
    ck_assert_int_eq(load(tmp_path("f.npy"), &of, &d), LC_OK);
    ck_assert_float_eq(lc_dataset_sample(d, 0)[0], 1.0f);
    ck_assert_float_eq(lc_dataset_sample(d, 1)[0], -1.0f);
    lc_dataset_free(d);
    lc_data_options bad[] = {{0, 0, 1, -1}, {1, 0, 0, 0}, {1, 0, -1, 0}, {1, NAN, 1, 0}, {1, 0, INFINITY, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_error(load(tmp_path("u.npy"), &bad[i], &d), LC_ERR_INVALID_ARGUMENT, "u.npy");
    int64_t *lab = NULL, c;
    assert_error(lc_labels_load(tmp_path("u.npy"), -1, &lab, &c), LC_ERR_INVALID_ARGUMENT, "negative");
    assert_error(lc_labels_load(tmp_path("u.npy"), 0, &lab, &c), LC_ERR_SHAPE, "N or Nx1");
    ck_assert_int_eq(lc_dataset_load(NULL, NULL, &d), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_dataset_load(tmp_path("u.npy"), NULL, NULL), LC_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lc_labels_load(NULL, 0, &lab, &c), LC_ERR_INVALID_ARGUMENT);
    lc_dataset_free(NULL);
}
END_TEST

START_TEST(shape_checks)
{
    static float zeros[2 * 28 * 28];
    int64_t dims[3] = {2, 28, 28};
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("x.npy", 3, dims, zeros, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_sample_numel(d), 784);
    static const struct {
        int ndim;
        int64_t dims[4];
        int ok;
    } cases[] = {
        {3, {1, 28, 28}, 1}, {2, {28, 28}, 1}, {4, {1, 1, 28, 28}, 1}, {3, {28, 1, 28}, 1},
        {3, {-1, 28, 28}, 1}, {2, {-1, -1}, 1}, {3, {-1, -1, -1}, 1}, {-1, {0}, 1},
        {1, {784}, 0}, {3, {1, 32, 32}, 0}, {3, {3, 28, 28}, 0}, {2, {28, -1}, 1},
        {3, {-1, -1, 28}, 1}, {1, {-1}, 0}, {0, {0}, 0}, {3, {1, 28, 0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_status s = lc_dataset_check_shape(d, cases[i].ndim, cases[i].dims, "input");
        ck_assert_msg(s == (cases[i].ok ? LC_OK : LC_ERR_SHAPE), "case %zu: %s", i, lc_status_name(s));
    }
    int64_t m[3] = {1, 32, 32};
    assert_error(lc_dataset_check_shape(d, 3, m, "image"), LC_ERR_SHAPE,
                 "x.npy: samples are 28x28 (data shape 2x28x28) but model input 'image' takes 1x32x32 per sample "
                 "(Nx1x32x32)");
    int64_t m2[2] = {-1, 3};
    assert_error(lc_dataset_check_shape(d, 2, m2, NULL), LC_ERR_SHAPE, "takes ?x3 per sample");
    assert_error(lc_dataset_check_labels(d, 1, "labels.npy"), LC_ERR_SHAPE,
                 "labels.npy: 1 labels for 2 samples of x.npy");
    ck_assert_int_eq(lc_dataset_check_labels(d, 2, "labels.npy"), LC_OK);
    lc_dataset_free(d);
    /* samples that are scalars */
    int64_t dn[1] = {2};
    ck_assert_int_eq(lc_dataset_create(NULL, 1, dn, zeros, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_sample_ndim(d), 0);
    ck_assert_int_eq(lc_dataset_check_shape(d, 0, NULL, "x"), LC_OK);
    int64_t one[1] = {1};
    ck_assert_int_eq(lc_dataset_check_shape(d, 1, one, "x"), LC_OK);
    assert_error(lc_dataset_check_shape(d, 1, dn, "x"), LC_ERR_SHAPE, "<memory>: samples are scalar");
    lc_dataset_free(d);
    int64_t bad[2] = {0, 3};
    ck_assert_int_eq(lc_dataset_create(NULL, 2, bad, zeros, &d), LC_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(d);
}
END_TEST

static const char *out_path(const char *name)
{
    static char buf[600];
    snprintf(buf, sizeof buf, "%s/%s", g_folder ? g_folder : g_tmp, name);
    return buf;
}

START_TEST(npy_writer)
{
    /* the crosscheck script reads these back with NumPy */
    int64_t dims[3] = {2, 3, 4};
    float f[24];
    int64_t l[24];
    for (int i = 0; i < 24; i++) {
        f[i] = (float)i * 0.25f - 3.0f;
        l[i] = ((int64_t)i * 1000003 - 7) * ((int64_t)1 << 30);
    }
    ck_assert_int_eq(lc_npy_write(out_path("written_f32.npy"), LC_DTYPE_FLOAT, 3, dims, f), LC_OK);
    ck_assert_int_eq(lc_npy_write(out_path("written_i64.npy"), LC_DTYPE_INT64, 3, dims, l), LC_OK);
    float vec[3] = {1.5f, -2.0f, 3.25f};
    ck_assert_int_eq(lc_npy_write(out_path("written_vec.npy"), LC_DTYPE_FLOAT, 1, dims + 1, vec), LC_OK);
    float s = 42.5f;
    ck_assert_int_eq(lc_npy_write(out_path("written_0d.npy"), LC_DTYPE_FLOAT, 0, NULL, &s), LC_OK);
    int64_t ed[2] = {0, 5};
    ck_assert_int_eq(lc_npy_write(out_path("written_empty.npy"), LC_DTYPE_INT64, 2, ed, NULL), LC_OK);

    /* and our own reader agrees */
    lc_dataset *d = NULL;
    ck_assert_int_eq(load(out_path("written_f32.npy"), NULL, &d), LC_OK);
    ck_assert_int_eq(lc_dataset_count(d), 2);
    ck_assert_mem_eq(lc_dataset_sample(d, 0), f, sizeof f);
    lc_dataset_free(d);
    int64_t *lab = NULL, c = 0;
    ck_assert_int_eq(lc_labels_load(out_path("written_vec.npy"), 0, &lab, &c), LC_ERR_DTYPE);
    int64_t pos[5] = {0, 1, 2, 3, 1LL << 40};
    int64_t pd[1] = {5};
    ck_assert_int_eq(lc_npy_write(out_path("lab.npy"), LC_DTYPE_INT64, 1, pd, pos), LC_OK);
    ck_assert_int_eq(lc_labels_load(out_path("lab.npy"), 0, &lab, &c), LC_OK);
    ck_assert_int_eq(c, 5);
    ck_assert_mem_eq(lab, pos, sizeof pos);
    free(lab);
    ck_assert_int_eq(lc_labels_load(out_path("lab.npy"), 3, &lab, &c), LC_OK);
    ck_assert_int_eq(c, 3);
    free(lab);
    unlink(out_path("lab.npy"));

    assert_error(lc_npy_write(out_path("x.npy"), LC_DTYPE_UINT8, 1, pd, pos), LC_ERR_UNSUPPORTED, "uint8");
    assert_error(lc_npy_write(out_path("x.npy"), LC_DTYPE_FLOAT, 17, pd, pos), LC_ERR_INVALID_ARGUMENT, "rank");
    int64_t neg[1] = {-1};
    assert_error(lc_npy_write(out_path("x.npy"), LC_DTYPE_FLOAT, 1, neg, pos), LC_ERR_INVALID_ARGUMENT, "shape");
    assert_error(lc_npy_write(out_path("x.npy"), LC_DTYPE_FLOAT, 1, pd, NULL), LC_ERR_INVALID_ARGUMENT, "NULL");
    assert_error(lc_npy_write("/nonexistent-folder/x.npy", LC_DTYPE_FLOAT, 1, pd, pos), LC_ERR_IO,
                 "/nonexistent-folder/x.npy");
    ck_assert_int_eq(access(out_path("x.npy"), F_OK), -1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Manifest cases (expected values from NumPy)                        */
/* ---------------------------------------------------------------- */

static int same_float(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

static void run_data_case(int line, char *rest)
{
    char spec[600], expect[600], mean_s[64], std_s[64];
    long long offset, limit, count;
    int has_norm, sndim, used;
    ck_assert_int_eq(sscanf(rest, "%599s %599s %lld %d %63s %63s %lld %lld %d%n", spec, expect, &offset, &has_norm,
                            mean_s, std_s, &limit, &count, &sndim, &used),
                     9);
    int64_t sdims[LC_MAX_DIMS];
    char *p = rest + used;
    for (int i = 0; i < sndim; i++) sdims[i] = strtoll(p, &p, 10);
    lc_data_options o = {has_norm, strtof(mean_s, NULL), strtof(std_s, NULL), limit};
    lc_dataset *d = NULL;
    lc_status s = lc_dataset_load(spec, &o, &d);
    ck_assert_msg(s == LC_OK, "line %d %s: %s", line, spec, lc_last_error());
    ck_assert_int_eq(lc_dataset_count(d), count);
    ck_assert_int_eq(lc_dataset_sample_ndim(d), sndim);
    for (int i = 0; i < sndim; i++) ck_assert_int_eq(lc_dataset_sample_dims(d)[i], sdims[i]);
    void *buf;
    size_t len;
    ck_assert_int_eq(lc_read_file(expect, &buf, &len), LC_OK);
    int64_t numel = lc_dataset_sample_numel(d);
    ck_assert_uint_eq(len % (size_t)(numel * 4), 0);
    int64_t rows = (int64_t)len / (numel * 4);
    ck_assert_int_le(offset + rows, count);
    const float *want = buf, *got = lc_dataset_sample(d, offset);
    for (int64_t i = 0; i < rows * numel; i++)
        ck_assert_msg(same_float(got[i], want[i]), "line %d %s: value %lld is %.9g, NumPy says %.9g", line, spec,
                      (long long)i, (double)got[i], (double)want[i]);
    free(buf);
    lc_dataset_free(d);
}

static void run_labels_case(int line, char *rest)
{
    char path[600], expect[600];
    long long limit, count;
    ck_assert_int_eq(sscanf(rest, "%599s %599s %lld %lld", path, expect, &limit, &count), 4);
    int64_t *lab = NULL, n = 0;
    lc_status s = lc_labels_load(path, limit, &lab, &n);
    ck_assert_msg(s == LC_OK, "line %d %s: %s", line, path, lc_last_error());
    ck_assert_int_eq(n, count);
    void *buf;
    size_t len;
    ck_assert_int_eq(lc_read_file(expect, &buf, &len), LC_OK);
    ck_assert_uint_eq(len, (size_t)n * 8);
    ck_assert_msg(n == 0 || memcmp(lab, buf, len) == 0, "line %d %s: labels differ from NumPy's", line, path);
    free(buf);
    free(lab);
}

static void run_error_case(int line, char *rest)
{
    char kind[16], spec[600], status[64];
    int used;
    ck_assert_int_eq(sscanf(rest, "%15s %599s %63s %n", kind, spec, status, &used), 3);
    const char *sub = rest + used;
    lc_status s;
    if (!strcmp(kind, "labels")) {
        int64_t *lab = NULL, n = 0;
        s = lc_labels_load(spec, 0, &lab, &n);
        ck_assert(s == LC_OK || (lab == NULL && n == 0));
        free(lab);
    } else {
        lc_dataset *d = NULL;
        s = lc_dataset_load(spec, NULL, &d);
        lc_dataset_free(d);
    }
    ck_assert_msg(!strcmp(lc_status_name(s), status), "line %d %s: %s, expected %s (%s)", line, spec,
                  lc_status_name(s), status, lc_last_error());
    ck_assert_msg(strstr(lc_last_error(), sub), "line %d: message '%s' lacks '%s'", line, lc_last_error(), sub);
}

START_TEST(manifest)
{
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.txt", g_folder);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[4096];
    int ln = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        char *sp = strchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        *sp = 0;
        char *rest = sp + 1;
        if (!strcmp(line, "data")) run_data_case(ln, rest);
        else if (!strcmp(line, "labels")) run_labels_case(ln, rest);
        else if (!strcmp(line, "error")) run_error_case(ln, rest);
        else if (!strcmp(line, "truncate")) check_prefixes(rest, 0);
        else ck_abort_msg("manifest line %d: unknown kind '%s'", ln, line);
        cases++;
    }
    fclose(f);
    ck_assert_int_gt(cases, 50);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1) g_folder = argv[1];
    Suite *s = suite_create("datasets");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, npy_header_variants);
    tcase_add_loop_test(tc, npy_header_errors, 0, (int)(sizeof bad_headers / sizeof bad_headers[0]));
    tcase_add_test(tc, npy_prefix_errors);
    tcase_add_test(tc, truncation_own_files);
    tcase_add_test(tc, mutations);
    tcase_add_test(tc, raw_specs);
    tcase_add_test(tc, norm_and_limit);
    tcase_add_test(tc, shape_checks);
    tcase_add_test(tc, npy_writer);
    if (g_folder) tcase_add_test(tc, manifest);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
