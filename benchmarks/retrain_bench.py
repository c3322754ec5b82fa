#!/usr/bin/python3
"""Deep Compression with retraining on the LeNets (Fashion-MNIST), through
the Python binding: bindings/python/examples/retrain.py at full length.

    /usr/bin/python3 benchmarks/retrain_bench.py [--build build] [--models lenet300,lenet5]
                                                 [--prune-steps N] [--share-steps N] [--json OUT]

Goal (issue 8): >= 40x size reduction (.onnx / .lcm) with <= 0.5 point
top-1 drop on the 10000 test images. The float top-1 is PyTorch's on the
zoo weights (equal to `shrink eval` of the zoo .onnx); the final top-1 is
`shrink eval` of the written .lcm. Prints a markdown table.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"), help="build folder (libcompress.so, shrink)")
    ap.add_argument("--models", default="lenet300,lenet5")
    ap.add_argument("--prune-steps", type=int, default=None, help="override every model's pruning steps")
    ap.add_argument("--share-steps", type=int, default=None, help="override every model's sharing steps")
    ap.add_argument("--json", help="write every run's summary here")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    os.environ.setdefault("LIBCOMPRESS_PATH", os.path.join(build, "libcompress.so"))
    os.environ.setdefault("SHRINK", os.path.join(build, "shrink"))
    sys.path.insert(0, os.path.join(SRC, "bindings", "python", "examples"))
    import retrain  # noqa: E402

    # steps at batch 128: 60000 images are 469 steps per epoch
    plans = {"lenet300": dict(prune_steps=3000, share_steps=1500),
             "lenet5": dict(prune_steps=10000, share_steps=3000)}
    runs = []
    for model in a.models.split(","):
        kw = dict(plans[model])
        if a.prune_steps is not None:
            kw["prune_steps"] = a.prune_steps
        if a.share_steps is not None:
            kw["share_steps"] = a.share_steps
        res = retrain.run(model, None, retrain.DEFAULTS[model], log=lambda s: print(s, file=sys.stderr), **kw)
        runs.append(res)
        print(f"{model}: {json.dumps({k: v for k, v in res.items() if k != 'layers'})}", file=sys.stderr)

    print("| model | .onnx bytes | .lcm bytes | ratio | top-1 float | top-1 pruned, no retraining | "
          "top-1 final (.lcm) | drop | train steps (prune + share) | train s (wall / CPU) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        print(f"| {r['model']} | {r['onnx_bytes']} | {r['lcm_bytes']} | {r['ratio']:.1f}x | {r['top1_float']:.2f} | "
              f"{r['top1_pruned_no_retrain']:.2f} | {r['top1_lcm']:.2f} | {r['drop']:.2f} | "
              f"{r['prune_steps']} + {r['share_steps']} | {r['train_seconds']:.0f} / {r['train_cpu_seconds']:.0f} |")
    print()
    print("| model | layer | shape | sparsity | bits | kept | distinct nonzero values |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for r in runs:
        for name, L in r["layers"].items():
            print(f"| {r['model']} | {name} | {'x'.join(map(str, L['shape']))} | {L['sparsity']:.3f} | {L['bits']} | "
                  f"{L['kept']} | {L['distinct_nonzero']} |")
    met = [r for r in runs if r["ratio"] >= 40 and r["drop"] <= 0.5]
    print()
    print(f"goal (>= 40x, <= 0.5 point drop) met for {len(met)} of {len(runs)} models: "
          f"{', '.join(r['model'] for r in met) or 'none'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=2)


if __name__ == "__main__":
    main()
