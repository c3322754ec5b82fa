/* If: runs then_branch or else_branch by a boolean scalar. When the
 * condition is a plan-time constant only that branch is planned; otherwise
 * both are, and each output must have one dtype and shape in both (else the
 * output's shape would depend on the data). Tensor outputs only.
 *
 * A branch that cannot be planned under a data-dependent condition is not
 * an error yet: exporters guard code paths that are invalid for the other
 * inputs (Silero VAD v5 plans an 8 kHz path whose LSTM gets a rank-5 X on
 * 16 kHz frames), and ONNX Runtime only fails when such a branch is taken.
 * Its message is kept and returned by run() if the condition selects it. */
#include <stdio.h>
#include <stdlib.h>

#include "lc_control.h"

typedef struct {
    lc_executor *branch[2]; /* else, then; NULL when not planned */
    lc_status fail[2];      /* why a branch could not be planned, else 0 */
    char why[2][512];
} if_state;

static void if_free(void *state)
{
    if_state *st = state;
    if (!st) return;
    for (int b = 0; b < 2; b++) lc_executor_free(st->branch[b]);
    free(st);
}

static bool cond_value(const lc_value *c)
{
    return ((const uint8_t *)c->data)[0] != 0;
}

static lc_status prepare(lc_kernel_args *a)
{
    const lc_value *c = a->in[0];
    if (c->dtype != LC_DTYPE_BOOL || lc_value_numel(c) != 1)
        return lc_fail(LC_ERR_INVALID_ARGUMENT, "cond must be one bool, is %s [%s]", lc_dtype_name(c->dtype),
                       lc_dims_str(c->ndim, c->dims));
    const lc_graph *g[2];
    lc_status s;
    if ((s = lc_cf_graph(a, "else_branch", &g[0])) || (s = lc_cf_graph(a, "then_branch", &g[1]))) return s;
    if_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    for (int b = 0; b < 2; b++) {
        if (c->is_const && cond_value(c) != b) continue;
        if ((s = lc_executor_create_graph(a->scope, g[b], 0, NULL, &st->branch[b]))) {
            if (c->is_const || s == LC_ERR_NO_MEMORY) return lc_fail_prefix(s, "%s branch", b ? "then" : "else");
            st->fail[b] = s;
            snprintf(st->why[b], sizeof st->why[b], "%s", lc_last_error());
            continue;
        }
        if (lc_executor_output_count(st->branch[b]) != a->n_out)
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "the %s branch has %d outputs, the node %d", b ? "then" : "else",
                           lc_executor_output_count(st->branch[b]), a->n_out);
    }
    if (st->fail[0] && st->fail[1]) return lc_fail(st->fail[1], "then branch: %s", st->why[1]);
    for (int o = 0; o < a->n_out; o++) {
        const lc_value *v[2] = {st->branch[0] ? lc_cf_output_value(st->branch[0], o) : NULL,
                                st->branch[1] ? lc_cf_output_value(st->branch[1], o) : NULL};
        if (v[0] && v[1] && !lc_cf_same_type(v[0], v[1]))
            return lc_fail(LC_ERR_UNSUPPORTED,
                           "data-dependent shape: output %d is %s [%s] in the then branch and %s [%s] in the else branch",
                           o, lc_dtype_name(v[1]->dtype), lc_dims_str(v[1]->ndim, v[1]->dims), lc_dtype_name(v[0]->dtype),
                           lc_dims_str(v[0]->ndim, v[0]->dims));
        const lc_value *w = v[1] ? v[1] : v[0];
        if (a->out[o] && (s = lc_value_set_shape(a->out[o], w->dtype, w->ndim, w->dims))) return s;
    }
    return LC_OK;
}

static lc_status run(lc_kernel_args *a)
{
    const if_state *st = a->state;
    int taken = cond_value(a->in[0]);
    if (st->fail[taken]) return lc_fail(st->fail[taken], "%s branch: %s", taken ? "then" : "else", st->why[taken]);
    lc_executor *b = st->branch[taken];
    lc_status s = lc_executor_run(b, NULL, 0);
    if (s) return s;
    for (int o = 0; o < a->n_out; o++)
        if (a->out[o]) lc_cf_copy_output(a->out[o]->data, b, o, lc_cf_nbytes(a->out[o]));
    return LC_OK;
}

const lc_kernel lc_kernel_If_1 = {"If", 1, 1, 0, prepare, run, if_free, NULL};
