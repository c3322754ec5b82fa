#!/usr/bin/python3
"""--feed and --input-shape (issue 16 items 5 and 2).

--feed: a voice-activity-like model with inputs `input` [N, 64] (batched
data), `state` [2, 1, 16] (an RNN state, no batch) and `sr` (a 0-d int64
sample rate). eval with both fed must give ONNX Runtime's outputs (batches
of 3 over 8 samples); run (prune-magnitude with validation, quantize-int8
with calibration) and sensitivity must work with them, and the compressed
models must run in ONNX Runtime with the same feeds.

--input-shape: an OCR-like model whose input is [1, 3, 8, W] (W symbolic).
prune-structured needs the shape: without it (and without data) exit 2
naming the dim; with --input-shape x=1x3x8x20, with --calib data of width
20, or with only --val data of width 20, the result must equal, tensor for
tensor, prune-structured on a copy of the model whose W is fixed to 20 (the
reference), and run in ONNX Runtime like shrink's executor.

Bad input: --feed/--input-shape of an unknown input, a shape of the wrong
rank, a float .npy fed to an int64 input: exit 2 naming them.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import TMP, check, close, failures, ort_batch, run  # noqa: E402

SHRINK = os.environ["SHRINK"]
T = numpy_helper.from_array


def path(name):
    return os.path.join(TMP, name)


def save_npy(name, a):
    np.save(path(name), a)
    return path(name)


def vad_model(rng):
    inits = [T(rng.normal(0, 0.3, (64, 16)).astype(np.float32), "w1"),
             T(rng.normal(0, 0.3, (16, 2)).astype(np.float32), "w2"),
             T(np.array(16000.0, np.float32), "base")]
    nodes = [helper.make_node("MatMul", ["input", "w1"], ["h"], name="fc1"),
             helper.make_node("ReduceMean", ["state"], ["s"], axes=[0, 1], keepdims=0),
             helper.make_node("Add", ["h", "s"], ["h2"]),
             helper.make_node("Cast", ["sr"], ["srf"], to=TensorProto.FLOAT),
             helper.make_node("Div", ["srf", "base"], ["scale"]),
             helper.make_node("Relu", ["h2"], ["r"]),
             helper.make_node("Mul", ["r", "scale"], ["r2"]),
             helper.make_node("MatMul", ["r2", "w2"], ["prob"], name="fc2")]
    g = helper.make_graph(nodes, "vad", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 64]),
                                         helper.make_tensor_value_info("state", TensorProto.FLOAT, [2, 1, 16]),
                                         helper.make_tensor_value_info("sr", TensorProto.INT64, [])],
                          [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 2])], inits)
    p = path("vad.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), p)
    return p


def check_feed():
    rng = np.random.default_rng(8)
    model = vad_model(rng)
    x = rng.normal(0, 1, (8, 64)).astype(np.float32)
    state = rng.normal(0, 1, (2, 1, 16)).astype(np.float32)
    sr = np.array(8000, np.int64)
    xf, sf, rf = save_npy("x.npy", x), save_npy("state.npy", state), save_npy("sr.npy", sr)
    feeds = ["--feed", "state=" + sf, "--feed", "sr=" + rf]
    ref = ort_batch([(model, {"input": x, "state": state, "sr": sr})])[0]
    if not check(isinstance(ref, list), "ONNX Runtime on the VAD model: %s" % ref):
        return
    out = path("prob.npy")
    r = run([SHRINK, "eval", model, "--data", xf, "--batch", "3", "--out", out] + feeds)
    if check(r.returncode == 0, "eval --feed: %s" % r.stderr.strip()):
        check(close(np.load(out), ref[0], 1e-5, 1e-5), "eval --feed differs from ONNX Runtime")
    jobs = []
    for label, extra in (("prune", ["--pass", "prune-magnitude:sparsity=0.5", "--val", xf, "--max-drop", "100"]),
                         ("int8", ["--pass", "quantize-int8", "--calib", xf])):
        o = path("vad_%s.onnx" % label)
        r = run([SHRINK, "run", model, "-o", o, "--quiet"] + extra + feeds)
        # a random net pruned may collapse: written, exit 1 (shrink's rule)
        if check(r.returncode == 0 or (r.returncode == 1 and "collapsed" in r.stderr),
                 "run %s --feed: %s" % (label, r.stderr.strip())):
            jobs.append((label, o))
    res = ort_batch([(o, {"input": x, "state": state, "sr": sr}) for _, o in jobs])
    for (label, o), got in zip(jobs, res):
        if check(isinstance(got, list), "ONNX Runtime on the %s model: %s" % (label, got)):
            r = run([SHRINK, "eval", o, "--data", xf, "--out", out] + feeds)
            if check(r.returncode == 0, "eval of the %s model: %s" % (label, r.stderr.strip())):
                check(close(np.load(out), got[0], 1e-4, 1e-4), "%s model: shrink and ONNX Runtime differ" % label)
    r = run([SHRINK, "sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5,0.9", "--val", xf, "--json"]
            + feeds)
    check(r.returncode == 0 and '"layers"' in r.stdout, "sensitivity --feed: %s" % r.stderr.strip())
    # bad input
    for label, args, needles in (
            ("unknown feed", ["--feed", "nope=" + sf, "--feed", "sr=" + rf], ["'nope'"]),
            ("float fed to int64", ["--feed", "state=" + sf, "--feed", "sr=" + sf], [sf, "int64"]),
            ("missing feed", ["--feed", "state=" + sf], ["--data"])):
        r = run([SHRINK, "eval", model, "--data", xf] + args)
        check(r.returncode == 2 and all(n in r.stderr for n in needles),
              "eval %s: exit 2 naming %s (got %d: %s)" % (label, needles, r.returncode, r.stderr.strip()))


def ocr_model(rng, width):
    inits = [T(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w1"),
             T(rng.normal(0, 0.1, 8).astype(np.float32), "b1"),
             T(rng.normal(0, 0.3, (6, 8, 3, 3)).astype(np.float32), "w2"),
             T(rng.normal(0, 0.1, 6).astype(np.float32), "b2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             helper.make_node("ReduceMean", ["c2"], ["y"], axes=[2], keepdims=0)]
    g = helper.make_graph(nodes, "ocr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, width])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, width])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def inits_of(p):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(p).graph.initializer}


def check_shape():
    dyn, fixed = path("ocr.onnx"), path("ocr20.onnx")
    onnx.save(ocr_model(np.random.default_rng(9), "W"), dyn)
    onnx.save(ocr_model(np.random.default_rng(9), 20), fixed)
    x = np.random.default_rng(10).normal(0, 1, (4, 3, 8, 20)).astype(np.float32)
    xf = save_npy("ocr_x.npy", x)
    ps = ["--pass", "prune-structured:ratio=0.5,correct=none", "--quiet"]
    r = run([SHRINK, "run", dyn, "-o", path("o.onnx")] + ps)
    check(r.returncode == 2 and "'x'" in r.stderr and "symbolic" in r.stderr and not os.path.exists(path("o.onnx")),
          "prune-structured on a symbolic width without a shape: exit 2 naming it (got %d: %s)" %
          (r.returncode, r.stderr.strip()))
    ref_out = path("ref.onnx")
    r = run([SHRINK, "run", fixed, "-o", ref_out] + ps)
    if not check(r.returncode == 0, "prune-structured on the fixed-width reference: %s" % r.stderr.strip()):
        return
    ref = inits_of(ref_out)
    for label, extra in (("--input-shape", ["--input-shape", "x=1x3x8x20"]), ("--calib", ["--calib", xf]),
                         ("--val", ["--val", xf, "--max-drop", "100"])):
        o = path("ocr_%s.onnx" % label.strip("-"))
        r = run([SHRINK, "run", dyn, "-o", o] + ps + extra)
        if not check(r.returncode == 0 or (r.returncode == 1 and "collapsed" in r.stderr),
                     "prune-structured with %s: %s" % (label, r.stderr.strip())):
            continue
        got = inits_of(o)
        check(got.keys() == ref.keys() and all(np.array_equal(got[k], ref[k]) for k in ref),
              "prune-structured with %s differs from the fixed-width reference" % label)
        check(onnx.load(o).graph.input[0].type.tensor_type.shape.dim[3].dim_param == "W",
              "%s: the written model keeps its symbolic width" % label)
        out = path("ocr_y.npy")
        r = run([SHRINK, "eval", o, "--data", xf, "--out", out] + extra[:2] * (label == "--input-shape"))
        got_ort = ort_batch([(o, {"x": x})])[0]
        if check(r.returncode == 0 and isinstance(got_ort, list), "eval/ONNX Runtime of the %s result: %s %s" %
                 (label, r.stderr.strip(), got_ort if isinstance(got_ort, str) else "")):
            check(close(np.load(out), got_ort[0], 1e-4, 1e-5), "%s result: shrink and ONNX Runtime differ" % label)
    for label, args, needles in (("unknown input", ["--input-shape", "z=1x3x8x20"], ["'z'"]),
                                 ("wrong rank", ["--input-shape", "x=1x3x20"], ["'x'", "rank 4"]),
                                 ("bad dims", ["--input-shape", "x=1x3xWx20"], ["--input-shape"])):
        r = run([SHRINK, "run", dyn, "-o", path("bad.onnx")] + ps + args)
        check(r.returncode == 2 and all(n in r.stderr for n in needles),
              "run %s: exit 2 naming %s (got %d: %s)" % (label, needles, r.returncode, r.stderr.strip()))


if __name__ == "__main__":
    check_feed()
    check_shape()
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("input checks passed")
