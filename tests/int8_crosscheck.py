#!/usr/bin/python3
"""Cross-checks of fold-batchnorm and quantize-int8 against independent
references (numpy formulas, the onnx checker, ONNX Runtime).

    int8_crosscheck.py LC_PASS_TOOL [--no-zoo]

Environment: SHRINK (the CLI), LC_SOURCE_DIR. ONNX Runtime comes from
benchmarks/.ort/node_modules/onnxruntime-node (run by node); without it the
ONNX Runtime comparison fails the test (scripts/setup_ort.sh installs it).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_helper  # noqa: E402

TOOL = sys.argv[1]
SHRINK = os.environ["SHRINK"]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
ZOO = os.path.join(SRC, "benchmarks", "zoo")
ORT_MODULES = os.path.join(SRC, "benchmarks", ".ort", "node_modules")
TMP = tempfile.mkdtemp(prefix="int8_check_")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
    return r.stdout


def tool(model, out, pass_name, params="", calib=None):
    cmd = [TOOL, model, out, pass_name, params]
    if calib:
        cmd += ["--calib", calib]
    run(cmd)
    m = onnx.load(out)
    onnx.checker.check_model(m, full_check=True)
    return m


def execute(model, x):
    """Our executor's output on float32 input x (through shrink eval)."""
    xin = os.path.join(TMP, "x_in.npy")
    out = os.path.join(TMP, "y_out.npy")
    np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
    run([SHRINK, "eval", model, "--data", xin, "--out", out, "--batch", "100"])
    return np.load(out)


def inits(m):
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def save(model, name):
    path = os.path.join(TMP, name)
    onnx.save(model, path)
    return path


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ------------------------------------------------------------ fold-batchnorm

def bn_nodes(prefix, c, rng, inp, out):
    gamma, beta = f32(rng.uniform(0.5, 1.5, c) * rng.choice([-1, 1], c)), f32(rng.normal(0, 0.5, c))
    mean, var = f32(rng.normal(0, 0.5, c)), f32(rng.uniform(0.2, 2.0, c))
    ts = [numpy_helper.from_array(v, prefix + k) for k, v in
          (("_g", gamma), ("_b", beta), ("_m", mean), ("_v", var))]
    node = helper.make_node("BatchNormalization", [inp] + [t.name for t in ts], [out], epsilon=1e-3)
    return node, ts, (gamma, beta, mean, var, 1e-3)


def fold_ref(w, b, bn, axis_of):
    """numpy: W' = W*s, b' = s*b + t in float64, rounded once."""
    gamma, beta, mean, var, eps = [np.float64(v) if np.isscalar(v) else v.astype(np.float64) for v in bn]
    s = gamma / np.sqrt(var + np.float64(np.float32(eps)))
    t = beta - mean * s
    w2 = (w.astype(np.float64) * axis_of(s)).astype(np.float32)
    b2 = (s * (b.astype(np.float64) if b is not None else 0.0) + t).astype(np.float32)
    return w2, b2


