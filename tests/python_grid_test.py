#!/usr/bin/python3
"""The 8-bit grid of biases (.lcm format 3.0) against a numpy reference.

The reference (float32 numpy, written here from the definition in
formats/LCM.md: s = max|v| / 127, v' = rint(v / s) * s) is compared bit for
bit with
- shrink.torch's rounding (_torch_lcm.grid8), on random vectors of many
  magnitudes;
- libcompress's (the huffman pass with small=i8) on a Conv + Gemm model's
  biases, through the binding;
and the written .lcm stores those biases a byte a value: the file is
smaller than with float16 biases by what the format says (1 byte instead
of 2 a value, plus 5 bytes of scale and zero point), and it decodes to
exactly the rounded values.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("LC_BUILD_DIR", os.path.join(SRC, "build"))
os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(BUILD, "libcompress.so"))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
import torch  # noqa: E402

import shrink  # noqa: E402
from shrink import _torch_lcm  # noqa: E402

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def grid_ref(v):
    v = np.asarray(v, dtype=np.float32)
    m = np.float32(np.max(np.abs(v)))
    if m == 0:
        return v.copy()
    s = np.float32(m / np.float32(127))
    q = np.rint(v / s).astype(np.int32)
    return q.astype(np.float32) * s


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def model_path(tmp, bias_a, bias_b):
    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    w2 = rng.standard_normal((10, 16 * 6 * 6)).astype(np.float32) * 0.1
    inits = [numpy_helper.from_array(w1, "c.w"), numpy_helper.from_array(bias_a, "c.b"),
             numpy_helper.from_array(w2, "fc.w"), numpy_helper.from_array(bias_b, "fc.b"),
             numpy_helper.from_array(np.array([-1, 16 * 6 * 6], dtype=np.int64), "shape")]
    nodes = [helper.make_node("Conv", ["x", "c.w", "c.b"], ["a"]),
             helper.make_node("Reshape", ["a", "shape"], ["f"]),
             helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], transB=1)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    p = os.path.join(tmp, "m.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), p)
    return p


def main():
    rng = np.random.default_rng(0)
    for k in range(400):
        n = int(rng.integers(1, 300))
        v = (rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-6, 3)).astype(np.float32)
        got = _torch_lcm.grid8(torch.from_numpy(v.copy())).numpy()
        if not same_bits(got, grid_ref(v)):
            fail(f"vector {k} ({n} values): shrink.torch's grid differs from the numpy reference")
            break
    with tempfile.TemporaryDirectory() as tmp:
        ba = (rng.standard_normal(16) * 0.7).astype(np.float32)
        bb = (rng.standard_normal(10) * 3.1).astype(np.float32)
        m = shrink.load(model_path(tmp, ba, bb))
        m.run_pass("huffman", {"small": "i8"})
        for name, ref in (("c.b", grid_ref(ba)), ("fc.b", grid_ref(bb))):
            if not same_bits(m.weight(name), ref):
                fail(f"{name}: libcompress's grid (huffman small=i8) differs from the numpy reference")
        grid_lcm = os.path.join(tmp, "grid.lcm")
        m.save(grid_lcm)
        h = shrink.load(model_path(tmp, ba.astype(np.float16).astype(np.float32),
                                   bb.astype(np.float16).astype(np.float32)))
        h.run_pass("huffman")
        half_lcm = os.path.join(tmp, "half.lcm")
        h.save(half_lcm)
        saved = os.path.getsize(half_lcm) - os.path.getsize(grid_lcm)
        expect = (16 + 10) * 2 - (16 + 10) - 2 * 5  # bytes a value 2 -> 1, 5 bytes of parameters a vector
        print(f".lcm with float16 biases {os.path.getsize(half_lcm)} bytes, on the grid {os.path.getsize(grid_lcm)}: "
              f"{saved} saved, {expect} expected")
        if saved != expect:
            fail(f"the grid saved {saved} bytes, the format says {expect}")
        back = shrink.load(grid_lcm)
        for name, ref in (("c.b", grid_ref(ba)), ("fc.b", grid_ref(bb))):
            if not same_bits(back.weight(name), ref):
                fail(f"{name}: the .lcm decodes to other bits than the rounded float view")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
