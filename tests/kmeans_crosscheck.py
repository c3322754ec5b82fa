"""Cross-checks of quantize-kmeans and binarize against independent
references (scikit-learn, numpy, PyTorch), through the one-pass tool.

  kmeans_crosscheck.py LC_PASS_TOOL

- Lloyd k-means (init linear and density, per layer and per output channel,
  2..4 bits) equals scikit-learn's KMeans(algorithm='lloyd', n_init=1)
  started from the same centroids: every weight equals the sklearn centroid
  of its sklearn cluster within 1e-5 (a weight may only differ where it is
  within 1e-5 of equidistant to two centroids), on random layers and on the
  zoo's layer weights;
- hessian=true equals sklearn's weighted k-means with sample_weight =
  diag(H) computed independently with PyTorch (sum of squared inputs; for
  Conv over F.unfold's im2col columns, including a depthwise Conv) plus
  the pass's documented floor of 1% of the layer's mean;
- exact zeros stay +0.0 and are not clustered: the other weights equal
  sklearn's clustering of the non-zero weights into 2^bits - 1 clusters;
- method=optimal's within-cluster sum of squares is never above sklearn's
  (Lloyd from the same start, and k-means++ with 10 restarts);
- binarize equals numpy's alpha * sign(W) per output channel (alpha = mean
  |W| of the non-zero weights), leaving the first and last layers alone
  unless first_last=true.
"""
import os
import subprocess
import time

# sklearn's OpenMP threads cost more than they give on these small fits
os.environ["OMP_NUM_THREADS"] = "1"
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans

TOOL = sys.argv[1]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
ZOO = os.path.join(SRC, "benchmarks", "zoo")
TMP = tempfile.mkdtemp(prefix="kmeans_xc_")
torch.set_num_threads(1)  # (2 makes sklearn's OpenMP loops 20x slower here)
failures = []
TOL = 1e-5


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run_tool(model, out, pass_name, params, calib=None):
    cmd = [TOOL, model, out, pass_name, params]
    if calib is not None:
        cmd += ["--calib", calib]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("lc_pass_tool failed: %s\n%s" % (" ".join(cmd), r.stderr))


def inits(path):
    m = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def weight_layers(path):
    """[(tensor name, out_axis)] in graph order, like lc_weight_targets."""
    m = onnx.load(path)
    vals = inits(path)
    out = []
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm", "MatMul") or len(n.input) < 2 or n.input[1] not in vals:
            continue
        if n.op_type == "Conv":
            axis = 0
        elif n.op_type == "Gemm":
            axis = 0 if any(a.name == "transB" and a.i for a in n.attribute) else 1
        else:
            axis = vals[n.input[1]].ndim - 1
        out.append((n.input[1], axis))
    return out, vals


# ---- models ----

def rand_weights(rng, shape, outliers=True):
    w = rng.standard_normal(shape).astype(np.float32) * 0.1
    if outliers:
        w.flat[rng.choice(w.size, max(1, w.size // 50), replace=False)] *= 6
    return w


def mlp(rng, path, zeros=0.0):
    """x[N,40] -> Gemm(transB=1) -> Relu -> Gemm(transB=0) -> Relu -> MatMul -> Relu -> Gemm."""
    W = {"w1": rand_weights(rng, (30, 40)), "w2": rand_weights(rng, (30, 24)), "w3": rand_weights(rng, (24, 16)),
         "w4": rand_weights(rng, (16, 5))}
    if zeros:
        for k, v in W.items():
            v.flat[rng.choice(v.size, int(v.size * zeros), replace=False)] = 0
    B = {"b1": rng.standard_normal(30).astype(np.float32) * 0.1, "b2": rng.standard_normal(24).astype(np.float32) * 0.1,
         "b4": rng.standard_normal(5).astype(np.float32) * 0.1}
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], transB=1, name="fc1"),
        helper.make_node("Relu", ["h1"], ["r1"]),
        helper.make_node("Gemm", ["r1", "w2", "b2"], ["h2"], name="fc2"),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("MatMul", ["r2", "w3"], ["h3"], name="fc3"),
        helper.make_node("Relu", ["h3"], ["r3"]),
        helper.make_node("Gemm", ["r3", "w4", "b4"], ["y"], name="fc4"),
    ]
    inits_ = [numpy_helper.from_array(v, k) for k, v in {**W, **B}.items()]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 40])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits_)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return W, B


