"""shrink.torch's training phases (Deep Compression, Han et al. 2016):
iterative pruning with libcompress masks applied after every optimizer
step, then weight sharing with centroid fine-tuning. Both distil from the
float model (soft targets, Hinton et al. 2015) besides the labels."""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from .arrays import prune_magnitude
from ._torch_alloc import shared_arrays


class Progress:
    """One status line on stderr (only when it is a terminal): phase, step,
    validation accuracy."""

    def __init__(self, enabled=None):
        self.on = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.val = None
        self.last = ""

    def show(self, phase, step=None, total=None):
        if not self.on:
            return
        bar = ""
        if total:
            done = int(20 * step / total)
            bar = f" [{'#' * done}{'.' * (20 - done)}] {step}/{total}"
        val = f"  val top-1 {self.val:.2f}%" if self.val is not None else ""
        line = f"\rshrink.torch: {phase:<14}{bar}{val}"
        if line != self.last:
            sys.stderr.write(line + " " * max(0, len(self.last) - len(line)))
            sys.stderr.flush()
            self.last = line

    def close(self):
        if self.on and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.last = ""


def endless(loader):
    """(x, y) batches of the loader, epoch after epoch."""
    while True:
        empty = True
        for x, y in loader:
            empty = False
            yield x, y
        if empty:
            return


def evaluate(net, loader, limit=None):
    """Top-1 (%) of the net in eval mode over the loader (the first `limit`
    samples when given)."""
    was = net.training
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            out = net(x)
            correct += int((out.argmax(1) == y).sum())
            total += int(y.shape[0])
            if limit and total >= limit:
                break
    net.train(was)
    return 100.0 * correct / max(1, total)


def paired(reference, net, loader):
    """Top-1 (%) of `net` over the loader and the 2x2 table of per-sample
    verdicts against `reference` on the same batches (both right, only the
    reference right, only `net` right, neither), both in eval mode. One
    pass, so a shuffling loader still pairs each sample with itself."""
    was = net.training
    net.eval()
    reference.eval()
    counts = [0, 0, 0, 0]
    with torch.no_grad():
        for x, y in loader:
            r = reference(x).argmax(1) == y
            c = net(x).argmax(1) == y
            counts[0] += int((r & c).sum())
            counts[1] += int((r & ~c).sum())
            counts[2] += int((~r & c).sum())
            counts[3] += int((~r & ~c).sum())
    net.train(was)
    return 100.0 * (counts[0] + counts[2]) / max(1, sum(counts)), counts


# Bytes of one layer's output a micro-batch may hold (see micro_batch).
CHUNK_BYTES = 3 << 20


class Layout:
    """How a training step runs fast on the CPU without changing what it
    computes: 4-D activations in channels_last layout (oneDNN's fast path:
    measured per step, batch 128, one thread: LeNet-5 25 -> 18 ms, DS-CNN
    277 -> 145 ms), and the batch split into micro-batches whose largest
    layer output stays within CHUNK_BYTES, their gradients summed (DS-CNN,
    ResNet-8: 64 x 28 x 28 / 16 x 28 x 28 floats a sample, chunks of 32:
    DS-CNN 145 -> 85 ms, ResNet-8 172 -> 150 ms; LeNet-5 stays whole, it
    measured slower in chunks). No chunks when a BatchNorm is left (its
    batch statistics would change)."""

    def __init__(self, net, example_input, batch_norm_left):
        self.cl = example_input.dim() == 4 and any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
        self.chunk = None
        if batch_norm_left:
            return
        largest = [0]

        def hook(mod, inp, out):
            if isinstance(out, torch.Tensor):
                largest[0] = max(largest[0], out[0].numel() * out.element_size())

        hooks = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
        was = net.training
        net.eval()
        try:
            with torch.no_grad():
                net(example_input[:1])
        finally:
            for h in hooks:
                h.remove()
            net.train(was)
        if largest[0]:
            self.chunk = 1 << max(0, (CHUNK_BYTES // largest[0]).bit_length() - 1)

    def net(self, net, on=True):
        """Puts the net's parameters in the fast layout (on) or back."""
        if self.cl:
            net.to(memory_format=torch.channels_last if on else torch.contiguous_format)
        return net

    def batch(self, x):
        return x.contiguous(memory_format=torch.channels_last) if self.cl and x.dim() == 4 else x


def train_step(net, opt, x, y, teacher, layout, before=None):
    """One optimizer step on the batch (x, y), in micro-batches whose
    gradients add up to the whole batch's (the losses are batch means).
    `before` runs ahead of each forward (to rebuild shared weights)."""
    x = layout.batch(x)
    n = int(y.shape[0])
    chunk = layout.chunk or n
    opt.zero_grad()
    for i in range(0, n, chunk):
        xb, yb = x[i:i + chunk], y[i:i + chunk]
        if before is not None:
            before()
        loss = loss_fn(net(xb), yb, teacher, xb)
        if chunk < n:
            loss = loss * (yb.shape[0] / n)
        loss.backward()
    opt.step()


def cosine(step, total, lr0, floor=0.05):
    return lr0 * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, total) / max(1, total))))


