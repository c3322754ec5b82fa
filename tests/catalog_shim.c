/* LD_PRELOAD shim for tests/bad_input_catalog.py: makes an atomic write go
 * wrong at a known point, deterministically. LC_SHIM in the environment:
 *   "signal:N"  raise signal N just before the temporary file is renamed
 *               into place (it is then complete and still there);
 *   "fsync-eio" fsync fails with EIO (a disk error while writing).
 * Without LC_SHIM the calls pass straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *mode = getenv("LC_SHIM");
    if (mode && !strncmp(mode, "signal:", 7) && strstr(from, ".tmp.")) raise(atoi(mode + 7));
    return real(from, to);
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    const char *mode = getenv("LC_SHIM");
    if (mode && !strcmp(mode, "fsync-eio")) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
