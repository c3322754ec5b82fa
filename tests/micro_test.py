#!/usr/bin/python3
"""shrink compile and the micro/ runtime (issue 14), against independent
references.

    micro_test.py [--no-qemu] [--models lenet5,...]

1. micro/ compiles warning-free (-std=c99 -Wall -Wextra -Werror -pedantic,
   -Os, function/data sections) with gcc, clang and arm-none-eabi-gcc for
   the Cortex-M4, includes only stdint/stddef/string/math, and defines no
   writable globals (no .data/.bss symbols).
2. For each zoo model, a float .lcm (prune-magnitude 50% -> 4-bit k-means
   -> Huffman, biases on the 8-bit grid: format 3.0's grid records) and a quantize-int8 QDQ model are compiled, built with cc and
   tests/micro/harness_host.c, and run on 1000 test images:
     float: predictions equal `shrink eval` of the .lcm on >= 99.9% and
            outputs agree within 1e-4 (max |diff| / max |ref| per image);
     int8:  top-1 agrees with ONNX Runtime on the QDQ model on >= 99.5%
          (for lenet5 also with pruned + k-means weights, stored as sparse
          int8 codebooks).
   The weights must stay compressed (weight bytes in NAME.c well below the
   float bytes) and NAME_run must refuse a NULL or misaligned arena.
3. The same generated code, cross-compiled for the Cortex-M4 with
   tests/micro/{startup_m4.c,m4.ld,harness_m4.c} and 100 images compiled in,
   runs under qemu-system-arm (mps2-an386, semihosting): QEMU's exit code is
   the number of predictions differing from the host build (must be 0).
4. Bad input: an unsupported op, a symbolic dim, two inputs, a non-empty
   output folder: exit 2, one line naming the culprit, nothing written.

Environment: SHRINK (the CLI), LC_SOURCE_DIR.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_helper  # noqa: E402

SHRINK = os.environ["SHRINK"]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ZOO = os.path.join(SRC, "benchmarks", "zoo")
MICRO = os.path.join(SRC, "micro")
HARNESS = os.path.join(SRC, "tests", "micro")
ORT_MODULES = os.path.join(SRC, "benchmarks", ".ort", "node_modules")
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-kernel"]
TMP = tempfile.mkdtemp(prefix="micro_test_")
failures = []
dscnn_arena = None


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def check_runtime():
    srcs = sorted(glob.glob(os.path.join(MICRO, "*.c")))
    for cc, extra in (("gcc", []), ("clang", []), ("arm-none-eabi-gcc", M4)):
        for src in srcs:
            obj = os.path.join(TMP, "%s_%s.o" % (cc, os.path.basename(src)))
            r = subprocess.run([cc] + WARN + extra + ["-Os", "-ffunction-sections", "-fdata-sections", "-c", src,
                                                      "-o", obj], capture_output=True, text=True)
            check(r.returncode == 0 and not r.stderr, "%s builds micro/%s warning-free%s"
                  % (cc, os.path.basename(src), "" if r.returncode == 0 else ": " + r.stderr[:300]))
            if cc == "gcc" and r.returncode == 0:
                nm = run(["nm", obj])
                state = [ln for ln in nm.splitlines() if re.match(r"^\S+ [bBdDC] ", ln)]
                check(not state, "micro/%s holds no writable globals %s" % (os.path.basename(src), state))
    allowed = {"<stdint.h>", "<stddef.h>", "<string.h>", "<math.h>", '"mc.h"'}
    for f in sorted(glob.glob(os.path.join(MICRO, "*.[ch]"))):
        text = open(f).read()
        inc = set(re.findall(r"#include\s+(\S+)", text))
        check(inc <= allowed, "micro/%s includes only %s (has %s)" % (os.path.basename(f), sorted(allowed), sorted(inc)))
        check(not re.search(r"\b(malloc|calloc|free|printf)\s*\(", text), "micro/%s calls no malloc/stdio" % os.path.basename(f))


def compile_model(model, name):
    out = os.path.join(TMP, name)
    run([SHRINK, "compile", model, "-o", out, "--name", name, "--quiet"])
    info = json.load(open(os.path.join(out, name + ".json")))
    binary = os.path.join(TMP, name + ".host")
    run(["cc"] + WARN + ["-O2", "-DNAME=" + name, "-include", os.path.join(out, name + ".h"), "-I", out,
                         os.path.join(HARNESS, "harness_host.c")] + sorted(glob.glob(os.path.join(out, "*.c"))) +
        ["-lm", "-o", binary])
    return out, info, binary


def host_run(binary, xbin, n, k):
    ybin = binary + ".y"
    run([binary, xbin, str(n), ybin])
    return np.fromfile(ybin, dtype=np.float32).reshape(n, k)


def qemu_check(name, out, x, host_pred):
    """Cross-compile `out` with 100 images; QEMU's exit code is the verdict."""
    n = 100
    img = os.path.join(TMP, name + "_m4")
    os.makedirs(img, exist_ok=True)
    with open(os.path.join(img, "images.h"), "w") as f:
        f.write("#define MC_N %d\nstatic const uint32_t mc_images[MC_N][%d] = {\n" % (n, x.shape[1]))
        for row in np.ascontiguousarray(x[:n], dtype=np.float32).view(np.uint32):
            f.write("{" + ",".join("0x%x" % v for v in row) + "},\n")
        f.write("};\nstatic const unsigned char mc_expected[MC_N] = {%s};\n"
                % ",".join(str(int(v)) for v in host_pred[:n]))
    elf = os.path.join(img, name + ".elf")
    run(["arm-none-eabi-gcc"] + M4 + WARN + ["-Os", "-ffunction-sections", "-fdata-sections", "-DNAME=" + name,
                                             "-include", os.path.join(out, name + ".h"), "-I", out, "-I", img,
                                             os.path.join(HARNESS, "harness_m4.c"),
                                             os.path.join(HARNESS, "startup_m4.c")] +
        sorted(glob.glob(os.path.join(out, "*.c"))) +
        ["--specs=rdimon.specs", "-nostartfiles", "-T", os.path.join(HARNESS, "m4.ld"), "-Wl,--gc-sections", "-lm",
         "-o", elf])
    # a hang fails instead of blocking; 600 s because QEMU runs float code
    # through softfloat helpers (resnet8: ~30 CPU s for 100 images) and CI
    # machines may be shared
    r = subprocess.run(["timeout", "600"] + QEMU + [elf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(r.returncode == 0, "%s on Cortex-M4 (QEMU): exit %d, %s" % (name, r.returncode, (r.stdout + r.stderr).strip()))
    return elf


def check_int8(model, passes, name, data, qemu):
    """An int8 QDQ model from `passes`: top-1 against ONNX Runtime; returns
    the generated C."""
    global dscnn_arena
    x, calib, n = data["x"], data["calib"], data["x"].shape[0]
    qdq = os.path.join(TMP, name + ".onnx")
    cmd = [SHRINK, "run", os.path.join(ZOO, model + ".onnx"), "-o", qdq, "--calib", calib, "--quiet"]
    for p in passes:
        cmd += ["--pass", p]
    run(cmd)
    out, info, binary = compile_model(qdq, name)
    check(info["int8"], "%s: the QDQ model runs on int8 kernels" % name)
    y = host_run(binary, data["xbin"], n, info["output_count"])
    theirs = ort_helper.ort_run(qdq, data["x4"], TMP, ORT_MODULES, "disabled")
    agree = float(np.mean(y.argmax(1) == theirs.argmax(1)))
    check(agree >= 0.995, "%s int8 (%s): top-1 agrees with ONNX Runtime on %.2f%% of %d images; arena %d bytes"
          % (model, " -> ".join(passes), 100 * agree, n, info["arena_bytes"]))
    code = open(os.path.join(out, name + ".c")).read()
    if qemu:
        elf = qemu_check(name, out, x, y.argmax(1))
        # the in-place pointwise kernel is linked only by models that run one
        # (DS-CNN's 1x1 convs, whose input dies there; LeNet-5 has none)
        calls = "mc_qconv_pw_i8(" in code
        linked = re.search(r" mc_qconv_pw_i8$", run(["arm-none-eabi-nm", elf]), re.M) is not None
        expect = {"dscnn_q": True, "lenet5_q": False}.get(name, calls)
        check(calls == expect and linked == calls, "%s: calls the in-place pointwise kernel: %s (expected %s), "
              "firmware links it: %s" % (name, calls, expect, linked))
    if name == "dscnn_q":
        dscnn_arena = info["arena_bytes"]
    return code


def check_model(model, data, qemu):
    xbin, x, calib, n = data["xbin"], data["x"], data["calib"], data["x"].shape[0]
    src = os.path.join(ZOO, model + ".onnx")
    float_bytes = os.path.getsize(src)
    # float path: pruned + k-means + Huffman .lcm
    lcm = os.path.join(TMP, model + ".lcm")
    run([SHRINK, "run", src, "-o", lcm, "--pass", "prune-magnitude:sparsity=0.5", "--pass", "quantize-kmeans:bits=4",
         "--pass", "huffman:small=i8", "--calib", calib, "--quiet"])
    name = model + "_f"
    out, info, binary = compile_model(lcm, name)
    check(info["weight_bytes"] < 0.35 * float_bytes, "%s: weights stay compressed in %s.c (%d bytes, float %d)"
          % (model, name, info["weight_bytes"], float_bytes))
    y = host_run(binary, xbin, n, info["output_count"])
    ref_path = os.path.join(TMP, model + "_ref.npy")
    run([SHRINK, "eval", lcm, "--data", data["xnpy"], "--out", ref_path])
    ref = np.load(ref_path).reshape(n, -1)
    agree = float(np.mean(y.argmax(1) == ref.argmax(1)))
    rel = float(np.max(np.abs(y - ref).max(1) / np.maximum(np.abs(ref).max(1), 1e-30)))
    check(agree >= 0.999 and rel <= 1e-4, "%s float (.lcm): %.2f%% of %d predictions equal shrink eval's, max rel "
          "diff %.2e; arena %d bytes" % (model, 100 * agree, n, rel, info["arena_bytes"]))
    if qemu:
        qemu_check(name, out, x, y.argmax(1))
    # int8 path: the QDQ model of quantize-int8
    check_int8(model, ["quantize-int8"], model + "_q", data, qemu)
    if model == "lenet5":
        # pruned + k-means weights inside the int8 path: sparse int8 codebooks
        code = check_int8(model, ["prune-magnitude:sparsity=0.7", "quantize-kmeans:bits=4", "quantize-int8"],
                          model + "_qpk", data, False)
        check(re.search(r"mc_weights W\d+ = \{5, [12],", code) is not None,
              "lenet5: pruned k-means int8 weights are stored as sparse int8 codebooks")
        check_joint_int8(data, qemu)
    if model == "dscnn":
        # depthwise and pointwise convs run in place: one 64x14x14 int8
        # activation (12,544 bytes) and scratch, not two
        check(dscnn_arena < 2 * 64 * 14 * 14, "dscnn int8: in-place depthwise/pointwise kernels, arena %d bytes < %d"
              % (dscnn_arena, 2 * 64 * 14 * 14))


# SparseGPT joint prune + quantize (per-channel grids of few bits), as in
# benchmarks/recipes/joint.lenet5.json, then int8 activations
JOINT_LENET5 = ["prune-hessian:include=/features/*,sparsity=0.3,bits=4,damp=0.3,rescale=true",
                "prune-hessian:include=*classifier.1/*,sparsity=0.8,bits=2,damp=0.3,rescale=true",
                "prune-hessian:include=*classifier.3/*,include=*classifier.5/*,sparsity=0.6,bits=3,damp=0.3,rescale=true"]


def check_joint_int8(data, qemu):
    """quantize-int8 keeps a uniform grid's integers: the QDQ weights
    dequantize to exactly the joint model's weights (numpy), each output
    channel holds at most 2^bits distinct integers; then ORT agreement and
    QEMU as for any int8 model."""
    joint = os.path.join(TMP, "lenet5_joint.onnx")
    cmd = [SHRINK, "run", os.path.join(ZOO, "lenet5.onnx"), "-o", joint, "--calib", data["calib"], "--quiet"]
    for p in JOINT_LENET5:
        cmd += ["--pass", p]
    run(cmd)
    check_int8("lenet5", JOINT_LENET5 + ["quantize-int8"], "lenet5_qj", data, qemu)  # one pipeline: the grids reach it
    ref = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(joint).graph.initializer}
    got = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(os.path.join(TMP, "lenet5_qj.onnx")).graph.initializer}
    exact, narrow, n = True, True, 0
    for name, w in ref.items():
        if name + "_quantized" not in got or w.ndim < 2:
            continue
        q, sc = got[name + "_quantized"], got[name + "_scale"].astype(np.float32)
        deq = q.astype(np.float32) * sc.reshape((-1,) + (1,) * (q.ndim - 1))
        exact = exact and np.array_equal(deq, w)
        bits = 4 if name.startswith("features") else 2 if name.startswith("classifier.1.") else 3
        narrow = narrow and all(len(np.unique(row)) <= (1 << bits) for row in q.reshape(q.shape[0], -1))
        n += 1
    check(n == 5 and exact and narrow, "lenet5 joint -> quantize-int8: %d weights dequantize exactly to the joint "
          "model's (%s), at most 2^bits integers per channel (%s)" % (n, exact, narrow))


