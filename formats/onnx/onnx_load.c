/* ONNX ModelProto -> lc_model. Every field that carries meaning is copied;
 * the rest is kept as packed bytes (see lc_ir.h). Input is untrusted: every
 * size is checked, nesting is bounded, and errors name file, graph, node and
 * tensor. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lc_ir.h"
#include "onnx_internal.h"
#include "onnx.pb-c.h"

#define MAX_GRAPH_DEPTH 32

typedef struct load_ctx {
    const char *label;    /* file name for messages */
    const char *base_dir; /* external data folder, or NULL */
    int depth;
    bool placeholders;    /* a tensor without any data is a placeholder */
    bool take_raw;        /* the unpacked message is ours: tensors take its
                             raw_data buffers instead of copying them */
} load_ctx;

static lc_status pack_blob(const ProtobufCMessage *msg, lc_blob *out)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    out->data = malloc(n ? n : 1);
    if (!out->data) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    out->len = protobuf_c_message_pack(msg, out->data);
    return LC_OK;
}

static lc_status copy_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return LC_OK;
    *dst = lc_strdup(src);
    return *dst ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

static lc_status copy_bytes(lc_bytes *dst, const ProtobufCBinaryData *src)
{
    dst->data = lc_strndup(src->data ? (const char *)src->data : "", src->len);
    dst->len = src->len;
    return dst->data ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

/* ---------------------------------------------------------------- */
/* Tensors                                                          */
/* ---------------------------------------------------------------- */

static lc_status read_external(const load_ctx *c, const Onnx__TensorProto *tp, lc_tensor *t)
{
    const char *location = NULL;
    long long offset = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
        if (!k || !v) continue;
        char *end;
        if (strcmp(k, "location") == 0) location = v;
        else if (strcmp(k, "offset") == 0 || strcmp(k, "length") == 0) {
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || *end || x < 0)
                return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': bad external data %s '%s'", c->label, t->name, k, v);
            if (k[0] == 'o') offset = x;
            else length = x;
        }
    }
    if (!location || !*location)
        return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': external data without a location", c->label, t->name);
    if (!c->base_dir)
        return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': external data '%s' but the model was not read from a file", c->label, t->name, location);
    char path[PATH_MAX];
    lc_status s = lc_external_path(c->base_dir, location, path, sizeof path);
    if (s) return lc_fail_prefix(s, "%s: tensor '%s'", c->label, t->name);
    /* numel was checked for overflow by the caller */
    size_t need = (size_t)lc_shape_numel(t->ndim, t->dims, 0) * lc_dtype_size(t->dtype);
    if (length >= 0 && (uint64_t)length != need)
        return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': external data length %lld, but its shape needs %zu bytes", c->label, t->name, length, need);
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail(LC_ERR_IO, "%s: tensor '%s': cannot open external data '%s': %s", c->label, t->name, location, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < (uint64_t)offset ||
        (uint64_t)st.st_size - (uint64_t)offset < need) {
        s = lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': external data '%s' is not a file of at least offset %lld + %zu bytes", c->label, t->name, location, offset, need);
        goto done;
    }
    if ((s = lc_tensor_alloc_data(t))) goto done;
    if (need && (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(t->data, 1, need, f) != need))
        s = lc_fail(LC_ERR_IO, "%s: tensor '%s': cannot read external data '%s': %s", c->label, t->name, location, strerror(errno));
done:
    fclose(f);
    return s;
}

/* Copies n typed-field elements into the native buffer, narrowing as ONNX
 * prescribes (int32_data holds 8/16-bit ints, bool and float16 bits). */
static void narrow_int32(void *dst, const int32_t *src, size_t n, size_t es)
{
    for (size_t i = 0; i < n; i++) {
        if (es == 1) ((uint8_t *)dst)[i] = (uint8_t)src[i];
        else if (es == 2) ((uint16_t *)dst)[i] = (uint16_t)src[i];
        else ((int32_t *)dst)[i] = src[i];
    }
}

