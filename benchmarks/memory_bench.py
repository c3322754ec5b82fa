#!/usr/bin/python3
"""Peak memory of `shrink run` on a ~100 MB float model (issue 9).

Builds (once, cached) a torchvision ResNet-50 with random weights exported
to ONNX (25.6 M float parameters, about 102 MB), small random calibration
and validation sets (.npy, 3x224x224), then runs `shrink run` with
realistic pipelines and measures each run's peak resident set size (the
child's own ru_maxrss from wait4). Prints a markdown table: model bytes,
peak RSS, RSS / model bytes, seconds, output bytes. Goal: peak RSS <= 3x
the model's size.

    /usr/bin/python3 benchmarks/memory_bench.py --build BUILD_DIR [--work DIR]
        [--samples N] [--only NAME,...]

BUILD_DIR holds `shrink`; DIR (default BUILD_DIR/memory_bench) caches the
model and data.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

PIPELINES = [
    # name, output suffix, shrink run arguments ({val}: the validation set)
    ("prune-magnitude, no calibration data", ".onnx", ["--pass", "prune-magnitude:sparsity=0.5"]),
    ("prune-magnitude + quantize-int8", ".onnx",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5", "--pass", "quantize-int8"]),
    ("prune-magnitude + quantize-kmeans + huffman", ".lcm",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5", "--pass", "quantize-kmeans:bits=4",
      "--pass", "huffman"]),
    ("same, with --val and --max-drop 1 (validation, back-off)", ".lcm",
     ["--calib", "{calib}", "--pass", "prune-magnitude:sparsity=0.5", "--pass", "quantize-kmeans:bits=4",
      "--pass", "huffman", "--val", "{val}", "--max-drop", "1"]),
    # BatchNormalization folded first: the executor then has no Conv+BN
    # pair to fuse, so it keeps no private copy of the folded weights
    ("fold-batchnorm + prune-magnitude + quantize-int8", ".onnx",
     ["--calib", "{calib}", "--pass", "fold-batchnorm", "--pass", "prune-magnitude:sparsity=0.5",
      "--pass", "quantize-int8"]),
]


def make_model(path):
    import torch
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)


def run_measured(cmd):
    """Runs cmd; returns (exit code, peak RSS bytes of that child, seconds, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss * 1024, time.monotonic() - t0, err.decode(errors="replace")


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
        rc, rss, secs, err = run_measured(cmd)
        if rc not in (0, 1):
            sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), rc, err.strip()))
        obytes = os.path.getsize(out) if os.path.exists(out) else 0
        rows.append((name, mbytes, rss, rss / mbytes, secs, obytes))
        print("%.1f MB peak, %.1f s: %s" % (rss / 1e6, secs, " ".join(os.path.relpath(c) if os.path.isabs(c) else c
                                                                      for c in cmd)), file=sys.stderr, flush=True)
    print("| pipeline | model bytes | peak RSS | RSS / model | seconds | output bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, mb, rss, ratio, secs, ob in rows:
        print("| %s | %d (%.1f MB) | %.1f MB | %.2fx | %.1f | %d |" % (name, mb, mb / 1e6, rss / 1e6, ratio, secs, ob))


main()
