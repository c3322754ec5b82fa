/*
 * lc_ir.h - the in-memory representation of a model (internal).
 *
 * Included by the library's own parts (libcompress/, passes/, formats/,
 * datasets/); never by the CLI, which sees only <libcompress.h>.
 *
 * The IR mirrors ONNX closely so that a load -> save round trip is lossless:
 * every field of ModelProto/GraphProto/NodeProto/AttributeProto that carries
 * meaning is modelled, and the few that no pass needs (functions, training
 * info, sparse initializers, quantization annotations, sparse and type-proto
 * attributes, non-tensor types) are kept as opaque packed protobuf bytes and
 * written back verbatim.
 *
 * Memory: every struct owns its strings, arrays and children (malloc'ed);
 * each has one _free function. Growable arrays use lc_vec_reserve().
 */
#ifndef LC_IR_H
#define LC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libcompress.h>

/* Opaque packed protobuf bytes kept for losslessness. */
typedef struct lc_blob {
    uint8_t *data;
    size_t len;
} lc_blob;

typedef struct lc_strpair {
    char *key;
    char *value;
} lc_strpair;

/* A string with explicit length (ONNX `bytes` may hold NULs). */
typedef struct lc_bytes {
    char *data; /* NUL-terminated as a convenience; len excludes it */
    size_t len;
} lc_bytes;

struct lc_tensor {
    char *name;
    char *doc_string;
    int dtype;           /* lc_dtype */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    void *data;          /* numel * lc_dtype_size(dtype) bytes, C order,
                            native (little-endian) layout; NULL if numel 0 */
    size_t nbytes;
    lc_bytes *strings;   /* STRING tensors only: numel entries */
    struct lc_encoding *enc; /* how it is stored compactly; NULL: dense
                                float (see lc_encoding.h) */
    int *shared;         /* non-NULL: `data` is shared copy-on-write with
                            the tensors of other models (lc_model_clone_shared)
                            holding the same counter; change `data` only
                            after lc_tensor_unshare */
};

/* One dimension of a tensor type: a value, a symbolic name, or unknown. */
typedef struct lc_dim {
    int kind;            /* LC_DIM_UNKNOWN, LC_DIM_VALUE, LC_DIM_PARAM */
    int64_t value;
    char *param;
    char *denotation;
} lc_dim;
enum { LC_DIM_UNKNOWN = 0, LC_DIM_VALUE = 1, LC_DIM_PARAM = 2 };

/* TypeProto: tensor types are modelled; anything else is opaque. */
typedef struct lc_type {
    int kind;            /* LC_TYPE_NONE, LC_TYPE_TENSOR, LC_TYPE_OPAQUE */
    int elem_type;       /* tensor: lc_dtype */
    bool has_shape;      /* tensor: false = rank unknown */
    int ndim;
    lc_dim *dims;
    char *denotation;
    lc_blob opaque;      /* LC_TYPE_OPAQUE: the packed TypeProto */
} lc_type;
enum { LC_TYPE_NONE = 0, LC_TYPE_TENSOR = 1, LC_TYPE_OPAQUE = 2 };

typedef struct lc_value_info {
    char *name;
    char *doc_string;
    lc_type type;
} lc_value_info;

typedef struct lc_graph lc_graph;

/* Attribute kinds, numbered like ONNX's AttributeProto.AttributeType. */
enum {
    LC_ATTR_UNDEFINED = 0, LC_ATTR_FLOAT = 1, LC_ATTR_INT = 2,
    LC_ATTR_STRING = 3, LC_ATTR_TENSOR = 4, LC_ATTR_GRAPH = 5,
    LC_ATTR_FLOATS = 6, LC_ATTR_INTS = 7, LC_ATTR_STRINGS = 8,
    LC_ATTR_TENSORS = 9, LC_ATTR_GRAPHS = 10, LC_ATTR_SPARSE_TENSOR = 11,
    LC_ATTR_SPARSE_TENSORS = 12, LC_ATTR_TYPE_PROTO = 13,
    LC_ATTR_TYPE_PROTOS = 14
};

typedef struct lc_attr {
    char *name;
    char *doc_string;
    char *ref_attr_name; /* NULL unless set (function bodies) */
    int type;            /* LC_ATTR_* */
    float f;
    int64_t i;
    lc_bytes s;
    lc_tensor *t;
    lc_graph *g;
    int n;               /* element count of the list kinds below */
    float *floats;
    int64_t *ints;
    lc_bytes *strings;
    lc_tensor **tensors;
    lc_graph **graphs;
    lc_blob *opaque;     /* SPARSE_TENSOR(S), TYPE_PROTO(S): packed messages,
                            n entries for the list kinds, 1 otherwise */
} lc_attr;

typedef struct lc_node {
    char *name;
    char *op_type;
    char *domain;        /* "" for the default domain */
    char *doc_string;
    int n_inputs;
    char **inputs;       /* "" marks an omitted optional input */
    int n_outputs;
    char **outputs;
    int n_attrs;
    lc_attr *attrs;
} lc_node;