static lc_status tensor_from_pb(const load_ctx *c, const Onnx__TensorProto *tp, lc_tensor **out)
{
    *out = NULL;
    const char *name = tp->name ? tp->name : "";
    if (tp->n_dims > LC_MAX_DIMS)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: tensor '%s': %zu dims (at most %d supported)", c->label, name, tp->n_dims, LC_MAX_DIMS);
    int dtype = tp->has_data_type ? tp->data_type : 0;
    size_t es = lc_dtype_size(dtype);
    if (dtype <= 0 || dtype >= LC_DTYPE_COUNT || (!es && dtype != LC_DTYPE_STRING))
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported data type %d", c->label, name, dtype);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': negative dimension %lld", c->label, name, (long long)tp->dims[i]);
    int64_t numel = lc_shape_numel((int)tp->n_dims, tp->dims, es ? es : sizeof(lc_bytes));
    if (numel < 0)
        return lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': element count of its dims overflows", c->label, name);

    lc_tensor *t = lc_tensor_new(name, dtype, (int)tp->n_dims, tp->dims);
    if (!t) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = copy_str(&t->doc_string, tp->doc_string);
    if (s) goto fail;
    bool external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* Check the stored size before allocating, so a hostile header cannot
     * make us allocate terabytes. */
    size_t n = (size_t)numel;
    if (dtype == LC_DTYPE_STRING) {
        if (tp->n_string_data != n) {
            s = lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': %zu strings for %zu elements", c->label, name, tp->n_string_data, n);
            goto fail;
        }
    } else if (!external && c->placeholders && !tp->has_raw_data && !tp->n_float_data && !tp->n_int32_data &&
               !tp->n_int64_data && !tp->n_double_data && !tp->n_uint64_data) {
        /* .lcm skeleton: the caller fills the data (not allocated here, so
         * hostile dims cannot make us allocate) */
        *out = t;
        return LC_OK;
    } else if (!external) {
        size_t have, need = n;
        const char *field;
        if (tp->has_raw_data) have = tp->raw_data.len, need = n * es, field = "raw_data bytes";
        else if (dtype == LC_DTYPE_FLOAT || dtype == LC_DTYPE_COMPLEX64) have = tp->n_float_data, field = "float_data values";
        else if (dtype == LC_DTYPE_INT64) have = tp->n_int64_data, field = "int64_data values";
        else if (dtype == LC_DTYPE_DOUBLE || dtype == LC_DTYPE_COMPLEX128) have = tp->n_double_data, field = "double_data values";
        else if (dtype == LC_DTYPE_UINT32 || dtype == LC_DTYPE_UINT64) have = tp->n_uint64_data, field = "uint64_data values";
        else have = tp->n_int32_data, field = "int32_data values";
        if (!tp->has_raw_data && (dtype == LC_DTYPE_COMPLEX64 || dtype == LC_DTYPE_COMPLEX128)) need = 2 * n;
        if (have != need) {
            s = lc_fail(LC_ERR_FORMAT, "%s: tensor '%s': %zu %s, but its dims [%s] need %zu", c->label, name, have, field,
                        lc_dims_str((int)tp->n_dims, tp->dims), need);
            goto fail;
        }
    }
    /* raw_data is little-endian, as the float view is: take the buffer
     * protobuf-c allocated (malloc, like lc_tensor's) so a model is never
     * held twice while it loads */
    if (c->take_raw && !external && tp->has_raw_data && dtype != LC_DTYPE_STRING && numel > 0) {
        Onnx__TensorProto *owned = (Onnx__TensorProto *)tp;
        t->nbytes = owned->raw_data.len;
        t->data = owned->raw_data.data;
        owned->raw_data.data = NULL;
        owned->raw_data.len = 0;
        *out = t;
        return LC_OK;
    }
    /* external data allocates in read_external, once the file is known to
     * hold the bytes the dims ask for */
    if (!external || dtype == LC_DTYPE_STRING) {
        s = lc_tensor_alloc_data(t);
        if (s) goto fail;
    }
    if (dtype == LC_DTYPE_STRING) {
        for (size_t i = 0; i < n; i++)
            if ((s = copy_bytes(&t->strings[i], &tp->string_data[i]))) goto fail;
    } else if (external) {
        if ((s = read_external(c, tp, t))) goto fail;
    } else if (!t->nbytes) {
        /* empty tensor: nothing to copy (and memcpy must not see NULL) */
    } else if (tp->has_raw_data) {
        memcpy(t->data, tp->raw_data.data, t->nbytes);
    } else if (dtype == LC_DTYPE_FLOAT || dtype == LC_DTYPE_COMPLEX64) {
        memcpy(t->data, tp->float_data, t->nbytes);
    } else if (dtype == LC_DTYPE_INT64) {
        memcpy(t->data, tp->int64_data, t->nbytes);
    } else if (dtype == LC_DTYPE_DOUBLE || dtype == LC_DTYPE_COMPLEX128) {
        memcpy(t->data, tp->double_data, t->nbytes);
    } else if (dtype == LC_DTYPE_UINT64) {
        memcpy(t->data, tp->uint64_data, t->nbytes);
    } else if (dtype == LC_DTYPE_UINT32) {
        for (size_t i = 0; i < n; i++) ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
    } else {
        narrow_int32(t->data, tp->int32_data, n, es);
    }
    *out = t;
    return LC_OK;
