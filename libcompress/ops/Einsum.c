/* Einsum (opset 12) on one or two float32 or float64 operands, with
 * "..." and the implicit output form. Two operands are contracted as one
 * batched gemm: each is permuted (taking diagonals of repeated labels and
 * summing over the labels only it has) into [batch, m, k] and
 * [batch, k, n], multiplied, and the [batch, m, n] result permuted into
 * the output's label order. One operand is a permutation with sums.
 * Ellipsis dims must match exactly (no broadcasting of size-1 dims). */
#include <cblas.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lc_shape.h"

/* Label ids: 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51 (numpy's implicit
 * output order), ellipsis dims 52.. right-aligned across operands. */
#define ELL0 52
#define NLABELS (ELL0 + LC_MAX_DIMS)

typedef struct {
    int n_ops;
    int nl[2], lab[2][LC_MAX_DIMS];
    int nout, out[LC_MAX_DIMS];
    int64_t size[NLABELS];
    /* two operands: label groups batch, m (first only), n (second only), k (contracted) */
    int nb, nm, nn, nk;
    int gb[LC_MAX_DIMS], gm[LC_MAX_DIMS], gn[LC_MAX_DIMS], gk[LC_MAX_DIMS];
} einsum_state;

static int label_id(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c - 'a' + 26;
}

/* Parses one term (operand or output) into ids; ell_at receives the
 * position of "..." (-1 if none). */
static lc_status parse_term(const char *s, size_t len, int *ids, int *n, int *ell_at)
{
    *n = 0;
    *ell_at = -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (*ell_at >= 0 || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
                return lc_fail(LC_ERR_INVALID_ARGUMENT, "malformed ellipsis in equation");
            *ell_at = *n;
            i += 2;
        } else if (isalpha((unsigned char)s[i])) {
            if (*n == LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "too many labels in a term");
            ids[(*n)++] = label_id(s[i]);
        } else {
            return lc_fail(LC_ERR_INVALID_ARGUMENT, "invalid character '%c' in equation", s[i]);
        }
    }
    return LC_OK;
}

/* Inserts `e` ellipsis labels (the last e of E) at position `at`. */
static lc_status expand_ell(int *ids, int *n, int at, int e, int big_e)
{
    if (at < 0) return LC_OK;
    if (*n + e > LC_MAX_DIMS) return lc_fail(LC_ERR_UNSUPPORTED, "too many dims in a term");
    memmove(ids + at + e, ids + at, (size_t)(*n - at) * sizeof *ids);
    for (int j = 0; j < e; j++) ids[at + j] = ELL0 + big_e - e + j;
    *n += e;
    return LC_OK;
}

