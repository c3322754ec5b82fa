/*
 * lc_exec.h - the executor's kernel interface (internal).
 *
 * A kernel implements one ONNX operator from one since_version on. The
 * executor builds a plan once per model and input shapes:
 *   1. for each node in topological order it picks the kernel with the
 *      highest since_version not above the model's opset (ONNX's rule)
 *      and checks the node against the kernel's min_inputs;
 *   2. calls kernel->prepare(), which validates attributes and input
 *      dtypes/shapes and sets every output's dtype and shape (and may build
 *      per-node state, e.g. parsed attributes or packed weights);
 *   3. if every input is constant (initializer, Constant, or computed from
 *      constants; outputs of LC_OPF_SHAPE_ONLY kernels are constant once
 *      shapes are known),
 *      runs the node right away (constant folding), so data-dependent
 *      shapes such as Reshape(x, Concat(Shape(x)[0], -1)) are known at
 *      plan time;
 *   4. fuses producers and consumers through the kernels' flags and
 *      fusion hooks (lc_fusion);
 *   5. allocates buffers for the rest.
 * Running a batch then just calls kernel->run() node by node.
 *
 * Inputs whose *values* prepare() needs (Reshape's shape, Slice's starts,
 * ...) must be constant at plan time; prepare() reads them through
 * lc_value::data and fails with LC_ERR_UNSUPPORTED ("data-dependent
 * shape") when a needed input is not constant (lc_value::is_const false).
 *
 * Error messages from prepare()/run() need not name the node: the executor
 * prefixes "node 'NAME' (OP)". Kernels never print or abort.
 */
#ifndef LC_EXEC_H
#define LC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_ir.h"

/* A runtime tensor: dtype, shape and a data buffer (C order). */
typedef struct lc_value {
    const char *name;   /* borrowed from the graph */
    int dtype;          /* lc_dtype; 0 until prepare() sets it */
    int ndim;
    int64_t dims[LC_MAX_DIMS];
    void *data;         /* numel * lc_dtype_size(dtype) bytes */
    size_t nbytes;      /* bytes in use */
    bool is_const;      /* known at plan time (weights, folded values) */
    bool borrowed;      /* data points into the model (not owned) */
} lc_value;

int64_t lc_value_numel(const lc_value *v);

/* Sets dtype and shape of an output (called from prepare()). */
lc_status lc_value_set_shape(lc_value *v, int dtype, int ndim, const int64_t *dims);

/* Reads a 1-D (or scalar) int64/int32 constant input into `out` (at most
 * `max` values); returns the count through *n. LC_ERR_UNSUPPORTED if the
 * value is not constant, LC_ERR_DTYPE for other dtypes. */
lc_status lc_value_read_ints(const lc_value *v, int64_t *out, int max, int *n);

/* Scalar of any numeric dtype as double (first element). */
double lc_value_scalar(const lc_value *v);

typedef struct lc_kernel_args {
    const lc_node *node;
    int64_t opset;              /* the model's opset for the node's domain */
    int n_in;
    const lc_value *const *in;  /* in[i] is NULL for an omitted optional */
    int n_out;
    lc_value *const *out;       /* out[i] is NULL for an omitted output */
    void *state;                /* set by prepare(), passed to run() */
    int threads;                /* worker threads the kernel may use (>= 1) */
    const struct lc_executor *scope; /* the executor of the node's graph:
                                      * where its subgraphs find outer values */
} lc_kernel_args;

/* What a fused producer (Conv, Gemm) applies to its result (plan-time
 * fusion in the executor): per output element, y = act(acc + bias[channel]
 * + r), where r is the matching element of a residual tensor of Y's shape
 * (optional) and act is one of LC_NN_ACT_*. The activations keep NaN as
 * their unfused kernels do (Relu: x < 0 ? 0 : x; Clip: min then max;
 * LeakyRelu: x < 0 ? alpha * x : x). */
