#!/usr/bin/python3
"""Train the shrink benchmark model zoo on Fashion-MNIST and export it to ONNX.

Run with Debian's python (torch 1.13 on CPU):

    /usr/bin/python3 benchmarks/zoo/train.py            # all four models
    /usr/bin/python3 benchmarks/zoo/train.py --only resnet8

Data comes from Debian's `dataset-fashion-mnist` package (IDX files, parsed
here with gzip + numpy). Everything is seeded and the data order is a fixed
function of (seed, epoch), so a rerun on the same machine reproduces the same
weights, the same ONNX files and the same predictions.

Outputs, next to this script:
    <name>.onnx      opset 13, input "input" [batch,1,28,28], output "logits" [batch,10],
                     BatchNormalization kept as separate nodes (not folded)
    <name>.pred.npy  PyTorch's predicted label per test image (int64, 10000)
    zoo.json         per model: file, params, float top-1, normalization, recipe, seconds
"""
import argparse
import gzip
import hashlib
import json
import os
import sys
import time

# Sleep rather than spin in OpenMP barriers: on a shared 2-core machine busy
# neighbours otherwise slow training down by an order of magnitude. Must be
# set before torch loads its OpenMP runtime; it does not change the results.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = 0.2860
STD = 0.3530
OPSET = 13


# ---------------------------------------------------------------- data

def read_idx(path):
    """Parse an IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    dt = np.dtype(dtypes[raw[2]])
    count = int(np.prod(dims)) if dims else 1
    if len(raw) != offset + count * dt.itemsize:
        raise ValueError(f"{path}: size {len(raw)} does not match header dims {dims}")
    return np.frombuffer(raw, dtype=dt, count=count, offset=offset).reshape(dims)


def load_split(split):
    """split is 'train' or 't10k'; returns (uint8 images [N,28,28], int64 labels [N])."""
    x = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)
    if x.shape[0] != y.shape[0] or x.shape[1:] != (28, 28):
        raise ValueError(f"{split}: unexpected shapes {x.shape} {y.shape}")
    return x, y


def normalize(x_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28]: scale to [0,1], then (x-mean)/std."""
    x = x_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(np.ascontiguousarray(x[:, None, :, :]))


# ---------------------------------------------------------------- models

