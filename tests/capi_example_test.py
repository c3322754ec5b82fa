"""The header's example is tests/capi_example.c verbatim, and what it
computes is right: run on LeNet-300-100, the .lcm it writes (decoded back to
ONNX by `shrink decode`, read with onnx + numpy) keeps exactly the 20% of
each weight with the largest magnitudes, in at most 15 distinct nonzero
values, and the sparsity it printed is the one numpy counts."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

src = os.environ["LC_SOURCE_DIR"]
shrink = os.environ["SHRINK"]
example = sys.argv[1]

# 1. the header shows exactly the code that is built and run here
header = open(os.path.join(src, "libcompress/include/libcompress.h")).read().split("\n")
start = next(i for i, l in enumerate(header) if l.startswith(" *     #include <stdio.h>"))
end = next(i for i in range(start, len(header)) if header[i] != " *" and not header[i].startswith(" *     "))
shown = [l[7:] if l.startswith(" *     ") else "" for l in header[start:end]]
while shown and not shown[-1]:
    shown.pop()
code = open(os.path.join(src, "tests/capi_example.c")).read().rstrip("\n").split("\n")
if shown != code:
    for a, b in zip(shown, code):
        if a != b:
            print(f"header: {a!r}\nfile:   {b!r}")
            break
    sys.exit("the example in libcompress.h differs from tests/capi_example.c")

# 2. what it computes
model = os.path.join(src, "benchmarks/zoo/lenet300.onnx")
with tempfile.TemporaryDirectory() as tmp:
    lcm, back = os.path.join(tmp, "out.lcm"), os.path.join(tmp, "back.onnx")
    out = subprocess.run([example, model, lcm], check=True, capture_output=True, text=True).stdout
    subprocess.run([shrink, "decode", lcm, "-o", back], check=True, capture_output=True)
    orig = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}
    comp = {t.name: numpy_helper.to_array(t) for t in onnx.load(back).graph.initializer}

rows = re.findall(r"^(\S+): (\d+) weights, sparsity ([0-9.]+), (\d+)-bit codes$", out, flags=re.M)
names = [r[0] for r in rows]
if names != ["net.1.weight", "net.3.weight", "net.5.weight"]:
    sys.exit(f"unexpected output:\n{out}")
for name, numel, sparsity, bits in rows:
    w0, w = orig[name].ravel(), comp[name].ravel()
    k = int(round(0.8 * w0.size))
    kept = np.zeros(w0.size, bool)
    kept[np.argsort(np.abs(w0), kind="stable")[k:]] = True
    zeros = int(np.sum(w == 0))
    checks = [
        (int(numel) == w0.size, f"{name}: printed {numel} weights, the model has {w0.size}"),
        (zeros == k, f"{name}: {zeros} zeros, expected {k}"),
        (np.array_equal(w != 0, kept), f"{name}: the kept weights are not the largest 20%"),
        (len(np.unique(w[w != 0])) <= 15, f"{name}: {len(np.unique(w[w != 0]))} distinct nonzero values"),
        (abs(float(sparsity) - zeros / w.size) < 5e-5, f"{name}: printed sparsity {sparsity}, numpy {zeros / w.size}"),
        (int(bits) == 4, f"{name}: {bits}-bit codes"),
    ]
    for ok, msg in checks:
        if not ok:
            sys.exit(msg)
    print(f"{name}: sparsity {zeros / w.size:.4f}, {len(np.unique(w[w != 0]))} values: ok")
