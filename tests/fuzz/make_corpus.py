#!/usr/bin/python3
"""Writes the seed corpus of the .lcm fuzz target: lenet5 stored plain and
after each kind of compression (pruned, quantized, binarized, entropy
coded), plus a few damaged copies.

  make_corpus.py LCM_TOOL SOURCE_DIR OUT_DIR
"""
import os
import subprocess
import sys

tool, src, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
model = os.path.join(src, "benchmarks", "zoo", "lenet5.onnx")
recipes = {
    "plain": [],
    "pruned": ["prune-magnitude:sparsity=0.95"],
    "pruned_huffman": ["prune-magnitude:sparsity=0.9", "huffman"],
    "kmeans": ["prune-magnitude:sparsity=0.95", "quantize-kmeans:bits=3,correct=none", "huffman"],
    "int8": ["prune-magnitude:sparsity=0.95", "quantize-int8:correct=none,weights_only=true"],
    "binary": ["prune-magnitude:sparsity=0.9", "binarize:correct=none", "huffman"],
}
made = 0
for name, passes in recipes.items():
    path = os.path.join(out, name + ".lcm")
    r = subprocess.run([tool, "encode", model, path] + passes, capture_output=True, text=True)
    if r.returncode != 0:
        # a pass another component owns may not exist (yet) in this build
        print("skipped %s: %s" % (name, r.stderr.strip()), file=sys.stderr)
        continue
    made += 1
    data = open(path, "rb").read()
    for k, at in enumerate([8, 40, len(data) // 2, len(data) - 3]):
        bad = bytearray(data)
        bad[at] ^= 0x21
        open(os.path.join(out, "%s_flip%d.lcm" % (name, k)), "wb").write(bytes(bad))
    open(os.path.join(out, name + "_cut.lcm"), "wb").write(data[: len(data) // 3])
if made == 0:
    sys.exit("no seed could be made")
print("seeds:", made)
