#!/usr/bin/python3
"""quantize-int8 on two graph shapes that broke or were left out (issue 16).

1. A weight and a bias shared by two Convs: each Conv gets its own int32
   bias (its scale depends on the Conv's input scale), so two
   DequantizeLinear nodes read the bias, and both were named
   "B_DequantizeLinear"; ONNX Runtime refuses a model with two nodes of one
   name. Node names must be unique and ONNX Runtime must run the model.
2. A ConvTranspose with group 2: its weight is [C_in, C_out/group, kH, kW],
   and the per-channel scales go on axis 1 (one per column j, shared by
   output channels j and j + C_out/group). The scales must equal numpy's
   max |W[:, j]| / 127, and the bias (C_out values) must become int32 with
   scale input scale x weight scale of column c mod C_out/group.

For both, ONNX Runtime's output on the int8 model must equal a torch
simulation of the QDQ graph built from the stored scales and zero points
(activations rounded half to even and clamped, weights and biases
dequantized) within 1e-5 relative to the output's largest value.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import collections
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import check, failures, ort_batch, run, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]


def save(nodes, inits, x_shape, y, y_shape, path):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)
    return path


def quantize(src, calib, tag):
    c, out = tmp_path(tag + "_calib.npy"), tmp_path(tag + "_int8.onnx")
    np.save(c, calib)
    r = run([SHRINK, "run", src, "-o", out, "--quiet", "--pass", "quantize-int8", "--calib", c])
    if not check(r.returncode == 0, "%s: quantize-int8 failed: %s" % (tag, r.stderr.strip())):
        return None, None
    m = onnx.load(out)
    onnx.checker.check_model(m)
    dup = [k for k, v in collections.Counter(n.name for n in m.graph.node).items() if v > 1]
    check(not dup, "%s: node names used twice: %s" % (tag, dup))
    return out, m


def tensors(m):
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}


def qdq(t, x, name):
    """Activation `name` through its QuantizeLinear/DequantizeLinear (uint8)."""
    s, z = float(t[name + "_scale"]), int(t[name + "_zero_point"])
    return (torch.clamp(torch.round(x / s) + z, 0, 255) - z) * s


def deq(t, m, out_name):
    """The float value a DequantizeLinear node with output `out_name` gives."""
    n = [k for k in m.graph.node if k.op_type == "DequantizeLinear" and k.output[0] == out_name][0]
    q, s, z = (t[i].astype(np.float64) for i in n.input)
    axis = [a.i for a in n.attribute if a.name == "axis"]
    if s.ndim == 1:
        shape = [1] * q.ndim
        shape[axis[0] if axis else 1] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    return torch.from_numpy(((q - z) * s).astype(np.float32)), n


def compare(tag, path, x, want):
    got = ort_batch([(path, {"x": x})])[0]
    if not check(not isinstance(got, str), "%s: ONNX Runtime refused the int8 model: %s" % (tag, str(got)[:300])):
        return
    err = np.abs(got[0] - want).max() / np.abs(want).max()
    check(err <= 1e-5, "%s: ONNX Runtime vs the torch QDQ simulation: %.3g of max |y|" % (tag, err))
    print("%s: max |ORT - torch QDQ simulation| %.2e of max |y|" % (tag, err))


def shared(rng):
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32) * 0.5
    b = rng.standard_normal(4).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["y1"], pads=[1, 1, 1, 1], name="c1"),
             helper.make_node("Conv", ["y1", "W", "B"], ["y2"], pads=[1, 1, 1, 1], name="c2")]
    src = save(nodes, {"W": w, "B": b}, [1, 4, 8, 8], "y2", [1, 4, 8, 8], tmp_path("shared.onnx"))
    path, m = quantize(src, rng.standard_normal((8, 4, 8, 8)).astype(np.float32), "shared")
    if not path:
        return
    t = tensors(m)
    convs = {n.name: n for n in m.graph.node if n.op_type == "Conv"}
    check(convs["c1"].input[2] != convs["c2"].input[2], "shared: each Conv reads its own bias DequantizeLinear")
    x = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    h = torch.from_numpy(x)
    for name, inp in (("c1", "x"), ("c2", "y1")):
        wd, _ = deq(t, m, convs[name].input[1])
        bd, _ = deq(t, m, convs[name].input[2])
        h = F.conv2d(qdq(t, h, inp), wd, bd, padding=1)
    compare("shared", path, x, h.numpy())


def grouped(rng):
    g, cin, cout_g = 2, 4, 3
    w = (rng.standard_normal((cin, cout_g, 2, 2)) * rng.uniform(0.1, 3, (cin, 1, 1, 1))).astype(np.float32)
    b = rng.standard_normal(g * cout_g).astype(np.float32)
    nodes = [helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], group=g, strides=[2, 2])]
    src = save(nodes, {"W": w, "B": b}, [1, cin, 5, 5], "y", [1, g * cout_g, 10, 10], tmp_path("convt.onnx"))
    path, m = quantize(src, rng.standard_normal((8, cin, 5, 5)).astype(np.float32), "grouped ConvTranspose")
    if not path:
        return
    t = tensors(m)
    ct = [n for n in m.graph.node if n.op_type == "ConvTranspose"][0]
    wd, wn = deq(t, m, ct.input[1])
    ws = t[wn.input[1]]
    want_s = (np.abs(w).max(axis=(0, 2, 3)).astype(np.float64) / 127).astype(np.float32)
    check([a.i for a in wn.attribute if a.name == "axis"] == [1] and np.array_equal(ws, want_s),
          "grouped ConvTranspose: weight scales on axis 1 = max |W[:, j]| / 127 (%s vs %s)" % (ws, want_s))
    if not check(len(ct.input) > 2 and ct.input[2] != "B", "grouped ConvTranspose: the bias is quantized"):
        return
    bd, bn = deq(t, m, ct.input[2])
    bs = t[bn.input[1]]
    want_bs = (np.float64(t["x_scale"]) * ws[np.arange(g * cout_g) % cout_g].astype(np.float64)).astype(np.float32)
    check(t[bn.input[0]].dtype == np.int32 and np.array_equal(bs, want_bs),
          "grouped ConvTranspose: int32 bias, scale x_scale * weight scale of column c mod C_out/group")
    x = rng.standard_normal((1, cin, 5, 5)).astype(np.float32)
    y = F.conv_transpose2d(qdq(t, torch.from_numpy(x), "x"), wd, bd, stride=2, groups=g)
    compare("grouped ConvTranspose", path, x, y.numpy())


def main():
    rng = np.random.default_rng(5)
    shared(rng)
    grouped(rng)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


main()