def check_fold_synthetic():
    rng = np.random.default_rng(7)
    nodes, ts = [], []
    # Conv with bias -> BN
    w1, b1 = f32(rng.normal(0, 0.3, (6, 3, 3, 3))), f32(rng.normal(0, 0.1, 6))
    ts += [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1")]
    nodes.append(helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]))
    n, t, bn1 = bn_nodes("bn1", 6, rng, "c1", "y1")
    nodes.append(n), ts.extend(t)
    nodes.append(helper.make_node("Relu", ["y1"], ["r1"]))
    # Conv without bias -> BN, BN output is a graph output
    w2 = f32(rng.normal(0, 0.3, (4, 6, 1, 1)))
    ts.append(numpy_helper.from_array(w2, "w2"))
    nodes.append(helper.make_node("Conv", ["r1", "w2"], ["c2"]))
    n, t, bn2 = bn_nodes("bn2", 4, rng, "c2", "out_conv")
    nodes.append(n), ts.extend(t)
    # ConvTranspose, group 2 -> BN
    w3, b3 = f32(rng.normal(0, 0.3, (6, 2, 2, 2))), f32(rng.normal(0, 0.1, 4))
    ts += [numpy_helper.from_array(w3, "w3"), numpy_helper.from_array(b3, "b3")]
    nodes.append(helper.make_node("ConvTranspose", ["r1", "w3", "b3"], ["c3"], group=2, strides=[2, 2]))
    n, t, bn3 = bn_nodes("bn3", 4, rng, "c3", "out_convt")
    nodes.append(n), ts.extend(t)
    # Gemm (transB=0, beta=0.5) -> BN
    nodes.append(helper.make_node("Flatten", ["r1"], ["f"]))
    w4, b4 = f32(rng.normal(0, 0.1, (6 * 25, 5))), f32(rng.normal(0, 0.1, 5))
    ts += [numpy_helper.from_array(w4, "w4"), numpy_helper.from_array(b4, "b4")]
    nodes.append(helper.make_node("Gemm", ["f", "w4", "b4"], ["g4"], beta=0.5))
    n, t, bn4 = bn_nodes("bn4", 5, rng, "g4", "out_gemm")
    nodes.append(n), ts.extend(t)
    # MatMul -> BN (becomes an Add)
    w5 = f32(rng.normal(0, 0.1, (6 * 25, 3)))
    ts.append(numpy_helper.from_array(w5, "w5"))
    nodes.append(helper.make_node("MatMul", ["f", "w5"], ["m5"]))
    n, t, bn5 = bn_nodes("bn5", 3, rng, "m5", "out_matmul")
    nodes.append(n), ts.extend(t)
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape) for o, shape in
            (("out_conv", [None, 4, 5, 5]), ("out_convt", [None, 4, 10, 10]), ("out_gemm", [None, 5]),
             ("out_matmul", [None, 3]))]
    g = helper.make_graph(nodes, "fold", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, 5, 5])],
                          outs, ts)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    path = save(model, "fold_src.onnx")
    folded = tool(path, os.path.join(TMP, "fold_out.onnx"), "fold-batchnorm")
    ops = [n.op_type for n in folded.graph.node]
    check("BatchNormalization" not in ops, "fold-batchnorm: every BatchNormalization folded (%s)" % ops)
    check([o.name for o in folded.graph.output] == [o.name for o in model.graph.output],
          "fold-batchnorm: graph output names kept")
    by_out = {n.output[0]: n for n in folded.graph.node}
    w = inits(folded)

    def wb(out):
        n = by_out[out]
        return w[n.input[1]], (w[n.input[2]] if len(n.input) > 2 and n.input[2] else None)

    ref_w1, ref_b1 = fold_ref(w1, b1, bn1, lambda s: s[:, None, None, None])
    got_w, got_b = wb("y1")
    check(np.array_equal(got_w, ref_w1) and np.array_equal(got_b, ref_b1),
          "fold-batchnorm: Conv weights and bias equal the float64 formula rounded once")
    ref_w2, ref_b2 = fold_ref(w2, None, bn2, lambda s: s[:, None, None, None])
    got_w, got_b = wb("out_conv")
    check(np.array_equal(got_w, ref_w2) and np.array_equal(got_b, ref_b2),
          "fold-batchnorm: bias-less Conv gets bias t and scaled weights")
    # ConvTranspose group 2: output channel of W[i, j] = (i // 3) * 2 + j
    s3 = np.float64(bn3[0]) / np.sqrt(bn3[3].astype(np.float64) + np.float64(np.float32(1e-3)))
    ch = (np.arange(6)[:, None] // 3) * 2 + np.arange(2)[None, :]
    ref_w3 = (w3.astype(np.float64) * s3[ch][:, :, None, None]).astype(np.float32)
    got_w, got_b = wb("out_convt")
    ref_b3 = fold_ref(w3, b3, bn3, lambda s: 1.0)[1]
    check(np.array_equal(got_w, ref_w3) and np.array_equal(got_b, ref_b3),
          "fold-batchnorm: grouped ConvTranspose weights per output channel")
    gemm = by_out["out_gemm"]
    beta_attr = [a.f for a in gemm.attribute if a.name == "beta"]
    ref_w4, _ = fold_ref(w4, None, bn4, lambda s: s[None, :])
    s4 = bn4[0].astype(np.float64) / np.sqrt(bn4[3].astype(np.float64) + np.float64(np.float32(1e-3)))
    ref_b4 = (s4 * 0.5 * b4.astype(np.float64) + (bn4[1] - bn4[2].astype(np.float64) * s4)).astype(np.float32)
    got_w, got_b = wb("out_gemm")
    check(np.array_equal(got_w, ref_w4) and np.array_equal(got_b, ref_b4) and beta_attr == [1.0],
          "fold-batchnorm: Gemm beta folded into the bias")
    check(by_out["out_matmul"].op_type == "Add", "fold-batchnorm: MatMul + BN becomes MatMul + Add")
    x = f32(rng.normal(0, 1, (20, 3, 5, 5)))
    # shrink eval writes the first output only: compare each output through a
    # one-output copy of both models
    for k, o in enumerate(model.graph.output):
        a, b = onnx.load(path), onnx.load(os.path.join(TMP, "fold_out.onnx"))
        for mm in (a, b):
            keep = [x_ for x_ in mm.graph.output if x_.name == o.name]
            del mm.graph.output[:]
            mm.graph.output.extend(keep)
        ya, yb = execute(save(a, "fa.onnx"), x), execute(save(b, "fb.onnx"), x)
        rel = np.abs(ya - yb).max() / max(np.abs(ya).max(), 1e-30)
        check(rel <= 1e-5, "fold-batchnorm: output %s equals the unfolded model (rel %.2e)" % (o.name, rel))


def check_fold_zoo(x):
    for name in ("resnet8", "dscnn"):
        src = os.path.join(ZOO, name + ".onnx")
        if not os.path.exists(src):
            print("skip fold-batchnorm on %s: not in the zoo" % name)
            continue
        out = os.path.join(TMP, name + "_fold.onnx")
        m = tool(src, out, "fold-batchnorm")
        ya, yb = execute(src, x), execute(out, x)
        rel = np.abs(ya - yb).max() / np.abs(ya).max()
        check(not any(n.op_type == "BatchNormalization" for n in m.graph.node) and rel <= 1e-5,
              "fold-batchnorm %s: no BatchNormalization left, outputs within %.2e relative" % (name, rel))


# ------------------------------------------------------------ quantize-int8

def act_qparams(lo, hi, s8):
    """The activation formula: range widened to hold 0, float32 scale."""
    qmin, qmax = (-128, 127) if s8 else (0, 255)
    rmin, rmax = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    if not rmax > rmin:
        return np.float32(1.0), qmin
    scale = np.float32((np.float64(rmax) - np.float64(rmin)) / (qmax - qmin))
    zp = int(np.clip(np.round(qmin - np.float64(rmin) / np.float64(scale)), qmin, qmax))
    return scale, zp


def weight_q(w, axis):
    """Symmetric int8: s = max|w| / 127 per channel (axis) or tensor (None)."""
    if axis is None:
        amax = np.abs(w).max()
        s = np.float32(np.float64(amax) / 127.0) if amax > 0 else np.float32(1)
        q = np.clip(np.round(w.astype(np.float64) / np.float64(s)), -127, 127).astype(np.int8)
        return q, s
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    amax = np.abs(moved).max(axis=1)
    s = np.where(amax > 0, (amax.astype(np.float64) / 127.0), 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w.astype(np.float64) / s.reshape(shape).astype(np.float64)), -127, 127).astype(np.int8)
    return q, s


