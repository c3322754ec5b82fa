#!/usr/bin/python3
"""CPU milliseconds per training step of shrink.torch.compress, with and
without its fast step layout (channels_last activations, cache-sized
micro-batches, the folded float model as teacher), on the zoo models.

    nice /usr/bin/python3 benchmarks/retrain_step_bench.py [--models resnet8,dscnn] [--steps 10] [--reps 3]

Both variants run the same phases (prune_phase then share_phase, batch 128
of random inputs, one thread, distillation on), alternated `--reps` times
in one process, so their ratio holds on a shared machine even when the
absolute figures do not. "plain" is how the steps ran before the layout:
contiguous tensors, the whole batch at once, the unfolded model (with its
BatchNorms) as teacher.
"""
import argparse
import copy
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bindings", "python"))
sys.path.insert(0, HERE)
os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(os.path.dirname(HERE), "build", "libcompress.so"))

import torch  # noqa: E402

import retrain_bench as rb  # noqa: E402
import shrink.torch as st  # noqa: E402
from shrink import _torch_fold as fold, _torch_train as tr  # noqa: E402


class Quiet:
    def show(self, *a):
        pass


def phases(folded, names, layout, teacher, x, y, steps):
    """(prune, share) CPU ms per step."""
    plan = {n: (0.5, 3) for n in names}
    batches = iter(lambda: (x, y), None)
    net = copy.deepcopy(folded)
    c0 = time.process_time()
    masks = tr.prune_phase(net, names, plan, batches, steps, 1e-3, teacher, layout, Quiet())
    c1 = time.process_time()
    tr.share_phase(net, names, plan, masks, batches, steps, 3e-4, teacher, layout, Quiet())
    c2 = time.process_time()
    return 1000 * (c1 - c0) / steps, 1000 * (c2 - c1) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="resnet8,dscnn")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(0)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    print("| model | micro-batch | plain prune ms | fast prune ms | plain share ms | fast share ms | fast / plain |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in a.models.split(","):
        net = rb.from_onnx(name, os.path.join(HERE, "zoo", name + ".onnx"))
        folded = copy.deepcopy(net)
        fold.fold_batchnorm(folded, st.LAYER_TYPES)
        names = st.compressible_layers(folded)
        fast = tr.Layout(folded, x[:1], False)
        plain = tr.Layout(folded, x[:1], False)
        plain.cl, plain.chunk = False, None
        teachers = {"plain": tr.Distill(copy.deepcopy(net).eval()),
                    "fast": tr.Distill(fast.net(copy.deepcopy(folded)).eval())}
        best = {}
        for _ in range(a.reps):
            for k, lay in (("plain", plain), ("fast", fast)):
                ms = phases(folded, names, lay, teachers[k], x, y, a.steps)
                best[k] = tuple(min(p, q) for p, q in zip(best.get(k, ms), ms))
        (pp, ps), (fp, fs) = best["plain"], best["fast"]
        print(f"| {name} | {fast.chunk} | {pp:.0f} | {fp:.0f} | {ps:.0f} | {fs:.0f} | {(fp + fs) / (pp + ps):.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
