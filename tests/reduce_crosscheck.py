"""Every Reduce* kernel against ONNX Runtime, through the conformance runner.

For each reduction and input dtype (float32, float64, int32, int64, and
int8/uint8 for ReduceMax/ReduceMin) this writes an ONNX backend-style case
(model.onnx + test_data_set_0/{input,output}_0.pb) whose expected output
ONNX Runtime computed, then runs `conformance --require-all` over them:
floats within the runner's tolerance, integers exactly. The integer inputs
include values whose sums, squares and products overflow int32, so the
saturation of integer results (ONNX Runtime's behaviour, which ours
follows) is checked, not assumed.
Usage: reduce_crosscheck.py CONFORMANCE"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

conformance = sys.argv[1]
SRC = os.environ["LC_SOURCE_DIR"]
ORT_MODULES = os.path.join(SRC, "benchmarks", ".ort", "node_modules")
if not os.path.isdir(os.path.join(ORT_MODULES, "onnxruntime-node")):
    sys.exit("FAIL: %s/onnxruntime-node is not installed (scripts/setup_ort.sh installs it)" % ORT_MODULES)

ORT_JS = r"""
const fs = require('fs');
const ort = require(process.argv[2] + '/onnxruntime-node');
const arrays = {float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
                int8: Int8Array, uint8: Uint8Array};
(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[3]));
  for (const j of jobs) {
    const sess = await ort.InferenceSession.create(j.model, {intraOpNumThreads: 1});
    const b = fs.readFileSync(j.x);
    const A = arrays[j.dtype];
    const x = new A(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    const r = await sess.run({x: new ort.Tensor(j.dtype, x, j.shape)});
    const y = r[sess.outputNames[0]];
    fs.writeFileSync(j.y, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    j.yshape = y.dims;
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(jobs));
})().catch(e => { process.stderr.write(String(e)); process.exit(1); });
"""

OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
       "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"]
# what ONNX Runtime's CPU provider implements at opset 13
DTYPES = {op: ["float32", "float64", "int32", "int64"] for op in OPS}
DTYPES["ReduceMax"] += ["int8", "uint8"]
DTYPES["ReduceMin"] += ["int8", "uint8"]
ONNX_TYPE = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "int32": TensorProto.INT32,
             "int64": TensorProto.INT64, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8}

rng = np.random.default_rng(17)


def data(op, dtype, shape):
    n = int(np.prod(shape))
    if dtype.startswith("float"):
        lo = 0.1 if op in ("ReduceLogSum",) else -3.0  # ln of a positive sum
        return rng.uniform(lo, 3.0, n).reshape(shape).astype(dtype)
    if dtype in ("int8", "uint8"):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, n, endpoint=True).reshape(shape).astype(dtype)
    if op in ("ReduceLogSum", "ReduceLogSumExp"):
        return rng.integers(1, 5, n).reshape(shape).astype(dtype)
    # large values: int32 sums, squares and products overflow. For int64
    # products and squares they are so large (|x| > 3.04e9) that a square or
    # a product of two overflows int64 (both sides saturate) while products
    # with the small values stay below 2^53 (exact in double, whatever the
    # summation order). Elsewhere they stay within 32 bits: the ONNX Runtime
    # used here gets int64 ReduceMax/ReduceMin wrong beyond (it returned
    # -3365833321 as the max of {-3424240000, -5, -3365833321, -3924157355}).
    if dtype == "int64" and op in ("ReduceProd", "ReduceSumSquare"):
        big = rng.integers(3_100_000_000, 4_000_000_000, n) * rng.choice([-1, 1], n)
    else:
        big = rng.integers(-2_000_000_000, 2_000_000_000, n)
    small = rng.integers(-9, 10, n)
    return np.where(rng.random(n) < 0.5, big, small).reshape(shape).astype(dtype)


def main():
    tmp = tempfile.mkdtemp(prefix="reduce_xcheck_")
    cases = os.path.join(tmp, "cases")
    jobs = []
    for op in OPS:
        for dtype in DTYPES[op]:
            for axes, keep in (([1], 0), ([0, 2], 1), (None, 0)):
                shape = [3, 4, 2]
                name = "%s_%s_%s_k%d" % (op, dtype, "all" if axes is None else "".join(map(str, axes)), keep)
                kw = {"keepdims": keep}
                inputs = ["x"]
                inits = []
                if axes is not None:
                    if op == "ReduceSum":  # axes is an input from opset 13
                        inits.append(numpy_helper.from_array(np.array(axes, dtype=np.int64), "axes"))
                        inputs.append("axes")
                    else:
                        kw["axes"] = axes
                node = helper.make_node(op, inputs, ["y"], **kw)
                g = helper.make_graph([node], name, [helper.make_tensor_value_info("x", ONNX_TYPE[dtype], shape)],
                                      [helper.make_tensor_value_info("y", ONNX_TYPE[dtype], None)], inits)
                m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
                m.ir_version = 7
                d = os.path.join(cases, name)
                os.makedirs(os.path.join(d, "test_data_set_0"))
                onnx.save(m, os.path.join(d, "model.onnx"))
                x = data(op, dtype, shape)
                onnx.save_tensor(numpy_helper.from_array(x, "x"), os.path.join(d, "test_data_set_0", "input_0.pb"))
                xf = os.path.join(d, "x.bin")
                x.tofile(xf)
                jobs.append({"model": os.path.join(d, "model.onnx"), "x": xf, "y": os.path.join(d, "y.bin"),
                             "dtype": dtype, "shape": shape, "dir": d})
    jf = os.path.join(tmp, "jobs.json")
    with open(jf, "w") as f:
        json.dump(jobs, f)
    js = os.path.join(tmp, "ort.js")
    with open(js, "w") as f:
        f.write(ORT_JS)
    subprocess.run(["node", js, ORT_MODULES, jf], check=True)
    with open(jf) as f:
        jobs = json.load(f)
    saturated = 0
    for j in jobs:
        y = np.fromfile(j["y"], dtype=j["dtype"]).reshape(j["yshape"])
        if j["dtype"] in ("int32", "int64"):
            info = np.iinfo(j["dtype"])
            saturated += int(np.sum((y == info.max) | (y == info.min)))
        onnx.save_tensor(numpy_helper.from_array(y, "y"), os.path.join(j["dir"], "test_data_set_0", "output_0.pb"))
    if saturated == 0:
        sys.exit("FAIL: no integer result saturated; the data does not test integer overflow")
    r = subprocess.run([conformance, "--require-all", cases], capture_output=True, text=True)
    print(r.stdout[-3000:], r.stderr[-2000:])
    print("%d cases against ONNX Runtime, %d saturated integer results among them" % (len(jobs), saturated))
    sys.exit(r.returncode)


main()
