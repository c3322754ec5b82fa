"""If, Loop and Scan whose subgraphs read run-time values of the enclosing
graph, against numpy, through the conformance runner.

The ONNX backend cases (run by the `conformance` test) cover these ops
with constant-only subgraph inputs; here the branches and bodies read a
graph input `x` that is only known at run time, If switches branch per
data set on one plan, and Scan runs backwards over axis 1. Every case must
pass without binding any input as a constant.
Usage: control_flow_test.py CONFORMANCE"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

conformance = sys.argv[1]
F = T.FLOAT
rng = np.random.default_rng(3)


def const(name, value):
    return h.make_node("Constant", [], [name], value=nh.from_array(np.asarray(value), name + "_v"))


def case(root, name, graph, opset, datasets):
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    d = os.path.join(root, name)
    os.makedirs(d)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for k, (ins, outs) in enumerate(datasets):
        ds = os.path.join(d, "test_data_set_%d" % k)
        os.makedirs(ds)
        for i, a in enumerate(ins):
            onnx.save_tensor(nh.from_array(a, graph.input[i].name), os.path.join(ds, "input_%d.pb" % i))
        for i, a in enumerate(outs):
            onnx.save_tensor(nh.from_array(a, graph.output[i].name), os.path.join(ds, "output_%d.pb" % i))


def if_case(root):
    then_g = h.make_graph([const("c1", np.float32([1, 2, 3])), h.make_node("Add", ["x", "c1"], ["t"])], "then", [],
                          [h.make_tensor_value_info("t", F, [3])])
    else_g = h.make_graph([const("c2", np.float32(-2)), h.make_node("Mul", ["x", "c2"], ["e"])], "else", [],
                          [h.make_tensor_value_info("e", F, [3])])
    g = h.make_graph([h.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)], "if_outer",
                     [h.make_tensor_value_info("cond", T.BOOL, []), h.make_tensor_value_info("x", F, [3])],
                     [h.make_tensor_value_info("y", F, [3])])
    data = []
    for c in (True, False, True):
        x = rng.standard_normal(3).astype(np.float32)
        data.append(([np.array(c), x], [x + np.float32([1, 2, 3]) if c else x * np.float32(-2)]))
    case(root, "if_outer", g, 13, data)


def loop_case(root):
    body = h.make_graph([h.make_node("Identity", ["c_in"], ["c_out"]), h.make_node("Add", ["s_in", "x"], ["s_out"]),
                         h.make_node("Mul", ["s_out", "s_out"], ["sq"])], "body",
                        [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("c_in", T.BOOL, []),
                         h.make_tensor_value_info("s_in", F, [2])],
                        [h.make_tensor_value_info("c_out", T.BOOL, []), h.make_tensor_value_info("s_out", F, [2]),
                         h.make_tensor_value_info("sq", F, [2])])
    g = h.make_graph([const("m", np.int64(4)), const("c", np.bool_(True)),
                      h.make_node("Loop", ["m", "c", "s0"], ["s", "stack"], body=body)], "loop_outer",
                     [h.make_tensor_value_info("s0", F, [2]), h.make_tensor_value_info("x", F, [2])],
                     [h.make_tensor_value_info("s", F, [2]), h.make_tensor_value_info("stack", F, [4, 2])])
    data = []
    for _ in range(2):
        s0, x = rng.standard_normal(2).astype(np.float32), rng.standard_normal(2).astype(np.float32)
        s, stack = s0, []
        for _ in range(4):
            s = s + x
            stack.append(s * s)
        data.append(([s0, x], [s, np.stack(stack)]))
    case(root, "loop_outer", g, 13, data)


def scan_case(root):
    body = h.make_graph([h.make_node("Mul", ["v", "x"], ["vx"]), h.make_node("Add", ["s_in", "vx"], ["s_out"]),
                         h.make_node("Identity", ["s_out"], ["o"])], "body",
                        [h.make_tensor_value_info("s_in", F, [2]), h.make_tensor_value_info("v", F, [2])],
                        [h.make_tensor_value_info("s_out", F, [2]), h.make_tensor_value_info("o", F, [2])])
    g = h.make_graph([h.make_node("Scan", ["s0", "seq"], ["s", "outs"], body=body, num_scan_inputs=1,
                                  scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[-1])],
                     "scan_outer",
                     [h.make_tensor_value_info("s0", F, [2]), h.make_tensor_value_info("seq", F, [2, 5]),
                      h.make_tensor_value_info("x", F, [2])],
                     [h.make_tensor_value_info("s", F, [2]), h.make_tensor_value_info("outs", F, [2, 5])])
    data = []
    for _ in range(2):
        s0, seq, x = (rng.standard_normal(sh).astype(np.float32) for sh in ((2,), (2, 5), (2,)))
        s, outs = s0, []
        for t in reversed(range(5)):
            s = s + seq[:, t] * x
            outs.append(s)
        data.append(([s0, seq, x], [s, np.stack(outs, axis=-1)]))
    case(root, "scan_outer", g, 13, data)


root = tempfile.mkdtemp(prefix="control_flow_")
if_case(root)
loop_case(root)
scan_case(root)
r = subprocess.run([conformance, "--require-all", "--verbose", root], capture_output=True, text=True)
print(r.stdout, r.stderr)
bound = [l for l in r.stdout.splitlines() if "bound as constants" in l]
if bound:
    print("FAIL: cases needed inputs bound as constants:", bound)
sys.exit(1 if r.returncode or bound or r.stdout.count("PASS ") != 3 else 0)
