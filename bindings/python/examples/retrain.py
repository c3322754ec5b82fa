#!/usr/bin/python3
"""Compress a PyTorch classifier with retraining (shrink.torch) on Fashion-MNIST.

    # a PyTorch class and the weights of an ONNX file it was exported to:
    /usr/bin/python3 bindings/python/examples/retrain.py \\
        --onnx benchmarks/zoo/lenet5.onnx --arch benchmarks/zoo/train.py:LeNet5 -o lenet5.lcm
    # or a whole module saved with torch.save(model, "model.pt"):
    /usr/bin/python3 bindings/python/examples/retrain.py --model model.pt -o model.lcm

--arch is MODULE:CLASS, MODULE a Python module name on the path or a .py
file; CLASS() is built without arguments and takes the ONNX initializers
with the names of its state_dict (as torch.onnx exports them). The data are
Fashion-MNIST's training images, split into training and validation
(--val N images, chosen by a seeded permutation); the test images are used
only at the end, to report the .lcm's top-1 next to the float model's.
Prints the report of shrink.torch.compress as JSON.
"""
import argparse
import importlib
import importlib.util
import json
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # do not spin on a shared machine
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
sys.path.insert(0, os.path.join(SRC, "benchmarks", "zoo"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import shrink  # noqa: E402
import shrink.torch  # noqa: E402
import train as zoo  # noqa: E402  (benchmarks/zoo/train.py: the Fashion-MNIST reader and normalization)


def load_class(spec):
    mod, _, cls = spec.rpartition(":")
    if not mod or not cls:
        raise SystemExit(f"--arch {spec!r}: expected MODULE:CLASS")
    if mod.endswith(".py"):
        s = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(mod))[0], mod)
        m = importlib.util.module_from_spec(s)
        s.loader.exec_module(m)
    else:
        m = importlib.import_module(mod)
    return getattr(m, cls)


def model_from_args(a):
    if a.model:
        return torch.load(a.model)
    net = load_class(a.arch)()
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(a.onnx).graph.initializer}
    state = net.state_dict()
    missing = [k for k in state if k not in inits and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"{a.onnx}: no initializer for {', '.join(missing)}")
    net.load_state_dict({k: torch.from_numpy(inits[k].copy()) if k in inits else v for k, v in state.items()})
    return net.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--onnx", help="the float model's ONNX file (its weights), with --arch")
    src.add_argument("--model", help="a module saved with torch.save(model, PATH)")
    ap.add_argument("--arch", help="MODULE:CLASS of the model, with --onnx")
    ap.add_argument("-o", "--out", required=True, help="the .lcm to write")
    ap.add_argument("--ratio", type=float, default=40)
    ap.add_argument("--max-drop", type=float, default=0.5, help="points of top-1 on the validation split")
    ap.add_argument("--val", type=int, default=6000, help="training images held out for validation")
    ap.add_argument("--steps", type=int, default=None, help="limit on optimizer steps (default: compress()'s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="also write the report here")
    a = ap.parse_args()
    if a.onnx and not a.arch:
        ap.error("--onnx needs --arch MODULE:CLASS")
    net = model_from_args(a)

    x, y = zoo.load_split("train")
    perm = np.random.RandomState(a.seed).permutation(len(y))
    va, tr = perm[:a.val], perm[a.val:]
    X, Y = zoo.normalize(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(a.seed)
    train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[tr], Y[tr]), batch_size=128,
                                               shuffle=True, drop_last=True, generator=g)
    val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[va], Y[va]), batch_size=1000)
    kw = {} if a.steps is None else {"steps": a.steps}
    try:
        report = shrink.torch.compress(net, train_loader, val_loader, X[:1], ratio=a.ratio, max_drop=a.max_drop,
                                       seed=a.seed, out=a.out, threads=a.threads, **kw)
    except shrink.Error as e:
        raise SystemExit(f"retrain.py: {e}")

    # the test images, first used here: float (PyTorch) and .lcm (libcompress's executor)
    xt, yt = zoo.load_split("t10k")
    Xt = zoo.normalize(xt)
    with torch.no_grad():
        report["test_float_top1"] = 100.0 * float((net.eval()(Xt).argmax(1) == torch.from_numpy(yt)).float().mean())
    report["test_final_top1"] = shrink.load(a.out).eval(Xt.numpy(), yt)
    report["test_drop"] = round(report["test_float_top1"] - report["test_final_top1"], 2)
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
