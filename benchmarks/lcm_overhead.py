#!/usr/bin/python3
"""The bytes of a small model's .lcm outside its weights, per section:
format 2.0 (an older build's writer) against this build's 3.0.

  /usr/bin/python3 benchmarks/lcm_overhead.py --old-build OLD --build NEW [--zoo2 /tmp/zoo2]

Every model (zoo 1, and zoo 2 when given): fold-batchnorm, then
prune-magnitude (per layer, 0.8), quantize-kmeans 3 bits, huffman, written
by `lcm_tool encode` (no data: the same weights in every column). Columns:
"2.0" the old build with `huffman` (float16 biases); "3.0 f16" this build
with `huffman` (the preset graph dictionary only); "3.0 i8" this build with
`huffman:small=i8` (the biases also on the 8-bit grid). Rows: header and
section heads, META, GRAPH (the deflated skeleton), the records of the 1-D
float tensors (biases; folded BatchNorms leave only those) and of the
weights, and the file. Needs OLD/tests/lcm_tool and NEW/tests/lcm_tool.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import onnx

PASSES = ["fold-batchnorm", "prune-magnitude:sparsity=0.8,scope=layer", "quantize-kmeans:bits=3,correct=none"]


def sh(args):
    r = subprocess.run(args, capture_output=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(args), r.stderr.decode().strip()))
    return r.stdout


def sections(tool, model, small, tmp):
    lcm = os.path.join(tmp, "m.lcm")
    sh([tool, "encode", model, lcm] + PASSES + ["huffman" + (":small=" + small if small else "")])
    st = json.loads(sh([tool, "stats", lcm]))
    ndim = {t.name: len(t.dims) for t in onnx.load(model).graph.initializer}
    small_b = sum(t["bytes"] for t in st["tensors"] if ndim.get(t["name"], 2) == 1)
    weights = sum(t["bytes"] for t in st["tensors"]) - small_b
    return {"header": st["header_bytes"], "META": st["meta_bytes"], "GRAPH": st["graph_bytes"],
            "1-D vectors": small_b, "weights": weights, "file": st["file_bytes"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old-build", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--zoo2")
    a = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    old, new = (os.path.join(b, "tests", "lcm_tool") for b in (a.old_build, a.build))
    zoos = [("1", os.path.join(src, "benchmarks", "zoo"))] + ([("2", a.zoo2)] if a.zoo2 else [])
    print("| zoo | model | section | 2.0 | 3.0 f16 | 3.0 i8 | i8 - 2.0 |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for z, d in zoos:
            for name in ("dscnn", "lenet5", "resnet8"):
                model = os.path.join(d, name + ".onnx")
                if not os.path.exists(model):
                    continue
                cols = [sections(old, model, None, tmp), sections(new, model, None, tmp),
                        sections(new, model, "i8", tmp)]
                for k in cols[0]:
                    v = [c[k] for c in cols]
                    print(f"| {z} | {name} | {k} | {v[0]} | {v[1]} | {v[2]} | {v[2] - v[0]:+d} |")
                out = cols[2]["file"] - cols[2]["weights"]
                print(f"| {z} | {name} | outside the weights | {cols[0]['file'] - cols[0]['weights']} | "
                      f"{cols[1]['file'] - cols[1]['weights']} | {out} | "
                      f"{out - cols[0]['file'] + cols[0]['weights']:+d} |", flush=True)


if __name__ == "__main__":
    main()
