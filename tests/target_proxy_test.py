"""shrink run --target-size: the damage estimate and BatchNorm folding,
against independent computations (numpy / PyTorch).

- A two-layer Gemm model with prune-magnitude -> quantize-kmeans (bits=4
  given, nearest centroid) -> huffman, no statistics correction: the report's proxy of the
  setting each layer was given is the numpy mean over the calibration
  inputs x of ||(W' - W) x + (b' - b)||^2, with W', b' read from the written
  file and x the layer's input in the float model; the bits grid is capped
  at the given 4 (8/5/4) and the sparsity grid is the full one; the damage
  estimate passes through every option measured for real (KL) and grows
  with the proxy.
- A Conv+BatchNormalization model with the default target recipe: the
  written model has no BatchNormalization, fits the target, and its final
  agreement with the float model in the report equals the agreement PyTorch
  computes between the float model (BatchNorm kept) and the decoded file."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

SHRINK = os.environ["SHRINK"]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)
    else:
        print("ok  ", what)


def shrink(*args):
    return subprocess.run([SHRINK] + list(args), capture_output=True, text=True)


def save(nodes, inits, x_shape, y_shape, path):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                          [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run_onnx(path, x):
    """Outputs of a Conv/BatchNormalization/Relu/GlobalAveragePool/Flatten/Gemm model, in PyTorch."""
    m = onnx.load(path)
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    env["x"] = torch.from_numpy(x)
    for n in m.graph.node:
        a, i = attrs(n), [env[k] if k else None for k in n.input]
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, padding=(p[0], p[1]))
        elif n.op_type == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Gemm":
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ B) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        else:
            raise RuntimeError("op %s not interpreted" % n.op_type)
        env[n.output[0]] = y
    return env[m.graph.output[0].name].numpy()


def gemm_proxy(tmp, rng):
    model = os.path.join(tmp, "gemm.onnx")
    W1, b1 = rng.normal(0, 0.4, (32, 64)), rng.normal(0, 0.1, 32)
    W2, b2 = rng.normal(0, 0.4, (10, 32)), rng.normal(0, 0.1, 10)
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], name="fc2", transB=1)]
    save(nodes, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, ["N", 64], ["N", 10], model)
    calib = rng.normal(0, 1, (64, 64)).astype(np.float32)
    val = rng.normal(0, 1, (200, 64)).astype(np.float32)
    np.save(os.path.join(tmp, "gc.npy"), calib)
    np.save(os.path.join(tmp, "gv.npy"), val)
    recipe = os.path.join(tmp, "g.json")
    json.dump({"passes": [{"pass": "prune-magnitude", "correct": "none"},
                          {"pass": "quantize-kmeans", "bits": 4, "correct": "none", "compensate": "none"},
                          {"pass": "huffman"}]},
              open(recipe, "w"))
    out, rep, dec = (os.path.join(tmp, n) for n in ("g.lcm", "g.json.rep", "g.onnx"))
    target = 4000
    res = shrink("run", model, "-o", out, "--recipe", recipe, "--target-size", str(target), "--calib",
                 os.path.join(tmp, "gc.npy"), "--val", os.path.join(tmp, "gv.npy"), "--report", rep, "--quiet")
    check(res.returncode == 0, "gemm: --target-size %d exits 0 (%s)" % (target, res.stderr.strip()[-300:]))
    if res.returncode:
        return
    check(os.path.getsize(out) <= target, "gemm: file %d <= %d bytes" % (os.path.getsize(out), target))
    check(shrink("decode", out, "-o", dec).returncode == 0, "gemm: decode")
    q = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(dec).graph.initializer}
    x1 = calib.astype(np.float64)
    x2 = np.maximum(x1 @ W1.astype(np.float32).astype(np.float64).T + b1.astype(np.float32), 0)
    inputs = {"W1": (x1, W1, b1, "b1"), "W2": (x2, W2, b2, "b2")}
    t = json.load(open(rep))["target"]
    check(t["knobs"] == ["prune-magnitude.sparsity", "quantize-kmeans.bits"], "gemm: both knobs searched")
    for l in t["layers"]:
        x, W, b, bn = inputs[l["weight"]]
        W = W.astype(np.float32).astype(np.float64)
        b = b.astype(np.float32).astype(np.float64)
        d = x @ (q[l["weight"]] - W).T + (q[bn] - b)
        ref = float((d ** 2).sum(1).mean())
        opt = [g for g in l["grid"] if g["setting"] == l["setting"]]
        check(len(opt) == 1 and abs(opt[0]["proxy"] - ref) <= 1e-6 * ref + 1e-12,
              "%s: proxy of setting %s = %.9g, numpy E||dW x + db||^2 = %.9g" % (l["name"], l["setting"],
                                                                               opt[0]["proxy"] if opt else -1, ref))
        settings = sorted(tuple(g["setting"]) for g in l["grid"])
        want = sorted((s, b_) for s in (0, 0.5, 0.7, 0.8, 0.9, 0.95) for b_ in (8, 5, 4))
        check(settings == want, "%s: grid = sparsity 0..0.95 x bits 8/5/4 (bits capped by the given 4)" % l["name"])
        meas = [g for g in l["grid"] if "kl" in g]
        check(len(meas) >= 1 and all(g["kl"] >= 0 for g in meas), "%s: %d option(s) measured for real" %
              (l["name"], len(meas)))
        check(all(abs(g["damage"] - g["kl"]) <= 1e-9 * (1 + g["kl"]) for g in meas if g["kl"] > 0 and g["proxy"] > 0),
              "%s: the damage estimate passes through the measured KL" % l["name"])
        by = sorted(l["grid"], key=lambda g: g["proxy"])
        check(all(by[i]["damage"] <= by[i + 1]["damage"] * (1 + 1e-9) + 1e-15 for i in range(len(by) - 1)),
              "%s: the damage estimate grows with the proxy" % l["name"])


def bn_fold(tmp, rng):
    model = os.path.join(tmp, "bn.onnx")
    inits = {"c1": rng.normal(0, 0.5, (8, 1, 3, 3)), "c1b": rng.normal(0, 0.1, 8),
             "c2": rng.normal(0, 0.3, (16, 8, 3, 3)), "c2b": rng.normal(0, 0.1, 16),
             "fw": rng.normal(0, 0.5, (5, 16)), "fb": rng.normal(0, 0.1, 5)}
    for k, c in (("n1", 8), ("n2", 16)):
        inits.update({k + "g": rng.uniform(0.5, 1.5, c), k + "b": rng.normal(0, 0.2, c),
                      k + "m": rng.normal(0, 0.2, c), k + "v": rng.uniform(0.5, 2, c)})
    nodes = [helper.make_node("Conv", ["x", "c1", "c1b"], ["a1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["a1", "n1g", "n1b", "n1m", "n1v"], ["b1"], name="bn1"),
             helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "c2", "c2b"], ["a2"], name="conv2", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["a2", "n2g", "n2b", "n2m", "n2v"], ["b2"], name="bn2"),
             helper.make_node("Relu", ["b2"], ["r2"], name="relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    save(nodes, inits, ["N", 1, 10, 10], ["N", 5], model)
    calib = rng.normal(0, 1, (32, 1, 10, 10)).astype(np.float32)
    val = rng.normal(0, 1, (100, 1, 10, 10)).astype(np.float32)
    np.save(os.path.join(tmp, "bc.npy"), calib)
    np.save(os.path.join(tmp, "bv.npy"), val)
    out, rep, dec = (os.path.join(tmp, n) for n in ("bn.lcm", "bn.json", "bn_dec.onnx"))
    target = os.path.getsize(model) // 3
    res = shrink("run", model, "-o", out, "--target-size", str(target), "--calib", os.path.join(tmp, "bc.npy"),
                 "--val", os.path.join(tmp, "bv.npy"), "--report", rep, "--quiet")
    check(res.returncode == 0, "bn: --target-size %d exits 0 (%s)" % (target, res.stderr.strip()[-300:]))
    if res.returncode:
        return
    r = json.load(open(rep))
    check(os.path.getsize(out) <= target, "bn: file %d <= %d bytes" % (os.path.getsize(out), target))
    check(r["target"]["batchnorm_folded"] is True and r["passes"][0]["name"] == "fold-batchnorm",
          "bn: report says fold-batchnorm ran first")
    check(shrink("decode", out, "-o", dec).returncode == 0, "bn: decode")
    ops = [n.op_type for n in onnx.load(dec).graph.node]
    check("BatchNormalization" not in ops and ops.count("Conv") == 2, "bn: written model has no BatchNormalization (%s)"
          % ops)
    agree = 100.0 * (run_onnx(model, val).argmax(1) == run_onnx(dec, val).argmax(1)).mean()
    check(abs(agree - r["accuracy"]["final"]) < 1e-9,
          "bn: report agreement %.2f = PyTorch agreement of the file with the float model %.2f" %
          (r["accuracy"]["final"], agree))


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        gemm_proxy(tmp, rng)
        bn_fold(tmp, rng)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
