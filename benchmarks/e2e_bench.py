#!/usr/bin/env python3
"""End-to-end benchmark of `shrink run`: every zoo model x every recipe in
benchmarks/recipes/*.json, plus a --target-size run per model (the default
target-size recipe: prune-hessian -> quantize-kmeans -> huffman, sized to the
issue's goal ratio). Prints a markdown table and optionally writes it.

Protocol (no retraining): 500 calibration images (training set), validation
inside the pipeline on the first 2,000 Fashion-MNIST test images
(--val-limit 2000), final top-1 measured with `shrink eval` on the .lcm file:
on all 10,000 test images (overlaps the validation images) and on the 8,000
test images the pipeline never saw (2,000..9,999).

    /usr/bin/python3 benchmarks/e2e_bench.py --build build-target --data DIR [--models a,b] [--out results.md]
        [--ratios 10,20] [--cpu] [--threads 1]

Auto mode (issue 15): `--auto` adds an `auto` row per model (`--max-drop
0.5` alone) and prints the auto table instead: ratio, the drop on the 2,000
validation images with the pipeline's interval, the drop on the 8,000
unseen images with a paired 95% interval (Newcombe's, computed here from
both models' predictions), CPU seconds. `--confidence C` is passed to every
run (recipes too, for a fair comparison); `--zoo-dir DIR` runs another zoo
(same model names, e.g. one trained with another seed).

A recipe named NAME.MODEL.json (e.g. joint.lenet5.json, whose include/exclude
globs name that model's layers) runs on MODEL only; any other recipe runs on
every model.
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from paired_interval import newcombe, table  # noqa: E402

GOAL = {"lenet300": 20, "lenet5": 20, "resnet8": 10, "dscnn": 10}
AUTO_GOAL = {"lenet300": 25, "lenet5": 20, "resnet8": 12, "dscnn": 10}
NORM = ["--mean", "0.2860", "--std", "0.3530"]


def predict(shrink, model, data, tmp):
    """Per-image correctness on all test images."""
    out = os.path.join(tmp, "pred.npy")
    subprocess.run([shrink, "eval", model, "--data", os.path.join(data, "test_u8.npy"), "--out", out] + NORM,
                   check=True, stdout=subprocess.DEVNULL)
    logits = np.load(out)
    pred = logits.reshape(logits.shape[0], -1).argmax(1)
    labels = np.load(os.path.join(data, "test_labels.npy"))
    return pred == labels


def top1(shrink, model, data, tmp):
    """Top-1 (%) on all test images and on the images after the validation split."""
    hit = predict(shrink, model, data, tmp)
    return 100.0 * hit.mean(), 100.0 * hit[2000:].mean()


def drop_interval(f, c, conf=0.95):
    """The drop (points) on paired per-image verdicts and its Newcombe
    interval (tests/paired_interval.py, the tests' independent version)."""
    lo, hi = newcombe(*table(f, c), conf)
    return 100 * (f.mean() - c.mean()), lo, hi


def run_cmd(a, shrink, onnx, out, rep, args):
    """`shrink run` with the protocol's data and options."""
    for f in (out, rep):
        if os.path.exists(f):
            os.remove(f)
    return [shrink, "run", onnx, "-o", out, "--calib", os.path.join(a.data, "calib_u8.npy"),
            "--val", os.path.join(a.data, "test_u8.npy"), "--labels", os.path.join(a.data, "test_labels.npy"),
            "--val-limit", "2000", "--seed", "0", "--threads", a.threads, "--report", rep, "--quiet"] + NORM + args


def auto_table(a, shrink, runs):
    """The auto-mode table: one row per run, the unseen drop with its interval."""
    hdr = ("| model | run | float B | output B | ratio | goal | val drop (2k) [interval] | unseen drop (8k) [95%] "
           "| exit | cpu s |")
    print(hdr)
    print("|" + "---|" * 10, flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fhit = {}
        for m, name, args in runs:
            onnx = os.path.join(a.zoo_dir, m + ".onnx")
            if m not in fhit:
                fhit[m] = predict(shrink, onnx, a.data, tmp)
            out, rep = os.path.join(tmp, "out.lcm"), os.path.join(tmp, "report.json")
            cmd = run_cmd(a, shrink, onnx, out, rep, args)
            if a.confidence is not None:
                cmd += ["--confidence", a.confidence]
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
            fb = os.path.getsize(onnx)
            if not os.path.exists(out):
                row = "| %s | %s | %d | - | - | %dx | - | - | %d | %.1f |" % (m, name, fb, AUTO_GOAL[m], p.returncode, cpu)
                print(row + "  " + (p.stderr.strip().splitlines() or [""])[-1], flush=True)
                rows.append(row)
                continue
            r = json.load(open(rep))
            acc = r["accuracy"]
            ci = acc.get("drop_ci", [float("nan")] * 2)
            hit = predict(shrink, out, a.data, tmp)
            d8, lo8, hi8 = drop_interval(fhit[m][2000:], hit[2000:])
            ob = os.path.getsize(out)
            row = "| %s | %s | %d | %d | %.1fx | %dx | %.2f [%.2f, %.2f] | %.2f [%.2f, %.2f] | %d | %.1f |" % (
                m, name, fb, ob, fb / ob, AUTO_GOAL[m], acc["drop"], ci[0], ci[1], d8, lo8, hi8, p.returncode, cpu)
            print(row, flush=True)
            rows.append(row)
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n" + hdr + "\n|" + "---|" * 10 + "\n" + "\n".join(rows) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", required=True, help="folder written by benchmarks/zoo/make_test_data.py")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--recipes", default=os.path.join(ROOT, "benchmarks", "recipes", "*.json"))
    ap.add_argument("--no-target", action="store_true")
    ap.add_argument("--ratios", help="target ratios of the --target-size runs, e.g. 10,20 (default: the goal per "
                    "model: lenet300/lenet5 20, resnet8/dscnn 10)")
    ap.add_argument("--cpu", action="store_true", help="add a column with the user+sys CPU seconds of `shrink run`")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--out", help="also append the table to this markdown file")
    ap.add_argument("--auto", action="store_true", help="add an auto-mode row per model (--max-drop alone) and "
                    "print the auto table")
    ap.add_argument("--max-drop", default="0.5", help="the auto rows' budget (points)")
    ap.add_argument("--confidence", help="passed to every run")
    ap.add_argument("--zoo-dir", default=os.path.join(ROOT, "benchmarks", "zoo"), help="the models (NAME.onnx)")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    runs = []
    if a.auto:
        for m in a.models.split(","):
            for r in sorted(glob.glob(a.recipes)):
                stem = os.path.basename(r)[:-5]
                if "." in stem and stem.rsplit(".", 1)[1] != m:
                    continue
                runs.append((m, stem, ["--recipe", r]))
            runs.append((m, "auto", ["--max-drop", a.max_drop]))
        return auto_table(a, shrink, runs)
    for m in a.models.split(","):
        for r in sorted(glob.glob(a.recipes)):
            stem = os.path.basename(r)[:-5]
            if "." in stem and stem.rsplit(".", 1)[1] != m:
                continue  # another model's recipe
            runs.append((m, stem, ["--recipe", r]))
        if not a.no_target:
            size = os.path.getsize(os.path.join(a.zoo_dir, m + ".onnx"))
            for ratio in ([int(x) for x in a.ratios.split(",")] if a.ratios else [GOAL[m]]):
                t = size // ratio
                runs.append((m, "target %dx (%d B)" % (ratio, t), ["--target-size", str(t)]))
    rows = []
    hdr = ("| model | recipe | float B | output B | ratio | float top-1 | final top-1 | drop | drop (held-out 8k) "
           "| val drop (2k) | exit | seconds |" + (" cpu s |" if a.cpu else ""))
    ncol = 13 if a.cpu else 12
    print(hdr)
    print("|" + "---|" * ncol)
    with tempfile.TemporaryDirectory() as tmp:
        ftop = {}
        for m, name, args in runs:
            onnx = os.path.join(a.zoo_dir, m + ".onnx")
            if m not in ftop:
                ftop[m] = top1(shrink, onnx, a.data, tmp)
            out, rep = os.path.join(tmp, "out.lcm"), os.path.join(tmp, "report.json")
            cmd = run_cmd(a, shrink, onnx, out, rep, args)
            t0 = time.time()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            secs = time.time() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = " %.1f |" % (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) if a.cpu else ""
            if not os.path.exists(out):
                row = "| %s | %s | %d | - | - | %.2f | - | - | - | - | %d | %.1f |" % (
                    m, name, os.path.getsize(onnx), ftop[m][0], p.returncode, secs) + cpu
                print(row + "  " + p.stderr.strip().splitlines()[-1] if p.stderr.strip() else row)
                rows.append(row)
                continue
            r = json.load(open(rep))
            fin = top1(shrink, out, a.data, tmp)
            ob = os.path.getsize(out)
            row = "| %s | %s | %d | %d | %.1fx | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %.1f |" % (
                m, name, os.path.getsize(onnx), ob, os.path.getsize(onnx) / ob, ftop[m][0], fin[0], ftop[m][0] - fin[0],
                ftop[m][1] - fin[1], r["accuracy"]["drop"], p.returncode, secs) + cpu
            print(row, flush=True)
            rows.append(row)
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n" + hdr + "\n|" + "---|" * ncol + "\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    sys.exit(main())
