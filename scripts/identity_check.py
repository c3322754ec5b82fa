#!/usr/bin/python3
"""Output identity across a refactoring: runs a fixed set of `shrink run`
jobs (every zoo model through the joint, Deep Compression, k-means, int8
and target-size recipes, to .lcm and .onnx) and writes the sha256 of each
output and its report (timings stripped) to a JSON file. Run it with the
shrink before and after a change and compare the two files:

    scripts/identity_check.py --shrink OLD/shrink --out before.json
    scripts/identity_check.py --shrink NEW/shrink --out after.json --compare before.json

Small data (256 calibration, 512 validation images) keeps it to minutes.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "benchmarks", "zoo")
RECIPES = os.path.join(ROOT, "benchmarks", "recipes")
TIME_KEYS = {"seconds", "ms_per_sample", "time", "elapsed", "wall_seconds", "cpu_seconds", "path"}


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in TIME_KEYS}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def sha(data):
    return hashlib.sha256(data).hexdigest()


def jobs():
    for m in ("lenet300", "lenet5", "resnet8", "dscnn"):
        yield m, "joint.lcm", ["--recipe", os.path.join(RECIPES, f"joint.{m}.json")]
        yield m, "kmeans.onnx", ["--pass", "prune-magnitude:sparsity=0.6,scope=layer", "--pass",
                                           "quantize-kmeans:bits=4,compensate=none"]
        yield m, "int8.onnx", ["--pass", "quantize-int8"]
    yield "lenet5", "deep.lcm", ["--recipe", os.path.join(RECIPES, "deep_compression.json")]
    yield "lenet5", "target.lcm", ["--target-size", "14K"]
    yield "dscnn", "structured.onnx", ["--pass", "prune-structured:ratio=0.3,criterion=l1"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shrink", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "identity-data"))
    ap.add_argument("--compare", help="an earlier --out file to compare with")
    ap.add_argument("--only", help="comma-separated model names")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.data, "calib_f32.npy")):
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", a.data, "--limit", "512",
                        "--calib", "256"], check=True, stdout=subprocess.DEVNULL)
    result = {}
    only = set(a.only.split(",")) if a.only else None
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        for model, out, args in jobs():
            if only and model not in only:
                continue
            key = f"{model}/{out}"
            work = os.path.join(tmp, key.replace("/", "_"))
            os.makedirs(work)
            cmd = [a.shrink, "run", os.path.join(ZOO, f"{model}.onnx"), "-o", out, "--calib",
                   os.path.join(a.data, "calib_f32.npy"), "--val", os.path.join(a.data, "test_f32.npy"), "--labels",
                   os.path.join(a.data, "test_labels.npy"), "--max-drop", "0.5", "--seed", "0", "--threads", "2",
                   "--report", "report.json", "--quiet"] + args
            r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
            entry = {"exit": r.returncode}
            if os.path.exists(os.path.join(work, out)):
                entry["output"] = sha(open(os.path.join(work, out), "rb").read())
            if os.path.exists(os.path.join(work, "report.json")):
                rep = strip(json.load(open(os.path.join(work, "report.json"))))
                entry["report"] = sha(json.dumps(rep, sort_keys=True).encode())
            result[key] = entry
            print(key, entry, flush=True)
    json.dump(result, open(a.out, "w"), indent=1, sort_keys=True)
    if a.compare:
        old = json.load(open(a.compare))
        diff = [k for k in old if k in result and old[k] != result[k]]
        for k in diff:
            print(f"DIFFERS: {k}: {old[k]} -> {result[k]}")
        print(f"{len(result)} jobs, {len(diff)} differ")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