class Distill:
    """The float model as teacher: the loss mixes cross-entropy with the
    labels (weight 1 - alpha) and the KL divergence to the teacher's soft
    targets at temperature `temp` (weight alpha, times temp^2 so its
    gradient keeps its scale; Hinton et al. 2015). alpha 1: soft targets
    alone."""

    def __init__(self, net, alpha=0.5, temp=2.0):
        self.net, self.alpha, self.temp = net, float(alpha), float(temp)


def loss_fn(out, y, teacher, x):
    """The training loss of the outputs `out` for the batch (x, y): with a
    Distill teacher its mix, without one cross-entropy alone."""
    ce = F.cross_entropy(out, y)
    if teacher is None:
        return ce
    temp, alpha = teacher.temp, teacher.alpha
    with torch.no_grad():
        t = F.softmax(teacher.net(x) / temp, dim=1)
    kd = F.kl_div(F.log_softmax(out / temp, dim=1), t, reduction="batchmean") * temp * temp
    return (1 - alpha) * ce + alpha * kd


def prune_phase(net, layers, plan, batches, steps, lr, teacher, layout, progress, masks=None, stages=10, ramp=0.6):
    """Fine-tunes `net` while each layer's sparsity ramps (cubic, Zhu & Gupta
    2017) to plan[name][0] in `stages` mask updates over the first `ramp` of
    the steps. Masks come from libcompress (prune-magnitude) and are applied
    after every optimizer step. With `masks` given the ramp is done: they
    stay fixed. Returns {name: bool mask}."""
    params = dict(net.named_parameters())
    fixed = masks is not None
    cur = {n: torch.from_numpy(masks[n].astype(np.float32)) for n in layers} if fixed else {}
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    ramp_steps = max(1, int(ramp * steps))
    stage_at = sorted({int(ramp_steps * i / stages) for i in range(stages)})

    def set_masks(frac):
        with torch.no_grad():
            for n in layers:
                s = plan[n][0] * (1 - (1 - frac) ** 3)
                cur[n] = torch.from_numpy(prune_magnitude(params[n].detach().numpy(), s).astype(np.float32))
                params[n].mul_(cur[n])

    if not fixed and steps == 0:
        set_masks(1.0)
    net.train()
    layout.net(net)
    for step in range(steps):
        if not fixed and step in stage_at:
            set_masks((stage_at.index(step) + 1) / len(stage_at))
        for g in opt.param_groups:
            g["lr"] = cosine(step, steps, lr)
        x, y = next(batches)
        train_step(net, opt, x, y, teacher, layout)
        with torch.no_grad():
            for n in layers:
                params[n].mul_(cur[n])
        if step % 20 == 0 or step + 1 == steps:
            progress.show("prune", step + 1, steps)
    layout.net(net, False)
    return {n: cur[n].numpy() != 0 for n in layers}


class Shared:
    """A layer whose weight is codebook[codes] * mask with the codebook
    trainable: indexing sums a cluster's weight gradients into its centroid."""

    def __init__(self, module, attr, mask, codebook, codes):
        self.module, self.attr = module, attr
        self.codebook = torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(codebook, np.float32)))
        self.codes = torch.from_numpy(codes.astype(np.int64))
        self.mask = torch.from_numpy(mask.astype(np.float32))
        self.mask_bool = mask
        del module._parameters[attr]
        self.refresh()

    def refresh(self):
        setattr(self.module, self.attr, self.codebook[self.codes] * self.mask)

    def final(self):
        """(weight values, codebook, uint8 codes): pruned weights are +0 and
        code 0, every other weight exactly its centroid."""
        cb = self.codebook.detach().numpy().astype(np.float32)
        codes = self.codes.numpy().astype(np.uint8)
        w = np.where(self.mask_bool, cb[codes], np.float32(0)).astype(np.float32)
        return w, cb, codes

    def restore(self):
        """Puts the shared values back as an ordinary parameter."""
        w, _, _ = self.final()
        delattr(self.module, self.attr)
        self.module.register_parameter(self.attr, torch.nn.Parameter(torch.from_numpy(w)))


def share_phase(net, layers, plan, masks, batches, steps, lr, teacher, layout, progress):
    """k-means per layer (libcompress quantize-kmeans on the masked weights),
    then the centroids and every other parameter fine-tuned. Returns {name:
    (mask, codebook, codes)} and leaves the shared values in `net` as
    ordinary parameters."""
    params = dict(net.named_parameters())
    mods = dict(net.named_modules())
    shared = {}
    for n in layers:
        mod, _, attr = n.rpartition(".")
        w = params[n].detach().numpy() * masks[n]
        _, cb, codes = shared_arrays(w, 0.0, plan[n][1])
        shared[n] = Shared(mods[mod], attr, masks[n], cb, codes)
    opt = torch.optim.Adam([s.codebook for s in shared.values()] + list(net.parameters()), lr=lr)
    net.train()
    layout.net(net)

    def refresh():
        for s in shared.values():
            s.refresh()

    try:
        for step in range(steps):
            for g in opt.param_groups:
                g["lr"] = cosine(step, steps, lr)
            x, y = next(batches)
            train_step(net, opt, x, y, teacher, layout, refresh)
            if step % 20 == 0 or step + 1 == steps:
                progress.show("share", step + 1, steps)
    finally:
        layout.net(net, False)
        out = {}
        for n, s in shared.items():
            _, cb, codes = s.final()
            s.restore()
            out[n] = (masks[n], cb, codes)
    return out

