/* The table of passes, fed by passes.inc (`LC_PASS(symbol)` lines, kept
 * sorted by pass name; a test checks it), and the public entry points that
 * describe and run passes by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"

#define LC_PASS(sym) extern const lc_pass lc_pass_##sym;
#include "passes.inc"
#undef LC_PASS

static const lc_pass *const table[] = {
#define LC_PASS(sym) &lc_pass_##sym,
#include "passes.inc"
#undef LC_PASS
    NULL};

const lc_pass *const *lc_pass_table(int *n)
{
    *n = (int)(sizeof table / sizeof *table) - 1;
    return table;
}

const lc_pass *lc_pass_find(const char *name)
{
    for (const lc_pass *const *p = table; *p; p++)
        if (strcmp((*p)->name, name) == 0) return *p;
    return NULL;
}

int lc_pass_count(void) { return (int)(sizeof table / sizeof *table) - 1; }

static const char *const type_names[] = {"float", "int", "bool", "enum", "string", "list", "n:m"};
_Static_assert(sizeof type_names / sizeof *type_names == LC_PARAM_NM + 1, "a parameter type without a name");

lc_status lc_pass_describe(int i, lc_pass_info *out)
{
    if (i < 0 || i >= lc_pass_count()) return lc_fail(LC_ERR_INVALID_ARGUMENT, "pass index %d out of range", i);
    const lc_pass *p = table[i];
    *out = (lc_pass_info){p->name, p->summary, p->knob, p->n_params, p->needs_calib};
    return LC_OK;
}

lc_status lc_pass_param(int i, int k, lc_param_info *out)
{
    if (i < 0 || i >= lc_pass_count()) return lc_fail(LC_ERR_INVALID_ARGUMENT, "pass index %d out of range", i);
    const lc_pass *p = table[i];
    if (k < 0 || k >= p->n_params) return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: parameter index %d out of range", p->name, k);
    const lc_param_desc *d = &p->params[k];
    *out = (lc_param_info){d->name, type_names[d->type], d->def ? d->def : "", d->min, d->max,
                           d->choices ? d->choices : "", d->help};
    return LC_OK;
}

lc_status lc_pass_unknown(const char *name)
{
    char names[1024];
    size_t used = 0;
    names[0] = 0;
    for (const lc_pass *const *p = table; *p && used < sizeof names - 64; p++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", (*p)->name);
    const char *all[64];
    int n = 0;
    for (const lc_pass *const *p = table; *p && n < 64; p++) all[n++] = (*p)->name;
    const char *close = lc_closest_name(name, all, n);
    if (close) return lc_fail(LC_ERR_PARAMETER, "unknown pass '%s': did you mean '%s'? (valid: %s)", name, close, names);
    return lc_fail(LC_ERR_PARAMETER, "unknown pass '%s' (valid: %s)", name, names);
}

lc_status lc_pass_run_params(lc_model *m, const lc_pass *p, const lc_params *pv, const lc_context *ctx)
{
    return lc_pass_run_copy(m, NULL, p, pv, ctx);
}

lc_status lc_pass_run_copy(lc_model *m, const lc_model *source, const lc_pass *p, const lc_params *pv,
                           const lc_context *ctx)
{
    if (p->needs_calib && (!ctx || !ctx->calib))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s needs calibration data (lc_context_set_calib)", p->name);
    lc_correction correct = lc_correction_of(m, ctx, pv);
    if (correct != LC_CORRECT_NONE && (!ctx || !ctx->calib))
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "%s: correct=%s needs calibration data (lc_context_set_calib)", p->name,
                       lc_correction_name(correct));
    /* bn_checked too: the pass's statistics are a fixed point of
       lc_correct_bn, so the check would compare two identical models */
    if ((correct == LC_CORRECT_BN || correct == LC_CORRECT_BN_CHECKED) && p->corrects_bn && p->corrects_bn(pv))
        correct = LC_CORRECT_NONE;
    /* bias correction (also bn's fallback, see lc_correction_needs_before)
       compares with the model before the pass: the source
       m was copied from, when the caller has it, else what it needs of m
       collected before the pass (no copy of the model) */
    lc_bias_ref *before = NULL;
    lc_status s = LC_OK;
    if (lc_correction_needs_before(correct, ctx) && !source && (s = lc_bias_ref_collect(m, ctx, &before))) return s;
    s = p->run(m, ctx, pv);
    if (!s) s = lc_correction_apply_ref(m, correct, source, before, ctx);
    lc_bias_ref_free(before);
    if (!s) s = lc_model_verify_encodings(m);
    return s;
}

/* Runs a pass and checks that every encoding still decodes to the float
 * view (the invariant the whole pipeline relies on). */
lc_status lc_pass_run(lc_model *m, const char *name, const char *params, const lc_context *ctx)
{
    if (!m || !name) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_pass_run: NULL argument");
    const lc_pass *p = lc_pass_find(name);
    if (!p) return lc_pass_unknown(name);
    lc_params pv;
    lc_status s = lc_params_init(&pv, p->name, p->params, p->n_params);
    if (s) return s;
    if (!(s = lc_params_parse(&pv, params))) s = lc_pass_run_params(m, p, &pv, ctx);
    lc_params_clear(&pv);
    return s;
}

const char *lc_pass_default_target_recipe(void)
{
    /* the search picks each layer's sparsity and bits; its per-layer damage
     * model is fitted to nearest-centroid k-means (compensate=none) */
    return "{\"passes\": [{\"pass\": \"prune-hessian\"},"
           " {\"pass\": \"quantize-kmeans\", \"method\": \"optimal\", \"hessian\": true, \"compensate\": \"none\"},"
           " {\"pass\": \"huffman\"}]}";
}
