#!/usr/bin/python3
"""Cross-check of `shrink upgrade` (lc_model_upgrade) against independent
references: ONNX Runtime, the onnx checker, onnx.version_converter and the
ONNX backend test outputs.

    upgrade_crosscheck.py CONFORMANCE_RUNNER

1. Synthetic models at opsets 7..12, one per rewritten signature (Clip, Pad,
   Slice, TopK, Upsample, Resize-10, Split, Squeeze, Unsqueeze, ReduceSum,
   Dropout, BatchNormalization, Softmax/LogSoftmax/Hardmax, Scatter):
   upgraded to 13 and 17, each must pass the onnx checker, and give the
   original's outputs in ONNX Runtime and in shrink's executor; the model
   onnx.version_converter makes must agree with ours in ONNX Runtime.
2. Every ONNX backend node test at opsets 7..12: upgraded to 13, the
   conformance runner (shrink's executor) must pass every case it passed
   before, and ONNX Runtime must reproduce the expected outputs of the
   upgraded model wherever it reproduces them for the original.
3. The zoo's architectures exported by torch.onnx at opsets 9 and 11:
   upgraded, the same outputs in ONNX Runtime and shrink; quantize-int8
   (per channel and per tensor) runs on the old-opset export.
4. Refusals: opset 6, an op the converter does not know, spatial=0.

Environment: SHRINK (the CLI), LC_SOURCE_DIR. ONNX Runtime comes from
benchmarks/.ort/node_modules/onnxruntime-node, run by node.
"""
import glob
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, version_converter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import NP_TYPES, SRC, TMP, check, close, failures, ort_batch, run  # noqa: E402

RUNNER = sys.argv[1]
SHRINK = os.environ["SHRINK"]
BACKEND = "/usr/share/libonnx-testdata/data/node"

def upgrade(src, dst, opset):
    return run([SHRINK, "upgrade", src, "-o", dst, "--opset", str(opset)])


def shrink_eval(model, x):
    """Our executor's first output on float32 input x (shrink eval)."""
    xin, out = os.path.join(TMP, "ev_in.npy"), os.path.join(TMP, "ev_out.npy")
    np.save(xin, x.astype(np.float32))
    r = run([SHRINK, "eval", model, "--data", xin, "--out", out, "--batch", str(x.shape[0])])
    if r.returncode != 0:
        return None, r.stderr.strip()
    return np.load(out), ""


# ------------------------------------------------------------ 1. synthetic

def f32(rng, *shape):
    return rng.normal(0, 1, shape).astype(np.float32)


