"""Compress a PyTorch model to an .lcm with retraining, libcompress in the loop.

    import shrink.torch
    report = shrink.torch.compress(model, train_loader, val_loader, example_input,
                                   ratio=40, max_drop=0.5, seed=0, out="model.lcm")
    print(report["ratio"], report["drop"])

For any torch.nn.Module whose compressible layers are Conv1d, Conv2d and
Linear (their weights; everything else is kept: their biases rounded to an
8-bit grid with one scale per tensor, the rest to float16 values).
A BatchNorm that directly follows one of them is folded into it first
(_torch_fold: the same eval-mode function, no BatchNorm in the .lcm).
The loaders yield (x, y) batches with integer class labels; the model's
output is [batch, classes]. Only `val_loader` is used for choices.

What it does (Deep Compression, Han et al. 2016, with libcompress choosing
and writing):
 1. exports the float model through torch.onnx: its size / `ratio` is the
    byte budget of the .lcm;
 2. allocation: libcompress measures each layer's post-training damage
    (lc_sensitivity_run: prune-magnitude over a sparsity grid,
    quantize-kmeans over bit widths) and each setting's bytes in the .lcm;
    the least damage that fits the budget gives per-layer (sparsity, bits);
 3. a round of retraining: iterative pruning (masks from libcompress
    applied after every optimizer step, sparsity ramped), then k-means
    weight sharing with centroid fine-tuning, distilling from the float
    model; the other parameters rounded as the .lcm stores them (biases
    on an 8-bit grid, the rest float16: _torch_lcm.round_small);
 4. the round's .lcm is built through libcompress (masks and trained
    codebooks set exactly, Huffman coding) and measured: size and
    validation top-1. If the file is over budget the allocation is redone
    for a budget smaller by the overshoot; if the accuracy is short it
    retrains with the masks fixed (more steps) and shares again. It stops
    when both hold (the drop's 95% upper bound within max_drop, by
    default) or the step limit is reached, and keeps the best round
    (the most accurate within the budget);
 5. writes `out` atomically and checks that it decodes to exactly the
    trained weights.
Deterministic for a seed and thread count (byte-identical .lcm) when the
loaders are (e.g. DataLoader(shuffle=True) draws from torch's seeded RNG).
"""
import copy
import os
import tempfile
import time

import numpy as np
import torch

from ._lib import Error, LC_ERR_SHAPE, fail
from .arrays import interval_from_counts
from . import _torch_alloc as alloc
from . import _torch_fold as fold
from . import _torch_lcm as lcm
from . import _torch_train as train

__all__ = ["compress", "compressible_layers"]

LAYER_TYPES = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)


def compressible_layers(model):
    """Names of the weights compress() compresses (Conv1d, Conv2d, Linear)."""
    return [f"{name}.weight" if name else "weight" for name, mod in model.named_modules()
            if isinstance(mod, LAYER_TYPES) and isinstance(getattr(mod, "weight", None), torch.nn.Parameter)]


def _first_batch(loader, label):
    try:
        x, y = next(iter(loader))
    except StopIteration:
        raise fail(f"{label} yields no batches") from None
    except (TypeError, ValueError) as e:
        raise fail(f"{label} does not yield (x, y) batches: {e}") from None
    return x, y