def convnet(rng, path):
    """x[N,3,9,9] -> Conv 3x3/2 pad 1 -> Relu -> depthwise 3x3 pad 1 -> Relu -> Conv 1x1 -> Flatten -> Gemm."""
    W = {"c1": rand_weights(rng, (6, 3, 3, 3)), "c2": rand_weights(rng, (6, 1, 3, 3)), "c3": rand_weights(rng, (5, 6, 1, 1)),
         "fc": rand_weights(rng, (125, 7))}
    B = {"cb1": rng.standard_normal(6).astype(np.float32) * 0.1, "fb": rng.standard_normal(7).astype(np.float32) * 0.1}
    nodes = [
        helper.make_node("Conv", ["x", "c1", "cb1"], ["a1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], name="conv1"),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("Conv", ["r1", "c2"], ["a2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6, name="conv2"),
        helper.make_node("Relu", ["a2"], ["r2"]),
        helper.make_node("Conv", ["r2", "c3"], ["a3"], kernel_shape=[1, 1], name="conv3"),
        helper.make_node("Flatten", ["a3"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fb"], ["y"], name="fc"),
    ]
    inits_ = [numpy_helper.from_array(v, k) for k, v in {**W, **B}.items()]
    g = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 9, 9])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 7])], inits_)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return W, B


# ---- references ----

def init_centroids(x, w, k, init):
    """The documented initialisations: linear = k evenly spaced in
    [min, max]; density = the sorted value where the weighted CDF first
    reaches (i + 0.5) / k."""
    if init == "linear":
        lo, hi = float(x.min()), float(x.max())
        return np.array([lo + (hi - lo) / 2] if k == 1 else [lo + (hi - lo) * i / (k - 1) for i in range(k)])
    v, inv = np.unique(x, return_inverse=True)
    cw = np.cumsum(np.bincount(inv, weights=w if w is not None else np.ones_like(x, dtype=np.float64)))
    return np.array([v[min(np.searchsorted(cw, (i + 0.5) / k * cw[-1]), len(v) - 1)] for i in range(k)])


def sk_kmeans(x, k, init, w=None):
    x = x.astype(np.float64)
    km = KMeans(n_clusters=k, init=init_centroids(x, w, k, init).reshape(-1, 1).astype(np.float64), n_init=1,
                algorithm="lloyd", tol=1e-10, max_iter=300)
    km.fit(x.reshape(-1, 1), sample_weight=w)
    return km.cluster_centers_[:, 0], km.labels_


def compare(tag, got, x, k, init, w=None):
    """got: our quantized values of x. Each must equal sklearn's centroid of
    its sklearn label, unless x is (within TOL) equidistant to that centroid
    and the one we chose."""
    c, lab = sk_kmeans(x, k, init, w)
    ref = c[lab]
    bad = np.abs(got - ref) > TOL
    if bad.any():
        # ambiguous: our value is (within TOL) a sklearn centroid as near to x as its own
        near = np.abs(np.abs(x[bad] - got[bad]) - np.abs(x[bad] - ref[bad])) <= TOL
        is_c = np.min(np.abs(got[bad][:, None] - c[None, :]), axis=1) <= TOL
        bad_idx = np.flatnonzero(bad)[~(near & is_c)]
    else:
        bad_idx = []
    check(len(bad_idx) == 0, "%s: %d of %d weights differ from sklearn (max %.3g)" %
          (tag, len(bad_idx), x.size, float(np.abs(got - ref).max())))
    return float(np.abs(got - ref).max())


def per_group(arr, axis, per_channel, limit=None):
    """Yields index arrays (flat) of each codebook group (at most `limit`
    channels, spread evenly, when given)."""
    if not per_channel:
        yield np.arange(arr.size)
        return
    idx = np.arange(arr.size).reshape(arr.shape)
    n = arr.shape[axis]
    chans = range(n) if not limit or n <= limit else np.linspace(0, n - 1, limit).round().astype(int)
    for c in chans:
        yield np.take(idx, c, axis=axis).ravel()