fail:
    lc_tensor_free(t);
    return s;
}

/* ---------------------------------------------------------------- */
/* Types and value infos                                            */
/* ---------------------------------------------------------------- */

static lc_status type_from_pb(const Onnx__TypeProto *tp, lc_type *out)
{
    memset(out, 0, sizeof *out);
    if (!tp) return LC_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        out->kind = LC_TYPE_OPAQUE;
        return pack_blob(&tp->base, &out->opaque);
    }
    out->kind = LC_TYPE_TENSOR;
    lc_status s = copy_str(&out->denotation, tp->denotation);
    if (s) return s;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    out->elem_type = tt->has_elem_type ? tt->elem_type : 0;
    if (!tt->shape) return LC_OK;
    out->has_shape = true;
    if (tt->shape->n_dim > (1u << 20)) return lc_fail(LC_ERR_FORMAT, "type with %zu dims", tt->shape->n_dim);
    out->ndim = (int)tt->shape->n_dim;
    out->dims = out->ndim ? calloc((size_t)out->ndim, sizeof *out->dims) : NULL;
    if (out->ndim && !out->dims) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < out->ndim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        lc_dim *o = &out->dims[i];
        if ((s = copy_str(&o->denotation, d->denotation))) return s;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            o->kind = LC_DIM_VALUE;
            o->value = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            o->kind = LC_DIM_PARAM;
            if ((s = copy_str(&o->param, d->dim_param))) return s;
        }
    }
    return LC_OK;
}

static lc_status value_infos_from_pb(const load_ctx *c, Onnx__ValueInfoProto *const *src, size_t n,
                                     lc_value_info **out, int *count)
{
    *out = n ? calloc(n, sizeof **out) : NULL;
    if (n && !*out) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    *count = (int)n;
    for (size_t i = 0; i < n; i++) {
        lc_value_info *v = &(*out)[i];
        lc_status s;
        if ((s = copy_str(&v->name, src[i]->name ? src[i]->name : ""))) return s;
        if ((s = copy_str(&v->doc_string, src[i]->doc_string))) return s;
        if ((s = type_from_pb(src[i]->type, &v->type))) return lc_fail_prefix(s, "%s: value '%s'", c->label, v->name);
    }
    return LC_OK;
}

/* ---------------------------------------------------------------- */
/* Attributes, nodes, graphs                                        */
/* ---------------------------------------------------------------- */

static lc_status graph_from_pb(load_ctx *c, const Onnx__GraphProto *gp, lc_graph **out);

/* Tensors in attributes (a Constant's value) often have no name: put the
 * node and attribute into tensor_from_pb's message, after the file name. */
static lc_status fail_in_attr(const load_ctx *c, const char *node, const char *attr, lc_status s)
{
    char old[1024];
    snprintf(old, sizeof old, "%s", lc_last_error());
    size_t n = strlen(c->label);
    const char *rest = strncmp(old, c->label, n) == 0 && old[n] == ':' && old[n + 1] == ' ' ? old + n + 2 : old;
    return lc_fail(s, "%s: node '%s' attribute '%s': %s", c->label, node, attr, rest);
}

