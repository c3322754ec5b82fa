/* Activation buffers: pooled by liveness, so a buffer serves several
 * values whose lifetimes do not overlap. */
#include <stdlib.h>
#include <string.h>

#include "lc_plan.h"

_Alignas(BUF_ALIGN) const unsigned char lc_exec_empty_data[BUF_ALIGN];

static size_t round_up(size_t n)
{
    return n ? (n + BUF_ALIGN - 1) / BUF_ALIGN * BUF_ALIGN : BUF_ALIGN;
}

void *lc_exec_alloc(size_t n)
{
    return aligned_alloc(BUF_ALIGN, round_up(n));
}


/* Assigns pooled buffers to step outputs by liveness: a buffer returns to
 * the pool after the last step that reads its value. Graph outputs get
 * their own memory so they stay valid after the run. */
lc_status lc_exec_plan_buffers(lc_executor *ex)
{
    lc_status s = LC_OK;
    int cap = 0, n_free = 0, free_cap = 0;
    int *free_list = NULL;
    for (int p = 0; p < ex->n_steps; p++) {
        const step *st = &ex->steps[p];
        for (int i = 0; i < st->args.n_in + st->n_extra; i++) {
            int sl = i < st->args.n_in ? st->in_slots[i] : st->extra_slots[i - st->args.n_in];
            if (sl >= 0) ex->slots[sl].last_use = p;
        }
    }
    for (int p = 0; p < ex->n_steps && !s; p++) {
        const step *st = &ex->steps[p];
        for (int o = 0; o < st->args.n_out && !s; o++) {
            if (st->out_slots[o] < 0) continue;
            slot *sl = &ex->slots[st->out_slots[o]];
            sl->v.nbytes = (size_t)lc_value_numel(&sl->v) * lc_dtype_size(sl->v.dtype);
            if (sl->is_output) {
                if (!(sl->owned = lc_exec_alloc(sl->v.nbytes)))
                    s = lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
                sl->v.data = sl->owned;
                continue;
            }
            /* Best fit among free buffers; else grow the largest free one;
             * else a new buffer. */
            size_t need = round_up(sl->v.nbytes);
            int best = -1, largest = -1;
            for (int f = 0; f < n_free; f++) {
                size_t have = ex->buf_size[free_list[f]];
                if (have >= need && (best < 0 || have < ex->buf_size[free_list[best]])) best = f;
                if (largest < 0 || have > ex->buf_size[free_list[largest]]) largest = f;
            }
            if (best < 0) best = largest;
            if (best >= 0) {
                sl->buf = free_list[best];
                free_list[best] = free_list[--n_free];
                if (ex->buf_size[sl->buf] < need) ex->buf_size[sl->buf] = need;
            } else {
                if ((s = lc_vec_reserve((void **)&ex->buf_size, &cap, ex->n_bufs + 1, sizeof *ex->buf_size))) break;
                ex->buf_size[ex->n_bufs] = need;
                sl->buf = ex->n_bufs++;
            }
        }
        /* Release what died at this step: inputs read for the last time and
         * outputs nobody reads. */
        for (int i = 0; i < st->args.n_in + st->n_extra + st->args.n_out && !s; i++) {
            int k = i - st->args.n_in - st->n_extra;
            int si = i < st->args.n_in ? st->in_slots[i]
                     : k < 0          ? st->extra_slots[i - st->args.n_in]
                                      : st->out_slots[k];
            if (si < 0) continue;
            slot *sl = &ex->slots[si];
            if (sl->buf < 0 || sl->is_output || sl->last_use > p) continue;
            bool already = false;
            for (int f = 0; f < n_free && !already; f++) already = free_list[f] == sl->buf;
            if (already) continue;
            if ((s = lc_vec_reserve((void **)&free_list, &free_cap, n_free + 1, sizeof *free_list))) break;
            free_list[n_free++] = sl->buf;
        }
    }
    free(free_list);
    if (s) return s;
    ex->bufs = calloc((size_t)(ex->n_bufs ? ex->n_bufs : 1), sizeof *ex->bufs);
    if (!ex->bufs) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int b = 0; b < ex->n_bufs; b++)
        if (!(ex->bufs[b] = lc_exec_alloc(ex->buf_size[b])))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", ex->buf_size[b]);
    for (int i = 0; i < ex->n_slots; i++)
        if (ex->slots[i].buf >= 0) ex->slots[i].v.data = ex->bufs[ex->slots[i].buf];
    /* A graph input that is also a graph output is copied in at run. */
    for (int i = 0; i < ex->n_inputs; i++) {
        slot *sl = &ex->slots[ex->inputs[i]];
        if (sl->is_output && !(sl->owned = lc_exec_alloc(sl->v.nbytes)))
            return lc_fail(LC_ERR_NO_MEMORY, "out of memory (%zu bytes)", sl->v.nbytes);
    }
    return LC_OK;
}
