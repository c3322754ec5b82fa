#!/usr/bin/python3
"""Short run of the retraining example (bindings/python/examples/retrain.py)
on LeNet-300-100: 200 pruning steps and 100 centroid fine-tuning steps on
4000 training images, evaluated on the first 2000 test images.

Checks (each against something computed independently):
- the .lcm's top-1 from `shrink eval` (C executor) equals PyTorch's top-1 of
  the retrained model on the same images within 0.1 point;
- the float view of every tensor in the .lcm equals the PyTorch model's
  weights bit for bit (masks, fine-tuned codebooks and biases written
  exactly);
- each layer has the asked sparsity (kept = numel - round(sparsity *
  numel)) and at most 2^bits - 1 distinct nonzero values, stored as a
  Huffman-coded codebook of 2^bits entries whose first entry is 0;
- retraining is worth it: the retrained .lcm beats the same masks applied
  without retraining by more than 10 points;
- the size ratio .onnx/.lcm is at least 40.
"""
import os
import sys
import tempfile

SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("LC_BUILD_DIR", os.path.join(SRC, "build"))
os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(BUILD, "libcompress.so"))
os.environ.setdefault("SHRINK", os.path.join(BUILD, "shrink"))
sys.path.insert(0, os.path.join(SRC, "bindings", "python", "examples"))

import numpy as np  # noqa: E402

import retrain  # noqa: E402
import shrink  # noqa: E402  (put on the path by retrain)

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


layers = retrain.DEFAULTS["lenet300"]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "lenet300.lcm")
    res = retrain.run("lenet300", out, layers, prune_steps=200, share_steps=100, stages=5, batch=64,
                      train_limit=4000, test_limit=2000, seed=0, threads=2, log=None)
    print({k: v for k, v in res.items() if k != "layers"})
    check(abs(res["top1_lcm"] - res["top1_torch"]) <= 0.1,
          f".lcm top-1 by shrink eval {res['top1_lcm']:.2f}% = PyTorch {res['top1_torch']:.2f}% (within 0.1)")
    check(res["lcm_weights_equal_torch"], "every tensor of the .lcm equals the PyTorch weights bit for bit")
    m = shrink.load(out)
    for name, (sp, bits) in layers.items():
        info = m.weight_info(name)
        w = m.weight(name)
        want_kept = info["numel"] - int(round(sp * info["numel"]))
        distinct = len(np.unique(w[w != 0]))
        table, codes = m.codebook(name)
        ok = (info["kept"] == want_kept == int(np.count_nonzero(w)) and distinct <= (1 << bits) - 1
              and info["encoding"] == "codebook" and info["n_codes"] == 1 << bits and info["entropy_coded"]
              and table[0, 0] == 0 and np.array_equal(table[0][codes], w))
        check(ok, f"{name}: kept {info['kept']} (want {want_kept}), {distinct} distinct nonzero values "
                  f"(<= {(1 << bits) - 1}), {info['encoding']} with {info['n_codes']} codes, "
                  f"Huffman {info['entropy_coded']}")
    check(res["top1_lcm"] > res["top1_pruned_no_retrain"] + 10,
          f"retrained {res['top1_lcm']:.2f}% vs the same sparsity without retraining "
          f"{res['top1_pruned_no_retrain']:.2f}%")
    check(res["ratio"] >= 40, f"size ratio .onnx/.lcm {res['ratio']:.1f} >= 40 ({res['lcm_bytes']} bytes)")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