def _check(model, train_loader, val_loader, example_input, ratio, max_drop):
    """Everything that can be wrong, before any training: one line each."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    if not isinstance(example_input, torch.Tensor):
        raise ValueError(f"example_input must be a torch.Tensor, not {type(example_input).__name__}")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise ValueError(f"ratio must be a number, not {type(ratio).__name__}")
    if isinstance(max_drop, bool) or not isinstance(max_drop, (int, float)):
        raise ValueError(f"max_drop must be a number, not {type(max_drop).__name__}")
    if not ratio >= 1:
        raise fail(f"ratio must be at least 1 (float bytes / .lcm bytes), got {ratio}")
    if not max_drop >= 0:
        raise fail(f"max_drop must be at least 0 points, got {max_drop}")
    if not compressible_layers(model):
        raise fail(f"{type(model).__name__} has no compressible layer (Conv1d, Conv2d or Linear)")
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(example_input)
    except Exception as e:  # the user's forward: any error means the input does not fit
        raise fail(f"example_input of shape {tuple(example_input.shape)} does not run through the model: "
                   f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    finally:
        model.train(was)
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        raise fail(f"the model's output must be one [batch, classes] tensor, got "
                   f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}", LC_ERR_SHAPE)
    classes = out.shape[1]
    for loader, label in ((train_loader, "train_loader"), (val_loader, "val_loader")):
        x, y = _first_batch(loader, label)
        if not isinstance(x, torch.Tensor) or tuple(x.shape[1:]) != tuple(example_input.shape[1:]):
            raise fail(f"{label} yields x of shape {tuple(getattr(x, 'shape', ()))}, the example_input is "
                       f"{tuple(example_input.shape)}: samples must have shape {tuple(example_input.shape[1:])}",
                       LC_ERR_SHAPE)
        if (not isinstance(y, torch.Tensor) or y.dim() != 1 or y.shape[0] != x.shape[0]
                or y.dtype in (torch.float16, torch.float32, torch.float64)):
            raise fail(f"{label} yields y of shape {tuple(getattr(y, 'shape', ()))} "
                       f"{getattr(y, 'dtype', type(y).__name__)}: need one integer class label per sample "
                       f"({x.shape[0]})", LC_ERR_SHAPE)
        if int(y.min()) < 0 or int(y.max()) >= classes:
            raise fail(f"{label} yields labels in [{int(y.min())}, {int(y.max())}] but the model has {classes} "
                       "outputs", LC_ERR_SHAPE)


def _val_arrays(val_loader, limit):
    xs, ys, n = [], [], 0
    for x, y in val_loader:
        xs.append(x.detach().numpy().astype(np.float32))
        ys.append(y.detach().numpy().astype(np.int64))
        n += len(y)
        if n >= limit:
            break
    return np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]


class _Round:
    """One retraining round's outcome."""

    def __init__(self, net, plan, masks, pre_share, shared, lcm_bytes, top1, steps, drop_ci, judged):
        self.net, self.plan, self.masks, self.pre_share = net, plan, masks, pre_share
        self.shared, self.bytes, self.top1, self.steps = shared, lcm_bytes, top1, steps
        # the drop's interval, and the drop the budget is judged on (its upper end, or the point estimate)
        self.drop_ci, self.judged = drop_ci, judged


def compress(model, train_loader, val_loader, example_input, ratio=40, max_drop=0.5, seed=0, out=None, *,
             steps=None, prune_steps=3000, share_steps=1500, lr=1e-3, share_lr=3e-4, distill=0.5, temperature=2.0,
             val_limit=2000, threads=None, inplace=False, progress=None, confidence=0.95):
    """Compresses `model` to at least `ratio` times smaller than its float
    ONNX export, within `max_drop` points of top-1 on `val_loader`, and
    writes the .lcm to `out` (None: nothing written). Returns the report
    dict: ratio, bytes, onnx_bytes, float_top1, final_top1, drop (points;
    all on val_loader), drop_ci [lo, hi] (points), confidence, budget_met,
    ratio_met, seconds, cpu_seconds, steps
    (optimizer steps in all), rounds [{kind, bytes, top1, pruned_top1 (before
    sharing), steps, plan}], layers {name: sparsity, bits, kept,
    numel, bytes}, batchnorm_folded (names), out.

    steps: limit on optimizer steps over all rounds (default 4 x
    (prune_steps + share_steps)); prune_steps / share_steps: the first
    round's phases; lr / share_lr: Adam's, cosine-decayed per phase;
    distill: the weight (0..1) of the float model's soft targets in the
    loss, the labels' cross-entropy taking the rest (0 or False: labels
    only; True: 0.5); temperature: the soft targets'; val_limit: validation
    samples libcompress measures the allocation on; threads: torch's and
    libcompress's thread count (default: torch's); inplace: train and leave
    the result in `model`, its folded BatchNorms made Identity (otherwise a
    deep copy is trained); progress: force the stderr progress line on or
    off (default: when stderr is a terminal); confidence: a round meets
    `max_drop` only when the upper end of the two-sided `confidence`
    interval of its drop on val_loader is within it (paired per-sample
    verdicts against the float model, shrink.drop_interval), so the budget
    holds on data like val_loader's, not just on val_loader; 0 compares
    the point estimate. Otherwise compress keeps retraining until the step
    limit and returns the best round with budget_met False. Raises shrink.Error (ValueError for argument types) for bad
    input, and when the ratio is out of reach of the allocation grid, before
    any training."""
    _check(model, train_loader, val_loader, example_input, ratio, max_drop)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise ValueError(f"confidence must be a number, not {type(confidence).__name__}")
    if not 0 <= confidence < 1:
        raise fail(f"confidence must be in [0, 1) (0: the point estimate), got {confidence}")
    distill = 0.5 if distill is True else float(distill or 0)
    if not 0 <= distill <= 1 or not temperature > 0:
        raise fail(f"distill must be in [0, 1] and temperature above 0, got {distill} and {temperature}")
    if out is not None and not os.fspath(out).endswith(".lcm"):
        raise fail(f"out must be an .lcm path, got '{os.fspath(out)}'")
    t0, c0 = time.time(), time.process_time()
    old_threads = torch.get_num_threads()
    threads = int(threads or old_threads)
    torch.set_num_threads(threads)
    bar = train.Progress(progress)
    # The centroid gradient (backward of codebook[codes]) is an index_put_
    # with accumulation, which torch runs with parallel atomic float adds on
    # more than one thread unless deterministic algorithms are on: two runs
    # then differ in the last bits of the codebooks (and the .lcm's size).
    old_det = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _compress(model, train_loader, val_loader, example_input, float(ratio), float(max_drop), int(seed),
                         out, steps, prune_steps, share_steps, lr, share_lr, distill, temperature, val_limit, threads,
                         inplace, bar, t0, c0, float(confidence))
    finally:
        bar.close()
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det[0], warn_only=old_det[1])


