"""Cross-check of prune-structured against independent references.

  structured_crosscheck.py LC_PASS_TOOL

For each model (the zoo's lenet300, lenet5, resnet8, dscnn; torchvision
resnet18 and mobilenet_v2 exported here with random weights and BatchNorm
statistics; two hand-made ONNX models with Concat, a depthwise Conv, per-
channel Add/Mul constants, a residual Add, a flattening Reshape and a
MatMul+Add) the pass runs through lc_pass_tool and this script checks:

- a channel tracer written here (numpy, independent of the C analysis)
  follows every value's channel positions back to the producing layer;
  each producer's kept filters are found by matching the shrunk weight's
  rows against the original's; every initializer of the shrunk model must
  equal the original sliced by those kept sets (weights' input channels
  after Conv/Flatten/Reshape, biases, BN parameters, per-channel constants,
  depthwise groups, Reshape targets); ties are consistent (both sides of an
  Add, depthwise input/output, values read by ops the tracer does not
  follow and graph outputs keep everything);
- the decision: in every tied group (union of producers tied by Add and
  depthwise Convs) exactly floor(ratio * classes) channel classes are
  removed, and none scores higher (criterion summed over the class) than a
  kept one;
- the parameter count equals the one computed here from the original
  weights and the kept sets;
- onnx.checker (full_check, with strict shape inference) accepts the
  shrunk model;
- ONNX Runtime (onnxruntime-node) runs the shrunk model, and its outputs
  equal those of the original model with the removed channels zeroed
  (filter rows, bias, BN gamma/beta and per-channel additive constants on
  their path), run in ONNX Runtime too, within 1e-5 (relative to the output
  scale); shrink's own executor agrees with ONNX Runtime on the shrunk
  model.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

TOOL = sys.argv[1]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
SHRINK = os.environ.get("SHRINK")
ZOO = os.path.join(SRC, "benchmarks", "zoo")
ORT_MODULES = os.environ.get("ORT_NODE_MODULES", os.path.join(SRC, "benchmarks", ".ort", "node_modules"))
TMP = tempfile.mkdtemp(prefix="structured_xc_")
failures = []

UNARY = {"Relu", "LeakyRelu", "Clip", "Dropout", "Identity", "MaxPool", "AveragePool", "GlobalAveragePool",
         "GlobalMaxPool", "Tanh", "Neg", "Abs", "Elu", "Selu"}

ORT_JS = r"""
const fs = require('fs');
const ort = require(require('path').join(process.env.ORT_NODE_MODULES, 'onnxruntime-node'));
(async () => {
  const [model, inFile, dimsText, outPrefix] = process.argv.slice(2);
  const dims = dimsText.split('x').map(Number);
  const buf = fs.readFileSync(inFile);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const feeds = {}; feeds[s.inputNames[0]] = new ort.Tensor('float32', data, dims);
  const r = await s.run(feeds);
  s.outputNames.forEach((n, i) => {
    const t = r[n];
    fs.writeFileSync(outPrefix + i + '.bin', Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    fs.writeFileSync(outPrefix + i + '.json', JSON.stringify(t.dims));
  });
})().catch(e => { console.error(String(e)); process.exit(1); });
"""


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


def stored(model):
    vals = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    vals[n.output[0]] = numpy_helper.to_array(a.t)
    return vals


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def shapes_of(model):
    inf = onnx.shape_inference.infer_shapes(model)
    out = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output):
        out[vi.name] = [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim]
    for name, a in stored(model).items():
        out[name] = list(a.shape)
    return out


def match_rows(orig, shrunk):
    """Kept mask of orig's rows (axis 0) such that orig[kept] == shrunk, by
    greedy in-order matching; None if no such subsequence."""
    keep = np.zeros(orig.shape[0], bool)
    j = 0
    for i in range(orig.shape[0]):
        if j < shrunk.shape[0] and np.array_equal(orig[i], shrunk[j]):
            keep[i] = True
            j += 1
    return keep if j == shrunk.shape[0] else None


class UF:
    def __init__(self):
        self.p = {}

    def find(self, x):
        self.p.setdefault(x, x)
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        self.p[self.find(a)] = self.find(b)


def analyze(orig, shrunk, name):
    """Traces channels, derives kept sets, checks the shrunk tensors and
    builds the zeroed model. Returns (zeroed model, expected params, info)."""
    ow, sw = stored(orig), stored(shrunk)
    shp = shapes_of(orig)
    snodes = {n.output[0]: n for n in shrunk.graph.node}
    pos, kept, expect, zero = {}, {}, {}, {}
    pax = {}         # value -> its channel axis
    prod_w = {}      # producer -> (weight name, out axis)
    ties = UF()
    bn_score = {}

    def mask(v):
        p = pos.get(v)
        return None if p is None else np.array([q is None or kept[q[0]][q[1]] for q in p])

    def setz(tname, arr):
        zero[tname] = arr

    for n in orig.graph.node:
        op = n.op_type
        o = n.output[0]
        pid = n.name or o
        if op == "Conv" and n.input[1] in ow:
            W = ow[n.input[1]]
            g = attr(n, "group", 1)
            m_in = mask(n.input[0])
            if g == 1:
                Wr = W[:, m_in] if m_in is not None else W
            else:
                Wr = W
            k = match_rows(Wr, sw[n.input[1]])
            if not check(k is not None, "%s: %s rows are not a subset of the original's" % (name, n.input[1])):
                return None
            kept[pid] = k
            prod_w[pid] = (n.input[1], 0)
            expect[n.input[1]] = Wr[k]
            Z = ow[n.input[1]].copy()
            Z[~k] = 0
            setz(n.input[1], Z)
            if len(n.input) > 2 and n.input[2]:
                expect[n.input[2]] = ow[n.input[2]][k]
                Zb = ow[n.input[2]].copy()
                Zb[~k] = 0
                setz(n.input[2], Zb)
            pos[o], pax[o] = [(pid, c) for c in range(W.shape[0])], 1
            if g > 1:
                mult = W.shape[0] // g
                ip = pos.get(n.input[0])
                if ip is not None:
                    check(np.array_equal(k, np.repeat(m_in, mult)), "%s: depthwise '%s' kept != its input's" % (name, pid))
                    for c in range(W.shape[0]):
                        if ip[c // mult] is not None:
                            ties.union(ip[c // mult], (pid, c))
                check(attr(snodes[o], "group", 1) == int(m_in.sum()) if ip is not None else True,
                      "%s: depthwise '%s' group attribute" % (name, pid))
        elif op == "Gemm" and n.input[1] in ow:
            B = ow[n.input[1]]
            tb = attr(n, "transB", 0)
            Bt = B if tb else B.T          # [N, K]
            m_in = mask(n.input[0])
            Br = Bt[:, m_in] if m_in is not None else Bt
            sB = sw[n.input[1]]
            k = match_rows(Br, sB if tb else sB.T)
            if not check(k is not None, "%s: %s rows are not a subset" % (name, n.input[1])):
                return None
            kept[pid] = k
            prod_w[pid] = (n.input[1], 0 if tb else 1)
            expect[n.input[1]] = Br[k] if tb else Br[k].T
            Z = Bt.copy()
            Z[~k] = 0
            setz(n.input[1], Z if tb else Z.T)
            if len(n.input) > 2 and n.input[2]:
                C = ow[n.input[2]]
                expect[n.input[2]] = C[..., k] if C.shape[-1] == len(k) else C
                if C.shape[-1] == len(k):
                    Zc = C.copy()
                    Zc[..., ~k] = 0
                    setz(n.input[2], Zc)
            pos[o], pax[o] = [(pid, c) for c in range(Bt.shape[0])], 1
        elif op == "MatMul" and n.input[1] in ow and ow[n.input[1]].ndim == 2:
            B = ow[n.input[1]]
            m_in = mask(n.input[0])
            Br = (B[m_in] if m_in is not None else B).T
            k = match_rows(Br, sw[n.input[1]].T)
            if not check(k is not None, "%s: %s columns are not a subset" % (name, n.input[1])):
                return None
            kept[pid] = k
            prod_w[pid] = (n.input[1], 1)
            expect[n.input[1]] = Br[k].T
            Z = B.copy()
            Z[:, ~k] = 0
            setz(n.input[1], Z)
            pos[o], pax[o] = [(pid, c) for c in range(B.shape[1])], len(shp[o]) - 1
        elif op == "BatchNormalization" and n.input[0] in pos:
            m = mask(n.input[0])
            for t in n.input[1:5]:
                expect[t] = ow[t][m]
            for t in n.input[1:3]:
                Z = ow[t].copy()
                Z[~m] = 0
                setz(t, Z)
            for i, q in enumerate(pos[n.input[0]]):
                if q is not None:
                    bn_score[q] = bn_score.get(q, 0.0) + abs(float(ow[n.input[1]][i]))
            pos[o], pax[o] = pos[n.input[0]], 1
        elif op in UNARY and n.input[0] in pos:
            pos[o], pax[o] = pos[n.input[0]], pax[n.input[0]]
        elif op in ("Add", "Sub", "Mul", "Div") and any(i in pos for i in n.input):
            carriers = [i for i in n.input if i in pos]
            ref = carriers[0]
            rank = len(shp[o])
            ax = rank - len(shp[ref]) + pax[ref]
            for c in carriers[1:]:
                check(np.array_equal(mask(c), mask(ref)), "%s: Add '%s' sides pruned differently" % (name, pid))
                for a, b in zip(pos[ref], pos[c]):
                    if a is not None and b is not None:
                        ties.union(a, b)
            for i in n.input:
                if i in pos or i not in ow:
                    continue
                t = ow[i]
                al = ax - (rank - t.ndim)
                if al >= 0 and t.shape[al] == len(pos[ref]) and len(pos[ref]) > 1:
                    m = mask(ref)
                    expect[i] = np.compress(m, t, axis=al)
                    if op in ("Add", "Sub"):
                        Z = t.copy()
                        idx = [slice(None)] * t.ndim
                        idx[al] = ~m
                        Z[tuple(idx)] = 0
                        setz(i, Z)
            pos[o], pax[o] = pos[ref], ax
        elif op == "Concat" and any(i in pos for i in n.input):
            ax = attr(n, "axis", 0) % len(shp[o])
            out = []
            for i in n.input:
                out += pos[i] if i in pos else [None] * shp[i][ax]
            pos[o], pax[o] = out, ax
        elif op in ("Flatten", "Reshape") and n.input[0] in pos:
            p = pos[n.input[0]]
            r = shp[o][1] // len(p)
            pos[o], pax[o] = [q for q in p for _ in range(r)], 1
            if op == "Reshape" and n.input[1] in ow and ow[n.input[1]][1] > 0:
                e = ow[n.input[1]].copy()
                e[1] = int(mask(o).sum())
                expect[n.input[1]] = e
        else:
            for i in n.input:
                if i in pos:
                    check(mask(i).all(), "%s: channels reaching '%s' (%s) were removed" % (name, pid, op))
    for out in orig.graph.output:
        if out.name in pos:
            check(mask(out.name).all(), "%s: graph output '%s' lost channels" % (name, out.name))

    # every stored tensor equals the original sliced by the kept sets
    n_exp = 0
    for t, a in ow.items():
        want = expect.get(t, a)
        n_exp += want.size
        got = sw.get(t)
        check(got is not None and got.shape == want.shape and np.array_equal(got, want),
              "%s: tensor '%s' is %s, expected %s sliced from %s" % (name, t, None if got is None else got.shape,
                                                                       want.shape, a.shape))
    n_got = sum(a.size for a in sw.values())
    check(n_got == n_exp, "%s: %d parameters, expected %d" % (name, n_got, n_exp))

    zeroed = onnx.ModelProto()
    zeroed.CopyFrom(orig)
    for t in zeroed.graph.initializer:
        if t.name in zero:
            t.CopyFrom(numpy_helper.from_array(zero[t.name].astype(ow[t.name].dtype), t.name))
    for n in zeroed.graph.node:
        if n.op_type == "Constant" and n.output[0] in zero:
            for a in n.attribute:
                if a.name == "value":
                    a.t.CopyFrom(numpy_helper.from_array(zero[n.output[0]], n.output[0]))
    info = {"kept": kept, "prod_w": prod_w, "ties": ties, "bn": bn_score, "ow": ow}
    return zeroed, n_exp, info


def check_decision(name, info, ratio, criterion):
    """Per tied group: floor(ratio*K) classes removed, none scoring above a
    kept class (except a producer's last channel, always kept)."""
    kept, prod_w, ties, ow = info["kept"], info["prod_w"], info["ties"], info["ow"]
    classes = {}
    for pid, k in kept.items():
        for c in range(len(k)):
            classes.setdefault(ties.find((pid, c)), []).append((pid, c))
    group_uf = UF()
    for members in classes.values():
        for pid, _ in members:
            group_uf.union(members[0][0], pid)
    groups = {}
    for root, members in classes.items():
        groups.setdefault(group_uf.find(members[0][0]), []).append(members)

    def score(pid, c, criterion):
        if criterion == "bn-gamma":
            return info["bn"].get((pid, c), 0.0)
        w, ax = prod_w[pid]
        row = np.take(ow[w], c, axis=ax).astype(np.float64)
        return np.abs(row).sum() if criterion == "l1" else np.sqrt((row ** 2).sum())

    n_pruned_groups = 0
    for g, cls in groups.items():
        states = []
        for members in cls:
            ks = {bool(kept[p][c]) for p, c in members}
            check(len(ks) == 1, "%s: tied channels %s pruned inconsistently" % (name, members[:4]))
            states.append(ks.pop())
        removed = [m for m, st in zip(cls, states) if not st]
        if not removed:
            continue
        n_pruned_groups += 1
        if criterion == "bn-gamma" and not all(any((p, c) in info["bn"] for p, c in m) for m in cls):
            criterion_g = "l1"     # a class without BatchNorm: the pass ranks this group by l1
        else:
            criterion_g = criterion
        check(len(removed) == int(np.floor(ratio * len(cls) + 1e-9)),
              "%s: group of %s removed %d of %d classes" % (name, g, len(removed), len(cls)))
        sc = [sum(score(p, c, criterion_g) for p, c in m) for m in cls]
        worst_removed = max(s for s, st in zip(sc, states) if not st)
        # a producer's last channel is kept whatever its score (channel count >= 1)
        last = [any(kept[p].sum() == 1 for p, _ in m) for m in cls]
        best_kept = min((s for s, st, ls in zip(sc, states, last) if st and not ls), default=np.inf)
        check(worst_removed <= best_kept * (1 + 1e-6) + 1e-12,
              "%s: group of %s removed a class scoring %g above a kept one (%g)" % (name, g, worst_removed, best_kept))
    return n_pruned_groups


def ort_run(model_path, x):
    js = os.path.join(TMP, "run.js")
    if not os.path.exists(js):
        with open(js, "w") as f:
            f.write(ORT_JS)
    inp = os.path.join(TMP, "in.bin")
    x.astype(np.float32).tofile(inp)
    prefix = os.path.join(TMP, "out_")
    env = dict(os.environ, ORT_NODE_MODULES=ORT_MODULES)
    r = subprocess.run(["node", js, model_path, inp, "x".join(map(str, x.shape)), prefix], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        return None, r.stderr
    outs = []
    i = 0
    while os.path.exists(prefix + "%d.bin" % i):
        dims = json.load(open(prefix + "%d.json" % i))
        outs.append(np.fromfile(prefix + "%d.bin" % i, dtype=np.float32).reshape(dims))
        os.remove(prefix + "%d.bin" % i)
        i += 1
    return outs, ""


def run_case(name, path, x, ratio=0.5, criterion="l1", extra=""):
    out = os.path.join(TMP, "%s_%s_%s.onnx" % (name, criterion, ratio))
    params = "ratio=%g,criterion=%s,correct=none%s" % (ratio, criterion, extra)
    r = subprocess.run([TOOL, path, out, "prune-structured", params], capture_output=True, text=True)
    if not check(r.returncode == 0, "%s: lc_pass_tool failed: %s" % (name, r.stderr.strip())):
        return None
    orig, shrunk = onnx.load(path), onnx.load(out)
    try:
        onnx.checker.check_model(shrunk, full_check=True)
    except Exception as e:  # noqa: BLE001 - any checker complaint is a failure
        check(False, "%s: onnx checker: %s" % (name, str(e).splitlines()[0]))
    res = analyze(orig, shrunk, name)
    if res is None:
        return None
    zeroed, n_exp, info = res
    n_groups = check_decision(name, info, ratio, criterion)
    zpath = out.replace(".onnx", "_zeroed.onnx")
    onnx.save(zeroed, zpath)
    got, err = ort_run(out, x)
    if not check(got is not None, "%s: ONNX Runtime failed on the shrunk model: %s" % (name, err.strip())):
        return None
    want, err = ort_run(zpath, x)
    if not check(want is not None, "%s: ONNX Runtime failed on the zeroed model: %s" % (name, err.strip())):
        return None
    worst = 0.0
    for a, b in zip(got, want):
        scale = max(1.0, float(np.abs(b).max()))
        worst = max(worst, float(np.abs(a - b).max()) / scale)
    check(worst <= 1e-5, "%s: shrunk vs zeroed outputs differ by %g (relative)" % (name, worst))
    n_orig = sum(a.size for a in stored(orig).values())
    # shrink's executor on the shrunk model agrees with ONNX Runtime
    if SHRINK:
        xnpy = os.path.join(TMP, "x.npy")
        np.save(xnpy, x.astype(np.float32))
        onpy = os.path.join(TMP, "shrink_out.npy")
        r = subprocess.run([SHRINK, "eval", out, "--data", xnpy, "--out", onpy, "--threads", "1"], capture_output=True,
                           text=True)
        if check(r.returncode == 0, "%s: shrink eval failed: %s" % (name, r.stderr.strip())):
            mine = np.load(onpy)
            d = float(np.abs(mine.reshape(got[0].shape) - got[0]).max()) / max(1.0, float(np.abs(got[0]).max()))
            check(d <= 1e-5, "%s: shrink executor vs ONNX Runtime differ by %g" % (name, d))
    print("%-22s %-8s ratio %.2f: params %8d -> %8d (expected %8d), %d group(s) pruned, max rel diff %.2e" %
          (name, criterion, ratio, n_orig, sum(a.size for a in stored(shrunk).values()), n_exp, n_groups, worst))
    return info


def concat_model(path, leak):
    """Two convs concatenated (8 + 6 channels, one through BN+Relu, one
    through Clip), a per-channel Add and Mul, a depthwise Conv, a residual
    Add with a third conv, MaxPool, a Reshape to [-1, 160], MatMul + bias
    Add, Gemm. leak: also output the second conv's pooled channels."""
    rng = np.random.default_rng(7)

    def t(name, *shape, scale=0.5):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [t("w1", 8, 3, 3, 3), t("b1", 8), t("g1", 8), t("be1", 8), t("mu1", 8),
             numpy_helper.from_array((rng.random(8) + 0.5).astype(np.float32), "var1"),
             t("w2", 6, 3, 1, 1), t("b2", 6),
             numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
             numpy_helper.from_array(np.array(6.0, np.float32), "hi"),
             t("k", 1, 14, 1, 1), t("s", 14, 1, 1), t("wd", 14, 1, 3, 3), t("bd", 14),
             t("w3", 10, 14, 1, 1), t("b3", 10), t("w4", 10, 3, 1, 1),
             numpy_helper.from_array(np.array([-1, 160], np.int64), "shape"),
             t("bm", 160, 12, scale=0.2), t("bb", 12), t("wg", 5, 12), t("bg", 5)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="c1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g1", "be1", "mu1", "var1"], ["n1"], name="bn1"),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["x", "w2", "b2"], ["c2"], name="c2"),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("Concat", ["r1", "r2"], ["cat"], axis=1),
        helper.make_node("Add", ["cat", "k"], ["a"]),
        helper.make_node("Mul", ["a", "s"], ["m"]),
        helper.make_node("Conv", ["m", "wd", "bd"], ["dw"], name="dw", group=14, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["dw"], ["r3"]),
        helper.make_node("Conv", ["r3", "w3", "b3"], ["c3"], name="c3"),
        helper.make_node("Conv", ["x", "w4"], ["c4"], name="c4"),
        helper.make_node("Add", ["c3", "c4"], ["res"]),
        helper.make_node("Relu", ["res"], ["r4"]),
        helper.make_node("MaxPool", ["r4"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "bm"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "bb"], ["ab"]),
        helper.make_node("Relu", ["ab"], ["r5"]),
        helper.make_node("Gemm", ["r5", "wg", "bg"], ["y"], name="fc", transB=1),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])]
    if leak:
        nodes.append(helper.make_node("GlobalAveragePool", ["r2"], ["z"]))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 6, 1, 1]))
    g = helper.make_graph(nodes, "concat_test", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m = onnx.shape_inference.infer_shapes(m)   # value_info entries the pass must keep valid
    onnx.checker.check_model(m)
    onnx.save(m, path)


def torchvision_model(arch, path):
    import torch
    import torchvision
    torch.manual_seed(0)
    net = getattr(torchvision.models, arch)(num_classes=10)
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.2, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, 64, 64), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def main():
    rng = np.random.default_rng(1)
    x28 = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    for name in ("lenet300", "lenet5", "resnet8", "dscnn"):
        run_case(name, os.path.join(ZOO, name + ".onnx"), x28, 0.5, "l1")
    run_case("lenet5", os.path.join(ZOO, "lenet5.onnx"), x28, 0.25, "l2")
    for name in ("resnet8", "dscnn"):
        run_case(name, os.path.join(ZOO, name + ".onnx"), x28, 0.3, "bn-gamma")
    # include/exclude: an excluded layer tied by a residual Add keeps its whole group
    info = run_case("resnet8-exclude", os.path.join(ZOO, "resnet8.onnx"), x28, 0.5, "l1",
                    ",exclude=/stage2/shortcut/Conv")
    if info:
        check(info["kept"]["/stage2/shortcut/Conv"].all() and info["kept"]["/stage2/conv2/Conv"].all(),
              "resnet8-exclude: the excluded shortcut's group was pruned")
        check(not info["kept"]["/stage2/conv1/Conv"].all(), "resnet8-exclude: an untied layer was not pruned")

    x8 = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    for leak in (False, True):
        name = "concat-leak" if leak else "concat"
        p = os.path.join(TMP, name + ".onnx")
        concat_model(p, leak)
        info = run_case(name, p, x8, 0.5, "l1")
        if not info:
            continue
        k = info["kept"]
        if leak:
            check(k["c1"].all() and k["c2"].all() and k["dw"].all(),
                  "concat-leak: a group reaching a graph output was pruned")
        else:
            check(not k["c1"].all() and not k["c2"].all(), "concat: both concatenated producers should lose channels")
        check(k["c3"].sum() == 5 and k["c4"].sum() == 5 and k["mm"].sum() == 6 and k["fc"].all(),
              "%s: residual/MatMul/Gemm kept counts" % name)

    x64 = rng.standard_normal((2, 3, 64, 64)).astype(np.float32)
    for arch in ("resnet18", "mobilenet_v2"):
        p = os.path.join(TMP, arch + ".onnx")
        try:
            torchvision_model(arch, p)
        except Exception as e:  # noqa: BLE001
            check(False, "%s: export failed: %s" % (arch, e))
            continue
        run_case(arch, p, x64, 0.5, "l1")

    shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all structured cross-checks passed")


if __name__ == "__main__":
    main()
