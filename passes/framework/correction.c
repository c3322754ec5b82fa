/* The statistics correction after a weight pass (the common parameter
 * `correct`): which one applies, running it, and handing it to a caller
 * that applies it itself (the target-size search corrects once after
 * several runs of a pass, or emulates the correction per layer). */
#include <string.h>

#include "lc_pass.h"

static bool has_op(const lc_model *m, const char *op)
{
    for (int i = 0; i < m->graph->n_nodes; i++)
        if (strcmp(m->graph->nodes[i]->op_type, op) == 0) return true;
    return false;
}

static const char *const names[] = {"none", "bn", "bias"};

const char *lc_correction_name(lc_correction c) { return names[c]; }

lc_correction lc_correction_of(const lc_model *m, const lc_context *ctx, const lc_params *p)
{
    const lc_param_value *v = lc_params_get(p, "correct");
    if (!v || !v->str) return LC_CORRECT_NONE;
    if (strcmp(v->str, "auto") != 0) {
        for (int c = LC_CORRECT_NONE; c <= LC_CORRECT_BIAS; c++)
            if (!strcmp(v->str, names[c])) return (lc_correction)c;
        return LC_CORRECT_NONE; /* the enum parameter admits no other value */
    }
    if (!ctx || !ctx->calib) return LC_CORRECT_NONE;
    return has_op(m, "BatchNormalization") ? LC_CORRECT_BN : LC_CORRECT_BIAS;
}

lc_status lc_correction_apply(lc_model *m, lc_correction c, const lc_model *before, const lc_context *ctx)
{
    if (c == LC_CORRECT_BN) return lc_correct_bn(m, ctx);
    if (c == LC_CORRECT_BIAS) return lc_correct_bias(m, before, ctx);
    return LC_OK;
}

lc_status lc_pass_defer_correction(const lc_pass *pass, lc_params *p, lc_correction c)
{
    lc_status s = lc_params_override(p, "correct", "none");
    if (!s && pass->defer_correction) s = pass->defer_correction(p, c);
    return s;
}
