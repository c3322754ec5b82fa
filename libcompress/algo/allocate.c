/* Multiple-choice knapsack for the target-size search: one setting per
 * layer, least summed damage, summed bytes within a budget. Exact dynamic
 * programming over bytes in units of budget/4096, rounded up, so a solution
 * always fits and is optimal up to that rounding. */
#include <math.h>
#include <stdlib.h>

#include "lc_alloc.h"

#define UNITS 4096

int64_t lc_alloc_bytes(const lc_alloc_table *t, const int *choice)
{
    int64_t b = 0;
    for (int l = 0; l < t->n_layers; l++) b += t->bytes[choice[l]];
    return b;
}

double lc_alloc_cost(const lc_alloc_table *t, const int *choice)
{
    double c = 0;
    for (int l = 0; l < t->n_layers; l++) c += t->cost[choice[l]];
    return c;
}

/* Per layer the option with the fewest bytes (ties: least cost). */
static void fewest_bytes(const lc_alloc_table *t, int *choice)
{
    for (int l = 0; l < t->n_layers; l++) {
        int best = t->first[l];
        for (int o = t->first[l] + 1; o < t->first[l + 1]; o++)
            if (t->bytes[o] < t->bytes[best] || (t->bytes[o] == t->bytes[best] && t->cost[o] < t->cost[best])) best = o;
        choice[l] = best;
    }
}

static bool same_cost(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(a) + fabs(b)); }

bool lc_alloc_solve(const lc_alloc_table *t, int64_t budget, int *choice, bool *oom)
{
    *oom = false;
    int L = t->n_layers;
    fewest_bytes(t, choice);
    if (L == 0) return budget >= 0;
    if (budget < 0 || lc_alloc_bytes(t, choice) > budget) return false;
    int64_t unit = budget / UNITS + 1;
    int U = (int)(budget / unit);
    double *dp = malloc(sizeof *dp * (size_t)(L + 1) * (size_t)(U + 1));
    int *arg = malloc(sizeof *arg * (size_t)L * (size_t)(U + 1));
    if (!dp || !arg) {
        free(dp);
        free(arg);
        *oom = true;
        return false;
    }
    /* dp[l][c]: least cost of layers < l within c units (INFINITY: none) */
    for (int c = 0; c <= U; c++) dp[c] = 0;
    for (int l = 0; l < L; l++) {
        const double *prev = dp + (size_t)l * (U + 1);
        double *cur = dp + (size_t)(l + 1) * (U + 1);
        int *a = arg + (size_t)l * (U + 1);
        for (int c = 0; c <= U; c++) {
            double best = INFINITY;
            int64_t best_w = 0;
            int best_o = -1;
            for (int o = t->first[l]; o < t->first[l + 1]; o++) {
                int64_t w = (t->bytes[o] + unit - 1) / unit;
                if (w > c || !isfinite(prev[c - w])) continue;
                double v = prev[c - w] + t->cost[o];
                if (best_o < 0 || (v < best && !same_cost(v, best)) || (same_cost(v, best) && w < best_w)) {
                    best = v;
                    best_w = w;
                    best_o = o;
                }
            }
            cur[c] = best;
            a[c] = best_o;
        }
    }
    const double *last = dp + (size_t)L * (U + 1);
    bool found = isfinite(last[U]);
    if (found) {
        int c = U; /* the fewest units reaching the least cost */
        while (c > 0 && isfinite(last[c - 1]) && same_cost(last[c - 1], last[U])) c--;
        for (int l = L - 1; l >= 0; l--) {
            int o = arg[(size_t)l * (U + 1) + c];
            choice[l] = o;
            c -= (int)((t->bytes[o] + unit - 1) / unit);
        }
    }
    /* rounding may hide a solution that fits in exact bytes: the fewest
     * bytes of every layer (already in choice) fits then */
    free(dp);
    free(arg);
    return true;
}
