/* Model files: load by content (.lcm by its magic, else ONNX protobuf),
 * save ONNX atomically. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"

lc_status lc_model_load(const char *path, lc_model **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load: out is NULL");
    *out = NULL;
    if (!path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load: path is NULL");
    void *buf;
    size_t len;
    lc_status s = lc_read_file(path, &buf, &len);
    if (s) return s;
    char *copy = lc_strdup(path);
    if (!copy) {
        free(buf);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    if (lc_lcm_is(buf, len)) s = lc_model_load_lcm_buffer(buf, len, path, out);
    else s = lc_model_load_onnx_buffer(buf, len, dirname(copy), path, out);
    free(copy);
    free(buf);
    if (!s) {
        (*out)->path = lc_strdup(path);
        if (!(*out)->path) {
            lc_model_free(*out);
            *out = NULL;
            s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        }
    }
    return s;
}

lc_status lc_model_save_onnx(const lc_model *m, const char *path)
{
    if (!m || !path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_onnx: NULL argument");
    void *buf;
    size_t len;
    lc_status s = lc_model_save_onnx_buffer(m, &buf, &len);
    if (s) return s;
    s = lc_write_file_atomic(path, buf, len);
    free(buf);
    return s;
}
