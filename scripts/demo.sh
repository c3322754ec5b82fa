#!/usr/bin/env bash
# The main job: compress the bundled zoo LeNet-5 in auto mode (shrink picks
# each layer's sparsity and bits for the smallest .lcm whose top-1 drop on
# Fashion-MNIST stays within 0.5 point at 95% confidence), print the report,
# then check the drop on 8,000 test images the pipeline never saw.
# Installs what is missing and builds first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$root/build"
data="$root/build/demo"
mkdir -p "$data"
[[ -f "$data/test_u8.npy" ]] || /usr/bin/python3 "$root/benchmarks/zoo/make_test_data.py" --out "$data" >/dev/null
# validation: the first 2,000 test images; held out: the other 8,000
[[ -f "$data/heldout_u8.npy" ]] || /usr/bin/python3 - "$data" <<'PY'
import sys, numpy as np
d = sys.argv[1]
x, y = np.load(d + "/test_u8.npy"), np.load(d + "/test_labels.npy")
np.save(d + "/val_u8.npy", x[:2000]); np.save(d + "/val_labels.npy", y[:2000])
np.save(d + "/heldout_u8.npy", x[2000:]); np.save(d + "/heldout_labels.npy", y[2000:])
PY
shrink="$root/build/shrink"
"$root/build/shrink" run "$root/benchmarks/zoo/lenet5.onnx" -o "$data/lenet5.lcm" \
  --calib "$data/calib_u8.npy" --val "$data/val_u8.npy" --labels "$data/val_labels.npy" \
  --max-drop 0.5 --mean 0.2860 --std 0.3530 --seed 0 --report "$data/report.json"
top1() { "$shrink" eval "$1" --data "$data/heldout_u8.npy" --labels "$data/heldout_labels.npy" \
           --mean 0.2860 --std 0.3530 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["top1"])'; }
f=$(top1 "$root/benchmarks/zoo/lenet5.onnx")
c=$(top1 "$data/lenet5.lcm")
/usr/bin/python3 -c "import sys; f, c = map(float, sys.argv[1:]); print('held out (8,000 test images never validated on): float %.2f%%, compressed %.2f%%, drop %.2f point' % (f, c, f - c))" "$f" "$c"