enum { LC_NN_ACT_NONE = 0, LC_NN_ACT_RELU, LC_NN_ACT_CLIP, LC_NN_ACT_LEAKY };
typedef struct lc_nn_epilogue {
    int act;
    float lo, hi;  /* CLIP bounds */
    float alpha;   /* LEAKY slope */
    bool residual; /* the producer's in[3] is added (LC_OPF_TAKES_RESIDUAL) */
} lc_nn_epilogue;

/* Kernel flags (lc_kernel::flags): what the planner may do with a node
 * without knowing its op by name. */
enum {
    /* The outputs depend on the input shapes only: computed at plan time
     * even when the inputs' values are not known (Shape, Size). */
    LC_OPF_SHAPE_ONLY = 1u << 0,
    /* Never computed at plan time, even from constants (random ops). */
    LC_OPF_NONDETERMINISTIC = 1u << 1,
    /* With two float32 inputs of one shape, out = in[0] + in[1] exactly:
     * the executor may fuse it into a producer as a residual (Add). */
    LC_OPF_RESIDUAL_ADD = 1u << 2,
    /* A producer whose input 1 holds the weights, output channels first,
     * and input 2 the optional bias: a per-channel affine consumer
     * (fusion hook channel_affine) can be folded into them (Conv). */
    LC_OPF_FOLD_AFFINE = 1u << 3,
    /* A producer whose epilogue can add a residual passed as in[3] (Conv). */
    LC_OPF_TAKES_RESIDUAL = 1u << 4,
    /* Output 0 may be omitted (""): the kernel writes out[0] only when it
     * is named (the recurrent ops' Y, which a model may not ask for). */
    LC_OPF_OPTIONAL_FIRST_OUTPUT = 1u << 5,
};
/* Input i (< 8) may be omitted ("") although it lies within min_inputs:
 * ONNX counts an optional input placed before a required one (Loop's M and
 * cond, Scan-8's sequence_lens). */
#define LC_OPF_OPTIONAL_INPUT(i) (1u << (24 + (i)))

/* The hooks through which the executor fuses nodes; an op that takes no
 * part in fusion has none (lc_kernel::fusion NULL), and any hook may be
 * NULL. */
typedef struct lc_fusion {
    /* Producer side: gives a prepared node (its state) the epilogue of the
     * consumers merged into it. LC_ERR_UNSUPPORTED when it cannot. */
    lc_status (*set_epilogue)(void *state, const lc_nn_epilogue *e);
    /* Consumer side, an elementwise activation: true (and *e filled) when
     * the prepared node `a` can run as a producer's epilogue. */
    bool (*as_epilogue)(const lc_kernel_args *a, lc_nn_epilogue *e);
    /* Consumer side, a per-channel affine map of input 0 over axis 1:
     * y = (x - sub[c]) * k[c] + add[c]. True (and the `channels` values
     * of k, sub, add filled) when the prepared node `a` is one with
     * constant parameters; then it can be folded into an LC_OPF_FOLD_AFFINE
     * producer (BatchNormalization in inference mode). */
    bool (*channel_affine)(const lc_kernel_args *a, int64_t channels, double *k, double *sub, double *add);
} lc_fusion;

/* The descriptor of one kernel: one ONNX operator from one since_version
 * on. Every field is declared where the kernel is defined (<Op>.c), and the
 * kernel is listed once in the sorted table libcompress/ops/kernels.inc. */
