#!/usr/bin/python3
"""Check the committed zoo against an independent reference.

    /usr/bin/python3 benchmarks/zoo/check_zoo.py [--only NAME] [--limit N]

For every model in zoo.json: validate the ONNX file with onnx.checker, run it
with a small plain-numpy interpreter of the ONNX ops the zoo uses (no torch),
and compare its predicted labels with <name>.pred.npy (saved by PyTorch) and
its top-1 with zoo.json. Exits non-zero on any mismatch.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from train import MEAN, STD, load_split

HERE = os.path.dirname(os.path.abspath(__file__))


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pad_nchw(x, pads):
    t, l, b, r = pads[0], pads[1], pads[2], pads[3]
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))


def conv(x, w, b, a):
    group = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    assert (dh, dw) == (1, 1) and a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    x = pad_nchw(x, a.get("pads", [0, 0, 0, 0]))
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    # cols[n, c, kh, kw, oh, ow]
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    out = np.empty((n, m, oh, ow), dtype=np.float32)
    mg = m // group
    for g in range(group):
        cg_cols = cols[:, g * cg:(g + 1) * cg].reshape(n, cg * kh * kw, oh * ow)
        wg = w[g * mg:(g + 1) * mg].reshape(mg, cg * kh * kw)
        out[:, g * mg:(g + 1) * mg] = np.einsum("mk,nkp->nmp", wg, cg_cols).reshape(n, mg, oh, ow)
    if b is not None:
        out += b[None, :, None, None]
    return out


def maxpool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    assert not any(a.get("pads", [0, 0, 0, 0])) and a.get("ceil_mode", 0) == 0
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.full((n, c, oh, ow), -np.inf, dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
    return out


def gemm(a_, b_, c_, a):
    if a.get("transA", 0):
        a_ = a_.T
    if a.get("transB", 0):
        b_ = b_.T
    y = a.get("alpha", 1.0) * (a_ @ b_)
    if c_ is not None:
        y = y + a.get("beta", 1.0) * c_
    return y.astype(np.float32)


def batchnorm(x, scale, bias, mean, var, a):
    assert a.get("training_mode", 0) == 0
    eps = a.get("epsilon", 1e-5)
    sh = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * scale.reshape(sh)
            + bias.reshape(sh)).astype(np.float32)


def run(model, x):
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            y = maxpool(ins[0], a)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            y = gemm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            y = batchnorm(*ins[:5], a)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        else:
            raise NotImplementedError(f"op {op} is not covered by this checker")
        env[node.output[0]] = y.astype(np.float32)
    return env[model.graph.output[0].name]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append")
    ap.add_argument("--limit", type=int, default=10000)
    args = ap.parse_args()

    with open(os.path.join(HERE, "zoo.json")) as f:
        zoo = json.load(f)
    xte_u8, yte = load_split("t10k")
    x = ((xte_u8.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD))[:, None]
    x, yte = x[:args.limit], yte[:args.limit]
    ok = True
    for name, entry in zoo["models"].items():
        if args.only and name not in args.only:
            continue
        m = onnx.load(os.path.join(HERE, entry["file"]))
        onnx.checker.check_model(m, full_check=True)
        logits = np.concatenate([run(m, x[i:i + 250]) for i in range(0, x.shape[0], 250)])
        pred = logits.argmax(1)
        ref = np.load(os.path.join(HERE, entry["pred"]))[:args.limit]
        agree = float((pred == ref).mean())
        top1 = float((pred == yte).mean())
        line = f"{name}: numpy top-1 {100 * top1:.2f}% (zoo.json {100 * entry['top1']:.2f}%), " \
               f"agreement with torch {100 * agree:.3f}% ({int((pred != ref).sum())} differ)"
        print(line, flush=True)
        if agree < 0.9995 or (args.limit == 10000 and abs(top1 - entry["top1"]) > 0.0005):
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
