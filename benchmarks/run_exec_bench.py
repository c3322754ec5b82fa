#!/usr/bin/python3
"""Executor speed benchmark: shrink's executor vs ONNX Runtime.

    /usr/bin/python3 benchmarks/run_exec_bench.py [--build-dir build] [--save benchmarks/results/exec_speed.md]

For every zoo model (benchmarks/zoo/*.onnx) and two torchvision models
(resnet18, mobilenet_v2: seeded random weights, opset 13, dynamic batch),
at batch 1 and 64, with 1 and 2 threads, times benchmarks/bench_exec
(shrink, public API only) and benchmarks/ort/ort_bench.js (onnxruntime-node,
intra-op threads 1/2, inter-op 1, graph optimization 'all') on identical
inputs, and prints a table of milliseconds per sample, the ratio
shrink/ORT, and the largest difference between the two outputs.

What it sets up when missing:
  - builds the bench_exec target in --build-dir (configuring it with
    LC_BUILD_BENCHMARKS=ON if needed);
  - installs onnxruntime-node (version from benchmarks/ort/package.json)
    into benchmarks/.ort/ (git-ignored), with ONNXRUNTIME_NODE_INSTALL=skip
    so its install script does not try to download GPU binaries;
  - exports the torchvision models into <build-dir>/bench-cache/.

Each configuration is measured `--rounds` times per runtime, rotating
which goes first. ms/sample is the fastest timed batch over all rounds
divided by the batch size: on a shared 2-core machine other jobs only ever
add time, so the least disturbed run is the fairest estimate (the medians
are printed too). Both programs also report the CPU time of their process
per timed batch (user + system), which moves much less with the load; the
table gives both ratios. This is a benchmark, not a test: nothing here runs
in ctest.

Options for before/after comparisons and instruction sets:
  --baseline-build-dir DIR  also times DIR's bench_exec (another checkout's
                            build, e.g. the commit before a change) in the
                            same rotation, and prints its ratios beside;
  --isa LIST                runs shrink once per entry with LC_ISA set to it
                            (avx512, avx2, generic; "best" = unset), one row
                            each; the "isa" column is what bench_exec
                            reports it ran.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORT_DIR = os.path.join(HERE, ".ort")
TORCHVISION_MODELS = ["resnet18", "mobilenet_v2"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None, capture=True):
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), r.stdout or "", r.stderr or ""))
    return r.stdout


def ensure_bench_exec(build_dir):
    exe = os.path.join(build_dir, "benchmarks", "bench_exec")
    cache = os.path.join(build_dir, "CMakeCache.txt")
    configured = os.path.exists(cache) and "LC_BUILD_BENCHMARKS:BOOL=ON" in open(cache).read()
    if not configured:
        log("configuring %s with LC_BUILD_BENCHMARKS=ON" % build_dir)
        run(["cmake", "-S", ROOT, "-B", build_dir, "-DLC_BUILD_BENCHMARKS=ON"])
    log("building bench_exec in %s" % build_dir)
    r = subprocess.run(["cmake", "--build", build_dir, "--target", "bench_exec", "-j2"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        if not os.path.exists(exe):
            sys.exit("building bench_exec failed:\n" + r.stdout[-4000:])
        log("warning: rebuilding bench_exec failed; timing the existing %s" % exe)
    return exe


def ensure_ort():
    pkg = os.path.join(ORT_DIR, "node_modules", "onnxruntime-node", "package.json")
    with open(os.path.join(HERE, "ort", "package.json")) as f:
        version = json.load(f)["dependencies"]["onnxruntime-node"]
    if os.path.exists(pkg) and json.load(open(pkg))["version"] == version:
        return version
    log("installing onnxruntime-node@%s into %s" % (version, ORT_DIR))
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", ORT_DIR,
         "onnxruntime-node@" + version], env=env)
    return version


def export_torchvision(cache_dir):
    """resnet18 and mobilenet_v2 with seeded random weights, opset 13,
    dynamic batch. Exported once into cache_dir."""
    paths = {name: os.path.join(cache_dir, name + ".onnx") for name in TORCHVISION_MODELS}
    missing = [n for n, p in paths.items() if not os.path.exists(p)]
    if missing:
        import torch
        import torchvision
        os.makedirs(cache_dir, exist_ok=True)
        for name in missing:
            log("exporting torchvision %s to %s" % (name, paths[name]))
            torch.manual_seed(0)
            model = getattr(torchvision.models, name)(weights=None)
            # Default init leaves BatchNorm's running statistics at 0/1, so
            # activations shrink layer by layer (mobilenet_v2's logits end
            # near 1e-9). A few train-mode passes over random images set
            # them to the batch statistics, giving outputs of a sane scale.
            for mod in model.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.momentum = None  # cumulative average
            model.train()
            with torch.no_grad():
                for _ in range(4):
                    model(torch.randn(16, 3, 224, 224))
            model.eval()
            x = torch.zeros(1, 3, 224, 224)
            tmp = paths[name] + ".tmp"
            torch.onnx.export(model, x, tmp, opset_version=13, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(tmp, paths[name])
    return [(n, paths[n]) for n in TORCHVISION_MODELS]


def sample_shapes(path):
    """Per-sample dims (without the batch dim) of each graph input that is
    not an initializer."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    shapes = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim][1:]
        if any(d <= 0 for d in dims):
            sys.exit("%s: input '%s' has unknown dims besides the batch dim" % (path, vi.name))
        shapes.append(dims)
    return shapes


