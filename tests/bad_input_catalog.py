#!/usr/bin/python3
"""The bad-input catalog (issue 9): a table of broken models, data files,
recipes and command lines for every `shrink` command. Each case must

  - exit with the code DESIGN.md section 4 gives (2: bad usage or bad input),
  - print nothing on stdout and exactly one line on stderr that contains
    the names it should (the file, node, tensor, input or parameter),
  - create no file at all (no output, no temporary file) anywhere in the
    work folder, and leave every input file byte for byte unchanged
    (a SHA-256 of every file in the folder before and after).

The table is CASES below: (category, label, argv, needles). `{w}` in argv
and needles is the work folder. Under the sanitizer build a leak or crash
report adds stderr lines and changes the exit code, so each case also
proves there is none.

Also checked here, beyond the table:
  - atomic writes, for every kind of output (model .onnx/.lcm, report
    JSON, HTML, C header, decoded model, .npy): an output in a folder the
    process may not write to (as root the command runs as user nobody)
    leaves nothing; a successful write leaves no temporary file, replaces
    an existing output and gives it the umask's permissions; with the
    LD_PRELOAD shim tests/catalog_shim.c (path given as an argument), a
    SIGINT or SIGTERM arriving while the temporary file exists, and an
    fsync error, leave no file at all;
  - an output that is its own input is refused whatever the spelling
    (same string, ./a/../b, a symlink, a hard link), for every command
    that writes (in the table, category "output");
  - a batch larger than the data is not an error: it is clamped and gives
    the same bytes as a batch of exactly the data.

Usage: bad_input_catalog.py [SHIM.so] [-v]   (-v prints every message)
Environment: SHRINK, LC_SOURCE_DIR (from lc_add_python_test).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

SHRINK = os.environ["SHRINK"]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
LENET = os.path.join(SRC, "benchmarks", "zoo", "lenet5.onnx")
failures = []
VERBOSE = "-v" in sys.argv[1:]


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def shrink(args, cwd=None, user=None, env=None):
    return subprocess.run([SHRINK, *args], capture_output=True, text=True, errors="replace", cwd=cwd, user=user,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def snapshot(root):
    """path -> sha256 of every file (and symlink target) under root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            else:
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
        for name in dirs:
            out[os.path.relpath(os.path.join(d, name), root) + "/"] = "dir"
    return out


def check_unchanged(label, root, before):
    after = snapshot(root)
    created = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    if created:
        fail(f"{label}: created {created}")
    if removed:
        fail(f"{label}: removed {removed}")
    if changed:
        fail(f"{label}: changed {changed}")
    return not (created or removed or changed)


# ---------------------------------------------------------------- inputs

def small_model(op):
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "w")]
    node = helper.make_node(op, ["x", "w"], ["y"], name="layer0")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def two_input_model():
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["y"], name="add")], "g",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def lenet_with(tensor, index, value):
    m = onnx.load(LENET)
    for t in m.graph.initializer:
        if t.name == tensor:
            a = numpy_helper.to_array(t).copy()
            a.flat[index] = value
            t.CopyFrom(numpy_helper.from_array(a, tensor))
            return m
    raise KeyError(tensor)


