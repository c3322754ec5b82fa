/* lc_model -> ONNX ModelProto. The protobuf-c structs are thin shells that
 * point into the IR's own memory; only the shells are allocated (and freed
 * together at the end). Opaque parts kept as packed bytes are written back
 * verbatim as unknown fields with their original field numbers. */
#include <stdlib.h>
#include <string.h>

#include "lc_ir.h"
#include "onnx.pb-c.h"

typedef struct shells {
    void **ptrs;
    int n, cap;
    bool oom;
    bool (*skip)(void *user, const lc_tensor *t); /* write t without data */
    void *skip_user;
} shells;

static void *shell(shells *a, size_t size)
{
    if (a->oom) return NULL;
    if (lc_vec_reserve((void **)&a->ptrs, &a->cap, a->n + 1, sizeof *a->ptrs) != LC_OK) {
        a->oom = true;
        return NULL;
    }
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        a->oom = true;
        return NULL;
    }
    a->ptrs[a->n++] = p;
    return p;
}

static void shells_free(shells *a)
{
    for (int i = 0; i < a->n; i++) free(a->ptrs[i]);
    free(a->ptrs);
}

/* Attaches packed messages as unknown length-delimited fields `tag`.
 * protobuf-c writes an unknown field as its tag followed by `data` verbatim,
 * so for a length-delimited field `data` must start with the varint length
 * (as it does for unknown fields protobuf-c itself unpacked). */
static void attach_blobs(shells *a, ProtobufCMessage *msg, unsigned tag, const lc_blob *blobs, int n)
{
    if (n <= 0) return;
    ProtobufCMessageUnknownField *u = shell(a, (msg->n_unknown_fields + (size_t)n) * sizeof *u);
    if (!u) return;
    if (msg->n_unknown_fields) memcpy(u, msg->unknown_fields, msg->n_unknown_fields * sizeof *u);
    for (int i = 0; i < n; i++) {
        ProtobufCMessageUnknownField *f = &u[msg->n_unknown_fields + (size_t)i];
        f->tag = tag;
        f->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
        uint8_t *d = shell(a, blobs[i].len + 10);
        if (!d) return;
        size_t k = 0;
        for (uint64_t v = blobs[i].len; ; v >>= 7) {
            d[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            if (v <= 0x7f) break;
        }
        if (blobs[i].len) memcpy(d + k, blobs[i].data, blobs[i].len);
        f->len = k + blobs[i].len;
        f->data = d;
    }
    msg->n_unknown_fields += (size_t)n;
    msg->unknown_fields = u;
}

static Onnx__TensorProto *tensor_to_pb(shells *a, const lc_tensor *t)
{
    Onnx__TensorProto *tp = shell(a, sizeof *tp);
    if (!tp) return NULL;
    onnx__tensor_proto__init(tp);
    tp->n_dims = (size_t)t->ndim;
    tp->dims = (int64_t *)t->dims;
    tp->has_data_type = 1;
    tp->data_type = t->dtype;
    tp->name = t->name;
    tp->doc_string = t->doc_string;
    if (a->skip && a->skip(a->skip_user, t)) {
        /* a placeholder: name, dtype and dims only */
    } else if (t->dtype == LC_DTYPE_STRING) {
        int64_t n = lc_shape_numel(t->ndim, t->dims, 0);
        tp->n_string_data = (size_t)n;
        tp->string_data = shell(a, (size_t)n * sizeof *tp->string_data);
        if (!tp->string_data) return NULL;
        for (int64_t i = 0; i < n; i++) {
            tp->string_data[i].data = (uint8_t *)t->strings[i].data;
            tp->string_data[i].len = t->strings[i].len;
        }
    } else {
        tp->has_raw_data = 1;
        tp->raw_data.data = t->data;
        tp->raw_data.len = t->nbytes;
    }
    return tp;
}

static Onnx__TypeProto *type_to_pb(shells *a, const lc_type *t)
{
    if (t->kind != LC_TYPE_TENSOR) return NULL; /* opaque: see value_infos_to_pb */
    Onnx__TypeProto *tp = shell(a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = shell(a, sizeof *tt);
    if (!tp || !tt) return NULL;
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    tp->denotation = t->denotation;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = t->elem_type;
    if (!t->has_shape) return tp;
    Onnx__TensorShapeProto *sh = shell(a, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = shell(a, (size_t)t->ndim * sizeof *dims);
    if (!sh || !dims) return NULL;
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)t->ndim;
    sh->dim = dims;
    tt->shape = sh;
    for (int i = 0; i < t->ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = shell(a, sizeof *d);
        if (!d) return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        d->denotation = t->dims[i].denotation;
        if (t->dims[i].kind == LC_DIM_VALUE) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = t->dims[i].value;
        } else if (t->dims[i].kind == LC_DIM_PARAM) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = t->dims[i].param;
        }
        dims[i] = d;
    }
    return tp;
}

