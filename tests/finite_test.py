#!/usr/bin/python3
"""Finite-weight check only where it matters (issue 16 item 3).

Models with legitimate infinities compress: a mel-spectrogram-like front end
(Clip with an +Inf max, then Log, then a MatMul filterbank) and an
attention-like block (a -Inf mask added before Softmax, a Max with a -Inf
floor). For each, `shrink run` with prune-magnitude must succeed, keep the
infinite tensors as they were, prune the MatMul weight as numpy's magnitude
ranking does, and the written model must give in ONNX Runtime what shrink's
executor gives. Infinities that the compressed layers or a product would
turn into NaN, and NaN anywhere computed with, are still refused (exit 2
naming the tensor and the node).

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import TMP, check, close, failures, magnitude_prune, ort_batch, run  # noqa: E402

SHRINK = os.environ["SHRINK"]


def save(name, nodes, inits, x_shape, y_shape):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + x_shape[1:])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"] + y_shape[1:])],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    path = os.path.join(TMP, name + ".onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def mel_model(rng, inf_in=None):
    inits = {"lo": np.array(1e-10, np.float32), "hi": np.array(np.inf, np.float32),
             "fb": rng.normal(0, 1, (16, 8)).astype(np.float32), "gain": np.full((8,), 2.0, np.float32)}
    if inf_in:
        inits[inf_in][..., 3] = np.inf
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="clamp"),
             helper.make_node("Log", ["c"], ["l"]),
             helper.make_node("MatMul", ["l", "fb"], ["m"], name="filterbank"),
             helper.make_node("Mul", ["m", "gain"], ["y"], name="scale")]
    return nodes, inits


def attention_model(rng, nan_mask=False):
    mask = np.zeros((6, 6), np.float32)
    mask[np.triu_indices(6, 1)] = -np.inf
    if nan_mask:
        mask[0, 0] = np.nan
    inits = {"wq": rng.normal(0, 1, (6, 6)).astype(np.float32), "mask": mask,
             "floor": np.array(-np.inf, np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "wq"], ["s"], name="scores"),
             helper.make_node("Max", ["s", "floor"], ["f"], name="floor_max"),
             helper.make_node("Add", ["f", "mask"], ["a"], name="masked"),
             helper.make_node("Softmax", ["a"], ["y"], axis=-1)]
    return nodes, inits


def check_accepted(name, nodes, inits, x, weight, y_shape):
    path = save(name, nodes, inits, list(x.shape), y_shape)
    out = os.path.join(TMP, name + "_pruned.onnx")
    r = run([SHRINK, "run", path, "-o", out, "--pass", "prune-magnitude:sparsity=0.5", "--quiet"])
    if not check(r.returncode == 0, "%s: compressing must succeed: %s" % (name, r.stderr.strip())):
        return
    got = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    for k, v in inits.items():
        if k != weight:
            check(np.array_equal(got[k], v, equal_nan=True), "%s: tensor '%s' changed" % (name, k))
    check(np.array_equal(got[weight], magnitude_prune(inits[weight], 0.5)),
          "%s: '%s' is not numpy's magnitude pruning" % (name, weight))
    xin, yout = os.path.join(TMP, "in.npy"), os.path.join(TMP, "out.npy")
    np.save(xin, x)
    r = run([SHRINK, "eval", out, "--data", xin, "--out", yout])
    if check(r.returncode == 0, "%s: shrink eval: %s" % (name, r.stderr.strip())):
        ref = ort_batch([(out, {"x": x})])[0]
        if check(isinstance(ref, list), "%s: ONNX Runtime: %s" % (name, ref)):
            check(close(np.load(yout), ref[0]), "%s: shrink and ONNX Runtime differ" % name)


def check_refused(name, nodes, inits, x_shape, y_shape, needles):
    path = save(name, nodes, inits, x_shape, y_shape)
    out = os.path.join(TMP, name + "_out.onnx")
    r = run([SHRINK, "run", path, "-o", out, "--pass", "prune-magnitude:sparsity=0.5", "--quiet"])
    check(r.returncode == 2 and all(n in r.stderr for n in needles) and not os.path.exists(out),
          "%s: must exit 2 naming %s, got %d: %s" % (name, needles, r.returncode, r.stderr.strip()))


def main():
    rng = np.random.default_rng(2)
    x = np.abs(rng.normal(0, 1, (5, 4, 16))).astype(np.float32)
    x[0, 0, :3] = 0  # Clip's lower bound and the +Inf upper bound both matter
    nodes, inits = mel_model(rng)
    check_accepted("mel", nodes, inits, x, "fb", [5, 4, 8])
    nodes, inits = attention_model(rng)
    check_accepted("attention", nodes, inits, rng.normal(0, 1, (3, 6, 6)).astype(np.float32), "wq", [3, 6, 6])
    nodes, inits = mel_model(rng, inf_in="fb")
    check_refused("inf_weight", nodes, inits, [5, 4, 16], [5, 4, 8], ["'fb'", "filterbank", "+Inf"])
    nodes, inits = mel_model(rng, inf_in="gain")
    check_refused("inf_product", nodes, inits, [5, 4, 16], [5, 4, 8], ["'gain'", "scale", "+Inf"])
    nodes, inits = attention_model(rng, nan_mask=True)
    check_refused("nan_mask", nodes, inits, [3, 6, 6], [3, 6, 6], ["'mask'", "masked", "NaN"])
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("finite-weight checks passed")


if __name__ == "__main__":
    main()
