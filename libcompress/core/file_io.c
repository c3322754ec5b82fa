/* Whole-file reads and atomic writes (temporary file in the same folder,
 * fsync, rename), so an interrupted or failed write never leaves a partial
 * output behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_ir.h"

lc_status lc_read_file(const char *path, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lc_fail(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    lc_status s = LC_OK;
    uint8_t *data = NULL;
    if (fstat(fd, &st) != 0) {
        s = lc_fail(LC_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        s = lc_fail(LC_ERR_IO, "%s: is a folder, not a file", path);
        goto done;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size : 1 << 16, n = 0;
    data = malloc(cap + 1);
    if (!data) {
        s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory reading %zu bytes", path, cap);
        goto done;
    }
    for (;;) {
        if (n == cap) {
            if (S_ISREG(st.st_mode)) break; /* read what stat promised */
            uint8_t *p = realloc(data, cap * 2 + 1);
            if (!p) {
                s = lc_fail(LC_ERR_NO_MEMORY, "%s: out of memory", path);
                goto done;
            }
            data = p;
            cap *= 2;
        }
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            s = lc_fail(LC_ERR_IO, "%s: read error: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *buf = data;
    *len = n;
    data = NULL;
done:
    free(data);
    close(fd);
    return s;
}

/* A write guard: the temporary files of the writes in progress in the
 * threads it is attached to, for lc_write_guard_abort in a signal handler.
 * Lock-free slots, so the handler never waits on a writer. */
#define GUARD_SLOTS 8

struct lc_write_guard {
    _Atomic(char *) tmp[GUARD_SLOTS];
};

static _Thread_local lc_write_guard *thread_guard;

lc_status lc_write_guard_create(lc_write_guard **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_write_guard_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "lc_write_guard_create: out of memory");
}

void lc_write_guard_free(lc_write_guard *g) { free(g); }

void lc_write_guard_attach(lc_write_guard *g) { thread_guard = g; }

void lc_write_guard_abort(lc_write_guard *g)
{
    if (!g) return;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        char *tmp = atomic_load(&g->tmp[i]);
        if (tmp) unlink(tmp); /* async-signal-safe */
    }
}

/* Records `tmp` in a free slot of the thread's guard: the slot, or -1. */
static int guard_track(lc_write_guard *g, char *tmp)
{
    for (int i = 0; g && i < GUARD_SLOTS; i++) {
        char *none = NULL;
        if (atomic_compare_exchange_strong(&g->tmp[i], &none, tmp)) return i;
    }
    return -1;
}

/* Creates "<path>.tmp.<pid>.<n>" exclusively. Mode 0666 lets the kernel
 * apply the umask, so the output gets the usual permissions without
 * touching the process-wide umask. */
static int create_temp(const char *path, char *tmp, size_t size)
{
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1u));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

/* An atomic write in progress: the temporary file, a small buffer that
 * gathers the many small appends of a serializer, and the first error
 * (sticky, so writers whose callbacks cannot fail still report it). */
struct lc_atomic_file {
    char *path, *tmp;
    lc_write_guard *guard; /* the writing thread's, with tmp in slot `slot` */
    int slot;
    int fd;
    lc_status err;
    size_t total, used;
    uint8_t buf[1 << 16];
};

static lc_status write_all(lc_atomic_file *f, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return lc_fail(LC_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return LC_OK;
}

lc_status lc_atomic_file_open(const char *path, lc_atomic_file **out)
{
    *out = NULL;
    lc_atomic_file *f = malloc(sizeof *f);
    size_t n = strlen(path) + 48;
    char *tmp = malloc(n), *dup = lc_strdup(path);
    if (!f || !tmp || !dup) {
        free(f);
        free(tmp);
        free(dup);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    int fd = create_temp(path, tmp, n);
    if (fd < 0) {
        lc_status s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        free(f);
        free(tmp);
        free(dup);
        return s;
    }
    f->path = dup;
    f->tmp = tmp;
    f->fd = fd;
    f->err = LC_OK;
    f->total = f->used = 0;
    f->guard = thread_guard;
    f->slot = guard_track(f->guard, tmp);
    *out = f;
    return LC_OK;
}

lc_status lc_atomic_file_write(lc_atomic_file *f, const void *data, size_t len)
{
    if (f->err) return f->err;
    const uint8_t *p = data;
    f->total += len;
    if (f->used + len <= sizeof f->buf) { /* small appends are gathered */
        if (len) memcpy(f->buf + f->used, p, len);
        f->used += len;
        return LC_OK;
    }
    if (f->used && (f->err = write_all(f, f->buf, f->used))) return f->err;
    f->used = 0;
    if (len < sizeof f->buf) {
        memcpy(f->buf, p, len);
        f->used = len;
        return LC_OK;
    }
    return f->err = write_all(f, p, len); /* large blocks go straight through */
}

size_t lc_atomic_file_size(const lc_atomic_file *f) { return f->total; }

static void atomic_file_release(lc_atomic_file *f, bool remove)
{
    if (f->fd >= 0) close(f->fd);
    if (remove) unlink(f->tmp);
    if (f->slot >= 0) atomic_store(&f->guard->tmp[f->slot], NULL);
    free(f->tmp);
    free(f->path);
    free(f);
}

void lc_atomic_file_abort(lc_atomic_file *f)
{
    if (f) atomic_file_release(f, true);
}

lc_status lc_atomic_file_commit(lc_atomic_file *f)
{
    lc_status s = f->err;
    if (!s && f->used) s = write_all(f, f->buf, f->used);
    if (!s && fsync(f->fd) != 0) s = lc_fail(LC_ERR_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0 && !s) s = lc_fail(LC_ERR_IO, "%s: close failed: %s", f->path, strerror(errno));
    if (!s && rename(f->tmp, f->path) != 0) s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", f->path, strerror(errno));
    atomic_file_release(f, s != LC_OK);
    return s;
}

lc_status lc_write_file_atomic(const char *path, const void *buf, size_t len)
{
    lc_atomic_file *f;
    lc_status s = lc_atomic_file_open(path, &f);
    if (s) return s;
    if ((s = lc_atomic_file_write(f, buf, len))) {
        lc_atomic_file_abort(f);
        return s;
    }
    return lc_atomic_file_commit(f);
}

lc_status lc_write_file(const char *path, const void *buf, size_t len)
{
    if (!path || (!buf && len)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_write_file: NULL argument");
    return lc_write_file_atomic(path, buf, len);
}
