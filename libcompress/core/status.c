/* Status names and the thread-local last-error message. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lc_ir.h"

static _Thread_local char last_error[1024];

const char *lc_version(void) { return LC_VERSION_STRING; }

int lc_version_number(void) { return LC_VERSION_NUMBER; }

const char *lc_status_name(lc_status s)
{
    static const char *const names[] = {
        "LC_OK", "LC_ERR_INVALID_ARGUMENT", "LC_ERR_NO_MEMORY", "LC_ERR_IO",
        "LC_ERR_FORMAT", "LC_ERR_UNSUPPORTED", "LC_ERR_SHAPE", "LC_ERR_DTYPE",
        "LC_ERR_NOT_FOUND", "LC_ERR_PARAMETER", "LC_ERR_VERIFY",
        "LC_ERR_INTERNAL", "LC_ERR_BUDGET",
    };
    static_assert(sizeof names / sizeof names[0] == 1 - LC_ERR_BUDGET, "a status without a name");
    int i = -(int)s;
    if (i < 0 || i >= (int)(sizeof names / sizeof names[0])) return "LC_ERR_UNKNOWN";
    return names[i];
}

const char *lc_last_error(void) { return last_error; }

/* Messages quote names taken from untrusted files; a control character in
 * one (a newline in a tensor name) must not split the one-line message. */
static void flatten(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

lc_status lc_fail(lc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    flatten(last_error);
    return s;
}

lc_status lc_fail_prefix(lc_status s, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof last_error - 3) n = sizeof last_error - 3;
    memcpy(last_error, prefix, n);
    memcpy(last_error + n, ": ", 2);
    size_t rest = sizeof last_error - n - 3;
    strncpy(last_error + n + 2, old, rest);
    last_error[sizeof last_error - 1] = 0;
    flatten(last_error);
    return s;
}
