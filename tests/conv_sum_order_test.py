"""Conv's summation order against float64 and ONNX Runtime (issue 16,
corpus exec).

A full convolution sums cg * KH * KW products per output. Summed in one
float32 chain started from the bias, the direct kernels were 2-3 times
further from the exact sum than ONNX Runtime (whose sgemm sums K in
blocks and adds the bias after): M-LSD's 3x3 convs over 128 channels
4.4e-7 against 1.4e-7 relative RMS, BlazeFace's first conv (5x5 over 3
channels, stride 2, biases large against the products) 2.2e-7 against
1.3e-7; the layers after carried that to the outputs (M-LSD: twice ONNX
Runtime's error against float64 there). Each case here (shapes reaching
each direct kernel: output channels in the lanes in blocks of 16, 32 and
64, the stride-1 unpadded one and the padded one with blocks of 8 or 12
channels, a channel count that leaves a partial block of channels) runs
in shrink and ONNX Runtime, and both are compared with the float64
convolution (torch) of the same float32 inputs: shrink's relative RMS
error must not exceed ONNX Runtime's by more than 25%, and shrink must
match ONNX Runtime within 1e-6 of the output's largest magnitude.

    conv_sum_order_test.py      (SHRINK: the CLI)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_ref  # noqa: E402

SHRINK = os.environ.get("SHRINK", os.path.join(ort_ref.SRC, "build", "shrink"))
# (input channels, output channels, height, width, kernel, stride, pads,
# bias scale): output blocks of 16, 32 and 64 channels in the lanes (32
# and 64 on rows of up to 8, since round 4 of issue 18), 40 channels = 2.5 blocks of channels; 24 output
# channels: the unpadded stride-1 kernel and the padded one, and BlazeFace's
# first layer (image in [-1, 1], biases about 1)
CASES = [(128, 64, 40, 40, 3, 1, [1, 1, 1, 1], 1), (128, 32, 20, 20, 3, 1, [1, 1, 1, 1], 1),
         (96, 64, 8, 8, 3, 1, [1, 1, 1, 1], 1), (96, 32, 8, 8, 3, 1, [1, 1, 1, 1], 1),
         (40, 16, 24, 24, 3, 1, [1, 1, 1, 1], 1),
         (128, 24, 20, 20, 3, 1, [0, 0, 0, 0], 1), (128, 24, 20, 20, 3, 1, [1, 1, 1, 1], 1),
         (3, 24, 128, 128, 5, 2, [1, 1, 2, 2], 3)]


def model(path, w, b, shape, stride, pads):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=pads, strides=[stride, stride])
    g = helper.make_graph([node], "conv", [x], [y], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def rel_rms(got, ref):
    return np.sqrt(np.mean((got.astype(np.float64) - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))


def main():
    if not ort_ref.available():
        sys.exit("FAIL: onnxruntime-node is not installed (scripts/setup_ort.sh)")
    rng = np.random.default_rng(16)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="conv_sum_") as tmp:
        for c, m, h, wd, k, stride, pads, bscale in CASES:
            if c == 3:  # an image
                x = rng.uniform(-1, 0.6, (1, c, h, wd)).astype(np.float32)
            else:  # post-ReLU activations
                x = np.abs(rng.standard_normal((1, c, h, wd))).astype(np.float32)
            w = (rng.standard_normal((m, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
            b = (bscale * rng.standard_normal(m)).astype(np.float32)
            path, xin, out = (os.path.join(tmp, f) for f in ("m.onnx", "x.npy", "y.npy"))
            model(path, w, b, x.shape, stride, pads)
            np.save(xin, x)
            subprocess.run([SHRINK, "eval", path, "--data", xin, "--batch", "1", "--out", out], check=True,
                           stdout=subprocess.DEVNULL)
            got = np.load(out)
            ort = ort_ref.run(path, {"x": x})[1][0]
            xp = torch.nn.functional.pad(torch.from_numpy(x).double(), (pads[1], pads[3], pads[0], pads[2]))
            ref = torch.nn.functional.conv2d(xp, torch.from_numpy(w).double(), torch.from_numpy(b).double(),
                                             stride).numpy()
            e_shrink, e_ort = rel_rms(got, ref), rel_rms(ort, ref)
            gap = np.abs(got - ort).max() / np.abs(ref).max()
            ok = e_shrink <= 1.25 * e_ort and gap <= 1e-6
            failures += not ok
            print("%s Conv %dx%d/%d pads %s %d->%d on %dx%d: relative RMS error vs float64 shrink %.2e, ONNX Runtime %.2e; "
                  "max |shrink - ORT| %.2e of max |y|" % ("ok  " if ok else "FAIL", k, k, stride, pads, c, m, h, wd, e_shrink, e_ort,
                                                        gap))
    sys.exit(1 if failures else 0)


main()