def mlp_model(rng):
    w1, b1 = f32(rng.normal(0, 0.3, (8, 16))), f32(rng.normal(0, 0.2, 8))
    w2, b2 = f32(rng.normal(0, 0.3, (8, 4))), f32(rng.normal(0, 0.2, 4))
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"])]
    ts = [numpy_helper.from_array(v, k) for k, v in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])], ts)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), (w1, b1, w2, b2)


def qdq_ref(x, s, zp, s8):
    lo, hi = (-128, 127) if s8 else (0, 255)
    q = np.clip(np.round(x / np.float32(s)) + zp, lo, hi)
    return ((q - zp) * np.float32(s)).astype(np.float32)


def check_quantize_formulas():
    rng = np.random.default_rng(11)
    model, (w1, b1, w2, b2) = mlp_model(rng)
    path = save(model, "mlp.onnx")
    x = f32(rng.normal(0.3, 1.0, (64, 16)))
    x[3, 5] = 6.0  # an outlier for the calibrators
    calib = os.path.join(TMP, "mlp_calib.npy")
    np.save(calib, x)
    h = np.maximum(x.astype(np.float64) @ w1.T.astype(np.float64) + b1, 0)
    for gran, s8 in (("channel", False), ("tensor", False), ("channel", True)):
        label = "quantize-int8 %s %s" % (gran, "int8" if s8 else "uint8")
        m = tool(path, os.path.join(TMP, "mlp_q.onnx"), "quantize-int8",
                 "granularity=%s,act_type=%s" % (gran, "int8" if s8 else "uint8"), calib)
        t = inits(m)
        ops = [n.op_type for n in m.graph.node]
        check("Relu" not in ops and ops.count("QuantizeLinear") == 2,
              label + ": Relu folded, QDQ on the input and the hidden activation (%s)" % ops)
        check(m.graph.output[0].name == "y" and
              not any(n.op_type == "QuantizeLinear" and n.input[0] == "y" for n in m.graph.node),
              label + ": the graph output stays float")
        axis1, axis2 = (0, 1) if gran == "channel" else (None, None)
        q1, s1 = weight_q(w1, axis1)
        q2, s2 = weight_q(w2, axis2)
        check(np.array_equal(t["w1_quantized"], q1) and np.array_equal(t["w1_scale"], s1) and
              t["w1_quantized"].dtype == np.int8 and not t["w1_zero_point"].any(),
              label + ": Gemm transB=1 weight codes and scales equal the numpy formula")
        check(np.array_equal(t["w2_quantized"], q2) and np.array_equal(t["w2_scale"], s2),
              label + ": Gemm transB=0 weight codes and scales (axis 1)")
        sx, zx = act_qparams(float(x.min()), float(x.max()), s8)
        check(t["x_scale"] == sx and int(t["x_zero_point"]) == zx,
              label + ": input scale/zero point %g/%d == numpy %g/%d" % (t["x_scale"], t["x_zero_point"], sx, zx))
        sr, zr = act_qparams(0.0, float(h.max()), s8)
        check(abs(float(t["r_scale"]) - sr) <= 1e-5 * sr and int(t["r_zero_point"]) == zr == (-128 if s8 else 0),
              label + ": Relu-output scale/zero point from the calibration maximum")
        qb1 = np.clip(np.round(b1.astype(np.float64) / (np.float64(sx) * s1.astype(np.float64)).astype(np.float32)),
                      -2**31, 2**31 - 1).astype(np.int32)
        check(np.array_equal(t["b1_quantized"], qb1) and t["b1_quantized"].dtype == np.int32,
              label + ": int32 bias = round(b / (input scale x weight scale))")
        # the QDQ semantics, simulated in numpy, against our executor
        xt = f32(rng.normal(0.3, 1.2, (50, 16)))
        wd1 = (t["w1_quantized"].astype(np.float32) * (s1[:, None] if axis1 == 0 else s1)).astype(np.float32)
        wd2 = (t["w2_quantized"].astype(np.float32) * (s2[None, :] if axis2 == 1 else s2)).astype(np.float32)
        bd1 = (t["b1_quantized"].astype(np.float32) * t["b1_scale"]).astype(np.float32)
        bd2 = (t["b2_quantized"].astype(np.float32) * t["b2_scale"]).astype(np.float32)
        hh = qdq_ref(qdq_ref(xt, t["x_scale"], int(t["x_zero_point"]), s8) @ wd1.T + bd1,
                     t["r_scale"], int(t["r_zero_point"]), s8)
        y_ref = hh @ wd2 + bd2
        y = execute(os.path.join(TMP, "mlp_q.onnx"), xt)
        err = np.abs(y - y_ref).max() / np.abs(y_ref).max()
        check(err < 1e-4, label + ": executor output equals the numpy QDQ simulation (rel %.1e)" % err)
    m = tool(path, os.path.join(TMP, "mlp_w.onnx"), "quantize-int8", "weights_only=true")
    ops = [n.op_type for n in m.graph.node]
    t = inits(m)
    check("QuantizeLinear" not in ops and ops.count("DequantizeLinear") == 2 and "Relu" in ops and
          t["b1"].dtype == np.float32, "quantize-int8 weights_only: only weight DequantizeLinear nodes (%s)" % ops)