def synthetic_cases():
    """(name, opset, nodes, inits, input shape, output shape or None)."""
    rng = np.random.default_rng(3)
    T = numpy_helper.from_array
    cases = []

    def case(name, opset, nodes, inits=(), shape=(2, 3, 4, 5), out_dims=None):
        cases.append((name, opset, nodes, list(inits), shape, out_dims))

    mk = helper.make_node
    case("clip_minmax", 9, [mk("Clip", ["x"], ["y"], min=-0.5, max=0.7)])
    case("clip_min_only", 10, [mk("Clip", ["x"], ["y"], min=-0.2)])
    case("clip_inf_max", 10, [mk("Clip", ["x"], ["y"], min=0.0, max=float("inf"))])
    case("pad_constant", 9, [mk("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 1, 0, 1], value=1.5)])
    case("pad_reflect", 10, [mk("Pad", ["x"], ["y"], mode="reflect", pads=[0, 0, 1, 1, 0, 0, 1, 1])])
    case("slice_axes", 9, [mk("Slice", ["x"], ["y"], starts=[1, -4], ends=[3, 100], axes=[2, 3])])
    case("slice_noaxes", 7, [mk("Slice", ["x"], ["y"], starts=[0, 1, 1, 0], ends=[2, 3, 3, 4])])
    case("topk", 9, [mk("TopK", ["x"], ["v", "i"], k=2, axis=3), mk("Cast", ["i"], ["ic"], to=TensorProto.FLOAT),
                     mk("Add", ["v", "ic"], ["y"])])
    case("upsample7_nearest", 7, [mk("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 3.0], mode="nearest")])
    case("upsample7_linear", 8, [mk("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 2.0], mode="linear")])
    case("upsample9", 9, [mk("Upsample", ["x", "s"], ["y"], mode="nearest")],
         [T(np.array([1, 1, 2, 2], np.float32), "s")])
    case("resize10_nearest", 10, [mk("Resize", ["x", "s"], ["y"], mode="nearest")],
         [T(np.array([1, 1, 3, 2], np.float32), "s")])
    case("resize10_linear", 10, [mk("Resize", ["x", "s"], ["y"], mode="linear")],
         [T(np.array([1, 1, 2, 2], np.float32), "s")])
    case("split_sizes", 11, [mk("Split", ["x"], ["a", "b"], axis=3, split=[2, 3]), mk("ReduceSum", ["a"], ["ra"],
                                                                                      axes=[3], keepdims=1),
                             mk("Mul", ["b", "ra"], ["y"])])
    case("split_equal", 9, [mk("Split", ["x"], ["a", "b"], axis=2), mk("Sub", ["a", "b"], ["y"])])
    case("squeeze_unsqueeze", 11, [mk("Unsqueeze", ["x"], ["u"], axes=[0, 5]), mk("ReduceSum", ["u"], ["r"],
                                                                                   axes=[2], keepdims=1),
                                   mk("Squeeze", ["r"], ["y"], axes=[0, 2])])
    case("reducesum_axes", 12, [mk("ReduceSum", ["x"], ["y"], axes=[1, 3], keepdims=0)])
    case("dropout_ratio", 11, [mk("Dropout", ["x"], ["y"], ratio=0.3)])
    c = 3
    bn = [T(rng.uniform(0.5, 1.5, c).astype(np.float32), "g"), T(f32(rng, c), "b"), T(f32(rng, c), "m"),
          T(rng.uniform(0.5, 2, c).astype(np.float32), "v")]
    case("batchnorm_spatial", 7, [mk("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], spatial=1,
                                     epsilon=1e-3)], bn)
    case("softmax_axis1_4d", 11, [mk("Softmax", ["x"], ["y"], axis=1)])
    case("softmax_default_4d", 9, [mk("Softmax", ["x"], ["y"])])
    case("logsoftmax_axis2", 12, [mk("LogSoftmax", ["x"], ["y"], axis=2)])
    case("hardmax_axis1", 11, [mk("Hardmax", ["x"], ["y"], axis=1)])
    case("softmax_2d", 9, [mk("Flatten", ["x"], ["f"]), mk("Softmax", ["f"], ["y"])], out_dims=None)
    idx = np.array([[[[0, 3, 1, 2, 4]] * 4] * 3] * 2, np.int64)[:, :, :, :]
    case("scatter", 9, [mk("Scatter", ["x", "i", "u"], ["y"], axis=3)],
         [T(idx, "i"), T(f32(rng, 2, 3, 4, 5), "u")])
    return cases


def make_model(name, opset, nodes, inits, shape):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, name, [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="upgrade_check")
    m.ir_version = {7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7}[opset]
    if m.ir_version < 4:  # initializers are graph inputs too, as exporters wrote them then
        m.graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits)
    # the checker wants a shape on graph outputs: take the inferred one
    inferred = onnx.shape_inference.infer_shapes(m)
    for v in list(inferred.graph.value_info) + list(inferred.graph.output):
        if v.name == "y" and v.type.tensor_type.HasField("shape"):
            m.graph.output[0].CopyFrom(v)
    if not m.graph.output[0].type.tensor_type.HasField("shape"):
        m.graph.output[0].type.tensor_type.shape.dim.add().dim_param = "d0"
        del m.graph.output[0].type.tensor_type.shape.dim[:]
    onnx.checker.check_model(m, full_check=True)
    path = os.path.join(TMP, "%s_op%d.onnx" % (name, opset))
    onnx.save(m, path)
    return path


def check_synthetic():
    rng = np.random.default_rng(11)
    jobs, meta = [], []
    for name, opset, nodes, inits, shape, _ in synthetic_cases():
        src = make_model(name, opset, nodes, inits, shape)
        x = f32(rng, *shape)
        ref_ours, err = shrink_eval(src, x)
        check(ref_ours is not None, "%s: shrink eval of the opset-%d original: %s" % (name, opset, err))
        jobs.append((src, {"x": x}))
        for target in (13, 17):
            dst = os.path.join(TMP, "%s_to%d.onnx" % (name, target))
            r = upgrade(src, dst, target)
            if not check(r.returncode == 0, "%s: upgrade %d->%d: %s" % (name, opset, target, r.stderr.strip())):
                continue
            m = onnx.load(dst)
            try:
                onnx.checker.check_model(m, full_check=True)
            except Exception as e:  # noqa: BLE001 - any checker complaint is a failure
                check(False, "%s: onnx checker on the opset-%d upgrade: %s" % (name, target, str(e).splitlines()[0]))
            check([o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [target],
                  "%s: upgraded model imports opset %d" % (name, target))
            ours, err = shrink_eval(dst, x)
            if check(ours is not None, "%s: shrink eval at opset %d: %s" % (name, target, err)) and \
                    ref_ours is not None:
                check(close(ours, ref_ours), "%s: shrink executor differs after the upgrade to %d (max %g)" %
                      (name, target, np.max(np.abs(ours - ref_ours))))
            jobs.append((dst, {"x": x}))
            meta.append((name, target, len(jobs) - 1))
        vc = os.path.join(TMP, "%s_vc13.onnx" % name)
        try:
            onnx.save(version_converter.convert_version(onnx.load(src), 13), vc)
            jobs.append((vc, {"x": x}))
            meta.append((name, "vc", len(jobs) - 1))
        except Exception as e:  # noqa: BLE001 - the reference converter may not cover a case
            print("note %s: onnx.version_converter: %s" % (name, str(e).splitlines()[0]))
    res = ort_batch(jobs)
    base = {}
    for i, (model, _) in enumerate(jobs):
        for name, opset, *_ in synthetic_cases():
            if model.endswith("%s_op%d.onnx" % (name, opset)):
                base[name] = res[i]
    n_ok = 0
    for name, target, j in meta:
        ref = base.get(name)
        if not check(isinstance(ref, list), "%s: ONNX Runtime on the original: %s" % (name, ref)):
            continue
        got = res[j]
        if target == "vc":
            if isinstance(got, str):
                print("note %s: ONNX Runtime refuses onnx.version_converter's model: %s" % (name, got[:120]))
            elif not close(got[0], ref[0]):
                print("note %s: onnx.version_converter's model differs from the original in ONNX Runtime" % name)
            continue
        if check(isinstance(got, list), "%s: ONNX Runtime on the opset-%d upgrade: %s" % (name, target, got)):
            n_ok += check(close(got[0], ref[0]), "%s: ONNX Runtime output differs after the upgrade to %d" %
                          (name, target))
    print("synthetic: %d upgrades match ONNX Runtime on the original" % n_ok)


# ------------------------------------------------------------ 2. backend tests

def backend_cases():
    cases = []
    for d in sorted(glob.glob(os.path.join(BACKEND, "*"))):
        try:
            m = onnx.load(os.path.join(d, "model.onnx"))
        except Exception:  # noqa: BLE001 - unreadable cases are the conformance test's business
            continue
        v = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
        if v and 7 <= v[0] < 13:
            cases.append((os.path.basename(d), d, v[0]))
    return cases


def conformance(root):
    r = run([RUNNER, "--verbose", root])
    status = {}
    for line in r.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASS", "FAIL", "UNSUPPORTED"):
            status[os.path.basename(rest.split(":")[0].split(" ")[0].rstrip("/"))] = word
    return status


def pb_arrays(folder, kind):
    out = []
    for p in sorted(glob.glob(os.path.join(folder, kind + "_*.pb")), key=lambda q: int(q.rsplit("_", 1)[1][:-3])):
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        out.append((t.name, numpy_helper.to_array(t)))
    return out


def check_backend():
    orig_root, up_root = os.path.join(TMP, "orig"), os.path.join(TMP, "up")
    os.makedirs(orig_root), os.makedirs(up_root)
    upgraded, refused = [], []
    for name, d, opset in backend_cases():
        os.symlink(d, os.path.join(orig_root, name))
        dst = os.path.join(up_root, name)
        os.makedirs(dst)
        r = upgrade(os.path.join(d, "model.onnx"), os.path.join(dst, "model.onnx"), 13)
        if r.returncode != 0:
            check(r.returncode == 2 and "opset %d to 13" % opset in r.stderr,
                  "%s: a refusal must exit 2 naming both opsets: %s" % (name, r.stderr.strip()))
            refused.append((name, r.stderr.strip()))
            shutil.rmtree(dst)
            continue
        for ds in glob.glob(os.path.join(d, "test_data_set_*")):
            os.symlink(ds, os.path.join(dst, os.path.basename(ds)))
        upgraded.append((name, d, dst))
    before, after = conformance(orig_root), conformance(up_root)
    n_pass = 0
    for name, _, _ in upgraded:
        if before.get(name) == "PASS":
            n_pass += check(after.get(name) == "PASS", "%s: conformance passed at the original opset, %s after "
                            "the upgrade to 13" % (name, after.get(name)))
    # ONNX Runtime: the upgraded model reproduces what it computes on the original
    jobs = []
    for name, d, dst in upgraded:
        ds = os.path.join(d, "test_data_set_0")
        graph_inputs = [i.name for i in onnx.load(os.path.join(d, "model.onnx")).graph.input]
        feeds = {}
        try:
            for k, (tname, a) in enumerate(pb_arrays(ds, "input")):
                feeds[tname or graph_inputs[k]] = a
        except ValueError:  # segmented tensors, which numpy_helper does not read
            continue
        if any(a.dtype not in [np.dtype(t) for t in NP_TYPES.values()] for a in feeds.values()):
            continue
        jobs.append((name, os.path.join(d, "model.onnx"), os.path.join(dst, "model.onnx"), feeds))
    res = ort_batch([(src, f) for _, src, _, f in jobs] + [(dst, f) for _, _, dst, f in jobs])
    n_ort = 0
    for k, (name, _, _, _) in enumerate(jobs):
        a, b = res[k], res[len(jobs) + k]
        if isinstance(a, str):
            continue
        if "random" in name or "bernoulli" in name:
            continue
        if check(isinstance(b, list), "%s: ONNX Runtime runs the original but not the upgrade: %s" % (name, b)):
            n_ort += check(len(a) == len(b) and all(close(x, y) for x, y in zip(a, b)),
                           "%s: ONNX Runtime outputs differ after the upgrade" % name)
    print("backend: %d cases at opsets 7..12, %d upgraded, %d refused; %d pass conformance after the upgrade as "
          "before, %d match in ONNX Runtime" % (len(upgraded) + len(refused), len(upgraded), len(refused), n_pass,
                                                 n_ort))
    for name, why in refused:
        print("  refused %s: %s" % (name, why))


# ------------------------------------------------------------ 3. zoo at old opsets

def torch_models():
    """The zoo's architectures with its trained weights, plus a small net of
    the ops whose export changes at old opsets."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(SRC, "benchmarks", "zoo"))
    import train  # noqa: E402 - the zoo's model definitions
    torch.manual_seed(0)
    out = []
    for name, (ctor, _) in sorted(train.MODELS.items()):
        model = ctor().eval()
        weights = {t.name: numpy_helper.to_array(t)
                   for t in onnx.load(os.path.join(SRC, "benchmarks", "zoo", name + ".onnx")).graph.initializer}
        state = model.state_dict()
        for k in state:
            if k in weights and tuple(weights[k].shape) == tuple(state[k].shape):
                state[k] = torch.from_numpy(weights[k].copy())
        model.load_state_dict(state)
        out.append((name, model))

    class Mixer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4 * 14 * 14, 10)

        def forward(self, x):
            y = F.pad(self.conv(x), (1, 1, 2, 0))[:, :, 1:29, 1:29]
            a, b = torch.chunk(y, 2, dim=1)
            y = torch.cat([a.clamp(-0.5, 0.5), torch.softmax(b, dim=1)], 1)
            y = F.interpolate(F.max_pool2d(y, 4), scale_factor=2, mode="nearest")
            y = y.unsqueeze(1).sum(dim=1)
            return self.fc(y.flatten(1))

    out.append(("mixer", Mixer().eval()))
    return out


def check_zoo():
    import torch
    warnings.filterwarnings("ignore")  # torch's notes on old-opset exports
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (8, 1, 28, 28)).astype(np.float32)
    calib = os.path.join(TMP, "calib.npy")
    np.save(calib, x)
    jobs, rows = [], []
    for name, model in torch_models():
        for opset in (9, 11):
            src = os.path.join(TMP, "zoo_%s_op%d.onnx" % (name, opset))
            torch.onnx.export(model, torch.zeros(1, 1, 28, 28), src, opset_version=opset, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
            dst = src.replace(".onnx", "_to13.onnx")
            r = upgrade(src, dst, 13)
            if not check(r.returncode == 0, "zoo %s opset %d: upgrade: %s" % (name, opset, r.stderr.strip())):
                continue
            with torch.no_grad():
                ref = model(torch.from_numpy(x)).numpy()
            a, err_a = shrink_eval(src, x)
            b, err_b = shrink_eval(dst, x)
            if check(a is not None and b is not None, "zoo %s opset %d: shrink eval: %s%s" % (name, opset, err_a,
                                                                                           err_b)):
                check(close(a, b), "zoo %s opset %d: shrink's outputs differ after the upgrade" % (name, opset))
                check(close(b, ref, 1e-4, 1e-4), "zoo %s opset %d: shrink differs from torch" % (name, opset))
            jobs += [(src, {"input": x}), (dst, {"input": x})]
            rows.append((name, opset, ref))
            # quantize-int8 takes the old-opset export as it is
            for gran in ("channel", "tensor"):
                q = src.replace(".onnx", "_q%s.onnx" % gran)
                r = run([SHRINK, "run", src, "-o", q, "--pass", "quantize-int8:granularity=" + gran, "--calib", calib,
                         "--quiet"])
                if check(r.returncode == 0, "zoo %s opset %d: quantize-int8 granularity=%s: %s" %
                         (name, opset, gran, r.stderr.strip())):
                    v = [o.version for o in onnx.load(q).opset_import if o.domain in ("", "ai.onnx")][0]
                    want = 13 if gran == "channel" else max(opset, 10)
                    check(v == want, "zoo %s opset %d: quantize-int8 %s wrote opset %d, not %d" %
                          (name, opset, gran, v, want))
                    jobs.append((q, {"input": x}))
                    rows.append((name + " int8 " + gran, opset, ref))
    res = ort_batch(jobs)
    k = 0
    n_ok = 0
    for name, opset, ref in rows:
        if " int8 " in name:
            got = res[k]
            k += 1
            check(isinstance(got, list) and got[0].shape == ref.shape,
                  "zoo %s opset %d: ONNX Runtime runs the quantized model: %s" % (name, opset, got))
            continue
        a, b = res[k], res[k + 1]
        k += 2
        if check(isinstance(a, list) and isinstance(b, list), "zoo %s opset %d: ONNX Runtime: %s / %s" %
                 (name, opset, a if isinstance(a, str) else "", b if isinstance(b, str) else "")):
            n_ok += check(close(a[0], b[0]), "zoo %s opset %d: ONNX Runtime outputs differ after the upgrade" %
                          (name, opset))
    print("zoo: %d torch exports at opsets 9 and 11 match after the upgrade in ONNX Runtime and shrink" % n_ok)


# ------------------------------------------------------------ 4. refusals

def check_refusals():
    mk = helper.make_node
    cases = [
        ("opset6", 6, [mk("Relu", ["x"], ["y"])], "opset 6"),
        ("unknown_op", 9, [mk("Relu", ["x"], ["r"]), mk("ImageScaler", ["r"], ["y"], name="scaler", scale=2.0)],
         "'scaler' (ImageScaler)"),
        ("bn_spatial0", 8, [mk("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], name="bn0", spatial=0)],
         "'bn0' (BatchNormalization)"),
    ]
    c = 3
    bn = [numpy_helper.from_array(np.ones(c, np.float32), n) for n in "gbmv"]
    for name, opset, nodes, want in cases:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 2, 2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, 2, 2])
        inits = bn if name.startswith("bn") else []
        g = helper.make_graph(nodes, name, [x] + [helper.make_tensor_value_info(t.name, 1, [c]) for t in inits], [y],
                              initializer=inits)
        src = os.path.join(TMP, "refuse_%s.onnx" % name)
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), src)
        dst = os.path.join(TMP, "refuse_%s_out.onnx" % name)
        r = upgrade(src, dst, 13)
        check(r.returncode == 2 and want in r.stderr and "13" in r.stderr and str(opset) in r.stderr and
              not os.path.exists(dst), "refusal %s: exit 2 naming %s and both opsets, no output (got %d: %s)" %
              (name, want, r.returncode, r.stderr.strip()))


if __name__ == "__main__":
    check_refusals()
    check_synthetic()
    check_backend()
    check_zoo()
    shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("all upgrade checks passed")
