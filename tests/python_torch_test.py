#!/usr/bin/python3
"""shrink.torch.compress on a tiny conv net (Fashion-MNIST subset), short.

Checks, each against something computed independently of compress():
- the written .lcm meets the asked ratio: float ONNX bytes (torch.onnx
  export of the caller's model, re-done here) / file size >= 8;
- it is deterministic: a second run with the same seed writes a
  byte-identical file;
- the caller's model is unchanged (every tensor of its state_dict, bit for
  bit), unless inplace=True: then it holds the trained weights, and the
  .lcm, decoded by `shrink decode` to ONNX and read with the onnx package,
  holds exactly those weights;
- the BatchNorm after the conv is folded: the folded model computes what
  the original does (PyTorch, eval mode) and the decoded ONNX has no
  BatchNormalization node;
- each compressed layer in that ONNX has the reported sparsity and at most
  2^bits - 1 distinct nonzero values;
- the .lcm's predictions by the C executor (`shrink eval`) equal PyTorch's
  on the trained model (top-1 within 0.2 point on the validation images),
  and report["final_top1"] is PyTorch's top-1 of the trained model;
- report["drop_ci"] is Newcombe's 95% paired interval (numpy/scipy,
  tests/paired_interval.py) of the per-sample verdicts of the float model
  and the trained one, and budget_met says whether its upper end is
  within max_drop; shrink.drop_interval gives the same interval;
- the training loss (distillation from the float model, the weights and
  temperatures compress() takes; cross-entropy alone without a teacher)
  equals a float64 numpy computation of it;
- bad input (and a ratio out of reach) is refused with shrink.Error /
  ValueError before any training
  (the training loader is never iterated past its first batch), and an
  interrupt (KeyboardInterrupt from the loader) leaves no file behind.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("LC_BUILD_DIR", os.path.join(SRC, "build"))
SHRINK = os.environ.get("SHRINK", os.path.join(BUILD, "shrink"))
os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(BUILD, "libcompress.so"))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
sys.path.insert(0, os.path.join(SRC, "benchmarks", "zoo"))
sys.path.insert(0, os.path.join(SRC, "tests"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import shrink  # noqa: E402
import shrink.torch  # noqa: E402
from paired_interval import newcombe  # noqa: E402
from shrink._torch_fold import fold_batchnorm  # noqa: E402
from shrink import _torch_train as torch_train  # noqa: E402
import train as zoo  # noqa: E402  (Fashion-MNIST reader)

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 8, 3)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc1 = torch.nn.Linear(8 * 13 * 13, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class Counting:
    """A loader that counts the batches taken from it and may interrupt."""

    def __init__(self, loader, interrupt_after=None):
        self.loader, self.taken, self.interrupt_after = loader, 0, interrupt_after

    def __iter__(self):
        for b in self.loader:
            self.taken += 1
            if self.interrupt_after is not None and self.taken > self.interrupt_after:
                raise KeyboardInterrupt
            yield b


def np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def np_loss(s, t, y, alpha, temp):
    """The distillation loss in float64 numpy: (1 - alpha) cross-entropy +
    alpha temp^2 KL(teacher || student) at temperature temp, batch means."""
    ce = -np_log_softmax(s)[np.arange(len(y)), y].mean()
    lt, ls = np_log_softmax(t / temp), np_log_softmax(s / temp)
    kl = (np.exp(lt) * (lt - ls)).sum(1).mean()
    return (1 - alpha) * ce + alpha * temp * temp * kl


class Fixed(torch.nn.Module):
    """A teacher that answers with given logits."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits


torch.manual_seed(0)
torch.set_num_threads(1)
# the training loss against numpy, for the weights and temperatures compress() takes
s_logits, t_logits = torch.randn(16, 10) * 3, torch.randn(16, 10) * 3
labels = torch.randint(0, 10, (16,))
for alpha, temp in ((0.5, 2.0), (1.0, 4.0), (0.25, 1.0)):
    got = float(torch_train.loss_fn(s_logits, labels, torch_train.Distill(Fixed(t_logits), alpha, temp), None))
    want = np_loss(s_logits.double().numpy(), t_logits.double().numpy(), labels.numpy(), alpha, temp)
    check(abs(got - want) <= 1e-5 * max(1.0, abs(want)),
          f"distillation loss alpha {alpha} temp {temp}: {got:.6f} = numpy {want:.6f}")
