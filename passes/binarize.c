/* binarize: W -> alpha * sign(W) per output channel, with alpha the mean
 * absolute value of the channel's kept weights (the L2-optimal scale for
 * fixed signs, as in XNOR-Net / BWN). One bit per weight.
 *
 * The first and last weight layers of the model (by graph order, among
 * the layers of the selected op types) see raw inputs and produce the
 * logits; binarizing them costs most accuracy for few bytes, so they are
 * left alone unless first_last=true. Pruned weights (mask 0 or exactly
 * zero) stay +0.0f. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lc_encoding.h"
#include "lc_pass.h"

static const lc_param_desc params[] = {
    {"first_last", LC_PARAM_BOOL, "false", 0, 0, NULL, "binarize the first and last weight layers of the model too"},
    LC_WEIGHT_PARAMS,
};

static lc_status binarize_tensor(const lc_weight *w)
{
    lc_tensor *t = w->tensor;
    float *v = t->data;
    int64_t numel = lc_tensor_numel(t);
    lc_status s = LC_OK;
    bool any_zero = false;
    for (int64_t i = 0; i < numel && !any_zero; i++) any_zero = v[i] == 0.0f;
    lc_encoding *e = lc_tensor_encoding(t);
    if (!e) return LC_ERR_NO_MEMORY;
    if ((any_zero || e->mask) && (s = lc_encoding_mask_from_zeros(t))) return s;
    if ((s = lc_encoding_set_kind(e, t, LC_ENC_BINARY, 1, w->out_axis, 0))) return s;
    int64_t ch = e->channels;
    double *sum = calloc((size_t)ch, sizeof *sum);
    int64_t *cnt = calloc((size_t)ch, sizeof *cnt);
    if (!sum || !cnt) {
        s = lc_fail(LC_ERR_NO_MEMORY, "binarize: tensor '%s': out of memory", t->name);
        goto fail;
    }
    for (int64_t i = 0; i < numel; i++)
        if (!e->mask || e->mask[i]) {
            int64_t c = lc_encoding_channel(e, t, i);
            sum[c] += fabs((double)v[i]);
            cnt[c]++;
        }
    for (int64_t c = 0; c < ch; c++) e->alpha[c] = cnt[c] ? (float)(sum[c] / (double)cnt[c]) : 0.0f;
    for (int64_t i = 0; i < numel; i++) {
        if (e->mask && !e->mask[i]) continue;
        e->codes[i] = v[i] > 0.0f;
        v[i] = lc_encoding_value(e, lc_encoding_channel(e, t, i), e->codes[i]);
    }
fail:
    free(sum);
    free(cnt);
    return s;
}

static lc_status run(lc_model *m, const lc_context *ctx, const lc_params *p)
{
    lc_weight *w = NULL, *all = NULL;
    int n = 0, n_all = 0, done = 0;
    lc_status s = lc_weight_targets(m, p, &w, &n);
    if (s) return s;
    /* first/last among the model's layers of the selected ops, whatever
     * include/exclude say */
    lc_params ops_only;
    if ((s = lc_params_init(&ops_only, "binarize", params, (int)(sizeof params / sizeof *params)))) goto fail;
    const lc_param_value *ops = lc_params_get(p, "ops");
    for (int i = 0; ops && i < ops->n_list && !s; i++) s = lc_params_set(&ops_only, "ops", ops->list[i]);
    if (!s) s = lc_weight_targets(m, &ops_only, &all, &n_all);
    lc_params_clear(&ops_only);
    if (s) goto fail;
    bool first_last = lc_params_num(p, "first_last") != 0;
    for (int i = 0; i < n && !s; i++) {
        if (!first_last && n_all > 0 && (w[i].tensor == all[0].tensor || w[i].tensor == all[n_all - 1].tensor)) continue;
        s = binarize_tensor(&w[i]);
        done++;
    }
    if (!s) lc_log(ctx, "binarize: %d of %d layers", done, n);
fail:
    free(w);
    free(all);
    return s;
}

const lc_pass lc_pass_binarize = {
    .name = "binarize",
    .summary = "W -> alpha * sign(W) per output channel (1 bit per weight)",
    .params = params,
    .n_params = (int)(sizeof params / sizeof *params),
    .weight_pass = true,
    .run = run,
};
