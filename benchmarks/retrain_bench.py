#!/usr/bin/python3
"""shrink.torch.compress on the zoo models as a new user would run it
(Fashion-MNIST): every choice on a validation split carved from the
training set, the drop reported on the 10,000 test images it never touched.

    nice /usr/bin/python3 benchmarks/retrain_bench.py [--build build] [--zoo 1,2]
        [--models lenet300,lenet5,resnet8,dscnn] [--seeds 0,1,2] [--json OUT]
        [--steps N --prune-steps N --share-steps N] [--ratio R] [--set NAME=VALUE]

- Data: the 60,000 training images split once (numpy RandomState(0)
  permutation): 6,000 for validation, 54,000 for training. The test images
  are read only after compress() returned, to evaluate the .lcm.
- Zoo 1: benchmarks/zoo/*.onnx (trained by benchmarks/zoo/train.py on all
  60,000 training images, so they have seen the validation images: their
  validation top-1 is optimistic and the validation drop pessimistic).
- Zoo 2: the same architectures trained here by train.py's train_one with
  seed 7 on the 54,000 training images only (cached in --zoo2-dir).
- compress(model, train 54k (batch 128, shuffled by a generator seeded
  with the run's seed), val 6k, ratio 40 for the LeNets and 20 for ResNet-8
  / DS-CNN, max_drop 0.5, seed, one thread, the step limit of --steps).
- "test" columns: float = PyTorch on the model as given; final = `shrink
  eval` (the C executor) on the written .lcm; CPU seconds of compress().
Goals (issue 20): LeNets >= 40x, ResNet-8 / DS-CNN >= 20x, at <= 0.5 point
test drop, <= 600 CPU seconds per model on one core.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
sys.path.insert(0, os.path.join(HERE, "zoo"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import train as zoo  # noqa: E402  (benchmarks/zoo/train.py)

RATIO = {"lenet300": 40, "lenet5": 40, "resnet8": 20, "dscnn": 20}
VAL = 6000


def splits():
    x, y = zoo.load_split("train")
    perm = np.random.RandomState(0).permutation(len(y))
    return (x[perm[VAL:]], y[perm[VAL:]]), (x[perm[:VAL]], y[perm[:VAL]])


def from_onnx(name, path):
    net = zoo.MODELS[name][0]()
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    state = net.state_dict()
    net.load_state_dict({k: torch.from_numpy(inits[k].copy()) if k in inits else v for k, v in state.items()})
    return net.eval()


def zoo2(name, cache, train_split, val_split, log):
    """train.py's recipe, seed 7, on the training split only (cached)."""
    path = os.path.join(cache, f"{name}.pt")
    net = zoo.MODELS[name][0]()
    if os.path.exists(path):
        net.load_state_dict(torch.load(path))
        return net.eval()
    xtr, ytr = zoo.normalize(train_split[0]), torch.from_numpy(train_split[1])
    xva, yva = zoo.normalize(val_split[0]), torch.from_numpy(val_split[1])
    net, *_ = zoo.train_one(name, 7, xtr, ytr, xva, yva, log)
    torch.use_deterministic_algorithms(False)
    os.makedirs(cache, exist_ok=True)
    torch.save(net.state_dict(), path)
    return net.eval()


def test_top1_torch(net, x, y):
    net.eval()
    with torch.no_grad():
        return 100.0 * float((net(x).argmax(1) == y).float().mean())


