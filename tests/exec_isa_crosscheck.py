#!/usr/bin/python3
"""Every SIMD level of the executor's kernels against ONNX Runtime.

The Conv kernels (direct, depthwise, epilogues) have generic, AVX2 and
AVX-512 instances chosen at run time; the environment variable LC_ISA caps
the choice (see README, "Kernel instruction sets"). This test writes, in the
layout of the ONNX backend tests, the zoo models (benchmarks/zoo) and small
Conv graphs whose shapes reach each kernel's register blocks and tails
(rows of up to 8, 9 to 16 and more than 16 outputs; strides 1 and 2;
depthwise; residual and activation epilogues) and Gemm's packed-weight
kernel (row blocks, column panels and tails), with ONNX Runtime's outputs
as the expected ones, and runs the conformance runner (argv[1]) on them
once per level this CPU has: every level must match ONNX Runtime.

    exec_isa_crosscheck.py CONFORMANCE
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_helper  # noqa: E402

SRC = os.environ.get("LC_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(os.environ.get("LC_BUILD_DIR", tempfile.gettempdir()), "exec_isa")
ORT_MODULES = os.path.join(SRC, "benchmarks", ".ort", "node_modules")


def conv_graph(name, c, hw, m, k, stride, pad, group=1, act=None, residual=False, seed=0):
    """X[N, c, hw, hw] -> Conv [-> + Conv(X) residual] [-> act] -> Flatten."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.standard_normal((m, c // group, k, k)).astype(np.float32) * 0.3, "W"),
             numpy_helper.from_array(rng.standard_normal(m).astype(np.float32), "B")]
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)
    nodes = [helper.make_node("Conv", ["X", "W", "B"], ["Y0"], **attrs)]
    last = "Y0"
    if residual:
        # a 1x1 projection of X with the same output shape, added to Y0
        inits.append(numpy_helper.from_array(rng.standard_normal((m, c, 1, 1)).astype(np.float32) * 0.3, "Wr"))
        nodes.append(helper.make_node("Conv", ["X", "Wr"], ["R"], kernel_shape=[1, 1], strides=[stride, stride]))
        crop = (hw + 2 * pad - k) // stride + 1
        assert crop == (hw - 1) // stride + 1, name
        nodes.append(helper.make_node("Add", [last, "R"], ["S"]))
        last = "S"
    if act == "relu":
        nodes.append(helper.make_node("Relu", [last], ["A"]))
        last = "A"
    elif act == "clip":
        inits += [numpy_helper.from_array(np.array(-0.5, np.float32), "lo"),
                  numpy_helper.from_array(np.array(0.75, np.float32), "hi")]
        nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["A"]))
        last = "A"
    elif act == "leaky":
        nodes.append(helper.make_node("LeakyRelu", [last], ["A"], alpha=0.1))
        last = "A"
    nodes.append(helper.make_node("Flatten", [last], ["Y"]))
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", c, hw, hw])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", None])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model, (c, hw, hw)


# name: (c, hw, m, k, stride, pad, group, act, residual)
CONVS = {
    "direct_ow28_m16": (16, 28, 16, 3, 1, 1, 1, "relu", True),
    "direct_ow30_m36": (8, 30, 36, 3, 1, 1, 1, None, False),
    "direct_ow12_m20": (5, 12, 20, 3, 1, 1, 1, "clip", True),
    "direct_ow17_s2_m13": (9, 33, 13, 5, 2, 2, 1, "leaky", False),
    "direct_ow7_m24": (10, 7, 24, 3, 1, 1, 1, "relu", True),
    "direct_ow4_s2_m9": (6, 8, 9, 3, 2, 1, 1, None, False),
    "direct_grouped": (12, 19, 18, 3, 1, 1, 3, "relu", False),
    "direct_ow6_m32": (8, 6, 32, 3, 1, 1, 1, "leaky", False),
    "direct_ow5_m16_res": (7, 5, 16, 3, 1, 1, 1, "relu", True),
    "direct_ow9_m48": (5, 9, 48, 3, 1, 1, 1, "clip", False),
    "direct_ow4_m64_s2": (16, 8, 64, 3, 2, 1, 1, None, False),
    "direct_grouped_m32": (8, 11, 64, 3, 1, 1, 2, "relu", False),
    "direct_s2_shortcut_m32": (16, 14, 32, 3, 2, 1, 1, "relu", True),
    "depthwise_ow20": (24, 20, 24, 3, 1, 1, 24, "relu", False),
    "depthwise_ow14_res": (16, 14, 16, 3, 1, 1, 16, "clip", True),
    "depthwise_ow8_s2": (16, 15, 16, 3, 2, 1, 16, "clip", False),
    "depthwise_ow37_k5": (8, 37, 8, 5, 1, 2, 8, "leaky", False),
    "depthwise_ow3_s2": (32, 5, 32, 3, 2, 1, 32, None, False),
}