typedef struct lc_kernel {
    const char *op;             /* ONNX op_type (default domain) */
    int since;                  /* since_version of this implementation */
    /* ONNX's min_input for the schema this kernel implements: the planner
     * refuses a node with fewer inputs, or with one of these empty (unless
     * LC_OPF_OPTIONAL_INPUT), before prepare() sees it (kernels read
     * required inputs unchecked). A kernel line is added wherever the
     * schema's min_input changes. */
    int min_inputs;
    unsigned flags;             /* LC_OPF_* */
    /* Validates the node and sets out[i] dtypes and shapes. */
    lc_status (*prepare)(lc_kernel_args *a);
    /* Computes the outputs; their buffers are allocated to the shapes
     * prepare() set. Must be deterministic for a given thread count. */
    lc_status (*run)(lc_kernel_args *a);
    /* Frees what prepare() put in a->state (may be NULL). */
    void (*free_state)(void *state);
    const lc_fusion *fusion;    /* NULL: takes no part in fusion */
} lc_kernel;

/* The kernel for `op` at `opset` (highest since <= opset), or NULL.
 * *newest_since (optional) receives the lowest since of any kernel of that
 * op when none applies, for messages. */
const lc_kernel *lc_kernel_find(const char *op, int64_t opset, int *lowest_since);

/* All registered kernels (for tests): *n entries. */
const lc_kernel *const *lc_kernel_table(int *n);

/* ---- shared helpers for kernels (libcompress/ops/op_util.c) ---- */

/* Multidirectional (numpy) broadcast of two shapes into out/ondim.
 * LC_ERR_SHAPE if incompatible. */
lc_status lc_broadcast_shape(int an, const int64_t *a, int bn, const int64_t *b, int *ondim, int64_t *out);

/* For an output of shape `odims` (rank `ondim`) and an input of rank `n`
 * and shape `dims` that broadcasts to it, fills `strides` (length ondim)
 * with the input's element strides per output axis (0 on broadcast axes). */
void lc_broadcast_strides(int ondim, const int64_t *odims, int n, const int64_t *dims, int64_t *strides);

/* Normalizes a possibly negative axis for rank `ndim`; LC_ERR_INVALID_ARGUMENT
 * (with a message naming `what`) when out of range. */
lc_status lc_norm_axis(int64_t axis, int ndim, const char *what, int *out);

/* Reads an INTS attribute into `out` (at most `max`), *n = count (0 if absent). */
lc_status lc_attr_ints(const lc_node *node, const char *name, int64_t *out, int max, int *n);

/* ---- products and threads (libcompress/exec/sgemm.c, workers.c) ---- */

/* C = alpha * op(A) * op(B) + beta * C, row-major, through OpenBLAS
 * (single-threaded OpenBLAS calls on blocks of C fixed by the shape alone,
 * spread over the lc_sgemm_set_threads workers: the bits never depend on
 * the thread count). */
void lc_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Worker threads for lc_sgemm calls made from the calling thread (the
 * executor sets it before each run; default 1); also sets OpenBLAS itself
 * to one thread (process-wide). lc_sgemm's result then depends on the
 * shapes only, never on this count. */
void lc_sgemm_set_threads(int threads);

/* Runs worker(job) on the calling thread and on up to threads - 1 (at
 * most LC_MAX_WORKERS - 1) helper threads, and joins them. The workers take
 * their parts of the job through an atomic counter in it, so fewer helpers
 * (pthread_create failing) only means the caller does more. */
#define LC_MAX_WORKERS 16
void lc_run_workers(int threads, void *(*worker)(void *), void *job);

/* Plain-C reference of lc_sgemm (the oracle for tests). */
void lc_sgemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc);



/* ---- executor internals for passes and tests (libcompress/exec/, see lc_plan.h) ---- */

/* Called after each executed node (nodes folded at plan time are not
 * executed, see lc_executor_node_folded). `node_index` is the node's index
 * in the model's main graph; in[i]/out[i] are NULL for omitted values. The
 * values are borrowed for the duration of the call: their buffers are
 * reused by later nodes. A non-zero return aborts the run, and
 * lc_executor_run returns it. */
typedef lc_status (*lc_observe_fn)(void *user, int node_index, const lc_node *node, int n_in, const lc_value *const *in,
                                   int n_out, const lc_value *const *out);

