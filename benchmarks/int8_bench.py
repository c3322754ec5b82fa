#!/usr/bin/python3
"""int8 post-training quantization on the model zoo: shrink's quantize-int8
(per tensor and per channel x minmax/percentile/entropy/mse) against
PyTorch's post-training static quantization (FX graph mode, engine qnnpack),
on the same models, the same 500 calibration images and the 10000
Fashion-MNIST test images. Prints a markdown table of top-1 (%).

    /usr/bin/python3 benchmarks/int8_bench.py --build BUILD_DIR [--models a,b] [--no-torch] [--no-ort]

BUILD_DIR holds `shrink` and `tests/lc_pass_tool`. Top-1 of shrink's models
is measured with our executor (`shrink eval`); the ORT column runs the
default configuration's file in ONNX Runtime (benchmarks/.ort) with all
graph optimizations (fused integer kernels) on the reduce_range variant,
which x86 without VNNI needs (see passes/quantize_int8.c).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ZOO = os.path.join(HERE, "zoo")
MEAN, STD = 0.2860, 0.3530
CALIBS = ("minmax", "percentile", "entropy", "mse")


def sh(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    return r.stdout


def top1_ours(shrink, model, data):
    out = sh([shrink, "eval", model, "--data", data["test"], "--labels", data["labels"], "--mean", str(MEAN),
              "--std", str(STD), "--json"])
    return json.loads(out)["top1"]


def normalized(u8):
    return ((u8.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD))[:, None]


def torch_ptq(name, onnx_path, calib_u8, test_u8, labels):
    """PyTorch FX post-training static quantization (qnnpack default qconfig:
    per-tensor weights, MinMax activations), weights loaded from the ONNX
    file into train.py's architecture. Returns (float top-1, int8 top-1)."""
    import onnx
    import torch
    from onnx import numpy_helper
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    sys.path.insert(0, ZOO)
    import train  # noqa: E402

    torch.backends.quantized.engine = "qnnpack"
    model = train.MODELS[name][0]()
    state = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(onnx_path).graph.initializer}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise RuntimeError("%s: state dict mismatch: missing %s, unexpected %s" % (name, missing, unexpected))
    model.eval()
    xc, xt = torch.from_numpy(normalized(calib_u8)), torch.from_numpy(normalized(test_u8))

    def top1(m):
        with torch.no_grad():
            pred = torch.cat([m(xt[i:i + 1000]).argmax(1) for i in range(0, len(xt), 1000)])
        return float((pred.numpy() == labels).mean() * 100)

    f = top1(model)
    prepared = prepare_fx(model, get_default_qconfig_mapping("qnnpack"), example_inputs=(xc[:1],))
    with torch.no_grad():
        for i in range(0, len(xc), 100):
            prepared(xc[i:i + 100])
    q = convert_fx(prepared)
    return f, top1(q)


ORT_JS = r"""
const fs = require('fs');
const ort = require(process.argv[2] + '/onnxruntime-node');
(async () => {
  const [model, xin, n, out] = process.argv.slice(3);
  const sess = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'all', intraOpNumThreads: 1});
  const raw = fs.readFileSync(xin);
  const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const N = Number(n), per = 784, pred = new Int32Array(N);
  for (let i = 0; i < N; i += 500) {
    const m = Math.min(500, N - i);
    const r = await sess.run({[sess.inputNames[0]]: new ort.Tensor('float32', x.slice(i * per, (i + m) * per), [m, 1, 28, 28])});
    const y = r[sess.outputNames[0]].data, k = y.length / m;
    for (let j = 0; j < m; j++) { let b = 0; for (let c = 1; c < k; c++) if (y[j * k + c] > y[j * k + b]) b = c; pred[i + j] = b; }
  }
  fs.writeFileSync(out, Buffer.from(pred.buffer));
})().catch(e => { process.stderr.write(String(e)); process.exit(1); });
"""


def top1_ort(model, test_u8, labels, tmp):
    modules = os.path.join(HERE, ".ort", "node_modules")
    js, xin, out = os.path.join(tmp, "ort.js"), os.path.join(tmp, "x.f32"), os.path.join(tmp, "pred.i32")
    with open(js, "w") as f:
        f.write(ORT_JS)
    normalized(test_u8).tofile(xin)
    sh(["node", js, modules, model, xin, str(len(test_u8)), out])
    return float((np.fromfile(out, dtype=np.int32) == labels).mean() * 100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-ort", action="store_true")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    tool = os.path.join(a.build, "tests", "lc_pass_tool")
    tmp = tempfile.mkdtemp(prefix="int8_bench_")
    sh(["/usr/bin/python3", os.path.join(ZOO, "make_test_data.py"), "--out", tmp])
    data = {"test": os.path.join(tmp, "test_u8.npy"), "labels": os.path.join(tmp, "test_labels.npy"),
            "calib": os.path.join(tmp, "calib_u8.npy")}
    calib_u8, test_u8 = np.load(data["calib"]), np.load(data["test"])
    labels = np.load(data["labels"]).astype(np.int64)
    cols = ["float"] + ["%s/%s" % (g, c) for g in ("tensor", "channel") for c in CALIBS] + ["ORT rr", "torch float",
                                                                                           "torch PTQ"]
    print("| model | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    sys.stdout.flush()
    for name in a.models.split(","):
        src = os.path.join(ZOO, name + ".onnx")
        row = [top1_ours(shrink, src, data)]
        for g in ("tensor", "channel"):
            for c in CALIBS:
                out = os.path.join(tmp, "%s_%s_%s.onnx" % (name, g, c))
                sh([tool, src, out, "quantize-int8", "granularity=%s,calib=%s" % (g, c), "--calib", data["calib"],
                    "--mean", str(MEAN), "--std", str(STD)])
                row.append(top1_ours(shrink, out, data))
        if a.no_ort:
            row.append(float("nan"))
        else:
            out = os.path.join(tmp, "%s_rr.onnx" % name)
            sh([tool, src, out, "quantize-int8", "reduce_range=true", "--calib", data["calib"], "--mean", str(MEAN),
                "--std", str(STD)])
            row.append(top1_ort(out, test_u8, labels, tmp))
        row += [float("nan")] * 2 if a.no_torch else list(torch_ptq(name, src, calib_u8, test_u8, labels))
        print("| %s | " % name + " | ".join("%.2f" % v for v in row) + " |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
