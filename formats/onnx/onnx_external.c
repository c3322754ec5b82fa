/* Resolving external-data locations without letting a model read files
 * outside its own folder. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

lc_status lc_external_path(const char *base_dir, const char *location, char *out, size_t out_size)
{
    if (location[0] == '/' || location[0] == '\\')
        return lc_fail(LC_ERR_FORMAT, "external data location '%s' is an absolute path (refused)", location);
    /* Reject ".." as any path component, with either separator. */
    for (const char *p = location; *p;) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return lc_fail(LC_ERR_FORMAT, "external data location '%s' leaves the model's folder (refused)", location);
        p += n;
        if (*p) p++;
    }
    char joined[PATH_MAX], real_base[PATH_MAX], real_file[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", base_dir, location) >= sizeof joined)
        return lc_fail(LC_ERR_FORMAT, "external data location '%s' is too long", location);
    if (!realpath(base_dir, real_base))
        return lc_fail(LC_ERR_IO, "cannot resolve folder '%s': %s", base_dir, strerror(errno));
    if (!realpath(joined, real_file))
        return lc_fail(LC_ERR_IO, "external data file '%s' not found: %s", location, strerror(errno));
    size_t nb = strlen(real_base);
    if (strncmp(real_file, real_base, nb) != 0 || (real_file[nb] != '/' && strcmp(real_base, "/") != 0))
        return lc_fail(LC_ERR_FORMAT, "external data location '%s' resolves outside the model's folder (refused)", location);
    if (strlen(real_file) >= out_size) return lc_fail(LC_ERR_FORMAT, "external data path too long");
    strcpy(out, real_file);
    return LC_OK;
}
