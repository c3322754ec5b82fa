#!/usr/bin/python3
"""Deep Compression with retraining, libcompress in the training loop.

    /usr/bin/python3 bindings/python/examples/retrain.py --model lenet300 -o lenet300.lcm

Starting from a zoo model (benchmarks/zoo/<model>.onnx; its PyTorch module
comes from benchmarks/zoo/train.py), on Fashion-MNIST:

 1. iterative pruning: fine-tune while each layer's sparsity ramps up to
    its target (cubic schedule, Zhu & Gupta 2017); at every ramp stage the
    masks are computed by libcompress (shrink.prune_magnitude, i.e. the
    prune-magnitude pass) and they are applied after every optimizer step,
    so pruned weights stay exactly zero;
 2. weight sharing: each layer's surviving weights are clustered by
    libcompress (shrink.kmeans: the quantize-kmeans pass, code 0 = the
    pruned zeros), then the centroids are fine-tuned: the layer's weight is
    codebook[codes] * mask, so the gradient of a centroid is the sum of the
    gradients of the weights in its cluster (Han et al. 2016, section 3.1);
 3. the biases are rounded to float16 (the .lcm writer then stores them in
    2 bytes) and the model is written through libcompress: the masks and
    the fine-tuned codebooks are set into the zoo model exactly
    (Model.set_mask / set_codebook), the huffman pass marks the streams
    for entropy coding, and Model.save writes the .lcm;
 4. the .lcm is evaluated with `shrink eval` on the test images and
    compared with PyTorch's top-1 of the retrained model.

Prints one JSON object (also written with --json): sizes, ratio, top-1
(zoo float, after pruning without retraining, retrained PyTorch, .lcm by
`shrink eval`), per-layer sparsity and distinct values, seconds.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
sys.path.insert(0, os.path.join(SRC, "benchmarks", "zoo"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import shrink  # noqa: E402
import train as zoo  # noqa: E402  (benchmarks/zoo/train.py)

# Per-layer targets (weight name -> sparsity, bits), Deep Compression style:
# the big fully connected layers are pruned hardest, the first convolution
# and the logits layer least. LeNet-5 is small (62k weights), so the .lcm's
# fixed costs (graph, biases, per-tensor headers: ~2 KB) weigh in and it
# needs more sparsity and fewer bits than Deep Compression's 39x LeNet-5.
DEFAULTS = {
    "lenet300": {"net.1.weight": (0.94, 5), "net.3.weight": (0.90, 5), "net.5.weight": (0.70, 5)},
    "lenet5": {"features.0.weight": (0.40, 4), "features.3.weight": (0.80, 3), "classifier.1.weight": (0.965, 3),
               "classifier.3.weight": (0.92, 3), "classifier.5.weight": (0.65, 3)},
}
MODULES = {"lenet300": zoo.LeNet300, "lenet5": zoo.LeNet5}


def parse_layers(text, model):
    """"name=sparsity:bits,..." over the model's defaults."""
    layers = dict(DEFAULTS[model])
    for item in filter(None, (text or "").split(",")):
        name, _, val = item.partition("=")
        sp, _, bits = val.partition(":")
        if name not in layers:
            raise SystemExit(f"unknown layer {name!r} (layers: {', '.join(layers)})")
        layers[name] = (float(sp), int(bits) if bits else layers[name][1])
    return layers


def load_torch(model, onnx_path):
    """The zoo's PyTorch module with the weights of its ONNX file (the
    initializers are named like the state_dict)."""
    net = MODULES[model]()
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    state = net.state_dict()
    missing = [k for k in state if k not in inits]
    if missing:
        raise SystemExit(f"{onnx_path}: no initializer for {missing}")
    net.load_state_dict({k: torch.from_numpy(inits[k].copy()) for k in state})
    return net


def top1(net, x, y, batch=1000):
    net.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), batch):
            correct += int((net(x[s:s + batch]).argmax(1) == y[s:s + batch]).sum())
    net.train()
    return 100.0 * correct / len(x)


def layer_modules(net, names):
    mods = dict(net.named_modules())
    return {n: mods[n.rsplit(".", 1)[0]] for n in names}


def batches(n, batch, rng):
    """Endless shuffled mini-batch index arrays."""
    while True:
        perm = rng.permutation(n)
        for s in range(0, n - batch + 1, batch):
            yield perm[s:s + batch]


def cosine(step, total, lr0, lr_min_frac=0.05):
    return lr0 * (lr_min_frac + (1 - lr_min_frac) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))


