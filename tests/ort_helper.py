"""ONNX Runtime (onnxruntime-node under benchmarks/.ort) on float32 inputs,
shared by the interop tests.

    from ort_helper import ort_run
    y = ort_run(model_path, x, tmp_dir, modules_dir, level="all")   # [N, K] float32
"""
import json
import os
import subprocess

import numpy as np

ORT_JS = r"""
const fs = require('fs');
const ort = require(process.argv[2] + '/onnxruntime-node');
function readNpy(f) {
  const b = fs.readFileSync(f);
  const hl = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hl);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hl, b.byteOffset + b.length));
  return {shape, data};
}
(async () => {
  const [model, xin, out, level] = process.argv.slice(3);
  const sess = await ort.InferenceSession.create(model, {graphOptimizationLevel: level, intraOpNumThreads: 1});
  const x = readNpy(xin);
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const n = x.shape[0], bs = 500, outs = [];
  let k = 0;
  for (let i = 0; i < n; i += bs) {
    const m = Math.min(bs, n - i);
    const t = new ort.Tensor('float32', x.data.slice(i * per, (i + m) * per), [m].concat(x.shape.slice(1)));
    const r = await sess.run({[sess.inputNames[0]]: t});
    const y = r[sess.outputNames[0]];
    k = y.dims[1];
    outs.push(Float32Array.from(y.data));
  }
  const all = new Float32Array(n * k);
  let o = 0;
  for (const a of outs) { all.set(a, o); o += a.length; }
  fs.writeFileSync(out, Buffer.from(all.buffer));
  process.stdout.write(JSON.stringify({n, k}));
})().catch(e => { process.stderr.write(String(e)); process.exit(1); });
"""


def ort_run(model, x, tmp, modules, level="all"):
    """First output of `model` on x (float32, batch along dim 0), run by
    ONNX Runtime with the given graph optimization level."""
    js = os.path.join(tmp, "ort_run.js")
    with open(js, "w") as f:
        f.write(ORT_JS)
    xin, out = os.path.join(tmp, "ort_x.npy"), os.path.join(tmp, "ort_y.bin")
    np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
    r = subprocess.run(["node", js, modules, model, xin, out, level], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("ONNX Runtime failed on %s: %s" % (model, r.stderr))
    info = json.loads(r.stdout)
    return np.fromfile(out, dtype=np.float32).reshape(info["n"], info["k"])
