/*
 * lc_graph_edit.h - small editing helpers for the IR graph (internal).
 *
 * Passes that rewrite the graph (fold-batchnorm, quantize-int8, ...) build
 * on these instead of poking at the node and initializer arrays directly.
 * All work on one graph (normally the model's main graph); value uses
 * inside subgraphs (If/Loop/Scan bodies reading outer values) are counted
 * and renamed too, except where a subgraph defines the same name itself
 * (it then shadows the outer value).
 *
 * Node order: the graph's node list is kept topologically sorted by the
 * callers; lc_graph_insert_node puts a node at a given index, and the
 * helpers that add a node after a value's producer keep the order valid.
 *
 * Memory: functions with `_take` in their name take ownership of their
 * argument, also on failure (it is freed then).
 */
#ifndef LC_GRAPH_EDIT_H
#define LC_GRAPH_EDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "lc_ir.h"

/* A new node with copies of the given strings ("" marks an omitted input);
 * `name` may be NULL. NULL on out of memory (message set). */
lc_node *lc_node_make(const char *op_type, const char *name, int n_in, const char *const *inputs, int n_out,
                      const char *const *outputs);

/* Adds (or replaces) an INT / INTS / FLOAT attribute on a node. */
lc_status lc_node_set_attr_int(lc_node *n, const char *name, int64_t v);
lc_status lc_node_set_attr_ints(lc_node *n, const char *name, int count, const int64_t *v);
lc_status lc_node_set_attr_float(lc_node *n, const char *name, float v);

/* Replaces input `i` (or output `i`) of a node by a copy of `value`. */
lc_status lc_node_set_input(lc_node *n, int i, const char *value);
lc_status lc_node_set_output(lc_node *n, int i, const char *value);

/* Inserts `node` at index `pos` (0..n_nodes) of the node list. Takes
 * ownership. */
lc_status lc_graph_insert_node_take(lc_graph *g, int pos, lc_node *node);

/* Removes node `i` from the list and frees it (its values are not renamed:
 * callers rewire uses first). */
void lc_graph_remove_node(lc_graph *g, int i);

/* Index of `node` in g->nodes, or -1. */
int lc_graph_node_index(const lc_graph *g, const lc_node *node);

/* Index of the node producing `value`, or -1 (graph input, initializer, or
 * undefined). */
int lc_graph_producer(const lc_graph *g, const char *value);

/* Number of node inputs reading `value` (a node reading it twice counts
 * twice; uses in subgraphs count), not counting graph outputs. */
int lc_graph_use_count(const lc_graph *g, const char *value);

/* Whether `value` is one of the graph outputs / graph inputs. */
bool lc_graph_is_output(const lc_graph *g, const char *value);
bool lc_graph_is_input(const lc_graph *g, const char *value);

/* Whether `name` is used anywhere in the graph as a value name (node
 * input or output, initializer, graph input/output, value_info). */
bool lc_graph_has_name(const lc_graph *g, const char *name);

/* A value name not used in the graph: `base` itself if free, else
 * base_1, base_2, ... *out is malloc'ed (free()). */
lc_status lc_graph_unique_name(const lc_graph *g, const char *base, char **out);

/* A node name not used by any node of the graph or its subgraphs (ONNX
 * Runtime refuses two nodes of one name): `base` if free, else base_1,
 * base_2, ... *out is malloc'ed (free()). */
lc_status lc_graph_unique_node_name(const lc_graph *g, const char *base, char **out);

/* Adds an initializer; LC_ERR_VERIFY if the name is already an
 * initializer. Takes ownership of `t`. */
lc_status lc_graph_add_init_take(lc_graph *g, lc_tensor *t);

/* Creates a new initializer named `name` (exact; LC_ERR_VERIFY if taken)
 * of the given dtype and shape, with its data copied from `data` (NULL:
 * zeros). *out (optional) receives the borrowed tensor. */
lc_status lc_graph_add_init(lc_graph *g, const char *name, int dtype, int ndim, const int64_t *dims, const void *data,
                            lc_tensor **out);

/* Makes every node input (and, if `outputs`, every graph output) that
 * reads `from` read `to` instead, except the inputs of node `skip` (may
 * be NULL). Returns the number of uses renamed through *n (optional). */
lc_status lc_graph_rename_uses(lc_graph *g, const char *from, const char *to, const lc_node *skip, bool outputs,
                               int *n);

/* Drops value_info entries named `value` (after a value disappeared or
 * changed meaning). */
void lc_graph_drop_value_info(lc_graph *g, const char *value);

/* Removes initializers that nothing reads (no node input, graph output or
 * subgraph use; initializers that are also graph inputs are kept, they are
 * part of the model's interface), and Constant nodes whose outputs nothing
 * reads. *n_removed (optional) counts both. */
lc_status lc_graph_prune_unused(lc_graph *g, int *n_removed);

/* Sets the model's import of the default domain to `version` (adding it if
 * missing). */
lc_status lc_model_set_opset(lc_model *m, int64_t version);

#endif
