#!/usr/bin/env python3
"""Speed of the end-to-end `shrink run`: for each zoo model and recipe, the
CPU seconds (user + sys of the child, from wait4), the wall seconds, the
seconds of each pass (from the report), the compression ratio and the
validation drop. Optionally the same run with a baseline binary, to give
the speed-up in CPU time.

Same protocol as benchmarks/e2e_bench.py (500 calibration images, the first
2,000 test images for validation, --seed 0) but single-threaded by default:
CPU seconds of a --threads 1 run do not depend on what else runs on the
machine, wall seconds do. Per-pass seconds in the report are wall-clock;
the table scales them by the run's CPU/wall ratio (an estimate of each
pass's CPU seconds, exact when the machine is idle).

    /usr/bin/python3 benchmarks/pipeline_speed.py --build build-speed --data DIR \\
        [--models resnet8,dscnn] [--recipes deep_compression] [--baseline OLD_SHRINK] [--threads 1] [--out speed.md]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORM = ["--mean", "0.2860", "--std", "0.3530"]
PASS_ABBREV = {"prune-hessian": "prune", "quantize-kmeans": "kmeans", "huffman": "huff"}


def run_once(shrink, model, recipe, data, threads, tmp, tag="out"):
    """One `shrink run` writing TMP/TAG.lcm; returns (cpu seconds, wall seconds, report dict, exit code)."""
    out = os.path.join(tmp, tag + ".lcm")
    rep = os.path.join(tmp, tag + ".json")
    for f in (out, rep):
        if os.path.exists(f):
            os.remove(f)
    cmd = [shrink, "run", os.path.join(ROOT, "benchmarks", "zoo", model + ".onnx"), "-o", out,
           "--calib", os.path.join(data, "calib_u8.npy"), "--val", os.path.join(data, "test_u8.npy"),
           "--labels", os.path.join(data, "test_labels.npy"), "--val-limit", "2000", "--seed", "0",
           "--threads", str(threads), "--report", rep, "--quiet",
           "--recipe", os.path.join(ROOT, "benchmarks", "recipes", recipe + ".json")] + NORM
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    report = json.load(open(rep)) if os.path.exists(rep) else None
    if report is None:
        sys.stderr.write("%s %s: exit %d %s\n" % (model, recipe, code, err.strip().splitlines()[-1:] or ""))
    return ru.ru_utime + ru.ru_stime, wall, report, code


def search_cell(report):
    """Configurations the run measured, and how many of those validations
    stopped early (the exact rule: certainly over the budget)."""
    if not report:
        return "-"
    tried = report.get("tried", [])
    return "%d (%d early)" % (len(tried), sum(1 for t in tried if "early_stop" in t))


def same_file(a, b):
    if not (os.path.exists(a) and os.path.exists(b)):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def pass_figures(report):
    return [(p["name"], p.get("outcome"), p.get("bytes"), p.get("accuracy")) for p in report.get("passes", [])]


def pass_cell(report, scale):
    if not report:
        return "-"
    return ", ".join("%s %.1f" % (PASS_ABBREV.get(p["name"], p["name"]), p["seconds"] * scale)
                     for p in report.get("passes", []))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build folder holding the shrink binary")
    ap.add_argument("--data", required=True, help="folder written by benchmarks/zoo/make_test_data.py")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--recipes", default="deep_compression", help="names in benchmarks/recipes (comma-separated)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--baseline", help="another shrink binary to time the same runs with")
    ap.add_argument("--out", help="also append the table to this markdown file")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    base = a.baseline
    hdr = "| model | recipe | pass seconds (CPU est.) | CPU s | wall s | ratio | val drop | measured (early) |"
    sep = "|---|---|---|---|---|---|---|---|"
    if base:
        hdr += " baseline CPU s | baseline measured | speed-up (CPU) | same output | same bytes |"
        sep += "---|---|---|---|---|"
    print(hdr)
    print(sep, flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.models.split(","):
            for r in a.recipes.split(","):
                cpu, wall, rep, code = run_once(shrink, m, r, a.data, a.threads, tmp)
                scale = cpu / wall if wall > 0 else 1.0
                ratio = "%.1fx" % rep["ratio"] if rep else "exit %d" % code
                drop = "%.2f" % rep["accuracy"]["drop"] if rep and "drop" in rep.get("accuracy", {}) else "-"
                row = "| %s | %s | %s | %.1f | %.1f | %s | %s | %s |" % (m, r, pass_cell(rep, scale), cpu, wall, ratio,
                                                                     drop, search_cell(rep))
                if base:
                    bcpu, bwall, brep, _ = run_once(base, m, r, a.data, a.threads, tmp, "base")
                    # the .lcm META holds the recipe as run (its text grows
                    # when passes gain parameters): compare what each pass
                    # produced and the accuracy instead of the file's bytes
                    same = bool(rep and brep and rep["accuracy"] == brep["accuracy"] and
                                pass_figures(rep) == pass_figures(brep))
                    row += " %.1f | %s | %.1fx | %s | %s |" % (
                        bcpu, search_cell(brep), bcpu / cpu if cpu else 0, "yes" if same else "no",
                        "yes" if same_file(os.path.join(tmp, "out.lcm"), os.path.join(tmp, "base.lcm")) else "no")
                print(row, flush=True)
                rows.append(row)
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n" + hdr + "\n" + sep + "\n" + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
