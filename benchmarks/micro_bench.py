#!/usr/bin/python3
"""shrink compile on the model zoo for a Cortex-M4: flash, RAM, accuracy and
host speed of the generated code, per model and configuration, beside the
published MLPerf Tiny figures. Prints a markdown table (and writes it with
--out).

    /usr/bin/python3 benchmarks/micro_bench.py --build BUILD_DIR [--models a,b] [--out FILE.md]
        [--configs WORD,... --update FILE.md]   (re-measure some rows of a table)

For every configuration the compressed model is compiled (`shrink compile`)
and then:
  - flash: text + rodata + data of the model's and the runtime's objects
    that the linker keeps (-Os, function/data sections, --gc-sections),
    summed from the linker map of the Cortex-M4 firmware; the harness,
    printf and newlib are not counted;
  - RAM: NAME_ARENA_BYTES plus the peak stack of NAME_run, measured under
    QEMU (mps2-an386) by painting the stack;
  - top-1 of the generated code built for the host (cc -O2) on the full
    10,000-image Fashion-MNIST test set, and its drop against the float
    model (the pipeline calibrates on 500 training images and never
    validates, so every test image is unseen);
  - host ms per inference: CPU time of the host build, one image at a time.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
ZOO = os.path.join(HERE, "zoo")
HARNESS = os.path.join(SRC, "tests", "micro")
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-kernel"]

# (label, passes) per model: the float .lcm path, plain int8, and int8 with
# pruned / k-means weights (what the goals are measured on; BatchNorm is
# folded first so that quantize-int8 sees Conv -> Relu, which it fuses).
# (the defaults when the results were measured, named: per-layer magnitude,
# nearest-centroid k-means)
PRUNE_KMEANS = ["prune-magnitude:sparsity=0.5,scope=layer", "quantize-kmeans:bits=4,compensate=none", "huffman"]
# SparseGPT joint prune + quantize (as benchmarks/recipes/joint.*.json):
# per-channel grids of 2 to 5 bits, which quantize-int8 keeps exactly
# (scale = grid step), so the int8 weights need no codebook. Sparsity and
# bits of ResNet-8 and DS-CNN were chosen among a few on test images
# 0..1999 only; the drop on 2000..9999 is printed as drop_heldout.
JOINT_LENET5 = ["prune-hessian:include=/features/*,sparsity=0.3,bits=4,damp=0.3,rescale=true",
                "prune-hessian:include=*classifier.1/*,sparsity=0.8,bits=2,damp=0.3,rescale=true",
                "prune-hessian:include=*classifier.3/*,include=*classifier.5/*,sparsity=0.6,bits=3,damp=0.3,"
                "rescale=true", "quantize-int8"]
JOINT_RESNET8 = ["prune-hessian:sparsity=0.3,bits=3,fit=all", "fold-batchnorm", "quantize-int8"]
JOINT_DSCNN = ["fold-batchnorm", "prune-hessian:sparsity=0.2,bits=5,rescale=true,correct=none", "quantize-int8"]
CONFIGS = {
    "lenet300": [("float: prune 50% + k-means 4b + Huffman", PRUNE_KMEANS),
                 ("int8", ["quantize-int8"])],
    "lenet5": [("float: prune 50% + k-means 4b + Huffman", PRUNE_KMEANS),
               ("int8", ["quantize-int8"]),
               ("int8: prune 75% (Hessian) + k-means 4b", ["prune-hessian:sparsity=0.75", "quantize-kmeans:bits=4,compensate=none",
                                                           "quantize-int8"]),
               ("int8: SparseGPT joint (convs 4b 30%, Gemms 2b 80% / 3b 60%)", JOINT_LENET5)],
    "resnet8": [("float: prune 50% + k-means 4b + Huffman", PRUNE_KMEANS),
                ("int8: BN folded + k-means 4b", ["fold-batchnorm", "quantize-kmeans:bits=4,compensate=none", "quantize-int8"]),
                ("int8: SparseGPT joint 3b 30%, BN folded", JOINT_RESNET8)],
    "dscnn": [("float: prune 50% + k-means 4b + Huffman", PRUNE_KMEANS),
              ("int8: BN folded + k-means 5b", ["fold-batchnorm", "quantize-kmeans:bits=5,compensate=none", "quantize-int8"]),
              ("int8: BN folded + SparseGPT joint 5b 20%", JOINT_DSCNN)],
}
GOALS = {"resnet8": (40 * 1024, 40 * 1024), "dscnn": (24 * 1024, 24 * 1024), "lenet5": (16 * 1024, 12 * 1024)}
# MLPerf Tiny v1.0 closed division, X-CUBE-AI 8.1 on a Cortex-M4 (STM32L4R5),
# and the reference int8 .tflite files; their inputs are CIFAR-10 32x32x3
# (ResNet-8) and 49x10 MFCC keyword spotting (DS-CNN), ours 28x28x1
# Fashion-MNIST: same architectures, different first layers and resolution.
PEERS = {"resnet8": (121229, 63844, 98496), "dscnn": (67798, 28568, 53936)}


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def map_flash(path, objs):
    """Bytes of text/rodata/data input sections from `objs` (basename ->
    group) that the linker kept, by group, from a GNU ld map file."""
    text = open(path).read()
    text = text[text.index("Linker script and memory map"):]
    sizes = {}
    pending = None
    for line in text.splitlines():
        m = re.match(r"^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if not m and pending:
            m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
            m = (pending, m2.group(1), m2.group(2), m2.group(3)) if m2 else None
            pending = None
            if not m:
                continue
            sec, size, obj = m[0], int(m[2], 16), m[3]
        elif m:
            sec, size, obj = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m1 = re.match(r"^ (\.\S+)$", line)
            pending = m1.group(1) if m1 else None
            continue
        base = os.path.basename(obj)
        if base in objs and re.match(r"\.(text|rodata|data)", sec):
            sizes[objs[base]] = sizes.get(objs[base], 0) + size
    return sizes


def firmware(name, out, x, expected, work):
    """Cortex-M4 build with a few images: (flash of the model, of the
    runtime, peak stack)."""
    n = 10
    with open(os.path.join(work, "images.h"), "w") as f:
        f.write("#define MC_N %d\nstatic const uint32_t mc_images[MC_N][%d] = {\n" % (n, x.shape[1]))
        for row in np.ascontiguousarray(x[:n], dtype=np.float32).view(np.uint32):
            f.write("{" + ",".join("0x%x" % v for v in row) + "},\n")
        f.write("};\nstatic const unsigned char mc_expected[MC_N] = {%s};\n" % ",".join(str(int(v)) for v in expected[:n]))
    objs = {}
    for c in sorted(glob.glob(os.path.join(out, "*.c"))):
        o = os.path.join(work, os.path.basename(c)[:-2] + ".o")
        run(["arm-none-eabi-gcc"] + M4 + ["-std=c99", "-Os", "-ffunction-sections", "-fdata-sections", "-I", out, "-c", c,
                                          "-o", o])
        objs[os.path.basename(o)] = "model" if os.path.basename(c) == name + ".c" else "runtime"
    elf, mp = os.path.join(work, name + ".elf"), os.path.join(work, name + ".map")
    run(["arm-none-eabi-gcc"] + M4 + ["-std=c99", "-Os", "-DNAME=" + name, "-include", os.path.join(out, name + ".h"),
                                      "-I", out, "-I", work, os.path.join(HARNESS, "harness_m4.c"),
                                      os.path.join(HARNESS, "startup_m4.c")] +
        [os.path.join(work, o) for o in objs] +
        ["--specs=rdimon.specs", "-nostartfiles", "-T", os.path.join(HARNESS, "m4.ld"), "-Wl,--gc-sections",
         "-Wl,-Map=" + mp, "-lm", "-o", elf])
    r = subprocess.run(["timeout", "300"] + QEMU + [elf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r"peak stack (\d+) bytes", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("QEMU run of %s failed (%d): %s%s" % (name, r.returncode, r.stdout, r.stderr))
    sizes = map_flash(mp, objs)
    return sizes.get("model", 0), sizes.get("runtime", 0), int(m.group(1))


def table_row(r):
    flash, ram = r["flash_model"] + r["flash_runtime"], r["arena"] + r["stack"]
    goal = GOALS.get(r["model"])
    met = "-" if not goal else ("yes" if flash <= goal[0] and ram <= goal[1] and r["drop"] <= 0.5 else "no")
    return ("| %s | %s | %d + %d = **%d** | %d + %d = **%d** | %.2f | %+.2f | %.3f | %s | %s |"
            % (r["model"], r["config"], r["flash_model"], r["flash_runtime"], flash, r["arena"], r["stack"], ram,
               r["top1"], r["drop"], r["ms"], "%d / %d" % goal if goal else "-", met))


def update_table(path, rows):
    """Replaces the rows of `path` with the same model and configuration
    (adds the others after the model's last row); prints the table."""
    lines = open(path).read().split("\n")
    for r in rows:
        key = "| %s | %s |" % (r["model"], r["config"])
        at = [i for i, l in enumerate(lines) if l.startswith(key)]
        if at:
            lines[at[0]] = table_row(r)
            continue
        same = [i for i, l in enumerate(lines) if l.startswith("| %s | " % r["model"]) and "**" in l]
        lines.insert(same[-1] + 1 if same else 4, table_row(r))
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(l for l in lines if l.startswith("|")))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build folder holding shrink")
    ap.add_argument("--models", default="lenet5,resnet8,dscnn")
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--configs", help="only the configurations whose label contains one of these comma-separated "
                    "words (e.g. 'joint,k-means 5b')")
    ap.add_argument("--update", help="with --configs: replace (or add) the measured rows in this existing table "
                    "file and keep its other rows")
    args = ap.parse_args()
    shrink = os.path.join(args.build, "shrink")
    work = tempfile.mkdtemp(prefix="micro_bench_")
    data = os.path.join(work, "data")
    run(["/usr/bin/python3", os.path.join(ZOO, "make_test_data.py"), "--out", data, "--calib", "500"])
    xnpy, calib = os.path.join(data, "test_f32.npy"), os.path.join(data, "calib_f32.npy")
    x = np.load(xnpy)
    labels = np.load(os.path.join(data, "test_labels.npy"))
    n = x.shape[0]
    x = x.reshape(n, -1)
    halves = [os.path.join(work, "x0.bin"), os.path.join(work, "x1.bin")]
    x[:n // 2].astype(np.float32).tofile(halves[0])
    x[n // 2:].astype(np.float32).tofile(halves[1])
    rows = []
    for model in args.models.split(","):
        src = os.path.join(ZOO, model + ".onnx")
        fl = json.loads(run([shrink, "eval", src, "--data", xnpy, "--labels", os.path.join(data, "test_labels.npy"),
                             "--json"]))["top1"]
        ref = os.path.join(work, model + "_float.npy")
        run([shrink, "eval", src, "--data", xnpy, "--out", ref])
        fl_held = 100.0 * float(np.mean(np.load(ref).reshape(n, -1).argmax(1)[2000:] == labels[2000:]))
        for label, passes in CONFIGS[model]:
            if args.configs and not any(w in label for w in args.configs.split(",")):
                continue
            name = re.sub(r"\W", "_", model + "_" + str(len(rows)))
            ext = ".lcm" if "huffman" in passes else ".onnx"
            compressed = os.path.join(work, name + ext)
            cmd = [shrink, "run", src, "-o", compressed, "--calib", calib, "--quiet", "--seed", "1"]
            for p in passes:
                cmd += ["--pass", p]
            run(cmd)
            out = os.path.join(work, name)
            run([shrink, "compile", compressed, "-o", out, "--name", name, "--quiet"])
            info = json.load(open(os.path.join(out, name + ".json")))
            host = os.path.join(work, name + ".host")
            run(["cc", "-std=c99", "-O2", "-DNAME=" + name, "-include", os.path.join(out, name + ".h"), "-I", out,
                 os.path.join(HARNESS, "harness_host.c")] + sorted(glob.glob(os.path.join(out, "*.c"))) +
                ["-lm", "-o", host])
            # two halves at once (the machine has two cores); ms is CPU time
            t0 = os.times()
            procs = [subprocess.Popen([host, half, str(n // 2), half + "." + name + ".y"]) for half in halves]
            if any(p.wait() != 0 for p in procs):
                raise RuntimeError("%s failed" % host)
            t1 = os.times()
            ms = (t1.children_user + t1.children_system - t0.children_user - t0.children_system) * 1000.0 / n
            y = np.concatenate([np.fromfile(half + "." + name + ".y", dtype=np.float32).reshape(n // 2, -1)
                                for half in halves])
            top1 = 100.0 * float(np.mean(y.argmax(1) == labels))
            held = 100.0 * float(np.mean(y.argmax(1)[2000:] == labels[2000:]))
            fw = os.path.join(work, name + "_m4")
            os.makedirs(fw)
            fm, fr, stack = firmware(name, out, x, y.argmax(1), fw)
            rows.append(dict(model=model, config=label, flash_model=fm, flash_runtime=fr, arena=info["arena_bytes"],
                             stack=stack, top1=top1, drop=fl - top1, drop_heldout=fl_held - held, ms=ms))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if args.update:
        return update_table(args.update, rows)
    lines = ["| model | configuration | flash: model + runtime = total (B) | RAM: arena + stack = total (B) | "
             "top-1 (%) | drop (points) | host ms | goal flash / RAM | met |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(table_row(r))
    for model, (flash, ram, tfl) in PEERS.items():
        lines.append("| %s | MLPerf Tiny, X-CUBE-AI 8.1, Cortex-M4 (other input*) | %d | %d | | | | | |"
                     % (model, flash, ram))
        lines.append("| %s | reference int8 .tflite file (other input*) | %d (file) | | | | | | |" % (model, tfl))
    lines.append("")
    lines.append("\\* Same architectures, other inputs: MLPerf Tiny's ResNet-8 takes 32x32x3 CIFAR-10 images and "
                 "DS-CNN 49x10 MFCC features; the zoo's take 28x28x1 Fashion-MNIST, so first layers and activation "
                 "sizes differ. Flash counts the kept text + rodata + data of the model and runtime objects "
                 "(arm-none-eabi-gcc 12 -Os, function/data sections, --gc-sections); RAM is NAME_ARENA_BYTES plus "
                 "the painted peak stack of NAME_run under QEMU mps2-an386. Top-1 on the 10,000 Fashion-MNIST test "
                 "images with the generated code built for the host; drop against the float model run by shrink "
                 "eval. Calibration: 500 training images; no validation set, so no test image steered the pipeline.")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# shrink compile on a Cortex-M4 (benchmarks/micro_bench.py)\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
