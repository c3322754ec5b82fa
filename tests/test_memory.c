/* Memory-saving mechanisms (issue 9): the streamed ONNX writer gives the
 * very bytes of the in-memory packer (protobuf-c's pack, an independent
 * code path), through a callback and through an atomic file; a failing
 * sink stops the stream with its error; an aborted atomic file leaves
 * nothing behind. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_ir.h"
#include "lc_testutil.h"

typedef struct collect {
    uint8_t *data;
    size_t len, cap, calls, fail_after;
} collect;

static lc_status collect_write(void *user, const void *buf, size_t len)
{
    collect *c = user;
    if (c->fail_after && c->len + len > c->fail_after) return lc_fail(LC_ERR_IO, "sink full");
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->data = realloc(c->data, c->cap);
        ck_assert_ptr_nonnull(c->data);
    }
    memcpy(c->data + c->len, buf, len);
    c->len += len;
    c->calls++;
    return LC_OK;
}

static lc_model *load_zoo(const char *name)
{
    char path[1024];
    const char *src = getenv("LC_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/benchmarks/zoo/%s", src ? src : ".", name);
    lc_model *m = NULL;
    ck_assert_msg(lc_model_load(path, &m) == LC_OK, "%s", lc_last_error());
    return m;
}

static const char *const zoo[] = {"lenet300.onnx", "lenet5.onnx", "resnet8.onnx", "dscnn.onnx"};

START_TEST(stream_equals_buffer)
{
    lc_model *m = load_zoo(zoo[_i]);
    void *buf;
    size_t len;
    ck_assert_int_eq(lc_model_save_onnx_buffer(m, &buf, &len), LC_OK);
    collect c = {0};
    ck_assert_int_eq(lc_model_save_onnx_stream(m, collect_write, &c), LC_OK);
    ck_assert_uint_eq(c.len, len);
    ck_assert_int_eq(memcmp(c.data, buf, len), 0);
    ck_assert_uint_gt(c.calls, 1); /* really in pieces */

    /* through an atomic file: the file holds the same bytes */
    char path[] = "/tmp/lc_test_memory_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    lc_atomic_file *f;
    ck_assert_int_eq(lc_atomic_file_open(path, &f), LC_OK);
    ck_assert_int_eq(lc_model_save_onnx_to(m, f), LC_OK);
    ck_assert_uint_eq(lc_atomic_file_size(f), len);
    ck_assert_int_eq(lc_atomic_file_commit(f), LC_OK);
    void *file;
    size_t flen;
    ck_assert_int_eq(lc_read_file(path, &file, &flen), LC_OK);
    ck_assert_uint_eq(flen, len);
    ck_assert_int_eq(memcmp(file, buf, len), 0);
    unlink(path);
    free(file);
    free(c.data);
    free(buf);
    lc_model_free(m);
}
END_TEST

START_TEST(failing_sink_stops)
{
    lc_model *m = load_zoo("lenet5.onnx");
    collect c = {0};
    c.fail_after = 1000;
    ck_assert_int_eq(lc_model_save_onnx_stream(m, collect_write, &c), LC_ERR_IO);
    ck_assert_str_eq(lc_last_error(), "sink full");
    ck_assert_uint_le(c.len, 1000);
    free(c.data);
    lc_model_free(m);
}
END_TEST

START_TEST(abort_leaves_nothing)
{
    char dir[] = "/tmp/lc_test_memory_dir_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.onnx", dir);
    lc_atomic_file *f;
    ck_assert_int_eq(lc_atomic_file_open(path, &f), LC_OK);
    static uint8_t big[200000];
    ck_assert_int_eq(lc_atomic_file_write(f, "abc", 3), LC_OK);
    ck_assert_int_eq(lc_atomic_file_write(f, big, sizeof big), LC_OK);
    ck_assert_uint_eq(lc_atomic_file_size(f), 3 + sizeof big);
    lc_atomic_file_abort(f);
    ck_assert_int_eq(rmdir(dir), 0); /* empty: no partial or temporary file */
}
END_TEST

int main(void)
{
    Suite *su = suite_create("memory");
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, stream_equals_buffer, 0, (int)(sizeof zoo / sizeof *zoo));
    tcase_add_test(tc, failing_sink_stops);
    tcase_add_test(tc, abort_leaves_nothing);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