# numpy implementations of the calibrators' definitions (int8_calibrate.h)

def hist_abs(x, n):
    ax = np.abs(x.astype(np.float64)).ravel()
    amax = ax.max()
    idx = np.minimum(np.floor(ax * (n / amax)), n - 1).astype(np.int64)
    return np.bincount(idx, minlength=n).astype(np.float64), amax


def ref_percentile(h, pct):
    c = np.cumsum(h)
    return int(np.argmax(c >= h.sum() * pct / 100.0)) + 1


def smooth_np(p):
    zeros = p == 0
    nz = p.size - zeros.sum()
    if nz == 0:
        return None
    eps1 = 1e-4 * zeros.sum() / nz
    p = np.where(zeros, 1e-4, p - eps1)
    if (p <= 0).any():
        return None
    return p / p.sum()


def ref_entropy(h, nq):
    n = len(h)
    best, best_kl = n, np.inf
    for k in range(nq, n + 1):
        sliced = h[:k]
        p = sliced.copy()
        p[k - 1] += h[k:].sum()
        merged = k // nq
        qb = np.array([sliced[j * merged:(j + 1) * merged].sum() for j in range(nq)])
        qb[-1] += sliced[nq * merged:].sum()
        q = np.zeros(k)
        for j in range(nq):
            start, stop = j * merged, (k if j == nq - 1 else j * merged + merged)
            nzm = p[start:stop] != 0
            if nzm.sum():
                q[start:stop] = np.where(nzm, qb[j] / nzm.sum(), 0)
        ps, qs = smooth_np(p), smooth_np(q)
        d = np.inf if ps is None or qs is None else float(np.sum(ps * np.log(ps / qs)))
        if d < best_kl:
            best, best_kl = k, d
    return best


