#!/usr/bin/python3
"""Writes the .lcm format 1.0 fixtures of the backward-compatibility test
(tests/lcm_compat_test.py). Run once with the last shrink that wrote format
1.0 (commit 600365d): `make_fixtures.py LCM_TOOL SHRINK`; the format 2.0
fixtures in tests/data/lcm_v2 were made by the same script with the last
shrink that wrote 2.0 (commit 33287da): `make_fixtures.py LCM_TOOL SHRINK
tests/data/lcm_v2`. The files and
expected.json (sha256 of each file's `shrink decode` output at that
commit) are committed; this script documents how they were made.

The model is tiny and seeded: Conv(1->8, 3x3) + BatchNormalization + Relu,
a depthwise Conv, Gemm(..->10) and an int64 Constant, so that every store
kind (RAW, F32, F16, UNIFORM, CODEBOOK, BINARY), both sparsity streams and
both codings appear across the fixtures."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = sys.argv[3] if len(sys.argv) > 3 else os.path.dirname(os.path.abspath(__file__))
tool, shrink = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)


def t(name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


inits = [t("c1.w", (8, 1, 3, 3)), t("c1.b", (8,)), t("bn.s", (8,), 1.0), t("bn.b", (8,)), t("bn.m", (8,)),
         numpy_helper.from_array(np.abs(rng.standard_normal(8)).astype(np.float32) + 0.5, "bn.v"),
         t("dw.w", (8, 1, 3, 3)), t("dw.b", (8,)), t("fc.w", (10, 8 * 4 * 4)),
         numpy_helper.from_array((rng.standard_normal(10) * 0.3).astype(np.float16).astype(np.float32), "fc.b"),
         numpy_helper.from_array(np.array([-1, 128], dtype=np.int64), "shape")]
nodes = [helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["a"], pads=[1, 1, 1, 1], name="c1"),
         helper.make_node("BatchNormalization", ["a", "bn.s", "bn.b", "bn.m", "bn.v"], ["b"], name="bn"),
         helper.make_node("Relu", ["b"], ["c"], name="r"),
         helper.make_node("Conv", ["c", "dw.w", "dw.b"], ["d"], group=8, strides=[2, 2], pads=[1, 1, 1, 1], name="dw"),
         helper.make_node("Reshape", ["d", "shape"], ["e"], name="flat"),
         helper.make_node("Gemm", ["e", "fc.w", "fc.b"], ["y"], transB=1, name="fc")]
g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="fixture")
onnx.save(m, os.path.join(here, "tiny.onnx"))
jobs = {
    "plain": [],
    "kmeans_huffman": ["prune-magnitude:sparsity=0.6,scope=layer", "quantize-kmeans:bits=3,granularity=channel",
                       "huffman"],
    "kmeans_tensor": ["prune-magnitude:sparsity=0.3,scope=layer", "quantize-kmeans:bits=4"],
    "binary": ["binarize:first_last=true"],
    "sparse95": ["prune-magnitude:sparsity=0.95,scope=layer", "quantize-kmeans:bits=2", "huffman"],
    "pruned_float": ["prune-magnitude:sparsity=0.9,scope=layer"],
}
# UNIFORM needs calibration data (SparseGPT's joint mode on a uniform grid):
# through `shrink run`.
calib = os.path.join(here, "calib.npy")
np.save(calib, rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
runs = {"uniform": ["prune-hessian:sparsity=0.5,bits=4,grid=uniform,correct=none", "huffman"]}
expected = {}
for name, passes in jobs.items():
    lcm = os.path.join(here, name + ".lcm")
    subprocess.run([tool, "encode", os.path.join(here, "tiny.onnx"), lcm] + passes, check=True)
    onnx_out = os.path.join(here, name + ".decoded.onnx")
    subprocess.run([shrink, "decode", lcm, "-o", onnx_out], check=True)
    expected[name + ".lcm"] = hashlib.sha256(open(onnx_out, "rb").read()).hexdigest()
    os.remove(onnx_out)
for name, passes in runs.items():
    lcm = os.path.join(here, name + ".lcm")
    cmd = [shrink, "run", os.path.join(here, "tiny.onnx"), "-o", lcm, "--calib", calib, "--quiet"]
    for p in passes:
        cmd += ["--pass", p]
    subprocess.run(cmd, check=True)
    onnx_out = os.path.join(here, name + ".decoded.onnx")
    subprocess.run([shrink, "decode", lcm, "-o", onnx_out], check=True)
    expected[name + ".lcm"] = hashlib.sha256(open(onnx_out, "rb").read()).hexdigest()
    os.remove(onnx_out)
os.remove(calib)
json.dump(expected, open(os.path.join(here, "expected.json"), "w"), indent=1, sort_keys=True)
print(expected)