static Onnx__ValueInfoProto **value_infos_to_pb(shells *a, const lc_value_info *v, int n)
{
    Onnx__ValueInfoProto **out = shell(a, (size_t)n * sizeof *out);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
        Onnx__ValueInfoProto *p = shell(a, sizeof *p);
        if (!p) return NULL;
        onnx__value_info_proto__init(p);
        p->name = v[i].name;
        p->doc_string = v[i].doc_string;
        /* ValueInfoProto.type is field 2; an opaque type goes back verbatim */
        if (v[i].type.kind == LC_TYPE_OPAQUE) attach_blobs(a, &p->base, 2, &v[i].type.opaque, 1);
        else p->type = type_to_pb(a, &v[i].type);
        out[i] = p;
    }
    return out;
}

static Onnx__GraphProto *graph_to_pb(shells *a, const lc_graph *g);

static Onnx__AttributeProto *attr_to_pb(shells *a, const lc_attr *at)
{
    Onnx__AttributeProto *p = shell(a, sizeof *p);
    if (!p) return NULL;
    onnx__attribute_proto__init(p);
    p->name = at->name;
    p->doc_string = at->doc_string;
    p->ref_attr_name = at->ref_attr_name;
    p->has_type = 1;
    p->type = (Onnx__AttributeProto__AttributeType)at->type;
    switch (at->type) {
    case LC_ATTR_FLOAT: p->has_f = 1; p->f = at->f; break;
    case LC_ATTR_INT: p->has_i = 1; p->i = at->i; break;
    case LC_ATTR_STRING:
        p->has_s = 1;
        p->s.data = (uint8_t *)at->s.data;
        p->s.len = at->s.len;
        break;
    case LC_ATTR_TENSOR: p->t = tensor_to_pb(a, at->t); break;
    case LC_ATTR_GRAPH: p->g = graph_to_pb(a, at->g); break;
    case LC_ATTR_FLOATS: p->n_floats = (size_t)at->n; p->floats = at->floats; break;
    case LC_ATTR_INTS: p->n_ints = (size_t)at->n; p->ints = at->ints; break;
    case LC_ATTR_STRINGS:
        p->n_strings = (size_t)at->n;
        p->strings = shell(a, (size_t)at->n * sizeof *p->strings);
        if (!p->strings) return NULL;
        for (int i = 0; i < at->n; i++) {
            p->strings[i].data = (uint8_t *)at->strings[i].data;
            p->strings[i].len = at->strings[i].len;
        }
        break;
    case LC_ATTR_TENSORS:
        p->n_tensors = (size_t)at->n;
        p->tensors = shell(a, (size_t)at->n * sizeof *p->tensors);
        if (!p->tensors) return NULL;
        for (int i = 0; i < at->n; i++) p->tensors[i] = tensor_to_pb(a, at->tensors[i]);
        break;
    case LC_ATTR_GRAPHS:
        p->n_graphs = (size_t)at->n;
        p->graphs = shell(a, (size_t)at->n * sizeof *p->graphs);
        if (!p->graphs) return NULL;
        for (int i = 0; i < at->n; i++) p->graphs[i] = graph_to_pb(a, at->graphs[i]);
        break;
    /* AttributeProto field numbers: sparse_tensor 22, tp 14,
     * sparse_tensors 23, type_protos 15. */
    case LC_ATTR_SPARSE_TENSOR: attach_blobs(a, &p->base, 22, at->opaque, 1); break;
    case LC_ATTR_TYPE_PROTO: attach_blobs(a, &p->base, 14, at->opaque, 1); break;
    case LC_ATTR_SPARSE_TENSORS: attach_blobs(a, &p->base, 23, at->opaque, at->n); break;
    case LC_ATTR_TYPE_PROTOS: attach_blobs(a, &p->base, 15, at->opaque, at->n); break;
    default: break;
    }
    return p;
}