struct lc_graph {
    char *name;
    char *doc_string;
    int n_nodes, cap_nodes;
    lc_node **nodes;
    int n_inits, cap_inits;
    lc_tensor **inits;
    int n_inputs;
    lc_value_info *inputs;
    int n_outputs;
    lc_value_info *outputs;
    int n_value_info;
    lc_value_info *value_info;
    int n_sparse_inits;
    lc_blob *sparse_inits;      /* packed SparseTensorProto */
    int n_quant_annots;
    lc_blob *quant_annots;      /* packed TensorAnnotation */
};

struct lc_model {
    int64_t ir_version;
    int n_opsets;
    lc_opset *opsets;           /* domain strings owned */
    char *producer_name;
    char *producer_version;
    char *domain;
    int64_t model_version;
    bool has_model_version;
    char *doc_string;
    int n_meta;
    lc_strpair *meta;
    lc_graph *graph;
    int n_training_info;
    lc_blob *training_info;     /* packed TrainingInfoProto */
    int n_functions;
    lc_blob *functions;         /* packed FunctionProto */
    char *path;                 /* where it was loaded from, or NULL */
};

/* ---- helpers (libcompress/core/ir.c) ---- */

/* Grows *arr (element size `elem`) to hold at least `need` elements. */
lc_status lc_vec_reserve(void **arr, int *cap, int need, size_t elem);

char *lc_strdup(const char *s);          /* NULL-safe: NULL -> NULL */
char *lc_strndup(const char *s, size_t n);

/* Element count of a shape, or -1 if it overflows int64 / SIZE_MAX bytes
 * for elements of `elem_size` bytes, or if a dim is negative. */
int64_t lc_shape_numel(int ndim, const int64_t *dims, size_t elem_size);

/* Allocates an empty tensor (no data). */
lc_tensor *lc_tensor_new(const char *name, int dtype, int ndim,
                         const int64_t *dims);
/* Allocates a tensor's zeroed data buffer; LC_ERR_SHAPE on overflow. */
lc_status lc_tensor_alloc_data(lc_tensor *t);

/* Deterministic RNG (core/rng.c: splitmix64 seeding a xoshiro256**), seeded
 * from a seed and a stream id so each pass/layer gets its own stream. */
typedef struct lc_rng {
    uint64_t s[4];
} lc_rng;
void lc_rng_seed(lc_rng *r, uint64_t seed, uint64_t stream);
uint64_t lc_rng_next(lc_rng *r);
double lc_rng_uniform(lc_rng *r); /* [0, 1) */

/* float16 <-> float32 (IEEE, round to nearest even; core/tensor.c). */
float lc_half_to_float(uint16_t h);
uint16_t lc_float_to_half(float f);
lc_tensor *lc_tensor_clone(const lc_tensor *t);
/* Gives `t` its own copy of data it shares (lc_model_clone_shared); the
 * last holder keeps the buffer without copying. Call before writing
 * t->data of a tensor that may be shared. LC_ERR_NO_MEMORY. */
lc_status lc_tensor_unshare(lc_tensor *t);
/* A copy of `t` sharing its data copy-on-write (see lc_tensor::shared);
 * NULL when out of memory. */
lc_tensor *lc_tensor_clone_shared(const lc_tensor *t);
/* lc_model_clone whose tensors share their data with m's copy-on-write:
 * a copy for comparing with or reverting to, without a second copy of the
 * weights. Whoever writes tensor data of either model must call
 * lc_tensor_unshare first (passes are given models from lc_model_clone,
 * never shared ones); not for models read by other threads meanwhile (the
 * counters are not atomic). */
lc_status lc_model_clone_shared(const lc_model *m, lc_model **out);
/* Gives every tensor of m its own data again (copies only what another
 * model still shares). */
lc_status lc_model_unshare(lc_model *m);
/* Calls fn(t, user) on every tensor of m in a fixed order: per graph its
 * initializers, then its nodes' tensor attributes, each subgraph where its
 * node's attribute stands; stops at the first failure and returns it. */
lc_status lc_model_each_tensor(lc_model *m, lc_status (*fn)(lc_tensor *t, void *user), void *user);

/* A model parked in an unnamed temporary file (core/spill.c): tensor data
 * and encodings' masks and codes on disk, the structure in memory. */
typedef struct lc_spilled lc_spilled;
/* Parks *m and takes it (*m is NULL afterwards). LC_ERR_IO when the file
 * cannot be created (*m is then left as it was) or written (*m is then
 * freed and NULL). */
lc_status lc_model_spill(lc_model **m, lc_spilled **out);
/* A new model equal to the parked one bit for bit (any number of times). */
lc_status lc_spilled_load(lc_spilled *sp, lc_model **out);
void lc_spilled_free(lc_spilled *sp);

void lc_blob_clear(lc_blob *b);
void lc_type_clear(lc_type *t);
void lc_value_info_clear(lc_value_info *v);
void lc_attr_clear(lc_attr *a);
void lc_node_free(lc_node *n);
void lc_graph_free(lc_graph *g);

/* Deep copies (clone.c); NULL on out of memory. Encodings are copied. */
lc_node *lc_node_clone(const lc_node *n);
lc_graph *lc_graph_clone(const lc_graph *g);

