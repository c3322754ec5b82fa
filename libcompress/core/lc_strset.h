/* A set of borrowed strings (open addressing, FNV-1a), for name lookups
 * in graphs with many values. The strings must outlive the set. */
#ifndef LC_STRSET_H
#define LC_STRSET_H

#include <stdbool.h>
#include <stddef.h>

#include "lc_ir.h"

typedef struct lc_strset {
    const char **slots;
    void **values;
    size_t cap, count;
} lc_strset;

/* Adds `s` with an associated pointer. *added (optional) tells whether it
 * was new; an existing entry keeps its value. */
lc_status lc_strset_add(lc_strset *set, const char *s, void *value, bool *added);
bool lc_strset_has(const lc_strset *set, const char *s);
/* The value stored with `s`, or NULL. */
void *lc_strset_get(const lc_strset *set, const char *s);
void lc_strset_clear(lc_strset *set);

#endif