static lc_status attr_from_pb(load_ctx *c, const lc_node *node, const Onnx__AttributeProto *ap, lc_attr *a)
{
    lc_status s;
    if ((s = copy_str(&a->name, ap->name ? ap->name : ""))) return s;
    if ((s = copy_str(&a->doc_string, ap->doc_string))) return s;
    if ((s = copy_str(&a->ref_attr_name, ap->ref_attr_name))) return s;
    a->type = ap->has_type ? (int)ap->type : LC_ATTR_UNDEFINED;
    if (a->type == LC_ATTR_UNDEFINED) {
        /* IR version 1 had no discriminator: infer it from the field set. */
        if (ap->has_f) a->type = LC_ATTR_FLOAT;
        else if (ap->has_i) a->type = LC_ATTR_INT;
        else if (ap->has_s) a->type = LC_ATTR_STRING;
        else if (ap->t) a->type = LC_ATTR_TENSOR;
        else if (ap->g) a->type = LC_ATTR_GRAPH;
        else if (ap->n_floats) a->type = LC_ATTR_FLOATS;
        else if (ap->n_ints) a->type = LC_ATTR_INTS;
        else if (ap->n_strings) a->type = LC_ATTR_STRINGS;
        else if (ap->n_tensors) a->type = LC_ATTR_TENSORS;
        else if (ap->n_graphs) a->type = LC_ATTR_GRAPHS;
    }
    const char *what = node->name && *node->name ? node->name : node->op_type;
    size_t n = 0;
    switch (a->type) {
    case LC_ATTR_FLOAT: a->f = ap->f; break;
    case LC_ATTR_INT: a->i = ap->i; break;
    case LC_ATTR_STRING: return copy_bytes(&a->s, &ap->s);
    case LC_ATTR_TENSOR:
        if (!ap->t) return lc_fail(LC_ERR_FORMAT, "%s: node '%s': tensor attribute '%s' has no tensor", c->label, what, a->name);
        if ((s = tensor_from_pb(c, ap->t, &a->t))) return fail_in_attr(c, what, a->name, s);
        break;
    case LC_ATTR_GRAPH:
        if (!ap->g) return lc_fail(LC_ERR_FORMAT, "%s: node '%s': graph attribute '%s' has no graph", c->label, what, a->name);
        return graph_from_pb(c, ap->g, &a->g);
    case LC_ATTR_FLOATS:
        n = ap->n_floats;
        a->floats = malloc(n ? n * sizeof(float) : 1);
        if (!a->floats) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        if (n) memcpy(a->floats, ap->floats, n * sizeof(float));
        break;
    case LC_ATTR_INTS:
        n = ap->n_ints;
        a->ints = malloc(n ? n * sizeof(int64_t) : 1);
        if (!a->ints) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        if (n) memcpy(a->ints, ap->ints, n * sizeof(int64_t));
        break;
    case LC_ATTR_STRINGS:
        n = ap->n_strings;
        a->strings = calloc(n ? n : 1, sizeof *a->strings);
        if (!a->strings) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++, a->n = (int)i)
            if ((s = copy_bytes(&a->strings[i], &ap->strings[i]))) return s;
        break;
    case LC_ATTR_TENSORS:
        n = ap->n_tensors;
        a->tensors = calloc(n ? n : 1, sizeof *a->tensors);
        if (!a->tensors) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++, a->n = (int)i)
            if ((s = tensor_from_pb(c, ap->tensors[i], &a->tensors[i]))) return fail_in_attr(c, what, a->name, s);
        break;
    case LC_ATTR_GRAPHS:
        n = ap->n_graphs;
        a->graphs = calloc(n ? n : 1, sizeof *a->graphs);
        if (!a->graphs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++, a->n = (int)i)
            if ((s = graph_from_pb(c, ap->graphs[i], &a->graphs[i]))) return s;
        break;
    case LC_ATTR_SPARSE_TENSOR:
    case LC_ATTR_TYPE_PROTO: {
        const ProtobufCMessage *m = a->type == LC_ATTR_SPARSE_TENSOR ? (const ProtobufCMessage *)ap->sparse_tensor
                                                                     : (const ProtobufCMessage *)ap->tp;
        if (!m) return lc_fail(LC_ERR_FORMAT, "%s: node '%s': attribute '%s' has no value", c->label, what, a->name);
        a->opaque = calloc(1, sizeof *a->opaque);
        if (!a->opaque) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        return pack_blob(m, &a->opaque[0]);
    }
    case LC_ATTR_SPARSE_TENSORS:
    case LC_ATTR_TYPE_PROTOS: {
        bool sp = a->type == LC_ATTR_SPARSE_TENSORS;
        n = sp ? ap->n_sparse_tensors : ap->n_type_protos;
        a->opaque = calloc(n ? n : 1, sizeof *a->opaque);
        if (!a->opaque) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++, a->n = (int)i) {
            const ProtobufCMessage *m = sp ? (const ProtobufCMessage *)ap->sparse_tensors[i]
                                           : (const ProtobufCMessage *)ap->type_protos[i];
            if ((s = pack_blob(m, &a->opaque[i]))) return s;
        }
        break;
    }
    default:
        return lc_fail(LC_ERR_FORMAT, "%s: node '%s': attribute '%s' has unknown type %d", c->label, what, a->name, a->type);
    }
    a->n = (int)n;
    return LC_OK;
}