def check_lloyd(tag, path, bits, gran, init, skip=(), weights=None, calib=None):
    t0 = time.time()
    out = os.path.join(TMP, "out.onnx")
    # compensate=none: with calibration data the default is GPTQ's
    # assignment (checked in hessian_crosscheck.py), not nearest centroid
    run_tool(path, out, "quantize-kmeans", "bits=%d,granularity=%s,init=%s,method=lloyd,compensate=none,correct=none%s"
             % (bits, gran, init, ",hessian=true" if weights else ""), calib)
    layers, vals = weight_layers(path)
    got = inits(out)
    worst = 0.0
    for name, axis in layers:
        if name in skip:
            continue
        x, q = vals[name], got[name]
        sparse = (x == 0).any()
        k = (1 << bits) - (1 if sparse else 0)
        check(np.array_equal(np.signbit(q[x == 0]), np.zeros((x == 0).sum(), bool)) and not q[x == 0].any(),
              "%s %s: zeros not kept as +0.0" % (tag, name))
        for g in per_group(x, axis, gran == "channel", limit=24):
            gx, gq = x.flat[g], q.flat[g]
            keep = gx != 0
            if not keep.any():
                continue
            if keep.sum() <= k:
                # no more values than clusters (sklearn refuses): each value is its own centroid
                check(np.array_equal(gq[keep], gx[keep]), "%s %s: %d values, %d clusters: not kept exactly" %
                      (tag, name, keep.sum(), k))
                continue
            gw = weights[name].flat[g][keep].astype(np.float64) if weights else None
            worst = max(worst, compare("%s %s %s" % (tag, name, gran), gq[keep], gx[keep], k, init, gw))
        # the codebook holds at most 2^bits values per group (zero included)
        for g in per_group(x, axis, gran == "channel"):
            check(len(np.unique(q.flat[g])) <= (1 << bits), "%s %s: more than 2^bits values" % (tag, name))
    print("lloyd %-28s %d bits %-7s %-7s: max |ours - sklearn| %.2e  (%.1fs)" % (tag, bits, gran, init, worst,
                                                                                   time.time() - t0))


def check_optimal(tag, path, bits):
    out = os.path.join(TMP, "opt.onnx")
    run_tool(path, out, "quantize-kmeans", "bits=%d,method=optimal,correct=none" % bits)
    layers, vals = weight_layers(path)
    got = inits(out)
    for name, _ in layers:
        x = vals[name].ravel().astype(np.float64)
        if x.size > 100000:
            continue  # sklearn needs ~10 s here; the C tests cover large inputs
        ours = float(((x - got[name].ravel()) ** 2).sum())
        c, lab = sk_kmeans(x, 1 << bits, "linear")
        lloyd = float(((x - c[lab]) ** 2).sum())
        # k-means++ restarts only where they are quick
        pp = (KMeans(n_clusters=1 << bits, n_init=10, random_state=0).fit(x.reshape(-1, 1)).inertia_
              if x.size <= 50000 else float("inf"))
        check(ours <= lloyd * (1 + 1e-6) and ours <= pp * (1 + 1e-6),
              "%s %s optimal: SSE %.6g above sklearn (lloyd %.6g, k-means++ %.6g)" % (tag, name, ours, lloyd, pp))
        print("optimal %-10s %-34s %d bits: SSE %.6g  sklearn lloyd %.6g  k-means++x10 %.6g" %
              (tag, name, bits, ours, lloyd, pp))


def hessian_mlp(W, B, x):
    """diag(H) of each layer's weight: sum over samples of its input squared."""
    xt = torch.from_numpy(x).double()
    h1 = (xt ** 2).sum(0)
    r1 = torch.relu(xt @ torch.from_numpy(W["w1"]).double().T + torch.from_numpy(B["b1"]).double())
    h2 = (r1 ** 2).sum(0)
    r2 = torch.relu(r1 @ torch.from_numpy(W["w2"]).double() + torch.from_numpy(B["b2"]).double())
    h3 = (r2 ** 2).sum(0)
    r3 = torch.relu(r2 @ torch.from_numpy(W["w3"]).double())
    h4 = (r3 ** 2).sum(0)
    imp = {"w1": np.broadcast_to(h1.numpy()[None, :], (30, 40)), "w2": np.broadcast_to(h2.numpy()[:, None], (30, 24)),
           "w3": np.broadcast_to(h3.numpy()[:, None], (24, 16)), "w4": np.broadcast_to(h4.numpy()[:, None], (16, 5))}
    return {k: damped(v) for k, v in imp.items()}


def hessian_conv(W, B, x):
    t = lambda a: torch.from_numpy(a).double()
    xt = t(x)
    u1 = F.unfold(xt, 3, padding=1, stride=2)                   # [N, 3*9, L]
    a1 = torch.relu(F.conv2d(xt, t(W["c1"]), t(B["cb1"]), stride=2, padding=1))
    u2 = F.unfold(a1, 3, padding=1)                             # [N, 6*9, L]
    a2 = torch.relu(F.conv2d(a1, t(W["c2"]), None, padding=1, groups=6))
    a3 = F.conv2d(a2, t(W["c3"]))
    f = a3.flatten(1)
    h1 = (u1 ** 2).sum((0, 2)).numpy()                          # per (c, kh, kw)
    h2 = (u2 ** 2).sum((0, 2)).numpy().reshape(6, 1, 3, 3)      # depthwise: channel oc reads input oc
    h3 = (a2 ** 2).sum((0, 2, 3)).numpy()
    hf = (f ** 2).sum(0).numpy()
    imp = {"c1": np.broadcast_to(h1.reshape(1, 3, 3, 3), (6, 3, 3, 3)), "c2": h2,
           "c3": np.broadcast_to(h3.reshape(1, 6, 1, 1), (5, 6, 1, 1)), "fc": np.broadcast_to(hf[:, None], (125, 7))}
    return {k: damped(v) for k, v in imp.items()}


