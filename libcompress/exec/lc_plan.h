/*
 * lc_plan.h - the executor's plan (internal to libcompress/exec).
 *
 * lc_executor_create_ex builds the plan in stages, one file each:
 *   plan.c     values (slots), kernels by ONNX's since_version rule,
 *              input checks against each kernel's min_inputs, prepare();
 *   order.c    topological order (subgraph reads count as inputs);
 *   fold.c     nodes whose inputs are known are run at plan time;
 *   fuse.c     producer + consumers merged through the kernels' fusion
 *              flags and hooks (lc_fusion), never by op name;
 *   buffers.c  pooled activation buffers by liveness;
 *   run.c      running a batch, the accessors and lc_executor_free.
 */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "lc_exec.h"
#include "lc_strset.h"

/* Buffers are handed out in multiples of this (also their alignment). */
#define BUF_ALIGN 64

/* Where empty constants point, so kernels never see a NULL data pointer
 * (buffers.c). */
extern const unsigned char lc_exec_empty_data[BUF_ALIGN];

typedef struct slot {
    lc_value v;
    int last_use;    /* position in `steps` of the last reader, -1 if none */
    int buf;         /* pooled buffer, -1 if none */
    void *owned;     /* own memory (folded constants, graph outputs) */
    bool is_input;   /* a non-initializer graph input */
    bool is_output;  /* a graph output */
    const lc_value *outer; /* a value of an enclosing graph read by this
                            * subgraph: v mirrors it, data refreshed at run */
} slot;

typedef struct step {
    int node_index;  /* in m->graph->nodes */
    const lc_node *node;
    const lc_kernel *kernel;
    lc_kernel_args args;
    const lc_value **in;
    lc_value **out;
    int *in_slots;   /* slot per input, -1 for omitted */
    int *out_slots;
    int n_extra;     /* outer values read by subgraphs (order and liveness) */
    int *extra_slots;
    bool removed;    /* merged into an earlier step by fusion */
    lc_value fw, fb; /* fused Conv: weights and bias with BatchNormalization folded in */
    float *fdata;    /* their memory */
} step;

struct lc_executor {
    const lc_graph *g;       /* the planned graph: the model's, or a subgraph */
    const lc_executor *scope; /* for a subgraph: the executor of the enclosing graph */
    int threads;
    int64_t opset;
    int n_slots;
    slot *slots;
    lc_strset names;   /* value name -> slot index + 1 */
    int n_steps;
    step *steps;
    int n_inputs;
    int *inputs;       /* slot per executor input */
    int n_outputs;
    int *outputs;      /* slot per graph output */
    int n_bufs;
    void **bufs;
    size_t *buf_size;
    bool *folded;      /* per graph node */
    lc_observe_fn observer;
    void *observer_user;
    unsigned flags;    /* LC_EXEC_* */
    int n_fused;       /* nodes merged into other steps */
    int n_outer;
    int *outer;        /* slots mirroring values of enclosing graphs */
};

/* The value `name` as seen from ex's graph: its own, else one of an
 * enclosing graph (through ex->scope), else NULL. */
const lc_value *lc_exec_lookup(const lc_executor *ex, const char *name);

/* The slot of the value `name`, or -1 (also for "" and NULL). */
int lc_exec_slot(const lc_executor *ex, const char *name);

/* Prefixes the message of the failure `s` with "node 'NAME' (OP, opset N)"
 * and returns s. */
lc_status lc_exec_node_fail(const lc_executor *ex, lc_status s, int node_index, const lc_node *n);

/* Whether `d` names ONNX's default domain ("" or "ai.onnx"). */
bool lc_exec_default_domain(const char *d);

/* Frees what a step owns (and its kernel state) and zeroes it. */
void lc_exec_step_clear(step *st);

/* Sets *list (malloc'd, NULL when empty) and *count to the main-graph
 * slots that the subgraphs of node `n` read. */
lc_status lc_exec_extra_reads(const lc_executor *ex, const lc_node *n, int **list, int *count);

/* Kahn's order of the main graph's nodes into `order`, graph order kept
 * where free; `extra`/`n_extra` are the subgraph reads per node. */
lc_status lc_exec_order(const lc_executor *ex, int *const *extra, const int *n_extra, int *order);

/* Runs a prepared step whose inputs are all known, so its outputs become
 * constants of the plan (own memory, never pooled). */
lc_status lc_exec_fold(lc_executor *ex, step *st);

/* Frees folded values no step reads (after buffer planning). */
void lc_exec_drop_dead_constants(lc_executor *ex);

/* Merges steps by the kernels' fusion descriptors (see fuse.c). */
lc_status lc_exec_fuse(lc_executor *ex);

/* Liveness-based buffers for the steps' outputs. */
lc_status lc_exec_plan_buffers(lc_executor *ex);

/* BUF_ALIGN-aligned memory of at least n bytes (rounded up; n may be 0). */
void *lc_exec_alloc(size_t n);

#endif
