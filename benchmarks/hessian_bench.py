"""Second-order passes on the model zoo: prune-hessian vs prune-magnitude,
quantize-gptq vs round-to-nearest.

Top-1 on the Fashion-MNIST test set (10000 images) of each zoo model after:
  - prune-magnitude and prune-hessian, each scope=layer and scope=global
    (prune-hessian's other parameters at their defaults), at 50/70/80/90/95%
    sparsity, both with correct=auto (BatchNorm re-estimation on models
    with BatchNorm, bias correction otherwise) on 500 calibration images;
  - quantize-gptq at 4 and 3 bits (uniform per-channel grid, and the
    layer's k-means codebook), against the same pass with damp=1e6, whose
    damping swamps H so that nothing is compensated: round-to-nearest onto
    the same grid.
Each pass runs through lc_pass_tool (one pass, no pipeline) and the result
is evaluated with `shrink eval`. Prints a markdown table plus seconds per
pass.

usage: /usr/bin/python3 benchmarks/hessian_bench.py BUILD_DIR [--models a,b] [--sparsities 0.5,0.8]
       [--bits 4,3] [--extra k=v,...]   (extra prune-hessian parameters)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ZOO = os.path.join(HERE, "zoo")
MEAN, STD = "0.2860", "0.3530"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--sparsities", default="0.5,0.7,0.8,0.9,0.95")
    ap.add_argument("--bits", default="4,3")
    ap.add_argument("--extra", default="", help="extra prune-hessian parameters, e.g. sequential=false")
    args = ap.parse_args()
    tool = os.path.join(args.build, "tests", "lc_pass_tool")
    shrink = os.path.join(args.build, "shrink")
    tmp = tempfile.mkdtemp(prefix="hessian_bench_")
    data = os.path.join(tmp, "data")
    subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", data], check=True,
                   capture_output=True)
    calib = os.path.join(data, "calib_u8.npy")
    test_x, test_y = os.path.join(data, "test_u8.npy"), os.path.join(data, "test_labels.npy")

    def top1(model):
        r = subprocess.run([shrink, "eval", model, "--data", test_x, "--labels", test_y, "--mean", MEAN, "--std", STD,
                            "--json"], capture_output=True, text=True, check=True)
        return float(json.loads(r.stdout)["top1"])

    def run(model, pass_name, params):
        out = os.path.join(tmp, "out.onnx")
        t0 = time.time()
        r = subprocess.run([tool, model, out, pass_name, params, "--calib", calib, "--mean", MEAN, "--std", STD,
                            "--threads", "2"], capture_output=True, text=True)
        dt = time.time() - t0
        if r.returncode != 0:
            return None, dt, r.stderr.strip()
        return top1(out), dt, ""

    print("command: /usr/bin/python3 benchmarks/hessian_bench.py %s" % " ".join(sys.argv[1:]))
    sparsities = [float(s) for s in args.sparsities.split(",") if s]
    bits = [int(b) for b in args.bits.split(",") if b]
    rows = []
    for name in args.models.split(","):
        model = os.path.join(ZOO, name + ".onnx")
        if not os.path.exists(model):
            print("skip %s: no model" % name)
            continue
        base = top1(model)
        print("\n### %s (float top-1 %.2f)\n" % (name, base))
        print("| sparsity | magnitude layer | magnitude global | hessian layer | hessian global | "
              "best hessian - best magnitude | s (mag layer / mag global / hes layer / hes global) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for sp in sparsities:
            res, secs, errs = {}, {}, []
            for pname in ("prune-magnitude", "prune-hessian"):
                for scope in ("layer", "global"):
                    extra = "," + args.extra if args.extra and pname == "prune-hessian" else ""
                    acc, dt, err = run(model, pname, "sparsity=%g,scope=%s%s" % (sp, scope, extra))
                    res[pname, scope], secs[pname, scope] = acc, dt
                    if err:
                        errs.append(err)
            if errs:
                print("| %.0f%% | error: %s |" % (100 * sp, errs[0]))
                continue
            best_m = max(res["prune-magnitude", "layer"], res["prune-magnitude", "global"])
            best_h = max(res["prune-hessian", "layer"], res["prune-hessian", "global"])
            rows.append((name, sp, res))
            print("| %.0f%% | %.2f | %.2f | %.2f | %.2f | %+.2f | %.1f / %.1f / %.1f / %.1f |" % (
                100 * sp, res["prune-magnitude", "layer"], res["prune-magnitude", "global"],
                res["prune-hessian", "layer"], res["prune-hessian", "global"], best_h - best_m,
                secs["prune-magnitude", "layer"], secs["prune-magnitude", "global"],
                secs["prune-hessian", "layer"], secs["prune-hessian", "global"]))
        print("\n| setting | round-to-nearest | GPTQ | GPTQ - RTN | s (rtn / gptq) |")
        print("| --- | --- | --- | --- | --- |")
        for b in bits:
            for grid in ("uniform", "kmeans"):
                # a damping that swamps H (1e6 x its mean diagonal) leaves
                # no error compensation: round-to-nearest on the same grid
                rtn, tr, er = run(model, "quantize-gptq", "bits=%d,grid=%s,damp=1e6" % (b, grid))
                gq, tg, eg = run(model, "quantize-gptq", "bits=%d,grid=%s" % (b, grid))
                if rtn is None or gq is None:
                    print("| %d bits %s | error: %s | error: %s | | |" % (b, grid, er, eg))
                    continue
                rows.append((name, "gptq-%s" % grid, b, rtn, gq))
                print("| %d bits %s | %.2f | %.2f | %+.2f | %.1f / %.1f |" % (b, grid, rtn, gq, gq - rtn, tr, tg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
