#!/usr/bin/env python3
"""The corpus test's .lcm step (tests/corpus_test.py) with variants: the same
models, inputs, 4 validation samples and SNR of the first output against
ONNX Runtime's float run, with other passes or with the calibration samples.

    LC_CORPUS_DIR=DIR [CALIB=1] [PASSES='p1:k=v;p2;...'] \\
        /usr/bin/python3 benchmarks/corpus_lcm_variants.py [ID,ID,...]

CALIB=1 gives the step the 8 calibration samples (--calib, --feed) as the
test does; PASSES replaces its pass list (';'-separated --pass specs).
Prints one line per model: SNR in dB and the .lcm size relative to the input.
"""
import json
import os
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests"))
TEST = os.path.join(SRC, "tests", "corpus_test.py")
ct = type(sys)("corpus_test")
ct.__file__ = TEST
# the test's helpers without running its main()
exec(compile(open(TEST).read().replace("\nmain()\n", "\n"), TEST, "exec"), ct.__dict__)


def main():
    if os.environ.get("PASSES"):
        ct.LCM_PASSES = os.environ["PASSES"].split(";")
    calib = os.environ.get("CALIB") == "1"
    models = json.load(open(ct.MANIFEST))["models"]
    models += [dict(m, dir="generated") for m in ct.corpus_generate.ensure(os.path.join(ct.CORPUS, "generated"))]
    if len(sys.argv) > 1:
        models = [m for m in models if m["id"] in sys.argv[1].split(",")]
    for model in models:
        path = ct.model_path(model)
        feeds = ct.corpus_inputs.samples(model, ct.N_CALIB + ct.N_VAL, 16, ct.CORPUS)
        calib_feeds, val_feeds = feeds[:ct.N_CALIB], feeds[ct.N_CALIB:]
        ref_first = [r[1][0] for r in ct.ort_ref.run_many([(path, f) for f in val_feeds])]
        with tempfile.TemporaryDirectory() as tmp:
            lcm, out = os.path.join(tmp, "m.lcm"), os.path.join(tmp, "d.onnx")
            args = ["run", path, "-o", lcm, "--quiet", "--batch", "1"]
            for p in ct.LCM_PASSES:
                args += ["--pass", p]
            if calib:
                args += ct.data_args(model, calib_feeds, tmp, "calib", "--calib")
            code, _, err = ct.shrink(args)
            if not code:
                code, _, err = ct.shrink(["decode", lcm, "-o", out])
            if code:
                print("%-20s exit %d %s" % (model["id"], code, err), flush=True)
                continue
            snr = ct.snr_db(ref_first, [r[1][0] for r in ct.ort_ref.run_many([(out, f) for f in val_feeds])])
            print("%-20s %6.1f dB  size %.0f%%" % (model["id"], snr, 100 * os.path.getsize(lcm) / os.path.getsize(path)),
                  flush=True)


if __name__ == "__main__":
    main()
