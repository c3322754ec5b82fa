#!/usr/bin/python3
"""Weights of recurrent nodes and of subgraphs are compressed (issue 16
item 4), checked against independent references.

Recurrent: PyTorch LSTM (bidirectional) and GRU models exported to ONNX by
torch 1.13, and an LSTM built the way PyTorch 2.x exports an LSTMCell (W
and R as Unsqueeze(Concat(Slice(2-D weight))) reordering the gate blocks).
- quantize-kmeans (bits=4, per channel, optimal) + huffman to .lcm, then
  `shrink decode`: in the decoded ONNX every W and R has at most 16
  distinct values per gate row (the channel axis: rows of [D, G*H, I],
  across directions), each row's squared error is at most that of the
  uniform 16-level grid over the row's [min, max] (numpy; the optimal 1-D
  k-means can do no worse), the bias B is unchanged, ONNX Runtime on the
  decoded model stays within SNR_KMEANS dB of torch's float output, and
  shrink's executor (`shrink eval --out`) matches ONNX Runtime on it. The
  same with calibration data (LSTM), where compensate=gptq (the default)
  takes the main-graph layers and W/R must still get their codebooks.
- quantize-int8: W and R come from DequantizeLinear with the gate-row axis;
  the int8 values and scales equal numpy's symmetric per-row quantization
  (scale max|row|/127, round half to even), and ONNX Runtime runs it within
  SNR_INT8 dB of torch.

Subgraphs: an If whose branches hold a Conv with a branch initializer, a
MatMul with a Constant-node weight, and a Conv reading a main-graph
initializer (outer scope), plus a Scan whose body multiplies by a body
initializer. quantize-kmeans (bits=3, per layer) to .lcm and decode, with
and without calibration data (with it, compensate=gptq hands only
main-graph layers to GPTQ; the subgraph weights must still be clustered):
each of those weights has at most 8 distinct values and differs from the
original; ONNX Runtime and shrink's executor agree on the decoded model for
inputs taking either branch; quantize-int8 weights_only=true puts the
DequantizeLinear nodes beside the weights (in the branch or the main graph)
and ONNX Runtime runs the result within SNR_INT8 dB of the float model.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wild_util import check, close, failures, ort_batch, run, snr_db, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]
T = numpy_helper.from_array
SNR_KMEANS = 20.0  # 4-bit per-row codebooks (measured 24-30 dB)
SNR_INT8 = 30.0    # int8 weights (measured 40-50 dB)




class Rec(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        rnn = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = rnn(40, 24, bidirectional=kind == "lstm")
        self.head = torch.nn.Linear(48 if kind == "lstm" else 24, 5)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def torch_model(kind, rng):
    torch.manual_seed(int(rng.integers(1 << 30)))
    m = Rec(kind).eval()
    x = torch.from_numpy(rng.normal(0, 1, (7, 2, 40)).astype(np.float32))
    p = tmp_path(kind + ".onnx")
    torch.onnx.export(m, x, p, opset_version=14, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {1: "batch"}, "y": {1: "batch"}})
    return p, x.numpy(), m(x).detach().numpy()


def cell_model(rng):
    """LSTM with W/R as PyTorch 2.x writes an LSTMCell: the 2-D weights in
    PyTorch's gate order (i, f, g, o), sliced and concatenated into ONNX's
    (i, o, f, c), unsqueezed to [1, 4H, I]. Returns (path, x, the float
    output of ONNX Runtime)."""
    hid, inp = 24, 40
    w_ih = rng.normal(0, 0.3, (4 * hid, inp)).astype(np.float32)
    w_hh = rng.normal(0, 0.3, (4 * hid, hid)).astype(np.float32)
    b = rng.normal(0, 0.1, (1, 8 * hid)).astype(np.float32)
    inits = [T(w_ih, "w_ih"), T(w_hh, "w_hh"), T(b, "b"), T(np.array([0], np.int64), "ax0")]
    nodes = []
    for w in ("w_ih", "w_hh"):
        parts = []
        for k, (a, z) in enumerate([(0, 1), (3, 4), (1, 2), (2, 3)]):
            s, e = "%s_s%d" % (w, k), "%s_e%d" % (w, k)
            inits += [T(np.array([a * hid], np.int64), s), T(np.array([z * hid], np.int64), e)]
            nodes.append(helper.make_node("Slice", [w, s, e, "ax0"], ["%s_p%d" % (w, k)]))
            parts.append("%s_p%d" % (w, k))
        nodes.append(helper.make_node("Concat", parts, [w + "_cat"], axis=0))
        nodes.append(helper.make_node("Unsqueeze", [w + "_cat", "ax0"], [w + "_3d"]))
    nodes.append(helper.make_node("LSTM", ["x", "w_ih_3d", "w_hh_3d", "b"], ["y"], hidden_size=hid, name="cell"))
    g = helper.make_graph(nodes, "cell", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [7, "batch", inp])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    p = tmp_path("cell.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), p)
    x = rng.normal(0, 1, (7, 2, inp)).astype(np.float32)
    return p, x, ort_batch([(p, {"x": x})])[0][0]


def stored(g, outer=None):
    """{value name: ndarray} of a graph's initializers and Constant nodes,
    with those of the enclosing graphs."""
    d = dict(outer or {})
    d.update({i.name: numpy_helper.to_array(i) for i in g.initializer})
    for n in g.node:
        if n.op_type == "Constant":
            d[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return d


def recurrent_weights(model):
    """[(node, input index, stored name)] of W and R, following Unsqueeze,
    Concat and Slice back to the stored tensor."""
    g = model.graph
    prod = {o: n for n in g.node for o in n.output}
    st = stored(g)
    out = []
    for n in g.node:
        if n.op_type not in ("LSTM", "GRU"):
            continue
        for k in (1, 2):
            v = n.input[k]
            while v not in st:
                p = prod[v]
                v = p.input[0] if p.op_type != "Concat" else prod[p.input[0]].input[0]
            out.append((n, k, v))
    return out


def uniform_err(row, levels):
    lo, hi = row.min(), row.max()
    if hi == lo:
        return 0.0
    grid = lo + (hi - lo) * np.arange(levels) / (levels - 1)
    q = grid[np.abs(row[:, None] - grid[None, :]).argmin(1)]
    return float(np.sum((row.astype(np.float64) - q) ** 2))


def shrink_eval(model, x, name):
    xf, out = tmp_path(name + "_x.npy"), tmp_path(name + "_eval.npy")
    np.save(xf, x)
    r = run([SHRINK, "eval", model, "--data", xf, "--batch", str(x.shape[0]), "--out", out])
    if not check(r.returncode == 0, "%s: shrink eval: %s" % (name, r.stderr.strip())):
        return None
    return np.load(out)


def calib_args(name, x, batch=True):
    """--calib with the samples of x (one per row of dim 0)."""
    xf = tmp_path(name + "_kcalib.npy")
    np.save(xf, x)
    return ["--calib", xf] + (["--batch", "1"] if batch else [])


def check_recurrent_kmeans(name, p, x, want, calib=False):
    name += " (calib)" if calib else ""
    tag = name.replace(" ", "_").replace("(", "").replace(")", "")
    lcm, dec = tmp_path(tag + ".lcm"), tmp_path(tag + "_dec.onnx")
    r = run([SHRINK, "run", p, "-o", lcm, "--quiet", "--pass", "quantize-kmeans:bits=4,granularity=channel",
             "--pass", "huffman"] + (calib_args(tag, x, False) if calib else []))
    if not check(r.returncode == 0, "%s: kmeans run: %s" % (name, r.stderr.strip())):
        return
    r = run([SHRINK, "decode", lcm, "-o", dec])
    if not check(r.returncode == 0, "%s: decode: %s" % (name, r.stderr.strip())):
        return
    orig, got = stored(onnx.load(p).graph), stored(onnx.load(dec).graph)
    ws = recurrent_weights(onnx.load(p))
    check(len(ws) >= 2, "%s: found %d recurrent weights" % (name, len(ws)))
    for node, k, v in ws:
        a, b = orig[v], got.get(v)
        if not check(b is not None and b.shape == a.shape, "%s: %s missing or reshaped in the decoded model" % (name, v)):
            continue
        check(not np.array_equal(a, b), "%s: %s (input %d of %s) was not compressed" % (name, v, k, node.op_type))
        rows_a = np.moveaxis(a, -2, 0).reshape(a.shape[-2], -1)  # gate rows, across directions
        rows_b = np.moveaxis(b, -2, 0).reshape(b.shape[-2], -1)
        most = max(len(np.unique(r)) for r in rows_b)
        check(most <= 16, "%s: %s has a gate row with %d distinct values (4 bits: at most 16)" % (name, v, most))
        worse = [i for i in range(len(rows_a)) if np.sum((rows_a[i].astype(np.float64) - rows_b[i]) ** 2)
                 > uniform_err(rows_a[i], 16) * (1 + 1e-6) + 1e-12]
        check(not worse, "%s: %s rows %s have more error than a uniform 16-level grid" % (name, v, worse[:5]))
        if len(node.input) > 3 and node.input[3] in orig:
            check(np.array_equal(orig[node.input[3]], got[node.input[3]]), "%s: bias %s changed" % (name, v))
    res = ort_batch([(dec, {"x": x})])[0]
    if not check(not isinstance(res, str), "%s: ONNX Runtime refused the decoded model: %s" % (name, res)):
        return
    s = snr_db(want, res[0])
    print("%s: k-means 4 bits per gate row: SNR %.1f dB against float" % (name, s))
    check(s >= SNR_KMEANS, "%s: decoded model SNR %.1f dB < %.0f" % (name, s, SNR_KMEANS))
    ours = shrink_eval(dec, x, tag)
    if ours is not None:
        check(close(ours.reshape(res[0].shape), res[0], 1e-4, 1e-5),
              "%s: shrink's executor differs from ONNX Runtime on the decoded model" % name)


def check_recurrent_int8(name, p, x, want):
    q = tmp_path(name + "_int8.onnx")
    xf = tmp_path(name + "_calib.npy")
    np.save(xf, x)
    r = run([SHRINK, "run", p, "-o", q, "--quiet", "--pass", "quantize-int8", "--calib", xf, "--batch",
             str(x.shape[0])])
    if not check(r.returncode == 0, "%s: quantize-int8: %s" % (name, r.stderr.strip())):
        return
    mq = onnx.load(q)
    prod = {o: n for n in mq.graph.node for o in n.output}
    st = stored(mq.graph)
    orig = stored(onnx.load(p).graph)
    for node, k, v in recurrent_weights(onnx.load(p)):
        w = orig[v]
        # follow the LSTM input back to a DequantizeLinear
        n = [x_ for x_ in mq.graph.node if x_.op_type == node.op_type][0]
        val = n.input[k]
        while val in prod and prod[val].op_type != "DequantizeLinear":
            pr = prod[val]
            val = pr.input[0] if pr.op_type != "Concat" else prod[pr.input[0]].input[0]
        dq = prod.get(val)
        if not check(dq is not None and dq.op_type == "DequantizeLinear", "%s: %s is not dequantized" % (name, v)):
            continue
        axis = [a.i for a in dq.attribute if a.name == "axis"]
        check(axis == [w.ndim - 2], "%s: %s DequantizeLinear axis %s, want the gate-row axis %d" % (name, v, axis,
                                                                                                  w.ndim - 2))
        qv, sc = st[dq.input[0]], st[dq.input[1]]
        amax = np.abs(np.moveaxis(w, -2, 0).reshape(w.shape[-2], -1)).max(1)
        want_sc = np.where(amax > 0, (amax.astype(np.float64) / 127).astype(np.float32), np.float32(1))
        check(np.array_equal(sc, want_sc), "%s: %s scales differ from max|row|/127" % (name, v))
        shape = [1] * w.ndim
        shape[-2] = -1
        want_q = np.clip(np.rint(w.astype(np.float64) / want_sc.reshape(shape)), -127, 127).astype(np.int8)
        check(qv.dtype == np.int8 and np.array_equal(qv, want_q), "%s: %s int8 values differ from numpy" % (name, v))
    res = ort_batch([(q, {"x": x})])[0]
    if check(not isinstance(res, str), "%s: ONNX Runtime refused the int8 model: %s" % (name, res)):
        s = snr_db(want, res[0])
        print("%s: int8: SNR %.1f dB against float" % (name, s))
        check(s >= SNR_INT8, "%s: int8 model SNR %.1f dB < %.0f" % (name, s, SNR_INT8))


def control_flow_model(rng):
    """If(sum(x) > 0) with weights in the branches (a branch initializer, a
    Constant node, an outer-scope initializer), then a Scan over the rows
    of the result with a body initializer."""
    w_out = rng.normal(0, 0.3, (4, 4, 3, 3)).astype(np.float32)
    then_g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w_then"], ["t"], pads=[1, 1, 1, 1], name="conv_then"),
         helper.make_node("Constant", [], ["m_then"], value=T(rng.normal(0, 0.3, (8, 8)).astype(np.float32))),
         helper.make_node("MatMul", ["t", "m_then"], ["t_out"], name="mm_then")],
        "then", [], [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, None)],
        [T(rng.normal(0, 0.3, (4, 4, 3, 3)).astype(np.float32), "w_then")])
    else_g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w_outer"], ["e_out"], pads=[1, 1, 1, 1], name="conv_else")],
        "else", [], [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, None)])
    body = helper.make_graph(
        [helper.make_node("MatMul", ["row", "w_body"], ["prod"], name="mm_body"),
         helper.make_node("Add", ["acc_in", "prod"], ["acc_out"]),
         helper.make_node("Identity", ["prod"], ["scan_out"])],
        "body", [helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [8]),
                 helper.make_tensor_value_info("row", TensorProto.FLOAT, [8])],
        [helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [8]),
         helper.make_tensor_value_info("scan_out", TensorProto.FLOAT, [8])],
        [T(rng.normal(0, 0.3, (8, 8)).astype(np.float32), "w_body")])
    nodes = [helper.make_node("ReduceSum", ["x"], ["sum"], keepdims=0),
             helper.make_node("Greater", ["sum", "zero"], ["cond"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g, name="branch"),
             helper.make_node("Reshape", ["y", "rows_shape"], ["rows"]),
             helper.make_node("Scan", ["acc0", "rows"], ["acc", "scanned"], body=body, num_scan_inputs=1,
                              name="scan"),
             helper.make_node("Reshape", ["scanned", "flat_shape"], ["z"])]
    inits = [T(np.array(0, np.float32), "zero"), T(w_out, "w_outer"), T(np.array([-1, 8], np.int64), "rows_shape"),
             T(np.array([1, -1], np.int64), "flat_shape"),
             T(np.zeros(8, np.float32), "acc0")]
    g = helper.make_graph(nodes, "cf", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("acc", TensorProto.FLOAT, None)], inits)
    p = tmp_path("cf.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), p)
    return p, {"w_then": 3, "m_then": 3, "w_outer": 3, "w_body": 3}


def all_stored(model):
    d = {}

    def walk(g):
        d.update(stored(g))
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
    walk(model.graph)
    return d


def check_control_flow_kmeans(p, wants, xs, calib):
    """quantize-kmeans bits=3 to .lcm and decode: every weight of wants is
    compressed to at most 2^bits values. The decoded model's path."""
    label = "If/Scan%s" % (" (calib)" if calib else "")
    lcm, dec = tmp_path("cf%d.lcm" % calib), tmp_path("cf%d_dec.onnx" % calib)
    r = run([SHRINK, "run", p, "-o", lcm, "--quiet", "--pass", "quantize-kmeans:bits=3"] +
            (calib_args("cf", np.concatenate(xs)) if calib else []))
    if not check(r.returncode == 0, "%s: kmeans run: %s" % (label, r.stderr.strip())):
        return None
    r = run([SHRINK, "decode", lcm, "-o", dec])
    if not check(r.returncode == 0, "%s: decode: %s" % (label, r.stderr.strip())):
        return None
    orig, got = all_stored(onnx.load(p)), all_stored(onnx.load(dec))
    const_name = [k for k in orig if k == "m_then"]
    check(const_name, "If/Scan: the Constant weight is named m_then")
    for v, bits in wants.items():
        a, b = orig[v], got.get(v)
        if not check(b is not None, "%s: %s missing from the decoded model" % (label, v)):
            continue
        check(not np.array_equal(a, b), "%s: %s was not compressed" % (label, v))
        check(len(np.unique(b)) <= 1 << bits, "%s: %s has %d distinct values (%d bits)" % (label, v, len(np.unique(b)),
                                                                                        bits))
    return dec


