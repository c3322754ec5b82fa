/*
 * lc_plan_inputs.h - planning a model's inputs from a context's feeds and
 * shapes and a dataset (internal; the public side is libcompress/inputs.h).
 */
#ifndef LC_PLAN_INPUTS_H
#define LC_PLAN_INPUTS_H

#include "lc_pass.h"

/* One feed or shape binding of a context. */
typedef struct lc_input_binding {
    char *name;
    lc_tensor *feed;           /* NULL: no feed */
    int ndim;                  /* < 0: no shape */
    int64_t dims[LC_MAX_DIMS];
} lc_input_binding;

#define LC_PLAN_MAX_INPUTS 64

/* How to plan and feed a model's inputs for runs over a dataset. */
typedef struct lc_plan_inputs {
    int n; /* plan inputs */
    lc_array shapes[LC_PLAN_MAX_INPUTS]; /* dims[0] of the data input is set
                                            per batch; feeds carry their data */
    const char *names[LC_PLAN_MAX_INPUTS]; /* borrowed from the model */
    int data; /* the input fed from the dataset, or -1 */
} lc_plan_inputs;

/* Resolves the plan inputs of `m`: feeds, the context's shapes, declared
 * dims, and for the one input without a feed, the dataset `d` (may be NULL:
 * then every input needs a feed or known dims). Checks the dataset fits. */
lc_status lc_plan_inputs_resolve(const lc_model *m, const lc_context *ctx, const lc_dataset *d, int batch,
                                 lc_plan_inputs *p);

/* lc_executor_create_batch with the context's feeds and shapes (and its
 * calibration data for symbolic dims); ctx may be NULL. */
lc_status lc_executor_create_ctx(const lc_model *m, const lc_context *ctx, int batch, int threads,
                                 lc_executor **out);

/* Frees the context's bindings (context.c). */
void lc_context_clear_inputs(lc_context *ctx);

#endif