def ref_mse(h, amax, lo_d, hi_d, levels):
    n = len(h)
    w = amax / n
    c = (np.arange(n) + 0.5) * w
    best, best_err = n, np.inf
    for k in range(1, n + 1):
        t = k * w
        lo, hi = max(-t, lo_d), min(t, hi_d)
        step = (hi - lo) / levels
        e = np.where(c > t, c - t, c - step * np.round(c / step) if step > 0 else c)
        err = float(np.sum(h * e * e))
        if err < best_err:
            best, best_err = k, err
    return best


def check_calibrators():
    # local_snr=0: the thresholds are checked; the local damage check would
    # keep the clipped heavy-tailed input float (tests/int8_guard_test.py)
    rng = np.random.default_rng(5)
    model, _ = mlp_model(rng)
    path = save(model, "mlp_cal.onnx")
    signed = f32(np.concatenate([rng.normal(0, 1, 3000), rng.standard_t(2, 200)]).reshape(200, 16))
    onesided = np.abs(signed)
    bins = 2048
    for label, x in (("signed", signed), ("non-negative", onesided)):
        calib = os.path.join(TMP, "cal_%s.npy" % label)
        np.save(calib, x)
        h, amax = hist_abs(x, bins)
        lo_d, hi_d = float(x.min()), float(x.max())
        one = lo_d >= 0
        refs = {"percentile": ref_percentile(h, 99.9), "entropy": ref_entropy(h, 256 if one else 128),
                "mse": ref_mse(h, amax, min(lo_d, 0.0), max(hi_d, 0.0), 255)}
        for cal, k in refs.items():
            m = tool(path, os.path.join(TMP, "cal_q.onnx"), "quantize-int8", "calib=%s,pct=99.9,local_snr=0" % cal,
                     calib)
            t = inits(m)
            thr = k * (amax / bins)
            s, z = act_qparams(max(-thr, lo_d), min(thr, hi_d), False)
            check(t["x_scale"] == s and int(t["x_zero_point"]) == z,
                  "calib=%s (%s data): threshold bin %d of %d -> scale %g zp %d; got %g %d"
                  % (cal, label, k, bins, s, z, t["x_scale"], t["x_zero_point"]))


