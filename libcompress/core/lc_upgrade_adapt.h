/*
 * lc_upgrade_adapt.h - the pieces of the opset upgrade (internal).
 *
 * upgrade.c walks the graphs and applies, for each node and each opset
 * version v with from < v <= to, the adapter registered for (op, v)
 * (upgrade_ops.c). An adapter rewrites one node from the signature before
 * v to the one at v; nodes it adds go before or after it in the same graph.
 */
#ifndef LC_UPGRADE_ADAPT_H
#define LC_UPGRADE_ADAPT_H

#include "lc_graph_edit.h"
#include "lc_ir.h"

typedef struct lc_upgrade_ctx {
    lc_model *m;
    lc_graph *g;       /* the graph holding the node (main or a subgraph) */
    int64_t from, to;  /* the model's opsets, for messages */
    int64_t step;      /* the version being applied */
    int index;         /* the node's index in g (the walk's position) */
    int after;         /* nodes an adapter inserted right after the node */
} lc_upgrade_ctx;

typedef lc_status (*lc_upgrade_fn)(lc_upgrade_ctx *c, lc_node *n);

typedef struct lc_upgrade_adapter {
    const char *op;
    int version;       /* the opset whose signature the adapter produces */
    lc_upgrade_fn fn;
} lc_upgrade_adapter;

/* The adapters, sorted by op then version (upgrade_ops.c). */
extern const lc_upgrade_adapter lc_upgrade_adapters[];
extern const int lc_upgrade_adapter_count;

/* LC_ERR_UNSUPPORTED "node 'x' (Op): <why> (upgrading opset F to T)". */
lc_status lc_upgrade_refuse(const lc_upgrade_ctx *c, const lc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Moves attribute `name` out of the node into *out (cleared with
 * lc_attr_clear by the caller); false if the node has none. */
bool lc_upgrade_take_attr(lc_node *n, const char *name, lc_attr *out);

/* Adds an initializer named after the node's first output and `suffix`
 * (unique in the model) to the node's graph and makes it input `input`
 * of the node. */
lc_status lc_upgrade_add_input(lc_upgrade_ctx *c, lc_node *n, int input, const char *suffix, int dtype, int ndim,
                               const int64_t *dims, const void *data);

/* The same for a floating-point value of the element type of value
 * `like` (float, double or float16 as declared in the graph; float when it
 * is not declared): a scalar (ndim 0) or a 1-d list of `count` values. */
lc_status lc_upgrade_add_float_input(lc_upgrade_ctx *c, lc_node *n, int input, const char *suffix, const char *like,
                                     int ndim, int count, const float *values);

/* Declared rank of value `name` in the node's graph or an enclosing one
 * (graph inputs, outputs, value_info, initializers), or -1. */
int lc_upgrade_rank(const lc_upgrade_ctx *c, const char *name);

/* A value name unique in the model: base + "_" + suffix (+ "_N"). */
lc_status lc_upgrade_name(const lc_upgrade_ctx *c, const char *base, const char *suffix, char **out);

#endif
