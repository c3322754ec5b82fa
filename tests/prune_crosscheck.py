"""Cross-checks of the pruning passes and the statistics correction against
independent references (PyTorch, numpy).

  prune_crosscheck.py LC_PASS_TOOL

- prune-magnitude masks equal torch.nn.utils.prune's (l1_unstructured per
  layer, global_unstructured) on every zoo model's weights, and kept weights
  are bit-identical;
- nm=N:M keeps exactly the N largest of every M consecutive weights along
  the input axis (numpy reference);
- recalibrate-bn's mean/var equal those PyTorch computes from each BN's
  input activations on the same calibration data, BN by BN in topological
  order (each measured with the upstream BNs already re-estimated), on a
  small conv/BN/residual network exported from torch with wrong statistics;
- correct=bias makes every pruned layer's per-channel output mean (measured
  in torch, with the corrected weights loaded back) equal the float
  model's, including a Conv that had no bias and a MatMul+Add.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

TOOL = sys.argv[1]
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
ZOO = os.path.join(SRC, "benchmarks", "zoo")
TMP = tempfile.mkdtemp(prefix="prune_xc_")
torch.set_num_threads(2)
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run_tool(model, out, pass_name, params, calib=None):
    cmd = [TOOL, model, out, pass_name, params]
    if calib is not None:
        cmd += ["--calib", calib]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("lc_pass_tool failed: %s\n%s" % (" ".join(cmd), r.stderr))


def inits(path):
    m = onnx.load(path)
    vals = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    vals[n.output[0]] = numpy_helper.to_array(a.t)
    return m, vals


def weight_layers(path):
    """[(tensor name, out_axis, in_axis)] like lc_weight_targets' defaults."""
    m, vals = inits(path)
    out, seen = [], set()
    for n in m.graph.node:
        if n.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul") or len(n.input) < 2:
            continue
        w = n.input[1]
        if w not in vals or vals[w].dtype != np.float32 or w in seen:
            continue
        a = vals[w]
        if n.op_type == "Conv":
            axes = (0, 1)
        elif n.op_type == "ConvTranspose":
            axes = (1, 0)
        elif n.op_type == "Gemm":
            tb = any(at.name == "transB" and at.i for at in n.attribute)
            axes = (0, 1) if tb else (1, 0)
        else:
            axes = (a.ndim - 1, a.ndim - 2)
        seen.add(w)
        out.append((w, axes[0], axes[1]))
    return out, vals


class Holder(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(w.copy()))


def zoo_models():
    names = ["lenet300", "lenet5", "resnet8", "dscnn"]
    return [(n, os.path.join(ZOO, n + ".onnx")) for n in names if os.path.exists(os.path.join(ZOO, n + ".onnx"))]


def check_masks():
    for name, path in zoo_models():
        layers, vals = weight_layers(path)
        for scope, amount in (("layer", 0.5), ("layer", 0.9), ("global", 0.7), ("global", 0.95)):
            out = os.path.join(TMP, "%s_%s_%g.onnx" % (name, scope, amount))
            run_tool(path, out, "prune-magnitude", "sparsity=%g,scope=%s,correct=none" % (amount, scope))
            _, got = inits(out)
            mods = [Holder(vals[w]) for w, _, _ in layers]
            if scope == "layer":
                for mod in mods:
                    prune.l1_unstructured(mod, "weight", amount=amount)
            else:
                prune.global_unstructured([(mod, "weight") for mod in mods], pruning_method=prune.L1Unstructured,
                                          amount=amount)
            for (w, _, _), mod in zip(layers, mods):
                ref_mask = mod.weight_mask.numpy() != 0
                mask = got[w] != 0
                # a weight that was exactly 0 is pruned either way; torch may keep it
                diff = (mask != ref_mask) & (vals[w] != 0)
                check(not diff.any(), "%s %s %g: %s mask differs from torch in %d places" %
                      (name, scope, amount, w, int(diff.sum())))
                check(np.array_equal(got[w][mask], vals[w][mask]), "%s %s: %s kept weights changed" % (name, scope, w))
            total = sum(vals[w].size for w, _, _ in layers)
            zeros = sum(int((got[w] == 0).sum()) for w, _, _ in layers)
            print("masks %-9s %-6s %.2f: %d layers, sparsity %.4f (torch masks equal)" %
                  (name, scope, amount, len(layers), zeros / total))