static lc_status strings_from_pb(char *const *src, size_t n, char ***out, int *count)
{
    *count = 0;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = lc_strdup(src[i] ? src[i] : "");
        if (!(*out)[i]) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        *count = (int)i + 1;
    }
    return LC_OK;
}

static lc_status node_from_pb(load_ctx *c, const Onnx__NodeProto *np, lc_node **out)
{
    lc_node *n = calloc(1, sizeof *n);
    if (!n) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    *out = n;
    lc_status s;
    if ((s = copy_str(&n->name, np->name))) return s;
    if ((s = copy_str(&n->op_type, np->op_type ? np->op_type : ""))) return s;
    if ((s = copy_str(&n->domain, np->domain))) return s;
    if ((s = copy_str(&n->doc_string, np->doc_string))) return s;
    if ((s = strings_from_pb(np->input, np->n_input, &n->inputs, &n->n_inputs))) return s;
    if ((s = strings_from_pb(np->output, np->n_output, &n->outputs, &n->n_outputs))) return s;
    n->attrs = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs);
    if (!n->attrs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < np->n_attribute; i++) {
        n->n_attrs = (int)i + 1;
        if ((s = attr_from_pb(c, n, np->attribute[i], &n->attrs[i]))) return s;
    }
    return LC_OK;
}

static lc_status blobs_from_pb(ProtobufCMessage *const *src, size_t n, lc_blob **out, int *count)
{
    *count = 0;
    *out = n ? calloc(n, sizeof **out) : NULL;
    if (n && !*out) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        *count = (int)i + 1;
        lc_status s = pack_blob(src[i], &(*out)[i]);
        if (s) return s;
    }
    return LC_OK;
}

static lc_status graph_from_pb(load_ctx *c, const Onnx__GraphProto *gp, lc_graph **out)
{
    *out = NULL;
    if (c->depth >= MAX_GRAPH_DEPTH)
        return lc_fail(LC_ERR_FORMAT, "%s: subgraphs nested deeper than %d", c->label, MAX_GRAPH_DEPTH);
    c->depth++;
    lc_graph *g = calloc(1, sizeof *g);
    lc_status s = LC_ERR_NO_MEMORY;
    if (!g) goto fail;
    if ((s = copy_str(&g->name, gp->name))) goto fail;
    if ((s = copy_str(&g->doc_string, gp->doc_string))) goto fail;
    if ((s = lc_vec_reserve((void **)&g->nodes, &g->cap_nodes, (int)gp->n_node, sizeof *g->nodes))) goto fail;
    for (size_t i = 0; i < gp->n_node; i++) {
        lc_node *n = NULL;
        s = node_from_pb(c, gp->node[i], &n);
        if (n) g->nodes[g->n_nodes++] = n;
        if (s) goto fail;
    }
    if ((s = lc_vec_reserve((void **)&g->inits, &g->cap_inits, (int)gp->n_initializer, sizeof *g->inits))) goto fail;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        lc_tensor *t = NULL;
        if ((s = tensor_from_pb(c, gp->initializer[i], &t))) goto fail;
        g->inits[g->n_inits++] = t;
    }
    if ((s = value_infos_from_pb(c, gp->input, gp->n_input, &g->inputs, &g->n_inputs))) goto fail;
    if ((s = value_infos_from_pb(c, gp->output, gp->n_output, &g->outputs, &g->n_outputs))) goto fail;
    if ((s = value_infos_from_pb(c, gp->value_info, gp->n_value_info, &g->value_info, &g->n_value_info))) goto fail;
    if ((s = blobs_from_pb((ProtobufCMessage *const *)gp->sparse_initializer, gp->n_sparse_initializer,
                           &g->sparse_inits, &g->n_sparse_inits)))
        goto fail;
    if ((s = blobs_from_pb((ProtobufCMessage *const *)gp->quantization_annotation, gp->n_quantization_annotation,
                           &g->quant_annots, &g->n_quant_annots)))
        goto fail;
    c->depth--;
    *out = g;
    return LC_OK;
fail:
    c->depth--;
    lc_graph_free(g);
    return s ? s : LC_ERR_NO_MEMORY;
}

