#!/usr/bin/env bash
# The main job: compress the bundled zoo LeNet-5 with a Deep-Compression-style
# recipe (Hessian pruning -> 4-bit k-means -> Huffman, .lcm output) on
# Fashion-MNIST within a 0.5-point top-1 budget, and print the report.
# Installs what is missing and builds first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$root/build"
data="$root/build/demo"
mkdir -p "$data"
[[ -f "$data/test_u8.npy" ]] || /usr/bin/python3 "$root/benchmarks/zoo/make_test_data.py" --out "$data" >/dev/null
"$root/build/shrink" run "$root/benchmarks/zoo/lenet5.onnx" -o "$data/lenet5.lcm" \
  --recipe "$root/benchmarks/recipes/deep_compression.json" \
  --calib "$data/calib_u8.npy" --val "$data/test_u8.npy" --labels "$data/test_labels.npy" \
  --mean 0.2860 --std 0.3530 --seed 0 --report "$data/report.json"