def make_inputs(w):
    """Writes every input file into folder w."""
    def put(name, data):
        with open(os.path.join(w, name), "wb") as f:
            f.write(data)

    rng = np.random.default_rng(0)
    shutil.copy(LENET, os.path.join(w, "model.onnx"))
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    np.save(os.path.join(w, "data.npy"), x)
    np.save(os.path.join(w, "labels.npy"), rng.integers(0, 10, 16).astype(np.int64))
    np.save(os.path.join(w, "labels1.npy"), np.arange(16) % 10 + 1)
    np.save(os.path.join(w, "u8.npy"), rng.integers(0, 256, (16, 1, 28, 28)).astype(np.uint8))
    np.save(os.path.join(w, "labels15.npy"), rng.integers(0, 10, 15).astype(np.int64))
    np.save(os.path.join(w, "labels_f.npy"), rng.integers(0, 10, 16).astype(np.float32))
    np.save(os.path.join(w, "labels_neg.npy"), -np.ones(16, np.int64))
    np.save(os.path.join(w, "small.npy"), x[:, :, :14, :14].copy())
    np.save(os.path.join(w, "empty.npy"), np.zeros((0, 1, 28, 28), np.float32))
    np.save(os.path.join(w, "zerodim.npy"), np.zeros((16, 1, 0, 28), np.float32))
    np.save(os.path.join(w, "complex.npy"), x.astype(np.complex64))
    np.save(os.path.join(w, "fortran.npy"), np.asfortranarray(x))
    np.save(os.path.join(w, "a4.npy"), rng.standard_normal((8, 4)).astype(np.float32))
    np.save(os.path.join(w, "b4_7.npy"), rng.standard_normal((7, 4)).astype(np.float32))
    data = open(os.path.join(w, "data.npy"), "rb").read()
    put("trunc.npy", data[: len(data) // 2])
    put("header_only.npy", data[:100])
    put("raw.bin", x[:4].tobytes())
    onnx_bytes = open(LENET, "rb").read()
    put("trunc.onnx", onnx_bytes[: len(onnx_bytes) // 3])
    put("empty.onnx", b"")
    put("garbage.onnx", bytes(range(256)) * 8)
    onnx.save(lenet_with("features.0.weight", 7, np.nan), os.path.join(w, "nan.onnx"))
    onnx.save(lenet_with("classifier.1.weight", 123, np.inf), os.path.join(w, "inf.onnx"))
    onnx.save(small_model("NonMaxSuppression"), os.path.join(w, "unsupported.onnx"))
    onnx.save(two_input_model(), os.path.join(w, "two_inputs.onnx"))
    for name, opset, op in (("opset6.onnx", 6, "Relu"), ("old_unknown.onnx", 9, "ImageScaler")):
        g = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="scale0")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 2])])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), os.path.join(w, name))
    os.mkdir(os.path.join(w, "folder"))
    os.mkdir(os.path.join(w, "folder.onnx"))
    os.mkdir(os.path.join(w, "folder.npy"))

    # a valid .lcm, then damaged copies
    r = shrink(["run", os.path.join(w, "model.onnx"), "-o", os.path.join(w, "model.lcm"), "--pass",
                "quantize-kmeans:bits=4", "--pass", "huffman", "--quiet"])
    if r.returncode:
        raise SystemExit(f"cannot make the .lcm input: {r.stderr}")
    lcm = open(os.path.join(w, "model.lcm"), "rb").read()
    put("trunc.lcm", lcm[: len(lcm) // 2])
    flipped = bytearray(lcm)
    flipped[len(lcm) // 2] ^= 0x40
    put("crc.lcm", bytes(flipped))

    recipes = {
        "bad_json.json": '{"passes": [{"pass": "prune-magnitude", "sparsity": 0.5}',
        "unknown_pass.json": '{"passes": [{"pass": "prune-everything"}]}',
        "unknown_param.json": '{"passes": [{"pass": "prune-magnitude", "sparsty": 0.5}]}',
        "range.json": '{"passes": [{"pass": "prune-magnitude", "sparsity": 1.5}]}',
        "type.json": '{"passes": [{"pass": "quantize-kmeans", "bits": "four"}]}',
        "no_passes.json": '{"validate": {"max_drop": 1}}',
        "empty_passes.json": '{"passes": []}',
        "not_object.json": '[{"pass": "huffman"}]',
        "unknown_key.json": '{"passes": [{"pass": "huffman"}], "valdate": {"max_drop": 1}}',
        "neg_drop.json": '{"passes": [{"pass": "huffman"}], "validate": {"max_drop": -1}}',
        "drop_no_val.json": '{"passes": [{"pass": "huffman"}], "validate": {"max_drop": 1}}',
        "pass_not_string.json": '{"passes": [{"pass": 7}]}',
        "drop_fraction.json": '{"passes": [{"pass": "huffman"}], "validate": {"max_drop": 0.005}}',
        "empty.json": "",
    }
    for name, text in recipes.items():
        put(name, text.encode())
    os.symlink("model.onnx", os.path.join(w, "link.onnx"))
    os.symlink("model.lcm", os.path.join(w, "link.lcm"))
    os.symlink("data.npy", os.path.join(w, "link_data.npy"))
    os.link(os.path.join(w, "model.onnx"), os.path.join(w, "hardlink.onnx"))


# ---------------------------------------------------------------- the table

# (category, label, argv, needles); "{w}" is the work folder.
RUN = ["run", "{w}/model.onnx", "-o", "{w}/out.onnx"]
EVAL = ["eval", "{w}/model.onnx"]
SENS = ["sensitivity", "{w}/model.onnx", "--pass", "prune-magnitude", "--grid", "0.5", "--val", "{w}/data.npy"]
PM = ["--pass", "prune-magnitude:sparsity=0.5"]
CASES = [
    # --- model files
    ("model", "missing model", ["sensitivity", "{w}/nope.onnx"] + SENS[2:], ["{w}/nope.onnx"]),
    ("model", "model is a folder", EVAL[:1] + ["{w}/folder.onnx", "--data", "{w}/data.npy"], ["{w}/folder.onnx", "folder"]),
    ("model", "empty .onnx", RUN[:1] + ["{w}/empty.onnx"] + RUN[2:] + PM, ["{w}/empty.onnx"]),
    ("model", "truncated .onnx (run)", ["run", "{w}/trunc.onnx", "-o", "{w}/out.lcm"] + PM, ["{w}/trunc.onnx"]),
    ("model", "truncated .onnx (eval)", ["eval", "{w}/trunc.onnx", "--data", "{w}/data.npy"], ["{w}/trunc.onnx"]),
    ("model", "garbage .onnx", ["sensitivity", "{w}/garbage.onnx"] + SENS[2:], ["{w}/garbage.onnx"]),
    ("model", "truncated .lcm (info)", ["info", "{w}/trunc.lcm"], ["{w}/trunc.lcm"]),
    ("model", "truncated .lcm (decode)", ["decode", "{w}/trunc.lcm", "-o", "{w}/out.onnx"], ["{w}/trunc.lcm"]),
    ("model", "truncated .lcm (export-c)", ["export-c", "{w}/trunc.lcm", "-o", "{w}/out.h"], ["{w}/trunc.lcm"]),
    ("model", "corrupt .lcm (CRC)", ["decode", "{w}/crc.lcm", "-o", "{w}/out.onnx"], ["{w}/crc.lcm"]),
    ("model", "corrupt .lcm (run)", ["run", "{w}/crc.lcm", "-o", "{w}/out.onnx"] + PM, ["{w}/crc.lcm"]),
    ("model", "data file given as model (run)", ["run", "{w}/data.npy", "-o", "{w}/out.onnx"] + PM, ["{w}/data.npy"]),
    ("model", "data file given as model (eval)", ["eval", "{w}/data.npy", "--data", "{w}/data.npy"], ["{w}/data.npy"]),
    ("model", ".onnx given to export-c", ["export-c", "{w}/model.onnx", "-o", "{w}/out.h"], ["{w}/model.onnx", ".lcm"]),
    ("model", "missing .lcm (decode)", ["decode", "{w}/nope.lcm", "-o", "{w}/out.onnx"], ["{w}/nope.lcm"]),
    ("model", "NaN weight (run)", ["run", "{w}/nan.onnx", "-o", "{w}/out.onnx", "--pass", "quantize-kmeans"],
     ["{w}/nan.onnx", "features.0.weight", "NaN"]),
    ("model", "Inf weight (run)", ["run", "{w}/inf.onnx", "-o", "{w}/out.lcm", "--pass", "prune-magnitude"],
     ["{w}/inf.onnx", "classifier.1.weight", "Inf"]),
    ("model", "NaN weight (sensitivity)", ["sensitivity", "{w}/nan.onnx"] + SENS[2:], ["{w}/nan.onnx", "features.0.weight"]),
    ("model", "unsupported op (eval)", ["eval", "{w}/unsupported.onnx", "--data", "{w}/data.npy"],
     ["layer0", "NonMaxSuppression"]),
    ("model", "unsupported op (run)", ["run", "{w}/unsupported.onnx", "-o", "{w}/out.onnx", "--pass", "huffman",
                                       "--val", "{w}/data.npy"], ["layer0", "NonMaxSuppression"]),
    # --- data files
    ("data", "wrong sample shape (eval)", EVAL + ["--data", "{w}/small.npy"], ["{w}/small.npy"]),
    ("data", "wrong sample shape (run --val)", RUN + PM + ["--val", "{w}/small.npy"], ["{w}/small.npy"]),
    ("data", "wrong sample shape (run --calib)", RUN + ["--pass", "quantize-int8", "--calib", "{w}/small.npy"],
     ["{w}/small.npy"]),
    ("data", "label count != sample count (eval)", EVAL + ["--data", "{w}/data.npy", "--labels", "{w}/labels15.npy"],
     ["{w}/labels15.npy", "15", "16"]),
    ("data", "label count != sample count (run)", RUN + PM + ["--val", "{w}/data.npy", "--labels", "{w}/labels15.npy"],
     ["{w}/labels15.npy", "15", "16"]),
    ("data", "label count != sample count (sensitivity)", SENS + ["--labels", "{w}/labels15.npy"], ["{w}/labels15.npy"]),
    ("data", "float labels", EVAL + ["--data", "{w}/data.npy", "--labels", "{w}/labels_f.npy"], ["{w}/labels_f.npy"]),
    ("data", "negative labels", EVAL + ["--data", "{w}/data.npy", "--labels", "{w}/labels_neg.npy"],
     ["{w}/labels_neg.npy"]),
    ("data", "empty calibration set", RUN + ["--pass", "prune-hessian", "--calib", "{w}/empty.npy"], ["{w}/empty.npy"]),
    ("data", "calibration limit leaves no sample", RUN[:1] + ["{w}/model.onnx", "-o", "{w}/out.onnx", "--pass",
                                                             "prune-hessian", "--calib", "{w}/data.npy",
                                                             "--calib-limit", "0"], ["--calib-limit"]),
    ("data", "empty sample (zero dim)", EVAL + ["--data", "{w}/zerodim.npy"], ["{w}/zerodim.npy"]),
    ("data", "pass needs calibration data", RUN + ["--pass", "prune-hessian"], ["prune-hessian", "--calib"]),
    # issue 19: caught before the first pass runs, named with its step
    ("data", "a later pass needs calibration data", RUN + PM + ["--pass", "quantize-gptq"],
     ["step 2 of 2", "quantize-gptq", "--calib", "nothing was run"]),
    # issue 19: fractions are 0..1, budgets are points; did-you-mean
    ("args", "sparsity given as a percent", RUN + ["--pass", "prune-magnitude:sparsity=80"],
     ["sparsity", "fraction", "0.8"]),
    ("args", "recipe max_drop given as a fraction", RUN + ["--recipe", "{w}/drop_fraction.json", "--val",
                                                           "{w}/data.npy"], ["max_drop", "points", "0.5"]),
    ("args", "--max-drop given as a fraction", RUN + PM + ["--val", "{w}/data.npy", "--max-drop", "0.005"],
     ["--max-drop", "points", "0.5"]),
    ("args", "misspelt pass", RUN + ["--pass", "prune-hesian"], ["did you mean 'prune-hessian'"]),
    ("args", "misspelt parameter", RUN + ["--pass", "prune-hessian:sparsty=0.5"], ["did you mean 'sparsity'"]),
    ("args", "misspelt flag", RUN + PM + ["--val", "{w}/data.npy", "--lables", "{w}/labels.npy"],
     ["--lables", "did you mean '--labels'"]),
    ("args", "misspelt flag (eval)", EVAL + ["--dta", "{w}/data.npy"], ["did you mean '--data'"]),
    ("args", "misspelt command", ["rnu", "{w}/model.onnx"], ["did you mean 'run'"]),
    ("args", "misspelt pass (passes)", ["passes", "quantize-kmean"], ["did you mean 'quantize-kmeans'"]),
    ("data", ".lcm given as data", EVAL + ["--data", "{w}/model.lcm"], ["{w}/model.lcm"]),
    ("data", ".onnx given as data", RUN + PM + ["--calib", "{w}/model.onnx"], ["{w}/model.onnx"]),
    ("data", "truncated .npy", EVAL + ["--data", "{w}/trunc.npy"], ["{w}/trunc.npy"]),
    ("data", ".npy cut inside the header", EVAL + ["--data", "{w}/header_only.npy"], ["{w}/header_only.npy"]),
    ("data", "missing data file", RUN + PM + ["--val", "{w}/nope.npy"], ["{w}/nope.npy"]),
    ("data", "data is a folder", EVAL + ["--data", "{w}/folder.npy"], ["{w}/folder.npy"]),
    ("data", "complex .npy", EVAL + ["--data", "{w}/complex.npy"], ["{w}/complex.npy"]),
    ("data", "Fortran-order .npy", EVAL + ["--data", "{w}/fortran.npy"], ["{w}/fortran.npy"]),
    ("data", "raw .bin size != dims", EVAL + ["--data", "{w}/raw.bin:5x1x28x28"], ["{w}/raw.bin"]),
    ("data", "raw .bin bad dims", EVAL + ["--data", "{w}/raw.bin:4xAx28"], ["{w}/raw.bin"]),
    ("data", "too few --data for the inputs", ["eval", "{w}/two_inputs.onnx", "--data", "{w}/a4.npy"],
     ["{w}/two_inputs.onnx", "2 inputs"]),
    ("data", "inputs with different sample counts", ["eval", "{w}/two_inputs.onnx", "--data", "{w}/a4.npy", "--data",
                                                     "{w}/b4_7.npy"], ["{w}/b4_7.npy", "{w}/a4.npy"]),
    # --- recipes
    ("recipe", "malformed JSON", RUN + ["--recipe", "{w}/bad_json.json"], ["{w}/bad_json.json", "JSON"]),
    ("recipe", "empty recipe file", RUN + ["--recipe", "{w}/empty.json"], ["{w}/empty.json"]),
    ("recipe", "unknown pass", RUN + ["--recipe", "{w}/unknown_pass.json"], ["{w}/unknown_pass.json",
                                                                             "prune-everything", "prune-magnitude"]),
    ("recipe", "unknown parameter", RUN + ["--recipe", "{w}/unknown_param.json"], ["{w}/unknown_param.json",
                                                                                   "sparsty", "sparsity"]),
    ("recipe", "out-of-range parameter", RUN + ["--recipe", "{w}/range.json"], ["{w}/range.json", "sparsity", "1.5"]),
    ("recipe", "parameter of the wrong type", RUN + ["--recipe", "{w}/type.json"], ["{w}/type.json", "bits"]),
    ("recipe", "no passes", RUN + ["--recipe", "{w}/no_passes.json"], ["{w}/no_passes.json", "passes"]),
    ("recipe", "empty pass list", RUN + ["--recipe", "{w}/empty_passes.json"], ["{w}/empty_passes.json", "passes"]),
    ("recipe", "not an object", RUN + ["--recipe", "{w}/not_object.json"], ["{w}/not_object.json"]),
    ("recipe", "unknown top-level key", RUN + ["--recipe", "{w}/unknown_key.json"], ["{w}/unknown_key.json", "valdate"]),
    ("recipe", "negative max_drop", RUN + ["--recipe", "{w}/neg_drop.json"], ["{w}/neg_drop.json", "max_drop"]),
    ("recipe", "max_drop without --val", RUN + ["--recipe", "{w}/drop_no_val.json"], ["max_drop", "--val"]),
    ("recipe", "pass name not a string", RUN + ["--recipe", "{w}/pass_not_string.json"], ["{w}/pass_not_string.json"]),
    ("recipe", "missing recipe", RUN + ["--recipe", "{w}/nope.json"], ["{w}/nope.json"]),
    ("recipe", "recipe is a folder", RUN + ["--recipe", "{w}/folder"], ["{w}/folder", "directory"]),
    # --- command lines
    ("args", "unknown command", ["shrinkify", "{w}/model.onnx"], ["shrinkify"]),
    ("args", "unknown pass (--pass)", RUN + ["--pass", "prune-all"], ["prune-all", "prune-magnitude"]),
    ("args", "unknown parameter (--pass)", RUN + ["--pass", "quantize-kmeans:bitz=4"], ["bitz", "bits"]),
    ("args", "out-of-range parameter (--pass)", RUN + ["--pass", "quantize-kmeans:bits=9"], ["bits", "9"]),
    ("args", "non-numeric parameter (--pass)", RUN + ["--pass", "prune-magnitude:sparsity=half"], ["sparsity", "half"]),
    ("args", "bad enum value (--pass)", RUN + ["--pass", "quantize-kmeans:init=smart"], ["init", "smart"]),
    ("args", "unknown pass (passes)", ["passes", "prune-all"], ["prune-all"]),
    ("args", "unknown pass (sensitivity)", ["sensitivity", "{w}/model.onnx", "--pass", "prune-all", "--grid", "0.5",
                                           "--val", "{w}/data.npy"], ["prune-all"]),
    ("args", "out-of-range grid value", ["sensitivity", "{w}/model.onnx", "--pass", "prune-magnitude", "--grid",
                                         "0.5,1.5", "--val", "{w}/data.npy"], ["sparsity", "1.5"]),
    ("args", "malformed grid", SENS[:4] + ["--grid", "0.5,,x"] + SENS[6:], ["--grid"]),
    ("args", "output without .onnx/.lcm", ["run", "{w}/model.onnx", "-o", "{w}/out.bin"] + PM, ["{w}/out.bin"]),
    ("args", "no -o", ["run", "{w}/model.onnx"] + PM, ["-o"]),
    ("args", "--threads 0", RUN + PM + ["--threads", "0"], ["--threads"]),
    ("args", "--batch 0 (eval)", EVAL + ["--data", "{w}/data.npy", "--batch", "0"], ["--batch"]),
    ("args", "negative --seed", RUN + PM + ["--seed", "-1"], ["--seed"]),
    ("args", "negative --max-drop", RUN + PM + ["--val", "{w}/data.npy", "--max-drop", "-1"], ["--max-drop"]),
    ("args", "--max-drop without --val", RUN + PM + ["--max-drop", "1"], ["--max-drop", "--val"]),
    ("args", "--labels without --val", RUN + PM + ["--labels", "{w}/labels.npy"], ["--labels", "--val"]),
    ("args", "--mean without --std", EVAL + ["--data", "{w}/data.npy", "--mean", "0.5"], ["--mean", "--std"]),
    ("args", "--std 0", EVAL + ["--data", "{w}/data.npy", "--mean", "0", "--std", "0"], ["--std"]),
    ("args", "--limit not a number", EVAL + ["--data", "{w}/data.npy", "--limit", "ten"], ["--limit", "ten"]),
    ("args", "option without value", EVAL + ["--data"], ["--data"]),
    ("args", "unknown option (decode)", ["decode", "{w}/model.lcm", "-o", "{w}/out.onnx", "--fast"], ["--fast"]),
    ("args", "bad C symbol (export-c)", ["export-c", "{w}/model.lcm", "-o", "{w}/out.h", "--name", "1st-model"],
     ["1st-model"]),
    ("args", "decode without -o", ["decode", "{w}/model.lcm"], ["-o"]),
    # --- outputs: unwritable, or the input itself
    ("output", "output folder missing (run)", ["run", "{w}/model.onnx", "-o", "{w}/nodir/out.onnx"] + PM,
     ["{w}/nodir/out.onnx"]),
    ("output", "output is a folder (run)", ["run", "{w}/model.onnx", "-o", "{w}/folder.onnx"] + PM,
     ["{w}/folder.onnx"]),
    ("output", "output under a file (decode)", ["decode", "{w}/model.lcm", "-o", "{w}/data.npy/out.onnx"],
     ["{w}/data.npy/out.onnx"]),
    ("output", "report folder missing", RUN + PM + ["--report", "{w}/nodir/r.json"], ["{w}/nodir/r.json"]),
    ("output", "html folder missing", RUN + PM + ["--html", "{w}/nodir/r.html"], ["{w}/nodir/r.html"]),
    ("output", "eval --out folder missing", EVAL + ["--data", "{w}/data.npy", "--out", "{w}/nodir/y.npy"],
     ["{w}/nodir/y.npy"]),
    ("output", "export-c into a folder", ["export-c", "{w}/model.lcm", "-o", "{w}/folder"], ["{w}/folder"]),
    ("output", "run -o is the model", ["run", "{w}/model.onnx", "-o", "{w}/model.onnx"] + PM, ["{w}/model.onnx"]),
    ("output", "run -o is the model (./x/../ spelling)", ["run", "{w}/model.onnx", "-o", "{w}/folder/../model.onnx"] + PM,
     ["{w}/folder/../model.onnx"]),
    ("output", "run -o is a symlink to the model", ["run", "{w}/model.onnx", "-o", "{w}/link.onnx"] + PM,
     ["{w}/link.onnx"]),
    ("output", "run -o is a hard link to the model", ["run", "{w}/model.onnx", "-o", "{w}/hardlink.onnx"] + PM,
     ["{w}/hardlink.onnx"]),
    ("output", "run -o is the .lcm model", ["run", "{w}/model.lcm", "-o", "{w}/link.lcm"] + PM, ["{w}/link.lcm"]),
    ("output", "run --report is the model", RUN + PM + ["--report", "{w}/link.onnx"], ["{w}/link.onnx"]),
    ("output", "run --report is the calibration data", RUN + ["--pass", "quantize-int8", "--calib", "{w}/data.npy",
                                                              "--report", "{w}/link_data.npy"], ["{w}/link_data.npy"]),
    ("output", "run --html is the validation data", RUN + PM + ["--val", "{w}/data.npy", "--html", "{w}/data.npy"],
     ["{w}/data.npy"]),
    ("output", "run --html is the labels", RUN + PM + ["--val", "{w}/data.npy", "--labels", "{w}/labels.npy", "--html",
                                                       "{w}/folder/../labels.npy"], ["{w}/folder/../labels.npy"]),
    ("output", "run --report is the recipe", RUN + ["--recipe", "{w}/unknown_key.json", "--report",
                                                    "{w}/unknown_key.json"], ["{w}/unknown_key.json"]),
    ("output", "run --report equals -o", RUN + PM + ["--report", "{w}/out.onnx"], ["{w}/out.onnx"]),
    ("output", "eval --out is the model", EVAL + ["--data", "{w}/data.npy", "--out", "{w}/link.onnx"],
     ["{w}/link.onnx"]),
    ("output", "eval --out is the data", EVAL + ["--data", "{w}/data.npy", "--out", "{w}/link_data.npy"],
     ["{w}/link_data.npy"]),
    ("output", "eval --out is the labels", EVAL + ["--data", "{w}/data.npy", "--labels", "{w}/labels.npy", "--out",
                                                   "{w}/labels.npy"], ["{w}/labels.npy"]),
    ("output", "decode -o is the input", ["decode", "{w}/model.lcm", "-o", "{w}/model.lcm"], ["{w}/model.lcm"]),
    ("output", "decode -o is a symlink to the input", ["decode", "{w}/model.lcm", "-o", "{w}/link.lcm"],
     ["{w}/link.lcm"]),
    ("output", "export-c -o is the input", ["export-c", "{w}/model.lcm", "-o", "{w}/folder/../model.lcm"],
     ["{w}/folder/../model.lcm"]),
    ("output", "sensitivity --html is the model", SENS + ["--html", "{w}/link.onnx"], ["{w}/link.onnx"]),
    ("output", "sensitivity --html is the data", SENS + ["--html", "{w}/link_data.npy"], ["{w}/link_data.npy"]),
    # --- metrics, feeds and input shapes, eval outputs, upgrade (issue 16)
    ("args", "--metric top1 without labels (run)", RUN + PM + ["--val", "{w}/data.npy", "--metric", "top1"],
     ["--metric top1", "--labels"]),
    ("args", "--metric top1 without labels (sensitivity)", SENS + ["--metric", "top1"], ["--metric top1", "--labels"]),
    ("args", "--metric top1 without labels (eval)", EVAL + ["--data", "{w}/data.npy", "--metric", "top1"],
     ["--metric top1", "--labels"]),
    ("args", "--metric snr without --ref (eval)", EVAL + ["--data", "{w}/data.npy", "--metric", "snr"], ["--ref"]),
    ("args", "unknown --metric", RUN + PM + ["--val", "{w}/data.npy", "--metric", "f1"], ["'f1'"]),
    ("args", "--min-snr with --max-drop", RUN + PM + ["--val", "{w}/data.npy", "--min-snr", "20", "--max-drop", "1"],
     ["--max-drop", "--min-snr"]),
    ("args", "--max-drop with --metric cosine", RUN + PM + ["--val", "{w}/data.npy", "--metric", "cosine",
                                                            "--max-drop", "1"], ["--max-drop", "--min-cosine"]),
    ("args", "--feed of an unknown input", EVAL + ["--data", "{w}/data.npy", "--feed", "nope={w}/data.npy"],
     ["'nope'"]),
    ("args", "--feed without NAME=", EVAL + ["--data", "{w}/data.npy", "--feed", "{w}/data.npy"], ["--feed"]),
    ("args", "--input-shape of an unknown input", RUN + PM + ["--input-shape", "nope=1x1x28x28"], ["'nope'"]),
    ("args", "--input-shape of the wrong rank", SENS + ["--input-shape", "input=1x28x28"], ["'input'", "rank"]),
    ("args", "--input-shape with a bad dim", EVAL + ["--data", "{w}/data.npy", "--input-shape", "input=1x0x28x28"],
     ["--input-shape"]),
    ("output", "eval --out-all is a file", EVAL + ["--data", "{w}/data.npy", "--out-all", "{w}/labels.npy"],
     ["{w}/labels.npy"]),
    ("model", "upgrade from opset 6", ["upgrade", "{w}/opset6.onnx", "-o", "{w}/out.onnx"], ["opset 6", "13"]),
    ("model", "upgrade an unknown op", ["upgrade", "{w}/old_unknown.onnx", "-o", "{w}/out.onnx", "--opset", "12"],
     ["'scale0' (ImageScaler)", "opset 9 to 12"]),
    ("model", "upgrade an older opset than the model's", ["upgrade", "{w}/model.onnx", "-o", "{w}/out.onnx", "--opset",
                                                           "11"], ["opset 13", "11"]),
    ("args", "upgrade --opset out of range", ["upgrade", "{w}/model.onnx", "-o", "{w}/out.onnx", "--opset", "18"],
     ["--opset"]),
    ("args", "upgrade without -o", ["upgrade", "{w}/model.onnx"], ["-o"]),
    ("output", "upgrade -o is the input", ["upgrade", "{w}/model.onnx", "-o", "{w}/link.onnx"], ["{w}/link.onnx"]),
]


def run_case(w, case):
    cat, label, argv, needles = case
    argv = [a.replace("{w}", w) for a in argv]
    needles = [n.replace("{w}", w) for n in needles]
    if argv[0] == "run":
        argv.append("--quiet")  # the pass log; errors are printed anyway
    before = snapshot(w)
    r = shrink(argv, cwd=w)
    lines = r.stderr.splitlines()
    ok = True
    if r.returncode != 2:
        fail(f"[{cat}] {label}: exit code {r.returncode}, want 2; stderr: {r.stderr[-1500:]!r}")
        ok = False
    elif r.stdout:
        fail(f"[{cat}] {label}: printed on stdout: {r.stdout[:200]!r}")
        ok = False
    elif len(lines) != 1 or not r.stderr.endswith("\n"):
        fail(f"[{cat}] {label}: want one stderr line, got {len(lines)}: {r.stderr[-1500:]!r}")
        ok = False
    else:
        if VERBOSE:
            print(f"[{cat}] {label}: {lines[0].replace(w, '{w}')}")
        missing = [n for n in needles if n not in lines[0]]
        if not lines[0].startswith("shrink: error: "):
            missing.append("the prefix 'shrink: error: '")
        if cat == "output" and "--help" in lines[0]:
            missing.append("no '--help' hint after a filesystem error")
        if missing:
            fail(f"[{cat}] {label}: message lacks {missing}: {lines[0]}")
            ok = False
    if not check_unchanged(f"[{cat}] {label}", w, before):
        # put the inputs back so that one failure does not spread
        restore(w)
        ok = False
    return ok


def restore(w):
    for name in os.listdir(w):
        p = os.path.join(w, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    shutil.copytree(os.path.join(os.path.dirname(w), "pristine"), w, symlinks=True, dirs_exist_ok=True)
    os.link(os.path.join(w, "model.onnx"), os.path.join(w, "hardlink.onnx"))


# ---------------------------------------------------------------- atomic writes

def atomic_checks(w):
    """Outputs that cannot be written leave nothing; written outputs leave no
    temporary file behind and replace what was there."""
    n = 0
    model, lcm, data = (os.path.join(w, x) for x in ("model.onnx", "model.lcm", "data.npy"))

    # a folder the process may not write to: as root, run shrink as nobody
    ro = os.path.join(w, "readonly")
    os.mkdir(ro)
    os.chmod(ro, 0o555)
    os.chmod(w, 0o755)
    os.chmod(os.path.dirname(w), 0o755)
    rw = os.path.join(w, "writable")
    os.mkdir(rw)
    os.chmod(rw, 0o777)
    user = 65534 if os.geteuid() == 0 else None
    try:
        shrink(["--version"], user=user)
    except (PermissionError, OSError):
        # root without the right to switch users: permissions cannot be tested
        print("cannot run as an unprivileged user: read-only folder checks skipped")
        user = "skip"
    writers = [] if user == "skip" else [
        ["run", model, "-o", os.path.join(ro, "out.onnx"), "--pass", "huffman", "--quiet"],
        ["run", model, "-o", os.path.join(rw, "ok.lcm"), "--pass", "huffman", "--quiet", "--report",
         os.path.join(ro, "r.json")],
        ["run", model, "-o", os.path.join(rw, "ok.lcm"), "--pass", "huffman", "--quiet", "--html",
         os.path.join(ro, "r.html")],
        ["decode", lcm, "-o", os.path.join(ro, "out.onnx")],
        ["export-c", lcm, "-o", os.path.join(ro, "out.h")],
        ["eval", model, "--data", data, "--out", os.path.join(ro, "y.npy")],
        ["sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5", "--val", data, "--val-limit", "4",
         "--html", os.path.join(ro, "s.html")],
    ]
    for argv in writers:
        n += 1
        r = shrink(argv, cwd=w, user=user)
        # a report or page that cannot be written comes after the model:
        # the model (ok.lcm) may exist, but nothing in the read-only folder
        lines = r.stderr.splitlines()
        if r.returncode != 2 or not lines or ro not in lines[-1]:
            fail(f"read-only folder, {argv[0]} {argv[-1]}: exit {r.returncode}, stderr {r.stderr[-800:]!r}")
        if os.listdir(ro):
            fail(f"read-only folder, {argv[0]}: left {os.listdir(ro)}")
        if os.listdir(rw):
            fail(f"read-only folder, {argv[0]}: the model was written although the report could not be")
            for x in os.listdir(rw):
                os.remove(os.path.join(rw, x))

    # successful writes: no temporary files, and an existing output is replaced
    out = os.path.join(w, "fresh")
    os.mkdir(out)
    for name in ("m.onnx", "m.lcm", "r.json", "r.html", "d.onnx", "m.h", "y.npy", "s.html"):
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"old contents")
    jobs = [
        ["run", model, "-o", os.path.join(out, "m.onnx"), "--pass", "huffman", "--quiet"],
        ["run", model, "-o", os.path.join(out, "m.lcm"), "--pass", "huffman", "--quiet", "--report",
         os.path.join(out, "r.json"), "--html", os.path.join(out, "r.html")],
        ["decode", lcm, "-o", os.path.join(out, "d.onnx")],
        ["export-c", lcm, "-o", os.path.join(out, "m.h")],
        ["eval", model, "--data", data, "--out", os.path.join(out, "y.npy")],
        ["sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5", "--val", data, "--val-limit", "4",
         "--html", os.path.join(out, "s.html")],
    ]
    for argv in jobs:
        n += 1
        r = shrink(argv, cwd=w)
        if r.returncode != 0:
            fail(f"write {argv}: exit {r.returncode}: {r.stderr[-800:]}")
    names = sorted(os.listdir(out))
    if names != sorted(["m.onnx", "m.lcm", "r.json", "r.html", "d.onnx", "m.h", "y.npy", "s.html"]):
        fail(f"successful writes left {names}")
    for name in names:
        st = os.stat(os.path.join(out, name))
        if open(os.path.join(out, name), "rb").read() == b"old contents":
            fail(f"{name} was not replaced")
        if st.st_mode & 0o777 != 0o666 & ~current_umask():
            fail(f"{name}: mode {oct(st.st_mode & 0o777)}")
    # what was written is what it claims to be (independent readers)
    onnx.checker.check_model(onnx.load(os.path.join(out, "m.onnx")))
    onnx.checker.check_model(onnx.load(os.path.join(out, "d.onnx")))
    json.load(open(os.path.join(out, "r.json")))
    y = np.load(os.path.join(out, "y.npy"))
    if y.shape != (16, 10) or y.dtype != np.float32:
        fail(f"eval --out wrote {y.shape} {y.dtype}")
    header = open(os.path.join(out, "m.h")).read()
    if f"model_lcm_len = {os.path.getsize(lcm)};" not in header:
        fail("export-c header does not hold the .lcm's length")
    # an output through a symlink to a non-input file replaces the link, not its target
    return n


def interrupted_writes(w, shim):
    """With the LD_PRELOAD shim (tests/catalog_shim.c): a SIGINT or SIGTERM
    that arrives while an output's temporary file exists (complete, just
    before its rename), and a disk error (fsync fails), leave no file at
    all. Returns the number of checks."""
    model, lcm, data = (os.path.join(w, x) for x in ("model.onnx", "model.lcm", "data.npy"))
    out = os.path.join(w, "interrupted")
    os.mkdir(out)
    jobs = [
        ["run", model, "-o", os.path.join(out, "m.onnx"), "--pass", "huffman", "--quiet"],
        ["run", model, "-o", os.path.join(out, "m.lcm"), "--pass", "huffman", "--quiet", "--report",
         os.path.join(out, "r.json")],
        ["decode", lcm, "-o", os.path.join(out, "d.onnx")],
        ["export-c", lcm, "-o", os.path.join(out, "m.h")],
        ["eval", model, "--data", data, "--out", os.path.join(out, "y.npy")],
        ["sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5", "--val", data, "--val-limit", "4",
         "--html", os.path.join(out, "s.html")],
    ]
    env = {"LD_PRELOAD": shim,
           # the shim is preloaded ahead of a sanitizer runtime, if any
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    n = 0
    for argv in jobs:
        for mode, want in (("signal:2", -2), ("signal:15", -15), ("fsync-eio", 2)):
            n += 1
            r = shrink(argv, cwd=w, env={**env, "LC_SHIM": mode})
            label = f"{argv[0]} {os.path.basename(argv[argv.index('-o') + 1] if '-o' in argv else argv[-1])} {mode}"
            lines = r.stderr.splitlines()
            if r.returncode != want:
                fail(f"{label}: exit {r.returncode}, want {want}; stderr {r.stderr[-800:]!r}")
            elif want == 2 and (len(lines) != 1 or "fsync" not in lines[0] or out not in lines[0]):
                fail(f"{label}: want one line naming the output and the failure: {r.stderr!r}")
            if os.listdir(out):
                fail(f"{label}: left {os.listdir(out)}")
                for x in os.listdir(out):
                    os.remove(os.path.join(out, x))
    # without the shim's mode the same preload changes nothing: the files appear
    r = shrink(jobs[2], cwd=w, env=env)
    if r.returncode != 0 or os.listdir(out) != ["d.onnx"]:
        fail(f"preloaded shim without LC_SHIM: exit {r.returncode}, folder {os.listdir(out)}")
    return n + 1


def batch_larger_than_data(w):
    """A batch larger than the data is not an error: it is clamped to the
    sample count, and gives the very bytes a batch of exactly the data
    does (eval's outputs, run's .lcm). Returns the number of checks."""
    model, data, labels = (os.path.join(w, x) for x in ("model.onnx", "data.npy", "labels.npy"))
    out = os.path.join(w, "batch")
    os.mkdir(out)
    digests = {}
    for batch in ("16", "1000"):
        y = os.path.join(out, f"y{batch}.npy")
        m = os.path.join(out, f"m{batch}.lcm")
        r1 = shrink(["eval", model, "--data", data, "--labels", labels, "--batch", batch, "--out", y])
        r2 = shrink(["run", model, "-o", m, "--pass", "prune-hessian", "--pass", "quantize-int8", "--calib", data,
                     "--val", data, "--labels", labels, "--batch", batch, "--quiet"])
        if r1.returncode or r2.returncode:
            fail(f"--batch {batch} with 16 samples: exit {r1.returncode} {r2.returncode}: {r1.stderr} {r2.stderr}")
            return 2
        digests[batch] = (hashlib.sha256(open(y, "rb").read()).hexdigest(),
                          hashlib.sha256(open(m, "rb").read()).hexdigest())
    if digests["16"] != digests["1000"]:
        fail(f"--batch 1000 on 16 samples differs from --batch 16: {digests}")
    return 2


# ---------------------------------------------------------------- warnings (issue 19)

# (label, argv, exit code, needles): the run goes on (or ends with exit 1),
# and one stderr line starting with `prefix` holds every needle.
WARN = "shrink: warning: "
UNMET = "shrink: goal not met: "
HUF = ["--pass", "huffman"]
WARNINGS = [
    ("uint8 data without --mean/--std", RUN + HUF + ["--val", "{w}/u8.npy"], 0, WARN,
     ["{w}/u8.npy", "uint8", "--mean/--std"]),
    ("mean/std in pixel units", RUN + HUF + ["--val", "{w}/u8.npy", "--mean", "73", "--std", "90"], 0, WARN,
     ["pixel units", "0..1"]),
    ("float data normalised twice", RUN + HUF + ["--val", "{w}/data.npy", "--mean", "0.286", "--std", "0.353"], 0,
     WARN, ["{w}/data.npy", "normalised already"]),
    ("labels numbered from 1", RUN + HUF + ["--val", "{w}/data.npy", "--labels", "{w}/labels1.npy"], 0, WARN,
     ["{w}/labels1.npy", "outside 0..9", "numbered from 1"]),
    ("uint8 data without --mean/--std (eval)", EVAL + ["--data", "{w}/u8.npy"], 0, WARN, ["{w}/u8.npy", "uint8"]),
    ("labels numbered from 1 (sensitivity)", SENS + ["--labels", "{w}/labels1.npy"], 0, WARN,
     ["{w}/labels1.npy", "numbered from 1"]),
    ("float model near chance", RUN + HUF + ["--val", "{w}/data.npy", "--labels", "{w}/labels.npy"], 0, WARN,
     ["near chance"]),
    ("collapse is a failure", RUN + ["--pass", "prune-magnitude:sparsity=1", "--val", "{w}/data.npy",
                                     "--report", "{w}/collapse.json"], 1, UNMET, ["collapsed", "{w}/out.onnx"]),
    ("budget not met says so", RUN + ["--pass", "binarize", "--val", "{w}/data.npy",
                                      "--max-drop", "0"], 1, UNMET, ["budget", "wrote the best model"]),
]


def warning_cases(w):
    n = 0
    for label, argv, code, prefix, needles in WARNINGS:
        argv = [a.replace("{w}", w) for a in argv]
        needles = [x.replace("{w}", w) for x in needles]
        r = shrink(argv, cwd=w)
        lines = [l for l in r.stderr.splitlines() if l.startswith(prefix)]
        hit = [l for l in lines if all(x in l for x in needles)]
        if r.returncode != code or not hit:
            fail(f"[warning] {label}: exit {r.returncode} (want {code}), want a '{prefix}' line with {needles}; "
                 f"stderr: {r.stderr[-1500:]!r}")
        elif VERBOSE:
            print(f"[warning] {label}: {hit[0].replace(w, '{w}')}")
        if "error" in r.stderr and code != 2:
            fail(f"[warning] {label}: says 'error' for a run that worked: {r.stderr[-500:]!r}")
        if label.startswith("collapse"):
            rep = json.load(open(os.path.join(w, "collapse.json")))
            if rep.get("collapsed") is not True:
                fail(f"[warning] {label}: report key collapsed is {rep.get('collapsed')!r}, want true")
            os.remove(os.path.join(w, "collapse.json"))
        for f in ("out.onnx",):
            if os.path.exists(os.path.join(w, f)):
                os.remove(os.path.join(w, f))
        n += 1
    return n


def current_umask():
    m = os.umask(0)
    os.umask(m)
    return m


def main():
    if not os.path.exists(SHRINK):
        raise SystemExit(f"no shrink binary at {SHRINK}")
    counts = {}
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        w = os.path.join(os.path.realpath(tmp), "work")
        os.mkdir(w)
        make_inputs(w)
        shutil.copytree(w, os.path.join(tmp, "pristine"), symlinks=True,
                        ignore=lambda d, names: ["hardlink.onnx"] if d == w else [])
        for case in CASES:
            counts.setdefault(case[0], [0, 0])
            counts[case[0]][0] += 1
            counts[case[0]][1] += run_case(w, case)
        n_atomic = atomic_checks(w)
        n_edge = batch_larger_than_data(w)
        n_edge += warning_cases(w)
        shim = next((os.path.abspath(a) for a in sys.argv[1:] if a.endswith(".so")), None)
        if shim:
            n_atomic += interrupted_writes(w, shim)
        else:
            print("no shim given: interrupted writes not checked")
    total = sum(c[0] for c in counts.values())
    for cat, (n, ok) in counts.items():
        print(f"{cat:8s} {ok}/{n} cases pass")
    print(f"{total} catalog cases, {n_atomic} atomic-write checks, {n_edge} edge cases, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
