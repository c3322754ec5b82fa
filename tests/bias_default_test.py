#!/usr/bin/python3
"""prune-magnitude with its default `correct` (auto) applies bias correction
when calibration data is given to a model without BatchNorm, and the biases
it writes equal an independent numpy computation; without calibration data
the biases stay as they were (issue 16: the corpus .lcm path).

A three-layer MLP (Gemm, Relu, Gemm, Relu, Gemm; random weights, inputs of
nonzero mean so that pruning shifts every layer's output mean), pruned 50%
by `shrink run --pass prune-magnitude:sparsity=0.5` with 32 calibration
samples (below the correction's 64-sample agreement gate, so it is always
kept). numpy, in float64, from the pruned weights the run wrote: layer by
layer, the new bias is the old one plus the mean over the calibration
samples of the float model's pre-activation output minus the pruned
model's, whose input comes from the layers before it already corrected
(the pass's wave order). The written biases must match to 1e-5 of the
largest |bias| (float32 sums over 32 samples); the shifts themselves are
checked to be far larger than that, so an uncorrected model fails.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHRINK = os.environ["SHRINK"]
TMP = tempfile.mkdtemp(prefix="bias_default_")
SIZES = [32, 24, 16, 10]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def make_model(path, rng):
    nodes, inits, x = [], [], "x"
    for i in range(3):
        w = rng.randn(SIZES[i + 1], SIZES[i]).astype(np.float32) / np.sqrt(SIZES[i])
        b = (0.1 * rng.randn(SIZES[i + 1])).astype(np.float32)
        inits += [numpy_helper.from_array(w, "w%d" % i), numpy_helper.from_array(b, "b%d" % i)]
        y = "y%d" % i
        nodes.append(helper.make_node("Gemm", [x, "w%d" % i, "b%d" % i], [y], name="fc%d" % i, transB=1))
        if i < 2:
            nodes.append(helper.make_node("Relu", [y], ["h%d" % i], name="relu%d" % i))
            x = "h%d" % i
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", SIZES[0]])],
                          [helper.make_tensor_value_info("y2", TensorProto.FLOAT, ["N", SIZES[-1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)


def params(path):
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(path).graph.initializer}


def expected_biases(p0, wp, x):
    """numpy: the corrected biases, layer by layer in order (float64)."""
    a_ref, a_got, out = x, x, {}
    for i in range(3):
        w, b = p0["w%d" % i], p0["b%d" % i]
        ref = a_ref @ w.T + b
        got = a_got @ wp["w%d" % i].T + b
        out["b%d" % i] = b + ref.mean(0) - got.mean(0)
        a_ref = np.maximum(ref, 0)
        a_got = np.maximum(a_got @ wp["w%d" % i].T + out["b%d" % i], 0)
    return out


def shrink_run(model, out, calib):
    cmd = [SHRINK, "run", model, "-o", out, "--quiet", "--pass", "prune-magnitude:sparsity=0.5"]
    if calib:
        cmd += ["--calib", calib]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))


def main():
    rng = np.random.RandomState(5)
    model = os.path.join(TMP, "mlp.onnx")
    make_model(model, rng)
    x = (rng.randn(32, SIZES[0]) + 0.8).astype(np.float32)
    calib = os.path.join(TMP, "calib.npy")
    np.save(calib, x)
    p0 = params(model)

    with_data, without = os.path.join(TMP, "with.onnx"), os.path.join(TMP, "without.onnx")
    shrink_run(model, with_data, calib)
    shrink_run(model, without, None)
    pw, pn = params(with_data), params(without)
    for i in range(3):
        k = "w%d" % i
        # the same pruning either way; the correction touches biases only
        check(np.array_equal(pw[k], pn[k]), "%s differs with and without calibration data" % k)
        check(np.all((pw[k] == p0[k]) | (pw[k] == 0)), "%s: kept weights changed" % k)
        check(np.array_equal(pn["b%d" % i], p0["b%d" % i]), "b%d changed without calibration data" % i)
    frac = sum((pw["w%d" % i] == 0).sum() for i in range(3)) / sum(p0["w%d" % i].size for i in range(3))
    check(abs(frac - 0.5) < 0.01, "sparsity %.3f, 0.5 asked" % frac)

    want = expected_biases(p0, pw, x.astype(np.float64))
    scale = max(np.abs(want[k]).max() for k in want)
    for k in sorted(want):
        err = np.abs(pw[k] - want[k]).max() / scale
        shift = np.abs(want[k] - p0[k]).max() / scale
        check(err < 1e-5, "%s: written bias off numpy's by %.3g (relative to max |bias|)" % (k, err))
        check(shift > 1e3 * 1e-5, "%s: the correction is too small to test (%.3g)" % (k, shift))
        print("%s: shift %.3g, written - numpy %.2g (relative to max |bias| %.3g)" % (k, shift, err, scale))


try:
    main()
finally:
    import shutil
    shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("the default correction matches numpy")
