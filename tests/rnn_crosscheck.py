"""Cross-check of the RNN, GRU and LSTM kernels against ONNX Runtime.

Random single-node models cover every direction (forward, reverse,
bidirectional), both layouts, the optional inputs (B, sequence_lens with
ragged lengths, initial_h, initial_c, P peepholes) and outputs (Y omitted
or not, Y_c), clip, non-default activations with activation_alpha/beta,
GRU's linear_before_reset and LSTM's input_forget, at opsets 7 and 14.
Weights are initializers, X and the states graph inputs. ONNX Runtime
computes the expected outputs (it refuses layout 1, so those come from the
same node with layout 0 on the transposed inputs, transposed back); each
case is written in the ONNX backend layout and run by shrink's conformance
runner, which compares within 1e-4 relative + 1e-5 absolute.

Malformed nodes must be refused by `shrink eval` with exit 2 and a
message naming the problem.

    rnn_crosscheck.py CONFORMANCE_BINARY        (SHRINK names the CLI)
"""
import itertools
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_ref  # noqa: E402

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
# Non-default activations per op (ONNX Runtime's set), with alphas/betas
# consumed in order by the ones that take them.
ACTS = {
    "RNN": (["LeakyRelu"], [0.1], []),
    "GRU": (["HardSigmoid", "Softsign"], [0.3], [0.4]),
    "LSTM": (["Sigmoid", "ScaledTanh", "Affine"], [0.9, 0.7], [1.1, 0.2]),
}
ACTS_BIDIR = {
    "RNN": (["Relu", "Elu"], [0.5], []),
    "GRU": (["Sigmoid", "Tanh", "HardSigmoid", "Softplus"], [0.25], [0.45]),
    "LSTM": (["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Softsign", "ThresholdedRelu"], [0.2, 0.1], [0.5]),
}


def make_case(rng, op, direction, layout, variant, opset, extra):
    """Returns (model, feeds, {output name: expected}); `layout` 1 yields
    the expected values through the layout-0 model."""
    seq, batch, inp, hid = 5, 3, 4, 3
    nd = 2 if direction == "bidirectional" else 1
    G = GATES[op]
    inits = {"W": rng.uniform(-0.6, 0.6, (nd, G * hid, inp)), "R": rng.uniform(-0.6, 0.6, (nd, G * hid, hid))}
    feeds = {"X": rng.standard_normal((seq, batch, inp))}
    attrs = dict(hidden_size=hid, direction=direction)
    inputs = ["X", "W", "R"]
    if variant in ("full", "acts"):
        inits["B"] = rng.uniform(-0.5, 0.5, (nd, 2 * G * hid))
        inputs.append("B")
    if variant == "full":
        feeds["sequence_lens"] = np.array([seq, 2, 4][:batch], dtype=np.int32)
        inputs.append("sequence_lens")
    if variant in ("full", "acts"):
        if variant == "acts":
            inputs.append("")
        feeds["initial_h"] = rng.standard_normal((nd, batch, hid))
        inputs.append("initial_h")
        if op == "LSTM":
            feeds["initial_c"] = rng.standard_normal((nd, batch, hid))
            inits["P"] = rng.uniform(-0.5, 0.5, (nd, 3 * hid))
            inputs += ["initial_c", "P"]
    if variant == "acts":
        names, al, be = (ACTS_BIDIR if nd == 2 else ACTS)[op]
        attrs.update(activations=names, clip=1.5)
        if al:
            attrs["activation_alpha"] = al
        if be:
            attrs["activation_beta"] = be
    attrs.update(extra)
    outputs = ["" if variant == "defaults" else "Y", "Y_h"]
    if op == "LSTM" and variant != "defaults":
        outputs.append("Y_c")
    feeds = {k: v.astype(np.int32 if k == "sequence_lens" else np.float32) for k, v in feeds.items()}
    inits = {k: v.astype(np.float32) for k, v in inits.items()}

    def build(lay, fd):
        a = dict(attrs)
        if opset >= 14:
            a["layout"] = lay
        node = helper.make_node(op, inputs, outputs, **a)
        g = helper.make_graph(
            [node], "rnn",
            [helper.make_tensor_value_info(k, TensorProto.INT32 if k == "sequence_lens" else TensorProto.FLOAT,
                                           list(v.shape)) for k, v in fd.items()],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs if o],
            [numpy_helper.from_array(v, k) for k, v in inits.items()])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 7
        return m

    ref_model = build(0, feeds)
    if layout == 0:
        return ref_model, feeds, ref_model
    # layout 1: X [batch, seq, in], states [batch, nd, hid]; Y [batch, seq, nd, hid]
    bf = {k: (v.transpose(1, 0, 2) if v.ndim == 3 else v) for k, v in feeds.items()}
    return build(1, bf), bf, ref_model


def reference_job(ref_model, feeds, layout, path):
    """The ONNX Runtime job for a case: the layout-0 model on layout-0 inputs."""
    onnx.save(ref_model, path)
    return path, {k: (v.transpose(1, 0, 2) if layout and v.ndim == 3 else v) for k, v in feeds.items()}