def budget(name, batch):
    """(warmup, iters, max_seconds) per measurement, so the whole run stays
    around five minutes on 2 cores."""
    big = name in TORCHVISION_MODELS
    if big and batch >= 64:
        return 1, 3, 0.5
    if big:
        return 2, 15, 1.0
    return 3, 200, 0.6


def measure(cmd, env=None):
    out = run(cmd, env)
    return json.loads(out.strip().splitlines()[-1])


def measure_config(name, path, shapes, batch, th, isa, bench_exec, baseline, cache_dir, rounds, raw):
    """One row: `rounds` measurements of each program, rotating the order."""
    warmup, iters, max_s = budget(name, batch)
    common = ["--batch", str(batch), "--threads", str(th), "--warmup", str(warmup),
              "--iters", str(iters), "--max-seconds", str(max_s)]
    env = dict(os.environ)
    env.pop("LC_ISA", None)
    if isa != "best":
        env["LC_ISA"] = isa
    cmd_ort = ["node", os.path.join(HERE, "ort", "ort_bench.js"), path] + common
    for s in shapes:
        cmd_ort += ["--shape", "x".join(str(d) for d in s)]
    sides = [("shrink", [bench_exec, path] + common, os.path.join(cache_dir, "out_shrink.npy")),
             ("ort", cmd_ort, os.path.join(cache_dir, "out_ort.npy"))]
    if baseline:
        sides.append(("before", [baseline, path] + common, os.path.join(cache_dir, "out_before.npy")))
    best, cpu = {}, {}
    for r in range(rounds):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for side, cmd, out in order:
            rec = measure(cmd + (["--out", out] if r == 0 else []), env)
            raw.append(dict(rec, side=side, name=name, round=r, isa_cap=isa))
            if side not in best or rec["min_ms"] < best[side]["min_ms"]:
                best[side] = rec
            if "cpu_ms" in rec and (side not in cpu or rec["cpu_ms"] < cpu[side]):
                cpu[side] = rec["cpu_ms"]
    a, b = np.load(sides[0][2]), np.load(sides[1][2])
    diff = float(np.abs(a.astype(np.float64) - b).max()) if a.shape == b.shape else float("nan")
    scale = float(np.abs(b).max()) if b.size else 0.0
    ms = {k: v["min_ms"] / batch for k, v in best.items()}
    cpu = {k: v / batch for k, v in cpu.items()}
    row = dict(model=name, batch=batch, threads=th, isa=best["shrink"].get("isa", "?"),
               shrink=ms["shrink"], ort=ms["ort"], ratio=ms["shrink"] / ms["ort"],
               shrink_cpu=cpu.get("shrink"), ort_cpu=cpu.get("ort"),
               cpu_ratio=cpu["shrink"] / cpu["ort"] if "shrink" in cpu and "ort" in cpu else None,
               shrink_median=best["shrink"]["ms_per_sample"], ort_median=best["ort"]["ms_per_sample"],
               max_abs_diff=diff, max_abs_out=scale, agree=bool(a.shape == b.shape and diff <= 1e-4 * scale),
               runs=(best["shrink"]["runs"], best["ort"]["runs"]))
    if baseline:
        row.update(before=ms["before"], before_ratio=ms["before"] / ms["ort"], before_cpu=cpu.get("before"),
                   before_cpu_ratio=cpu["before"] / cpu["ort"] if "before" in cpu and "ort" in cpu else None)
    log("%-14s batch %3d threads %d isa %-7s: shrink %.4f ms/sample, ORT %.4f, ratio %.2fx (CPU %s)%s, max|diff| %.2g"
        % (name, batch, th, row["isa"], ms["shrink"], ms["ort"], row["ratio"], fmt_ratio(row["cpu_ratio"]),
           ", before %.2fx (CPU %s)" % (row["before_ratio"], fmt_ratio(row["before_cpu_ratio"])) if baseline else "",
           diff))
    return row


def fmt_ratio(x):
    return "-" if x is None else "%.2fx" % x