got = float(torch_train.loss_fn(s_logits, labels, None, None))
want = np_loss(s_logits.double().numpy(), t_logits.double().numpy(), labels.numpy(), 0.0, 1.0)
check(abs(got - want) <= 1e-5 * max(1.0, want), f"no teacher: cross-entropy {got:.6f} = numpy {want:.6f}")

x_u8, y_np = zoo.load_split("train")
x, y = zoo.normalize(x_u8[:5000]), torch.from_numpy(y_np[:5000])
xtr, ytr, xva, yva = x[:4000], y[:4000], x[4000:], y[4000:]
net = Tiny()
opt = torch.optim.Adam(net.parameters(), 2e-3)
for step in range(300):  # a quick float model
    i = torch.randint(0, 4000, (64,))
    loss = torch.nn.functional.cross_entropy(net(xtr[i]), ytr[i])
    opt.zero_grad()
    loss.backward()
    opt.step()
net.eval()


def loaders(seed=0):
    g = torch.Generator().manual_seed(seed)
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=64, shuffle=True,
                                     drop_last=True, generator=g)
    vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xva, yva), batch_size=500)
    return tl, vl


before = {k: v.clone() for k, v in net.state_dict().items()}
KW = dict(ratio=8, max_drop=3.0, seed=0, prune_steps=120, share_steps=60, steps=360, val_limit=500, threads=2)

