/*
 * lc_alloc.h - per-layer allocation under a size budget (internal).
 *
 * The target-size search of the pipeline measures, for every weight layer
 * alone, a small grid of settings (sparsity x bits ...): the damage each
 * does to the model's output and the bytes it adds to the file. Picking one
 * setting per layer so that the bytes fit a budget with the least total
 * damage is a multiple-choice knapsack; lc_alloc_solve solves it exactly by
 * dynamic programming over the bytes rounded up to a unit of budget/4096
 * (so the result never exceeds the budget).
 */
#ifndef LC_ALLOC_H
#define LC_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "libcompress.h"

/* Layer l's options are entries first[l] .. first[l+1]-1 of cost and bytes
 * (bytes >= 0; costs are any finite numbers, smaller is better). */
typedef struct lc_alloc_table {
    int n_layers;
    const int *first;      /* n_layers + 1 entries */
    const double *cost;
    const int64_t *bytes;
} lc_alloc_table;

/* Chooses one option per layer (choice[l] is an index into cost/bytes)
 * minimising the summed cost with summed bytes <= budget; among equal costs
 * the fewest bytes. Returns false (choice = the fewest bytes of every layer)
 * when even that exceeds the budget. LC_ERR_NO_MEMORY is reported as false
 * with *oom set. */
bool lc_alloc_solve(const lc_alloc_table *t, int64_t budget, int *choice, bool *oom);

/* Summed bytes and cost of a choice. */
int64_t lc_alloc_bytes(const lc_alloc_table *t, const int *choice);
double lc_alloc_cost(const lc_alloc_table *t, const int *choice);

#endif
