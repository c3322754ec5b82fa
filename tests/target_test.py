"""shrink run --target-size end to end on the zoo LeNet-5 with small data
subsets (32 calibration, 100 validation images).

Checks, against independent computations:
- the output file fits the target; the report's output/target bytes and
  ratio are the file's size; its layers' sparsity and bits are what the
  decoded ONNX weights hold (counted with numpy);
- the report's final accuracy is the top-1 of the written model on the
  validation images, computed by a small PyTorch interpreter of the decoded
  ONNX graph (not by shrink's executor);
- the recipe key validate.target_size does the same as the flag, and the
  same seed gives the same file;
- an impossible target (1K) exits 1 and writes nothing; bad sizes exit 2
  with a one-line message."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
DATA = os.path.join(os.environ["LC_BUILD_DIR"], "target-data")
MODEL = os.path.join(SRC, "benchmarks", "zoo", "lenet5.onnx")
NORM = ["--mean", "0.2860", "--std", "0.3530"]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)
    else:
        print("ok  ", what)


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_onnx(path, x):
    """Logits of an ONNX model of Conv/Relu/MaxPool/Flatten/Gemm/Reshape nodes
    (what the LeNets use), with torch.nn.functional."""
    m = onnx.load(path)
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    env[m.graph.input[0].name] = torch.from_numpy(x)
    for n in m.graph.node:
        a, i = attrs(n), [env[k] if k else None for k in n.input]
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=(p[0], p[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "MaxPool":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), (p[0], p[1]))
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Reshape":
            y = i[0].reshape([int(v) for v in i[1]])
        elif n.op_type == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        else:
            raise RuntimeError("op %s not interpreted" % n.op_type)
        env[n.output[0]] = y
    return env[m.graph.output[0].name].numpy()


def shrink(*args):
    return subprocess.run([SHRINK] + list(args), capture_output=True, text=True)


def check_result(tag, tmp, out, report, target, val_x, val_y):
    size = os.path.getsize(out)
    r = json.load(open(report))
    check(size <= target, "%s: file %d bytes <= target %d" % (tag, size, target))
    check(r["output"]["bytes"] == size, "%s: report output.bytes = file size" % tag)
    t = r["target"]
    check(t["target_bytes"] == target and t["achieved_bytes"] == size and t["fits"] is True,
          "%s: report target {target_bytes, achieved_bytes, fits}" % tag)
    check(t["smallest_bytes"] <= size, "%s: smallest reached <= achieved" % tag)
    check(abs(r["ratio"] - os.path.getsize(MODEL) / size) < 1e-9, "%s: ratio = input / output bytes" % tag)
    check(r["target_met"] is True and any(x["pass"] == "target-size" for x in r["tried"]),
          "%s: target_met and the builds in tried" % tag)
    ov = r["overhead"]["total"] + sum(l["bytes_after"] for l in r["layers"])
    check(ov == size, "%s: layers' bytes_after + overhead = file size" % tag)
    dec = os.path.join(tmp, tag + ".onnx")
    res = shrink("decode", out, "-o", dec)
    check(res.returncode == 0, "%s: shrink decode" % tag)
    m = onnx.load(dec)
    inits = {t_.name: numpy_helper.to_array(t_) for t_ in m.graph.initializer}
    for l in r["layers"]:
        w = inits[l["weight"]]
        sp = float((w == 0).mean())
        distinct = len(np.unique(w[w != 0]))
        check(abs(sp - l["sparsity"]) < 1e-9 and distinct <= 2 ** l["bits"],
              "%s: %s sparsity %.3f, %d distinct nonzero values <= 2^%d" % (tag, l["name"], sp, distinct, l["bits"]))
    byname = {l["name"]: l for l in r["layers"]}
    for tl in t["layers"]:
        l = byname[tl["name"]]
        # k-means may map a few more weights to its zero code
        check(tl["setting"][0] - 0.005 <= l["sparsity"] <= tl["setting"][0] + 0.05 and tl["setting"][1] == l["bits"],
              "%s: %s allocated setting %s is the file's (%.3f, %d)" % (tag, l["name"], tl["setting"], l["sparsity"],
                                                                      l["bits"]))
    logits = run_onnx(dec, val_x)
    top1 = 100.0 * (logits.argmax(1) == val_y).mean()
    check(abs(top1 - r["accuracy"]["final"]) < 1e-9,
          "%s: report final accuracy %.2f = PyTorch top-1 of the file %.2f" % (tag, r["accuracy"]["final"], top1))
    return r


def main():
    os.makedirs(DATA, exist_ok=True)
    if not os.path.exists(os.path.join(DATA, "test_u8.npy")):
        subprocess.run([sys.executable, os.path.join(SRC, "benchmarks", "zoo", "make_test_data.py"), "--out", DATA],
                       check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        x = np.load(os.path.join(DATA, "test_u8.npy"))[:100]
        y = np.load(os.path.join(DATA, "test_labels.npy"))[:100].astype(np.int64)
        np.save(os.path.join(tmp, "val.npy"), x)
        np.save(os.path.join(tmp, "val_labels.npy"), y)
        np.save(os.path.join(tmp, "calib.npy"), np.load(os.path.join(DATA, "calib_u8.npy"))[:32])
        val_x = ((x.astype(np.float32) / 255 - np.float32(0.2860)) / np.float32(0.3530)).reshape(-1, 1, 28, 28)
        data = ["--calib", os.path.join(tmp, "calib.npy"), "--val", os.path.join(tmp, "val.npy"), "--labels",
                os.path.join(tmp, "val_labels.npy")] + NORM

        # the flag, with the default recipe
        out, rep = os.path.join(tmp, "a.lcm"), os.path.join(tmp, "a.json")
        res = shrink("run", MODEL, "-o", out, "--target-size", "14K", "--report", rep, "--seed", "3", *data)
        check(res.returncode == 0, "--target-size 14K exits 0 (%s)" % res.stderr.strip()[-200:])
        if res.returncode == 0:
            check("target    14,336 B: fits" in res.stdout, "terminal report states target and fit")
            check_result("flag", tmp, out, rep, 14336, val_x, y)

        # the recipe key, a magnitude recipe; twice with the same seed
        recipe = os.path.join(tmp, "r.json")
        json.dump({"passes": [{"pass": "prune-magnitude", "ops": ["Gemm"]}, {"pass": "quantize-kmeans"}, {"pass": "huffman"}],
                   "validate": {"target_size": "20K"}}, open(recipe, "w"))
        files = []
        for k in range(2):
            out, rep = os.path.join(tmp, "b%d.lcm" % k), os.path.join(tmp, "b%d.json" % k)
            res = shrink("run", MODEL, "-o", out, "--recipe", recipe, "--report", rep, "--quiet", *data)
            check(res.returncode == 0 and res.stdout == "", "recipe validate.target_size exits 0 quietly")
            if res.returncode == 0:
                files.append(open(out, "rb").read())
                if k == 0:
                    check_result("recipe", tmp, out, rep, 20480, val_x, y)
        check(len(files) == 2 and files[0] == files[1], "same seed, same file")

        # impossible: nothing written, exit 1, the smallest size reached named
        out, rep = os.path.join(tmp, "c.lcm"), os.path.join(tmp, "c.json")
        res = shrink("run", MODEL, "-o", out, "--recipe", recipe, "--target-size", "1K", "--report", rep, *data)
        lines = [l for l in res.stderr.splitlines() if l.startswith("shrink: goal not met")]
        check(res.returncode == 1 and not os.path.exists(out) and not os.path.exists(rep),
              "--target-size 1K: exit 1, no output file, no report (exit %d)" % res.returncode)
        check(len(lines) == 1 and "1024 bytes" in lines[0] and "smallest file reached is" in lines[0],
              "--target-size 1K: one error line naming the smallest size: %s" % lines)

        for bad in ["abc", "0", "-5K", "12Q", "", "1.5MX"]:
            res = shrink("run", MODEL, "-o", out, "--target-size", bad, *data)
            check(res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and not os.path.exists(out),
                  "--target-size '%s': exit 2 with one line: %s" % (bad, res.stderr.strip()))
        json.dump({"passes": [{"pass": "huffman"}], "validate": {"target_size": "lots"}}, open(recipe, "w"))
        res = shrink("run", MODEL, "-o", out, "--recipe", recipe, *data)
        check(res.returncode == 2 and "target_size" in res.stderr, "recipe target_size 'lots': exit 2")
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
