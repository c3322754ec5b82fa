"""prune-hessian and quantize-gptq against numpy references (issues 4, 5).

Runs the passes through lc_pass_tool (the public lc_pass_run) on small
synthetic ONNX models and compares the weights with ref_sparsegpt.py /
ref_gptq.py computed from the same calibration inputs:
  - single Gemm: masks equal, weights within 1e-4 (layer sparsity, N:M,
    several block sizes; followed by a BatchNormalization, whose
    (gamma/sigma)^2 weighs each row's saliency);
  - grouped, strided, padded, dilated Conv: the Hessian from numpy im2col;
  - two Gemms: sequential mode (second layer's H from the pruned first
    layer's outputs) and not, and global scope's per-layer sparsities
    (rank=obs and the default rank=magnitude);
  - rescale=true (two Gemms, prune only and joint): after each wave every
    output channel scaled to the float model's standard deviation and
    shifted to its mean, the next layer fitted to the corrected outputs;
  - center=yes (the default with correct=bias): H of the centred inputs,
    a constant input column dead;
  - Gemm-BatchNorm-Relu-Gemm with correct=bn: with bn_update the second
    layer is fitted to the BatchNorm statistics re-estimated after the
    first layer was pruned, without it to the stale ones;
  - bias-correct's gate: the correction (replayed in numpy) is kept iff the
    calibration top-1 agreement with the float model does not drop;
  - GPTQ uniform (with and without act order), on a pruned layer (zeros
    stay), onto the k-means codebook the pass chose;
  - joint prune + quantize in one sweep (prune-hessian bits>0, uniform grid
    fitted to the kept or to all weights, k-means grid) against
    ref_sparsegpt.sparsegpt_joint, whose k-means
    codebook is an independent exact DP; through `shrink run` to .lcm and
    `shrink decode` back: the file holds the encoding (bits, mask) and
    decodes to the reference weights;
  - fold-batchnorm after the joint mode: the per-channel uniform grid takes
    gamma/sigma (codes mirrored for negative gammas), the file keeps the
    encoding and decodes to W_q * s, b * s + t;
  - dead inputs give finite weights, zero in the dead columns;
  - on the zoo models (if the Fashion-MNIST data is there): every layer's
    reconstruction error ||W X - W' X|| after prune-hessian (one-shot
    statistics, sequential=false, scope=layer) is below prune-magnitude's at the same
    sparsity (X: the float model's inputs, computed by a small PyTorch
    interpreter of the ONNX graph); with bn_weight=true, for a layer read
    only by a BatchNormalization, the error S(WX - W'X) after its
    per-channel gamma/sigma, which is what the pass then minimises.
Usage: hessian_crosscheck.py LC_PASS_TOOL
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_sparsegpt import hessian, sparsegpt, sparsegpt_joint, global_sparsities, kmeans_1d_optimal  # noqa: E402
from ref_gptq import gptq  # noqa: E402

TOOL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="hessian_xc_")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run_pass(model_path, pass_name, params, calib, extra=()):
    # prune-hessian's default is scope=global; the references below are
    # per layer unless a test asks for scope=global itself
    if pass_name == "prune-hessian" and "scope=" not in params:
        params += ",scope=layer"
    out = os.path.join(TMP, "out.onnx")
    cmd = [TOOL, model_path, out, pass_name, params, "--calib", calib] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("lc_pass_tool failed: %s\n%s" % (" ".join(cmd), r.stderr))
    m = onnx.load(out)
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def save(model, name):
    path = os.path.join(TMP, name)
    onnx.save(model, path)
    return path


def save_npy(x, name):
    path = os.path.join(TMP, name)
    np.save(path, np.ascontiguousarray(x, dtype=np.float32))
    return path


def gemm_model(ws, relu=True):
    """Chain of Gemm(transB=1) layers with biases and Relu between."""
    nodes, inits = [], []
    cur = "x"
    for i, (w, b) in enumerate(ws):
        inits += [numpy_helper.from_array(w, "w%d" % i), numpy_helper.from_array(b, "b%d" % i)]
        out = "y%d" % i
        nodes.append(helper.make_node("Gemm", [cur, "w%d" % i, "b%d" % i], [out], name="fc%d" % i, transB=1))
        cur = out
        if relu and i + 1 < len(ws):
            nodes.append(helper.make_node("Relu", [cur], ["r%d" % i]))
            cur = "r%d" % i
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", ws[0][0].shape[1]])],
                          [helper.make_tensor_value_info(cur, TensorProto.FLOAT, ["n", ws[-1][0].shape[0]])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def compare(name, got, ref, tol=1e-4):
    same_mask = np.array_equal(got == 0, ref == 0)
    diff = float(np.max(np.abs(got.astype(np.float64) - ref))) if got.size else 0.0
    check(same_mask and diff <= tol and np.all(np.isfinite(got)),
          "%s: mask equal %s (%d vs %d zeros), max |diff| %.2e" % (name, same_mask, int(np.sum(got == 0)),
                                                                   int(np.sum(ref == 0)), diff))


rng = np.random.default_rng(7)

# ---- single Gemm: masks and weights equal the reference ----
K, N, S = 40, 12, 300
w0 = rng.standard_normal((N, K)).astype(np.float32)
b0 = rng.standard_normal(N).astype(np.float32)
# correlated inputs make the Hessian matter
mix = rng.standard_normal((K, K)) * 0.3 + np.eye(K)
x = (rng.standard_normal((S, K)) @ mix).astype(np.float32)
mpath = save(gemm_model([(w0, b0)]), "gemm.onnx")
xpath = save_npy(x, "x.npy")
h = hessian(x)
for params, kw in [("sparsity=0.5,block=128", dict(sparsity=0.5, block=128)),
                   ("sparsity=0.7,block=16", dict(sparsity=0.7, block=16)),
                   ("sparsity=0.9,block=7,damp=0.05", dict(sparsity=0.9, block=7, damp=0.05)),
                   ("nm=2:4,block=16", dict(sparsity=0, block=16, nm=(2, 4))),
                   ("nm=1:3,block=9", dict(sparsity=0, block=9, nm=(1, 3)))]:
    got = run_pass(mpath, "prune-hessian", params + ",correct=none", xpath)["w0"]
    compare("Gemm prune-hessian " + params, got, sparsegpt(w0, h, **kw))

# ---- Gemm read only by a BatchNormalization: errors ranked after it ----
gamma = rng.uniform(0.2, 3.0, N).astype(np.float32)
beta = rng.standard_normal(N).astype(np.float32)
mean = rng.standard_normal(N).astype(np.float32)
var = rng.uniform(0.05, 4.0, N).astype(np.float32)
bn_nodes = [helper.make_node("Gemm", ["x", "w0", "b0"], ["y"], name="fc", transB=1),
            helper.make_node("BatchNormalization", ["y", "g", "be", "mu", "var"], ["z"], epsilon=1e-3)]
bn_g = helper.make_graph(bn_nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", K])],
                         [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", N])],
                         [numpy_helper.from_array(a, nm) for a, nm in
                          ((w0, "w0"), (b0, "b0"), (gamma, "g"), (beta, "be"), (mean, "mu"), (var, "var"))])
bnpath = save(helper.make_model(bn_g, opset_imports=[helper.make_opsetid("", 13)]), "gemm_bn.onnx")
got = run_pass(bnpath, "prune-hessian", "sparsity=0.6,block=16,correct=none", xpath)["w0"]
compare("Gemm + BatchNormalization, bn_weight=false: plain saliency", got, sparsegpt(w0, h, 0.6, block=16))
got = run_pass(bnpath, "prune-hessian", "sparsity=0.6,block=16,correct=none,bn_weight=true", xpath)["w0"]
rw = gamma.astype(np.float64) ** 2 / (var.astype(np.float64) + np.float64(np.float32(1e-3)))
compare("Gemm + BatchNormalization, bn_weight=true: saliency weighted by (gamma/sigma)^2", got,
        sparsegpt(w0, h, 0.6, block=16, row_weight=rw))

# ---- dead inputs: zero columns of the input ----
xd = x.copy()
xd[:, [3, 17, 30]] = 0
xdpath = save_npy(xd, "xdead.npy")
got = run_pass(mpath, "prune-hessian", "sparsity=0.5,correct=none", xdpath)["w0"]
check(np.all(np.isfinite(got)) and np.all(got[:, [3, 17, 30]] == 0), "dead inputs: finite, dead columns zero")
compare("dead inputs vs reference", got, sparsegpt(w0, hessian(xd), 0.5))
got = run_pass(mpath, "quantize-gptq", "bits=4,correct=none", xdpath)["w0"]
compare("dead inputs GPTQ vs reference", got, gptq(w0, hessian(xd), bits=4), tol=1e-5)
# duplicated features: H singular without damping, the retry must cope
xs = x.copy()
xs[:, 1] = xs[:, 0]
xs[:, 2] = xs[:, 0]
got = run_pass(mpath, "prune-hessian", "sparsity=0.5,damp=0,correct=none", save_npy(xs, "xsing.npy"))["w0"]
check(np.all(np.isfinite(got)) and abs(np.mean(got == 0) - 0.5) < 0.02, "singular H with damp=0: finite, 50% sparse")

# ---- GPTQ on the single Gemm ----
for params, kw in [("bits=4", dict(bits=4)), ("bits=3,block=16", dict(bits=3, block=16)),
                   ("bits=2,block=5,act_order=true", dict(bits=2, block=5, act_order=True)),
                   ("bits=8,act_order=true,damp=0.1", dict(bits=8, act_order=True, damp=0.1))]:
    got = run_pass(mpath, "quantize-gptq", params + ",correct=none", xpath)["w0"]
    ref = gptq(w0, h, **kw)
    compare("Gemm quantize-gptq " + params, got, ref, tol=1e-5)
    levels = max(len(np.unique(r)) for r in got)
    check(levels <= 2 ** kw["bits"], "  at most 2^bits values per row (%d)" % levels)

# GPTQ after pruning (mask lost in the ONNX file: zeros are the mask, as
# for quantize-kmeans): zeros stay zeros, the rest as the reference
pruned = w0.copy()
pruned[np.abs(pruned) < np.quantile(np.abs(pruned), 0.5)] = 0
ppath = save(gemm_model([(pruned, b0)]), "gemm_pruned.onnx")
got = run_pass(ppath, "quantize-gptq", "bits=3,correct=none", xpath)["w0"]
compare("GPTQ keeps the pruned zeros", got, gptq(pruned, h, bits=3, keep=pruned != 0), tol=1e-5)

# GPTQ onto the k-means codebook: the pass's codebook is the set of values it used
got = run_pass(mpath, "quantize-gptq", "bits=3,grid=kmeans,granularity=tensor,correct=none", xpath)["w0"]
cb = np.unique(got)
check(len(cb) <= 8, "k-means grid: %d distinct values (<= 8)" % len(cb))
compare("GPTQ onto the codebook", got, gptq(w0, h, bits=3, codebook=cb), tol=1e-5)
# the codebook itself: the exact weighted k-means (weights H_jj) of the layer
ref_cb = kmeans_1d_optimal(w0.ravel(), np.broadcast_to(np.diag(h), w0.shape).ravel(), 8)
cb_diff = float(np.max(np.abs(cb - ref_cb))) if cb.size == ref_cb.size else np.inf
check(cb_diff <= 1e-5 * float(np.max(np.abs(ref_cb))),
      "k-means grid = the exact H_jj-weighted k-means of the weights (max |diff| %.2e)" % cb_diff)

# quantize-kmeans's default with calibration data (compensate=gptq): the same
# sweep onto the same H_jj-weighted codebook, per layer and per channel
got = run_pass(mpath, "quantize-kmeans", "bits=3,correct=none", xpath)["w0"]
cb = np.unique(got)
cb_diff = float(np.max(np.abs(cb - ref_cb))) if cb.size == ref_cb.size else np.inf
check(cb_diff <= 1e-5 * float(np.max(np.abs(ref_cb))),
      "quantize-kmeans default: codebook = the H_jj-weighted k-means (max |diff| %.2e)" % cb_diff)
compare("quantize-kmeans default = GPTQ onto its codebook", got, gptq(w0, h, bits=3, codebook=cb), tol=1e-5)
got = run_pass(mpath, "quantize-kmeans", "bits=2,granularity=channel,correct=none", xpath)["w0"]
for r in range(w0.shape[0]):
    rcb = kmeans_1d_optimal(w0[r], np.diag(h), 4)
    ucb = np.unique(got[r])
    check(ucb.size == rcb.size and np.max(np.abs(ucb - rcb)) <= 1e-5 * float(np.max(np.abs(rcb))),
          "quantize-kmeans granularity=channel: row %d codebook = its H_jj-weighted k-means" % r)
ref = np.stack([gptq(w0, h, bits=2, codebook=np.unique(got[r]))[r] for r in range(w0.shape[0])])
compare("quantize-kmeans granularity=channel default = GPTQ onto each row's codebook", got, ref, tol=1e-5)
# compensate=none: every weight at its nearest centroid (no compensation)
got = run_pass(mpath, "quantize-kmeans", "bits=3,compensate=none,correct=none", xpath)["w0"]
cb = np.unique(got)
near = cb[np.argmin(np.abs(w0[..., None] - cb), axis=-1)]
check(np.array_equal(got, near), "quantize-kmeans compensate=none: nearest centroid of its codebook")

# fewer calibration vectors (30) than input columns (40): H is rank-deficient,
# so quantize-kmeans's default (quantize-gptq min_inputs=1) assigns each
# weight to the nearest centroid of the unweighted optimal codebook, while
# quantize-gptq's own default (min_inputs=0) still compensates with that H
few = save_npy(x[:30], "x_few.npy")
got = run_pass(mpath, "quantize-kmeans", "bits=3,correct=none", few)["w0"]
plain_cb = kmeans_1d_optimal(w0.ravel(), np.ones(w0.size), 8)
cb = np.unique(got)
cb_diff = float(np.max(np.abs(cb - plain_cb))) if cb.size == plain_cb.size else np.inf
check(cb_diff <= 1e-5 * float(np.max(np.abs(plain_cb))),
      "quantize-kmeans, 30 vectors < 40 columns: codebook = the unweighted k-means (max |diff| %.2e)" % cb_diff)
near = cb[np.argmin(np.abs(w0[..., None] - cb), axis=-1)]
check(np.array_equal(got, near), "quantize-kmeans, 30 vectors < 40 columns: nearest centroid, no compensation")
h_few = hessian(x[:30])
got = run_pass(mpath, "quantize-gptq", "bits=3,grid=kmeans,granularity=tensor,correct=none", few)["w0"]
compare("quantize-gptq min_inputs=0 on 30 vectors: GPTQ with their H", got,
        gptq(w0, h_few, bits=3, codebook=np.unique(got)), tol=1e-5)
cb = np.unique(got)
check(not np.array_equal(got, cb[np.argmin(np.abs(w0[..., None] - cb), axis=-1)]),
      "quantize-gptq min_inputs=0 on 30 vectors: compensated, so not every weight at its nearest centroid")

# ---- joint prune + quantize in one sweep (prune-hessian bits > 0) ----
for params, kw in [("sparsity=0.6,bits=3,block=16", dict(sparsity=0.6, bits=3, block=16)),
                   ("sparsity=0.5,bits=2", dict(sparsity=0.5, bits=2)),
                   ("sparsity=0.6,bits=3,block=16,fit=all", dict(sparsity=0.6, bits=3, block=16, fit="all")),
                   ("sparsity=0.3,bits=3,grid=shared", dict(sparsity=0.3, bits=3, grid="shared")),
                   ("sparsity=0.5,bits=2,grid=shared,fit=all", dict(sparsity=0.5, bits=2, grid="shared", fit="all")),
                   ("sparsity=0.7,bits=3,grid=kmeans,block=16", dict(sparsity=0.7, bits=3, grid="kmeans", block=16)),
                   ("sparsity=0.4,bits=2,grid=kmeans,damp=0.3", dict(sparsity=0.4, bits=2, grid="kmeans", damp=0.3))]:
    got = run_pass(mpath, "prune-hessian", params + ",correct=none", xpath)["w0"]
    ref, cb = sparsegpt_joint(w0, h, **kw)
    compare("Gemm joint prune+quantize " + params, got, ref)
    if cb is not None:
        nzv = np.unique(got[got != 0])
        near = np.min(np.abs(nzv[:, None].astype(np.float64) - cb[None, :]), axis=1) if nzv.size else np.zeros(0)
        check(nzv.size <= cb.size and np.all(near <= 1e-6 * np.max(np.abs(cb))),
              "  kept weights are centroids of the reference codebook (%d values)" % nzv.size)
    else:
        levels = max(len(np.unique(r)) for r in got)
        check(levels <= 2 ** kw["bits"], "  at most 2^bits values per row, zero included (%d)" % levels)
    check(np.mean(got == 0) >= kw["sparsity"] - 1e-9, "  sparsity %.3f >= %.2f (rounded-to-zero weights pruned too)"
          % (np.mean(got == 0), kw["sparsity"]))

# grid=shared where the rows' ranges are unlike (half of them all positive,
# half all negative): no one zero point serves them, the rate-distortion
# cost keeps each row's own; on w0 (rows alike) it shares one
wu = np.where(np.arange(N)[:, None] < N // 2, np.abs(w0), -np.abs(w0)).astype(np.float32)
upath = save(gemm_model([(wu, b0)]), "gemm_unlike.onnx")
for wm, path, want_one in [(w0, mpath, True), (wu, upath, False)]:
    got = run_pass(path, "prune-hessian", "sparsity=0.3,bits=3,grid=shared,correct=none", xpath)["w0"]
    ref, _ = sparsegpt_joint(wm, h, sparsity=0.3, bits=3, grid="shared")
    compare("Gemm joint grid=shared, rows %s" % ("alike" if want_one else "unlike"), got, ref)
    # each row's zero code: its lowest value over its step (all rows have
    # a negative and a positive value here only when alike)
    zc = set()
    for r in got:
        u = np.unique(r)
        zc.add(int(round(-u[0] / np.min(np.diff(u)))) if u.size > 1 else 0)
    check((len(zc) == 1) == want_one, "  %s zero code(s) %s: %s" % (len(zc), sorted(zc),
          "one shared" if want_one else "the rows' own (shared costs more)"))

# the same through the CLI into a .lcm file and back
shrink = os.environ.get("SHRINK")
if shrink:
    for params, kw in [("sparsity=0.6,bits=3,block=16", dict(sparsity=0.6, bits=3, block=16)),
                       ("sparsity=0.3,bits=3,grid=shared", dict(sparsity=0.3, bits=3, grid="shared")),
                       ("sparsity=0.7,bits=3,grid=kmeans,block=16", dict(sparsity=0.7, bits=3, grid="kmeans", block=16))]:
        lcm = os.path.join(TMP, "joint.lcm")
        rep = os.path.join(TMP, "joint.json")
        back = os.path.join(TMP, "joint_back.onnx")
        r = subprocess.run([shrink, "run", mpath, "-o", lcm, "--pass",
                            "prune-hessian:" + params + ",scope=layer,correct=none", "--calib", xpath, "--report", rep,
                            "--quiet"], capture_output=True, text=True)
        r2 = subprocess.run([shrink, "decode", lcm, "-o", back], capture_output=True, text=True)
        if r.returncode or r2.returncode:
            check(False, "joint mode to .lcm: shrink failed: %s %s" % (r.stderr.strip(), r2.stderr.strip()))
            continue
        lay = json.load(open(rep))["layers"][0]
        dec = {t.name: numpy_helper.to_array(t) for t in onnx.load(back).graph.initializer}["w0"]
        ref, _ = sparsegpt_joint(w0, h, **kw)
        check(lay["bits"] == kw["bits"] and abs(lay["sparsity"] - np.mean(ref == 0)) < 1e-9,
              ".lcm joint %s: stored with %s bits, sparsity %.3f (reference zeros %.3f)"
              % (params, lay["bits"], lay["sparsity"], np.mean(ref == 0)))
        compare(".lcm joint %s decodes to the reference" % params, dec, ref)
    # quantize-gptq on a pruned layer: kept weights that round to exactly
    # zero are stored as pruned (the file's sparsity = the zeros of the values)
    lcm = os.path.join(TMP, "gptq_pruned.lcm")
    rep = os.path.join(TMP, "gptq_pruned.json")
    r = subprocess.run([shrink, "run", ppath, "-o", lcm, "--pass", "quantize-gptq:bits=2,correct=none", "--calib", xpath,
                        "--report", rep, "--quiet"], capture_output=True, text=True)
    ref = gptq(pruned, h, bits=2, keep=pruned != 0)
    if r.returncode:
        check(False, "quantize-gptq to .lcm: %s" % r.stderr.strip())
    else:
        lay = json.load(open(rep))["layers"][0]
        check(abs(lay["sparsity"] - np.mean(ref == 0)) < 1e-9 and np.mean(ref == 0) > np.mean(pruned == 0),
              "quantize-gptq bits=2 on a pruned layer: stored sparsity %.3f = zeros of the values %.3f (> pruned %.3f)"
              % (lay["sparsity"], np.mean(ref == 0), np.mean(pruned == 0)))

# ---- fold-batchnorm after joint mode: a per-channel uniform grid takes the
# BatchNorm's factor (negative gammas mirror the codes); the file keeps the
# 3-bit encoding and decodes to W_q * s, b * s + t ----
if shrink:
    gneg = gamma.copy()
    gneg[::3] *= -1
    fold_g = helper.make_graph(bn_nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", K])],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", N])],
                               [numpy_helper.from_array(a, nm) for a, nm in
                                ((w0, "w0"), (b0, "b0"), (gneg, "g"), (beta, "be"), (mean, "mu"), (var, "var"))])
    fpath = save(helper.make_model(fold_g, opset_imports=[helper.make_opsetid("", 13)]), "gemm_bn_fold.onnx")
    joint = "prune-hessian:sparsity=0.5,bits=3,block=16,scope=layer,correct=none"
    wq = run_pass(fpath, "prune-hessian", "sparsity=0.5,bits=3,block=16,correct=none", xpath)["w0"]
    lcm = os.path.join(TMP, "fold.lcm")
    rep = os.path.join(TMP, "fold.json")
    back = os.path.join(TMP, "fold_back.onnx")
    r = subprocess.run([shrink, "run", fpath, "-o", lcm, "--pass", joint, "--pass", "fold-batchnorm", "--calib", xpath,
                        "--report", rep, "--quiet"], capture_output=True, text=True)
    r2 = subprocess.run([shrink, "decode", lcm, "-o", back], capture_output=True, text=True)
    if r.returncode or r2.returncode:
        check(False, "fold-batchnorm after joint mode: shrink failed: %s %s" % (r.stderr.strip(), r2.stderr.strip()))
    else:
        fm = onnx.load(back)
        dec = {t.name: numpy_helper.to_array(t) for t in fm.graph.initializer}
        sc = gneg.astype(np.float64) / np.sqrt(var.astype(np.float64) + np.float64(np.float32(1e-3)))
        ref_w = wq.astype(np.float64) * sc[:, None]
        ref_b = sc * b0 + (beta - mean * sc)
        wname = [n for n in fm.graph.node if n.op_type == "Gemm"][0].input
        got_w, got_b = dec[wname[1]], dec[wname[2]]
        lay = json.load(open(rep))["layers"][0]
        check(not any(n.op_type == "BatchNormalization" for n in fm.graph.node) and lay["bits"] == 3,
              "fold-batchnorm after joint mode: BatchNorm gone, weight still stored with %s bits" % lay["bits"])
        check(np.array_equal(got_w == 0, wq == 0) and np.allclose(got_w, ref_w, rtol=1e-6, atol=1e-7) and
              max(len(np.unique(rw)) for rw in got_w) <= 8,
              "fold-batchnorm after joint mode: weights = W_q * gamma/sigma (negative gammas too), max |diff| %.2e"
              % float(np.max(np.abs(got_w - ref_w))))
        check(np.allclose(got_b, ref_b, rtol=1e-5, atol=1e-5), "fold-batchnorm after joint mode: bias = s*b + t")

# ---- grouped, strided, padded, dilated Conv ----
C, M, G = 4, 6, 2
wc = rng.standard_normal((M, C // G, 3, 3)).astype(np.float32)
xc = rng.standard_normal((40, C, 9, 8)).astype(np.float32)
conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=G, strides=[2, 1], pads=[1, 0, 2, 1],
                        dilations=[1, 2])
g = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", C, 9, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                      [numpy_helper.from_array(wc, "w")])
cpath = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "conv.onnx")
xcpath = save_npy(xc, "xc.npy")


def im2col(x, kh, kw, stride, pads, dil):
    n, c, hh, ww = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (hh + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (ww + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    cols = np.empty((n, oh, ow, c, kh, kw), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = xp[:, :, i * dil[0]: i * dil[0] + stride[0] * oh: stride[0],
                                        j * dil[1]: j * dil[1] + stride[1] * ow: stride[1]].transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, c * kh * kw)


conv_w = [wc[gi * (M // G):(gi + 1) * (M // G)].reshape(M // G, -1) for gi in range(G)]
conv_h = [hessian(im2col(xc[:, gi * (C // G):(gi + 1) * (C // G)], 3, 3, (2, 1), (1, 0, 2, 1), (1, 2)))
          for gi in range(G)]
for params, kw in [("sparsity=0.6,block=8", dict(sparsity=0.6, block=8)), ("sparsity=0.3", dict(sparsity=0.3))]:
    got = run_pass(cpath, "prune-hessian", params + ",correct=none", xcpath)["w"]
    # a grouped layer: each group's share from ranking the whole layer
    shares = global_sparsities(conv_w, conv_h, kw["sparsity"], within_layer=True)
    ref = np.concatenate([sparsegpt(conv_w[gi], conv_h[gi], shares[gi], block=kw.get("block", 128))
                          for gi in range(G)]).reshape(wc.shape)
    compare("grouped Conv prune-hessian %s (group shares %s)" % (params, np.round(shares, 3)), got, ref)
got = run_pass(cpath, "quantize-gptq", "bits=3,correct=none", xcpath)["w"]
ref = np.empty_like(wc)
for gi in range(G):
    xg = im2col(xc[:, gi * (C // G):(gi + 1) * (C // G)], 3, 3, (2, 1), (1, 0, 2, 1), (1, 2))
    wg = wc[gi * (M // G):(gi + 1) * (M // G)].reshape(M // G, -1)
    ref[gi * (M // G):(gi + 1) * (M // G)] = gptq(wg, hessian(xg), bits=3).reshape(M // G, C // G, 3, 3)
compare("grouped Conv quantize-gptq bits=3", got, ref, tol=1e-5)

# ---- two Gemms: sequential vs one-shot statistics, global scope ----
w1 = rng.standard_normal((24, K)).astype(np.float32) * 0.3
b1 = rng.standard_normal(24).astype(np.float32) * 0.1
w2 = rng.standard_normal((5, 24)).astype(np.float32)
b2 = rng.standard_normal(5).astype(np.float32)
tpath = save(gemm_model([(w1, b1), (w2, b2)]), "two.onnx")


def layer2_input(w):
    return np.maximum(x @ w.T + b1, 0).astype(np.float32)


for seq in ("true", "false"):
    got = run_pass(tpath, "prune-hessian", "sparsity=0.6,block=16,correct=none,sequential=" + seq, xpath)
    r1 = sparsegpt(w1, h, 0.6, block=16)
    r2 = sparsegpt(w2, hessian(layer2_input(r1 if seq == "true" else w1)), 0.6, block=16)
    compare("two layers sequential=%s: layer 1" % seq, got["w0"], r1)
    compare("two layers sequential=%s: layer 2" % seq, got["w1"], r2)
got = run_pass(tpath, "prune-hessian", "sparsity=0.7,scope=global,rank=obs,sequential=false,correct=none", xpath)
sp = global_sparsities([w1, w2], [h, hessian(layer2_input(w1))], 0.7)
check(abs(np.mean(got["w0"] == 0) - sp[0]) < 0.01 and abs(np.mean(got["w1"] == 0) - sp[1]) < 0.01,
      "global scope: per-layer sparsity %.3f/%.3f, reference %.3f/%.3f" % (np.mean(got["w0"] == 0),
                                                                          np.mean(got["w1"] == 0), sp[0], sp[1]))
check(abs((np.sum(got["w0"] == 0) + np.sum(got["w1"] == 0)) / (w1.size + w2.size) - 0.7) < 0.01,
      "global scope: overall sparsity 0.7")
compare("global scope: layer 1 weights", got["w0"], sparsegpt(w1, h, sp[0]))
# rank=magnitude (the default): layers share the sparsity as |w| ranks them
got = run_pass(tpath, "prune-hessian", "sparsity=0.7,scope=global,sequential=false,correct=none", xpath)
sp = global_sparsities([w1, w2], None, 0.7, magnitude=True)
compare("global scope rank=magnitude: layer 1 weights (share %.3f)" % sp[0], got["w0"], sparsegpt(w1, h, sp[0]))
compare("global scope rank=magnitude: layer 2 weights (share %.3f)" % sp[1], got["w1"],
        sparsegpt(w2, hessian(layer2_input(w1)), sp[1]))

# ---- rescale: after each wave, every output channel's standard deviation
# and mean on the calibration data back to the float model's ----
def rescale_ref(w, b, y_ref, y_new):
    """(a * w, bias) with a = clip(sd_ref / sd_new, 1/2, 2) per output row."""
    a = np.clip(np.sqrt(y_ref.var(axis=0) / y_new.var(axis=0)), 0.5, 2.0)
    nb = y_ref.mean(axis=0) - a * (y_new.mean(axis=0) - b)
    return (w.astype(np.float64) * a[:, None]).astype(np.float32), nb.astype(np.float32), a


x64 = x.astype(np.float64)
for bits in (0, 3):
    prm = "sparsity=0.6,block=16,correct=none,rescale=true" + (",bits=%d" % bits if bits else "")
    got = run_pass(tpath, "prune-hessian", prm, xpath)
    p1 = sparsegpt(w1, h, 0.6, block=16) if not bits else sparsegpt_joint(w1, h, 0.6, bits, block=16)[0]
    y1_ref = x64 @ w1.T.astype(np.float64) + b1
    q1, c1, a1 = rescale_ref(p1, b1, y1_ref, x64 @ p1.T.astype(np.float64) + b1)
    x2 = np.maximum(x64 @ q1.T.astype(np.float64) + c1, 0).astype(np.float32)
    h2 = hessian(x2)
    p2 = sparsegpt(w2, h2, 0.6, block=16) if not bits else sparsegpt_joint(w2, h2, 0.6, bits, block=16)[0]
    y2_ref = np.maximum(y1_ref, 0) @ w2.T.astype(np.float64) + b2
    q2, c2, a2 = rescale_ref(p2, b2, y2_ref, x2.astype(np.float64) @ p2.T.astype(np.float64) + b2)
    compare("rescale %s: layer 1 (channel factors %.3f..%.3f)" % (prm, a1.min(), a1.max()), got["w0"], q1)
    compare("rescale %s: layer 2 (channel factors %.3f..%.3f)" % (prm, a2.min(), a2.max()), got["w1"], q2)
    check(np.allclose(got["b0"], c1, rtol=1e-4, atol=1e-4) and np.allclose(got["b1"], c2, rtol=1e-4, atol=1e-4),
          "rescale %s: biases put the channel means back to the float model's" % prm)

# ---- center: H of the centred inputs (default with correct=bias) ----
xo = (x + rng.standard_normal(K).astype(np.float32) * 2).astype(np.float32)   # inputs with a large mean
xo[:, 5] = 1.5                                                                  # constant: dead once centred
xopath = save_npy(xo, "xoff.npy")
hc = hessian(xo, center=True)
hc[5, 5] = 0.0   # exactly dead (the pass: centred diagonal below 1e-9 of the raw one)
for params in ("sparsity=0.6,block=16,correct=none,center=yes", "sparsity=0.6,block=16,correct=bias"):
    got = run_pass(mpath, "prune-hessian", params, xopath)["w0"]
    compare("Gemm centred H (%s)" % params, got, sparsegpt(w0, hc, 0.6, block=16))
got = run_pass(mpath, "prune-hessian", "sparsity=0.6,block=16,correct=bias,center=no", xopath)["w0"]
compare("Gemm center=no with correct=bias: raw H", got, sparsegpt(w0, hessian(xo), 0.6, block=16))

# ---- bn_update: Gemm -> BatchNorm -> Relu -> Gemm, sequential, correct=bn:
# the BatchNorm is re-estimated on the pruned first layer's outputs before
# the second layer's inputs are collected ----
bn2_nodes = [helper.make_node("Gemm", ["x", "w0", "b0"], ["y0"], name="fc0", transB=1),
             helper.make_node("BatchNormalization", ["y0", "g", "be", "mu", "var"], ["z0"], epsilon=1e-3),
             helper.make_node("Relu", ["z0"], ["r0"]),
             helper.make_node("Gemm", ["r0", "w1", "b1"], ["y"], name="fc1", transB=1)]
g24 = rng.uniform(0.5, 2.0, 24).astype(np.float32)
be24 = rng.standard_normal(24).astype(np.float32) * 0.5
y_float = x.astype(np.float64) @ w1.T.astype(np.float64) + b1
mu24, var24 = y_float.mean(axis=0).astype(np.float32), y_float.var(axis=0).astype(np.float32)
bn2_g = helper.make_graph(bn2_nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])],
                          [numpy_helper.from_array(a, nm) for a, nm in
                           ((w1, "w0"), (b1, "b0"), (g24, "g"), (be24, "be"), (mu24, "mu"), (var24, "var"),
                            (w2, "w1"), (b2, "b1"))])
bn2path = save(helper.make_model(bn2_g, opset_imports=[helper.make_opsetid("", 13)]), "gemm_bn_gemm.onnx")


def bn_relu(y, mu, var):
    return np.maximum(g24 * (y - mu) / np.sqrt(var + np.float32(1e-3)) + be24, 0)


r1 = sparsegpt(w1, h, 0.6, block=16)
y_pruned = x.astype(np.float64) @ r1.T.astype(np.float64) + b1
mu_p, var_p = y_pruned.mean(axis=0), y_pruned.var(axis=0)
for upd in ("true", "false"):
    got = run_pass(bn2path, "prune-hessian", "sparsity=0.6,block=16,correct=bn,bn_update=" + upd, xpath)
    stats = (mu_p, var_p) if upd == "true" else (mu24, var24)
    x2 = bn_relu(y_pruned, *stats).astype(np.float32)
    compare("Gemm-BN-Gemm bn_update=%s: layer 1" % upd, got["w0"], r1)
    compare("Gemm-BN-Gemm bn_update=%s: layer 2 fitted to %s BatchNorm statistics" %
            (upd, "re-estimated" if upd == "true" else "stale"), got["w1"], sparsegpt(w2, hessian(x2), 0.6, block=16))
    check(np.allclose(got["mu"], mu_p, rtol=1e-4, atol=1e-4) and np.allclose(got["var"], var_p, rtol=1e-4, atol=1e-4),
          "Gemm-BN-Gemm bn_update=%s: final BatchNorm statistics re-estimated" % upd)

# ---- bias correction is kept only if calibration top-1 agreement with the
# float model does not drop (numpy replays the correction and the rule) ----
wa = rng.standard_normal((32, K)).astype(np.float32) * 0.4
ba = rng.standard_normal(32).astype(np.float32) * 0.2
wb = rng.standard_normal((6, 32)).astype(np.float32)
bb = rng.standard_normal(6).astype(np.float32) * 0.2
gpath = save(gemm_model([(wa, ba), (wb, bb)]), "gate.onnx")
x64 = x.astype(np.float64)


def mlp(p1, q1, p2, q2):
    return np.maximum(x64 @ p1.T.astype(np.float64) + q1, 0) @ p2.T.astype(np.float64) + q2


want = np.argmax(mlp(wa, ba, wb, bb), axis=1)
decisions = set()
for sp in (0.5, 0.9, 0.97):
    plain = run_pass(gpath, "prune-magnitude", "sparsity=%g,scope=global,correct=none" % sp, xpath)
    got = run_pass(gpath, "prune-magnitude", "sparsity=%g,scope=global,correct=bias" % sp, xpath)
    pa, pb = plain["w0"], plain["w1"]
    # the correction, layer by layer: output means back to the float model's
    c1 = ba + (x64 @ wa.T.astype(np.float64)).mean(0) - (x64 @ pa.T.astype(np.float64)).mean(0)
    h_ref = np.maximum(x64 @ wa.T.astype(np.float64) + ba, 0)
    h_cor = np.maximum(x64 @ pa.T.astype(np.float64) + c1, 0)
    c2 = bb + (h_ref @ wb.T.astype(np.float64)).mean(0) - (h_cor @ pb.T.astype(np.float64)).mean(0)
    a_plain = np.sum(np.argmax(mlp(pa, ba, pb, bb), axis=1) == want)
    a_corr = np.sum(np.argmax(mlp(pa, c1, pb, c2), axis=1) == want)
    keep = a_corr >= a_plain
    decisions.add(keep)
    ok = np.array_equal(got["w0"], pa) and np.array_equal(got["w1"], pb)
    if keep:
        ok &= np.allclose(got["b0"], c1, atol=1e-4) and np.allclose(got["b1"], c2, atol=1e-4)
    else:
        ok &= np.array_equal(got["b0"], ba) and np.array_equal(got["b1"], bb)
    check(ok, "bias-correct gate at sparsity %g: agreement %d corrected vs %d plain -> %s" %
          (sp, a_corr, a_plain, "kept" if keep else "reverted"))
check(decisions == {True, False}, "bias-correct gate: both outcomes exercised")

# ---- the zoo: reconstruction error below magnitude pruning's on every layer ----
src = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
zoo = os.path.join(src, "benchmarks", "zoo")
data_dir = os.path.join(TMP, "data")
r = subprocess.run([sys.executable, os.path.join(zoo, "make_test_data.py"), "--out", data_dir],
                   capture_output=True, text=True)
if r.returncode != 0:
    sys.exit("FAIL: no Fashion-MNIST data for the zoo check (%s); scripts/setup.sh installs it"
             % r.stderr.strip().splitlines()[-1:])
else:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    calib_u8 = np.load(os.path.join(data_dir, "calib_u8.npy"))[:256]
    np.save(os.path.join(TMP, "calib256.npy"), calib_u8)
    calib_path = os.path.join(TMP, "calib256.npy")
    xin = torch.tensor(((calib_u8.astype(np.float32) / 255 - 0.286) / 0.353)[:, None])

    def layer_inputs(model):
        """Runs the ONNX graph in PyTorch; returns {node name: (op, input, attrs)}."""
        inits = {t.name: torch.tensor(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        env = dict(inits)
        env[model.graph.input[0].name] = xin
        seen = {}
        for nd in model.graph.node:
            a = {at.name: helper.get_attribute_value(at) for at in nd.attribute}
            i = [env[n] if n else None for n in nd.input]
            op = nd.op_type
            if op == "Conv":
                seen[nd.name] = (op, i[0], a)
                p = a.get("pads", [0, 0, 0, 0])
                xx = F.pad(i[0], (p[1], p[3], p[0], p[2]))
                y = F.conv2d(xx, i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), 0,
                             a.get("dilations", [1, 1]), a.get("group", 1))
            elif op == "Gemm":
                seen[nd.name] = (op, i[0], a)
                y = i[0] @ (i[1].T if a.get("transB", 0) else i[1]) + (i[2] if len(i) > 2 else 0)
            elif op == "Relu":
                y = torch.relu(i[0])
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(F.pad(i[0], (p[1], p[3], p[0], p[2]), value=-np.inf), a["kernel_shape"],
                                 a.get("strides", a["kernel_shape"]))
            elif op == "Flatten":
                y = i[0].reshape(i[0].shape[0], -1)
            elif op == "BatchNormalization":
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            else:
                raise SystemExit("zoo interpreter: no %s" % op)
            env[nd.output[0]] = y
        return seen

    def recon_error(op, xx, a, dw, scale):
        dw = torch.tensor(dw)
        if op == "Gemm":
            return float(torch.linalg.norm((xx @ (dw.T if a.get("transB", 0) else dw)) * scale))
        p = a.get("pads", [0, 0, 0, 0])
        y = F.conv2d(F.pad(xx, (p[1], p[3], p[0], p[2])), dw, None, a.get("strides", [1, 1]), 0,
                     a.get("dilations", [1, 1]), a.get("group", 1))
        return float(torch.linalg.norm(y * scale.reshape(1, -1, 1, 1)))

    def bn_scale(model, nd, weights):
        """gamma / sqrt(var + eps) of a BatchNormalization that alone reads
        the layer's output (what the pass ranks errors by), else 1."""
        users = [u for u in model.graph.node if nd.output[0] in u.input]
        if len(users) == 1 and users[0].op_type == "BatchNormalization":
            bn = users[0]
            eps = next((at.f for at in bn.attribute if at.name == "epsilon"), 1e-5)
            return torch.tensor(weights[bn.input[1]] / np.sqrt(weights[bn.input[4]] + np.float32(eps)))
        return torch.tensor(1.0)

    for name in ("lenet300", "lenet5", "resnet8", "dscnn"):
        path = os.path.join(zoo, name + ".onnx")
        if not os.path.exists(path):
            continue
        model = onnx.load(path)
        weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        with torch.no_grad():
            seen = layer_inputs(model)
        for sparsity, bnw in ((0.5, False), (0.8, False), (0.5, True), (0.8, True)):
            res = {}
            # sequential=false: each layer minimises exactly this error on
            # the float model's inputs (sequential mode targets the inputs
            # of the already pruned model instead)
            hes = ",sequential=false" + (",bn_weight=true" if bnw else "")
            for pname, extra in (("prune-hessian", hes), ("prune-magnitude", ",scope=layer")):
                res[pname] = run_pass(path, pname, "sparsity=%g,correct=none%s" % (sparsity, extra), calib_path,
                                      ["--mean", "0.286", "--std", "0.353"])
            worst = 0.0
            all_below = True
            for nd in model.graph.node:
                if nd.name not in seen:
                    continue
                op, xx, a = seen[nd.name]
                wn = nd.input[1]
                sc = bn_scale(model, nd, weights) if bnw else torch.tensor(1.0)
                with torch.no_grad():
                    eh = recon_error(op, xx, a, weights[wn] - res["prune-hessian"][wn], sc)
                    em = recon_error(op, xx, a, weights[wn] - res["prune-magnitude"][wn], sc)
                all_below &= eh < em
                worst = max(worst, eh / em)
            check(all_below, "%s sparsity %.1f: ||%s(WX - W'X)|| hessian < magnitude on every layer (worst ratio %.3f)"
                  % (name, sparsity, "S" if bnw else "", worst))

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all checks passed")
