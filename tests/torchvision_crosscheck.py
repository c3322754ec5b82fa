#!/usr/bin/python3
"""Cross-check the executor against PyTorch on torchvision classifiers.

Each model is built with seeded random weights (and randomized BatchNorm
statistics, so normalization is really exercised), put in eval mode and
exported to ONNX at opset 13 into $LC_BUILD_DIR/torchvision/<name>/ together
with test_data_set_0 (a random 2x3x224x224 input and torch's output), in the
layout of the ONNX backend tests. Exports are cached: a model folder that is
complete is not exported again. The conformance runner (argv[1]) then runs
every folder and compares by relative L2 error (1e-4).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

OPSET = 13
REL_L2 = "1e-4"


def builders():
    m = torchvision.models
    return {
        "resnet18": lambda: m.resnet18(weights=None),
        "mobilenet_v2": lambda: m.mobilenet_v2(weights=None),
        "mobilenet_v3_small": lambda: m.mobilenet_v3_small(weights=None),
        "squeezenet1_1": lambda: m.squeezenet1_1(weights=None),
        "shufflenet_v2_x0_5": lambda: m.shufflenet_v2_x0_5(weights=None),
        "efficientnet_b0": lambda: m.efficientnet_b0(weights=None),
        "googlenet": lambda: m.googlenet(weights=None, aux_logits=False, init_weights=True),
    }


def randomize_batchnorm(model, gen):
    for mod in model.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            n = mod.num_features
            with torch.no_grad():
                mod.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=gen) * 0.1)


def export(name, build, folder):
    torch.manual_seed(1234)
    model = build()
    gen = torch.Generator().manual_seed(99)
    randomize_batchnorm(model, gen)
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=gen)
    with torch.no_grad():
        y = model(x)
    # Write into a temporary folder, then rename: an interrupted export never
    # leaves a folder that looks complete.
    parent = os.path.dirname(folder)
    tmp = tempfile.mkdtemp(prefix=name + ".", dir=parent)
    try:
        torch.onnx.export(model, x, os.path.join(tmp, "model.onnx"), opset_version=OPSET,
                          input_names=["input"], output_names=["output"], do_constant_folding=True)
        ds = os.path.join(tmp, "test_data_set_0")
        os.mkdir(ds)
        for fname, arr in (("input_0.pb", x), ("output_0.pb", y)):
            t = numpy_helper.from_array(arr.numpy().astype(np.float32))
            with open(os.path.join(ds, fname), "wb") as f:
                f.write(t.SerializeToString())
        onnx.checker.check_model(os.path.join(tmp, "model.onnx"))
        if os.path.exists(folder):
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def complete(folder):
    return all(os.path.isfile(os.path.join(folder, p))
               for p in ("model.onnx", "test_data_set_0/input_0.pb", "test_data_set_0/output_0.pb"))


def main():
    if len(sys.argv) != 2:
        print("usage: torchvision_crosscheck.py CONFORMANCE_BINARY", file=sys.stderr)
        return 2
    runner = sys.argv[1]
    root = os.path.join(os.environ.get("LC_BUILD_DIR", "."), "torchvision")
    os.makedirs(root, exist_ok=True)
    torch.set_num_threads(2)
    for name, build in builders().items():
        folder = os.path.join(root, name)
        if complete(folder):
            continue
        print("exporting", name, flush=True)
        export(name, build, folder)
    r = subprocess.run([runner, "--rel-l2", REL_L2, "--verbose", "--require-all", root])
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