# ------------------------------------------------------------ ONNX Runtime

def ort_run(model, x, level="all"):
    return ort_helper.ort_run(model, x, TMP, ORT_MODULES, level)


def load_fmnist():
    """make_test_data.py's test set and 500 calibration (training) images,
    normalized as the zoo was trained: (u8 / 255 - mean) / std."""
    d = os.path.join(TMP, "fmnist")
    run(["/usr/bin/python3", os.path.join(ZOO, "make_test_data.py"), "--out", d])
    norm = lambda u: ((u.astype(np.float32) / np.float32(255.0) - np.float32(0.2860)) / np.float32(0.3530))[:, None]
    return (norm(np.load(os.path.join(d, "calib_u8.npy"))), norm(np.load(os.path.join(d, "test_u8.npy"))),
            np.load(os.path.join(d, "test_labels.npy")).astype(np.int64))


def check_ort_zoo():
    have_ort = os.path.isdir(os.path.join(ORT_MODULES, "onnxruntime-node"))
    calib_x, xte, yte = load_fmnist()
    calib = os.path.join(TMP, "zoo_calib.npy")
    np.save(calib, calib_x)
    check_fold_zoo(xte[:500])
    if not have_ort:
        sys.exit("FAIL: %s/onnxruntime-node is not installed (scripts/setup_ort.sh installs it)" % ORT_MODULES)
    # 1000 test images keep the test short; benchmarks/int8_bench.py runs all
    # 10000. ONNX Runtime with graph optimizations disabled runs the QDQ
    # nodes as written (the semantics our executor implements); with all
    # optimizations it fuses them into integer kernels, whose 16-bit
    # saturation on x86 without VNNI needs reduce_range.
    xs, ys = xte[:1000], yte[:1000]
    for name in ("lenet300", "lenet5", "resnet8", "dscnn"):
        src = os.path.join(ZOO, name + ".onnx")
        if not os.path.exists(src):
            continue
        for params, level in (("granularity=channel", "disabled"),
                              ("granularity=tensor,calib=entropy,reduce_range=true", "all")):
            out = os.path.join(TMP, name + "_q.onnx")
            tool(src, out, "quantize-int8", params, calib)
            ours = execute(out, xs)
            theirs = ort_run(out, xs, level)
            t_ours = (ours.argmax(1) == ys).mean() * 100
            t_ort = (theirs.argmax(1) == ys).mean() * 100
            agree = (ours.argmax(1) == theirs.argmax(1)).mean() * 100
            rel = np.abs(ours - theirs).max() / np.abs(theirs).max()
            check(abs(t_ours - t_ort) <= 0.1 + 1e-9 and agree >= 99.5,
                  "%s %s (ORT optimization %s): top-1 ours %.1f vs ONNX Runtime %.1f on 1000 images, "
                  "agreement %.1f%%, max rel diff %.4f" % (name, params, level, t_ours, t_ort, agree, rel))


check_fold_synthetic()
check_quantize_formulas()
check_calibrators()
if "--no-zoo" not in sys.argv:
    check_ort_zoo()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
