/* The exact early-stop rule of a validation (lc_early_stop.h). */
#include "lc_early_stop.h"

double lc_early_stop_accuracy(int64_t hits, int64_t n) { return n ? 100.0 * (double)hits / (double)n : 0; }

bool lc_early_stop_missed(int64_t hits, int64_t done, int64_t n, double float_metric, double allow)
{
    if (allow < 0 || done > n) return false;
    /* the test of lc_pipeline_within_budget at the best case, every sample
       left right: the accuracy does not decrease with the hits, so no
       later sample can bring the candidate within the budget */
    return float_metric - lc_early_stop_accuracy(hits + (n - done), n) > allow + 1e-9;
}
