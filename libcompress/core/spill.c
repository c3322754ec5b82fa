/* A model parked on disk: its tensor data and encodings' masks and codes
 * go to an unnamed temporary file ($TMPDIR, else /tmp), its structure
 * stays in memory, and any number of models are loaded back from it bit
 * for bit. The pipeline keeps
 * the models it may have to restart from this way (the input, the model
 * before a pass) instead of holding them in memory beside the candidate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_encoding.h"
#include "lc_ir.h"

/* What a tensor had before it was parked, in walk order. */
typedef struct parked {
    size_t nbytes;
    bool mask, codes;
} parked;

struct lc_spilled {
    lc_model *skel; /* the structure; parked tensors have no data */
    FILE *f;
    parked *t;
    int n, cap;
};

/* A walk over the tensors of one model (lc_model_each_tensor), the k-th
 * parked record next. */
typedef struct cursor {
    lc_spilled *sp;
    int k;
} cursor;

static lc_status put(lc_spilled *sp, const void *p, size_t n, const char *name)
{
    if (n && fwrite(p, 1, n, sp->f) != n)
        return lc_fail(LC_ERR_IO, "tensor '%s': writing %zu bytes to a temporary file failed", name, n);
    return LC_OK;
}

static lc_status get(lc_spilled *sp, void *p, size_t n, const char *name)
{
    if (n && fread(p, 1, n, sp->f) != n)
        return lc_fail(LC_ERR_IO, "tensor '%s': reading %zu bytes back from a temporary file failed", name, n);
    return LC_OK;
}

/* Writes t's data, mask and codes and frees them (t is the skeleton's). */
static lc_status park(lc_tensor *t, void *user)
{
    lc_spilled *sp = ((cursor *)user)->sp;
    lc_status s = lc_vec_reserve((void **)&sp->t, &sp->cap, sp->n + 1, sizeof *sp->t);
    if (s) return s;
    int64_t numel = lc_shape_numel(t->ndim, t->dims, 0);
    lc_encoding *e = t->enc;
    bool data = t->data && !t->strings && t->dtype != LC_DTYPE_STRING;
    parked pk = {data ? t->nbytes : 0, e && e->mask, e && e->codes};
    if (data) s = put(sp, t->data, t->nbytes, t->name);
    if (!s && pk.mask) s = put(sp, e->mask, (size_t)numel, t->name);
    if (!s && pk.codes) s = put(sp, e->codes, (size_t)numel, t->name);
    if (s) return s;
    sp->t[sp->n++] = pk;
    if (data) {
        /* shared data stays with its other holders */
        if (!t->shared) free(t->data);
        else if (--*t->shared == 0) {
            free(t->data);
            free(t->shared);
        }
        t->data = NULL;
        t->shared = NULL;
        t->nbytes = 0;
    }
    if (pk.mask) free(e->mask), e->mask = NULL;
    if (pk.codes) free(e->codes), e->codes = NULL;
    return LC_OK;
}

/* Reads back into a fresh clone of the skeleton: lc_tensor_clone gave it
 * zeroed (untouched) data of the right size; masks and codes are new. */
static lc_status unpark(lc_tensor *t, void *user)
{
    cursor *c = user;
    lc_spilled *sp = c->sp;
    if (c->k >= sp->n) return lc_fail(LC_ERR_INTERNAL, "tensor '%s': not in the temporary file", t->name);
    parked pk = sp->t[c->k++];
    int64_t numel = lc_shape_numel(t->ndim, t->dims, 0);
    if (pk.nbytes && pk.nbytes != t->nbytes)
        return lc_fail(LC_ERR_INTERNAL, "tensor '%s': %zu bytes parked, %zu expected", t->name, pk.nbytes, t->nbytes);
    lc_status s = pk.nbytes ? get(sp, t->data, pk.nbytes, t->name) : LC_OK;
    lc_encoding *e = t->enc;
    if (!s && (pk.mask || pk.codes) && !e) s = lc_fail(LC_ERR_INTERNAL, "tensor '%s': no encoding to load into", t->name);
    if (!s && pk.mask && !(e->mask = malloc(numel ? (size_t)numel : 1))) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s && pk.mask) s = get(sp, e->mask, (size_t)numel, t->name);
    if (!s && pk.codes && !(e->codes = malloc(numel ? (size_t)numel : 1))) s = lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!s && pk.codes) s = get(sp, e->codes, (size_t)numel, t->name);
    return s;
}

/* An unnamed file in $TMPDIR (else /tmp), gone when closed. */
static FILE *temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    if (snprintf(path, sizeof path, "%s/lc_spill_XXXXXX", dir && *dir ? dir : "/tmp") >= (int)sizeof path) return NULL;
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) close(fd);
    return f;
}

void lc_spilled_free(lc_spilled *sp)
{
    if (!sp) return;
    lc_model_free(sp->skel);
    if (sp->f) fclose(sp->f);
    free(sp->t);
    free(sp);
}

lc_status lc_model_spill(lc_model **m, lc_spilled **out)
{
    *out = NULL;
    if (!m || !*m) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_spill: NULL model");
    lc_spilled *sp = calloc(1, sizeof *sp);
    if (!sp) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    if (!(sp->f = temp_file())) {
        free(sp);
        return lc_fail(LC_ERR_IO, "cannot create a temporary file to park a model in (TMPDIR)");
    }
    cursor c = {sp, 0};
    lc_status s = lc_model_each_tensor(*m, park, &c);
    if (!s && fflush(sp->f)) s = lc_fail(LC_ERR_IO, "writing a model to a temporary file failed");
    /* the model is the skeleton now (also after a failure: its data may be
       partly gone, so it is not handed back) */
    sp->skel = *m;
    *m = NULL;
    if (s) {
        lc_spilled_free(sp);
        return s;
    }
    *out = sp;
    return LC_OK;
}

lc_status lc_spilled_load(lc_spilled *sp, lc_model **out)
{
    *out = NULL;
    if (!sp) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_spilled_load: NULL");
    lc_model *m;
    lc_status s = lc_model_clone(sp->skel, &m);
    if (s) return s;
    if (fseek(sp->f, 0, SEEK_SET)) s = lc_fail(LC_ERR_IO, "rewinding a temporary file failed");
    cursor c = {sp, 0};
    if (!s) s = lc_model_each_tensor(m, unpark, &c);
    if (!s && c.k != sp->n) s = lc_fail(LC_ERR_INTERNAL, "%d tensors parked, %d loaded", sp->n, c.k);
    if (s) {
        lc_model_free(m);
        return s;
    }
    *out = m;
    return LC_OK;
}