def prune_phase(net, layers, x, y, steps, stages, ramp, lr, batch, rng, log):
    """Fine-tuning with masks from libcompress, sparsity ramped in `stages`
    steps over the first `ramp` fraction of the run."""
    params = dict(net.named_parameters())
    masks = {n: torch.ones_like(params[n]) for n in layers}
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    ramp_steps = max(1, int(ramp * steps))
    stage_at = sorted({int(ramp_steps * (i + 1) / stages) for i in range(stages)})
    stage = 0
    it = batches(len(x), batch, rng)

    def set_masks(frac):
        for n, (sp, _) in layers.items():
            # cubic ramp: prune fast while there are many redundant weights
            s = sp * (1 - (1 - frac) ** 3)
            w = params[n].detach().numpy()
            masks[n] = torch.from_numpy(shrink.prune_magnitude(w, s).astype(np.float32))
            with torch.no_grad():
                params[n].mul_(masks[n])

    if steps == 0:
        set_masks(1.0)
    for step in range(steps):
        if stage < len(stage_at) and step == (0 if stage == 0 else stage_at[stage - 1]):
            stage += 1
            set_masks(stage / len(stage_at))
        for g in opt.param_groups:
            g["lr"] = cosine(step, steps, lr)
        idx = next(it)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for n in layers:
                params[n].mul_(masks[n])
        if log and (step + 1) % max(1, steps // 5) == 0:
            log(f"  prune step {step + 1}/{steps} loss {float(loss):.4f}")
    return {n: m.numpy().astype(bool) for n, m in masks.items()}


class Shared:
    """A layer whose weight is codebook[codes] * mask, the codebook trainable."""

    def __init__(self, module, codebook, codes, mask):
        self.module = module
        self.codebook = torch.nn.Parameter(torch.from_numpy(codebook.copy()))
        self.codes = torch.from_numpy(codes.astype(np.int64))
        self.mask = torch.from_numpy(mask.astype(np.float32))
        del module._parameters["weight"]
        self.refresh()

    def refresh(self):
        # indexing sums the gradients of a cluster's weights into its centroid
        self.module.weight = self.codebook[self.codes] * self.mask

    def final(self):
        """The shared weight as float32 values of the codebook (pruned: +0)."""
        cb = self.codebook.detach().numpy()
        return np.where(self.mask.numpy() != 0, cb[self.codes.numpy()], np.float32(0)).astype(np.float32)


def share_phase(net, layers, masks, x, y, steps, lr, batch, rng, kmeans_method, log):
    params = dict(net.named_parameters())
    mods = layer_modules(net, layers)
    shared = {}
    for n, (_, bits) in layers.items():
        w = params[n].detach().numpy() * masks[n]
        cb, codes, _ = shrink.kmeans(w, bits, method=kmeans_method, init="linear")
        shared[n] = Shared(mods[n], cb[0], codes, masks[n])
    others = [p for n, p in net.named_parameters()]  # biases (the weights are no parameters now)
    opt = torch.optim.Adam([s.codebook for s in shared.values()] + others, lr=lr)
    it = batches(len(x), batch, rng)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine(step, steps, lr)
        for s in shared.values():
            s.refresh()
        idx = next(it)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if log and (step + 1) % max(1, steps // 5) == 0:
            log(f"  share step {step + 1}/{steps} loss {float(loss):.4f}")
    with torch.no_grad():
        for s in shared.values():
            s.refresh()
            s.module.weight = torch.from_numpy(s.final())
        # biases to float16 values (stored in 2 bytes each by the .lcm writer)
        for n, p in net.named_parameters():
            p.copy_(p.half().float())
    return shared


def find_shrink():
    cand = [os.environ.get("SHRINK")] + [os.path.join(os.path.dirname(shrink._lib.lib._name), "shrink")]
    for c in cand:
        if c and os.access(c, os.X_OK):
            return c
    raise SystemExit("shrink CLI not found: set SHRINK")


def shrink_eval(model_path, x_u8, y, tmp):
    dpath, lpath = os.path.join(tmp, "test_x.npy"), os.path.join(tmp, "test_y.npy")
    np.save(dpath, x_u8)
    np.save(lpath, y)
    out = subprocess.run([find_shrink(), "eval", model_path, "--data", dpath, "--labels", lpath,
                          "--mean", str(zoo.MEAN), "--std", str(zoo.STD), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["top1"])


def run(model="lenet300", out=None, layers=None, prune_steps=3000, share_steps=1500, stages=10, ramp=0.6,
        lr=1e-3, share_lr=3e-4, batch=128, train_limit=0, test_limit=0, seed=0, threads=2,
        kmeans_method="lloyd", log=print):
    """The whole recipe; returns the summary dict."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.RandomState(seed)
    layers = layers or DEFAULTS[model]
    onnx_path = os.path.join(SRC, "benchmarks", "zoo", model + ".onnx")
    xtr_u8, ytr = zoo.load_split("train")
    xte_u8, yte = zoo.load_split("t10k")
    if train_limit:
        xtr_u8, ytr = xtr_u8[:train_limit], ytr[:train_limit]
    if test_limit:
        xte_u8, yte = xte_u8[:test_limit], yte[:test_limit]
    xtr, xte = zoo.normalize(xtr_u8), zoo.normalize(xte_u8)
    ytr_t, yte_t = torch.from_numpy(ytr), torch.from_numpy(yte)

    net = load_torch(model, onnx_path)
    res = {"model": model, "onnx_bytes": os.path.getsize(onnx_path), "test_images": len(yte),
           "train_images": len(ytr), "prune_steps": prune_steps, "share_steps": share_steps, "batch": batch}
    res["top1_float"] = top1(net, xte, yte_t)

    # what the same targets give without retraining (one-shot)
    oneshot = load_torch(model, onnx_path)
    p1 = dict(oneshot.named_parameters())
    with torch.no_grad():
        for n, (sp, _) in layers.items():
            p1[n].mul_(torch.from_numpy(shrink.prune_magnitude(p1[n].detach().numpy(), sp).astype(np.float32)))
    res["top1_pruned_no_retrain"] = top1(oneshot, xte, yte_t)

    t0 = time.process_time()
    w0 = time.time()
    masks = prune_phase(net, layers, xtr, ytr_t, prune_steps, stages, ramp, lr, batch, rng, log)
    res["top1_pruned"] = top1(net, xte, yte_t)
    shared = share_phase(net, layers, masks, xtr, ytr_t, share_steps, share_lr, batch, rng, kmeans_method, log)
    res["train_cpu_seconds"] = round(time.process_time() - t0, 1)
    res["train_seconds"] = round(time.time() - w0, 1)
    res["top1_torch"] = top1(net, xte, yte_t)

    # write through libcompress: masks, fine-tuned codebooks and biases set exactly
    m = shrink.load(onnx_path)
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    for n, p in net.named_parameters():
        m.set_weight(n, p.detach().numpy())
    per_layer = {}
    for n, s in shared.items():
        cb = s.codebook.detach().numpy()
        m.set_mask(n, masks[n])
        m.set_codebook(n, cb[None, :], s.codes.numpy().astype(np.uint8))
        final = s.final()
        same = np.array_equal(m.weight(n).view(np.uint32), final.view(np.uint32))
        info = m.weight_info(n)
        per_layer[n] = {"shape": list(info["shape"]), "sparsity_target": layers[n][0], "bits": layers[n][1],
                        "sparsity": round(info["sparsity"], 6), "kept": info["kept"],
                        "distinct_nonzero": int(len(np.unique(final[final != 0]))),
                        "float_view_equals_torch": bool(same)}
        state[n] = final
    m.run_pass("huffman")
    m.validate()
    with tempfile.TemporaryDirectory() as tmp:
        path = out or os.path.join(tmp, model + ".lcm")
        m.save(path)
        res["lcm"] = out
        res["lcm_bytes"] = os.path.getsize(path)
        res["ratio"] = round(res["onnx_bytes"] / res["lcm_bytes"], 2)
        res["top1_lcm"] = shrink_eval(path, xte_u8, yte, tmp)
        back = shrink.load(path)
        res["lcm_weights_equal_torch"] = all(
            np.array_equal(back.weight(n).view(np.uint32), state[n].view(np.uint32)) for n in state)
    res["drop"] = round(res["top1_float"] - res["top1_lcm"], 2)
    res["layers"] = per_layer
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(DEFAULTS), default="lenet300")
    ap.add_argument("-o", "--out", help="the .lcm to write (default: a temporary file)")
    ap.add_argument("--layers", help="per-layer targets NAME=SPARSITY[:BITS],... over the defaults")
    ap.add_argument("--prune-steps", type=int, default=3000)
    ap.add_argument("--share-steps", type=int, default=1500)
    ap.add_argument("--stages", type=int, default=10, help="pruning ramp stages (mask updates)")
    ap.add_argument("--ramp", type=float, default=0.6, help="fraction of the pruning steps that ramps sparsity")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--share-lr", type=float, default=3e-4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train-limit", type=int, default=0, help="use the first N training images (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (0: all)")
    ap.add_argument("--kmeans", choices=["lloyd", "optimal"], default="lloyd",
                    help="lloyd from linear init (Deep Compression) or the exact optimum")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    res = run(a.model, a.out, parse_layers(a.layers, a.model), a.prune_steps, a.share_steps, a.stages, a.ramp,
              a.lr, a.share_lr, a.batch, a.train_limit, a.test_limit, a.seed, a.threads, a.kmeans,
              log=None if a.quiet else lambda s: print(s, file=sys.stderr))
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
