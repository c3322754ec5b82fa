"""prune-structured on the model zoo: parameters, top-1 and executor time of
the shrunk models.

  /usr/bin/python3 benchmarks/structured_bench.py [--build DIR] [--data DIR]
        [--ratios 0.25,0.5] [--criterion l1] [--models lenet300,...]

For each zoo model and ratio the pass runs through lc_pass_tool twice:
with correct=none and with correct=auto on the 500 calibration images
(BatchNorm re-estimation on models with BatchNorm, bias correction on the
others). `shrink eval` gives top-1 on the Fashion-MNIST test set (10000
images) and ms/sample (one thread, batch 64) for the original and the
shrunk model. Prints a markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MEAN, STD = "0.2860", "0.3530"


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout


def evaluate(shrink, model, data):
    out = sh([shrink, "eval", model, "--data", os.path.join(data, "test_u8.npy"), "--labels",
              os.path.join(data, "test_labels.npy"), "--mean", MEAN, "--std", STD, "--threads", "1", "--json"])
    return json.loads(out)


def params_of(shrink, model):
    return json.loads(sh([shrink, "info", model, "--json"]))["params"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("LC_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--data", default=None)
    ap.add_argument("--ratios", default="0.25,0.5")
    ap.add_argument("--criterion", default="l1")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    tool = os.path.join(a.build, "tests", "lc_pass_tool")
    tmp = tempfile.mkdtemp(prefix="structured_bench_")
    data = a.data or os.path.join(tmp, "data")
    if not os.path.exists(os.path.join(data, "test_u8.npy")):
        sh([sys.executable, os.path.join(ROOT, "benchmarks", "zoo", "make_test_data.py"), "--out", data])
    calib = os.path.join(data, "calib_u8.npy")
    print("| model | ratio | params | top-1 % (correct=none) | top-1 % (correct=auto) | ms/sample | speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in a.models.split(","):
        path = os.path.join(ROOT, "benchmarks", "zoo", name + ".onnx")
        base = evaluate(shrink, path, data)
        print("| %s | 0 | %d | %.2f | | %.4f | 1.00 |" % (name, params_of(shrink, path), base["top1"],
                                                        base["ms_per_sample"]))
        for ratio in [float(r) for r in a.ratios.split(",")]:
            row = {}
            for correct in ("none", "auto"):
                out = os.path.join(tmp, "%s_%g_%s.onnx" % (name, ratio, correct))
                cmd = [tool, path, out, "prune-structured",
                       "ratio=%g,criterion=%s,correct=%s" % (ratio, a.criterion, correct)]
                if correct != "none":
                    cmd += ["--calib", calib, "--mean", MEAN, "--std", STD]
                sh(cmd)
                row[correct] = evaluate(shrink, out, data)
                row["params"] = params_of(shrink, out)
            ms = row["auto"]["ms_per_sample"]
            print("| %s | %g | %d | %.2f | %.2f | %.4f | %.2f |" % (name, ratio, row["params"], row["none"]["top1"],
                                                                   row["auto"]["top1"], ms, base["ms_per_sample"] / ms))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