/* Sets (fn != NULL) or clears the observer of `ex`. An observer needs a
 * plan without fusion (LC_EXEC_NO_FUSION): on a plan that fused nodes,
 * lc_executor_run fails with LC_ERR_INVALID_ARGUMENT while one is set. */
void lc_executor_set_observer(lc_executor *ex, lc_observe_fn fn, void *user);

/* lc_executor_create with flags. By default the plan fuses, when nothing
 * else reads the intermediate values: Conv + BatchNormalization (folded
 * into a private copy of the weights), Conv [+ BN] + Add of a residual
 * computed earlier, and Conv/Gemm [+ ...] + Relu/Clip/LeakyRelu (applied
 * in the kernel's epilogue). Fused nodes are not run on their own, so
 * observers cannot see them; LC_EXEC_NO_FUSION runs every node. */
#define LC_EXEC_NO_FUSION 1u
/* The observer is called before each node runs, with its inputs only
 * (n_out = 0, out NULL); a non-zero return stops the run before the node. */
#define LC_EXEC_OBSERVE_INPUTS 2u
lc_status lc_executor_create_ex(const lc_model *m, const lc_array *shapes, int n_inputs, int threads, unsigned flags,
                                lc_executor **out);

/* Nodes merged into another node's step by fusion (0 with LC_EXEC_NO_FUSION). */
int lc_executor_fused_count(const lc_executor *ex);

/* Nodes of the model's main graph, in graph order (the indices the observer
 * receives); lc_executor_node returns NULL when out of range. */
int lc_executor_node_count(const lc_executor *ex);
const lc_node *lc_executor_node(const lc_executor *ex, int i);

/* Whether node i was computed at plan time (constant folding). */
bool lc_executor_node_folded(const lc_executor *ex, int i);

/* The planned value named `name` (dtype and shape; data is meaningful only
 * for constants, graph outputs after a run, or inside an observer call;
 * NULL for folded constants that no executed node reads), or NULL if the
 * main graph has no such value. */
const lc_value *lc_executor_value(const lc_executor *ex, const char *name);

/* Resuming a run part-way (the calibration cache, passes/framework/calib.c).
 * Steps are the executed nodes in plan order; lc_executor_step_node gives
 * a step's node index (-1 out of range). lc_executor_live_values stores
 * in vals (up to max) the values produced by steps before `first` that
 * step `first` or a later one reads, or that are graph outputs, and
 * returns how many there are; their buffers are distinct, and the caller
 * may copy into their data. lc_executor_run_from runs steps [first, end)
 * only: those values must hold what steps [0, first) computed on the same
 * inputs (e.g. copied from an earlier run of the same plan); first = 0 is
 * lc_executor_run. */
int lc_executor_step_count(const lc_executor *ex);
int lc_executor_step_node(const lc_executor *ex, int step);
int lc_executor_live_values(lc_executor *ex, int first, lc_value **vals, int max);
lc_status lc_executor_run_from(lc_executor *ex, const lc_array *inputs, int n_inputs, int first);

/* Bytes of the pooled activation buffers (excluding graph outputs and
 * constants): what liveness-based reuse keeps small. */
size_t lc_executor_buffer_bytes(const lc_executor *ex);

/* For control-flow kernels (If, Loop, Scan): plans subgraph `g` of a node
 * as its own executor. in[i] gives the dtype and shape of g's input i; a
 * constant (is_const) is bound with its data (borrowed for the plan's
 * life), the others are the run-time inputs of lc_executor_run, in order.
 * Values g reads from enclosing graphs are found through `scope` (the
 * node's lc_kernel_args::scope): constants are known while planning, the
 * others are read when the subgraph runs. Run and read it with
 * lc_executor_run and lc_executor_output; free it with lc_executor_free. */
lc_status lc_executor_create_graph(const lc_executor *scope, const lc_graph *g, int n_in, const lc_value *const *in,
                                   lc_executor **out);

#endif
