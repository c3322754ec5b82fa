"""Straightforward numpy reference of SparseGPT as prune-hessian implements it.

Written from the paper's algorithm (Frantar & Alistarh 2023), without the
lazy block updates: every column's error is applied to all later columns
at once, which is mathematically the same as the lazy scheme. The mask is
still chosen per block, when the sweep reaches the block's first column.

Conventions (shared with passes/framework/lc_hessian.h):
  H = 2/n sum x x^T; dead inputs (H_jj = 0) get H_jj = 1 and zero weights;
  lambda = damp * mean(diag H); U = upper Cholesky factor of (H+lambda I)^-1;
  saliency w^2 / U_jj^2; per block the smallest are pruned (ties: lower
  flat index r*k + j), as many as make round(sparsity * rows * i2) pruned in
  columns [0, i2) (cumulative rounding); N:M: in each group of m columns
  the m - n smallest of each row.
"""
import numpy as np


def hessian(x, center=False):
    """H = 2/n X^T X for input vectors as the rows of x (float64); with
    center, of the centred inputs x - mean(x) (prune-hessian center=yes)."""
    x = np.asarray(x, dtype=np.float64)
    if center:
        x = x - x.mean(axis=0)
    return 2.0 / x.shape[0] * (x.T @ x)


def round_half_away(v):
    return int(np.floor(v + 0.5))


def prepare(w, h, damp, perm=None):
    """Dead columns, damping, U. Returns (w float64 with dead columns zeroed, U)."""
    w = np.array(w, dtype=np.float64)
    h = np.array(h, dtype=np.float64)
    if perm is not None:
        w = w[:, perm]
        h = h[np.ix_(perm, perm)]
    dead = np.diag(h) == 0
    h[dead, :] = 0
    h[:, dead] = 0
    h[dead, dead] = 1
    w[:, dead] = 0
    lam = damp * np.mean(np.diag(h))
    hinv = np.linalg.inv(h + lam * np.eye(h.shape[0]))
    u = np.linalg.cholesky(hinv).T
    return w, u


def sweep(w, u, keep, block, sparsity=0.0, nm=None, quant=None, row_weight=None):
    """The column sweep on w (rows x k, float64, modified copy returned).

    keep: bool rows x k, False where already pruned. row_weight: per-row
    factor on the saliency (None: 1). quant(row_index_array,
    col, values) -> quantized values of the kept weights of column col.
    Returns (w, keep)."""
    w = w.copy()
    keep = keep.copy()
    rows, k = w.shape
    d = np.diag(u)
    i1 = 0
    while i1 < k:
        i2 = min(i1 + block, k)
        if nm is not None and i2 < k and i2 % nm[1]:
            i2 -= i2 % nm[1]
        if sparsity > 0 and nm is None:
            sal = w[:, i1:i2] ** 2 / d[i1:i2] ** 2
            if row_weight is not None:
                sal = sal * np.asarray(row_weight)[:, None]
            sal = np.where(keep[:, i1:i2], sal, -1.0)
            order = np.argsort(sal.ravel(), kind="stable")
            target = max(round_half_away(sparsity * rows * i2) - int(np.sum(~keep[:, :i1])), 0)
            blk = keep[:, i1:i2].copy().ravel()
            blk[order[:target]] = False
            keep[:, i1:i2] = blk.reshape(rows, i2 - i1)
        for j in range(i1, i2):
            if nm is not None and j % nm[1] == 0:
                n, m = nm
                width = min(m, k - j)
                if width > n:
                    for r in range(rows):
                        sal = w[r, j:j + width] ** 2 / d[j:j + width] ** 2
                        sal = np.where(keep[r, j:j + width], sal, -1.0)
                        order = np.argsort(sal, kind="stable")
                        keep[r, j + order[:width - n]] = False
            q = w[:, j].copy()
            if quant is not None:
                q[keep[:, j]] = quant(np.nonzero(keep[:, j])[0], j, q[keep[:, j]])
            q[~keep[:, j]] = 0
            err = (w[:, j] - q) / u[j, j]
            w[:, j:] -= np.outer(err, u[j, j:])
            w[:, j] = q
        i1 = i2
    return w, keep


def sparsegpt(w, h, sparsity, block=128, nm=None, damp=0.01, row_weight=None):
    """Prunes w (rows x k) with Hessian h; returns float32 weights.

    row_weight: (gamma / sqrt(var + eps))^2 of a BatchNormalization that
    alone reads the layer's output (errors ranked after it)."""
    w2, u = prepare(w, h, damp)
    keep = np.ones(w2.shape, dtype=bool)
    out, keep = sweep(w2, u, keep, block, sparsity, nm, row_weight=row_weight)
    out[~keep] = 0
    return out.astype(np.float32)