def fmt_ms(x):
    return "-" if x is None else "%.4f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                    help="CMake build folder holding (or to hold) bench_exec; the model cache goes in its bench-cache/")
    ap.add_argument("--models", default="", help="comma-separated subset of model names")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=2, help="measurements per runtime and configuration")
    ap.add_argument("--save", default="", help="also write the table as markdown to this file")
    ap.add_argument("--baseline-build-dir", default="",
                    help="a second build (e.g. before a change) timed in the same rounds")
    ap.add_argument("--isa", default="best", help="comma-separated LC_ISA caps (best = unset)")
    args = ap.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    cache_dir = os.path.join(build_dir, "bench-cache")
    os.makedirs(cache_dir, exist_ok=True)
    bench_exec = ensure_bench_exec(build_dir)
    baseline = ensure_bench_exec(os.path.abspath(args.baseline_build_dir)) if args.baseline_build_dir else None
    ort_version = ensure_ort()
    models = [(os.path.splitext(os.path.basename(p))[0], p)
              for p in sorted(glob.glob(os.path.join(HERE, "zoo", "*.onnx")))]
    models += export_torchvision(cache_dir)
    if args.models:
        keep = set(args.models.split(","))
        models = [mp for mp in models if mp[0] in keep]
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]

    load_before = os.getloadavg()
    t_start = time.time()
    rows, raw = [], []
    isas = args.isa.split(",")
    for name, path in models:
        shapes = sample_shapes(path)
        for batch in batches:
            for th in threads:
                for isa in isas:
                    rows.append(measure_config(name, path, shapes, batch, th, isa, bench_exec, baseline, cache_dir,
                                               args.rounds, raw))
    elapsed = time.time() - t_start
    load_after = os.getloadavg()

    before = bool(baseline)
    head = ["model", "batch", "threads", "isa", "shrink ms/sample", "ORT ms/sample", "ratio",
            "shrink CPU ms/sample", "ORT CPU ms/sample", "CPU ratio"]
    if before:
        head += ["before ms/sample", "before ratio", "before CPU ratio"]
    head += ["outputs agree (max abs diff / max abs out)", "medians shrink / ORT"]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | ---: | ---: | --- | " + "---: | " * (6 + 3 * before) + "--- | --- |"]
    for r in rows:
        cells = [r["model"], str(r["batch"]), str(r["threads"]), r["isa"], "%.4f" % r["shrink"], "%.4f" % r["ort"],
                 "%.2fx" % r["ratio"], fmt_ms(r["shrink_cpu"]), fmt_ms(r["ort_cpu"]), fmt_ratio(r["cpu_ratio"])]
        if before:
            cells += ["%.4f" % r["before"], "%.2fx" % r["before_ratio"], fmt_ratio(r["before_cpu_ratio"])]
        cells += ["%s (%.2g / %.3g)" % ("yes" if r["agree"] else "NO", r["max_abs_diff"], r["max_abs_out"]),
                  "%.4f / %.4f" % (r["shrink_median"], r["ort_median"])]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    print("\n%d configurations in %.0f s; load average %.1f before, %.1f after" %
          (len(rows), elapsed, load_before[0], load_after[0]))
    with open(os.path.join(cache_dir, "exec_speed.json"), "w") as f:
        json.dump({"rows": rows, "raw": raw}, f, indent=1)

    if args.save:
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        except (OSError, StopIteration):
            pass
        node_v = run(["node", "--version"]).strip()
        cmd = "/usr/bin/python3 benchmarks/run_exec_bench.py " + " ".join(
            a if not a.startswith(ROOT) else os.path.relpath(a, ROOT) for a in sys.argv[1:])
        text = ["# Executor speed: shrink vs ONNX Runtime", "",
                "- date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                "- machine: %s, %d cores, %s; load average %.1f before / %.1f after the run (other jobs shared the cores)"
                % (cpu, os.cpu_count() or 0, platform.platform(), load_before[0], load_after[0]),
                "- ONNX Runtime: onnxruntime-node %s (node %s), intraOpNumThreads = threads, interOpNumThreads 1, "
                "graphOptimizationLevel 'all'" % (ort_version, node_v),
                "- shrink: bench_exec (public API: lc_executor_create_batch, lc_executor_run), OpenBLAS",
                "- command: `%s`" % cmd.strip(),
                "- method: identical inputs (an integer formula in [-1, 1]); per configuration %d rounds per program, "
                "rotating order; ms/sample = fastest timed batch / batch (medians in the last column); ratio = shrink / ORT "
                "(below 1.0 is faster than ORT); CPU = the process's user + system time per timed batch / batch, "
                "lowest round%s; isa = the kernels' instruction set bench_exec reports (LC_ISA cap: %s)" % (
                    args.rounds, "; before = --baseline-build-dir %s" % args.baseline_build_dir if before else "",
                    args.isa),
                "- models: benchmarks/zoo/*.onnx, torchvision resnet18 and mobilenet_v2 (seeded random weights, "
                "opset 13, exported by the script)", "", table, ""]
        # Hand-written analysis below the table ("## " sections) survives
        # a re-run.
        if os.path.exists(args.save):
            with open(args.save) as f:
                old = f.read()
            cut = old.find("\n## ")
            if cut >= 0:
                text.append(old[cut + 1:].rstrip("\n"))
                text.append("")
        os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
        with open(args.save, "w") as f:
            f.write("\n".join(text))
        log("wrote %s" % args.save)


if __name__ == "__main__":
    main()