static Onnx__NodeProto *node_to_pb(shells *a, const lc_node *n)
{
    Onnx__NodeProto *p = shell(a, sizeof *p);
    if (!p) return NULL;
    onnx__node_proto__init(p);
    p->n_input = (size_t)n->n_inputs;
    p->input = n->inputs;
    p->n_output = (size_t)n->n_outputs;
    p->output = n->outputs;
    p->name = n->name;
    p->op_type = n->op_type;
    p->domain = n->domain;
    p->doc_string = n->doc_string;
    p->n_attribute = (size_t)n->n_attrs;
    p->attribute = shell(a, (size_t)n->n_attrs * sizeof *p->attribute);
    if (!p->attribute) return NULL;
    for (int i = 0; i < n->n_attrs; i++) p->attribute[i] = attr_to_pb(a, &n->attrs[i]);
    return p;
}

static Onnx__GraphProto *graph_to_pb(shells *a, const lc_graph *g)
{
    Onnx__GraphProto *p = shell(a, sizeof *p);
    if (!p) return NULL;
    onnx__graph_proto__init(p);
    p->name = g->name;
    p->doc_string = g->doc_string;
    p->n_node = (size_t)g->n_nodes;
    p->node = shell(a, (size_t)g->n_nodes * sizeof *p->node);
    if (!p->node) return NULL;
    for (int i = 0; i < g->n_nodes; i++) p->node[i] = node_to_pb(a, g->nodes[i]);
    p->n_initializer = (size_t)g->n_inits;
    p->initializer = shell(a, (size_t)g->n_inits * sizeof *p->initializer);
    if (!p->initializer) return NULL;
    for (int i = 0; i < g->n_inits; i++) p->initializer[i] = tensor_to_pb(a, g->inits[i]);
    p->n_input = (size_t)g->n_inputs;
    p->input = value_infos_to_pb(a, g->inputs, g->n_inputs);
    p->n_output = (size_t)g->n_outputs;
    p->output = value_infos_to_pb(a, g->outputs, g->n_outputs);
    p->n_value_info = (size_t)g->n_value_info;
    p->value_info = value_infos_to_pb(a, g->value_info, g->n_value_info);
    /* GraphProto: sparse_initializer 15, quantization_annotation 14 */
    attach_blobs(a, &p->base, 15, g->sparse_inits, g->n_sparse_inits);
    attach_blobs(a, &p->base, 14, g->quant_annots, g->n_quant_annots);
    return p;
}

/* A ProtobufCBuffer whose appends go to a write callback; the first
 * failure stops further writes (append cannot fail). */
typedef struct sink {
    ProtobufCBuffer base;
    lc_write_fn write;
    void *user;
    lc_status err;
} sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    sink *k = (sink *)b;
    if (!k->err && len) k->err = k->write(k->user, data, len);
}

/* Serializes into a malloc'ed *buf, or through `out` in pieces, or (both
 * NULL) only computes the size: the message borrows the model's tensors,
 * so sizing and streaming cost no copy. */
