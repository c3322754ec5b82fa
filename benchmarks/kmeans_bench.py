"""Top-1 on the model zoo after quantize-kmeans (2..8 bits; linear, density
and optimal; with and without Hessian weighting) and binarize, next to the
peer: scikit-learn's KMeans per layer (k-means++, 3 restarts) written into
the same ONNX files and evaluated by the same executor.

  /usr/bin/python3 benchmarks/kmeans_bench.py [--build build] [--models lenet300,lenet5]
          [--bits 2,3,4,5,6,7,8] [--configs linear,optimal,...] [--data DIR] [--limit N]

Every configuration of ours runs through lc_pass_tool with the 500-image
calibration set (statistics correction `correct=auto`: bias correction, or
BatchNorm re-estimation for models with BN; `hessian=true` uses the same
images), except the `lin/none` column (plain per-layer k-means, no
correction, the like-for-like peer of sklearn). Prints a markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ZOO = os.path.join(HERE, "zoo")
MEAN, STD = "0.2860", "0.3530"

CONFIGS = {
    "lin/none": "init=linear,correct=none",
    "linear": "init=linear",
    "density": "init=density",
    "optimal": "method=optimal",
    "linear+H": "init=linear,hessian=true",
    "optimal+H": "method=optimal,hessian=true",
    "opt/ch": "method=optimal,granularity=channel",
    "opt+H/ch": "method=optimal,hessian=true,granularity=channel",
}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout


def top1(shrink, model, data, limit):
    cmd = [shrink, "eval", model, "--data", os.path.join(data, "test_u8.npy"), "--labels",
           os.path.join(data, "test_labels.npy"), "--mean", MEAN, "--std", STD, "--json", "--threads", "2"]
    if limit:
        cmd += ["--limit", str(limit)]
    return json.loads(run(cmd))["top1"]


def weight_names(model):
    m = onnx.load(model)
    names = {t.name for t in m.graph.initializer}
    out = []
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1 and n.input[1] in names and n.input[1] not in out:
            out.append(n.input[1])
    return out


def sklearn_peer(model, bits, out):
    from sklearn.cluster import KMeans
    m = onnx.load(model)
    names = set(weight_names(model))
    for t in m.graph.initializer:
        if t.name not in names:
            continue
        w = numpy_helper.to_array(t)
        x = w.reshape(-1, 1).astype(np.float64)
        k = min(1 << bits, len(np.unique(x)))
        km = KMeans(n_clusters=k, n_init=3, random_state=0).fit(x)
        q = km.cluster_centers_[km.labels_, 0].astype(np.float32).reshape(w.shape)
        t.CopyFrom(numpy_helper.from_array(q, t.name))
    onnx.save(m, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("LC_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--bits", default="2,3,4,5,6,7,8")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--data", default=None)
    ap.add_argument("--limit", type=int, default=0, help="evaluate on the first N test images only")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    tool = os.path.join(a.build, "tests", "lc_pass_tool")
    data = a.data or tempfile.mkdtemp(prefix="kmeans_bench_")
    if not os.path.exists(os.path.join(data, "test_u8.npy")):
        run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", data])
    calib = os.path.join(data, "calib_u8.npy")
    tmp = tempfile.mkdtemp(prefix="kmeans_bench_out_")
    out = os.path.join(tmp, "q.onnx")
    configs = [c for c in a.configs.split(",") if c]
    cols = ([] if a.no_peer else ["sklearn"]) + configs
    print("| model | bits | float | " + " | ".join(cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    sys.stdout.flush()
    for name in a.models.split(","):
        model = os.path.join(ZOO, name + ".onnx")
        if not os.path.exists(model):
            continue
        base = top1(shrink, model, data, a.limit)
        for bits in [int(b) for b in a.bits.split(",")]:
            row = []
            if not a.no_peer:
                sklearn_peer(model, bits, out)
                row.append(top1(shrink, out, data, a.limit))
            for c in configs:
                # nearest centroid (compensate=none) unless the config says otherwise
                cfg = CONFIGS[c] if "compensate" in CONFIGS[c] else CONFIGS[c] + ",compensate=none"
                run([tool, model, out, "quantize-kmeans", "bits=%d,%s" % (bits, cfg), "--calib", calib,
                     "--mean", MEAN, "--std", STD, "--threads", "2"])
                row.append(top1(shrink, out, data, a.limit))
            print("| %s | %d | %.2f | %s |" % (name, bits, base, " | ".join("%.2f" % v for v in row)))
            sys.stdout.flush()
        for fl in ("false", "true"):
            run([tool, model, out, "binarize", "first_last=" + fl, "--calib", calib, "--mean", MEAN, "--std", STD])
            print("| %s | binarize%s | %.2f | %.2f |" % (name, " (all layers)" if fl == "true" else "", base,
                                                      top1(shrink, out, data, a.limit)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
