"""Array-level functions: what a pass does to one layer's weight array.

A weight is a float32 numpy array of rank 2 ([out, in], torch.nn.Linear's
layout) or 3..5 ([out, in, kernel...], torch.nn.ConvNd's). Each function
runs the real libcompress pass on it (see the "Array-level API" section of
libcompress/experimental.h), so the result is what that pass computes for a model's
layer. Inputs are never modified.
"""
import ctypes

import numpy as np

from ._lib import _FP, _I8P, _U8P, check, lc_array, lib, LC_MAX_DIMS

__all__ = ["prune_magnitude", "prune_nm", "prune_hessian", "kmeans", "binarize", "quantize_int8"]


def _weight(w):
    a = np.ascontiguousarray(w, dtype=np.float32)
    dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
    return a, dims


def _fp(a):
    return a.ctypes.data_as(_FP)


def _nm(nm):
    if nm is None:
        return 0, 0
    if isinstance(nm, str):
        n, m = nm.split(":")
        return int(n), int(m)
    n, m = nm
    return int(n), int(m)


def prune_magnitude(w, sparsity):
    """Mask of magnitude pruning: the round(sparsity * w.size) smallest |w|
    are pruned (round half to even, ties by lower flat index). Returns a
    bool array shaped like w (True = kept); w * mask is the pruned weight."""
    a, dims = _weight(w)
    mask = np.empty(a.shape, dtype=np.uint8)
    check(lib.lc_array_prune_magnitude(_fp(a), a.ndim, dims, float(sparsity), 0, 0, None,
                                       mask.ctypes.data_as(_U8P)))
    return mask.astype(bool)


def prune_nm(w, n, m):
    """Mask keeping the n largest |w| of every m consecutive weights along
    axis 1 (the input dimension). Returns a bool array shaped like w."""
    a, dims = _weight(w)
    mask = np.empty(a.shape, dtype=np.uint8)
    check(lib.lc_array_prune_magnitude(_fp(a), a.ndim, dims, 0.0, int(n), int(m), None,
                                       mask.ctypes.data_as(_U8P)))
    return mask.astype(bool)


def prune_hessian(w, x, sparsity=0.5, nm=None, block=128, damp=0.01):
    """SparseGPT: prunes w to `sparsity` (or an N:M pattern, nm="2:4" or
    (2, 4)) minimising ||W X - W' X||^2 on the layer inputs x ([n, in] for
    a fully connected weight, [n, in, H, W] for a convolution with stride 1
    and no padding). Returns (pruned and updated weight, bool mask)."""
    a, dims = _weight(w)
    xa = np.ascontiguousarray(x, dtype=np.float32)
    if xa.ndim < 1 or xa.ndim > LC_MAX_DIMS:
        raise ValueError(f"x has {xa.ndim} dims")
    xarr = lc_array(1, xa.ndim, (ctypes.c_int64 * LC_MAX_DIMS)(*xa.shape), xa.ctypes.data)
    nm_n, nm_m = _nm(nm)
    out = np.empty(a.shape, dtype=np.float32)
    mask = np.empty(a.shape, dtype=np.uint8)
    check(lib.lc_array_prune_hessian(_fp(a), a.ndim, dims, ctypes.byref(xarr), float(sparsity), nm_n, nm_m,
                                     int(block), float(damp), _fp(out), mask.ctypes.data_as(_U8P)))
    return out, mask.astype(bool)


def kmeans(w, bits, per_channel=False, method="optimal", init="linear", max_iter=300, tol=1e-10):
    """Weight sharing: 2**bits centroids by 1-D k-means (method "optimal":
    the exact optimum; "lloyd": Lloyd's iterations from `init`, which may be
    "linear", "density" or "random"). Zeros in w stay zero: code 0 is then
    0.0 and the nonzero weights share the other centroids.
    Returns (codebook [channels, 2**bits] with channels = w.shape[0] if
    per_channel else 1, codes uint8 shaped like w, shared weight)."""
    a, dims = _weight(w)
    channels = a.shape[0] if per_channel and a.ndim >= 1 else 1
    k = 1 << int(bits) if 1 <= int(bits) <= 8 else 1
    codebook = np.empty((channels, k), dtype=np.float32)
    codes = np.empty(a.shape, dtype=np.uint8)
    out = np.empty(a.shape, dtype=np.float32)
    opts = f"method={method},init={init},max_iter={int(max_iter)},tol={float(tol)!r}"
    check(lib.lc_array_kmeans(_fp(a), a.ndim, dims, int(bits), 1 if per_channel else 0, opts.encode(),
                              _fp(codebook), codes.ctypes.data_as(_U8P), _fp(out)))
    return codebook, codes, out


def binarize(w):
    """w -> alpha[c] * sign(w) per output channel (alpha = mean |w| of the
    channel's nonzero weights; zeros stay 0). Returns (alpha [out], signs
    uint8 shaped like w (1: +alpha), binarized weight)."""
    a, dims = _weight(w)
    alpha = np.empty(a.shape[0] if a.ndim else 1, dtype=np.float32)
    signs = np.empty(a.shape, dtype=np.uint8)
    out = np.empty(a.shape, dtype=np.float32)
    check(lib.lc_array_binarize(_fp(a), a.ndim, dims, _fp(alpha), signs.ctypes.data_as(_U8P), _fp(out)))
    return alpha, signs, out


def quantize_int8(w, per_channel=True, reduce_range=False):
    """Symmetric int8: scale = max|w| / 127 per output channel (or per
    tensor), q = round_half_even(w / scale) in [-127, 127].
    Returns (scale float32 [channels], zero_point int8 [channels], q int8
    shaped like w); w ~ (q - zero_point[c]) * scale[c]."""
    a, dims = _weight(w)
    channels = a.shape[0] if per_channel and a.ndim >= 1 else 1
    scale = np.empty(channels, dtype=np.float32)
    zp = np.empty(channels, dtype=np.int8)
    q = np.empty(a.shape, dtype=np.int8)
    check(lib.lc_array_quantize_int8(_fp(a), a.ndim, dims, 1 if per_channel else 0, 1 if reduce_range else 0,
                                     _fp(scale), zp.ctypes.data_as(_I8P), q.ctypes.data_as(_I8P)))
    return scale, zp, q


def drop_interval(reference_correct, candidate_correct, confidence=0.95):
    """The two-sided `confidence` interval (lo, hi), in percentage points,
    of the accuracy drop from a reference model to a candidate judged on
    the same samples: per-sample verdicts (True = right), paired
    (Newcombe's score interval, the one `max_drop` budgets are judged with
    at a confidence). Only as good as the samples are representative."""
    r = np.asarray(reference_correct, dtype=bool).ravel()
    c = np.asarray(candidate_correct, dtype=bool).ravel()
    if r.shape != c.shape:
        raise ValueError(f"reference_correct has {r.size} verdicts, candidate_correct {c.size}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return interval_from_counts(int(np.sum(r & c)), int(np.sum(r & ~c)), int(np.sum(~r & c)),
                                int(np.sum(~r & ~c)), confidence)


def interval_from_counts(both, reference_only, candidate_only, neither, confidence):
    """drop_interval from the 2x2 table of verdicts."""
    lo, hi = ctypes.c_double(), ctypes.c_double()
    lib.lc_accuracy_drop_interval(both, reference_only, candidate_only, neither, confidence,
                                  ctypes.byref(lo), ctypes.byref(hi))
    return lo.value, hi.value