class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 300), nn.ReLU(),
            nn.Linear(300, 100), nn.ReLU(),
            nn.Linear(100, 10))

    def forward(self, x):
        return self.net(x)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # 6x14x14
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))              # 16x5x5
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN; 1x1 conv shortcut when the shape changes (MLPerf Tiny ResNet-8)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=True)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=True)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + s)


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=True)
        self.stem_bn = nn.BatchNorm2d(16)
        self.stage1 = BasicBlock(16, 16, 1)    # 16x28x28
        self.stage2 = BasicBlock(16, 32, 2)    # 32x14x14
        self.stage3 = BasicBlock(32, 64, 2)    # 64x7x7
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.stage3(self.stage2(self.stage1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class DSCNN(nn.Module):
    """MLPerf Tiny style DS-CNN: a strided stem conv, then depthwise-separable blocks."""

    def __init__(self, width=64, blocks=4):
        super().__init__()
        layers = [nn.Conv2d(1, width, 3, stride=2, padding=1, bias=True),   # 64x14x14
                  nn.BatchNorm2d(width), nn.ReLU()]
        for _ in range(blocks):
            layers += [nn.Conv2d(width, width, 3, padding=1, groups=width, bias=True),
                       nn.BatchNorm2d(width), nn.ReLU(),
                       nn.Conv2d(width, width, 1, bias=True),
                       nn.BatchNorm2d(width), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


# name -> (constructor, recipe). Recipes were chosen to reach the target
# accuracy within a few CPU minutes on 2 cores.
MODELS = {
    "lenet300": (LeNet300, dict(optimizer="adam", lr=1e-3, weight_decay=0.0, epochs=8,
                                batch=128, schedule="cosine")),
    "lenet5": (LeNet5, dict(optimizer="adam", lr=2e-3, weight_decay=0.0, epochs=8,
                            batch=128, schedule="cosine")),
    "resnet8": (ResNet8, dict(optimizer="adam", lr=3e-3, weight_decay=1e-4, epochs=4,
                              batch=128, schedule="cosine")),
    "dscnn": (DSCNN, dict(optimizer="adam", lr=3e-3, weight_decay=1e-4, epochs=4,
                          batch=128, schedule="cosine")),
}


# ---------------------------------------------------------------- training

def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


def evaluate(model, x, batch=1000):
    """Logits of the model in eval mode over all of x (float32 [N,1,28,28])."""
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            outs.append(model(x[i:i + batch]))
    return torch.cat(outs)


def train_one(name, seed, xtr, ytr, xte, yte, log):
    ctor, recipe = MODELS[name]
    seed_everything(seed)
    model = ctor()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    n = xtr.shape[0]
    steps_per_epoch = (n + recipe["batch"] - 1) // recipe["batch"]
    total = steps_per_epoch * recipe["epochs"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1.0 + np.cos(np.pi * min(step, total) / total)))
    t0 = time.time()
    history = []
    for epoch in range(recipe["epochs"]):
        model.train()
        # The data order is a pure function of (seed, epoch).
        order = np.random.RandomState(seed * 1000 + epoch).permutation(n)
        loss_sum = 0.0
        for i in range(0, n, recipe["batch"]):
            idx = torch.from_numpy(order[i:i + recipe["batch"]])
            xb, yb = xtr[idx], ytr[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * xb.shape[0]
        acc = (evaluate(model, xte).argmax(1) == yte).float().mean().item()
        history.append(dict(epoch=epoch + 1, train_loss=round(loss_sum / n, 5), test_top1=round(acc, 5)))
        log(f"  {name} epoch {epoch + 1}/{recipe['epochs']}: loss {loss_sum / n:.4f} "
            f"test top-1 {100 * acc:.2f}%  ({time.time() - t0:.0f}s)")
    seconds = time.time() - t0
    model.eval()
    return model, params, recipe, history, seconds


def export_onnx(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    # TrainingMode.PRESERVE with the model in eval mode keeps BatchNormalization
    # as its own node (EVAL would fold it into the preceding Conv); constant
    # folding stays off so the exported weights are exactly the torch parameters.
    torch.onnx.export(model, dummy, path, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)


def check_onnx(model, path):
    """Validate the ONNX file and confirm its weights are the torch weights."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    assert [i.name for i in g.input if i.name not in {t.name for t in g.initializer}] == ["input"]
    assert [o.name for o in g.output] == ["logits"]
    dims = g.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28], dims
    odims = g.output[0].type.tensor_type.shape.dim
    assert odims[0].dim_param == "batch" and odims[1].dim_value == 10, odims
    assert m.opset_import[0].version == OPSET
    ops = {}
    for node in g.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    # Every torch parameter/buffer must appear bit-exactly among the initializers.
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    init_bytes = {hashlib.sha1(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()
                  for a in inits.values() if a.dtype == np.float32}
    for k, v in sd.items():
        if k in inits:
            assert np.array_equal(inits[k], v), k
        else:
            # Some weights are renamed (e.g. transposed Gemm weights get onnx:: names).
            h1 = hashlib.sha1(np.ascontiguousarray(v, dtype=np.float32).tobytes()).hexdigest()
            h2 = hashlib.sha1(np.ascontiguousarray(v.T, dtype=np.float32).tobytes()).hexdigest()
            assert h1 in init_bytes or h2 in init_bytes, f"{path}: weight {k} not found in initializers"
    return ops


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(MODELS), action="append",
                    help="train only this model (repeatable); zoo.json keeps the other entries")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=HERE, help="output folder (default: next to this script)")
    args = ap.parse_args()

    torch.set_num_threads(2)
    names = args.only or list(MODELS)
    log = lambda s: print(s, flush=True)  # noqa: E731

    xtr_u8, ytr_np = load_split("train")
    xte_u8, yte_np = load_split("t10k")
    xtr, ytr = normalize(xtr_u8), torch.from_numpy(ytr_np)
    xte, yte = normalize(xte_u8), torch.from_numpy(yte_np)
    log(f"Fashion-MNIST: train {tuple(xtr.shape)}, test {tuple(xte.shape)}")

    os.makedirs(args.out, exist_ok=True)
    zoo_path = os.path.join(args.out, "zoo.json")
    zoo = {}
    if os.path.exists(zoo_path):
        with open(zoo_path) as f:
            zoo = json.load(f)
    zoo.setdefault("models", {})
    zoo["dataset"] = dict(
        name="Fashion-MNIST", source=DATA_DIR, test_samples=int(xte.shape[0]),
        input=dict(name="input", shape=["batch", 1, 28, 28], dtype="float32"),
        output=dict(name="logits", shape=["batch", 10]),
        normalization=dict(scale=1.0 / 255.0, mean=MEAN, std=STD,
                           formula="x = (u8 / 255 - mean) / std"))
    zoo["generator"] = dict(script="benchmarks/zoo/train.py", torch=torch.__version__,
                            numpy=np.__version__, threads=torch.get_num_threads(), opset=OPSET)

    for name in names:
        log(f"training {name} (seed {args.seed})")
        model, params, recipe, history, seconds = train_one(name, args.seed, xtr, ytr, xte, yte, log)
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        export_onnx(model, onnx_path)
        ops = check_onnx(model, onnx_path)
        if name in ("resnet8", "dscnn") and ops.get("BatchNormalization", 0) == 0:
            sys.exit(f"{onnx_path}: BatchNormalization nodes were folded away")
        logits = evaluate(model, xte)
        pred = logits.argmax(1).numpy().astype(np.int64)
        np.save(os.path.join(args.out, f"{name}.pred.npy"), pred)
        top1 = float((pred == yte_np).mean())
        # Gap between the two largest logits: images with a tiny gap are the
        # ones another runtime may legitimately classify differently.
        top2 = logits.topk(2, dim=1).values
        gap = (top2[:, 0] - top2[:, 1]).numpy()
        zoo["models"][name] = dict(
            file=f"{name}.onnx", pred=f"{name}.pred.npy", params=int(params),
            onnx_bytes=os.path.getsize(onnx_path), ops=dict(sorted(ops.items())),
            top1=round(top1, 6), correct=int((pred == yte_np).sum()),
            pred_sha1=hashlib.sha1(pred.tobytes()).hexdigest(),
            small_margin=dict(below_1e_3=int((gap < 1e-3).sum()), below_1e_4=int((gap < 1e-4).sum())),
            normalization=dict(mean=MEAN, std=STD),
            recipe=dict(recipe, loss="cross_entropy", seed=args.seed, data_order="numpy RandomState(seed*1000+epoch).permutation",
                        augmentation="none"),
            history=history, seconds=round(seconds, 1))
        log(f"{name}: params {params}, top-1 {100 * top1:.2f}%, {seconds:.0f}s, "
            f"{os.path.getsize(onnx_path)} bytes, ops {ops}")
        with open(zoo_path, "w") as f:
            json.dump(zoo, f, indent=2, sort_keys=False)
            f.write("\n")


if __name__ == "__main__":
    main()
