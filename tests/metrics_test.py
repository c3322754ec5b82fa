#!/usr/bin/python3
"""Metrics beyond top-1 (issue 16 item 7): --metric snr|cosine|mse and the
budgets --min-snr / --min-cosine, checked against numpy on ONNX Runtime's
outputs.

A face-embedding-like model (no labels; a 16-value embedding per sample):
  - eval --ref: cosine (mean per sample), SNR and MSE equal numpy's on the
    two models' outputs;
  - run --min-cosine 0.995 / --min-snr 25 with prune-magnitude at 90%: the
    written model meets the floor by numpy's measure on ONNX Runtime's
    outputs, the report names the metric, and its final value is numpy's;
  - run --metric mse: the report's final value is numpy's MSE;
  - sensitivity --metric cosine: each layer's value at sparsity 0.5 equals
    numpy's cosine after numpy's magnitude pruning of that layer alone.
Bad input: --metric top1 without labels, --min-snr with --max-drop, --max-drop
with --metric cosine: exit 2.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import TMP, check, failures, magnitude_prune, ort_batch, run  # noqa: E402

SHRINK = os.environ["SHRINK"]


def cosine(y, r):
    y, r = y.reshape(len(y), -1).astype(np.float64), r.reshape(len(r), -1).astype(np.float64)
    return float(np.mean(np.sum(y * r, 1) / np.sqrt(np.sum(y * y, 1) * np.sum(r * r, 1))))


def snr(y, r):
    y, r = y.astype(np.float64), r.astype(np.float64)
    return float(10 * np.log10(np.sum(r * r) / np.sum((y - r) ** 2)))


def mse(y, r):
    return float(np.mean((y.astype(np.float64) - r.astype(np.float64)) ** 2))


def embed_model(path, w1, w2):
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["emb"], name="fc2")]
    g = helper.make_graph(nodes, "embed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 32])],
                          [helper.make_tensor_value_info("emb", TensorProto.FLOAT, ["N", 16])],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def main():
    rng = np.random.default_rng(12)
    w1, w2 = rng.normal(0, 0.3, (32, 64)).astype(np.float32), rng.normal(0, 0.3, (64, 16)).astype(np.float32)
    model = os.path.join(TMP, "embed.onnx")
    embed_model(model, w1, w2)
    x = rng.normal(0, 1, (40, 32)).astype(np.float32)
    xf = os.path.join(TMP, "x.npy")
    np.save(xf, x)
    ref = ort_batch([(model, {"x": x})])[0][0]

    # eval --ref on a pruned copy
    pruned = os.path.join(TMP, "pruned.onnx")
    embed_model(pruned, magnitude_prune(w1, 0.7), w2)
    r = run([SHRINK, "eval", pruned, "--data", xf, "--ref", model, "--metric", "cosine", "--json"])
    if check(r.returncode == 0, "eval --metric cosine: %s" % r.stderr.strip()):
        j = json.loads(r.stdout)
        y = ort_batch([(pruned, {"x": x})])[0][0]
        check(j["metric"] == "cosine", "eval names the metric")
        check(abs(j["cosine"] - cosine(y, ref)) < 1e-5, "eval cosine %g, numpy %g" % (j["cosine"], cosine(y, ref)))
        check(abs(j["snr_db"] - snr(y, ref)) < 1e-3, "eval snr %g, numpy %g" % (j["snr_db"], snr(y, ref)))
        check(abs(j["mse"] - mse(y, ref)) <= 1e-5 * mse(y, ref), "eval mse %g, numpy %g" % (j["mse"], mse(y, ref)))

    # run with budgets on cosine and SNR, and mse without a budget
    cases = (("cosine", ["--min-cosine", "0.995"], cosine, lambda v: v >= 0.995 - 1e-9),
             ("snr", ["--min-snr", "25"], snr, lambda v: v >= 25 - 1e-6),
             ("mse", ["--metric", "mse"], mse, lambda v: True))
    for name, args, fn, ok in cases:
        out, rep = os.path.join(TMP, "run_%s.onnx" % name), os.path.join(TMP, "run_%s.json" % name)
        r = run([SHRINK, "run", model, "-o", out, "--pass", "prune-magnitude:sparsity=0.9", "--val", xf, "--report",
                 rep, "--quiet"] + args)
        if not check(r.returncode in (0, 1), "run %s: %s" % (name, r.stderr.strip())):
            continue
        acc = json.load(open(rep))["accuracy"]
        y = ort_batch([(out, {"x": x})])[0][0]
        got = fn(y, ref)
        check(acc["metric"] == name, "the report names metric %s, not %s" % (name, acc["metric"]))
        check(abs(acc["final"] - got) <= 1e-4 * max(1.0, abs(got)), "run %s: report final %g, numpy %g" %
              (name, acc["final"], got))
        check(ok(got), "run %s: the written model breaks the budget (numpy %g)" % (name, got))
        if name == "snr":  # the terminal speaks the metric: dB, not a percentage of agreement
            r2 = run([SHRINK, "run", model, "-o", os.path.join(TMP, "run_snr2.onnx"), "--pass",
                      "prune-magnitude:sparsity=0.9", "--val", xf] + args)
            lines = r2.stdout.splitlines()
            check(any(l.startswith("float model  snr inf dB") and "budget snr >= 25.00 dB" in l for l in lines),
                  "run snr: the float model line names snr, its value and the floor (%s)" % lines[:1])
            check(("accuracy  snr %.2f dB (float inf dB)" % got) in lines,
                  "run snr: the summary gives numpy's %.2f dB" % got)
            check("budget    snr >= 25.00 dB: held" in lines, "run snr: the summary says the floor held")
            check(not any("%" in l and ("snr" in l or "\u2192" in l) for l in lines),
                  "run snr: no SNR shown as a percentage (%s)" % [l for l in lines if "%" in l])
        if name != "mse":
            spars = [p.get("params", "") for p in json.load(open(rep))["passes"]]
            check(r.returncode == 0 and not any("sparsity=0.9," in s or s.endswith("sparsity=0.9") for s in spars),
                  "run %s: 90%% sparsity breaks the budget, so the pass must have been backed off (%s)" % (name, spars))

    # sensitivity with cosine: each layer pruned alone at 0.5
    r = run([SHRINK, "sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5", "--val", xf, "--metric",
             "cosine", "--json"])
    if check(r.returncode == 0, "sensitivity --metric cosine: %s" % r.stderr.strip()):
        j = json.loads(r.stdout)
        check(j["metric"] == "cosine" and abs(j["float"] - 1) < 1e-9, "sensitivity names cosine, float 1")
        jobs, want = [], {}
        for layer in j["layers"]:
            p = os.path.join(TMP, "sens_%s.onnx" % layer["weight"])
            embed_model(p, magnitude_prune(w1, 0.5) if layer["weight"] == "w1" else w1,
                        magnitude_prune(w2, 0.5) if layer["weight"] == "w2" else w2)
            jobs.append((p, {"x": x}))
            want[layer["weight"]] = layer["accuracy"][0]
        for (p, _), res in zip(jobs, ort_batch(jobs)):
            name = os.path.basename(p)[5:-5]
            check(abs(want[name] - cosine(res[0], ref)) < 1e-5, "sensitivity %s: %g, numpy %g" %
                  (name, want[name], cosine(res[0], ref)))

    for label, args in (("--metric top1 without labels", ["--metric", "top1"]),
                        ("--min-snr with --max-drop", ["--min-snr", "20", "--max-drop", "1"]),
                        ("--max-drop with --metric cosine", ["--metric", "cosine", "--max-drop", "1"]),
                        ("--min-snr with --metric cosine", ["--metric", "cosine", "--min-snr", "20"])):
        out = os.path.join(TMP, "bad.onnx")
        r = run([SHRINK, "run", model, "-o", out, "--pass", "prune-magnitude", "--val", xf] + args)
        check(r.returncode == 2 and not os.path.exists(out) and len(r.stderr.strip().splitlines()) == 1,
              "%s: exit 2 with one line (got %d: %s)" % (label, r.returncode, r.stderr.strip()))
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("metric checks passed")


if __name__ == "__main__":
    main()
