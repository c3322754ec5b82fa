#!/usr/bin/python3
"""correct=auto (bn) after prune-structured keeps the re-estimated
BatchNorm statistics only when they bring the output closer to the input
model's on the calibration data, and else falls back to bias correction
(issue 16, PP-OCR in corpus.md).

The trained zoo ResNet-8 (benchmarks/zoo/resnet8.onnx, BatchNorm kept)
pruned 30% by prune-structured, with calibration data of its own kind (8
Fashion-MNIST images, normalized as in training) and of another kind (the
same images scaled by 3, a normalization slip). ONNX Runtime runs
the results per data set (correct=auto, none, bn, bias) on that data: when
bn is closer to the float model there than none (the squared error numpy
computes), the auto result must equal bn's (same outputs); otherwise auto
must be the correct=bias model, byte for byte. The test requires the two
data sets to disagree on which is closer, so both branches run.
`--verbose` must say "reverted" exactly when none wins.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_generate  # noqa: E402
from wild_util import SRC, TMP, check, failures, ort_batch, run  # noqa: E402

SHRINK = os.environ["SHRINK"]
MODEL = os.path.join(SRC, "benchmarks", "zoo", "resnet8.onnx")


def main():
    own = np.concatenate(corpus_generate.fashion(8, 5))
    # the same images scaled three times too far from the mean (a
    # normalization slip: dividing by std**2)
    other = (own * 3).astype(np.float32)
    winners = {}
    for label, data in (("own", own), ("other", other)):
        cf = os.path.join(TMP, label + ".npy")
        np.save(cf, data)
        outs = {}
        log = ""
        for corr in ("auto", "none", "bn", "bias"):
            o = os.path.join(TMP, "%s_%s.onnx" % (label, corr))
            r = run([SHRINK, "run", MODEL, "-o", o, "--verbose", "--pass", "prune-structured:ratio=0.3,correct=" + corr,
                     "--calib", cf])
            if not check(r.returncode == 0, "%s %s: %s" % (label, corr, r.stderr.strip())):
                return
            outs[corr] = o
            if corr == "auto":
                log = r.stdout + r.stderr
        res = ort_batch([(MODEL, {"input": data})] + [(outs[c], {"input": data}) for c in ("auto", "none", "bn")])
        ref, auto, none, bn = [np.asarray(x[0], np.float64) for x in res]
        e_none, e_bn = np.sum((none - ref) ** 2), np.sum((bn - ref) ** 2)
        win = "none" if e_bn > e_none else "bn"
        winners[label] = win
        print("%s data: squared error none %.4g, bn %.4g -> %s" % (label, e_none, e_bn, win))
        if win == "bn":
            check(np.array_equal(auto, bn), "%s data: correct=auto is not the bn result" % label)
        else:
            with open(outs["auto"], "rb") as fa, open(outs["bias"], "rb") as fb:
                check(fa.read() == fb.read(), "%s data: correct=auto reverted bn but is not the correct=bias model"
                      % label)
        check(("reverted" in log) == (win == "none"), "%s data: the log says reverted=%s, expected %s"
              % (label, "reverted" in log, win == "none"))
    check(winners["own"] != winners["other"], "the two data sets do not exercise both branches: %s" % winners)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


main()
