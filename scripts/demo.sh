#!/usr/bin/env bash
# The main job on the bundled default model. Installs what is missing and
# builds first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$root/build"
"$root/build/shrink" info "$root/benchmarks/zoo/lenet5.onnx"
