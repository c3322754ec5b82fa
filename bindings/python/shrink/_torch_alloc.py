"""shrink.torch's starting point: per-layer sparsity and bits from
libcompress's post-training measurements.

Each layer's damage is measured by lc_sensitivity_run (the layer alone
pruned by prune-magnitude at each sparsity of the grid, or shared by
quantize-kmeans at each bit width, validated on the validation samples),
each (sparsity, bits) setting's bytes in the .lcm by building the model with
every layer at that setting (lc_model_report's per-layer lcm_bytes), and
the least total damage whose file fits the budget is chosen exactly by a
multiple-choice knapsack over the layers (as the target-size search does,
with a grid reaching the sparsities retraining recovers from)."""
import ctypes
import json
import math

import numpy as np

from ._lib import _I64P, _P, check, lib
from .arrays import kmeans, prune_magnitude
from .model import _Context, _Dataset

SPARSITY = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99)
BITS = (3, 4, 5)


def sensitivity(m, pass_name, params, grid, x, y, seed, threads):
    """{weight name: [top-1 per grid value]}, float top-1 (libcompress)."""
    data = _Dataset(x, "val")
    labels = np.ascontiguousarray(y, dtype=np.int64)
    ctx = _Context(None, seed, threads)
    g = (ctypes.c_double * len(grid))(*grid)
    out = _P()
    check(lib.lc_sensitivity_run(m.handle, pass_name.encode(), params.encode(), g, len(grid), data.handle,
                                 labels.ctypes.data_as(_I64P), labels.shape[0], 0, ctx.handle, ctypes.byref(out)))
    try:
        res = json.loads(ctypes.cast(out, ctypes.c_char_p).value.decode())
    finally:
        lib.free(out)
    return {L["weight"]: L["accuracy"] for L in res["layers"]}, res["float"]


def shared_arrays(w, sparsity, bits):
    """What the retraining starts sharing from: magnitude mask, then k-means
    (Lloyd from linear init; code 0 = the pruned zeros) of the survivors."""
    mask = prune_magnitude(w, sparsity)
    cb, codes, _ = kmeans(w * mask, bits, method="lloyd", init="linear")
    return mask, cb[0], codes


def size_table(m, names):
    """bytes[name][(s, b)] of each layer in the .lcm, and the bytes of
    everything else (header, graph, other tensors)."""
    table = {n: {} for n in names}
    other = None
    ws = {n: m.weight(n) for n in names}
    for s in SPARSITY:
        for b in BITS:
            c = m.clone()
            for n in names:
                mask, cb, codes = shared_arrays(ws[n], s, b)
                c.set_mask(n, mask)
                c.set_codebook(n, cb[None, :], codes)
            c.run_pass("huffman")
            rep = c.report()
            per = {w["name"]: w["lcm_bytes"] for w in rep["weights"]}
            for n in names:
                table[n][(s, b)] = per[n]
            rest = rep["lcm_bytes"] - sum(per[n] for n in names)
            other = rest if other is None else max(other, rest)
            c.close()
    return table, other


def knapsack(damage, nbytes, budget):
    """Per layer the option minimizing the summed damage with summed bytes
    <= budget (bytes rounded up to units of budget/4000). None when nothing
    fits."""
    unit = max(1, budget // 4000)
    front = [(0, 0.0, ())]  # (units used, damage, choices), Pareto-pruned
    for layer in damage:
        cand = {}
        for used, d, ch in front:
            for opt in sorted(damage[layer]):
                u = used + math.ceil(nbytes[layer][opt] / unit)
                if u * unit > budget:
                    continue
                nd = d + damage[layer][opt]
                if u not in cand or nd < cand[u][1]:
                    cand[u] = (u, nd, ch + (opt,))
        front, best = [], None
        for u in sorted(cand):
            if best is None or cand[u][1] < best:
                front.append(cand[u])
                best = cand[u][1]
        if not front:
            return None
    return dict(zip(damage, min(front, key=lambda f: (f[1], f[0]))[2]))


def allocate(m, names, x, y, budget, seed=0, threads=1, measured=None):
    """{name: (sparsity, bits)} for the layers `names` (ONNX weight names of
    `m`) fitting `budget` bytes of .lcm (None when nothing fits), plus the
    facts it used. `measured`
    reuses the sensitivity and size tables of an earlier call."""
    if measured is None:
        include = "".join(f",include={n}" for n in names)
        acc_p, f = sensitivity(m, "prune-magnitude", "correct=none" + include, SPARSITY, x, y, seed, threads)
        acc_q, _ = sensitivity(m, "quantize-kmeans", "method=lloyd,correct=none" + include, BITS, x, y, seed,
                               threads)
        sizes, other = size_table(m, names)
        measured = dict(float=f, prune=acc_p, quant=acc_q, sizes=sizes, other=other)
    f = measured["float"]
    damage = {}
    for n in names:
        damage[n] = {(s, b): max(0.0, f - measured["prune"][n][i]) + max(0.0, f - measured["quant"][n][j])
                     for i, s in enumerate(SPARSITY) for j, b in enumerate(BITS)}
    choice = knapsack(damage, measured["sizes"], budget - measured["other"])
    return choice, measured


def smallest(measured):
    """Bytes of the smallest .lcm the grid reaches."""
    return measured["other"] + sum(min(t.values()) for t in measured["sizes"].values())
