#!/usr/bin/env python3
"""Which setting of each compression pass should be its default?

Runs every pass a user would type alone (`--pass NAME:...`, no recipe, no
--max-drop) in the variants of its parameters that matter, on both zoos
(benchmarks/zoo/*.onnx and a second zoo trained with another seed, e.g.
/tmp/zoo2), and measures the .lcm size and the top-1 drop on the 8,000 test
images 2,000..9,999 (never used for any choice: the pipeline gets no
validation data here at all).

Every variant spells out all the knobs this benchmark varies, so a row means
the same thing whatever the defaults of the build are. `base` is the setting
that was the default before this benchmark chose (issue 15, item 5).

Protocol per run:
    shrink run MODEL -o OUT.lcm --pass NAME:KNOBS --calib calib_u8_nchw.npy --mean 0.2860 --std 0.3530 --threads 1
    shrink eval OUT.lcm --data test_u8_nchw.npy[2000:] --out logits.npy ...
The float model is evaluated the same way; drop = float top-1 - compressed
top-1 on the same 8,000 images. `d vs base` is the paired difference to the
base variant of the same pass and level with its 95% noise band (1.96 x the
paired standard error sqrt(n01 + n10) / N from the images on which exactly
one of the two is right). CPU = user+sys seconds of `shrink run` (1 thread).

    /usr/bin/python3 benchmarks/defaults_bench.py --data /tmp/zoo-eval --zoo2 /tmp/zoo2 [--passes a,b] [--models a,b]
        [--cache DIR] [--out results.md] [--variants N] [--no-run]

Results are cached per (zoo, model, pass, knobs) in --cache (JSON lines), so a
rerun only runs what is new (delete the cache after changing the code);
--variants N runs only the first N variants of each pass (base and the
candidates first), --no-run only tabulates the cache.
The choice rule is printed under each pass's summary: among the variants
whose file is within 1% of base's size on every model, with every cell base
has, no model/level on which it is worse than base beyond the noise band,
and a mean difference to base better than the pooled band of that mean:
the lowest mean drop over both zoos, all models and both levels; else base.
"""
import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORM = ["--mean", "0.2860", "--std", "0.3530"]
MODELS = ["lenet300", "lenet5", "resnet8", "dscnn"]
BN_MODELS = {"resnet8", "dscnn"}  # have BatchNormalization: correct=auto means bn there, bias elsewhere

# pass -> (levels a user would type, base = the old defaults of the knobs varied, variants as overrides)
PASSES = {
    "quantize-kmeans": (["bits=4", "bits=3"],
                        dict(compensate="none", granularity="layer", method="optimal", hessian="false", correct="auto"),
                        [{}, {"compensate": "gptq"}, {"hessian": "true"}, {"correct": "none"}, {"correct": "bias"},
                         {"hessian": "true", "correct": "bias"}, {"method": "lloyd"},
                         {"granularity": "channel"}, {"granularity": "channel", "hessian": "true"},
                         {"@pass": "quantize-gptq", "grid": "kmeans"}]),
    "quantize-gptq": (["bits=4", "bits=3"],
                      dict(grid="uniform", granularity="auto", damp="0.01", act_order="false", sequential="true",
                           correct="auto"),
                      [{}, {"damp": "0.1"}, {"grid": "kmeans"}, {"act_order": "true"}, {"damp": "0.001"},
                       {"sequential": "false"}, {"correct": "none"}, {"correct": "bias"},
                       {"grid": "kmeans", "act_order": "true"}]),
    "prune-hessian": (["sparsity=0.5", "sparsity=0.7"],
                      dict(scope="global", rank="magnitude", damp="0.01", sequential="true", bn_update="true",
                           bn_weight="false", rescale="false", bits="0", correct="auto"),
                      [{}, {"rescale": "true"}, {"scope": "layer"}, {"rank": "obs"}, {"damp": "0.1"}, {"damp": "0.001"},
                       {"sequential": "false"}, {"bn_update": "false"}, {"bn_weight": "true"},
                       {"correct": "none"}, {"correct": "bias"}]),
    "prune-magnitude": (["sparsity=0.5", "sparsity=0.7"],
                        dict(scope="layer", correct="auto"),
                        [{}, {"scope": "global"}, {"correct": "none"}, {"correct": "bias"},
                         {"scope": "global", "correct": "bias"}]),
    "prune-structured": (["ratio=0.25", "ratio=0.5"],
                         dict(criterion="l1", correct="auto"),
                         [{}, {"criterion": "l2"}, {"criterion": "bn-gamma"}, {"correct": "none"},
                          {"correct": "bias"}]),
    # a second look at one question ("NAME#topic": the pass NAME, its own
    # section): the statistics correction at the current defaults, 10% too
    "prune-magnitude#correct": (["sparsity=0.1", "sparsity=0.5", "sparsity=0.7"],
                                dict(scope="global", correct="auto"),
                                [{}, {"correct": "none"}, {"correct": "bias"}]),
    # compensate=gptq's GPTQ only where the calibration data gave at least as
    # many input vectors as the layer has columns (quantize-gptq min_inputs=1);
    # the @pass row is GPTQ on every layer, as before
    "quantize-kmeans#min_inputs": (["bits=4", "bits=3"],
                                   dict(compensate="gptq", granularity="layer", correct="auto"),
                                   [{}, {"@pass": "quantize-gptq", "grid": "kmeans"}, {"compensate": "none"}]),
    "quantize-int8": ([""],
                      dict(granularity="channel", act_type="uint8", calib="minmax", correct="auto"),
                      [{}, {"calib": "percentile"}, {"calib": "entropy"}, {"calib": "mse"}, {"act_type": "int8"},
                       {"correct": "none"}, {"correct": "bias"}, {"granularity": "tensor"}]),
    "binarize": ([""],
                 dict(first_last="false", correct="auto"),
                 [{}, {"correct": "none"}, {"correct": "bias"}, {"first_last": "true"}]),
}