def nm_reference(w, in_axis, n, m):
    """Mask keeping the n largest |w| of every m consecutive along in_axis
    (ties: the later index kept, as lc's sort by (magnitude, index))."""
    x = np.moveaxis(np.abs(w), in_axis, -1)
    keep = np.zeros_like(x, dtype=bool)
    L = x.shape[-1]
    flat = x.reshape(-1, L)
    kf = keep.reshape(-1, L)
    for s in range(0, L, m):
        g = flat[:, s:s + m]
        cnt = g.shape[1]
        idx = np.arange(cnt)
        for r in range(g.shape[0]):
            order = np.lexsort((idx, g[r]))  # ascending magnitude, then index
            kf[r, s + order[max(cnt - n, 0):]] = True
    return np.moveaxis(kf.reshape(x.shape), -1, in_axis)


def check_nm():
    for name, path in zoo_models():
        layers, vals = weight_layers(path)
        for n, m in ((2, 4), (1, 8)):
            out = os.path.join(TMP, "%s_nm.onnx" % name)
            run_tool(path, out, "prune-magnitude", "nm=%d:%d,correct=none" % (n, m))
            _, got = inits(out)
            for w, _, in_axis in layers:
                ref = nm_reference(vals[w], in_axis, n, m)
                mask = got[w] != 0
                diff = (mask != ref) & (vals[w] != 0)
                check(not diff.any(), "%s nm %d:%d: %s differs from numpy in %d places" % (name, n, m, w, int(diff.sum())))
            print("nm      %-9s %d:%d: %d layers equal numpy" % (name, n, m, len(layers)))


# ---- recalibrate-bn ----

