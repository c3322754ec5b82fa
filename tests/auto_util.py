"""Shared by the auto-mode and sweep tests: the shrink binary, the zoo
LeNet-5 they run on, result bookkeeping and a model's predicted labels."""
import os
import subprocess

import numpy as np

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
ZOO = os.path.join(SRC, "benchmarks", "zoo")
MODEL = os.path.join(ZOO, "lenet5.onnx")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what, flush=True)
    else:
        print("ok  ", what, flush=True)


def predictions(model, x, tmp):
    """The arg-max label per sample of `shrink eval MODEL --data X --out`."""
    out = os.path.join(tmp, "pred.npy")
    subprocess.run([SHRINK, "eval", model, "--data", x, "--out", out], check=True, capture_output=True)
    y = np.load(out)
    return y.reshape(y.shape[0], -1).argmax(1)
