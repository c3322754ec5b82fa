/* Structural checks run after loading: every value is defined once, every
 * node input and graph output is defined (in this graph or an enclosing
 * one), initializer names are unique. Executing or compressing a model that
 * breaks these would give wrong answers, so we refuse it up front. */
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_ir.h"
#include "lc_strset.h"

typedef struct scope {
    lc_strset defined;
    const struct scope *outer;
} scope;

static bool scope_has(const scope *s, const char *name)
{
    for (; s; s = s->outer)
        if (lc_strset_has(&s->defined, name)) return true;
    return false;
}

const char *lc_node_label(const lc_node *n)
{
    return n->name && *n->name ? n->name : n->op_type;
}

static lc_status verify_graph(const lc_graph *g, const scope *outer);

static lc_status define(scope *sc, const char *name, const char *what)
{
    bool added;
    lc_status s = lc_strset_add(&sc->defined, name, NULL, &added);
    if (s) return s;
    if (!added) return lc_fail(LC_ERR_VERIFY, "value '%s' is defined twice (%s)", name, what);
    return LC_OK;
}

static lc_status verify_subgraphs(const lc_node *n, const scope *sc)
{
    for (int a = 0; a < n->n_attrs; a++) {
        const lc_attr *at = &n->attrs[a];
        lc_status s = LC_OK;
        if (at->type == LC_ATTR_GRAPH && at->g) s = verify_graph(at->g, sc);
        for (int i = 0; at->type == LC_ATTR_GRAPHS && i < at->n && !s; i++) s = verify_graph(at->graphs[i], sc);
        if (s) return lc_fail_prefix(s, "in subgraph '%s' of node '%s'", at->name, lc_node_label(n));
    }
    return LC_OK;
}

static lc_status verify_graph(const lc_graph *g, const scope *outer)
{
    scope sc = {{0}, outer};
    lc_status s = LC_OK;
    lc_strset inits = {0};
    for (int i = 0; i < g->n_inits && !s; i++) {
        bool added;
        if ((s = lc_strset_add(&inits, g->inits[i]->name, NULL, &added))) break;
        if (!added) s = lc_fail(LC_ERR_VERIFY, "duplicate initializer '%s'", g->inits[i]->name);
        else s = lc_strset_add(&sc.defined, g->inits[i]->name, NULL, NULL);
    }
    /* A graph input may share its name with an initializer (a default). */
    for (int i = 0; i < g->n_inputs && !s; i++)
        if (!lc_strset_has(&inits, g->inputs[i].name)) s = define(&sc, g->inputs[i].name, "graph input");
    /* ONNX requires topological order, but tolerate unsorted graphs here:
     * first collect every node output, then check the inputs. */
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const lc_node *n = g->nodes[i];
        for (int o = 0; o < n->n_outputs && !s; o++) {
            if (!*n->outputs[o]) continue;
            if (lc_strset_has(&sc.defined, n->outputs[o]))
                s = lc_fail(LC_ERR_VERIFY, "node '%s' (%s): output '%s' is already defined",
                            lc_node_label(n), n->op_type, n->outputs[o]);
            else s = lc_strset_add(&sc.defined, n->outputs[o], NULL, NULL);
        }
    }
    for (int i = 0; i < g->n_nodes && !s; i++) {
        const lc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_inputs && !s; k++)
            if (*n->inputs[k] && !scope_has(&sc, n->inputs[k]))
                s = lc_fail(LC_ERR_VERIFY, "node '%s' (%s): input '%s' is not defined by any node, input or initializer",
                            lc_node_label(n), n->op_type, n->inputs[k]);
        if (!s) s = verify_subgraphs(n, &sc);
    }
    for (int i = 0; i < g->n_outputs && !s; i++)
        if (!scope_has(&sc, g->outputs[i].name))
            s = lc_fail(LC_ERR_VERIFY, "graph output '%s' is not defined by any node, input or initializer",
                        g->outputs[i].name);
    lc_strset_clear(&inits);
    lc_strset_clear(&sc.defined);
    return s;
}

lc_status lc_model_verify(const lc_model *m, const char *label)
{
    label = label ? label : "model";
    if (!m->graph) return lc_fail(LC_ERR_VERIFY, "%s: model has no graph", label);
    /* messages are built inside out ("in subgraph ... of node ...: node
     * ...: input ..."); the file name goes in front once, here */
    lc_status s = verify_graph(m->graph, NULL);
    return s ? lc_fail_prefix(s, "%s", label) : LC_OK;
}

/* Every stored tensor's encoding decodes to its float view. */
lc_status lc_model_verify_encodings(const lc_model *m)
{
    lc_stored *st = NULL;
    int n = 0;
    lc_status s = lc_model_stored_tensors(m, &st, &n);
    for (int i = 0; i < n && !s; i++) s = lc_encoding_verify(st[i].tensor);
    free(st);
    return s;
}
