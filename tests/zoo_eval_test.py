"""shrink eval on the zoo reproduces PyTorch's predicted labels.

For every model in benchmarks/zoo/zoo.json: run `shrink eval --out` on the
10k Fashion-MNIST test images and check that the arg-max of our logits equals
PyTorch's prediction (benchmarks/zoo/<name>.pred.npy) on at least 99.95% of
the images, and that our top-1 equals zoo.json's within 0.05 point."""
import json
import os
import subprocess
import sys

import numpy as np

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
OUT = os.path.join(os.environ["LC_BUILD_DIR"], "zoo-eval")
ZOO = os.path.join(SRC, "benchmarks", "zoo")


def main():
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(os.path.join(OUT, "test_u8.npy")):
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", OUT], check=True,
                       stdout=subprocess.DEVNULL)
    zoo = json.load(open(os.path.join(ZOO, "zoo.json")))["models"]
    failures = 0
    for name, info in sorted(zoo.items()):
        norm = info["normalization"]
        logits = os.path.join(OUT, name + ".logits.npy")
        cmd = [SHRINK, "eval", os.path.join(ZOO, info["file"]), "--data", os.path.join(OUT, "test_u8.npy"),
               "--labels", os.path.join(OUT, "test_labels.npy"), "--mean", str(norm["mean"]), "--std",
               str(norm["std"]), "--out", logits, "--json"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"FAIL {name}: shrink eval exited {res.returncode}: {res.stderr.strip()}")
            failures += 1
            continue
        report = json.loads(res.stdout)
        ours = np.load(logits).argmax(axis=1)
        torch_pred = np.load(os.path.join(ZOO, info["pred"]))
        agree = float((ours == torch_pred).mean())
        ok = agree >= 0.9995 and abs(report["top1"] - 100 * info["top1"]) <= 0.05 and report["samples"] == 10000
        print(f"{'ok  ' if ok else 'FAIL'} {name}: agreement with PyTorch {100 * agree:.2f}%, top-1 "
              f"{report['top1']:.2f}% (PyTorch {100 * info['top1']:.2f}%)")
        failures += not ok
    print(f"{len(zoo) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