def name_of(over):
    if "@pass" in over:  # another pass at the same level, e.g. GPTQ with a k-means grid
        return over["@pass"] + ":" + name_of({k: v for k, v in over.items() if k != "@pass"})
    return ",".join("%s=%s" % kv for kv in over.items()) or "base"


def knobs(level, base, over):
    """(pass or None, knob string) of a variant, every varied knob spelled out."""
    other = over.get("@pass")
    if other:
        base = PASSES[other][1]
        over = {k: v for k, v in over.items() if k != "@pass"}
    kv = dict(base)
    kv.update(over)
    return other, ",".join(([level] if level else []) + ["%s=%s" % x for x in kv.items()])


def effective(model, spec):
    """The spec with correct=auto resolved, so identical runs are run once."""
    return spec.replace("correct=auto", "correct=" + ("bn" if model in BN_MODELS else "bias"))


def hits(shrink, model, data, tmp):
    out = os.path.join(tmp, "logits.npy")
    subprocess.run([shrink, "eval", model, "--data", data["x"], "--out", out, "--threads", "1"] + NORM,
                   check=True, stdout=subprocess.DEVNULL)
    lg = np.load(out)
    return lg.reshape(lg.shape[0], -1).argmax(1) == data["y"]


def run_one(shrink, onnx, passarg, data, tmp):
    out = os.path.join(tmp, "out.lcm")
    if os.path.exists(out):
        os.remove(out)
    cmd = [shrink, "run", onnx, "-o", out, "--pass", passarg, "--calib", data["calib"], "--threads", "1",
           "--quiet"] + NORM
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    if p.returncode or not os.path.exists(out):
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1], "cpu": cpu}
    h = hits(shrink, out, data, tmp)
    return {"bytes": os.path.getsize(out), "hits": "".join("1" if v else "0" for v in h), "cpu": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", required=True, help="folder written by benchmarks/zoo/make_test_data.py")
    ap.add_argument("--zoo2", help="folder with the second zoo's {lenet300,lenet5,resnet8,dscnn}.onnx")
    ap.add_argument("--passes", default=",".join(PASSES))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--cache", default="/tmp/defaults_bench")
    ap.add_argument("--out", help="also write the tables to this markdown file")
    ap.add_argument("--no-run", action="store_true", help="only tabulate what the cache holds")
    ap.add_argument("--variants", type=int, default=0,
                    help="run only the first N variants of each pass (base first; the others from the cache)")
    a = ap.parse_args()
    shrink = os.path.join(a.build, "shrink")
    os.makedirs(a.cache, exist_ok=True)
    x = np.load(os.path.join(a.data, "test_u8_nchw.npy"))[2000:]
    y = np.load(os.path.join(a.data, "test_labels.npy"))[2000:]
    xpath = os.path.join(a.cache, "unseen_u8_nchw.npy")
    if not os.path.exists(xpath):
        np.save(xpath, x)
    data = {"x": xpath, "y": y, "calib": os.path.join(a.data, "calib_u8_nchw.npy")}
    zoos = [("1", os.path.join(ROOT, "benchmarks", "zoo"))] + ([("2", a.zoo2)] if a.zoo2 else [])
    cache_path = os.path.join(a.cache, "runs.jsonl")
    tmp = tempfile.mkdtemp(prefix="run.", dir=a.cache)  # this process's outputs (the cache may be shared)
    cache = {}
    if os.path.exists(cache_path):
        for line in open(cache_path):
            r = json.loads(line)
            cache[r["key"]] = r
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    def cached(key, fn):
        if key not in cache and a.no_run:
            return None
        if key not in cache:
            r = fn()
            r["key"] = key
            cache[key] = r
            with open(cache_path, "a") as f:
                f.write(json.dumps(r) + "\n")
        return cache[key]

    models = []  # (zoo, model, onnx path, float hits)
    for z, d in zoos:
        for m in a.models.split(","):
            onnx = os.path.join(d, m + ".onnx")
            if not os.path.exists(onnx):
                print("skipping %s (not there yet)" % onnx, file=sys.stderr)
                continue
            sha = hashlib.sha1(open(onnx, "rb").read()).hexdigest()[:12]
            f = cached("float|%s" % sha, lambda: {"hits": "".join(
                "1" if v else "0" for v in hits(shrink, onnx, data, tmp))})
            if f is None:
                continue
            models.append((z, m, onnx, sha, np.array([c == "1" for c in f["hits"]])))

    for pname in a.passes.split(","):
        levels, base, variants = PASSES[pname]
        emit("## %s\n" % pname)
        emit("base (the defaults before this benchmark): `%s`\n" % knobs("", base, {})[1])
        emit("| level | variant | model | zoo | bytes | drop (unseen 8k) | d vs base (95%) | CPU s |")
        emit("|---|---|---|---|---:|---:|---:|---:|")
        res = {}  # (variant name, level, zoo, model) -> (bytes, drop, delta, band, cpu)
        for level in levels:
            for z, m, onnx, sha, fh in models:
                basehits = None
                for vi, over in enumerate(variants):
                    other, spec = knobs(level, base, over)
                    pn = other or pname.split("#")[0]
                    key = "%s|%s|%s" % (sha, pn, effective(m, spec))
                    if a.variants and vi >= a.variants and key not in cache:
                        continue
                    r = cached(key, lambda: run_one(shrink, onnx, pn + ":" + spec, data, tmp))
                    if r is None:
                        continue
                    vn = name_of(over)
                    if "error" in r:
                        emit("| %s | %s | %s | %s | - | %s | - | %.1f |" % (level, vn, m, z, r["error"], r["cpu"]))
                        continue
                    h = np.array([c == "1" for c in r["hits"]])
                    drop = 100.0 * (fh.mean() - h.mean())
                    if not over:
                        basehits = h
                    if basehits is not None:
                        delta = 100.0 * (basehits.mean() - h.mean())  # > 0: worse than base
                        band = 196.0 * np.sqrt(np.sum(basehits != h)) / len(h)
                    else:
                        delta, band = float("nan"), float("nan")
                    res[(vn, level, z, m)] = (r["bytes"], drop, delta, band, r["cpu"])
                    emit("| %s | %s | %s | %s | %d | %.2f | %+.2f ± %.2f | %.1f |" % (
                        level or "-", vn, m, z, r["bytes"], drop, delta, band, r["cpu"]))
        emit()
        emit("Summary over %d model/level cells (both zoos):\n" % len({k[1:] for k in res}))
        emit("| variant | mean drop | zoo 1 | zoo 2 | worst drop | mean d vs base (95%) "
             "| cells better / worse than base beyond noise | size / base | CPU / base | equal size |")
        emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        best, best_drop = None, None
        for over in variants:
            vn = name_of(over)
            cells = [(k, v) for k, v in res.items() if k[0] == vn]
            if not cells:
                continue
            bcells = [res.get(("base",) + k[1:]) for k, _ in cells]
            if any(b is None for b in bcells):
                continue
            drops = [v[1] for _, v in cells]
            deltas = [v[2] for _, v in cells]
            worse = sum(1 for _, v in cells if v[2] > v[3])
            better = sum(1 for _, v in cells if v[2] < -v[3])
            # the mean of independent paired differences: its band pools the cells' bands
            mband = np.sqrt(sum(v[3] ** 2 for _, v in cells)) / len(cells)
            sz = [v[0] / b[0] for (_, v), b in zip(cells, bcells)]
            cpu = sum(v[4] for _, v in cells) / max(1e-9, sum(b[4] for b in bcells))
            equal = all(abs(s - 1) <= 0.01 for s in sz)
            full = len(cells) == len([k for k in res if k[0] == "base"])
            ok = vn == "base" or (equal and worse == 0 and full and np.mean(deltas) < -mband)
            if ok and (best is None or np.mean(drops) < best_drop):
                best, best_drop = vn, np.mean(drops)
            zmean = ["%.2f" % np.mean(d) if d else "-" for d in
                     ([v[1] for k, v in cells if k[2] == z] for z in ("1", "2"))]
            emit("| %s | %.2f | %s | %s | %.2f | %+.2f ± %.2f | %d / %d | %.3f | %.2f | %s |" % (
                vn, np.mean(drops), zmean[0], zmean[1], max(drops), np.mean(deltas), mband, better, worse, np.mean(sz),
                cpu, "yes" if equal else "no"))
        emit()
        emit("rule's choice for %s: **%s** (equal size (within 1%%) on every model, no cell worse than base beyond "
             "noise, mean difference to base better beyond its 95%% band; lowest mean drop among those, else base)\n"
             % (pname, best))
    shutil.rmtree(tmp, ignore_errors=True)
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
