/* A serialized TensorProto file (ONNX backend test data) -> lc_tensor. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "onnx.pb-c.h"
#include "onnx_internal.h"

lc_status lc_tensor_load_pb(const char *path, lc_tensor **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_tensor_load_pb: out is NULL");
    *out = NULL;
    if (!path) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_tensor_load_pb: path is NULL");
    void *buf = NULL;
    size_t len = 0;
    lc_status s = lc_read_file(path, &buf, &len);
    if (s) return s;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) return lc_fail(LC_ERR_FORMAT, "%s: not a serialized ONNX TensorProto", path);
    /* External data of a tensor file lives beside it. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    s = lc_onnx_tensor_from_pb(tp, path, dirname(dir), out);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return s;
}