static bool has(const int *ids, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

static lc_status parse(lc_kernel_args *a, einsum_state *st)
{
    const char *eq = lc_node_attr_string(a->node, "equation", NULL);
    if (!eq) return lc_fail(LC_ERR_INVALID_ARGUMENT, "missing attribute equation");
    char buf[512];
    size_t bl = 0;
    for (const char *p = eq; *p && bl + 1 < sizeof buf; p++)
        if (!isspace((unsigned char)*p)) buf[bl++] = *p;
    buf[bl] = 0;
    char *arrow = strstr(buf, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - buf) : bl;
    int ell_at[2], e[2] = {0, 0}, big_e = 0, nterms = 0;
    const char *t = buf;
    while (t <= buf + lhs_len) {
        const char *comma = memchr(t, ',', (size_t)(buf + lhs_len - t));
        size_t len = comma ? (size_t)(comma - t) : (size_t)(buf + lhs_len - t);
        if (nterms == 2) return lc_fail(LC_ERR_UNSUPPORTED, "einsum with more than two operands is not supported");
        lc_status s = parse_term(t, len, st->lab[nterms], &st->nl[nterms], &ell_at[nterms]);
        if (s) return s;
        nterms++;
        if (!comma) break;
        t = comma + 1;
    }
    if (nterms != a->n_in) return lc_fail(LC_ERR_INVALID_ARGUMENT, "equation has %d operands, node has %d inputs", nterms, a->n_in);
    st->n_ops = nterms;
    for (int i = 0; i < nterms; i++) {
        const lc_value *x = a->in[i];
        if (!x) return lc_fail(LC_ERR_INVALID_ARGUMENT, "input %d is missing", i);
        if ((x->dtype != LC_DTYPE_FLOAT && x->dtype != LC_DTYPE_DOUBLE) || x->dtype != a->in[0]->dtype)
            return lc_fail(LC_ERR_UNSUPPORTED, "input '%s' has dtype %s; supported: float, double (all alike)", x->name,
                           lc_dtype_name(x->dtype));
        e[i] = x->ndim - st->nl[i];
        if (e[i] < 0 || (ell_at[i] < 0 && e[i] != 0))
            return lc_fail(LC_ERR_SHAPE, "operand %d has rank %d, its term has %d labels", i, x->ndim, st->nl[i]);
        if (e[i] > big_e) big_e = e[i];
    }
    for (int i = 0; i < nterms; i++) {
        lc_status s = expand_ell(st->lab[i], &st->nl[i], ell_at[i], e[i], big_e);
        if (s) return s;
    }
    int64_t size[NLABELS];
    for (int l = 0; l < NLABELS; l++) size[l] = -1;
    for (int i = 0; i < nterms; i++)
        for (int d = 0; d < st->nl[i]; d++) {
            int l = st->lab[i][d];
            int64_t sz = a->in[i]->dims[d];
            if (size[l] >= 0 && size[l] != sz)
                return lc_fail(LC_ERR_UNSUPPORTED, "label sizes %lld and %lld differ (broadcasting is not supported)",
                               (long long)size[l], (long long)sz);
            size[l] = sz;
        }
    memcpy(st->size, size, sizeof size);
    if (arrow) {
        int at;
        lc_status s = parse_term(arrow + 2, strlen(arrow + 2), st->out, &st->nout, &at);
        if (!s && at < 0 && big_e > 0) s = lc_fail(LC_ERR_INVALID_ARGUMENT, "output omits the ellipsis dims");
        if (!s) s = expand_ell(st->out, &st->nout, at, big_e, big_e);
        if (s) return s;
        for (int d = 0; d < st->nout; d++)
            if (size[st->out[d]] < 0 || has(st->out, d, st->out[d]))
                return lc_fail(LC_ERR_INVALID_ARGUMENT, "output label is repeated or not in any operand");
    } else {
        /* implicit output: ellipsis dims, then labels seen exactly once, in order */
        st->nout = 0;
        for (int l = 0; l < NLABELS; l++) {
            int l2 = l < big_e ? ELL0 + l : l - big_e;
            if (l2 >= ELL0 && l >= big_e) continue;
            int count = 0;
            for (int i = 0; i < nterms; i++)
                for (int d = 0; d < st->nl[i]; d++) count += st->lab[i][d] == l2;
            if (count == 0 || (l2 < ELL0 && count != 1)) continue;
            st->out[st->nout++] = l2;
        }
    }
    if (nterms == 2) {
        for (int l = 0; l < NLABELS; l++) {
            bool in0 = has(st->lab[0], st->nl[0], l), in1 = has(st->lab[1], st->nl[1], l);
            bool out = has(st->out, st->nout, l);
            if (in0 && in1) {
                if (out) st->gb[st->nb++] = l;
                else st->gk[st->nk++] = l;
            } else if (in0 && out) {
                st->gm[st->nm++] = l;
            } else if (in1 && out) {
                st->gn[st->nn++] = l;
            }
        }
    }
    return LC_OK;
}

static lc_status prepare(lc_kernel_args *a)
{
    if (a->n_in < 1 || a->n_out < 1 || !a->out[0]) return lc_fail(LC_ERR_INVALID_ARGUMENT, "needs inputs and an output");
    einsum_state *st = calloc(1, sizeof *st);
    if (!st) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    a->state = st;
    lc_status s = parse(a, st);
    if (s) return s;
    int64_t dims[LC_MAX_DIMS];
    for (int d = 0; d < st->nout; d++) dims[d] = st->size[st->out[d]];
    return lc_value_set_shape(a->out[0], a->in[0]->dtype, st->nout, dims);
}

/* y (labels `order`, contiguous, zeroed here) = x (labels `lab`, dims)
 * permuted, summed over x's labels missing from `order`. A label repeated
 * in x walks its diagonal: the walk runs over x's distinct labels, each
 * stepping x by the sum of its axes' strides. Elements are float or
 * double (`dbl`). */
static void permute_sum(const void *xv, bool dbl, int nd, const int *lab, const int64_t *dims, const int *order,
                        int norder, const int64_t *size, void *yv)
{
    int64_t ystr[NLABELS], xstr[LC_MAX_DIMS], ustr_x[LC_MAX_DIMS] = {0}, ustr_y[LC_MAX_DIMS], udim[LC_MAX_DIMS];
    int64_t idx[LC_MAX_DIMS] = {0}, s = 1;
    int ulab[LC_MAX_DIMS], nu = 0;
    for (int l = 0; l < NLABELS; l++) ystr[l] = 0;
    for (int d = norder - 1; d >= 0; d--) {
        ystr[order[d]] = s;
        s *= size[order[d]];
    }
    if (dbl) memset(yv, 0, (size_t)s * sizeof(double));
    else memset(yv, 0, (size_t)s * sizeof(float));
    lc_contig_strides(nd, dims, xstr);
    for (int d = 0; d < nd; d++) {
        int u = 0;
        while (u < nu && ulab[u] != lab[d]) u++;
        if (u == nu) {
            ulab[nu] = lab[d];
            udim[nu] = dims[d];
            ustr_y[nu] = ystr[lab[d]];
            nu++;
        }
        ustr_x[u] += xstr[d];
    }
    int64_t total = lc_dims_prod(udim, 0, nu), o = 0, xi = 0;
    for (int64_t i = 0; i < total; i++) {
        if (dbl) ((double *)yv)[o] += ((const double *)xv)[xi];
        else ((float *)yv)[o] += ((const float *)xv)[xi];
        for (int u = nu - 1; u >= 0; u--) {
            o += ustr_y[u];
            xi += ustr_x[u];
            if (++idx[u] < udim[u]) break;
            o -= ustr_y[u] * udim[u];
            xi -= ustr_x[u] * udim[u];
            idx[u] = 0;
        }
    }
}

static int64_t group_size(const int *g, int n, const int64_t *size)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= size[g[i]];
    return p;
}

