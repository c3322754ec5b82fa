/* shrink eval's output files (--out, --out-all): see eval_out.c. */
#ifndef SHRINK_EVAL_OUT_H
#define SHRINK_EVAL_OUT_H

#include <stdbool.h>

#include "cli.h"

typedef struct eval_output {
    const char *name;    /* borrowed from the model */
    int dtype;           /* LC_DTYPE_FLOAT or LC_DTYPE_INT64 as written */
    bool batched;        /* dim 0 is the batch */
    int ndim;
    int64_t dims[LC_MAX_DIMS]; /* dims[0] = all samples when batched */
    int64_t per_sample;  /* elements per sample (the whole output if not batched) */
    void *data;
} eval_output;

typedef struct eval_outputs {
    int n, first;
    eval_output *out;
} eval_outputs;

/* Gathers outputs first..last-1 of the run of samples [start, start+n) of
 * `count`. Returns an exit code (messages printed). */
int eval_outputs_add(eval_outputs *c, const lc_executor *ex, int first, int last, int64_t start, long n,
                     int64_t count);
/* Writes the first gathered output to `out` and every one into folder
 * `dir` as NAME.npy (either may be NULL). Returns an exit code. */
int eval_outputs_write(const eval_outputs *c, const char *out, const char *dir);
void eval_outputs_free(eval_outputs *c);

#endif
