#!/usr/bin/python3
"""How far ONNX Runtime and shrink's executor each are from the exact
result on the corpus models the `exec` step of tests/corpus_test.py finds
mismatched (corpus.md): every model evaluated in float64 (numpy/torch,
from the same float32 weights and inputs), and both float32 executors'
outputs checked against it with the corpus rule (1e-4 relative + 1e-5
absolute: values off, over all inputs) and by relative RMS error (the
median over the inputs).

    LC_CORPUS_DIR=... /usr/bin/python3 benchmarks/corpus_float64.py [MODEL_ID...]

Inputs are the validation samples of corpus_test.py (corpus_inputs seed
16, samples 8..11). The float64 evaluator knows the ops of BlazeFace and
M-LSD only. A benchmark, not a test: nothing here runs in ctest.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests"))
import corpus_inputs  # noqa: E402
import ort_ref  # noqa: E402

CORPUS = os.environ.get("LC_CORPUS_DIR", os.path.join(SRC, "benchmarks", ".corpus"))
SHRINK = os.environ.get("SHRINK", os.path.join(SRC, "build", "shrink"))
F = torch.nn.functional
ARITH = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Equal": np.equal}
CAST = {1: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}


def f64(a):
    return a.astype(np.float64) if a.dtype == np.float32 else a


def conv(a, x, w, b):
    k, s, d = w.shape[2:], a.get("strides", [1, 1]), a.get("dilations", [1, 1])
    p = list(a.get("pads", [0, 0, 0, 0]))
    if a.get("auto_pad", b"NOTSET") in (b"SAME_UPPER", b"SAME_LOWER"):
        for j in range(2):
            n = x.shape[2 + j]
            tot = max(0, (-(-n // s[j]) - 1) * s[j] + (k[j] - 1) * d[j] + 1 - n)
            lo = tot // 2 if a["auto_pad"] == b"SAME_UPPER" else tot - tot // 2
            p[j], p[j + 2] = lo, tot - lo
    xt = F.pad(torch.from_numpy(x), (p[1], p[3], p[0], p[2]))
    bt = torch.from_numpy(b) if b is not None else None
    return F.conv2d(xt, torch.from_numpy(w), bt, s, 0, d, a.get("group", 1)).numpy()


def node64(n, a, x):
    op = n.op_type
    if op == "Constant":
        return f64(numpy_helper.to_array(a["value"]))
    if op == "Conv":
        return conv(a, x[0], x[1], x[2] if len(x) > 2 else None)
    if op == "Relu":
        return np.maximum(x[0], 0)
    if op == "Clip":
        lo = x[1] if len(x) > 1 and x[1] is not None else a.get("min", -np.inf)
        hi = x[2] if len(x) > 2 and x[2] is not None else a.get("max", np.inf)
        return np.minimum(np.maximum(x[0], lo), hi)
    if op in ARITH:
        return ARITH[op](x[0], x[1])
    if op == "Sigmoid":
        return 1 / (1 + np.exp(-x[0]))
    if op == "Concat":
        return np.concatenate(x, a["axis"])
    if op == "Transpose":
        return np.transpose(x[0], a.get("perm"))
    if op == "Reshape":
        return x[0].reshape([x[0].shape[j] if v == 0 else v for j, v in enumerate(x[1])])
    if op == "Shape":
        return np.array(x[0].shape, np.int64)
    if op == "Cast":
        return x[0].astype(CAST[a["to"]])
    if op == "ConstantOfShape":
        v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return np.full(tuple(x[0]), f64(v)[0])
    if op == "Slice":
        axes = x[3] if len(x) > 3 and x[3] is not None else range(len(x[1]))
        steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(x[1])
        sl = [slice(None)] * x[0].ndim
        for s, e, ax, st in zip(x[1], x[2], axes, steps):
            sl[ax] = slice(int(s), int(e) if abs(int(e)) < 2 ** 62 else None, int(st))
        return x[0][tuple(sl)]
    if op == "Split":
        ax = a.get("axis", 0)
        sp = a.get("split") or [x[0].shape[ax] // len(n.output)] * len(n.output)
        return np.split(x[0], np.cumsum(sp)[:-1], ax)
    if op == "Pad":
        r, mode = x[0].ndim, a.get("mode", b"constant").decode()
        width = [(int(x[1][j]), int(x[1][j + r])) for j in range(r)]
        cv = float(x[2]) if len(x) > 2 and x[2] is not None else 0.0
        return np.pad(x[0], width, mode=mode, **({"constant_values": cv} if mode == "constant" else {}))
    if op == "Resize":  # bilinear, half_pixel: torch's align_corners=False
        if a.get("mode") != b"linear" or a.get("coordinate_transformation_mode") != b"half_pixel":
            raise SystemExit("Resize %s: only linear half_pixel" % n.name)
        if len(x) > 3 and x[3] is not None and x[3].size:
            size = tuple(int(v) for v in x[3][2:])
        else:
            size = tuple(int(np.floor(x[0].shape[2 + j] * x[2][2 + j])) for j in range(2))
        return F.interpolate(torch.from_numpy(x[0]), size=size, mode="bilinear", align_corners=False).numpy()
    if op == "MaxPool":
        p = a.get("pads", [0, 0, 0, 0])
        return F.max_pool2d(torch.from_numpy(x[0]), a["kernel_shape"], a.get("strides"), (p[0], p[1]),
                            ceil_mode=bool(a.get("ceil_mode", 0))).numpy()
    raise SystemExit("op %s is not in the float64 evaluator" % op)


def run64(m, feed):
    env = {k: f64(v) for k, v in feed.items()}
    env.update({i.name: f64(numpy_helper.to_array(i)) for i in m.graph.initializer})
    for n in m.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
        y = node64(n, a, [env[i] if i else None for i in n.input])
        for o, v in zip(n.output, y if isinstance(y, list) else [y]):
            env[o] = v
    return [env[o.name] for o in m.graph.output]


def main():
    models = json.load(open(os.path.join(SRC, "tests", "corpus", "manifest.json")))["models"]
    ids = sys.argv[1:] or ["blazeface_front", "blazeface_back", "mlsd_tiny"]
    print("| model | output | values | off in ONNX Runtime | off in shrink | relative RMS error ORT | shrink |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="corpus_f64_") as tmp:
        for mid in ids:
            man = next(m for m in models if m["id"] == mid)
            path = os.path.join(CORPUS, mid + ".onnx")
            m = onnx.load(path)
            feeds = corpus_inputs.samples(man, 12, 16, CORPUS)[8:]
            stats = {}
            for feed in feeds:
                ref = run64(m, feed)
                names, ort = ort_ref.run(path, feed)
                x = os.path.join(tmp, "x.npy")
                np.save(x, feed[m.graph.input[0].name])
                subprocess.run([SHRINK, "eval", path, "--data", x, "--batch", "1", "--out-all", tmp + "/o"], check=True,
                               stdout=subprocess.DEVNULL)
                for o, r in zip(m.graph.output, ref):
                    f = os.path.join(tmp, "o", o.name.replace(":", "_").replace("/", "_") + ".npy")
                    got = {"ort": ort[names.index(o.name)], "shrink": np.load(f).reshape(r.shape)}
                    st = stats.setdefault(o.name, {"n": 0, "ort": [0, []], "shrink": [0, []]})
                    st["n"] += r.size
                    for k, v in got.items():
                        st[k][0] += int((np.abs(v - r) > 1e-5 + 1e-4 * np.abs(r)).sum())
                        st[k][1].append(np.sqrt(np.sum((v - r) ** 2) / max(np.sum(r ** 2), 1e-300)))
            for name, st in stats.items():
                print("| %s | %s | %d | %d | %d | %.2e | %.2e |" % (
                    mid, name, st["n"], st["ort"][0], st["shrink"][0], np.median(st["ort"][1]),
                    np.median(st["shrink"][1])))


main()
