"""ONNX Runtime as the reference of the cross-checks: runs models on named
inputs through onnxruntime-node (benchmarks/.ort, installed by
scripts/setup_ort.sh) and tests/tools/ort_run.js, and returns the outputs."""
import json
import os
import subprocess
import tempfile

import numpy as np

SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ORT_MODULES = os.path.join(SRC, "benchmarks", ".ort", "node_modules")
ORT_JS = os.path.join(SRC, "tests", "tools", "ort_run.js")


def available():
    return os.path.isdir(os.path.join(ORT_MODULES, "onnxruntime-node"))


def run_many(jobs, level="disabled"):
    """jobs: [(model path, {input name: ndarray})], run in one node process.
    Returns per job (output names, [ndarray]) in the session's order, or the
    error message (a str) when ONNX Runtime refused the model."""
    with tempfile.TemporaryDirectory(prefix="ort_ref_") as tmp:
        spec = []
        for j, (model, feeds) in enumerate(jobs):
            d = os.path.join(tmp, str(j))
            os.mkdir(d)
            files = {}
            for i, (name, value) in enumerate(feeds.items()):
                files[name] = os.path.join(d, "in%d.npy" % i)
                np.save(files[name], np.ascontiguousarray(value))
            spec.append({"model": os.path.abspath(model), "outdir": d, "level": level, "feeds": files})
        r = subprocess.run(["node", ORT_JS, ORT_MODULES, "-"], input=json.dumps(spec), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("ONNX Runtime runner failed: %s" % r.stderr.strip())
        results = []
        for j, line in enumerate(r.stdout.splitlines()):
            names = json.loads(line)
            if isinstance(names, dict):
                results.append(names["error"])
                continue
            d = spec[j]["outdir"]
            results.append((names, [np.load(os.path.join(d, "%d.npy" % k)) for k in range(len(names))]))
        if len(results) != len(jobs):
            raise RuntimeError("ONNX Runtime runner answered %d of %d jobs" % (len(results), len(jobs)))
        return results


def run(model_path, feeds, level="disabled"):
    """One model: (output names, [ndarray]); RuntimeError with ORT's message
    when it refuses the model."""
    res = run_many([(model_path, feeds)], level)[0]
    if isinstance(res, str):
        raise RuntimeError("ONNX Runtime failed on %s: %s" % (model_path, res))
    return res