def gemm_graph(name, k, n, relu, seed=0):
    """X[N, k] -> Gemm(transB=1, alpha, beta, C broadcast over rows) [-> Relu]:
    the executor packs a constant B at plan time (AVX-512)."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.standard_normal((n, k)).astype(np.float32) * 0.3, "W"),
             numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "C")]
    nodes = [helper.make_node("Gemm", ["X", "W", "C"], ["G"], transB=1, alpha=0.75, beta=1.5)]
    last = "G"
    if relu:
        nodes.append(helper.make_node("Relu", ["G"], ["Y"]))
        last = "Y"
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", k])],
                              [helper.make_tensor_value_info(last, TensorProto.FLOAT, ["N", n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model, (k,)


# name: (k, n, relu, batch): row blocks of 8, 4 and 1, panels of 32 and tails
GEMMS = {"gemm_k37_n45": (37, 45, True, 19), "gemm_k70_n32": (70, 32, False, 12), "gemm_k5_n100": (5, 100, True, 3)}


def isa_levels():
    """The levels this CPU has, best first (as lc_nn_isa decides)."""
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    levels = ["generic"]
    if {"avx2", "fma"} <= flags:
        levels.insert(0, "avx2")
        if {"avx512f", "avx512vl", "avx512bw", "avx512dq"} <= flags:
            levels.insert(0, "avx512")
    return levels


def write_case(folder, model, x, tmp):
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    y = ort_helper.ort_run(path, x, tmp, ORT_MODULES, "disabled")
    ds = os.path.join(folder, "test_data_set_0")
    with open(os.path.join(ds, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, model.graph.input[0].name).SerializeToString())
    with open(os.path.join(ds, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, model.graph.output[0].name).SerializeToString())


def main():
    conformance = sys.argv[1]
    if not os.path.isdir(ORT_MODULES):
        sys.exit("ONNX Runtime (onnxruntime-node) not found in %s" % ORT_MODULES)
    shutil.rmtree(OUT, ignore_errors=True)
    rng = np.random.default_rng(18)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (c, hw, m, k, s, p, group, act, res) in CONVS.items():
            model, shape = conv_graph(name, c, hw, m, k, s, p, group, act, res, seed=len(name))
            write_case(os.path.join(OUT, name), model, rng.uniform(-1, 1, (3,) + shape).astype(np.float32), tmp)
        for name, (k, n, relu, batch) in GEMMS.items():
            model, shape = gemm_graph(name, k, n, relu, seed=k)
            write_case(os.path.join(OUT, name), model, rng.uniform(-1, 1, (batch,) + shape).astype(np.float32), tmp)
        for name in ("lenet300", "lenet5", "resnet8", "dscnn"):
            model = onnx.load(os.path.join(SRC, "benchmarks", "zoo", name + ".onnx"))
            dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][1:]
            write_case(os.path.join(OUT, "zoo_" + name), model, rng.uniform(0, 1, [5] + dims).astype(np.float32), tmp)
    failed = []
    for isa in isa_levels():
        r = subprocess.run([conformance, "--verbose", OUT], env=dict(os.environ, LC_ISA=isa), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        print("LC_ISA=%s: exit %d\n%s" % (isa, r.returncode, r.stdout.strip()))
        if r.returncode != 0 or "pass" not in r.stdout.lower():
            failed.append(isa)
    if failed:
        sys.exit("executor differs from ONNX Runtime with LC_ISA=%s" % ",".join(failed))
    print("all levels match ONNX Runtime:", ", ".join(isa_levels()))


if __name__ == "__main__":
    main()
