#!/usr/bin/python3
"""The run report's layer table covers weights inside subgraphs (issue 16
item 4): the If/Scan model of nested_weights_test.py (weights in an If
branch as an initializer and a Constant node, a main-graph initializer read
by the other branch, a Scan body initializer) through quantize-int8
weights_only=true, written as .onnx and as .lcm.
- every weight has a row (by its node's name), with bytes_before its float
  size (numpy, from the input model) and 8 bits;
- .onnx: bytes_after is the size of the int8 tensor feeding the node's
  DequantizeLinear in the written file (onnx + numpy);
- the layers' bytes_after plus the overhead's total equal the file's size.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nested_weights_test import all_stored, control_flow_model  # noqa: E402
from wild_util import check, failures, run, tmp_path  # noqa: E402

SHRINK = os.environ["SHRINK"]
LAYERS = {"conv_then": "w_then", "mm_then": "m_then", "conv_else": "w_outer", "mm_body": "w_body"}


def graphs(g):
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from graphs(a.g)


def int8_bytes(path, node_name):
    """Bytes of the int8 initializer behind node_name's weight input, found
    through the DequantizeLinear producing it, in any graph."""
    gs = list(graphs(onnx.load(path).graph))
    node = [n for g in gs for n in g.node if n.name == node_name][0]
    dq = {o: n for g in gs for n in g.node if n.op_type == "DequantizeLinear" for o in n.output}[node.input[1]]
    t = [numpy_helper.to_array(i) for g in gs for i in g.initializer if i.name == dq.input[0]][0]
    return t.dtype, t.nbytes


def main():
    p, _ = control_flow_model(np.random.default_rng(16))
    floats = all_stored(onnx.load(p))
    for ext in ("onnx", "lcm"):
        out, rep = tmp_path("q." + ext), tmp_path("q_%s.json" % ext)
        r = run([SHRINK, "run", p, "-o", out, "--quiet", "--pass", "quantize-int8:weights_only=true", "--report", rep])
        if not check(r.returncode == 0, "%s: quantize-int8: %s" % (ext, r.stderr.strip())):
            continue
        report = json.load(open(rep))
        rows = {l["name"]: l for l in report["layers"]}
        for node, w in LAYERS.items():
            l = rows.get(node)
            if not check(l is not None, "%s: no layer row for %s (weight %s)" % (ext, node, w)):
                continue
            check(l["bytes_before"] == floats[w].nbytes, "%s: %s bytes_before %s, float size %d" % (
                ext, node, l["bytes_before"], floats[w].nbytes))
            check(l["bits"] == 8, "%s: %s has %s bits, want 8" % (ext, node, l["bits"]))
            if ext == "onnx":
                dt, nb = int8_bytes(out, node)
                check(dt == np.int8 and l["bytes_after"] == nb, "%s: %s bytes_after %s, the %s tensor has %d" % (
                    ext, node, l["bytes_after"], dt, nb))
        size = os.path.getsize(out)
        total = sum(l["bytes_after"] for l in report["layers"]) + report["overhead"]["total"]
        check(total == size, "%s: layers + overhead = %d bytes, the file has %d" % (ext, total, size))
        print("%s: %d layers, layers + overhead = %d = file size %d" % (ext, len(rows), total, size))
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