static lc_status save_buffer(const lc_model *m, bool (*skip)(void *user, const lc_tensor *t), void *skip_user,
                             void **buf, sink *out, size_t *len)
{
    if (!m || !len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_onnx_buffer: NULL argument");
    if (buf) *buf = NULL;
    *len = 0;
    shells a = {0};
    a.skip = skip;
    a.skip_user = skip_user;
    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    mp.has_ir_version = 1;
    mp.ir_version = m->ir_version;
    mp.n_opset_import = (size_t)m->n_opsets;
    mp.opset_import = shell(&a, (size_t)m->n_opsets * sizeof *mp.opset_import);
    for (int i = 0; mp.opset_import && i < m->n_opsets; i++) {
        Onnx__OperatorSetIdProto *o = shell(&a, sizeof *o);
        if (!o) break;
        onnx__operator_set_id_proto__init(o);
        o->domain = (char *)m->opsets[i].domain;
        o->has_version = 1;
        o->version = m->opsets[i].version;
        mp.opset_import[i] = o;
    }
    mp.producer_name = m->producer_name;
    mp.producer_version = m->producer_version;
    mp.domain = m->domain;
    mp.has_model_version = m->has_model_version;
    mp.model_version = m->model_version;
    mp.doc_string = m->doc_string;
    mp.graph = graph_to_pb(&a, m->graph);
    mp.n_metadata_props = (size_t)m->n_meta;
    mp.metadata_props = shell(&a, (size_t)m->n_meta * sizeof *mp.metadata_props);
    for (int i = 0; mp.metadata_props && i < m->n_meta; i++) {
        Onnx__StringStringEntryProto *e = shell(&a, sizeof *e);
        if (!e) break;
        onnx__string_string_entry_proto__init(e);
        e->key = m->meta[i].key;
        e->value = m->meta[i].value;
        mp.metadata_props[i] = e;
    }
    /* ModelProto: training_info 20, functions 25 */
    attach_blobs(&a, &mp.base, 20, m->training_info, m->n_training_info);
    attach_blobs(&a, &mp.base, 25, m->functions, m->n_functions);
    lc_status s = LC_OK;
    if (a.oom) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory while serializing the model");
        goto done;
    }
    if (out) {
        *len = protobuf_c_message_pack_to_buffer(&mp.base, &out->base);
        s = out->err;
        goto done;
    }
    size_t n = protobuf_c_message_get_packed_size(&mp.base);
    if (!buf) {
        *len = n;
        goto done;
    }
    *buf = malloc(n ? n : 1);
    if (!*buf) {
        s = lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes) while serializing the model", n);
        goto done;
    }
    *len = protobuf_c_message_pack(&mp.base, *buf);
done:
    shells_free(&a);
    return s;
}

lc_status lc_model_save_onnx_buffer(const lc_model *m, void **buf, size_t *len)
{
    if (!buf) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_onnx_buffer: NULL argument");
    return save_buffer(m, NULL, NULL, buf, NULL, len);
}

lc_status lc_model_onnx_size(const lc_model *m, size_t *len)
{
    return save_buffer(m, NULL, NULL, NULL, NULL, len);
}

lc_status lc_model_save_onnx_stream(const lc_model *m, lc_write_fn write, void *user)
{
    if (!write) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_save_onnx_stream: NULL argument");
    sink k = {{sink_append}, write, user, LC_OK};
    size_t len;
    return save_buffer(m, NULL, NULL, NULL, &k, &len);
}

static lc_status write_atomic(void *user, const void *buf, size_t len)
{
    return lc_atomic_file_write(user, buf, len);
}

lc_status lc_model_save_onnx_to(const lc_model *m, lc_atomic_file *f)
{
    return lc_model_save_onnx_stream(m, write_atomic, f);
}

lc_status lc_onnx_save_skeleton(const lc_model *m, bool (*skip)(void *user, const lc_tensor *t), void *user,
                                void **buf, size_t *len)
{
    return save_buffer(m, skip, user, buf, NULL, len);
}
