"""Top-1 of the zoo models (Fashion-MNIST test set) after unstructured
pruning, with and without statistics correction.

  /usr/bin/python3 benchmarks/prune_bench.py --build BUILD_DIR [--data DIR]
      [--models lenet300,lenet5,...] [--sparsity 0.5,0.7,...] [--calib-limit 500]
      [--limit N] [--markdown OUT.md]

Columns: prune-magnitude scope=layer and scope=global, each with
correct=none and correct=auto (BatchNorm re-estimation on models with
BatchNorm, bias correction otherwise; 500 calibration images from the
training set), and prune-hessian (scope=layer, correct=none and auto) when
the build has it. Each pass runs alone through tests/lc_pass_tool (no
pipeline, no accuracy budget); `shrink eval` measures top-1. Seconds per
pass are the mean wall time of the pass (including the correction).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = "0.2860", "0.3530"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build dir with shrink and tests/lc_pass_tool")
    ap.add_argument("--data", help="dir from benchmarks/zoo/make_test_data.py (made in a temp dir if absent)")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--sparsity", default="0.5,0.7,0.8,0.9,0.95")
    ap.add_argument("--calib-limit", type=int, default=500)
    ap.add_argument("--limit", type=int, default=0, help="evaluate on the first N test images (0: all 10000)")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--threads", type=int, default=2, help="threads per pass run")
    args = ap.parse_args()

    shrink = os.path.join(args.build, "shrink")
    tool = os.path.join(args.build, "tests", "lc_pass_tool")
    tmp = tempfile.mkdtemp(prefix="prune_bench_")
    data = args.data
    if not data:
        data = os.path.join(tmp, "data")
        subprocess.run([sys.executable, os.path.join(HERE, "zoo", "make_test_data.py"), "--out", data], check=True,
                       stdout=subprocess.DEVNULL)
    test_x, test_y = os.path.join(data, "test_u8.npy"), os.path.join(data, "test_labels.npy")
    calib = os.path.join(data, "calib_u8.npy")
    passes = subprocess.run([shrink, "passes"], capture_output=True, text=True).stdout
    has_hessian = "prune-hessian" in passes

    columns = [("mag-layer", "prune-magnitude", "scope=layer", "none"),
               ("mag-layer+corr", "prune-magnitude", "scope=layer", "auto"),
               ("mag-global", "prune-magnitude", "scope=global", "none"),
               ("mag-global+corr", "prune-magnitude", "scope=global", "auto")]
    if has_hessian:
        # hessian-layer: every layer at the same sparsity; hessian: the
        # pass's defaults (scope=global, layers share the sparsity by |w|)
        columns += [("hessian-layer+corr", "prune-hessian", "scope=layer", "auto"),
                    ("hessian", "prune-hessian", "scope=global", "none"),
                    ("hessian+corr", "prune-hessian", "scope=global", "auto")]

    def evaluate(model):
        cmd = [shrink, "eval", model, "--data", test_x, "--labels", test_y, "--mean", MEAN, "--std", STD, "--json"]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(r.stdout)["top1"]

    rows, seconds = [], {c[0]: [] for c in columns}
    per_model = {}
    for name in args.models.split(","):
        path = os.path.join(HERE, "zoo", name + ".onnx")
        if not os.path.exists(path):
            print("skipping %s: %s not found" % (name, path), file=sys.stderr)
            continue
        base = evaluate(path)
        for sp in [float(s) for s in args.sparsity.split(",")]:
            row = [name, "%.0f%%" % (sp * 100), "%.2f" % base]
            for label, pass_name, scope, correct in columns:
                out = os.path.join(tmp, "out.onnx")
                cmd = [tool, path, out, pass_name, "sparsity=%g,%s,correct=%s" % (sp, scope, correct),
                       "--calib", calib, "--mean", MEAN, "--std", STD, "--calib-limit", str(args.calib_limit),
                       "--threads", str(args.threads)]
                t0 = time.time()
                r = subprocess.run(cmd, capture_output=True, text=True)
                seconds[label].append(time.time() - t0)
                per_model.setdefault(name, {}).setdefault(label, []).append(seconds[label][-1])
                if r.returncode:
                    row.append("error")
                    print("%s: %s" % (" ".join(cmd), r.stderr.strip()), file=sys.stderr)
                    continue
                row.append("%.2f" % evaluate(out))
            rows.append(row)
            print(" | ".join(row), flush=True, file=sys.stderr)

    head = ["model", "sparsity", "float"] + [c[0] for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("seconds per pass (mean over all runs, incl. correction and saving): " +
                 ", ".join("%s %.2f" % (k, sum(v) / len(v)) for k, v in seconds.items() if v))
    lines.append("")
    lines.append("| model | " + " | ".join("s %s" % c[0] for c in columns) + " |")
    lines.append("|" + "---|" * (len(columns) + 1))
    for name, d in per_model.items():
        lines.append("| %s | " % name + " | ".join("%.2f" % (sum(d[c[0]]) / len(d[c[0]])) if d.get(c[0]) else "-"
                                                   for c in columns) + " |")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
