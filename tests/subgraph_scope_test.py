#!/usr/bin/python3
"""Subgraph names are scoped (ONNX IR: a subgraph's inputs, initializers
and node outputs shadow the enclosing graph's names). Models built with
onnx.helper where a body reuses the name of its own node's output in the
enclosing graph:
- Scan: body input `acc` and body node output `scanned` are also the Scan
  node's outputs;
- If: each branch computes a local `y`, the If node's output, and reads it;
- Loop: the loop-carried body input `v` is the Loop node's output.
ONNX Runtime runs them; shrink's executor (`shrink eval --out-all`) must run
them too (it said "the graph has a cycle") and give ONNX Runtime's outputs.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import check, close, failures, ort_batch, run, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]
T = numpy_helper.from_array
F = TensorProto.FLOAT


def save(name, nodes, inits, outputs):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", F, [2, 8])],
                          [helper.make_tensor_value_info(o, F, None) for o in outputs], inits)
    p = tmp_path(name + ".onnx")
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, p)
    return p


def scan_model(rng):
    body = helper.make_graph(
        [helper.make_node("MatMul", ["row", "w"], ["prod"]),
         helper.make_node("Add", ["acc", "prod"], ["acc_out"]),
         helper.make_node("Relu", ["prod"], ["scanned"]),
         helper.make_node("Neg", ["scanned"], ["scan_out"])],
        "body", [helper.make_tensor_value_info("acc", F, [8]), helper.make_tensor_value_info("row", F, [8])],
        [helper.make_tensor_value_info("acc_out", F, [8]), helper.make_tensor_value_info("scan_out", F, [8])])
    nodes = [helper.make_node("Scan", ["acc0", "x"], ["acc", "scanned"], body=body, num_scan_inputs=1)]
    inits = [T(rng.normal(0, 0.5, (8, 8)).astype(np.float32), "w"), T(np.ones(8, np.float32), "acc0")]
    return save("scan_scope", nodes, inits, ["scanned", "acc"])  # eval wants a batched first output


def if_model(rng):
    def branch(name, op):
        return helper.make_graph(
            [helper.make_node(op, ["x"], ["y"]), helper.make_node("Mul", ["y", "w"], ["b_out"])],
            name, [], [helper.make_tensor_value_info("b_out", F, None)])
    nodes = [helper.make_node("ReduceSum", ["x"], ["sum"], keepdims=0),
             helper.make_node("Greater", ["sum", "zero"], ["cond"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=branch("then", "Relu"),
                              else_branch=branch("else", "Neg")),
             helper.make_node("Add", ["y", "x"], ["z"])]
    inits = [T(np.array(0, np.float32), "zero"), T(rng.normal(0, 0.5, (2, 8)).astype(np.float32), "w")]
    return save("if_scope", nodes, inits, ["z", "y"])


def loop_model(rng):
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Mul", ["v", "w"], ["t"]),
         helper.make_node("Add", ["t", "x"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v", F, [2, 8])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", F, [2, 8])])
    nodes = [helper.make_node("Loop", ["trips", "", "x"], ["v"], body=body),
             helper.make_node("Relu", ["v"], ["z"])]
    inits = [T(np.array(3, np.int64), "trips"), T(rng.normal(0, 0.5, (2, 8)).astype(np.float32), "w")]
    return save("loop_scope", nodes, inits, ["z", "v"])


def main():
    rng = np.random.default_rng(16)
    cases = [("Scan", scan_model(rng), [rng.normal(0, 1, (2, 8)).astype(np.float32)]),
             ("If", if_model(rng), [np.abs(rng.normal(0, 1, (2, 8))).astype(np.float32),
                                    -np.abs(rng.normal(0, 1, (2, 8))).astype(np.float32)]),
             ("Loop", loop_model(rng), [rng.normal(0, 1, (2, 8)).astype(np.float32)])]
    jobs = [(p, {"x": x}) for _, p, xs in cases for x in xs]
    ref = ort_batch(jobs)
    k = 0
    for name, p, xs in cases:
        outs = [o.name for o in onnx.load(p).graph.output]
        for j, x in enumerate(xs):
            want = ref[k]
            k += 1
            what = "%s (input %d)" % (name, j)
            if not check(not isinstance(want, str), "%s: ONNX Runtime refused the model: %s" % (what, want)):
                continue
            xf, d = tmp_path("%s%d_x.npy" % (name, j)), tmp_path("%s%d_out" % (name, j))
            np.save(xf, x)
            r = run([SHRINK, "eval", p, "--data", xf, "--batch", str(x.shape[0]), "--out-all", d])
            if not check(r.returncode == 0, "%s: shrink eval: %s" % (what, r.stderr.strip())):
                continue
            for o, w in zip(outs, want):
                got = np.load(os.path.join(d, o + ".npy"))
                check(close(got.reshape(w.shape), w, 1e-5, 1e-6),
                      "%s: output %s differs from ONNX Runtime (max |diff| %g)" % (what, o,
                                                                                np.abs(got.reshape(w.shape) - w).max()))
            print("%s: shrink's executor matches ONNX Runtime on %s" % (what, ", ".join(outs)))
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
