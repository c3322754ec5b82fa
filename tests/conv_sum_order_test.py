"""Conv's summation order against float64 and ONNX Runtime (issue 16,
corpus exec).

A full 3x3 convolution over many input channels sums cg * 9 products per
output. Summed in one float32 chain from the bias, the AVX-512 direct
kernel was 2-3 times further from the exact sum than ONNX Runtime (whose
sgemm sums K in blocks): on M-LSD's 3x3 convs over 128 channels 4.4e-7
against 1.4e-7 relative RMS, which 30 layers turned into twice ONNX
Runtime's error at the output. Each case here (shapes reaching every
output-channel block of the kernel, and a channel count that leaves a
partial block of channels) runs in shrink and ONNX Runtime on post-ReLU-
like inputs, and both are compared with the float64 convolution (torch)
of the same float32 inputs: shrink's relative RMS error must not exceed
ONNX Runtime's by more than 25%, and shrink must match ONNX Runtime within
1e-6 of the output's largest magnitude.

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
# (input channels, output channels, height, width): output blocks of 16, 32
# and 64 channels (the last on rows of up to 8), 40 channels = 2.5 blocks
CASES = [(128, 64, 40, 40), (128, 32, 20, 20), (96, 64, 8, 8), (40, 16, 24, 24)]


def model(path, w, b, shape):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
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
        for c, m, h, wd in CASES:
            x = np.abs(rng.standard_normal((1, c, h, wd))).astype(np.float32)
            w = (rng.standard_normal((m, c, 3, 3)) / np.sqrt(c * 9)).astype(np.float32)
            b = rng.standard_normal(m).astype(np.float32)
            path, xin, out = (os.path.join(tmp, f) for f in ("m.onnx", "x.npy", "y.npy"))
            model(path, w, b, x.shape)
            np.save(xin, x)
            subprocess.run([SHRINK, "eval", path, "--data", xin, "--batch", "1", "--out", out], check=True,
                           stdout=subprocess.DEVNULL)
            got = np.load(out)
            ort = ort_ref.run(path, {"x": x})[1][0]
            ref = torch.nn.functional.conv2d(torch.from_numpy(x).double(), torch.from_numpy(w).double(),
                                             torch.from_numpy(b).double(), padding=1).numpy()
            e_shrink, e_ort = rel_rms(got, ref), rel_rms(ort, ref)
            gap = np.abs(got - ort).max() / np.abs(ref).max()
            ok = e_shrink <= 1.25 * e_ort and gap <= 1e-6
            failures += not ok
            print("%s Conv 3x3 %d->%d on %dx%d: relative RMS error vs float64 shrink %.2e, ONNX Runtime %.2e; "
                  "max |shrink - ORT| %.2e of max |y|" % ("ok  " if ok else "FAIL", c, m, h, wd, e_shrink, e_ort, gap))
    sys.exit(1 if failures else 0)


main()
