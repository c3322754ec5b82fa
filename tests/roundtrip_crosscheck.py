#!/usr/bin/python3
"""Cross-checks shrink's ONNX reader/writer and `shrink info` against an
independent reader, python3-onnx (issue 2).

  roundtrip_crosscheck.py roundtrip LC_ROUNDTRIP
      every model of the ONNX backend test data (node, pytorch-converted,
      pytorch-operator, simple), torchvision models exported at opset 13,
      and models saved with external data go through load -> save -> load in
      one lc_roundtrip process (which also checks save -> load -> save gives
      the same bytes); then one python process compares each original with
      its round-tripped copy field by field, tensors bit for bit.

  roundtrip_crosscheck.py info
      `shrink info --json` on the same models: params and bytes against what
      python computes from the initializers and Constant values of every
      graph; the keys; the per-layer rows against an independent attribution
      (each stored tensor to the first main-graph node that reads it, those
      inside subgraphs to the node holding the subgraph); plus small models
      whose weights sit in a Constant node or an If-branch initializer.

Environment: SHRINK, LC_BUILD_DIR (from lc_add_python_test).
"""
import concurrent.futures
import fcntl
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto, AttributeProto

TESTDATA = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
TORCHVISION = ["resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x0_5"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


# ---------------------------------------------------------------- models

def testdata_models():
    out = []
    for s in SUITES:
        out += sorted(glob.glob(os.path.join(TESTDATA, s, "*", "model.onnx")))
    return out


def torchvision_models():
    """Exports the torchvision models once (random weights, opset 13) into
    $LC_BUILD_DIR/rt-models; later runs reuse them. A lock keeps concurrent
    ctest jobs from exporting twice."""
    d = os.path.join(os.environ["LC_BUILD_DIR"], "rt-models")
    os.makedirs(d, exist_ok=True)
    paths = [os.path.join(d, n + ".onnx") for n in TORCHVISION]
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [(n, p) for n, p in zip(TORCHVISION, paths) if not os.path.exists(p)]
        if missing:
            import torch
            import torchvision
            for name, path in missing:
                torch.manual_seed(0)
                net = getattr(torchvision.models, name)(weights=None).eval()
                tmp = path + ".tmp"
                torch.onnx.export(net, torch.randn(1, 3, 224, 224), tmp, opset_version=13,
                                  input_names=["input"], output_names=["output"])
                os.replace(tmp, path)
    for p in paths:
        m = onnx.load(p, load_external_data=False)
        assert any(o.domain in ("", "ai.onnx") and o.version == 13 for o in m.opset_import), p
    return paths


def small_conv_model(seed=0):
    """Conv + Relu + Gemm with float weights, an int64 shape initializer and
    a doc string: a model with a bit of everything, for external data."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "conv.w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "conv.b")
    shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    fw = numpy_helper.from_array(rng.standard_normal((10, 4 * 6 * 6)).astype(np.float32), "fc.w")
    fb = numpy_helper.from_array(rng.standard_normal(10).astype(np.float32), "fc.b")
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    g = helper.make_graph(nodes, "small_conv",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                          [w, b, shape, fw, fb], doc_string="a small conv net")
    m = helper.make_model(g, producer_name="rt-test", opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    return m


def external_models(tmp):
    """The small conv model saved with external data: all tensors in one
    file (with offsets), and one file per tensor."""
    out = []
    for one_file in (True, False):
        d = os.path.join(tmp, "ext_one" if one_file else "ext_many")
        os.makedirs(d)
        p = os.path.join(d, "model.onnx")
        onnx.save_model(small_conv_model(), p, save_as_external_data=True, all_tensors_to_one_file=one_file,
                        location="weights.bin" if one_file else None, size_threshold=0)
        raw = onnx.load(p, load_external_data=False)
        assert all(t.data_location == TensorProto.EXTERNAL for t in raw.graph.initializer), p
        out.append(p)
    return out


# ---------------------------------------------------------------- comparing

def tensor_diff(a, b, where):
    """Differences between two TensorProtos: name, dtype, dims, doc string,
    and the values bit for bit (via numpy_helper.to_array)."""
    d = []
    if a.name != b.name:
        d.append(f"{where}: name {a.name!r} != {b.name!r}")
    if a.data_type != b.data_type:
        d.append(f"{where}: dtype {a.data_type} != {b.data_type}")
    if list(a.dims) != list(b.dims):
        d.append(f"{where}: dims {list(a.dims)} != {list(b.dims)}")
    if a.doc_string != b.doc_string:
        d.append(f"{where}: doc_string differs")
    if d:
        return d
    x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
    if x.dtype != y.dtype or x.shape != y.shape:
        d.append(f"{where}: array {x.dtype}{x.shape} != {y.dtype}{y.shape}")
    elif x.dtype == object:
        if x.ravel().tolist() != y.ravel().tolist():
            d.append(f"{where}: string values differ")
    elif x.tobytes() != y.tobytes():
        d.append(f"{where}: values differ bitwise")
    return d


def f32_bits(v):
    return struct.pack("<f", v)


def attr_diff(a, b, where):
    d = []
    for f in ("name", "type", "doc_string", "ref_attr_name"):
        if getattr(a, f) != getattr(b, f):
            return [f"{where}: attribute {f} {getattr(a, f)!r} != {getattr(b, f)!r}"]
    where = f"{where} attr {a.name!r}"
    va, vb = helper.get_attribute_value(a), helper.get_attribute_value(b)
    t = a.type
    if t == AttributeProto.FLOAT:
        if f32_bits(va) != f32_bits(vb):
            d.append(f"{where}: {va} != {vb}")
    elif t == AttributeProto.FLOATS:
        if np.array(va, np.float32).tobytes() != np.array(vb, np.float32).tobytes():
            d.append(f"{where}: floats differ")
    elif t == AttributeProto.TENSOR:
        d += tensor_diff(va, vb, where)
    elif t == AttributeProto.TENSORS:
        if len(va) != len(vb):
            d.append(f"{where}: {len(va)} != {len(vb)} tensors")
        for i, (x, y) in enumerate(zip(va, vb)):
            d += tensor_diff(x, y, f"{where}[{i}]")
    elif t == AttributeProto.GRAPH:
        d += graph_diff(va, vb, where)
    elif t == AttributeProto.GRAPHS:
        if len(va) != len(vb):
            d.append(f"{where}: {len(va)} != {len(vb)} graphs")
        for i, (x, y) in enumerate(zip(va, vb)):
            d += graph_diff(x, y, f"{where}[{i}]")
    elif t in (AttributeProto.SPARSE_TENSOR, AttributeProto.TYPE_PROTO):
        if va.SerializeToString() != vb.SerializeToString():
            d.append(f"{where}: value differs")
    elif t in (AttributeProto.SPARSE_TENSORS, AttributeProto.TYPE_PROTOS):
        if [x.SerializeToString() for x in va] != [x.SerializeToString() for x in vb]:
            d.append(f"{where}: values differ")
    elif va != vb:
        d.append(f"{where}: {va!r} != {vb!r}")
    return d


def value_infos_diff(a, b, where):
    d = []
    if len(a) != len(b):
        return [f"{where}: {len(a)} != {len(b)} entries"]
    for x, y in zip(a, b):
        if x.name != y.name or x.type != y.type or x.doc_string != y.doc_string:
            d.append(f"{where}: {x.name!r} ({x.type}) != {y.name!r} ({y.type})")
    return d


def blobs_diff(a, b, where):
    if [x.SerializeToString() for x in a] != [x.SerializeToString() for x in b]:
        return [f"{where}: serialized bytes differ"]
    return []


def graph_diff(a, b, where="graph"):
    d = []
    for f in ("name", "doc_string"):
        if getattr(a, f) != getattr(b, f):
            d.append(f"{where}: {f} {getattr(a, f)!r} != {getattr(b, f)!r}")
    d += value_infos_diff(a.input, b.input, f"{where} inputs")
    d += value_infos_diff(a.output, b.output, f"{where} outputs")
    d += value_infos_diff(a.value_info, b.value_info, f"{where} value_info")
    if len(a.node) != len(b.node):
        return d + [f"{where}: {len(a.node)} != {len(b.node)} nodes"]
    for i, (x, y) in enumerate(zip(a.node, b.node)):
        w = f"{where} node {i} ({x.name or x.op_type})"
        for f in ("name", "op_type", "domain", "doc_string"):
            if getattr(x, f) != getattr(y, f):
                d.append(f"{w}: {f} {getattr(x, f)!r} != {getattr(y, f)!r}")
        if list(x.input) != list(y.input) or list(x.output) != list(y.output):
            d.append(f"{w}: inputs/outputs differ")
        if len(x.attribute) != len(y.attribute):
            d.append(f"{w}: {len(x.attribute)} != {len(y.attribute)} attributes")
            continue
        for p, q in zip(x.attribute, y.attribute):
            d += attr_diff(p, q, w)
    if len(a.initializer) != len(b.initializer):
        return d + [f"{where}: {len(a.initializer)} != {len(b.initializer)} initializers"]
    for x, y in zip(a.initializer, b.initializer):
        d += tensor_diff(x, y, f"{where} initializer {x.name!r}")
    d += blobs_diff(a.sparse_initializer, b.sparse_initializer, f"{where} sparse_initializer")
    d += blobs_diff(a.quantization_annotation, b.quantization_annotation, f"{where} quantization_annotation")
    return d


def model_diff(a, b):
    d = []
    for f in ("ir_version", "producer_name", "producer_version", "domain", "model_version", "doc_string"):
        if getattr(a, f) != getattr(b, f):
            d.append(f"{f} {getattr(a, f)!r} != {getattr(b, f)!r}")
    if [(o.domain, o.version) for o in a.opset_import] != [(o.domain, o.version) for o in b.opset_import]:
        d.append("opset_import differs")
    if [(p.key, p.value) for p in a.metadata_props] != [(p.key, p.value) for p in b.metadata_props]:
        d.append("metadata_props differ")
    d += blobs_diff(a.functions, b.functions, "functions")
    d += blobs_diff(a.training_info, b.training_info, "training_info")
    d += graph_diff(a.graph, b.graph)
    return d


def all_tensors(g):
    """Every TensorProto of a graph: initializers and tensor attributes,
    recursively through subgraphs."""
    yield from g.initializer
    for n in g.node:
        for a in n.attribute:
            if a.type == AttributeProto.TENSOR:
                yield a.t
            yield from a.tensors
            if a.type == AttributeProto.GRAPH:
                yield from all_tensors(a.g)
            for sg in a.graphs:
                yield from all_tensors(sg)


def run_roundtrip(tool):
    with tempfile.TemporaryDirectory(prefix="rt-roundtrip-") as tmp:
        models = testdata_models() + torchvision_models() + external_models(tmp)
        if len(models) < 1000:
            fail(f"only {len(models)} models found (is libonnx-testdata installed?)")
        outs = [os.path.join(tmp, f"{i}.onnx") for i in range(len(models))]
        listing = os.path.join(tmp, "list.txt")
        with open(listing, "w") as f:
            for m, o in zip(models, outs):
                f.write(f"{m}\t{o}\n")
        r = subprocess.run([tool, "--stable", "--list", listing], capture_output=True, text=True)
        status = {}
        for line in r.stdout.splitlines():
            parts = line.split("\t")
            status[parts[1]] = parts
        if r.stderr.strip():
            fail(f"lc_roundtrip wrote to stderr (rc {r.returncode}):\n{r.stderr[-3000:]}")
        compared = 0
        for m, o in zip(models, outs):
            st = status.get(m)
            if not st or st[0] != "ok":
                fail(f"{m}: round trip failed: {st}")
                continue
            a = onnx.load(m)
            b = onnx.load(o, load_external_data=False)
            ext = [t.name for t in all_tensors(b.graph) if t.data_location == TensorProto.EXTERNAL]
            if ext:
                fail(f"{m}: tensors still external after the round trip: {ext}")
            d = model_diff(a, b)
            if d:
                fail(f"{m}: " + "; ".join(d[:5]))
            compared += 1
        print(f"round trip: {compared}/{len(models)} models identical through load -> save -> load; "
              f"save -> load -> save byte-identical for all of them", flush=True)


# ---------------------------------------------------------------- info

def subgraphs(node):
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            yield a.g
        elif a.type == AttributeProto.GRAPHS:
            yield from a.graphs


def stored(g):
    """(tensor, value name, Constant node or None) for the initializers and
    Constant `value` tensors of a graph (not its subgraphs)."""
    out = [(t, t.name, None) for t in g.initializer]
    for n in g.node:
        if n.op_type == "Constant" and n.domain in ("",) and n.output:
            for a in n.attribute:
                if a.name == "value" and a.type == AttributeProto.TENSOR:
                    out.append((a.t, n.output[0], n))
    return out


def stored_deep(g):
    out = stored(g)
    for n in g.node:
        for sg in subgraphs(n):
            out += stored_deep(sg)
    return out


def numel(t):
    return int(np.prod(list(t.dims), dtype=np.int64)) if len(t.dims) else 1


ELEM_SIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 8: 0, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2}


def references(node):
    """Value names a node reads: its inputs and those of every node in its
    subgraphs."""
    refs = set(node.input)
    for sg in subgraphs(node):
        for n in sg.node:
            refs |= references(n)
    return refs


def expected_info(m):
    g = m.graph
    everything = stored_deep(g)
    params = sum(numel(t) for t, _, _ in everything)
    nbytes = sum(numel(t) * ELEM_SIZE.get(t.data_type, 0) for t, _, _ in everything)
    owner = {}
    refs = [references(n) for n in g.node]
    for k, (t, value, const) in enumerate(stored(g)):
        for i, n in enumerate(g.node):
            if n is not const and value in refs[i]:
                owner[id(t)] = i
                break
    for i, n in enumerate(g.node):
        for sg in subgraphs(n):
            for t, _, _ in stored_deep(sg):
                owner[id(t)] = i
    layers = {}
    for t, _, _ in everything:
        if id(t) in owner:
            layers.setdefault(owner[id(t)], []).append(t)
    unused = sum(numel(t) for t, _, _ in everything if id(t) not in owner)
    ops = {}

    def count(graph):
        for n in graph.node:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
            for sg in subgraphs(n):
                count(sg)
    count(g)
    return params, nbytes, unused, layers, ops


KEYS = ["ir_version", "opsets", "producer", "inputs", "outputs", "nodes", "params", "bytes", "ops", "layers"]


def check_info(path, shrink):
    r = subprocess.run([shrink, "info", "--json", path], capture_output=True, text=True)
    if r.returncode != 0 or r.stderr:
        return [f"{path}: shrink info exit {r.returncode}: {r.stderr.strip()[:500]}"]
    try:
        info = json.loads(r.stdout)
    except ValueError as e:
        return [f"{path}: output is not JSON: {e}"]
    m = onnx.load(path)
    params, nbytes, unused, layers, ops = expected_info(m)
    d = []
    missing = [k for k in KEYS if k not in info]
    if missing:
        return [f"{path}: keys missing: {missing}"]
    if info["params"] != params:
        d.append(f"params {info['params']} != python {params}")
    if info["bytes"] != nbytes:
        d.append(f"bytes {info['bytes']} != python {nbytes}")
    if info["ir_version"] != m.ir_version:
        d.append(f"ir_version {info['ir_version']} != {m.ir_version}")
    if info["nodes"] != len(m.graph.node):
        d.append(f"nodes {info['nodes']} != {len(m.graph.node)}")
    if info["ops"] != ops:
        d.append(f"ops {info['ops']} != {ops}")
    opsets = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    if info["opsets"] != opsets:
        d.append(f"opsets {info['opsets']} != {opsets}")
    producer = (m.producer_name + " " + m.producer_version).strip() if m.producer_version else m.producer_name
    if info["producer"] != producer:
        d.append(f"producer {info['producer']!r} != {producer!r}")
    init_names = {t.name for t in m.graph.initializer}
    if [v["name"] for v in info["inputs"]] != [v.name for v in m.graph.input if v.name not in init_names]:
        d.append("inputs differ")
    if [v["name"] for v in info["outputs"]] != [v.name for v in m.graph.output]:
        d.append("outputs differ")
    if sum(L["params"] for L in info["layers"]) + unused != params:
        d.append(f"layers' params {sum(L['params'] for L in info['layers'])} + unused {unused} != {params}")
    want = sorted(layers)
    if len(info["layers"]) != len(want):
        d.append(f"{len(info['layers'])} layers != python {len(want)}")
    else:
        for L, i in zip(info["layers"], want):
            n = m.graph.node[i]
            ts = layers[i]
            name = n.name or f"{n.op_type}_{i}"
            big = max(numel(t) for t in ts)
            if L["name"] != name or L["op"] != n.op_type:
                d.append(f"layer {L['name']}/{L['op']} != {name}/{n.op_type}")
            if L["params"] != sum(numel(t) for t in ts):
                d.append(f"layer {name}: params {L['params']} != {sum(numel(t) for t in ts)}")
            if L["shape"] not in [list(t.dims) for t in ts if numel(t) == big]:
                d.append(f"layer {name}: shape {L['shape']} is not that of its largest tensor")
    return [f"{path}: {x}" for x in d]


def lifting_models(tmp):
    """Weights where a plain initializer scan would miss them: a Conv whose
    weight is a Constant node, and a Gemm inside an If branch whose weight
    is an initializer of the branch. Returns (path, node index, params)."""
    rng = np.random.default_rng(1)
    out = []
    w = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "w_const")
    b = numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "b")
    nodes = [helper.make_node("Constant", [], ["w"], name="wconst", value=w),
             helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", kernel_shape=[3, 3])]
    g = helper.make_graph(nodes, "const_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 3, 3])], [b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    p = os.path.join(tmp, "const_conv.onnx")
    onnx.save(m, p)
    out.append((p, 1, 54 + 3, [3, 2, 3, 3]))

    def branch(name, k):
        gw = numpy_helper.from_array(rng.standard_normal((4, k)).astype(np.float32), name + "_w")
        gb = numpy_helper.from_array(rng.standard_normal(k).astype(np.float32), name + "_b")
        return helper.make_graph([helper.make_node("Gemm", ["x", name + "_w", name + "_b"], [name + "_y"])], name, [],
                                 [helper.make_tensor_value_info(name + "_y", TensorProto.FLOAT, [2, k])], [gw, gb])
    nodes = [helper.make_node("If", ["cond"], ["y"], name="branchy", then_branch=branch("then", 5),
                              else_branch=branch("else", 5))]
    g = helper.make_graph(nodes, "if_gemm", [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                                             helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    p = os.path.join(tmp, "if_gemm.onnx")
    onnx.save(m, p)
    out.append((p, 0, 2 * (4 * 5 + 5), [4, 5]))
    return out


def run_info():
    shrink = os.environ["SHRINK"]
    with tempfile.TemporaryDirectory(prefix="rt-info-") as tmp:
        lifted = lifting_models(tmp)
        for path, node, want, shape in lifted:
            r = subprocess.run([shrink, "info", "--json", path], capture_output=True, text=True)
            info = json.loads(r.stdout) if r.returncode == 0 else {}
            rows = [L for L in info.get("layers", []) if L.get("name") == onnx.load(path).graph.node[node].name]
            if info.get("params") != want or len(rows) != 1 or rows[0]["params"] != want or rows[0]["shape"] != shape:
                fail(f"{os.path.basename(path)}: params {info.get('params')} / layer rows {rows}, "
                     f"want {want} in one row of shape {shape}")
        models = testdata_models() + torchvision_models() + external_models(tmp) + [p for p, *_ in lifted]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for d in pool.map(lambda p: check_info(p, shrink), models):
                for x in d:
                    fail(x)
        print(f"info: {len(models)} models checked against python's params, bytes, ops and layers", flush=True)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "roundtrip":
        run_roundtrip(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "info":
        run_info()
    else:
        print(__doc__)
        return 2
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