def damped(h):
    """The pass's floor: every importance plus 1% of the layer's mean."""
    h = np.ascontiguousarray(h, dtype=np.float64)
    return (h + 0.01 * h.mean()).astype(np.float32)


def check_binarize(rng):
    path = os.path.join(TMP, "bin.onnx")
    W, _ = mlp(rng, path, zeros=0.2)
    out = os.path.join(TMP, "bin_out.onnx")
    layers, _ = weight_layers(path)
    for first_last in (False, True):
        run_tool(path, out, "binarize", "first_last=%s,correct=none" % ("true" if first_last else "false"))
        got = inits(out)
        for i, (name, axis) in enumerate(layers):
            w = W[name]
            if not first_last and i in (0, len(layers) - 1):
                check(np.array_equal(got[name], w), "binarize: %s (first/last) changed" % name)
                continue
            a = np.abs(w).astype(np.float64)
            nz = (w != 0).sum(axis=1 - axis if w.ndim == 2 else None, keepdims=True)
            alpha = (a.sum(axis=1 - axis, keepdims=True) / np.maximum(nz, 1)).astype(np.float32)
            ref = alpha * np.sign(w)
            check(np.allclose(got[name], ref, rtol=1e-6, atol=0) and np.array_equal(np.sign(got[name]), np.sign(w)),
                  "binarize: %s differs from alpha*sign(W) (max %.3g)" % (name, float(np.abs(got[name] - ref).max())))
            check(not np.signbit(got[name][w == 0]).any(), "binarize: %s zeros not +0.0" % name)
        print("binarize first_last=%-5s: %d layers match numpy alpha*sign(W)" %
              (first_last, len(layers) - (0 if first_last else 2)))


def main():
    rng = np.random.default_rng(0)
    p_mlp, p_conv, p_sparse = (os.path.join(TMP, n) for n in ("mlp.onnx", "conv.onnx", "sparse.onnx"))
    Wm, Bm = mlp(rng, p_mlp)
    Wc, Bc = convnet(rng, p_conv)
    mlp(rng, p_sparse, zeros=0.5)
    for bits in (2, 3, 4):
        for gran in ("layer", "channel"):
            for init in ("linear", "density"):
                check_lloyd("mlp", p_mlp, bits, gran, init)
        check_lloyd("conv", p_conv, bits, "layer", "linear")
        check_lloyd("conv", p_conv, bits, "channel", "density")
        check_lloyd("sparse", p_sparse, bits, "layer", "linear")
        check_lloyd("sparse", p_sparse, bits, "channel", "linear")

    # Hessian weighting: inputs with very different scales per feature
    xm = (rng.standard_normal((64, 40)) * rng.uniform(0.05, 3, 40)).astype(np.float32)
    cm = os.path.join(TMP, "calib_mlp.npy")
    np.save(cm, xm)
    xc = (rng.standard_normal((16, 3, 9, 9)) * rng.uniform(0.1, 2, (1, 3, 1, 1))).astype(np.float32)
    cc = os.path.join(TMP, "calib_conv.npy")
    np.save(cc, xc)
    for bits in (2, 3):
        check_lloyd("mlp hessian", p_mlp, bits, "layer", "linear", weights=hessian_mlp(Wm, Bm, xm), calib=cm)
        check_lloyd("mlp hessian", p_mlp, bits, "channel", "linear", weights=hessian_mlp(Wm, Bm, xm), calib=cm)
        check_lloyd("conv hessian", p_conv, bits, "layer", "linear", weights=hessian_conv(Wc, Bc, xc), calib=cc)
        check_lloyd("conv hessian", p_conv, bits, "channel", "density", weights=hessian_conv(Wc, Bc, xc), calib=cc)

    for name in ("lenet300", "lenet5"):
        path = os.path.join(ZOO, name + ".onnx")
        if os.path.exists(path):
            # (lenet300's 235k-weight first layer takes sklearn ~10 s: per channel only)
            check_lloyd(name, path, 4, "layer", "linear", skip=("net.1.weight",))
            check_lloyd(name, path, 3, "channel", "linear")
            check_optimal(name, path, 3)
    check_optimal("mlp", p_mlp, 4)
    check_binarize(rng)

    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all k-means / binarize cross-checks passed")


if __name__ == "__main__":
    main()