def shrink_eval(shrink_bin, path, x_u8, y, tmp):
    dx, dy = os.path.join(tmp, "tx.npy"), os.path.join(tmp, "ty.npy")
    if not os.path.exists(dx):
        np.save(dx, x_u8[:, None])
        np.save(dy, y)
    out = subprocess.run([shrink_bin, "eval", path, "--data", dx, "--labels", dy, "--mean", str(zoo.MEAN),
                          "--std", str(zoo.STD), "--json"], check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["top1"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"), help="build folder (libcompress.so, shrink)")
    ap.add_argument("--zoo", default="1,2")
    ap.add_argument("--models", default="lenet300,lenet5,resnet8,dscnn")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=None, help="compress()'s step limit (default: its own)")
    ap.add_argument("--prune-steps", type=int, default=None, help="compress()'s prune_steps (default: its own)")
    ap.add_argument("--share-steps", type=int, default=None, help="compress()'s share_steps (default: its own)")
    ap.add_argument("--confidence", type=float, help="compress()'s confidence (default: its own, 0.95)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="another keyword argument of compress() (a number), e.g. --set lr=3e-4")
    ap.add_argument("--ratio", type=float, default=None,
                    help="target ratio for every model (default: 40 for the LeNets, 20 for ResNet-8 / DS-CNN)")
    ap.add_argument("--zoo2-dir", default=os.path.join(tempfile.gettempdir(), "shrink-zoo2"))
    ap.add_argument("--json", help="append every run's report here (JSON lines)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(build, "libcompress.so"))
    import shrink.torch  # noqa: E402

    torch.set_num_threads(1)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    train_split, val_split = splits()
    xtr, ytr = zoo.normalize(train_split[0]), torch.from_numpy(train_split[1])
    xva, yva = zoo.normalize(val_split[0]), torch.from_numpy(val_split[1])
    rows = []
    print("| zoo | model | seed | .onnx bytes | .lcm bytes | ratio | val float | val final | val drop [95%] | "
          "test float | test final (.lcm) | test drop | steps | CPU s | goal |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for z in a.zoo.split(","):
            for name in a.models.split(","):
                if z == "1":
                    net = from_onnx(name, os.path.join(HERE, "zoo", name + ".onnx"))
                else:
                    net = zoo2(name, a.zoo2_dir, train_split, val_split, log)
                for seed in map(int, a.seeds.split(",")):
                    g = torch.Generator().manual_seed(seed)
                    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=128,
                                                     shuffle=True, drop_last=True, generator=g)
                    vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xva, yva), batch_size=1000)
                    out = os.path.join(tmp, f"{name}.lcm")
                    kw = {k: v for k, v in (("steps", a.steps), ("prune_steps", a.prune_steps),
                                            ("share_steps", a.share_steps),
                                            ("confidence", a.confidence)) if v is not None}
                    kw.update((k, float(v)) for k, v in (s.split("=", 1) for s in a.set))
                    ratio = a.ratio or RATIO[name]
                    rep = shrink.torch.compress(net, tl, vl, xva[:1], ratio=ratio, max_drop=0.5, seed=seed,
                                                out=out, threads=1, **kw)
                    # the test images, first used here
                    xte_u8, yte = zoo.load_split("t10k")
                    t_float = test_top1_torch(net, zoo.normalize(xte_u8), torch.from_numpy(yte))
                    t_final = shrink_eval(os.path.join(build, "shrink"), out, xte_u8, yte, tmp)
                    rep.update(zoo=z, model=name, test_float=t_float, test_final=t_final,
                               test_drop=round(t_float - t_final, 2))
                    ok = rep["ratio"] >= ratio and rep["test_drop"] <= 0.5 and rep["cpu_seconds"] <= 600
                    print(f"| {z} | {name} | {seed} | {rep['onnx_bytes']} | {rep['bytes']} | {rep['ratio']:.1f}x | "
                          f"{rep['float_top1']:.2f} | {rep['final_top1']:.2f} | {rep['drop']:.2f} "
                          f"[{rep['drop_ci'][0]:.2f}, {rep['drop_ci'][1]:.2f}] | {t_float:.2f} | "
                          f"{t_final:.2f} | {rep['test_drop']:.2f} | {rep['steps']} | {rep['cpu_seconds']:.0f} | "
                          f"{'met' if ok else 'not met'} |", flush=True)
                    log(json.dumps({k: v for k, v in rep.items() if k != "layers"}))
                    rows.append(rep)
                    if a.json:
                        with open(a.json, "a") as f:
                            f.write(json.dumps(rep) + "\n")
    print()
    print("| zoo | model | seed | layer | sparsity | bits | kept / numel | bytes |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        for n, L in r["layers"].items():
            print(f"| {r['zoo']} | {r['model']} | {r['seed']} | {n} | {L['sparsity']:.3f} | {L['bits']} | "
                  f"{L['kept']} / {L['numel']} | {L['bytes']} |")


if __name__ == "__main__":
    main()
