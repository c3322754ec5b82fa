#!/usr/bin/python3
"""Writes the seed corpus of one fuzz target (generated at build time, never
committed; only crashing inputs are kept, under regress/).

  make_corpus.py lcm    SOURCE_DIR OUT_DIR LCM_TOOL
      lenet5 stored plain and after each kind of compression (pruned,
      quantized, binarized, entropy coded), plus damaged copies
  make_corpus.py onnx   SOURCE_DIR OUT_DIR
      the ONNX backend test models (/usr/share/libonnx-testdata) and the zoo
  make_corpus.py npy    SOURCE_DIR OUT_DIR
  make_corpus.py idx    SOURCE_DIR OUT_DIR
      arrays of every supported dtype and a few shapes, plain and gzip'ed
      (the first byte of a data seed is the fuzz target's mode byte)
  make_corpus.py recipe SOURCE_DIR OUT_DIR
      the recipes of benchmarks/recipes, hand-written ones and pass specs
"""
import glob
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys


def lcm_seeds(src, out, tool):
    model = os.path.join(src, "benchmarks", "zoo", "lenet5.onnx")
    recipes = {
        "plain": [],
        "pruned": ["prune-magnitude:sparsity=0.95"],
        "pruned_huffman": ["prune-magnitude:sparsity=0.9", "huffman"],
        "kmeans": ["prune-magnitude:sparsity=0.95", "quantize-kmeans:bits=3,correct=none", "huffman"],
        "int8": ["prune-magnitude:sparsity=0.95", "quantize-int8:correct=none,weights_only=true"],
        "binary": ["prune-magnitude:sparsity=0.9", "binarize:correct=none", "huffman"],
        # format 3.0's grid records (biases on the 8-bit grid)
        "grid": ["prune-magnitude:sparsity=0.95", "quantize-kmeans:bits=3,correct=none", "huffman:small=i8"],
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
    # format 1.0 and 2.0 files (read only since 2.0 and 3.0), so the fuzzer
    # keeps the old readers covered too
    for v in ("v1", "v2"):
        for path in sorted(glob.glob(os.path.join(src, "tests", "data", "lcm_" + v, "*.lcm"))):
            shutil.copy(path, os.path.join(out, v + "_" + os.path.basename(path)))
            made += 1
    return made


def onnx_seeds(src, out):
    made = 0
    root = "/usr/share/libonnx-testdata/data"
    for path in sorted(glob.glob(os.path.join(root, "*", "*", "model.onnx"))):
        if os.path.getsize(path) > 65536:
            continue
        kind, case = path.split(os.sep)[-3:-1]
        shutil.copyfile(path, os.path.join(out, "%s_%s.onnx" % (kind, case)))
        made += 1
    for path in sorted(glob.glob(os.path.join(src, "benchmarks", "zoo", "*.onnx"))):
        shutil.copyfile(path, os.path.join(out, "zoo_" + os.path.basename(path)))
        made += 1
    return made


def npy_bytes(np, a, version=1):
    if version == 1:
        buf = io.BytesIO()
        np.save(buf, a)
        return buf.getvalue()
    # format 2.0/3.0: the same dict, a 4-byte header length
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (a.dtype.str, a.shape)
    hdr = hdr.encode("utf-8" if version == 3 else "latin1")
    pad = (-(12 + len(hdr) + 1)) % 64
    hdr += b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(hdr)) + hdr + a.tobytes()


def arrays(np):
    rng = np.random.default_rng(1)
    yield "f32", rng.standard_normal((3, 2, 2)).astype("<f4")
    yield "f64", rng.standard_normal((2, 3)).astype("<f8")
    yield "u8", rng.integers(0, 255, (2, 2, 3)).astype("u1")
    yield "i8", rng.integers(-9, 9, (4,)).astype("i1")
    yield "i16", rng.integers(0, 9, (3, 1)).astype("<i2")
    yield "u16", rng.integers(0, 9, (3,)).astype("<u2")
    yield "i32", rng.integers(0, 9, (2, 2)).astype("<i4")
    yield "u32", rng.integers(0, 9, (5,)).astype("<u4")
    yield "i64", rng.integers(0, 9, (4, 1)).astype("<i8")
    yield "u64", rng.integers(0, 9, (3,)).astype("<u8")
    yield "bool", rng.integers(0, 2, (6,)).astype("?")


