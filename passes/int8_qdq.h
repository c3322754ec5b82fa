/*
 * int8_qdq.h - the QuantizeLinear/DequantizeLinear nodes quantize-int8
 * writes (internal to passes/).
 */
#ifndef LC_INT8_QDQ_H
#define LC_INT8_QDQ_H

#include <stdbool.h>

#include "lc_pass.h"

/* A QuantizeLinear or DequantizeLinear node (inputs in[0..3), output out)
 * named `base`, or base_N when a node of `names` (with its subgraphs) has
 * that name already. NULL when out of memory. */
lc_node *lc_int8_qdq_node(const lc_graph *names, const char *op, const char *base, const char *const *in,
                          const char *out);

/* QuantizeLinear + DequantizeLinear (scale, zero point zp, int8 when s8
 * else uint8) on activation `name` of g, after its producer (first for a
 * graph input); every reader moves to the DequantizeLinear's output. */
lc_status lc_int8_insert_qdq(lc_graph *g, const char *name, float scale, int zp, bool s8);

#endif