class BNNet(nn.Module):
    """conv-BN-relu, a residual block with BNs on both branches (siblings
    of one wave) and a BN after the Add, then a classifier."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.c3, self.b3 = nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8)
        self.b4 = nn.BatchNorm2d(8)
        self.fc, self.b5 = nn.Linear(8, 6), nn.BatchNorm1d(6)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.b4(self.b2(self.c2(x)) + self.b3(self.c3(x))))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.b5(self.fc(x))


def export(model, path, shape, fold=False):
    model.eval()
    torch.onnx.export(model, torch.zeros(shape), path, opset_version=13, input_names=["input"],
                      output_names=["out"], dynamic_axes={"input": {0: "batch"}, "out": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=fold)


def check_recalibrate_bn():
    torch.manual_seed(7)
    net = BNNet()
    g = torch.Generator().manual_seed(3)
    for bn in (net.b1, net.b2, net.b3, net.b4, net.b5):
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=g) * 3)
        bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 5 + 0.1)
        bn.weight.data.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
        bn.bias.data.copy_(torch.randn(bn.num_features, generator=g))
    path = os.path.join(TMP, "bnnet.onnx")
    # folding turns the 3-D Linear's Transpose(W) into a stored MatMul weight
    export(net, path, (1, 1, 12, 12), fold=True)
    x = (np.random.RandomState(5).randn(150, 1, 12, 12) * 2 + 1).astype(np.float32)
    calib = os.path.join(TMP, "bn_calib.npy")
    np.save(calib, x)
    out = os.path.join(TMP, "bnnet_recal.onnx")
    run_tool(path, out, "recalibrate-bn", "", calib)

    # torch reference: BNs in topological order, each measured (float64)
    # with the BNs before it already re-estimated
    order = [("b1",), ("b2", "b3"), ("b4",), ("b5",)]
    ref = {}
    xt = torch.from_numpy(x)
    for wave in order:
        seen = {}
        hooks = [getattr(net, b).register_forward_hook(
            lambda mod, inp, outp, b=b: seen.__setitem__(b, inp[0].detach().double())) for b in wave]
        with torch.no_grad():
            net.eval()
            net(xt)
        for h in hooks:
            h.remove()
        for b in wave:
            a = seen[b]
            dims = [0] + list(range(2, a.dim()))
            mean = a.mean(dim=dims)
            var = ((a - mean.view([1, -1] + [1] * (a.dim() - 2))) ** 2).mean(dim=dims)
            getattr(net, b).running_mean.copy_(mean.float())
            getattr(net, b).running_var.copy_(var.float())
            ref[b] = (mean.numpy(), var.numpy())

    model, got = inits(out)
    bns = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    check(len(bns) == 5, "bnnet: expected 5 BatchNormalization nodes, found %d" % len(bns))
    # map exported BN nodes to modules by their scale tensors' values
    for n in bns:
        scale = got[n.input[1]]
        name = next(b for b in ref if np.array_equal(getattr(net, b).weight.detach().numpy(), scale))
        mean, var = got[n.input[3]], got[n.input[4]]
        rm, rv = ref[name]
        em = np.max(np.abs(mean - rm) / (1e-3 + np.abs(rm)))
        ev = np.max(np.abs(var - rv) / (1e-3 + np.abs(rv)))
        check(em < 1e-4 and ev < 1e-4, "recalibrate-bn %s: mean rel err %.3g, var rel err %.3g" % (name, em, ev))
        print("recalibrate-bn %s: mean rel err %.2g, var rel err %.2g (vs torch, sequential)" % (name, em, ev))


# ---- bias correction ----

class BiasNet(nn.Module):
    """No BatchNorm: Conv without bias, Conv, Linear as MatMul+Add (3-D
    input), Gemm layers."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 3, bias=False)
        self.c2 = nn.Conv2d(6, 8, 3, stride=2)
        self.t = nn.Linear(8 * 4 * 4 // 4, 16)
        self.f1 = nn.Linear(64, 24)
        self.f2 = nn.Linear(24, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        x = torch.flatten(x, 1).reshape(-1, 4, 32)
        x = torch.relu(self.t(x))
        x = torch.relu(self.f1(torch.flatten(x, 1)))
        return self.f2(x)


def layer_means(net, x):
    """Per-output-channel means of each layer's output (float64)."""
    means = {}
    hooks = []
    for name in ("c1", "c2", "t", "f1", "f2"):
        def hook(mod, inp, outp, name=name):
            o = outp.detach().double()
            if o.dim() == 4:
                means[name] = o.mean(dim=(0, 2, 3)).numpy()
            else:
                means[name] = o.reshape(-1, o.shape[-1]).mean(dim=0).numpy()
        hooks.append(getattr(net, name).register_forward_hook(hook))
    with torch.no_grad():
        net(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    return means


def load_back(net, path):
    """Loads weights and biases of the ONNX model at `path` into `net` (same
    architecture), creating biases the pass added."""
    model, vals = inits(path)
    mods = {"c1": net.c1, "c2": net.c2, "t": net.t, "f1": net.f1, "f2": net.f2}
    layer_nodes = [n for n in model.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    check(len(layer_nodes) == 5, "biasnet: 5 layers expected, found %d" % len(layer_nodes))
    added = []
    for n, key in zip(layer_nodes, ("c1", "c2", "t", "f1", "f2")):
        mod = mods[key]
        w = vals[n.input[1]]
        if n.op_type == "MatMul":
            w = w.T
            adds = [a for a in model.graph.node if a.op_type == "Add" and n.output[0] in a.input]
            b = vals[[i for i in adds[0].input if i != n.output[0]][0]]
        elif len(n.input) > 2 and n.input[2]:
            b = vals[n.input[2]]
        else:
            b = None
        mod.weight.data.copy_(torch.from_numpy(w.copy()))
        if b is not None:
            if mod.bias is None:
                mod.bias = nn.Parameter(torch.zeros(w.shape[0]))
                added.append(key)
            mod.bias.data.copy_(torch.from_numpy(b.reshape(-1).copy()))
    return added


def check_bias_correct():
    torch.manual_seed(11)
    net = BiasNet()
    path = os.path.join(TMP, "biasnet.onnx")
    # folding turns the 3-D Linear's Transpose(W) into a stored MatMul weight
    export(net, path, (1, 1, 12, 12), fold=True)
    x = np.random.RandomState(9).rand(200, 1, 12, 12).astype(np.float32)
    calib = os.path.join(TMP, "bias_calib.npy")
    np.save(calib, x)
    ref = layer_means(net, x)

    plain = os.path.join(TMP, "biasnet_p.onnx")
    run_tool(path, plain, "prune-magnitude", "sparsity=0.7,correct=none")
    fixed = os.path.join(TMP, "biasnet_pb.onnx")
    run_tool(path, fixed, "prune-magnitude", "sparsity=0.7,correct=bias", calib)
    onnx.checker.check_model(onnx.load(fixed))

    before = BiasNet()
    load_back(before, plain)
    m0 = layer_means(before, x)
    after = BiasNet()
    added = load_back(after, fixed)
    m1 = layer_means(after, x)
    check(added == ["c1"], "bias-correct: a bias should have been added to c1 only, got %s" % added)
    _, pv = inits(plain)
    _, fv = inits(fixed)
    for k in pv:
        if pv[k].ndim >= 2:
            check(np.array_equal(pv[k], fv[k]), "bias-correct changed weight %s" % k)
    for k in ref:
        scale = 1e-3 + np.abs(ref[k]).max()
        e0 = np.abs(m0[k] - ref[k]).max() / scale
        e1 = np.abs(m1[k] - ref[k]).max() / scale
        check(e1 < 2e-5, "bias-correct %s: per-channel mean error %.3g after correction" % (k, e1))
        check(e0 > 100 * e1, "bias-correct %s: pruning alone should shift the means (%.3g vs %.3g)" % (k, e0, e1))
        print("bias-correct %-3s: relative mean error %.2g pruned, %.2g corrected" % (k, e0, e1))


try:
    check_masks()
    check_nm()
    check_recalibrate_bn()
    check_bias_correct()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all prune cross-checks passed")