/* Attribute lookup on a node; NULL if absent. */
const lc_attr *lc_node_attr(const lc_node *n, const char *name);
/* Typed attribute reads with a default. */
int64_t lc_node_attr_int(const lc_node *n, const char *name, int64_t def);
float lc_node_attr_float(const lc_node *n, const char *name, float def);
/* Borrowed string value or `def`. */
const char *lc_node_attr_string(const lc_node *n, const char *name,
                                const char *def);

/* Initializer of `g` named `name`, or NULL. Linear scan. */
lc_tensor *lc_graph_init(const lc_graph *g, const char *name);

/* Opset version imported for `domain` ("" or "ai.onnx" = default). 0 if
 * not imported. */
int64_t lc_model_opset(const lc_model *m, const char *domain);

/* ---- stored tensors (libcompress/core/stored.c) ---- */

/* A stored tensor: an initializer or the `value` of a Constant node, in the
 * main graph or in any subgraph. Passes find weights through this list, so
 * models whose exporter kept weights in Constant nodes are not missed. */
typedef struct lc_stored {
    lc_tensor *tensor;   /* borrowed from the model */
    const char *value;   /* the graph value it defines (tensor name or the
                            Constant's output) */
    lc_graph *graph;     /* graph that holds it */
    lc_node *constant;   /* the Constant node, or NULL for an initializer */
} lc_stored;

/* Lists every stored tensor of the model, main graph first, in order.
 * *out is malloc'ed (free() it); *n its length. */
lc_status lc_model_stored_tensors(const lc_model *m, lc_stored **out,
                                  int *n);

/* ---- checks (libcompress/core/verify.c) ---- */

/* Checks that every value is defined once and every use is defined (in its
 * graph or an enclosing one), and that initializer names are unique.
 * LC_ERR_VERIFY with a message prefixed by `label`. */
lc_status lc_model_verify(const lc_model *m, const char *label);

/* The node's name, or its op type when it has none (for messages). */
const char *lc_node_label(const lc_node *n);

/* "2x3x4" (thread-local buffer, valid until the next call). */
const char *lc_dims_str(int ndim, const int64_t *dims);

/* ---- files (libcompress/core/file_io.c) ---- */

/* Reads a whole file into a malloc'ed buffer (free() it). */
lc_status lc_read_file(const char *path, void **buf, size_t *len);

/* Bytes lc_model_save_onnx_buffer would produce, without building the
 * buffer (formats/onnx/onnx_save.c): for size checks on large models. */
lc_status lc_model_onnx_size(const lc_model *m, size_t *len);
/* Bytes lc_model_save_lcm_buffer would produce (meta may be NULL), holding
 * one tensor record at a time instead of the file (formats/lcm/lcm_write.c). */
struct lc_lcm_meta;
lc_status lc_model_lcm_size(const lc_model *m, const struct lc_lcm_meta *meta, size_t *len);
/* Writes `buf` to `path` through a temporary file in the same folder and a
 * rename, so readers never see a partial file. */
lc_status lc_write_file_atomic(const char *path, const void *buf, size_t len);

/* The same atomic write, streamed: open creates the temporary file, write
 * appends (small pieces are gathered; the first error sticks and is
 * returned again by later calls and by commit), commit fsyncs, closes and
 * renames it into place, abort removes it. commit and abort free `f`
 * (abort accepts NULL); on any failure nothing is left at `path`. */
typedef struct lc_atomic_file lc_atomic_file;
lc_status lc_atomic_file_open(const char *path, lc_atomic_file **out);
lc_status lc_atomic_file_write(lc_atomic_file *f, const void *buf, size_t len);
size_t lc_atomic_file_size(const lc_atomic_file *f); /* bytes written so far */
lc_status lc_atomic_file_commit(lc_atomic_file *f);
void lc_atomic_file_abort(lc_atomic_file *f);

/* Serializes the model as ONNX through `write` in pieces, never holding
 * the whole file in memory; the bytes are those of
 * lc_model_save_onnx_buffer (formats/onnx/onnx_save.c). */
typedef lc_status (*lc_write_fn)(void *user, const void *buf, size_t len);
lc_status lc_model_save_onnx_stream(const lc_model *m, lc_write_fn write, void *user);
/* lc_model_save_onnx_stream into an lc_atomic_file (not committed). */
lc_status lc_model_save_onnx_to(const lc_model *m, lc_atomic_file *f);

/* ---- errors (libcompress/core/status.c) ---- */

/* Sets the thread's last error message (printf format) and returns `s`. */
lc_status lc_fail(lc_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current last error with "<prefix>: ". Returns s. */
lc_status lc_fail_prefix(lc_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- serialized tensors (formats/onnx/onnx_tensor_file.c) ---- */

/* Reads a file holding one serialized ONNX TensorProto (the layout of the
 * ONNX backend test data, e.g. test_data_set_0/input_0.pb) into a new
 * tensor (*out, free with lc_tensor_free). LC_ERR_IO / LC_ERR_FORMAT /
 * LC_ERR_UNSUPPORTED with a message naming the file. */
lc_status lc_tensor_load_pb(const char *path, lc_tensor **out);

#endif
