#!/usr/bin/python3
"""Cross-checks the .lcm format end to end (issue 6).

  lcm_crosscheck.py LCM_TOOL

- every model of the ONNX backend test data (node, simple, pytorch-*)
  goes ONNX -> .lcm -> model in one lcm_tool process, which checks the ONNX
  serialization is byte-identical afterwards (all stored tensors, Constant
  values and subgraph initializers bit for bit) and the accounting adds up;
- lenet5 pruned + k-means + huffman: `shrink decode` gives ONNX that
  python-onnx's checker accepts, whose weights numpy reads back with the
  sparsity and codebook sizes asked for, and on which `shrink eval` gives
  bit-identical outputs to the .lcm; `shrink info` reads the .lcm;
- `shrink export-c`: the header compiles with gcc -c, and a program built
  from it writes back exactly the .lcm file's bytes;
- clear errors (exit 2) for missing, corrupt or wrong-kind inputs.

Environment: SHRINK, LC_SOURCE_DIR (from lc_add_python_test).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

TESTDATA = "/usr/share/libonnx-testdata/data"
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if expect is not None and r.returncode != expect:
        fail("%s: exit %d (expected %d): %s" % (" ".join(args), r.returncode, expect, r.stderr.strip()))
    return r


def main():
    tool = sys.argv[1]
    shrink = os.environ["SHRINK"]
    src = os.environ["LC_SOURCE_DIR"]
    zoo = os.path.join(src, "benchmarks", "zoo")

    # 1. round trip of the ONNX backend test models, in one process
    models = sorted(glob.glob(os.path.join(TESTDATA, "*", "*", "model.onnx")))
    models += sorted(glob.glob(os.path.join(zoo, "*.onnx")))
    r = run([tool, "roundtrip"] + models)
    ok = int(r.stdout.strip().split()[-1]) if r.stdout.strip() else 0
    print("round trip: %d of %d models" % (ok, len(models)))
    if ok < len(models) * 0.9:
        fail("only %d of %d models round-tripped" % (ok, len(models)))

    with tempfile.TemporaryDirectory() as tmp:
        lcm = os.path.join(tmp, "lenet5.lcm")
        dec = os.path.join(tmp, "lenet5_dec.onnx")
        run([tool, "encode", os.path.join(zoo, "lenet5.onnx"), lcm,
             "prune-magnitude:sparsity=0.9,scope=layer", "quantize-kmeans:bits=3,correct=none", "huffman"])
        run([shrink, "decode", lcm, "-o", dec])
        model = onnx.load(dec)
        onnx.checker.check_model(model)
        orig = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(zoo, "lenet5.onnx")).graph.initializer}
        got = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        if set(orig) != set(got):
            fail("decoded initializers differ in names")
        for name, w in got.items():
            if w.shape != orig[name].shape:
                fail("%s: shape %s vs %s" % (name, w.shape, orig[name].shape))
            if w.ndim >= 2:  # a weight: 90% zeros, at most 8 values per output channel
                zeros = float(np.mean(w == 0))
                if abs(zeros - 0.9) > 0.02:
                    fail("%s: %.3f zeros, expected 0.9" % (name, zeros))
                per_ch = max(len(np.unique(c[c != 0])) for c in w.reshape(w.shape[0], -1))
                if per_ch > 8:
                    fail("%s: %d distinct values in a channel (3-bit codebook)" % (name, per_ch))
            else:  # a bias: rounded to float16 by huffman's small=f16 (numpy's rounding as the reference)
                want = orig[name].astype(np.float16).astype(np.float32)
                if not np.array_equal(w.view(np.uint32), want.view(np.uint32)):
                    fail("%s: bias is not the float16 rounding of the original" % name)
        # identical outputs on the .lcm and on its decoded ONNX
        x = np.random.RandomState(0).rand(16, 1, 28, 28).astype(np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)
        outs = []
        for m in (lcm, dec):
            o = os.path.join(tmp, os.path.basename(m) + ".out.npy")
            run([shrink, "eval", m, "--data", os.path.join(tmp, "x.npy"), "--out", o])
            outs.append(np.load(o) if os.path.exists(o) else None)
        if outs[0] is None or outs[1] is None or not np.array_equal(outs[0].view(np.uint32), outs[1].view(np.uint32)):
            fail("eval outputs of the .lcm and its decoded ONNX differ")
        info_l = json.loads(run([shrink, "info", lcm, "--json"]).stdout or "{}")
        info_d = json.loads(run([shrink, "info", dec, "--json"]).stdout or "{}")
        if info_l.get("params") != info_d.get("params") or not info_l.get("params"):
            fail("shrink info: params %s (.lcm) vs %s (decoded)" % (info_l.get("params"), info_d.get("params")))
        size = os.path.getsize(lcm)
        print("lenet5 .lcm: %d bytes (ONNX %d)" % (size, os.path.getsize(os.path.join(zoo, "lenet5.onnx"))))
        stats = json.loads(run([tool, "stats", lcm]).stdout)
        total = stats["header_bytes"] + stats["meta_bytes"] + stats["graph_bytes"] + sum(t["bytes"] for t in stats["tensors"])
        if total != size:
            fail("accounting adds up to %d, file is %d" % (total, size))

        # 2. export-c: compiles, and holds exactly the file's bytes
        hdr = os.path.join(tmp, "model.h")
        run([shrink, "export-c", lcm, "-o", hdr, "--name", "lenet5_model"])
        prog = os.path.join(tmp, "dump.c")
        with open(prog, "w") as f:
            f.write('#include <stdio.h>\n#include "model.h"\n'
                    '_Static_assert(_Alignof(lenet5_model) >= 1, "array");\n'
                    'int main(void) {\n'
                    '    if ((size_t)lenet5_model % 64) return 3;\n'
                    '    return fwrite(lenet5_model, 1, lenet5_model_len, stdout) == lenet5_model_len ? 0 : 1;\n'
                    '}\n')
        run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-c", prog, "-o", os.path.join(tmp, "dump.o")])
        run(["gcc", "-std=c11", prog, "-o", os.path.join(tmp, "dump")])
        r = subprocess.run([os.path.join(tmp, "dump")], capture_output=True)
        if r.returncode != 0 or r.stdout != open(lcm, "rb").read():
            fail("export-c: the array does not hold the file's bytes (exit %d)" % r.returncode)
        run([shrink, "export-c", lcm, "-o", os.path.join(tmp, "d.h")])
        if "lenet5_lcm[" not in open(os.path.join(tmp, "d.h")).read():
            fail("export-c: default symbol is not lenet5_lcm")

        # 3. clear errors
        bad = os.path.join(tmp, "bad.lcm")
        data = bytearray(open(lcm, "rb").read())
        data[len(data) // 2] ^= 0x40
        open(bad, "wb").write(bytes(data))
        r = run([shrink, "decode", bad, "-o", os.path.join(tmp, "x.onnx")], expect=2)
        if "CRC" not in r.stderr or "bad.lcm" not in r.stderr:
            fail("decode of a corrupt file: unclear error: %s" % r.stderr.strip())
        if os.path.exists(os.path.join(tmp, "x.onnx")):
            fail("decode left an output behind after an error")
        run([shrink, "decode", os.path.join(tmp, "missing.lcm"), "-o", os.path.join(tmp, "y.onnx")], expect=2)
        run([shrink, "decode", lcm], expect=2)
        r = run([shrink, "export-c", os.path.join(zoo, "lenet5.onnx"), "-o", os.path.join(tmp, "z.h")], expect=2)
        if "not an .lcm" not in r.stderr:
            fail("export-c of an ONNX file: unclear error: %s" % r.stderr.strip())
        run([shrink, "export-c", lcm, "-o", os.path.join(tmp, "z.h"), "--name", "9bad"], expect=2)

    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all good")


if __name__ == "__main__":
    main()