def to_layout(outs, layout):
    if not layout:
        return outs
    return [o.transpose(2, 0, 1, 3) if o.ndim == 4 else o.transpose(1, 0, 2) for o in outs]


def write_case(d, model, feeds, names, outs):
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for k, inp in enumerate(model.graph.input):
        t = numpy_helper.from_array(feeds[inp.name], inp.name)
        with open(os.path.join(d, "test_data_set_0", "input_%d.pb" % k), "wb") as f:
            f.write(t.SerializeToString())
    for k, name in enumerate(names):
        t = numpy_helper.from_array(np.ascontiguousarray(outs[k]), name)
        with open(os.path.join(d, "test_data_set_0", "output_%d.pb" % k), "wb") as f:
            f.write(t.SerializeToString())


def check_refusals(tmp):
    """Malformed LSTM nodes: exit 2 with the reason, never a crash."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((1, 12, 4)).astype(np.float32)
    R = rng.standard_normal((1, 12, 3)).astype(np.float32)
    lens = lambda v: [numpy_helper.from_array(np.array(v, np.int32), "L")]
    bad = [
        (dict(hidden_size=4), ("X", "W", "R"), [], "input W has shape [1x12x4], expected [1x16x4]"),
        (dict(hidden_size=3, direction="up"), ("X", "W", "R"), [], "direction 'up' is not forward"),
        (dict(hidden_size=3, activations=["Foo", "Tanh", "Tanh"]), ("X", "W", "R"), [], "activation 'Foo'"),
        (dict(hidden_size=3, activations=["Tanh"]), ("X", "W", "R"), [], "activations has 1 names, expected 3"),
        (dict(hidden_size=3, clip=-1.0), ("X", "W", "R"), [], "clip -1 is not positive"),
        (dict(hidden_size=3), ("X", "W", "R", "", "L"), lens([9, 1]), "sequence_lens[0] is 9, outside [0, 5]"),
        (dict(hidden_size=3), ("X", "W", "R", "", "L"), lens([1, 1, 1]), "sequence_lens has shape [3], expected [2]"),
        (dict(hidden_size=3), ("X", "W"), [], "LSTM needs at least 3"),
    ]
    x = os.path.join(tmp, "x.npy")
    np.save(x, rng.standard_normal((5, 2, 4)).astype(np.float32))
    failed = 0
    for attrs, inputs, inits, want in bad:
        node = helper.make_node("LSTM", list(inputs), ["Y", "Y_h"], **attrs)
        g = helper.make_graph([node], "bad", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [5, 2, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R")] + inits)
        path = os.path.join(tmp, "bad.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)
        r = subprocess.run([os.environ["SHRINK"], "eval", path, "--data", x], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        ok = r.returncode == 2 and want in r.stderr and r.stderr.count("\n") == 1
        failed += not ok
        print("%s refusal: %s -> exit %d: %s" % ("ok  " if ok else "FAIL", want, r.returncode, r.stderr.strip()))
    return failed


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not ort_ref.available():
        sys.exit("FAIL: %s/onnxruntime-node is not installed (scripts/setup_ort.sh installs it)" % ort_ref.ORT_MODULES)
    rng = np.random.default_rng(16)
    tmp = tempfile.mkdtemp(prefix="rnn_check_")
    cases, jobs = [], []
    for op, direction, layout, variant in itertools.product(
            GATES, ("forward", "reverse", "bidirectional"), (0, 1), ("defaults", "full", "acts")):
        extras = [{}]
        if op == "GRU":
            extras = [{"linear_before_reset": 0}, {"linear_before_reset": 1}]
        if op == "LSTM" and variant == "full":
            extras = [{}, {"input_forget": 1}]
        for extra in extras:
            for opset in ((14, 7) if layout == 0 and variant == "full" else (14,)):
                name = "%s_%s_l%d_%s_o%d%s" % (op, direction, layout, variant, opset,
                                               "".join("_%s%d" % (k, v) for k, v in extra.items()))
                model, feeds, ref_model = make_case(rng, op, direction, layout, variant, opset, extra)
                cases.append((name, model, feeds, layout))
                jobs.append(reference_job(ref_model, feeds, layout, os.path.join(tmp, name + "_ref.onnx")))
    for (name, model, feeds, layout), res in zip(cases, ort_ref.run_many(jobs)):
        if isinstance(res, str):
            sys.exit("FAIL: ONNX Runtime refused %s: %s" % (name, res))
        write_case(os.path.join(tmp, "cases", name), model, feeds, res[0], to_layout(res[1], layout))
    r = subprocess.run([sys.argv[1], "--require-all", "--verbose", os.path.join(tmp, "cases")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    print(r.stdout)
    print("%d cases against ONNX Runtime" % len(cases))
    failed = check_refusals(tmp)
    sys.exit(1 if r.returncode or failed else 0)


main()
