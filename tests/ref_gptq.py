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


def uniform_grid(w, bits, keep=None):
    maxq = 2 ** bits - 1
    w = np.asarray(w, dtype=np.float32)
    if keep is None:
        keep = np.ones(w.shape, dtype=bool)
    scales, zeros = [], []
    for r in range(w.shape[0]):
        v = w[r][keep[r]]
        lo = min(float(v.min()) if v.size else 0.0, 0.0)
        hi = max(float(v.max()) if v.size else 0.0, 0.0)
        if lo == 0 and hi == 0:
            lo, hi = -1.0, 1.0
        s = np.float32((float(np.float32(hi)) - float(np.float32(lo))) / maxq)
        z = np.clip(np.rint(-lo / float(s)), 0, maxq)
        scales.append(s)
        zeros.append(int(z))
    return np.array(scales, dtype=np.float32), np.array(zeros)


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
