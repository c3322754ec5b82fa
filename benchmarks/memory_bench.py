#!/usr/bin/python3
"""Peak memory of `shrink run` on a ~100 MB float model (issue 9).

Builds (once, cached) a torchvision ResNet-50 with random weights exported
to ONNX (25.6 M float parameters, about 102 MB), small random calibration
and validation sets (.npy, 3x224x224), then runs `shrink run` with
realistic pipelines and measures each run's peak resident set size (the
child's own ru_maxrss from wait4). Prints a markdown table: model bytes,
peak RSS, RSS / model bytes, seconds, output bytes. Goal: peak RSS <= 3x
the model's size.

How peak RSS is measured: the model is exported by a separate Python
process, so this launcher never holds it, and the figure is the child's
own VmHWM from /proc/PID/status, read every 20 ms until it exits (the high
water mark of its address space after exec). The child's ru_maxrss is
printed beside it only as a check: Linux carries the forked copy of the
parent's high-water mark over exec into ru_maxrss, which is how the first
version of this script reported 975.8 MB for a process that never held
that much.

    /usr/bin/python3 benchmarks/memory_bench.py --build BUILD_DIR [--work DIR]
        [--samples N] [--only NAME,...]

BUILD_DIR holds `shrink`; DIR (default BUILD_DIR/memory_bench) caches the
model and data.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PIPELINES = [
    # name, output suffix, shrink run arguments ({val}: the validation set)
    ("prune-magnitude, no calibration data", ".onnx", ["--pass", "prune-magnitude:sparsity=0.5"]),
    ("prune-magnitude + quantize-int8", ".onnx",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5", "--pass", "quantize-int8"]),
    ("prune-magnitude + quantize-kmeans + huffman", ".lcm",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5",
      "--pass", "quantize-kmeans:bits=4,compensate=none", "--pass", "huffman"]),
    ("same, with --val and --max-drop 1 (validation, back-off)", ".lcm",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5",
      "--pass", "quantize-kmeans:bits=4,compensate=none", "--pass", "huffman", "--val", "{val}", "--max-drop", "1"]),
    # BatchNormalization folded first: the executor then has no Conv+BN
    # pair to fuse, so it keeps no private copy of the folded weights
    ("fold-batchnorm + prune-magnitude + quantize-int8", ".onnx",
     ["--calib", "{calib}", "--pass", "fold-batchnorm", "--pass", "prune-magnitude:sparsity=0.5",
      "--pass", "quantize-int8"]),
]


def make_model(path):
    """Exports the model in a child process: this launcher must never hold
    torch or the model (its pages would show in the children's ru_maxrss)."""
    code = ("import sys; sys.path.insert(0, %r); import memory_bench as mb; mb.export_model(%r)"
            % (os.path.dirname(os.path.abspath(__file__)), path))
    subprocess.run([sys.executable, "-c", code], check=True)


def export_model(path):
    import torch
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)


def vm_hwm(pid):
    """The process's VmHWM in bytes, or None once it has exited."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_measured(cmd):
    """Runs cmd; returns (exit code, peak VmHWM bytes, ru_maxrss bytes,
    seconds, stderr, CPU seconds (user + sys))."""
    t0 = time.monotonic()
    err_file = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file)
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        h = vm_hwm(p.pid)
        if h:
            hwm = max(hwm, h)
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")
    return p.returncode, hwm, ru.ru_maxrss * 1024, time.monotonic() - t0, err, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--only", help="comma-separated row numbers (1-based) to run")
    args = ap.parse_args()
    shrink = os.path.join(args.build, "shrink")
    work = args.work or os.path.join(args.build, "memory_bench")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "resnet50_random.onnx")
    if not os.path.exists(model):
        print("exporting ResNet-50 (random weights) ...", file=sys.stderr)
        make_model(model)
    rng = np.random.default_rng(0)
    calib = os.path.join(work, "calib.npy")
    val = os.path.join(work, "val.npy")
    for path in (calib, val):
        if not os.path.exists(path):
            np.save(path, rng.standard_normal((args.samples, 3, 224, 224)).astype(np.float32))
    mbytes = os.path.getsize(model)
    rows = []
    only = {int(k) for k in args.only.split(",")} if args.only else None
    for k, (name, suffix, extra) in enumerate(PIPELINES, 1):
        if only and k not in only:
            continue
        out = os.path.join(work, "out%d%s" % (k, suffix))
        cmd = [shrink, "run", model, "-o", out, "--seed", "1", "--quiet"]
        cmd += [a.format(val=val, calib=calib) for a in extra]
        rc, rss, maxrss, secs, err, cpu = run_measured(cmd)
        if rc not in (0, 1):
            sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), rc, err.strip()))
        obytes = os.path.getsize(out) if os.path.exists(out) else 0
        rows.append((name, mbytes, rss, rss / mbytes, secs, obytes, maxrss))
        print("%.1f MB peak (ru_maxrss %.1f MB), %.1f s (CPU %.1f s): %s" % (rss / 1e6, maxrss / 1e6, secs, cpu, " ".join(os.path.relpath(c) if os.path.isabs(c) else c
                                                                      for c in cmd)), file=sys.stderr, flush=True)
    print("| pipeline | model bytes | peak RSS (VmHWM) | RSS / model | seconds | output bytes | ru_maxrss |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, mb, rss, ratio, secs, ob, maxrss in rows:
        print("| %s | %d (%.1f MB) | %.1f MB | %.2fx | %.1f | %d | %.1f MB |" % (name, mb, mb / 1e6, rss / 1e6, ratio,
                                                                              secs, ob, maxrss / 1e6))


if __name__ == "__main__":
    main()