static lc_status model_from_pb(load_ctx *c, const Onnx__ModelProto *mp, lc_model **out)
{
    *out = NULL;
    if (!mp->graph)
        return lc_fail(LC_ERR_FORMAT, "%s: not an ONNX model (no graph)", c->label);
    lc_model *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = LC_ERR_NO_MEMORY;
    m->ir_version = mp->ir_version;
    m->opsets = calloc(mp->n_opset_import ? mp->n_opset_import : 1, sizeof *m->opsets);
    if (!m->opsets) goto fail;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        m->opsets[i].domain = lc_strdup(o->domain ? o->domain : "");
        if (!m->opsets[i].domain) goto fail;
        m->opsets[i].version = o->version;
        m->n_opsets = (int)i + 1;
    }
    if ((s = copy_str(&m->producer_name, mp->producer_name))) goto fail;
    if ((s = copy_str(&m->producer_version, mp->producer_version))) goto fail;
    if ((s = copy_str(&m->domain, mp->domain))) goto fail;
    if ((s = copy_str(&m->doc_string, mp->doc_string))) goto fail;
    m->has_model_version = mp->has_model_version;
    m->model_version = mp->model_version;
    m->meta = calloc(mp->n_metadata_props ? mp->n_metadata_props : 1, sizeof *m->meta);
    if (!m->meta) goto fail;
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        m->n_meta = (int)i + 1;
        if ((s = copy_str(&m->meta[i].key, mp->metadata_props[i]->key ? mp->metadata_props[i]->key : ""))) goto fail;
        if ((s = copy_str(&m->meta[i].value, mp->metadata_props[i]->value ? mp->metadata_props[i]->value : ""))) goto fail;
    }
    if ((s = blobs_from_pb((ProtobufCMessage *const *)mp->training_info, mp->n_training_info, &m->training_info,
                           &m->n_training_info)))
        goto fail;
    if ((s = blobs_from_pb((ProtobufCMessage *const *)mp->functions, mp->n_functions, &m->functions,
                           &m->n_functions)))
        goto fail;
    if ((s = graph_from_pb(c, mp->graph, &m->graph))) goto fail;
    *out = m;
    return LC_OK;
fail:
    lc_model_free(m);
    return s ? s : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

static lc_status load_buffer(const void *buf, size_t len, const char *base_dir, const char *label, bool placeholders,
                             lc_model **out)
{
    if (!out) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load_onnx_buffer: out is NULL");
    *out = NULL;
    if (!buf && len) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_load_onnx_buffer: buf is NULL");
    load_ctx c = {label ? label : "<buffer>", base_dir, 0, placeholders, true};
    if (len == 0) return lc_fail(LC_ERR_FORMAT, "%s: empty file, not an ONNX model", c.label);
    lc_status s = lc_onnx_check_nesting(buf, len);
    if (s) return lc_fail_prefix(s, "%s", c.label);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp) return lc_fail(LC_ERR_FORMAT, "%s: not a valid ONNX model (protobuf parse failed)", c.label);
    lc_model *m = NULL;
    s = model_from_pb(&c, mp, &m);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (s) return s;
    if (m->ir_version <= 0 && m->n_opsets == 0) {
        lc_model_free(m);
        return lc_fail(LC_ERR_FORMAT, "%s: not an ONNX model (no ir_version and no opset_import)", c.label);
    }
    /* Required since IR version 3; without this check a file cut right after
     * its graph would load as a valid model. */
    if (m->ir_version >= 3 && m->n_opsets == 0) {
        lc_model_free(m);
        return lc_fail(LC_ERR_FORMAT, "%s: no opset_import (required since IR version 3; truncated file?)", c.label);
    }
    if ((s = lc_model_verify(m, c.label))) {
        lc_model_free(m);
        return s;
    }
    *out = m;
    return LC_OK;
}

lc_status lc_model_load_onnx_buffer(const void *buf, size_t len, const char *base_dir, const char *label,
                                    lc_model **out)
{
    return load_buffer(buf, len, base_dir, label, false, out);
}

lc_status lc_onnx_load_skeleton(const void *buf, size_t len, const char *label, lc_model **out)
{
    return load_buffer(buf, len, NULL, label, true, out);
}

lc_status lc_onnx_tensor_from_pb(const void *tensor_proto, const char *label, const char *base_dir, lc_tensor **out)
{
    load_ctx c = {label ? label : "<tensor>", base_dir, 0, false, false};
    return tensor_from_pb(&c, tensor_proto, out);
}