def save_model(nodes, inputs, outputs, inits, path):
    g = helper.make_graph(nodes, "bad", inputs, outputs, inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def check_bad_input():
    vi = helper.make_tensor_value_info
    cases = [
        ("unsupported op", save_model([helper.make_node("Erf", ["x"], ["y"], name="erf_node")],
                                      [vi("x", TensorProto.FLOAT, [1, 4])], [vi("y", TensorProto.FLOAT, [1, 4])], [],
                                      os.path.join(TMP, "erf.onnx")), ["erf_node", "Erf"]),
        ("symbolic dim", save_model([helper.make_node("Relu", ["x"], ["y"])],
                                    [vi("x", TensorProto.FLOAT, [1, "width"])], [vi("y", TensorProto.FLOAT, None)], [],
                                    os.path.join(TMP, "sym.onnx")), ["x"]),
        ("two inputs", save_model([helper.make_node("Add", ["a", "b"], ["y"])],
                                  [vi("a", TensorProto.FLOAT, [1, 4]), vi("b", TensorProto.FLOAT, [1, 4])],
                                  [vi("y", TensorProto.FLOAT, [1, 4])], [], os.path.join(TMP, "two.onnx")), ["2 inputs"]),
    ]
    for what, path, words in cases:
        out = os.path.join(TMP, "bad_out")
        r = subprocess.run([SHRINK, "compile", path, "-o", out], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and all(w in lines[0] for w in words) and not os.path.exists(out)
              and not glob.glob(out + ".tmp*"),
              "%s: exit %d, one line naming %s, nothing written (%s)" % (what, r.returncode, words, r.stderr.strip()))
    full = os.path.join(TMP, "full")
    os.makedirs(full)
    open(os.path.join(full, "keep.txt"), "w").write("mine")
    r = subprocess.run([SHRINK, "compile", os.path.join(ZOO, "lenet5.onnx"), "-o", full], capture_output=True, text=True)
    check(r.returncode == 2 and os.listdir(full) == ["keep.txt"] and not glob.glob(full + ".tmp*"),
          "a non-empty output folder: exit %d, left untouched (%s)" % (r.returncode, r.stderr.strip()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-qemu", action="store_true", help="skip the Cortex-M4 runs (sanitizer builds)")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(ORT_MODULES, "onnxruntime-node")):
        sys.exit("FAIL: %s/onnxruntime-node is not installed (scripts/setup_ort.sh installs it)" % ORT_MODULES)
    check_runtime()
    check_bad_input()
    d = os.path.join(TMP, "data")
    run(["/usr/bin/python3", os.path.join(ZOO, "make_test_data.py"), "--out", d, "--limit", "1000", "--calib", "200"])
    x = np.load(os.path.join(d, "test_f32.npy"))
    xbin = os.path.join(TMP, "x.bin")
    x.astype(np.float32).tofile(xbin)
    data = dict(x=x.reshape(x.shape[0], -1), x4=x, xbin=xbin, xnpy=os.path.join(d, "test_f32.npy"),
                calib=os.path.join(d, "calib_f32.npy"))
    for model in args.models.split(","):
        check_model(model, data, not args.no_qemu)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    shutil.rmtree(TMP, ignore_errors=True)
    print("all micro checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
