/*
 * prune_structured.h - what the channel analysis of prune-structured
 * (prune_structured_graph.c) hands to the decision and the rewrite
 * (prune_structured.c) (internal). The method is described at the top of
 * prune_structured.c.
 */
#ifndef LC_PRUNE_STRUCTURED_H
#define LC_PRUNE_STRUCTURED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "lc_pass.h"
#include "lc_strset.h"

/* Channel tracking of one value. */
typedef struct chans {
    int axis;      /* channel axis in the value's planned shape */
    int64_t n;     /* positions along it */
    int *atom;     /* atom id per position; -1: not owned by a producer */
} chans;

typedef struct producer {
    int node;        /* index in the main graph */
    lc_tensor *w;    /* its weight */
    int out_axis;    /* output-channel axis of w */
    int64_t c;       /* output channels */
    int first;       /* id of its first atom */
    int kept;        /* channels left while deciding */
} producer;

enum { ED_SLICE, ED_SHAPE, ED_GROUP };

/* A rewrite decided during the analysis, applied once classes are chosen. */
typedef struct edit {
    int kind;
    lc_tensor *t;    /* ED_SLICE, ED_SHAPE */
    int axis;        /* ED_SLICE: the sliced axis; ED_SHAPE: index in the shape vector */
    lc_node *node;   /* ED_GROUP: the depthwise Conv */
    int64_t n;
    int *atom;       /* positions along the axis (owned copy); ED_SHAPE/ED_GROUP: count the kept ones */
} edit;

typedef struct ps {
    lc_model *m;
    const lc_context *ctx;
    lc_executor *ex;
    lc_strset vals;     /* value name -> chans* */
    lc_strset stored;   /* main-graph stored value name -> lc_tensor* */
    lc_strset sub_refs; /* names read inside subgraphs */
    bool *target;       /* per node: selected by ops/include/exclude */
    producer *prod;
    int n_prod, cap_prod;
    int *owner, *cls;   /* per atom: producer, class union-find parent */
    bool *frozen;
    double *bn;         /* per atom: sum of |gamma| of BNs it passes through */
    bool *has_bn;
    int n_atoms, cap_atoms;
    int *group;         /* per producer: group union-find parent */
    edit *ed;
    int n_ed, cap_ed;
    bool *removed;      /* per atom, after the decision */
} ps;

static inline int uf_find(int *p, int x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static inline void uf_union(int *p, int a, int b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) p[a > b ? a : b] = a < b ? a : b;
}

static inline chans *chans_of(ps *s, const char *name) { return *name ? lc_strset_get(&s->vals, name) : NULL; }

static inline const lc_value *planned(ps *s, const char *name) { return *name ? lc_executor_value(s->ex, name) : NULL; }

static inline void chans_free(chans *c)
{
    if (c) free(c->atom);
    free(c);
}

/* The channel analysis of s->m (s->stored, s->target filled): atoms,
 * classes, producer groups (s->group) and edits; frozen atoms for what it
 * cannot follow. *sorted false (logged, nothing analysed) when the nodes
 * are not in topological order. */
lc_status lc_prune_structured_analyze(ps *s, bool *sorted);

#endif
