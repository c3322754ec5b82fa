/* quantize-int8's QuantizeLinear/DequantizeLinear nodes (see int8_qdq.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "int8_qdq.h"
#include "lc_graph_edit.h"

/* A QuantizeLinear/DequantizeLinear node (3 inputs, 1 output) named
 * `base`, or base_N when a node of `names` (the graph, with its
 * subgraphs) has that name already: a bias shared by two layers gets two
 * DequantizeLinear nodes. NULL when out of memory. */
lc_node *lc_int8_qdq_node(const lc_graph *names, const char *op, const char *base, const char *const *in,
                         const char *out)
{
    char *name = NULL;
    if (lc_graph_unique_node_name(names, base, &name)) return NULL;
    lc_node *n = lc_node_make(op, name, 3, in, 1, &out);
    free(name);
    return n;
}

/* QuantizeLinear + DequantizeLinear on activation `name`, after its
 * producer (or first, for a graph input); every reader moves to the
 * DequantizeLinear's output. */
lc_status lc_int8_insert_qdq(lc_graph *g, const char *name, float scale, int zp, bool s8)
{
    lc_status s = LC_OK;
    size_t len = strlen(name) + 40;
    char *buf = malloc(len), *sn = NULL, *zn = NULL, *qn = NULL, *dn = NULL;
    if (!buf) return lc_fail(LC_ERR_NO_MEMORY, "quantize-int8: out of memory");
    int8_t z8 = (int8_t)zp;
    uint8_t zu = (uint8_t)zp;
    snprintf(buf, len, "%s_scale", name);
    if ((s = lc_graph_unique_name(g, buf, &sn))) goto out;
    if ((s = lc_graph_add_init(g, sn, LC_DTYPE_FLOAT, 0, NULL, &scale, NULL))) goto out;
    snprintf(buf, len, "%s_zero_point", name);
    if ((s = lc_graph_unique_name(g, buf, &zn))) goto out;
    if ((s = lc_graph_add_init(g, zn, s8 ? LC_DTYPE_INT8 : LC_DTYPE_UINT8, 0, NULL, s8 ? (void *)&z8 : (void *)&zu,
                               NULL)))
        goto out;
    snprintf(buf, len, "%s_QuantizeLinear_Output", name);
    if ((s = lc_graph_unique_name(g, buf, &qn))) goto out;
    snprintf(buf, len, "%s_DequantizeLinear_Output", name);
    if ((s = lc_graph_unique_name(g, buf, &dn))) goto out;
    int pos = lc_graph_producer(g, name) + 1;
    snprintf(buf, len, "%s_QuantizeLinear", name);
    const char *qi[3] = {name, sn, zn};
    lc_node *qnode = lc_int8_qdq_node(g, "QuantizeLinear", buf, qi, qn);
    snprintf(buf, len, "%s_DequantizeLinear", name);
    const char *di[3] = {qn, sn, zn};
    lc_node *dnode = lc_int8_qdq_node(g, "DequantizeLinear", buf, di, dn);
    if (!qnode || !dnode) {
        lc_node_free(qnode);
        lc_node_free(dnode);
        s = LC_ERR_NO_MEMORY;
        goto out;
    }
    if ((s = lc_graph_rename_uses(g, name, dn, NULL, false, NULL))) {
        lc_node_free(qnode);
        lc_node_free(dnode);
        goto out;
    }
    if ((s = lc_graph_insert_node_take(g, pos, qnode))) {
        lc_node_free(dnode);
        goto out;
    }
    s = lc_graph_insert_node_take(g, pos + 1, dnode);
out:
    free(buf);
    free(sn);
    free(zn);
    free(qn);
    free(dn);
    return s;
}
