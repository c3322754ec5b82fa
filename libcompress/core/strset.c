/* Open-addressing string set; see lc_strset.h. */
#include <stdlib.h>
#include <string.h>

#include "lc_strset.h"

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t find(const lc_strset *set, const char *s)
{
    size_t i = hash(s) & (set->cap - 1);
    while (set->slots[i] && strcmp(set->slots[i], s) != 0) i = (i + 1) & (set->cap - 1);
    return i;
}

static lc_status grow(lc_strset *set)
{
    size_t ncap = set->cap ? set->cap * 2 : 64;
    lc_strset n = {calloc(ncap, sizeof(char *)), calloc(ncap, sizeof(void *)), ncap, 0};
    if (!n.slots || !n.values) {
        free(n.slots);
        free(n.values);
        return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i]) {
            size_t j = find(&n, set->slots[i]);
            n.slots[j] = set->slots[i];
            n.values[j] = set->values[i];
            n.count++;
        }
    free(set->slots);
    free(set->values);
    *set = n;
    return LC_OK;
}

lc_status lc_strset_add(lc_strset *set, const char *s, void *value, bool *added)
{
    if ((set->count + 1) * 2 > set->cap) {
        lc_status st = grow(set);
        if (st) return st;
    }
    size_t i = find(set, s);
    if (added) *added = !set->slots[i];
    if (!set->slots[i]) {
        set->slots[i] = s;
        set->values[i] = value;
        set->count++;
    }
    return LC_OK;
}

bool lc_strset_has(const lc_strset *set, const char *s)
{
    return set->cap && set->slots[find(set, s)];
}

void *lc_strset_get(const lc_strset *set, const char *s)
{
    if (!set->cap) return NULL;
    size_t i = find(set, s);
    return set->slots[i] ? set->values[i] : NULL;
}

void lc_strset_clear(lc_strset *set)
{
    free(set->slots);
    free(set->values);
    memset(set, 0, sizeof *set);
}