with tempfile.TemporaryDirectory() as tmp:
    ref_onnx = os.path.join(tmp, "ref.onnx")
    torch.onnx.export(copy.deepcopy(net), (xva[:1],), ref_onnx, opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    float_bytes = os.path.getsize(ref_onnx)

    out1, out2 = os.path.join(tmp, "a.lcm"), os.path.join(tmp, "b.lcm")
    tl, vl = loaders()
    rep = shrink.torch.compress(net, tl, vl, xva[:1], out=out1, **KW)
    print(json.dumps({k: v for k, v in rep.items() if k not in ("rounds",)}))
    size = os.path.getsize(out1)
    check(rep["bytes"] == size and float_bytes / size >= 8,
          f"ratio {float_bytes} / {size} = {float_bytes / size:.2f} >= 8 (report {rep['ratio']})")
    check(all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "the caller's model is unchanged")

    trained = copy.deepcopy(net)
    tl, vl = loaders()
    rep2 = shrink.torch.compress(trained, tl, vl, xva[:1], out=out2, inplace=True, **KW)
    with open(out1, "rb") as f1, open(out2, "rb") as f2:
        check(f1.read() == f2.read(), f"same seed, byte-identical .lcm ({size} and {os.path.getsize(out2)} bytes)")

    dec = os.path.join(tmp, "dec.onnx")
    subprocess.run([SHRINK, "decode", out1, "-o", dec], check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(dec).graph.initializer}
    state = {k: v.detach().numpy() for k, v in trained.state_dict().items()}
    same = all(k in inits and np.array_equal(inits[k].view(np.uint32), v.view(np.uint32)) for k, v in state.items())
    check(same, "inplace=True: the decoded .lcm holds exactly the trained weights of the model")
    ops = sorted({n.op_type for n in onnx.load(dec).graph.node})
    check(rep["batchnorm_folded"] == ["bn"] and "BatchNormalization" not in ops and isinstance(trained.bn,
          torch.nn.Identity), f"BatchNorm folded (report {rep['batchnorm_folded']}; decoded ops {ops})")
    folded = copy.deepcopy(net)
    fold_batchnorm(folded, shrink.torch.LAYER_TYPES)
    with torch.no_grad():
        diff = float((folded(xva) - net(xva)).abs().max())
    check(diff < 1e-4 and isinstance(folded.bn, torch.nn.Identity),
          f"the folded model computes the original's logits (max difference {diff:.2e})")
    for name, L in rep["layers"].items():
        w = inits[name]
        kept = int(np.count_nonzero(w))
        distinct = len(np.unique(w[w != 0]))
        check(kept == L["kept"] and abs(1 - kept / w.size - L["sparsity"]) < 1e-6 and distinct <= (1 << L["bits"]) - 1,
              f"{name}: {kept} kept of {w.size} (report {L['kept']}), {distinct} distinct nonzero values "
              f"(<= {(1 << L['bits']) - 1})")

    trained.eval()
    with torch.no_grad():
        torch_top1 = 100.0 * float((trained(xva).argmax(1) == yva).float().mean())
    dx, dy = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(dx, xva.numpy())
    np.save(dy, yva.numpy())
    lcm_top1 = json.loads(subprocess.run([SHRINK, "eval", out1, "--data", dx, "--labels", dy, "--json"], check=True,
                                         capture_output=True, text=True).stdout)["top1"]
    check(abs(lcm_top1 - torch_top1) <= 0.2 and abs(rep["final_top1"] - torch_top1) < 1e-3,
          f".lcm top-1 by shrink eval {lcm_top1:.2f}% = PyTorch {torch_top1:.2f}% = report {rep['final_top1']:.2f}%")

    # the budget at 95% confidence: the interval from the paired verdicts, recomputed here
    with torch.no_grad():
        right_f = (folded.eval()(xva).argmax(1) == yva).numpy()
        right_c = (trained(xva).argmax(1) == yva).numpy()
    table = [int(np.sum(right_f & right_c)), int(np.sum(right_f & ~right_c)), int(np.sum(~right_f & right_c)),
             int(np.sum(~right_f & ~right_c))]
    lo, hi = newcombe(*table, 0.95)
    check(abs(rep["drop_ci"][0] - lo) < 1e-3 and abs(rep["drop_ci"][1] - hi) < 1e-3
          and rep["confidence"] == 0.95 and rep["budget_met"] == (hi <= KW["max_drop"] and rep["ratio_met"]),
          f"drop_ci {rep['drop_ci']} = numpy Newcombe [{lo:.4f}, {hi:.4f}] from {table}; budget_met "
          f"{rep['budget_met']}")
    lo2, hi2 = shrink.drop_interval(right_f, right_c, 0.95)
    check(abs(lo2 - lo) < 1e-9 and abs(hi2 - hi) < 1e-9, f"shrink.drop_interval [{lo2}, {hi2}] = [{lo}, {hi}]")

    # bad input: refused before any training
    def refused(what, exc, *args, **kw):
        tl, vl = loaders()
        counting = Counting(tl)
        a = list(args)
        a[1] = counting if a[1] is None else a[1]
        try:
            shrink.torch.compress(*a, out=os.path.join(tmp, "bad.lcm"), **kw)
            check(False, f"{what}: no error")
        except exc as e:
            msg = str(e)
            check("\n" not in msg and counting.taken <= 1 and not os.path.exists(os.path.join(tmp, "bad.lcm")),
                  f"{what}: {type(e).__name__}: {msg}")

    tl, vl = loaders()
    refused("no compressible layer", shrink.Error, torch.nn.Sequential(torch.nn.Flatten(), torch.nn.ReLU()), None,
            vl, xva[:1])
    refused("ratio below 1", shrink.Error, net, None, vl, xva[:1], ratio=0.5)
    refused("ratio of the wrong type", ValueError, net, None, vl, xva[:1], ratio="40")
    refused("distill outside [0, 1]", shrink.Error, net, None, vl, xva[:1], distill=1.5)
    refused("confidence outside [0, 1)", shrink.Error, net, None, vl, xva[:1], confidence=1.0)
    refused("example_input that does not run", shrink.Error, net, None, vl, torch.zeros(1, 3, 28, 28))
    wrong = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xva[:, :, :20], yva), batch_size=100)
    refused("val_loader with the wrong sample shape", shrink.Error, net, None, wrong, xva[:1])
    bad_y = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xva, yva.float()), batch_size=100)
    refused("val_loader with float labels", shrink.Error, net, None, bad_y, xva[:1])

    refused("a ratio out of reach (the biases alone exceed the budget)", shrink.Error, net, None, vl, xva[:1],
            ratio=1000, val_limit=100)

    tl, vl = loaders()
    stop = os.path.join(tmp, "stop.lcm")
    try:
        shrink.torch.compress(net, Counting(tl, interrupt_after=50), vl, xva[:1], out=stop, **KW)
        check(False, "interrupt: no KeyboardInterrupt")
    except KeyboardInterrupt:
        left = sorted(f for f in os.listdir(tmp) if f.startswith("stop"))
        check(not left, f"interrupted during training: no .lcm or temporary left ({left})")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
