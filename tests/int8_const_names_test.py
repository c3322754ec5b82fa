#!/usr/bin/python3
"""quantize-int8 names the tensors of a Constant-node weight after the
Constant's output (issue 16): the tensor of a Constant attribute has no
name of its own, so both weights' int8 codes, scales and zero points were
named "_quantized", "_scale", "_zero_point" and clashed.

A graph of two Convs whose weights are Constant nodes (PaddlePaddle
exports them so), and the same two weights again inside the then-branch
of an If (a subgraph's names must not repeat the main graph's), is
quantized weights-only per channel. Every name in the model must be
defined once, each quantized tensor's name must start with its Constant's
output name, and ONNX Runtime's outputs on the result must match numpy's
per-channel int8 reference (each output channel's weights rounded to
multiples of max|w| / 127) within 1e-5 relative to the output's largest
value.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import check, failures, ort_batch, run, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]


def const(name, a):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(a))


def int8_ref(w):
    s = np.abs(w).reshape(w.shape[0], -1).max(1) / 127
    s = np.where(s > 0, s, 1).astype(np.float32).reshape(-1, 1, 1, 1)
    return (np.clip(np.round(w / s), -127, 127) * s).astype(np.float32)


def convs(x, w1, w2):
    t = torch.relu(torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w1), padding=1))
    return torch.nn.functional.conv2d(t, torch.from_numpy(w2), padding=1).numpy()


def model(w1, w2):
    def body(p):  # Constant weights -> Conv -> Relu -> Conv, value names prefixed with p
        return [const(p + "w1", w1), const(p + "w2", w2),
                helper.make_node("Conv", ["x", p + "w1"], [p + "h"], pads=[1, 1, 1, 1]),
                helper.make_node("Relu", [p + "h"], [p + "r"]),
                helper.make_node("Conv", [p + "r", p + "w2"], [p + "y"], pads=[1, 1, 1, 1])]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    then_g = helper.make_graph(body("then_"), "then", [], [helper.make_tensor_value_info("then_y", TensorProto.FLOAT,
                                                                                         None)])
    else_g = helper.make_graph([helper.make_node("Identity", ["y"], ["else_y"])], "else", [],
                               [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, None)])
    nodes = body("") + [helper.make_node("If", ["c"], ["y_if"], then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "const_weights",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]),
                           helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                          [y, helper.make_tensor_value_info("y_if", TensorProto.FLOAT, None)])
    p = tmp_path("const_weights.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), p)
    return p


def defined_names(g, out):
    """Every value name a graph defines (inputs, initializers, node
    outputs), subgraphs included, in `out` (a list: repeats stay)."""
    out += [i.name for i in g.input] + [i.name for i in g.initializer]
    for n in g.node:
        out += [o for o in n.output if o]
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                defined_names(a.g, out)
    return out


def main():
    rng = np.random.default_rng(3)
    w1 = (rng.standard_normal((6, 3, 3, 3)) * rng.uniform(0.1, 2, (6, 1, 1, 1))).astype(np.float32)
    w2 = (rng.standard_normal((4, 6, 3, 3)) * rng.uniform(0.1, 2, (4, 1, 1, 1))).astype(np.float32)
    src = model(w1, w2)
    out = tmp_path("const_weights_int8.onnx")
    r = run([SHRINK, "run", src, "-o", out, "--quiet", "--pass", "quantize-int8:weights_only=true"])
    if not check(r.returncode == 0, "quantize-int8 failed: %s" % r.stderr.strip()):
        sys.exit(1)
    m = onnx.load(out)
    names = defined_names(m.graph, [])
    dup = sorted({n for n in names if names.count(n) > 1})
    check(not dup, "names defined more than once: %s" % dup)
    quantized = [n for n in names if n.endswith("_quantized")]
    bare = [n for n in quantized if not any(n.startswith(w) for w in ("w1", "w2", "then_w1", "then_w2"))]
    check(len(quantized) == 4 and not bare, "quantized tensors %s: expected one per Constant weight, named after it"
          % quantized)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = convs(x, int8_ref(w1), int8_ref(w2))
    got = ort_batch([(out, {"x": x, "c": np.array(True)})])[0]
    if not check(not isinstance(got, str), "ONNX Runtime refused the int8 model: %s" % str(got)[:300]):
        sys.exit(1)
    for k, name in enumerate(("y", "y_if (If branch)")):
        err = np.abs(got[k] - want).max() / np.abs(want).max()
        check(err <= 1e-5, "%s: ONNX Runtime on the int8 model is %.3g (relative to max) from numpy's int8 reference"
              % (name, err))
        print("%s: max |ORT - numpy int8 reference| %.2e of max |y|" % (name, err))
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


main()
