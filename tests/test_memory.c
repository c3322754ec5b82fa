/* Memory-saving mechanisms (issue 9): the streamed ONNX writer gives the
 * very bytes of the in-memory packer (protobuf-c's pack, an independent
 * code path), through a callback and through an atomic file; a failing
 * sink stops the stream with its error; an aborted atomic file leaves
 * nothing behind; a write guard removes the temporary files of exactly the
 * writes it tracks (its threads', not others'). */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
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

/* Files in `dir` (. and .. excluded). */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* A writer thread: attaches its guard, opens an atomic file and writes,
 * then waits for the main thread before committing. */
typedef struct writer {
    const char *path;
    lc_write_guard *guard;
    pthread_barrier_t *opened, *aborted;
    lc_status commit;
} writer;

static void *write_in_thread(void *arg)
{
    writer *w = arg;
    lc_write_guard_attach(w->guard);
    lc_atomic_file *f = NULL;
    lc_status s = lc_atomic_file_open(w->path, &f);
    if (!s) s = lc_atomic_file_write(f, "data", 4);
    pthread_barrier_wait(w->opened);
    pthread_barrier_wait(w->aborted);
    w->commit = s ? s : lc_atomic_file_commit(f);
    lc_write_guard_attach(NULL);
    return NULL;
}

START_TEST(guard_aborts_only_its_writes)
{
    char dir[] = "/tmp/lc_test_guard_dir_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "%s/a.onnx", dir);
    snprintf(pb, sizeof pb, "%s/b.onnx", dir);
    lc_write_guard *ga = NULL, *gb = NULL;
    ck_assert_int_eq(lc_write_guard_create(&ga), LC_OK);
    ck_assert_int_eq(lc_write_guard_create(&gb), LC_OK);
    pthread_barrier_t opened, aborted;
    pthread_barrier_init(&opened, NULL, 3);
    pthread_barrier_init(&aborted, NULL, 3);
    writer wa = {pa, ga, &opened, &aborted, LC_OK}, wb = {pb, gb, &opened, &aborted, LC_OK};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, write_in_thread, &wa), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, write_in_thread, &wb), 0);
    pthread_barrier_wait(&opened);
    ck_assert_int_eq(count_files(dir), 2); /* both temporary files */
    lc_write_guard_abort(ga);
    ck_assert_int_eq(count_files(dir), 1); /* only a's went */
    pthread_barrier_wait(&aborted);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(wa.commit, LC_ERR_IO); /* the aborted write does not land */
    ck_assert_int_eq(wb.commit, LC_OK);
    ck_assert_int_eq(count_files(dir), 1);
    ck_assert_int_eq(access(pa, F_OK), -1);
    ck_assert_int_eq(unlink(pb), 0);
    /* after its writes ended, aborting a guard touches nothing */
    lc_write_guard_abort(gb);
    lc_write_guard_abort(NULL);
    /* a thread without a guard: its writes are not tracked */
    lc_write_guard_attach(NULL);
    lc_atomic_file *f = NULL;
    ck_assert_int_eq(lc_atomic_file_open(pa, &f), LC_OK);
    lc_write_guard_abort(ga);
    ck_assert_int_eq(count_files(dir), 1);
    lc_atomic_file_abort(f);
    ck_assert_int_eq(rmdir(dir), 0);
    pthread_barrier_destroy(&opened);
    pthread_barrier_destroy(&aborted);
    lc_write_guard_free(ga);
    lc_write_guard_free(gb);
}
END_TEST

/* A finished write is no longer tracked: aborting its guard afterwards
 * leaves the output in place. (The CLI's signal path, a guard aborted in
 * the middle of a public writer, is tested in bad_input_catalog.py.) */
START_TEST(guard_spares_finished_writes)
{
    char dir[] = "/tmp/lc_test_guard_pub_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/x.bin", dir);
    lc_write_guard *g = NULL;
    ck_assert_int_eq(lc_write_guard_create(&g), LC_OK);
    lc_write_guard_attach(g);
    ck_assert_int_eq(lc_write_file(path, "abc", 3), LC_OK);
    ck_assert_int_eq(count_files(dir), 1);
    lc_write_guard_abort(g); /* nothing in progress: the written file stays */
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(unlink(path), 0);
    lc_write_guard_attach(NULL);
    lc_write_guard_free(g);
    ck_assert_int_eq(rmdir(dir), 0);
    ck_assert_int_eq(lc_write_guard_create(NULL), LC_ERR_INVALID_ARGUMENT);
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
    tcase_add_test(tc, guard_aborts_only_its_writes);
    tcase_add_test(tc, guard_spares_finished_writes);
    suite_add_tcase(su, tc);
    return run_suite(su);
}
