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

/* The temporary file of the write in progress (one at a time per process
 * is enough for the CLI), for lc_write_file_abort in a signal handler. */
static char *volatile pending_tmp;

void lc_write_file_abort(void)
{
    char *tmp = pending_tmp;
    if (tmp) unlink(tmp); /* async-signal-safe */
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

lc_status lc_write_file_atomic(const char *path, const void *buf, size_t len)
{
    size_t n = strlen(path) + 48;
    char *tmp = malloc(n);
    if (!tmp) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    int fd = create_temp(path, tmp, n);
    if (fd < 0) {
        lc_status s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    pending_tmp = tmp;
    const uint8_t *p = buf;
    size_t done = 0;
    lc_status s = LC_OK;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            s = lc_fail(LC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (!s && fsync(fd) != 0) s = lc_fail(LC_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && !s) s = lc_fail(LC_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (!s && rename(tmp, path) != 0) s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (s) unlink(tmp);
    pending_tmp = NULL;
    free(tmp);
    return s;
}

lc_status lc_write_file(const char *path, const void *buf, size_t len)
{
    if (!path || (!buf && len)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_write_file: NULL argument");
    return lc_write_file_atomic(path, buf, len);
}