static lc_status run(lc_kernel_args *a)
{
    const einsum_state *st = a->state;
    const lc_value *x0 = a->in[0];
    bool dbl = x0->dtype == LC_DTYPE_DOUBLE;
    size_t es = dbl ? sizeof(double) : sizeof(float);
    void *y = a->out[0]->data;
    if (st->n_ops == 1) {
        permute_sum(x0->data, dbl, x0->ndim, st->lab[0], x0->dims, st->out, st->nout, st->size, y);
        return LC_OK;
    }
    const lc_value *x1 = a->in[1];
    int64_t b = group_size(st->gb, st->nb, st->size), m = group_size(st->gm, st->nm, st->size);
    int64_t n = group_size(st->gn, st->nn, st->size), k = group_size(st->gk, st->nk, st->size);
    int oa[LC_MAX_DIMS], ob[LC_MAX_DIMS], oc[LC_MAX_DIMS], na = 0, nb = 0, nc = 0;
    for (int i = 0; i < st->nb; i++) oa[na++] = ob[nb++] = oc[nc++] = st->gb[i];
    for (int i = 0; i < st->nm; i++) oa[na++] = oc[nc++] = st->gm[i];
    for (int i = 0; i < st->nk; i++) oa[na++] = ob[nb++] = st->gk[i];
    for (int i = 0; i < st->nn; i++) ob[nb++] = oc[nc++] = st->gn[i];
    char *pa = malloc((size_t)(b * m * k + b * k * n + b * m * n + 1) * es);
    if (!pa) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    char *pb = pa + (size_t)(b * m * k) * es, *pc = pb + (size_t)(b * k * n) * es;
    permute_sum(x0->data, dbl, x0->ndim, st->lab[0], x0->dims, oa, na, st->size, pa);
    permute_sum(x1->data, dbl, x1->ndim, st->lab[1], x1->dims, ob, nb, st->size, pb);
    for (int64_t i = 0; i < b; i++) {
        char *c = pc + (size_t)(i * m * n) * es;
        const char *ai = pa + (size_t)(i * m * k) * es, *bi = pb + (size_t)(i * k * n) * es;
        if (k == 0 || m == 0 || n == 0) memset(c, 0, (size_t)(m * n) * es);
        else if (dbl)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, (const double *)ai, (int)k,
                        (const double *)bi, (int)n, 0.0, (double *)c, (int)n);
        else
            lc_sgemm(false, false, m, n, k, 1.0f, (const float *)ai, k, (const float *)bi, n, 0.0f, (float *)c, n);
    }
    int64_t cdims[LC_MAX_DIMS];
    for (int d = 0; d < nc; d++) cdims[d] = st->size[oc[d]];
    permute_sum(pc, dbl, nc, oc, cdims, st->out, st->nout, st->size, y);
    free(pa);
    return LC_OK;
}

const lc_kernel lc_kernel_Einsum_12 = {"Einsum", 12, 1, 0, prepare, run, free, NULL};