def check_control_flow(rng):
    p, wants = control_flow_model(rng)
    xs = [np.abs(rng.normal(0, 1, (1, 4, 8, 8))).astype(np.float32),
          -np.abs(rng.normal(0, 1, (1, 4, 8, 8))).astype(np.float32)]  # then, else
    ref = ort_batch([(p, {"x": x}) for x in xs])
    check_control_flow_kmeans(p, wants, xs, True)
    dec = check_control_flow_kmeans(p, wants, xs, False)
    if dec is None:
        return
    got_ort = ort_batch([(dec, {"x": x}) for x in xs])
    for k, x in enumerate(xs):
        if not check(not isinstance(got_ort[k], str), "If/Scan: ONNX Runtime refused the decoded model: %s"
                     % got_ort[k]):
            return
        ours = shrink_eval(dec, x, "cf%d" % k)
        if ours is not None:
            check(close(ours.reshape(got_ort[k][0].shape), got_ort[k][0], 1e-4, 1e-5),
                  "If/Scan (%s branch): shrink's executor differs from ONNX Runtime on the decoded model"
                  % ("then", "else")[k])
        print("If/Scan (%s branch): k-means 3 bits: SNR %.1f dB" % (("then", "else")[k], snr_db(ref[k][0], got_ort[k][0])))
    q = tmp_path("cf_int8.onnx")
    r = run([SHRINK, "run", p, "-o", q, "--quiet", "--pass", "quantize-int8:weights_only=true"])
    if not check(r.returncode == 0, "If/Scan: quantize-int8: %s" % r.stderr.strip()):
        return
    mq = onnx.load(q)
    branch = [n for n in mq.graph.node if n.op_type == "If"][0]
    then_g = [a.g for a in branch.attribute if a.name == "then_branch"][0]
    check(any(n.op_type == "DequantizeLinear" for n in then_g.node), "If/Scan: no DequantizeLinear in the then branch")
    check(all(not (i.name == "w_then" and i.data_type == TensorProto.FLOAT) for i in then_g.initializer),
          "If/Scan: the float branch weight is still there")
    res = ort_batch([(q, {"x": x}) for x in xs])
    for k in range(2):
        if check(not isinstance(res[k], str), "If/Scan: ONNX Runtime refused the int8 model: %s" % res[k]):
            s = snr_db(ref[k][0], res[k][0])
            print("If/Scan (%s branch): int8 weights: SNR %.1f dB" % (("then", "else")[k], s))
            check(s >= SNR_INT8, "If/Scan int8 SNR %.1f dB < %.0f" % (s, SNR_INT8))


def main():
    rng = np.random.default_rng(16)
    for kind in ("lstm", "gru"):
        p, x, want = torch_model(kind, rng)
        check_recurrent_kmeans(kind, p, x, want)
        check_recurrent_int8(kind, p, x, want)
        if kind == "lstm":
            check_recurrent_kmeans(kind, p, x, want, calib=True)
    p, x, want = cell_model(rng)
    check_recurrent_kmeans("lstm_cell", p, x, want)
    check_recurrent_int8("lstm_cell", p, x, want)
    check_control_flow(rng)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
