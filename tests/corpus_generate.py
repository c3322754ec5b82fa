"""Corpus models made here, for what no npm package carried (issue 16 item
8): opsets 7, 8, 10 and 17, and PRelu.

- zoo_resnet8_op7, zoo_dscnn_op8, zoo_lenet5_op10: the trained benchmark
  zoo (benchmarks/zoo/*.onnx, PyTorch 1.13, opset 13) loaded back into its
  PyTorch modules (benchmarks/zoo/train.py) and exported again by
  torch.onnx at the old opset (BatchNormalization kept, as the zoo is).
- lenet5_prelu_op17: the zoo LeNet-5 with each ReLU replaced by a
  per-channel PReLU (slopes from 0.25), fine-tuned 300 steps on
  Fashion-MNIST training images (seeded, one thread), exported at opset 17.

ensure(dir) writes DIR/ID.onnx for each entry of GENERATED that is missing
or was made by another RECIPE, and returns the entries, each shaped like a
manifest model (id, opset, kind, inputs, ops counted by python3-onnx,
bytes); their inputs are Fashion-MNIST test images ("fashion",
tests/corpus_inputs.py). Nothing here is committed: the files are a few
hundred kB and are rebuilt in about a minute of CPU."""
import collections
import importlib.util
import json
import os

import numpy as np

RECIPE = "1"  # bump when a model below changes
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ZOO = os.path.join(SRC, "benchmarks", "zoo")

GENERATED = [
    {"id": "zoo_resnet8_op7", "zoo": "resnet8", "opset": 7,
     "about": "shrink's trained ResNet-8 re-exported by torch.onnx at opset 7"},
    {"id": "zoo_dscnn_op8", "zoo": "dscnn", "opset": 8,
     "about": "shrink's trained DS-CNN (depthwise) re-exported by torch.onnx at opset 8"},
    {"id": "zoo_lenet5_op10", "zoo": "lenet5", "opset": 10,
     "about": "shrink's trained LeNet-5 re-exported by torch.onnx at opset 10"},
    {"id": "lenet5_prelu_op17", "zoo": "lenet5", "opset": 17, "prelu": True,
     "about": "LeNet-5 with per-channel PReLU, fine-tuned on Fashion-MNIST, torch.onnx opset 17"},
]


def _train_module():
    spec = importlib.util.spec_from_file_location("zoo_train", os.path.join(ZOO, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load_zoo(tr, name):
    """The zoo model `name` as its PyTorch module, weights from the ONNX."""
    import onnx
    import torch
    from onnx import numpy_helper
    model = tr.MODELS[name][0]()
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(os.path.join(ZOO, name + ".onnx")).graph.initializer}
    state = model.state_dict()
    for k in state:
        if k in inits:
            state[k] = torch.from_numpy(inits[k].copy())
        elif not k.endswith("num_batches_tracked"):
            raise RuntimeError("zoo %s: no initializer for %s" % (name, k))
    model.load_state_dict(state)
    return model.eval()


def _prelu(tr, model):
    """ReLU -> per-channel PReLU (0.25), then 300 Adam steps on training images."""
    import torch
    import torch.nn as nn
    for seq in (model.features, model.classifier):
        for i, layer in enumerate(seq):
            if isinstance(layer, nn.ReLU):
                prev = [m for m in list(seq)[:i] if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
                ch = prev.out_channels if isinstance(prev, nn.Conv2d) else prev.out_features
                seq[i] = nn.PReLU(ch, 0.25)
    torch.manual_seed(16)
    x_u8, y = tr.load_split("train")
    x = tr.normalize(x_u8[:20000])
    y = torch.from_numpy(y[:20000])
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    model.train()
    g = torch.Generator().manual_seed(16)
    for _ in range(300):
        idx = torch.randint(0, x.shape[0], (64,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model.eval()


def _export(model, path, opset):
    import torch
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=opset, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def _entry(g, path):
    import onnx
    m = onnx.load(path)
    ops = collections.Counter()

    def walk(graph):
        for n in graph.node:
            ops[n.op_type] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
    walk(m.graph)
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    return dict(g, package="(made here)", version="recipe " + RECIPE, opset=opset, kind="fashion",
                bytes=os.path.getsize(path), producer="pytorch " + m.producer_version,
                inputs=[{"name": "input", "dtype": "float", "dims": ["batch", 1, 28, 28]}], ops=dict(sorted(ops.items())))


def ensure(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    stamp = os.path.join(out_dir, "generated.json")
    made = json.load(open(stamp)) if os.path.exists(stamp) else {}
    tr = None
    for g in GENERATED:
        path = os.path.join(out_dir, g["id"] + ".onnx")
        if made.get(g["id"]) == RECIPE and os.path.exists(path):
            continue
        if tr is None:
            import torch
            torch.set_num_threads(1)
            tr = _train_module()
        model = _load_zoo(tr, g["zoo"])
        if g.get("prelu"):
            model = _prelu(tr, model)
        _export(model, path + ".part", g["opset"])
        os.replace(path + ".part", path)
        made[g["id"]] = RECIPE
        with open(stamp, "w") as f:
            json.dump(made, f)
    return [_entry(g, os.path.join(out_dir, g["id"] + ".onnx")) for g in GENERATED]


def fashion(n, seed):
    """n Fashion-MNIST test images, normalized as the zoo was trained:
    [1, 1, 28, 28] float32 each (a seeded choice among the 10,000)."""
    tr = _train_module()
    x_u8, _ = tr.load_split("t10k")
    idx = np.random.default_rng(seed).choice(x_u8.shape[0], n, replace=False)
    return [tr.normalize(x_u8[i:i + 1]).numpy() for i in idx]


if __name__ == "__main__":
    import sys
    for e in ensure(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "benchmarks", ".corpus", "generated")):
        print(e["id"], e["opset"], e["bytes"], e["ops"])
