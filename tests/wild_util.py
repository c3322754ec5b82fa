"""Shared by the issue-16 cross-checks: result bookkeeping, running
commands, and ONNX Runtime (benchmarks/.ort/node_modules/onnxruntime-node,
run by node) on a batch of (model, feeds) jobs in one process."""
import json
import os
import subprocess
import tempfile

import numpy as np

SRC = os.path.abspath(os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..")))
ORT_MODULES = os.environ.get("LC_ORT_MODULES", os.path.join(SRC, "benchmarks", ".ort", "node_modules"))
TMP = tempfile.mkdtemp(prefix="wild_check_")
failures = []


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        failures.append(what)
    return cond


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# One node process runs a list of jobs; each job's outputs (or error) are
# written beside its prefix.
ORT_JS = r"""
const fs = require('fs');
const ort = require(require('path').join(process.argv[2], 'onnxruntime-node'));
const ARR = {float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
             uint8: Uint8Array, int8: Int8Array, bool: Uint8Array};
(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[3]));
  for (const job of jobs) {
    try {
      const s = await ort.InferenceSession.create(job.model, {intraOpNumThreads: 1, graphOptimizationLevel: 'disabled'});
      const feeds = {};
      for (const inp of job.inputs) {
        const buf = fs.readFileSync(inp.file);
        const A = ARR[inp.type];
        const copy = new Uint8Array(buf.length); copy.set(buf);
        feeds[inp.name] = new ort.Tensor(inp.type, new A(copy.buffer, 0, buf.length / A.BYTES_PER_ELEMENT), inp.dims);
      }
      const r = await s.run(feeds);
      const meta = [];
      s.outputNames.forEach((n, i) => {
        const t = r[n];
        fs.writeFileSync(job.prefix + i + '.bin', Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        meta.push({name: n, type: t.type, dims: t.dims});
      });
      fs.writeFileSync(job.prefix + 'meta.json', JSON.stringify(meta));
    } catch (e) {
      fs.writeFileSync(job.prefix + 'error.txt', String(e));
    }
  }
})();
"""
NP_TYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "uint8": np.uint8,
            "int8": np.int8, "bool": np.bool_}


def ort_type(a):
    return {np.dtype(v): k for k, v in NP_TYPES.items()}[a.dtype]


def ort_batch(jobs):
    """jobs: [(model_path, {name: array})] -> [list of outputs | error text]."""
    js = os.path.join(TMP, "ort.js")
    with open(js, "w") as f:
        f.write(ORT_JS)
    spec = []
    for j, (model, feeds) in enumerate(jobs):
        prefix = os.path.join(TMP, "ort%d_" % j)
        for name in ("meta.json", "error.txt"):
            if os.path.exists(prefix + name):
                os.remove(prefix + name)
        ins = []
        for k, (name, a) in enumerate(feeds.items()):
            path = prefix + "in%d.bin" % k
            np.ascontiguousarray(a).tofile(path)
            ins.append({"name": name, "type": ort_type(a), "dims": list(a.shape), "file": path})
        spec.append({"model": model, "inputs": ins, "prefix": prefix})
    jf = os.path.join(TMP, "jobs.json")
    with open(jf, "w") as f:
        json.dump(spec, f)
    r = run(["node", js, ORT_MODULES, jf])
    if r.returncode != 0:
        raise RuntimeError("node failed: " + r.stderr)
    results = []
    for j in spec:
        if os.path.exists(j["prefix"] + "error.txt"):
            results.append(open(j["prefix"] + "error.txt").read())
            continue
        outs = []
        for i, m in enumerate(json.load(open(j["prefix"] + "meta.json"))):
            outs.append(np.fromfile(j["prefix"] + "%d.bin" % i, dtype=NP_TYPES[m["type"]]).reshape(m["dims"]))
        results.append(outs)
    return results


def close(a, b, rtol=1e-5, atol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True))
    return bool(np.array_equal(a, b))


def magnitude_prune(w, sparsity):
    """numpy reference: zero the round(sparsity*n) smallest |w| (ties: lower index first)."""
    k = int(np.round(sparsity * w.size))
    order = np.lexsort((np.arange(w.size), np.abs(w).ravel()))
    out = w.copy().ravel()
    out[order[:k]] = 0
    return out.reshape(w.shape)


def tmp_path(name):
    """A file in this run's scratch directory."""
    return os.path.join(TMP, name)


def snr_db(ref, got):
    """SNR of `got` against `ref` in dB (inf when equal)."""
    ref, got = np.asarray(ref, np.float64).ravel(), np.asarray(got, np.float64).ravel()
    err = np.sum((ref - got) ** 2)
    return float("inf") if err == 0 else 10 * np.log10(np.sum(ref ** 2) / err)
