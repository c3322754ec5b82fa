"""Straightforward numpy reference of GPTQ as quantize-gptq implements it.

From the GPTQ paper (Frantar et al. 2023): columns are quantized one at a
time (optionally in order of decreasing H_jj, "act order") and each one's
rounding error (w - q) / U_jj is applied to every later column through the
row U_j,j: of the upper Cholesky factor of (H + lambda I)^-1 (no lazy block
updates here; the result is the same). Grids:
  uniform: per row asymmetric min/max over the kept weights and 0:
           scale = float32((max - min) / maxq), zero = round(-min / scale),
           code = clip(round(w / scale) + zero, 0, maxq) (round half even),
           value = float32(code - zero) * scale in float32;
  codebook: the nearest centroid (ties: the lower value).
Dead columns and damping as in ref_sparsegpt.prepare.
"""
import numpy as np

from ref_sparsegpt import prepare, sweep


def row_range(v):
    """The range a row's grid covers: its kept values and 0 ([-1, 1] when
    all are 0)."""
    lo = min(float(v.min()) if v.size else 0.0, 0.0)
    hi = max(float(v.max()) if v.size else 0.0, 0.0)
    return (-1.0, 1.0) if lo == 0 and hi == 0 else (lo, hi)


def uniform_grid(w, bits, keep=None):
    maxq = 2 ** bits - 1
    w = np.asarray(w, dtype=np.float32)
    if keep is None:
        keep = np.ones(w.shape, dtype=bool)
    scales, zeros = [], []
    for r in range(w.shape[0]):
        lo, hi = row_range(w[r][keep[r]])
        s = np.float32((float(np.float32(hi)) - float(np.float32(lo))) / maxq)
        z = np.clip(np.rint(-lo / float(s)), 0, maxq)
        scales.append(s)
        zeros.append(int(z))
    return np.array(scales, dtype=np.float32), np.array(zeros)


def shared_zero_grid(w, bits, keep=None):
    """uniform_grid with one zero point for all rows (the lower median of
    theirs), each row's scale the smallest float32 that covers its range
    with it (prune-hessian grid=shared)."""
    maxq = 2 ** bits - 1
    w = np.asarray(w, dtype=np.float32)
    if keep is None:
        keep = np.ones(w.shape, dtype=bool)
    _, zeros = uniform_grid(w, bits, keep)
    z = int(np.sort(zeros)[(len(zeros) - 1) // 2])
    scales = []
    for r in range(w.shape[0]):
        lo, hi = row_range(w[r][keep[r]])
        sc = max(-lo / z if z > 0 else 0.0, hi / (maxq - z) if z < maxq else 0.0)
        f = np.float32(sc)
        if float(f) < sc:
            f = np.nextafter(f, np.float32(np.inf))
        scales.append(f if f > 0 else np.float32(1e-30))
    return np.array(scales, dtype=np.float32), np.full(w.shape[0], z)


def grid_cost(w, bits, scales, zeros, keep, hdiag):
    """ln D + 2 ln 2 R / n of a uniform grid on the kept weights (D: the
    H_jj-weighted squared rounding error, R: the entropy in bits of all
    codes in one histogram, or raw bits when fewer), as prune-hessian's
    grid=shared compares the shared and the rows' own zero points."""
    maxq = 2 ** bits - 1
    w = np.asarray(w, dtype=np.float32).astype(np.float64)
    s = scales.astype(np.float64)[:, None]
    q = np.clip(np.rint(w / s) + zeros[:, None], 0, maxq)
    val = ((q - zeros[:, None]).astype(np.float32) * scales[:, None]).astype(np.float64)
    wt = np.broadcast_to(np.asarray(hdiag, dtype=np.float32).astype(np.float64), w.shape)
    d = float(np.sum((wt * (w - val) ** 2)[keep]))
    _, cnt = np.unique(q[keep], return_counts=True)
    n = float(keep.sum())
    bits_ = float(-np.sum(cnt * np.log2(cnt / n)))
    return np.log(d + 1e-300) + 2 * np.log(2.0) * min(bits_, n * bits) / n


def gptq(w, h, bits=4, block=128, act_order=False, damp=0.01, codebook=None, keep=None):
    """Quantizes w (rows x k) with Hessian h; returns float32 weights.

    codebook: sorted centroids (one codebook for the layer) instead of the
    uniform per-row grid. keep: bool mask of weights not pruned before."""
    w = np.asarray(w, dtype=np.float32)
    rows, k = w.shape
    if keep is None:
        keep = np.ones(w.shape, dtype=bool)
    maxq = 2 ** bits - 1
    scales, zeros = uniform_grid(w, bits, keep)
    perm = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(k)

    def quant(ridx, col, vals):
        if codebook is not None:
            cb = np.asarray(codebook, dtype=np.float64)
            dist = np.abs(vals[:, None] - cb[None, :])
            return cb[np.argmin(dist, axis=1)]
        s = scales[ridx].astype(np.float64)
        code = np.clip(np.rint(vals / s) + zeros[ridx], 0, maxq)
        return ((code - zeros[ridx]).astype(np.float32) * scales[ridx]).astype(np.float64)

    w2, u = prepare(w, h, damp, perm)
    out, kp = sweep(w2, u, keep[:, perm], block, quant=quant)
    out[~kp] = 0
    res = np.empty_like(out)
    res[:, perm] = out
    return res.astype(np.float32)
