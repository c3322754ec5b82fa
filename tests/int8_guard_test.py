#!/usr/bin/python3
"""quantize-int8's local damage check (local_snr, passes/int8_guard.c).

A made-up net: a smooth, wide-range image (values 20..100) -> a Conv of
four 3x3 edge filters whose weights (up to ~100) sum to 0 -> a 1x1 Conv. The edge filters answer a smooth input
with a small output, while 8-bit rounding of their weights shifts their
sum (response to the flat level of ~60) and rounding of their input adds
white noise that ||w||^2 amplifies: quantized, that layer ruins the output.

Checked, with the SNR of the first output against the float model, both
computed by ONNX Runtime (bound 15 dB, as tests/corpus_test.py):
  - default quantize-int8: the log names the edge layer as kept float (its
    weights or its input), the other layers stay int8, and SNR >= 15 dB;
  - local_snr=0 (the check off, every layer quantized): SNR < 15 dB, so the
    model does need the check;
  - the same net with smoothing filters (positive weights) in place of the
    edge filters: nothing is kept float, and the default output is
    byte-identical to local_snr=0's.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import check, failures, ort_batch, run, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]
BOUND = 15.0
C, H = 4, 24


def images(n, rng):
    i, j = np.meshgrid(np.arange(H), np.arange(H), indexing="ij")
    out = []
    for _ in range(n):
        a, b, ph = rng.uniform(0.01, 0.03), rng.uniform(0.01, 0.03), rng.uniform(0, 6.3)
        out.append(60 + 40 * np.sin(a * i + b * j + ph))
    return np.asarray(out, np.float32)[:, None]


def model(dw, path):
    rng = np.random.default_rng(3)
    w3 = rng.normal(0, 1, (2, C, 1, 1)).astype(np.float32)
    inits = {"w2": dw, "b2": np.zeros(C, np.float32), "w3": w3}
    nodes = [helper.make_node("Conv", ["x", "w2", "b2"], ["h2"], name="edge"),
             helper.make_node("Conv", ["h2", "w3"], ["y"], name="head")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, H, H])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2, H - 2, H - 2])],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)
    return path


def edge_filters(rng):
    w = rng.normal(0, 40, (C, 1, 3, 3))
    w -= w.mean(axis=(2, 3), keepdims=True)  # sum 0: no response to a flat input
    return w.astype(np.float32)


def quantize(src, calib, spec, tag):
    out = tmp_path(tag + ".onnx")
    r = run([SHRINK, "run", src, "-o", out, "--verbose", "--pass", spec, "--calib", calib])
    check(r.returncode == 0, "%s: quantize-int8 failed: %s" % (tag, r.stderr.strip()[-300:]))
    return out, r.stdout + r.stderr


def snr_db(ref, got):
    ref, got = ref.astype(np.float64), got.astype(np.float64)
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))


def main():
    rng = np.random.default_rng(0)
    calib, val = tmp_path("calib.npy"), images(4, np.random.default_rng(1))
    np.save(calib, images(8, rng))
    edge = model(edge_filters(np.random.default_rng(2)), tmp_path("edge.onnx"))
    smooth = model(np.full((C, 1, 3, 3), 1 / 9, np.float32) * np.float32(1.5), tmp_path("smooth.onnx"))

    on, log = quantize(edge, calib, "quantize-int8", "edge_default")
    off, _ = quantize(edge, calib, "quantize-int8:local_snr=0", "edge_off")
    kept = [ln for ln in log.splitlines() if "layer 'edge'" in ln and ("stays float" in ln or "keeps its input" in ln)]
    check(len(kept) == 1, "the default keeps no part of layer 'edge' float; log:\n%s" % log[-800:])
    check("layer 'head'" not in log,
          "a well-conditioned layer was kept float; log:\n%s" % log[-800:])
    ops = [n.op_type for n in onnx.load(on).graph.node]
    check(ops.count("QuantizeLinear") >= 1, "the default int8 model quantizes no activation: %s" % ops)

    res = ort_batch([(edge, {"x": val}), (on, {"x": val}), (off, {"x": val})])
    for r, tag in zip(res, ("float", "default", "local_snr=0")):
        if not check(not isinstance(r, str), "ONNX Runtime refused the %s model: %s" % (tag, str(r)[:300])):
            sys.exit(1)
    s_on, s_off = snr_db(res[0][0], res[1][0]), snr_db(res[0][0], res[2][0])
    print("edge net: default %.1f dB (%s), local_snr=0 %.1f dB" % (s_on, kept[0].split(": ", 1)[-1][:60] if kept
                                                                   else "-", s_off))
    check(s_on >= BOUND, "default int8 SNR %.1f dB < %.0f" % (s_on, BOUND))
    check(s_off < BOUND, "with every layer quantized the SNR is %.1f dB >= %.0f: the net does not test the check"
          % (s_off, BOUND))

    on, log = quantize(smooth, calib, "quantize-int8", "smooth_default")
    off, _ = quantize(smooth, calib, "quantize-int8:local_snr=0", "smooth_off")
    check("stays float" not in log and "keeps its input" not in log, "smoothing net: a layer kept float:\n" + log)
    check(open(on, "rb").read() == open(off, "rb").read(), "smoothing net: the default differs from local_snr=0")
    print("smooth net: nothing kept float, identical to local_snr=0")
    if failures:
        sys.exit(1)
    print("PASS")


main()
