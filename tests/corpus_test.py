"""The corpus of real third-party models (issue 16 item 8) through every
step of shrink, each compared with ONNX Runtime.

For every model of tests/corpus/manifest.json (fetched into
benchmarks/.corpus by scripts/setup_corpus.sh), and the models
tests/corpus_generate.py makes at test time for opsets 7, 8, 10, 17 and
PRelu (into benchmarks/.corpus/generated, kept between runs), with inputs of
its own kind (tests/corpus_inputs.py):
  info       `shrink info --json` names the manifest's opset, op counts
             (subgraphs included; computed by python3-onnx) and inputs
  exec       the executor on every input (states and sample rate included)
             matches ONNX Runtime on every output within 1e-4 relative +
             1e-5 absolute (the conformance runner on the model written in
             the backend test layout)
  eval       `shrink eval --out` matches ONNX Runtime's first output within
             the same tolerance
  int8       `shrink run --pass quantize-int8` (with --calib)
  lcm        prune-magnitude 0.1 + quantize-kmeans 8 bits + huffman to .lcm (the
             passes' other parameters at their defaults: global magnitude
             ranking, the optimal 1-D k-means, GPTQ-compensated assignment
             and the statistics correction, which use --calib), then
             `shrink decode` back to ONNX
  structured `shrink run --pass prune-structured:ratio=0.1,criterion=l1`
For int8, lcm and structured, ONNX Runtime runs the written model on the
validation inputs and the SNR of its first output against the float
model's must reach BOUNDS[step] dB.

A step either succeeds so, or is listed in EXPECTED with its status and
text: a known gap ("mismatch", "below bound", "unchanged": the output
model is as large as the input or computes the same, nothing was
compressed) must show that status and text; a refusal would have to exit 2
with its reason in a one-line message (none is left). The test asserts
them, so a step that starts to work fails the test until its entry is
removed. Inputs that are not batched (a 0-d sample rate, RNN
states [2, batch, H]) are given with `--feed NAME=FILE.npy`.

    corpus_test.py CONFORMANCE_BINARY [--table OUT.md]    (SHRINK: the CLI)
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_generate  # noqa: E402
import corpus_inputs  # noqa: E402
import ort_ref  # noqa: E402

SRC = ort_ref.SRC
MANIFEST = os.path.join(SRC, "tests", "corpus", "manifest.json")
CORPUS = os.environ.get("LC_CORPUS_DIR", os.path.join(SRC, "benchmarks", ".corpus"))
SHRINK = os.environ.get("SHRINK", os.path.join(SRC, "build", "shrink"))
N_CALIB, N_VAL = 8, 4
RTOL, ATOL = 1e-4, 1e-5
STEPS = ("info", "exec", "eval", "int8", "lcm", "structured")
# minimum SNR (dB) of the first output against the float model, per step
BOUNDS = {"int8": 15.0, "lcm": 15.0, "structured": 5.0}
# what a user gets from the passes' defaults at 10% sparsity and 8 bits (until
# 2026-12-06 the test pinned scope=layer and method=lloyd, the defaults of an
# earlier release: that recipe left six models below 15 dB, this one one)
LCM_PASSES = ["prune-magnitude:sparsity=0.1", "quantize-kmeans:bits=8", "huffman"]
STRUCTURED = "prune-structured:ratio=0.1,criterion=l1"

# Known gaps: model id -> step -> (status, text the detail must contain).
# No refusal is left: --feed (0-d sample rate, RNN states), If/LSTM, the
# opset upgrade, --calib binding symbolic dims and the finite-weight check
# have landed. Each entry is a measured gap (see the notes of table()); the
# test asserts it, so a step that starts to meet its bound fails the test
# until its entry is removed. Bounds are never loosened here.
UNCHANGED = ("unchanged", "size 100%")  # nothing compressed (see the comment on each model)
BELOW = ("below bound", "(bound 15)")
BELOW_STRUCT = ("below bound", "(bound 5)")
EXPECTED = {
    # every weight sits in If branches (Silero v4/v5 wrap the whole net in
    # If(sr == 16000)): quantize-int8, quantize-kmeans and prune-magnitude
    # compress them (and the LSTM W/R); prune-structured leaves subgraphs alone
    "silero_vad_v4": {"structured": UNCHANGED},
    "silero_vad_v5": {"structured": UNCHANGED},
    # no channel of the STFT can go
    "oww_melspectrogram": {"structured": UNCHANGED},
    # channels tied by Max of two branches: no channel can go
    "oww_embedding": {"structured": UNCHANGED},
    "oww_hey_jarvis": {"structured": UNCHANGED},
    # channels feed a layer norm written as ReduceMean ops: no channel can go
    "oww_hey_rhasspy": {"structured": UNCHANGED},
    "oww_hello_deepa": {"structured": UNCHANGED},
    # exec (BlazeFace, M-LSD): float32 rounding that the nets amplify; ONNX
    # Runtime itself breaks the rule against float64 on these outputs, and
    # shrink is as close to float64 or closer (benchmarks/corpus_float64.py,
    # the notes of table()), so no float32 executor can meet it against ORT
    "blazeface_front": {"exec": ("mismatch", "output 3 'Identity_3:0'"), "structured": UNCHANGED},
    "blazeface_back": {"exec": ("mismatch", "output 2 'Identity_2:0'"),
                       "structured": ("unchanged", "SNR inf dB")},
    # exec/eval: see BlazeFace (40 convolutions amplify float32 rounding).
    # int8 (was 4.0 dB): the first depthwise conv's 3x3 edge filters (weights
    # up to 48 summing to ~0) turn 8-bit rounding into an error as large as
    # their output; quantize-int8's local damage check (local_snr=30) keeps
    # such layers float, or their inputs float, and it meets the bound
    "mlsd_tiny": {"exec": ("mismatch", "output 0 'offsets'"), "eval": ("mismatch", "values off")},
    # det int8 (was 5.5 dB): the stem's output, rounded per tensor into a
    # depthwise conv of edge filters that amplify the rounding noise; the
    # local damage check keeps such inputs float (weights stay int8): no
    # int8 entry left
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def batched(model):
    """Names of the inputs that carry the batch in dim 0 (given with
    --data): symbolic, unknown (0) or 1 there. The others (0-d, or the batch
    elsewhere, as in RNN states [2, batch, H]) need --feed."""
    return [i["name"] for i in model["inputs"]
            if i["dims"] and (not isinstance(i["dims"][0], int) or i["dims"][0] in (0, 1))]


class Step:
    def __init__(self, status, detail="", snr=None, ratio=None):
        self.status, self.detail, self.snr, self.ratio = status, detail, snr, ratio


def shrink(args):
    r = subprocess.run([SHRINK] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr.strip().replace(CORPUS + "/", "")


def data_args(model, feeds, tmp, tag, data_flag):
    """--data/--calib files (samples stacked along dim 0) for the batched
    inputs, --feed for the others (their value from the first sample)."""
    args, names = [], batched(model)
    for i in model["inputs"]:
        name = i["name"]
        path = os.path.join(tmp, "%s_%s.npy" % (tag, re.sub(r"[^A-Za-z0-9_]", "_", name)))
        if name in names:
            np.save(path, np.concatenate([f[name] for f in feeds]))
            args += [data_flag, path]
        else:
            np.save(path, feeds[0][name])
            args += ["--feed", "%s=%s" % (name, path)]
    return args


def snr_db(ref, got):
    ref = np.concatenate([r.ravel() for r in ref]).astype(np.float64)
    got = np.concatenate([g.ravel() for g in got]).astype(np.float64)
    err = np.sum((ref - got) ** 2)
    return float("inf") if err == 0 else 10 * np.log10(np.sum(ref ** 2) / err)


def check_info(model, path):
    code, out, err = shrink(["info", path, "--json"])
    if code:
        return Step("exit %d" % code, err)
    info = json.loads(out)
    opset = {o.get("domain", ""): o.get("version") for o in info["opsets"]} if isinstance(info["opsets"], list) \
        else info["opsets"]
    want_ops = model["ops"]
    names = [i["name"] if isinstance(i, dict) else i for i in info["inputs"]]
    problems = []
    if opset.get("", opset.get("ai.onnx")) != model["opset"]:
        problems.append("opsets %s" % opset)
    if info["ops"] != want_ops:
        problems.append("ops %s" % info["ops"])
    if [i["name"] for i in model["inputs"]] != names:
        problems.append("inputs %s" % names)
    return Step("ok" if not problems else "wrong", "; ".join(problems))


def write_case(d, path, val):
    os.makedirs(d)
    m = onnx.load(path)
    onnx.save(m, os.path.join(d, "model.onnx"))
    inits = {i.name for i in m.graph.initializer}
    in_names = [i.name for i in m.graph.input if i.name not in inits]
    out_names = [o.name for o in m.graph.output]
    for k, (feed, (names, outs)) in enumerate(val):
        ds = os.path.join(d, "test_data_set_%d" % k)
        os.makedirs(ds)
        for j, name in enumerate(in_names):
            with open(os.path.join(ds, "input_%d.pb" % j), "wb") as f:
                f.write(numpy_helper.from_array(feed[name], name).SerializeToString())
        for j, name in enumerate(out_names):
            with open(os.path.join(ds, "output_%d.pb" % j), "wb") as f:
                f.write(numpy_helper.from_array(outs[names.index(name)], name).SerializeToString())


def check_exec(conformance, case_dir):
    r = subprocess.run([conformance, "--verbose", case_dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    line = r.stdout.strip().splitlines()[0] if r.stdout.strip() else ""
    if line.startswith("PASS"):
        return Step("ok", "all outputs within 1e-4 rel + 1e-5 abs on %d inputs" % N_VAL)
    return Step("unsupported" if line.startswith("UNSUPPORTED") else "mismatch", line.split(": ", 1)[-1])


def check_eval(model, path, val_feeds, ref_first, tmp):
    out = os.path.join(tmp, "eval_out.npy")
    code, _, err = shrink(["eval", path, "--batch", "1", "--out", out] + data_args(model, val_feeds, tmp, "val",
                                                                                  "--data"))
    if code:
        return Step("exit %d" % code, err)
    got = np.load(out).reshape(-1)
    want = np.concatenate([r.ravel() for r in ref_first])
    if got.shape != want.shape:
        return Step("mismatch", "eval --out has %d values, ONNX Runtime %d" % (got.size, want.size))
    bad = np.abs(got - want) > ATOL + RTOL * np.abs(want)
    if bad.any():
        return Step("mismatch", "%d of %d values off, max |diff| %.3g" % (bad.sum(), bad.size,
                                                                          np.abs(got - want).max()))
    return Step("ok", "first output within 1e-4 rel + 1e-5 abs")


def check_compressed(step, model, path, calib_feeds, val_feeds, ref_first, tmp):
    if step == "lcm":
        lcm, out = os.path.join(tmp, "m.lcm"), os.path.join(tmp, "decoded.onnx")
        args = ["run", path, "-o", lcm, "--quiet", "--batch", "1"]
        for p in LCM_PASSES:
            args += ["--pass", p]
        # the calibration data every other step gets: with it the passes'
        # default correct=auto corrects the statistics after each pass
        code, _, err = shrink(args + data_args(model, calib_feeds, tmp, "calib", "--calib"))
        if not code:
            code, _, err = shrink(["decode", lcm, "-o", out])
    else:
        lcm = None
        out = os.path.join(tmp, step + ".onnx")
        spec = "quantize-int8" if step == "int8" else STRUCTURED
        code, _, err = shrink(["run", path, "-o", out, "--quiet", "--batch", "1", "--pass", spec] +
                              data_args(model, calib_feeds, tmp, "calib", "--calib"))
    if code:
        return Step("exit %d" % code, err)
    res = ort_ref.run_many([(out, f) for f in val_feeds])
    for r in res:
        if isinstance(r, str):
            return Step("ort refused", r.splitlines()[0][:200])
    snr = snr_db(ref_first, [r[1][0] for r in res])
    ratio = os.path.getsize(lcm if step == "lcm" else out) / os.path.getsize(path)
    detail = "SNR %.1f dB (bound %.0f), size %.0f%%" % (snr, BOUNDS[step], 100 * ratio)
    if ratio >= 0.999 or snr == float("inf"):  # nothing the model computes was compressed
        return Step("unchanged", detail, snr, ratio)
    return Step("ok" if snr >= BOUNDS[step] else "below bound", detail, snr, ratio)


def model_path(model):
    return os.path.join(CORPUS, model.get("dir", ""), model["id"] + ".onnx")


def run_model(model, conformance, tmp):
    path = model_path(model)
    feeds = corpus_inputs.samples(model, N_CALIB + N_VAL, 16, CORPUS)
    calib_feeds, val_feeds = feeds[:N_CALIB], feeds[N_CALIB:]
    ref = ort_ref.run_many([(path, f) for f in val_feeds])
    for r in ref:
        if isinstance(r, str):
            raise RuntimeError("ONNX Runtime refused %s: %s" % (model["id"], r))
    ref_first = [r[1][0] for r in ref]
    result = {"info": check_info(model, path)}
    case = os.path.join(tmp, "case_" + model["id"])
    write_case(case, path, list(zip(val_feeds, ref)))
    result["exec"] = check_exec(conformance, case)
    result["eval"] = check_eval(model, path, val_feeds, ref_first, tmp)
    for step in ("int8", "lcm", "structured"):
        result[step] = check_compressed(step, model, path, calib_feeds, val_feeds, ref_first, tmp)
    return result


def judge(model, step, st):
    """'' when the step did what the test expects, else why not."""
    want = EXPECTED.get(model["id"], {}).get(step)
    if want is None:
        return "" if st.status == "ok" else "%s: %s" % (st.status, st.detail)
    status, text = want
    if st.status != status or text not in st.detail or "\n" in st.detail:
        return "expected %s (%s), got %s: %s" % (status, text, st.status, st.detail)
    return ""


def table(models, results, seconds):
    lines = ["# Real third-party models through shrink", "",
             "Produced by `tests/corpus_test.py` (ctest `corpus`), %s; models from "
             "`tests/corpus/manifest.json`, fetched by `scripts/setup_corpus.sh`, and models made at test time "
             "by `tests/corpus_generate.py` (package \"(made here)\")." % time.strftime("%Y-%m-%d"),
             "Inputs of each model's own kind (`tests/corpus_inputs.py`), %d calibration and %d validation "
             "samples; ONNX Runtime %s is the reference." % (N_CALIB, N_VAL, "(onnxruntime-node)"),
             "exec: the executor vs ONNX Runtime on every output (1e-4 rel + 1e-5 abs); eval: `shrink eval --out`;"
             " int8: `quantize-int8`; lcm: %s to .lcm (given the calibration samples), `decode`d;"
             " structured: `prune-structured:ratio=0.1,criterion=l1`. "
             "For those three the number is the SNR of the first output against the float model in ONNX Runtime "
             "(bounds: int8 >= %.0f dB, lcm >= %.0f dB, structured >= %.0f dB)." % (
                 " + ".join(LCM_PASSES), BOUNDS["int8"], BOUNDS["lcm"], BOUNDS["structured"]),
             "Every cell that is not ok is a known gap the test asserts (detail below the table). "
             "Run time %.0f s." % seconds, "",
             "| model | package@version | opset | MB | info | exec | eval | int8 | lcm | structured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    reasons = []
    for m in models:
        r = results[m["id"]]
        cells = []
        for step in STEPS:
            st = r[step]
            if st.status == "ok":
                cells.append("ok" + (" %.1f dB, %.0f%%" % (st.snr, 100 * st.ratio) if st.snr is not None else ""))
            else:
                reasons.append("- %s %s: %s %s" % (m["id"], step, st.status, st.detail))
                cells.append("%s [%d]" % (st.status, len(reasons)))
        lines.append("| %s | %s@%s | %d | %.2f | %s |" % (m["id"], m["package"], m["version"], m["opset"],
                                                          m["bytes"] / 1e6, " | ".join(cells)))
    lines += ["", "Reasons:", ""] + ["[%d] %s" % (k + 1, r[2:]) for k, r in enumerate(reasons)]
    lines += ["", "Notes:", "",
              "- made here: opsets 7, 8, 10 and 17 and PRelu are on no npm model found; `tests/corpus_generate.py` "
              "re-exports shrink's trained zoo (Fashion-MNIST, benchmarks/zoo) with torch.onnx at opsets 7, 8 and "
              "10, and exports a LeNet-5 whose ReLUs became per-channel PReLUs fine-tuned 300 steps at opset 17; "
              "their inputs are Fashion-MNIST test images. The opset-7 export lists every initializer as a graph "
              "input (IR 3); the opset upgrade drops those entries, so quantize-int8 folds its BatchNorms.",
              "- subgraphs and recurrent weights: the weights inside Silero's If branches (Conv weights read from "
              "the main graph, Constant nodes in the branches) and the LSTM W/R (also as 2-D tensors unsqueezed, "
              "their gate blocks reordered by Slice + Concat) are compressed by quantize-int8 (weights only) and "
              "the .lcm passes; one channel is one gate row. prune-structured leaves them alone.",
              "- unchanged (structured): no channel can be removed (channels tied by Max of two branches, by a "
              "layer norm written as ReduceMean ops, by the STFT, or inside If branches).",
              "- int8: an activation whose nonzero values mostly (80%) round to zero at 8 bits stays float (the "
              "power spectrum before Log in the mel front end: 92%; 6.5 -> 51.5 dB), and Add/Mul/Concat or "
              "data movement between float ops are no longer quantized (Silero 16k 9.5 -> 21.5 dB, hey_jarvis "
              "13.7 -> 15.7 dB). fold-batchnorm now folds Constant-node weights (PaddleOCR), so PP-OCR cls goes "
              "3.9 -> 18.4 dB. Before the local damage check (next note) PP-OCR det stayed below (5.5 dB; its weights alone: 25.9 dB): its activations are "
              "heavy-tailed (the first depthwise conv's output spans +-50 at rms 2.7) and the error of 60 "
              "per-tensor 8-bit activations accumulates (22.7 dB after the first depthwise conv, ~14 dB after "
              "five layers). M-LSD's int8 weights alone give 4.0 dB, and numpy's per-channel rounding of them the "
              "same 4.0 dB (no quantizer bug): its first depthwise conv (alone 4.8 dB) holds 3x3 edge filters "
              "with weights up to 48 that sum to -0.009, whose rounding moves the response to flat regions by "
              "~0.3 per unit input, which the ReLU6 passes on; GPTQ-rounded 8-bit weights give 7.9 dB. "
              "`quantize-int8:fallback` (the layers that hurt most stay float) under `--min-snr 15` lifts M-LSD to "
              "17.4 dB with five float layers (chosen on 4 other samples); PP-OCR det meets it only all float. "
              "This test runs int8 without a budget: on 4 samples the budget is too noisy (Silero 16k: 5.95 dB "
              "on the search samples, 21.5 dB on the judged ones).",
              "- int8 ranges and PP-OCR det (2026-12-06): the calibrators over the corpus (first-output SNR, minmax "
              "/ mse / percentile 99.99 / entropy): PP-OCR det 5.5 / 5.7 / 4.5 / 0.0, cls 21.2 / 14.1 / 12.4 / "
              "15.2, hey_jarvis 15.7 / 17.7 / 17.9 / 13.0, Silero 16k 21.5 / 22.4 / 21.5 / -3.5, BlazeFace back "
              "18.0 / 17.6 / 17.1 / 0.1, zoo ResNet-8 37.0 / 36.9 / 35.5 / 7.8 dB: none is better on every model "
              "and mse breaks cls' bound, so minmax stays the default. Where det loses it: with int8 weights and "
              "every activation clipped to its calibrated range but not rounded, 20.4 dB; rounding one activation "
              "on top of that, the stem's output (Conv + folded BN, 16 channels whose max |x| runs 1.4 to 16, "
              "one step of 0.125 for all) alone gives 9.2 dB, the next worst 14.5, 17.5 and 18.3 dB. The stem "
              "feeds a depthwise conv of 3x3 edge filters (L2 norms up to 19.5, sums near 0), which amplify the "
              "white rounding noise ~20x and pass smooth input with gain ~1. Per-channel scales (QuantizeLinear "
              "axis 1, which int8 kernels do not run) on the stem's output give 9.0 dB, on the first 25 "
              "activations 16.9 dB; rescaling the stem's channels into the depthwise conv (the int8-runnable form "
              "of the first) can reach only the 9.0 dB, since HardSwish between the later layers blocks it. "
              "fallback=1, 2, 4, 8, 16: 5.6, 8.8, 11.6, 13.1, 13.8 dB.",
              "- int8 local damage check (local_snr, default 30 dB): on the calibration data each quantized "
              "layer's kernel runs again on its float inputs, once with its weights rounded and once with its "
              "input activation rounded, and the SNR of its own output against float (the mean over output "
              "channels of error / signal) is measured; 8-bit rounding of a well-conditioned tensor gives ~40 "
              "dB, and a layer 10 dB below that amplifies the rounding noise (edge filters over smooth inputs): "
              "its weights stay float when their rounding is the cause, else its input stays float and its "
              "weights int8 (float weights / float inputs: M-LSD 6 / 4, PP-OCR det 2 / 14, cls 0 / 6, BlazeFace "
              "front 1 / 7, back 3 / 15, embedding 1 / 0). M-LSD 4.0 -> 15.7 dB (36% -> 37% of the size), "
              "PP-OCR det 5.5 -> 21.0 dB (28% -> 38%), cls 21.2 -> 18.2 (48% -> 46%), embedding 19.3 -> 28.2, "
              "BlazeFace front 28.0 -> 29.4 (60% -> 63%), back 18.0 -> 17.2 dB (66% -> 72%), the other models "
              "unchanged; the zoo's default int8 models are byte-identical (no layer below "
              "30 dB). Per-tensor SNR (one sum over all channels) missed M-LSD's layers (21-22 dB where the "
              "channel mean gives 18-19), and keeping whole layers float where only the input is hurt gave "
              "M-LSD 18.2 and det 21.4 dB at 58% of det's size.",
              "- int8 graph fixes: node names are unique in the model (a bias shared by two Convs gave two "
              "DequantizeLinear nodes of one name, which ONNX Runtime refuses), and a grouped ConvTranspose's bias "
              "becomes int32 with the scale of its weight column (it stayed float); "
              "tests/int8_shared_grouped_test.py checks both against ONNX Runtime.",
              "- structured (PP-OCR): `correct=auto` re-estimated every BatchNorm on the 8 synthetic calibration "
              "images (-3.0 dB det, 1.4 dB cls); it is now undone when it moves the output away from the input "
              "model's on the calibration data, and bias correction (against the model before the pass) runs "
              "instead: 30.2 and 11.7 dB (correct=none: 28.5 and 7.3 dB).",
              "- mismatch (exec, eval): measured against a float64 evaluation of the same float32 weights and inputs "
              "(`benchmarks/corpus_float64.py`, the 4 validation inputs), ONNX Runtime itself breaks the 1e-4 "
              "relative + 1e-5 absolute rule: BlazeFace back 23 + 8 values, front 1, M-LSD offsets 6,659 of "
              "409,600, M-LSD scores 13; shrink: 14 + 5, 0, 4,316 and 0, with a relative RMS error within 10% of "
              "ONNX Runtime's or below it. Both differ from float64 by float32 rounding that the nets amplify "
              "(each layer alone is within 1e-6 relative RMS of float64 in both), so two float32 executors cannot "
              "meet the rule against each other here. Found on the way and fixed: the direct Conv kernels summed "
              "each output in one chain started from the bias, 2-3 times further from float64 than ONNX Runtime "
              "(M-LSD's 3x3 convs over 128 channels; BlazeFace's first conv, whose biases are large), which made "
              "shrink the less exact one (M-LSD offsets 9,923 values off, eval 12,501 off of ONNX Runtime's, max "
              "|diff| 0.053); they now sum per 16 input channels and add the bias last (tests/conv_sum_order_test."
              "py). M-LSD's scores pass a Sigmoid through a max-pool peak test (Equal): ONNX Runtime's Sigmoid "
              "(MLAS's approximation: up to 2.8e-4 relative on [-8, 8], and not monotone: 1.3% of sorted "
              "neighbouring inputs give decreasing outputs) flips that test on near-ties, shrink's (1.7e-7 "
              "relative) does not; shrink keeps the exact one rather than copy ONNX Runtime's.",
              "- lcm: the recipe is the passes' defaults at 10% and 8 bits. The earlier one pinned per-layer "
              "pruning (scope=layer) and Lloyd's k-means (method=lloyd): 10% of every layer, depthwise filters "
              "of 9 weights included, cost most (pruning alone, per layer -> global: Silero 16k 12.4 -> 26.0, "
              "embedding 8.8 -> 25.7, BlazeFace back 8.3 -> 20.0, M-LSD 4.4 -> 24.7, PP-OCR det 14.7 -> 19.7, "
              "cls 6.0 -> 12.9 dB), and it left six models below 15 dB (4.9, 8.9, 8.1, 3.1, 14.8, 6.0 dB). "
              "Without calibration data PP-OCR cls stayed below (12.3 dB): 10% global pruning alone gives 12.9 "
              "dB, no layer dominates (each alone >= 20 dB), and ranking by magnitude relative to the layer's or "
              "the channel's scale does worse (5.8 to 10.7 dB, numpy). Since 2026-12-06 the step gets the 8 "
              "calibration samples, as int8 and structured do, and the passes' default correct=auto corrects "
              "the statistics after prune-magnitude and after quantize-kmeans (cls: the BatchNorm re-estimate "
              "on 8 synthetic images is undone, bias correction runs): cls 22.8 dB (13.2 with correct=none on "
              "both passes), every model at or above its no-data SNR but the mel front end (61.7 -> 61.5), "
              "det 15.6 -> 20.3, M-LSD 17.5 -> 26.0, BlazeFace back 22.2 -> 30.1. With the data, "
              "quantize-kmeans' default compensate=gptq ran GPTQ on layers whose 8 samples gave fewer input "
              "vectors than columns (hey_jarvis' 1536-input Gemm: 8 vectors): the compensation fits those "
              "inputs and moves the weights along directions they never took, 26.6 -> 12.0 dB; such layers now "
              "take the nearest centroid (quantize-gptq min_inputs=1 inside quantize-kmeans): hey_jarvis 39.9 "
              "dB; on the zoos only LeNet-300's first layer (784 columns, 500 images) is affected, within noise "
              "(benchmarks/results/defaults.md). Ranking BN-scaled magnitudes (fold-batchnorm before prune-magnitude: weight x gamma / "
              "sqrt(var + eps) per output channel) lifts cls 12.3 -> 15.6 dB but takes det 15.6 -> 0.0 dB (the "
              "head conv before a BatchNorm of small gamma / sqrt(var) is pruned whole, and the next BatchNorm "
              "re-amplifies it), and costs the zoo at 50% and 70% (top-1 on images 2,000..9,999: ResNet-8 87.9 "
              "-> 61.1 and 45.0 -> 10.0, DS-CNN 43.3 -> 32.6; zoo 2 ResNet-8 84.1 -> 71.2, DS-CNN 42.6 -> 10.0; at "
              "10% within 0.4 points); the other corpus models are unchanged (BatchNorms folded at export). So "
              "prune-magnitude ranks the weights as stored. One codebook per channel (granularity=channel) is "
              "lossless-like but 1.3x to 5.8x the input size at 8 bits (256 centroids per channel)."]
    return "\n".join(lines) + "\n"


def main():
    args = sys.argv[1:]
    table_out = None
    if "--table" in args:
        k = args.index("--table")
        table_out = args[k + 1]
        del args[k:k + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    if not ort_ref.available():
        sys.exit("FAIL: %s/onnxruntime-node is not installed (scripts/setup_ort.sh installs it)" % ort_ref.ORT_MODULES)
    models = json.load(open(MANIFEST))["models"]
    for m in models:
        p = os.path.join(CORPUS, m["id"] + ".onnx")
        if not os.path.exists(p) or sha256(p) != m["sha256"]:
            sys.exit("FAIL: %s is missing or stale (scripts/setup_corpus.sh fetches the corpus)" % p)
    # opsets 7, 8, 10, 17 and PRelu, which no npm package carried: made here
    models += [dict(m, dir="generated") for m in corpus_generate.ensure(os.path.join(CORPUS, "generated"))]
    if os.environ.get("CORPUS_ONLY"):  # a comma-separated subset of ids, while working on them
        models = [m for m in models if m["id"] in os.environ["CORPUS_ONLY"].split(",")]
    t0 = time.time()
    results, failures = {}, 0
    with tempfile.TemporaryDirectory(prefix="corpus_") as tmp:
        for m in models:
            mdir = os.path.join(tmp, m["id"])
            os.makedirs(mdir)
            results[m["id"]] = run_model(m, args[0], mdir)
            for step in STEPS:
                st = results[m["id"]][step]
                why = judge(m, step, st)
                failures += bool(why)
                print("%s %-20s %-10s %s %s" % ("FAIL" if why else "ok  ", m["id"], step, st.status,
                                               why or st.detail))
    seconds = time.time() - t0
    if os.environ.get("CORPUS_DUMP_EXPECTED"):
        for m in models:
            print("%r: {%s}," % (m["id"], ", ".join("%r: (%r, %r)" % (k, st.status, st.detail) for k, st in
                                                  results[m["id"]].items() if st.status != "ok")))
    if table_out:
        with open(table_out, "w") as f:
            f.write(table(models, results, seconds))
    n = len(models) * len(STEPS)
    print("%d passed, %d failed" % (n - failures, failures))
    sys.exit(1 if failures else 0)


main()
