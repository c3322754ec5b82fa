#!/usr/bin/python3
"""shrink eval --out / --out-all keep each output's shape (issue 16 item 6).

A detection-like model with outputs det [N, 4420, 2] (float), cls [N, 4420]
(int64 ArgMax) and tot (a scalar over the whole batch) is evaluated on 5
samples in batches of 2: --out must be det with shape 5x4420x2 and
--out-all must hold det and cls, each equal to ONNX Runtime's outputs on the
same data; tot has no batch dim, so it needs one batch over all samples
(else exit 2 naming it, nothing written), and is then ONNX Runtime's value.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import TMP, check, close, failures, ort_batch, run  # noqa: E402

SHRINK = os.environ["SHRINK"]


def main():
    nodes = [helper.make_node("Sigmoid", ["x"], ["det"]),
             helper.make_node("ArgMax", ["x"], ["cls"], axis=2, keepdims=0),
             helper.make_node("ReduceSum", ["x"], ["tot"], keepdims=0)]
    g = helper.make_graph(nodes, "det", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4420, 2])],
                          [helper.make_tensor_value_info("det", TensorProto.FLOAT, ["N", 4420, 2]),
                           helper.make_tensor_value_info("cls", TensorProto.INT64, ["N", 4420]),
                           helper.make_tensor_value_info("tot", TensorProto.FLOAT, [])])
    model = os.path.join(TMP, "det.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    x = np.random.default_rng(4).normal(size=(5, 4420, 2)).astype(np.float32)
    xin = os.path.join(TMP, "x.npy")
    np.save(xin, x)
    ref = ort_batch([(model, {"x": x})])[0]
    if not check(isinstance(ref, list), "ONNX Runtime: %s" % ref):
        return
    out, folder = os.path.join(TMP, "first.npy"), os.path.join(TMP, "all")
    r = run([SHRINK, "eval", model, "--data", xin, "--batch", "2", "--out", out])
    if check(r.returncode == 0, "eval --out: %s" % r.stderr.strip()):
        got = np.load(out)
        check(got.shape == (5, 4420, 2), "--out shape %s, not 5x4420x2" % (got.shape,))
        check(close(got, ref[0]), "--out differs from ONNX Runtime")
    # tot has no batch dim: refused with batches of 2, nothing written
    r = run([SHRINK, "eval", model, "--data", xin, "--batch", "2", "--out-all", folder])
    check(r.returncode == 2 and "'tot'" in r.stderr and "--batch 5" in r.stderr and not os.path.exists(folder),
          "--out-all with an unbatched output over several batches: exit 2 naming it (got %d: %s)" %
          (r.returncode, r.stderr.strip()))
    r = run([SHRINK, "eval", model, "--data", xin, "--batch", "5", "--out-all", folder])
    if check(r.returncode == 0, "eval --out-all: %s" % r.stderr.strip()):
        for name, want in zip(("det", "cls", "tot"), ref):
            path = os.path.join(folder, name + ".npy")
            if check(os.path.exists(path), "--out-all wrote no %s" % path):
                got = np.load(path)
                check(got.shape == want.shape and got.dtype == (np.int64 if name == "cls" else np.float32),
                      "%s: %s %s, ONNX Runtime %s" % (name, got.dtype, got.shape, want.shape))
                check(close(got, want, 1e-5, 1e-3 if name == "tot" else 1e-6), "%s differs from ONNX Runtime" % name)
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("eval output checks passed")


if __name__ == "__main__":
    main()