def data_seeds(kind, out):
    import numpy as np

    made = 0

    def put(name, mode, payload):
        nonlocal made
        # bit 0 of the mode byte makes the target gzip the payload itself
        open(os.path.join(out, name), "wb").write(bytes([mode]) + payload)
        made += 1

    for name, a in arrays(np):
        if kind == "npy":
            for v in (1, 2, 3):
                put("%s_v%d" % (name, v), 0, npy_bytes(np, a, v))
            put(name + "_gz", 1, npy_bytes(np, a))
            put(name + "_gzfile", 0, gzip.compress(npy_bytes(np, a), mtime=0))
            put(name + "_limit_norm", 6, npy_bytes(np, a))
        else:
            codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
            code = codes.get(a.dtype.str[1:])
            if code is None:
                continue
            hdr = bytes([0, 0, code, a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape)
            body = hdr + a.astype(a.dtype.newbyteorder(">")).tobytes()
            put(name, 0, body)
            put(name + "_gz", 1, body)
            put(name + "_gzfile", 0, gzip.compress(body, mtime=0))
            put(name + "_limit_norm", 6, body)
    if kind == "idx":
        # labels as an idx1 file, an image set as idx3
        put("labels_idx1", 0, bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + bytes([1, 2, 3, 4, 5]))
        put("images_idx3", 1, bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 3) + bytes(range(18)))
    return made


def recipe_seeds(src, out):
    made = 0
    for path in sorted(glob.glob(os.path.join(src, "benchmarks", "recipes", "*.json"))):
        shutil.copyfile(path, os.path.join(out, os.path.basename(path)))
        made += 1
    hand = {
        "full.json": '{"name": "x", "description": "y", "passes": [{"pass": "prune-hessian", "sparsity": 0.8},'
        ' {"pass": "quantize-kmeans", "bits": 4}, {"pass": "huffman"}], "validate": {"max_drop": 0.5}}',
        "int8.json": '{"passes": [{"pass": "prune-magnitude", "sparsity": 0.5, "exclude": ["conv1", "fc3"]},'
        ' {"pass": "quantize-int8", "weights_only": true, "correct": "none"}]}',
        "binarize.json": '{"passes": [{"pass": "binarize"}, {"pass": "huffman"}], "validate": {"max_drop": 2}}',
        "structured.json": '{"passes": [{"pass": "prune-structured", "sparsity": 1e-1}, {"pass": "fold-batchnorm"}]}',
        "bad_key.json": '{"passes": [{"pass": "huffman", "nope": -3}], "extra": null}',
        "spec_prune": "prune-magnitude:sparsity=0.9,exclude=conv1",
        "spec_kmeans": "quantize-kmeans:bits=3,correct=none",
        "spec_plain": "huffman",
    }
    for name, text in hand.items():
        open(os.path.join(out, name), "w").write(text)
        made += 1
    return made


def main():
    kind, src, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    if kind == "lcm":
        made = lcm_seeds(src, out, sys.argv[4])
    elif kind == "onnx":
        made = onnx_seeds(src, out)
    elif kind in ("npy", "idx"):
        made = data_seeds(kind, out)
    elif kind == "recipe":
        made = recipe_seeds(src, out)
    else:
        sys.exit("unknown corpus kind " + kind)
    if made == 0:
        sys.exit("no seed could be made")
    open(os.path.join(out, ".stamp"), "w").write("%d\n" % made)
    print("%s seeds: %d" % (kind, made))


main()