def _compress(model, train_loader, val_loader, example_input, ratio, max_drop, seed, out, steps, prune_steps,
              share_steps, lr, share_lr, distill, temperature, val_limit, threads, inplace, bar, t0, c0,
              confidence):
    names = compressible_layers(model)
    float_net = copy.deepcopy(model).eval()
    folded = fold.fold_batchnorm(float_net, LAYER_TYPES)
    bn_left = any(isinstance(mod, fold.BN_TYPES) for mod in float_net.modules())
    layout = train.Layout(float_net, example_input, bn_left)
    teacher = None
    if distill:  # the folded float model: the same function as `model`, fewer ops
        t_net = layout.net(copy.deepcopy(float_net)).eval()
        for p in t_net.parameters():
            p.requires_grad_(False)
        teacher = train.Distill(t_net, distill, temperature)
    limit = steps if steps is not None else 4 * (prune_steps + share_steps)
    bar.show("measure")
    float_top1 = train.evaluate(float_net, val_loader)
    bar.val = float_top1
    with tempfile.TemporaryDirectory(prefix="shrink-torch-") as tmp:
        onnx_path = os.path.join(tmp, "float.onnx")
        lcm.export_onnx(model, example_input, onnx_path)  # the ratio is to the model as given
        onnx_bytes = os.path.getsize(onnx_path)
        lcm.export_onnx(float_net, example_input, onnx_path)
        inits = lcm.initializer_map(float_net, onnx_path, names)
        budget = int(onnx_bytes // ratio)
        # libcompress's post-training allocation, on the extras rounded as written
        base_net = copy.deepcopy(float_net)
        lcm.round_small(base_net, set(names))
        base_path = os.path.join(tmp, "base.onnx")
        lcm.export_onnx(base_net, example_input, base_path)
        base = lcm.load(base_path)
        xv, yv = _val_arrays(val_loader, val_limit)
        onnx_names = [inits[n][0] for n in names]
        bar.show("allocate")
        # aim a little under the budget: the codes after fine-tuning Huffman-code
        # slightly worse than k-means of the pruned float weights (about 2%)
        target = int(budget * 0.97)
        choice, measured = alloc.allocate(base, onnx_names, xv, yv, target, seed, threads)
        if choice is None:
            raise fail(f"ratio {ratio:g} is out of reach: {budget} bytes of .lcm, but even "
                       f"{alloc.SPARSITY[-1]:g} sparsity at {alloc.BITS[0]} bits everywhere takes "
                       f"{alloc.smallest(measured)} (of which {measured['other']} are the graph and the tensors "
                       "kept whole: biases, normalization)")
        rounds, used, best = [], 0, None
        pending = ("fresh", {n: choice[inits[n][0]] for n in names})
        while pending is not None and used < limit:
            kind, plan = pending
            torch.manual_seed(seed + len(rounds))
            batches = train.endless(train_loader)
            if kind == "fresh":
                net = copy.deepcopy(float_net)
                n_prune = min(prune_steps, limit - used)
                masks = train.prune_phase(net, names, plan, batches, n_prune, lr, teacher, layout, bar)
            else:  # more retraining with the masks of the best round fixed
                net = copy.deepcopy(best.pre_share)
                n_prune = min(prune_steps, limit - used)
                masks = train.prune_phase(net, names, plan, batches, n_prune, lr * 0.5, teacher, layout, bar,
                                          masks=best.masks)
            pre_share = copy.deepcopy(net)
            pruned_top1 = train.evaluate(pre_share, val_loader)  # before sharing: tells which phase loses
            n_share = min(share_steps, max(0, limit - used - n_prune))
            shared = train.share_phase(net, names, plan, masks, batches, n_share, share_lr, teacher, layout, bar)
            lcm.round_small(net, set(names), shared)
            used += n_prune + n_share
            bar.show("check")
            m = lcm.build_lcm_model(net, example_input, shared, inits, tmp)
            size = lcm.lcm_size(m)
            top1, counts = train.paired(float_net, net, val_loader)
            bar.val = top1
            drop_ci = interval_from_counts(*counts, confidence or 0.95)
            r = _Round(net, plan, masks, pre_share, shared, size, top1, n_prune + n_share, drop_ci,
                       drop_ci[1] if confidence > 0 else float_top1 - top1)
            rounds.append(dict(kind=kind, bytes=size, top1=round(top1, 4), pruned_top1=round(pruned_top1, 4),
                               drop_ci=[round(v, 4) for v in r.drop_ci], steps=r.steps,
                               plan={n: list(plan[n]) for n in names}))
            fits = size <= budget
            if best is None or (fits, top1 if fits else -size) > (best.bytes <= budget,
                                                                 best.top1 if best.bytes <= budget else -best.bytes):
                best = r
            if fits and r.judged <= max_drop:
                pending = None
            elif not fits:
                # the trained codes are coded less tightly than the estimate: aim lower by the overshoot
                target = int(target * budget / size * 0.99)
                choice, _ = alloc.allocate(base, onnx_names, xv, yv, target, seed, threads, measured)
                pending = None if choice is None else ("fresh", {n: choice[inits[n][0]] for n in names})
            else:
                pending = ("more", best.plan)
        bar.show("write")
        final = best.net
        m = lcm.build_lcm_model(final, example_input, best.shared, inits, tmp)
        report_layers = {}
        info = {w["name"]: w for w in m.report()["weights"]}
        for n in names:
            w = info[inits[n][0]]
            report_layers[n] = dict(sparsity=round(w["sparsity"], 6), bits=best.plan[n][1], kept=w["kept"],
                                    numel=w["params"], bytes=w["lcm_bytes"], target_sparsity=best.plan[n][0])
        if out is not None:
            lcm.write_lcm(m, os.fspath(out))
            try:
                lcm.check_decodes(os.fspath(out), final, inits)
            except Error:
                os.unlink(os.fspath(out))
                raise
        if inplace:
            fold.fold_batchnorm(model, LAYER_TYPES)
            model.load_state_dict(final.state_dict())
    final_top1 = best.top1
    return dict(ratio=round(onnx_bytes / best.bytes, 3), bytes=best.bytes, onnx_bytes=onnx_bytes, budget=budget,
                float_top1=round(float_top1, 4), final_top1=round(final_top1, 4),
                drop=round(float_top1 - final_top1, 4), drop_ci=[round(v, 4) for v in best.drop_ci],
                confidence=confidence, ratio_met=best.bytes <= budget,
                budget_met=best.bytes <= budget and best.judged <= max_drop,
                seconds=round(time.time() - t0, 2), cpu_seconds=round(time.process_time() - c0, 2), steps=used,
                rounds=rounds, layers=report_layers, batchnorm_folded=folded,
                out=os.fspath(out) if out is not None else None,
                seed=seed, threads=threads)