def global_sparsities(ws, hs, sparsity, damp=0.01, within_layer=False, magnitude=False):
    """Per-unit sparsity from ranking w^2 / [H^-1]_jj over all units (layers,
    or with within_layer the groups of one layer, ranked by w^2 / U_jj^2);
    with magnitude, layers ranked by w^2 alone (rank=magnitude)."""
    sal, owner = [], []
    for i, (w, h) in enumerate(zip(ws, hs if hs is not None else [None] * len(ws))):
        if magnitude:
            s = (np.asarray(w, dtype=np.float64) ** 2).ravel()
            sal.append(s)
            owner.append(np.full(s.size, i))
            continue
        w2, u = prepare(w, h, damp)
        hinv_diag = np.diag(u) ** 2 if within_layer else np.sum(u * u, axis=0)
        s = (w2 ** 2 / hinv_diag).ravel()
        sal.append(s)
        owner.append(np.full(s.size, i))
    sal = np.concatenate(sal)
    owner = np.concatenate(owner)
    order = np.lexsort((owner, sal))
    kill = round_half_away(sparsity * sal.size)
    counts = np.bincount(owner[order[:kill]], minlength=len(ws))
    return [c / w.size for c, w in zip(counts, ws)]


def kmeans_1d_optimal(x, weight, k):
    """Exact weighted 1-D k-means (minimum weighted within-cluster sum of
    squares) by dynamic programming over the sorted values, O(k n^2):
    D[c][j] = min_i D[c-1][i] + cost(i, j), cost from prefix sums. Returns
    the k centroids (weighted means) ascending, as float32."""
    order = np.argsort(x, kind="stable")
    xs = np.asarray(x, dtype=np.float64)[order]
    ws = np.asarray(weight, dtype=np.float64)[order]
    n = xs.size
    pw = np.concatenate([[0.0], np.cumsum(ws)])
    px = np.concatenate([[0.0], np.cumsum(ws * xs)])
    pxx = np.concatenate([[0.0], np.cumsum(ws * xs * xs)])

    def cost(i, j):  # segments [i, j) for arrays i, scalar j
        sw = pw[j] - pw[i]
        sx = px[j] - px[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (pxx[j] - pxx[i]) - np.where(sw > 0, sx * sx / sw, 0.0)
        return np.maximum(c, 0.0)

    k = min(k, n)
    inf = np.inf
    d = np.full((k + 1, n + 1), inf)
    arg = np.zeros((k + 1, n + 1), dtype=np.int64)
    d[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            tot = d[c - 1, i] + cost(i, j)
            b = int(np.argmin(tot))
            d[c, j] = tot[b]
            arg[c, j] = i[b]
    cents = []
    j = n
    for c in range(k, 0, -1):
        i = arg[c, j]
        sw = pw[j] - pw[i]
        cents.append((px[j] - px[i]) / sw if sw > 0 else xs[i])
        j = i
    return np.array(sorted(cents), dtype=np.float32)


def sparsegpt_joint(w, h, sparsity, bits, grid="uniform", block=128, damp=0.01, fit="kept"):
    """SparseGPT's joint mode as prune-hessian bits>0 implements it: one
    sweep prunes each block's mask and quantizes every kept weight, both
    errors compensated through U. The grid (quantize-gptq's) is fitted to
    the weights a pruning-only sweep keeps, with their compensated values
    (float32): uniform, per-row asymmetric min/max of those and 0 (shared:
    with one zero point for all rows, ref_gptq.shared_zero_grid, when
    ref_gptq.grid_cost says it costs less); kmeans,
    one codebook, their weighted optimal k-means (weights H_jj). fit="all"
    (uniform only): the grid of the unpruned layer's weights instead.
    Returns (float32 weights, codebook or None)."""
    from ref_gptq import grid_cost, shared_zero_grid, uniform_grid  # ref_gptq imports this module

    w = np.asarray(w, dtype=np.float32)
    rows, k = w.shape
    maxq = 2 ** bits - 1
    w2, u = prepare(w, h, damp)
    keep = np.ones(w2.shape, dtype=bool)
    pw_, pk = sweep(w2, u, keep, block, sparsity)
    pw_ = np.where(pk, pw_, 0).astype(np.float32)
    cb = None
    if grid == "kmeans":
        wts = np.broadcast_to(np.diag(np.asarray(h, dtype=np.float64)), (rows, k))[pk]
        cb = kmeans_1d_optimal(pw_[pk], wts, 2 ** bits)

        def quant(ridx, col, v):
            c = cb.astype(np.float64)
            return c[np.argmin(np.abs(v[:, None] - c[None, :]), axis=1)]
    else:
        gw, gk = (pw_, pk) if fit == "kept" else (w, np.ones(w.shape, dtype=bool))
        scales, zeros = uniform_grid(gw, bits, gk)
        if grid == "shared":
            # the shared zero point where it costs less at equal rate
            s2, z2 = shared_zero_grid(gw, bits, gk)
            hd = np.diag(np.asarray(h, dtype=np.float64))
            if grid_cost(gw, bits, s2, z2, gk, hd) <= grid_cost(gw, bits, scales, zeros, gk, hd):
                scales, zeros = s2, z2

        def quant(ridx, col, v):
            s = scales[ridx].astype(np.float64)
            code = np.clip(np.rint(v / s) + zeros[ridx], 0, maxq)
            return ((code - zeros[ridx]).astype(np.float32) * scales[ridx]).astype(np.float64)
    out, kp = sweep(w2, u, keep, block, sparsity, quant=quant)
    out[~kp] = 0
    return out.astype(np.float32), cb
