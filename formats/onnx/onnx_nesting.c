/* A pre-pass over a serialized ModelProto that bounds message nesting.
 * protobuf-c unpacks recursively with no depth limit, so a small hostile
 * file (graph -> node -> attribute -> graph -> ...) could exhaust the stack
 * before we see a single field. This walker uses the generated descriptors
 * to know which length-delimited fields are messages. */
#include <stdint.h>

#include "onnx_internal.h"
#include "onnx.pb-c.h"

#define MAX_NESTING 100

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static lc_status walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth)
{
    if (depth > MAX_NESTING) return lc_fail(LC_ERR_FORMAT, "messages nested deeper than %d levels", MAX_NESTING);
    while (p < end) {
        uint64_t tag, len;
        if (read_varint(&p, end, &tag)) return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (malformed protobuf)");
        switch (tag & 7) {
        case 0:
            if (read_varint(&p, end, &len)) return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (malformed protobuf)");
            break;
        case 1:
            if (end - p < 8) return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (truncated protobuf)");
            p += 8;
            break;
        case 5:
            if (end - p < 4) return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (truncated protobuf)");
            p += 4;
            break;
        case 2: {
            if (read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (truncated protobuf)");
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                lc_status s = walk(f->descriptor, p, p + len, depth + 1);
                if (s) return s;
            }
            p += len;
            break;
        }
        default:
            return lc_fail(LC_ERR_FORMAT, "not a valid ONNX model (unexpected protobuf wire type %d)", (int)(tag & 7));
        }
    }
    return LC_OK;
}

lc_status lc_onnx_check_nesting(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    return walk(&onnx__model_proto__descriptor, p, p + len, 0);
}
