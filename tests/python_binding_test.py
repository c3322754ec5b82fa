#!/usr/bin/python3
"""Cross-check of the Python binding (bindings/python/shrink) against
independent references:

- prune_magnitude: torch.nn.utils.prune.l1_unstructured's mask (Linear and
  Conv weights) and a numpy argsort;
- prune_nm: a numpy N:M mask along the input axis (with a ragged tail);
- prune_hessian: tests/ref_sparsegpt.py on H = 2/n X^T X (fully connected)
  and on the im2col patches of X (convolution): masks equal, weights within
  1e-4;
- kmeans: method=lloyd vs scikit-learn's KMeans from the same linear init;
  method=optimal vs the brute-force optimum over contiguous partitions of
  the sorted values; codebook[codes] equals the shared weight; zeros stay 0;
- binarize and quantize_int8: the numpy formulas;
- errors: bad shapes and parameters raise shrink.Error with the library's
  message and status name;
- model level: predictions of lenet300.onnx agree with PyTorch's saved
  predictions (benchmarks/zoo/lenet300.pred.npy); Model.eval equals
  `shrink eval`; a compress() run writes an .lcm whose top-1 from
  `shrink eval` equals Model.eval on the result and the report's figures.

Environment (set by lc_add_python_test): SHRINK, LC_BUILD_DIR, LC_SOURCE_DIR.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("LC_BUILD_DIR", os.path.join(SRC, "build"))
SHRINK = os.environ.get("SHRINK", os.path.join(BUILD, "shrink"))
os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(BUILD, "libcompress.so"))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.join(SRC, "benchmarks", "zoo"))

import torch  # noqa: E402
import torch.nn.utils.prune as tprune  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

import shrink  # noqa: E402
from ref_sparsegpt import hessian, sparsegpt  # noqa: E402

torch.set_num_threads(1)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


rng = np.random.default_rng(11)

# ---------------------------------------------------------------- magnitude

for shape in [(30, 50), (8, 3, 5, 5)]:
    w = rng.standard_normal(shape).astype(np.float32)
    for sp in [0.0, 0.25, 0.5, 0.9, 1.0]:
        got = shrink.prune_magnitude(w, sp)
        mod = torch.nn.Linear(1, 1) if len(shape) == 2 else torch.nn.Conv2d(1, 1, 1)
        mod.weight = torch.nn.Parameter(torch.from_numpy(w.copy()))
        tprune.l1_unstructured(mod, "weight", amount=sp)
        ref = mod.weight_mask.numpy().astype(bool)
        k = int(round(sp * w.size))
        ref2 = np.ones(w.size, bool)
        ref2[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = False
        check(got.shape == w.shape and np.array_equal(got, ref) and np.array_equal(got.ravel(), ref2),
              f"prune_magnitude {shape} sparsity {sp}: mask equals torch prune.l1_unstructured "
              f"({int((~got).sum())} pruned)")

# ---------------------------------------------------------------- N:M


def nm_ref(w, n, m):
    """Keep the n largest |w| of each run of m along axis 1 (last run may be
    shorter: keep min(n, len))."""
    keep = np.zeros(w.shape, bool)
    wt = np.moveaxis(np.abs(w), 1, -1)
    kt = np.moveaxis(keep, 1, -1)
    length = wt.shape[-1]
    for s in range(0, length, m):
        seg = wt[..., s:s + m]
        order = np.argsort(-seg, axis=-1, kind="stable")[..., :min(n, seg.shape[-1])]
        np.put_along_axis(kt[..., s:s + m], order, True, axis=-1)
    return keep


for shape, n, m in [((16, 32), 2, 4), ((10, 30), 1, 4), ((6, 8, 3, 3), 2, 4), ((5, 12), 3, 8)]:
    w = rng.standard_normal(shape).astype(np.float32)
    got = shrink.prune_nm(w, n, m)
    check(np.array_equal(got, nm_ref(w, n, m)), f"prune_nm {shape} {n}:{m} equals the numpy mask")

# ---------------------------------------------------------------- Hessian


def compare(name, got, mask, ref, tol=1e-4):
    same = np.array_equal(mask, ref != 0) and np.array_equal(got == 0, ref == 0)
    diff = float(np.max(np.abs(got.astype(np.float64) - ref)))
    check(same and diff <= tol, f"{name}: mask equal {same}, max |diff| {diff:.2e}")


w = rng.standard_normal((12, 40)).astype(np.float32)
x = rng.standard_normal((300, 40)).astype(np.float32)
x[:, 3] = 0  # a dead input
for kw in [dict(sparsity=0.5), dict(sparsity=0.7, block=8), dict(nm="2:4"), dict(sparsity=0.3, damp=0.1)]:
    got, mask = shrink.prune_hessian(w, x, **kw)
    nm = tuple(int(v) for v in kw["nm"].split(":")) if "nm" in kw else None
    ref = sparsegpt(w, hessian(x), kw.get("sparsity", 0.0) if nm is None else 0.0, block=kw.get("block", 128),
                    nm=nm, damp=kw.get("damp", 0.01))
    compare(f"prune_hessian Linear {kw} vs ref_sparsegpt", got, mask, ref)


def im2col(x, kh, kw):
    n, c, hh, ww = x.shape
    oh, ow = hh - kh + 1, ww - kw + 1
    cols = np.empty((n, oh, ow, c, kh, kw), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = x[:, :, i:i + oh, j:j + ow].transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, c * kh * kw)


wc = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
xc = rng.standard_normal((20, 4, 7, 7)).astype(np.float32)
got, mask = shrink.prune_hessian(wc, xc, sparsity=0.6, block=16)
ref = sparsegpt(wc.reshape(6, -1), hessian(im2col(xc, 3, 3)), 0.6, block=16).reshape(wc.shape)
compare("prune_hessian Conv 3x3 sparsity 0.6 vs ref_sparsegpt on im2col patches", got, mask, ref)

# ---------------------------------------------------------------- k-means

TOL = 1e-5


def linear_init(v, k):
    lo, hi = float(v.min()), float(v.max())
    return np.array([lo + (hi - lo) * i / (k - 1) for i in range(k)])


w = rng.standard_normal((20, 30)).astype(np.float32)
for bits in [2, 3, 4]:
    k = 1 << bits
    cb, codes, shared = shrink.kmeans(w, bits, method="lloyd", init="linear")
    km = KMeans(n_clusters=k, init=linear_init(w.astype(np.float64).ravel(), k).reshape(-1, 1), n_init=1,
                algorithm="lloyd", tol=1e-10, max_iter=300).fit(w.astype(np.float64).reshape(-1, 1))
    ref = km.cluster_centers_[km.labels_, 0].reshape(w.shape)
    check(np.array_equal(cb[0][codes], shared) and float(np.abs(shared - ref).max()) <= TOL,
          f"kmeans lloyd {bits} bits: codebook[codes] is the shared weight, max |ours - sklearn| "
          f"{float(np.abs(shared - ref).max()):.2e}")


def brute_optimum(v, k):
    """Least within-cluster SSE over all splits of the sorted values into k
    contiguous runs (optimal clusters in 1-D are contiguous)."""
    import itertools
    s = np.sort(v.astype(np.float64))
    best = np.inf
    for cuts in itertools.combinations(range(1, len(s)), k - 1):
        parts = np.split(s, cuts)
        best = min(best, sum(float(((p - p.mean()) ** 2).sum()) for p in parts))
    return best


for n, bits in [(12, 2), (14, 2), (10, 1)]:
    v = rng.standard_normal((2, n // 2)).astype(np.float32)
    cb, codes, shared = shrink.kmeans(v, bits)
    sse = float(((v.astype(np.float64) - shared) ** 2).sum())
    opt = brute_optimum(v.ravel(), 1 << bits)
    check(abs(sse - opt) <= 1e-6 * max(1.0, opt) and np.array_equal(cb[0][codes], shared),
          f"kmeans optimal {n} values {bits} bits: SSE {sse:.6f} equals the brute-force optimum {opt:.6f}")

# per channel, with zeros kept: code 0 is 0.0 and zeros stay zero
w = rng.standard_normal((5, 40)).astype(np.float32)
w[np.abs(w) < 0.5] = 0
cb, codes, shared = shrink.kmeans(w, 3, per_channel=True)
rows = np.arange(5)[:, None]
ok = (cb.shape == (5, 8) and np.all(cb[:, 0] == 0) and np.array_equal(cb[rows, codes], shared)
      and np.array_equal(shared == 0, w == 0))
for c in range(5):
    nz = w[c][w[c] != 0].astype(np.float64)
    sse = float(((nz - shared[c][w[c] != 0]) ** 2).sum())
    # the exact optimum of 7 clusters of this channel's nonzero weights
    s = np.sort(nz)
    dp = np.full((8, len(s) + 1), np.inf)
    dp[0, 0] = 0
    cs, cs2 = np.concatenate([[0], np.cumsum(s)]), np.concatenate([[0], np.cumsum(s * s)])
    for j in range(1, 8):
        for e in range(1, len(s) + 1):
            for b in range(j - 1, e):
                cnt = e - b
                cost = cs2[e] - cs2[b] - (cs[e] - cs[b]) ** 2 / cnt
                dp[j, e] = min(dp[j, e], dp[j - 1, b] + cost)
    ok = ok and abs(sse - dp[7, len(s)]) <= 1e-6 * max(1.0, dp[7, len(s)])
check(ok, "kmeans per channel with zeros: code 0 = 0.0, zeros kept, each channel's SSE is the DP optimum")

# ---------------------------------------------------------------- binarize

w = rng.standard_normal((7, 3, 3, 3)).astype(np.float32)
w[0, 0, 0, :] = 0
alpha, signs, out = shrink.binarize(w)
wf = w.reshape(7, -1).astype(np.float64)
ref_alpha = np.array([np.abs(r[r != 0]).mean() for r in wf], dtype=np.float32)
ref_out = np.where(w > 0, 1, -1) * ref_alpha[:, None, None, None]
ref_out[w == 0] = 0
check(np.allclose(alpha, ref_alpha, rtol=1e-6, atol=0) and np.array_equal(out, ref_out.astype(np.float32))
      and np.array_equal(signs, (w > 0).astype(np.uint8)),
      "binarize: alpha = mean |w| of nonzeros per channel, out = alpha * sign(w), zeros kept")

# ---------------------------------------------------------------- int8

w = rng.standard_normal((9, 17)).astype(np.float32) * np.linspace(0.1, 3, 9, dtype=np.float32)[:, None]
w[4] = 0
for per_channel, reduce_range in [(True, False), (False, False), (True, True)]:
    scale, zp, q = shrink.quantize_int8(w, per_channel, reduce_range)
    qmax = 63 if reduce_range else 127
    amax = np.abs(w).max(axis=1) if per_channel else np.array([np.abs(w).max()])
    ref_scale = np.where(amax > 0, (amax.astype(np.float64) / qmax).astype(np.float32), np.float32(1))
    sc = ref_scale[:, None] if per_channel else ref_scale[0]
    ref_q = np.clip(np.rint(w.astype(np.float64) / sc.astype(np.float64)), -qmax, qmax).astype(np.int8)
    check(np.array_equal(scale, ref_scale) and np.array_equal(q, ref_q) and np.all(zp == 0),
          f"quantize_int8 per_channel={per_channel} reduce_range={reduce_range}: scale and q equal numpy; "
          f"max |w - q*scale| {float(np.abs(w - q * sc).max()):.3g}")

# ---------------------------------------------------------------- errors


def expect_error(fn, status, words, what):
    try:
        fn()
    except shrink.Error as e:
        msg = str(e)
        check(e.status_name == status and all(wd in msg for wd in words), f"{what}: raises {status}: {msg}")
        return
    check(False, f"{what}: no exception")


w = rng.standard_normal((4, 6)).astype(np.float32)
expect_error(lambda: shrink.prune_magnitude(np.zeros(5, np.float32), 0.5), "LC_ERR_SHAPE",
             ["lc_array_prune_magnitude", "1 dims"], "1-D weight")
expect_error(lambda: shrink.prune_magnitude(np.zeros((3, 0), np.float32), 0.5), "LC_ERR_SHAPE",
             ["empty dimension"], "empty weight")
expect_error(lambda: shrink.prune_magnitude(w, 1.5), "LC_ERR_PARAMETER", ["sparsity"], "sparsity 1.5")
expect_error(lambda: shrink.prune_nm(w, 3, 2), "LC_ERR_PARAMETER", ["3:2"], "N:M 3:2")
expect_error(lambda: shrink.prune_hessian(w, np.zeros((10, 5), np.float32)), "LC_ERR_SHAPE",
             ["10x5", "4x6"], "Hessian inputs of the wrong width")
expect_error(lambda: shrink.kmeans(w, 9), "LC_ERR_PARAMETER", ["bits"], "kmeans 9 bits")
expect_error(lambda: shrink.kmeans(w, 2, method="best"), "LC_ERR_PARAMETER", ["method", "lloyd|optimal"],
             "kmeans unknown method")
expect_error(lambda: shrink.binarize(np.zeros((2, 2, 2, 2, 2, 2), np.float32)), "LC_ERR_SHAPE", ["6 dims"],
             "6-D weight")
expect_error(lambda: shrink.load("/nonexistent/model.onnx"), "LC_ERR_IO", ["/nonexistent/model.onnx"],
             "missing model file")

# ---------------------------------------------------------------- model level

import train  # noqa: E402  (benchmarks/zoo/train.py: the Fashion-MNIST reader)

xs_u8, ys = train.load_split("t10k")
N = 2000
xs_u8, ys = xs_u8[:N], ys[:N]
x = shrink.normalize(xs_u8[:, None], train.MEAN, train.STD)
zoo = os.path.join(SRC, "benchmarks", "zoo")
m = shrink.load(os.path.join(zoo, "lenet300.onnx"))
pred = m.predict(x, batch=300).argmax(axis=1)
torch_pred = np.load(os.path.join(zoo, "lenet300.pred.npy"))[:N]
agree = float(np.mean(pred == torch_pred))
check(agree >= 0.999, f"lenet300 predict: {100 * agree:.2f}% agreement with PyTorch's predictions")


def shrink_eval(path, data, labels):
    out = subprocess.run([SHRINK, "eval", path, "--data", data, "--labels", labels, "--mean", str(train.MEAN),
                          "--std", str(train.STD), "--json"], check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["top1"])  # percent


with tempfile.TemporaryDirectory() as tmp:
    dpath, lpath = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(dpath, xs_u8)
    np.save(lpath, ys)
    top1 = m.eval(x, ys)
    ref = shrink_eval(os.path.join(zoo, "lenet300.onnx"), dpath, lpath)
    check(abs(top1 - ref) < 1e-9, f"Model.eval {top1:.2f}% equals shrink eval {ref:.2f}%")

    out = os.path.join(tmp, "small.lcm")
    small, report = m.compress(["prune-magnitude:sparsity=0.8,correct=none", ("quantize-kmeans", {"bits": 4}),
                                "huffman"], val=x[:500], labels=ys[:500], out=out)
    top1_small = small.eval(x, ys)
    loaded = shrink.load(out)
    top1_file = shrink_eval(out, dpath, lpath)
    check(abs(loaded.eval(x, ys) - top1_small) < 1e-9 and abs(top1_file - top1_small) < 1e-9,
          f"compress -> .lcm: Model.eval {top1_small:.2f}% = reloaded = shrink eval {top1_file:.2f}%")
    ratio = os.path.getsize(os.path.join(zoo, "lenet300.onnx")) / os.path.getsize(out)
    outcomes = [(p["name"], p["outcome"]) for p in report["passes"]]
    check(report["output"]["bytes"] == os.path.getsize(out) and abs(report["ratio"] - ratio) < 0.01 * ratio
          and ratio > 15 and report["budget_met"] and outcomes == [("prune-magnitude", "applied"),
                                                                   ("quantize-kmeans", "applied"),
                                                                   ("huffman", "applied")],
          f"compress report: {report['output']['bytes']} bytes (file {os.path.getsize(out)}), "
          f"ratio {report['ratio']:.1f} (files {ratio:.1f}), budget met {report['budget_met']}, {outcomes}")

    # run_pass in place, then save as ONNX and read it back
    m2 = m.clone()
    m2.run_pass("prune-magnitude", {"sparsity": 0.5, "scope": "layer", "correct": "none"})
    onnx_path = os.path.join(tmp, "half.onnx")
    m2.save(onnx_path)
    import onnx  # noqa: E402
    from onnx import numpy_helper  # noqa: E402
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    orig = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(zoo, "lenet300.onnx")).graph.initializer}
    ok = True
    for name, v in inits.items():
        if v.ndim == 2:  # each Gemm weight: the array-level mask of the original
            ok = ok and np.array_equal(v != 0, shrink.prune_magnitude(orig[name], 0.5))
    check(ok, "run_pass prune-magnitude on a model = prune_magnitude on each weight array")
    expect_error(lambda: m.run_pass("prune-magnitude", "sparsity=2"), "LC_ERR_PARAMETER", ["sparsity"],
                 "model pass parameter out of range")

    # a recipe gives the same model as the pass run directly
    r_model, r_report = m.compress(recipe={"passes": [{"pass": "prune-magnitude", "sparsity": 0.5,
                                                       "scope": "layer", "correct": "none"}]})
    check(all(np.array_equal(r_model.weight(n), m2.weight(n)) for n in inits) and r_report["budget_met"],
          "compress(recipe=...) equals run_pass with the same parameters")

    # model-level prune-hessian with calibration data = the array-level call
    # on that layer's inputs (the first layer sees the flattened images)
    m3 = m.clone()
    calib = x[:256]
    m3.run_pass("prune-hessian", "sparsity=0.6,correct=none,include=net.1.weight", calib=calib)
    w3, mask3 = shrink.prune_hessian(orig["net.1.weight"], calib.reshape(256, -1), 0.6)
    got3 = m3.weight("net.1.weight")
    diff = float(np.abs(got3 - w3).max())
    check(np.array_equal(m3.mask("net.1.weight"), mask3) and diff <= 1e-5 and
          np.array_equal(m3.weight("net.3.weight"), orig["net.3.weight"]),
          f"run_pass prune-hessian with calib on lenet300's first layer = prune_hessian(W, X) "
          f"(max |diff| {diff:.1e}); other layers untouched")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
