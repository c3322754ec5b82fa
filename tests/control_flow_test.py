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


def guarded_then(root=None):
    """An If whose then branch cannot be planned for this x (Reshape of 3
    values to [2, -1]), as exporters guard paths for other input sizes:
    planned anyway, it must run while the data takes the else branch."""
    then_g = h.make_graph([const("s", np.int64([2, -1])), h.make_node("Reshape", ["x", "s"], ["t"])], "then", [],
                          [h.make_tensor_value_info("t", F, [3])])
    else_g = h.make_graph([const("c2", np.float32(-2)), h.make_node("Mul", ["x", "c2"], ["e"])], "else", [],
                          [h.make_tensor_value_info("e", F, [3])])
    g = h.make_graph([h.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)], "if_guarded",
                     [h.make_tensor_value_info("cond", T.BOOL, []), h.make_tensor_value_info("x", F, [3])],
                     [h.make_tensor_value_info("y", F, [3])])
    if root:
        xs = [rng.standard_normal(3).astype(np.float32) for _ in range(2)]
        case(root, "if_guarded", g, 13, [([np.array(False), x], [x * np.float32(-2)]) for x in xs])
    return g


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


def identity_body(n_inputs=3):
    ins = [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("c_in", T.BOOL, []),
           h.make_tensor_value_info("s_in", F, [2])][:n_inputs]
    return h.make_graph([h.make_node("Identity", ["c_in"], ["c_out"]), h.make_node("Identity", ["s_in"], ["s_out"]),
                         h.make_node("Identity", ["s_in"], ["sc"])], "body", ins,
                        [h.make_tensor_value_info("c_out", T.BOOL, []), h.make_tensor_value_info("s_out", F, [2]),
                         h.make_tensor_value_info("sc", F, [2])])


def loop_count_graph(m, body):
    return h.make_graph([const("m", np.int64(m)), h.make_node("Loop", ["m", "", "s0"], ["s", "stack"], body=body)],
                        "loop_count", [h.make_tensor_value_info("s0", F, [2])],
                        [h.make_tensor_value_info("s", F, [2]), h.make_tensor_value_info("stack", F, [max(m, 0), 2])])


def bad_cases(root):
    """Models the executor must refuse with a message, not crash on."""
    s0 = np.float32([1, 2])
    then_g = h.make_graph([const("t", np.float32([1]))], "then", [], [h.make_tensor_value_info("t", F, [1])])
    g = h.make_graph([h.make_node("If", ["c"], ["y"], then_branch=then_g)], "if_no_else",
                     [h.make_tensor_value_info("c", T.BOOL, [])], [h.make_tensor_value_info("y", F, [1])])
    yield "if_no_else", g, 13, [np.array(True)], "else_branch"
    # the guarded branch taken: its planning error, at run time
    yield "if_guarded_taken", guarded_then(), 13, [np.array(True), np.float32([1, 2, 3])], "then branch"
    sb = h.make_graph([h.make_node("Add", ["a", "b"], ["o"]), h.make_node("Identity", ["o"], ["p"])], "sb",
                      [h.make_tensor_value_info("a", F, [2]), h.make_tensor_value_info("b", F, [2])],
                      [h.make_tensor_value_info("o", F, [2]), h.make_tensor_value_info("p", F, [2])])
    io = ([h.make_tensor_value_info("s0", F, [2]), h.make_tensor_value_info("x", F, [3, 2])],
          [h.make_tensor_value_info("s", F, [2]), h.make_tensor_value_info("y", F, [3, 2])])
    x = np.ones((3, 2), np.float32)
    g = h.make_graph([h.make_node("Scan", ["s0", "x"], ["s", "y"], body=sb, num_scan_inputs=1, scan_input_axes=[5])],
                     "scan_bad_axis", *io)
    yield "scan_bad_axis", g, 13, [s0, x], "scan_input_axes"
    g = h.make_graph([h.make_node("Scan", ["s0", "x"], ["s", "y"], body=sb, num_scan_inputs=7)], "scan_too_many", *io)
    yield "scan_too_many", g, 13, [s0, x], "num_scan_inputs"
    g = h.make_graph([h.make_node("Scan", ["", "s0", "x"], ["s", "y"], body=sb, num_scan_inputs=1)], "scan8_rank0",
                     [h.make_tensor_value_info("s0", F, [1, 2]), h.make_tensor_value_info("x", F, [])],
                     [h.make_tensor_value_info("s", F, [1, 2]), h.make_tensor_value_info("y", F, [1, 3, 2])])
    yield "scan8_rank0", g, 8, [np.float32([[1, 2]]), np.float32(1)], "rank 0"


root = tempfile.mkdtemp(prefix="control_flow_")
if_case(root)
guarded_then(root)
loop_case(root)
scan_case(root)
# a trip count of 0 or less runs no iteration (empty scan output)
s0 = np.float32([1, 2])
case(root, "loop_zero", loop_count_graph(-1, identity_body()), 13, [([s0], [s0, np.zeros((0, 2), np.float32)])])
case(root, "loop_three", loop_count_graph(3, identity_body()), 13, [([s0], [s0, np.stack([s0] * 3)])])
r = subprocess.run([conformance, "--require-all", "--verbose", root], capture_output=True, text=True)
print(r.stdout, r.stderr)
bound = [l for l in r.stdout.splitlines() if "bound as constants" in l]
ok = r.returncode == 0 and not bound and r.stdout.count("PASS ") == 6
if bound:
    print("FAIL: cases needed inputs bound as constants:", bound)
bad_root = tempfile.mkdtemp(prefix="control_flow_bad_")
for name, g, opset, ins, word in bad_cases(bad_root):
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 7
    d = os.path.join(bad_root, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, a in enumerate(ins):
        onnx.save_tensor(nh.from_array(a, g.input[i].name), os.path.join(d, "test_data_set_0", "input_%d.pb" % i))
    for i, o in enumerate(g.output):  # placeholders: a refusal at run time is reached only with outputs to compare
        dims = [x.dim_value for x in o.type.tensor_type.shape.dim]
        onnx.save_tensor(nh.from_array(np.zeros(dims, np.float32), o.name),
                         os.path.join(d, "test_data_set_0", "output_%d.pb" % i))
    r = subprocess.run([conformance, d], capture_output=True, text=True)
    refused = r.returncode == 1 and "FAIL" in r.stdout and "LC_ERR_" in r.stdout and word in r.stdout
    print("%s: %s" % (name, r.stdout.strip().splitlines()[0] if r.stdout.strip() else r.stderr.strip()))
    if not refused:
        print("FAIL: %s was not refused with a message naming '%s' (exit %d)" % (name, word, r.returncode))
        ok = False
sys.exit(0 if ok else 1)
