#!/usr/bin/env bash
# Installs the Debian 12 packages shrink needs to build, test and benchmark.
# Idempotent and quiet when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  libopenblas-dev liblapacke-dev libcjson-dev check zlib1g-dev
  python3 python3-numpy python3-onnx python3-torch python3-torchvision python3-sklearn
  python3-scipy python3-venv python3-setuptools python3-pip
  parallel yamllint
  libonnx-testdata dataset-fashion-mnist chromium
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "setup: these Debian packages are missing: ${missing[*]}" >&2
  echo "setup: run this script as root (or with password-less sudo) to install them:" >&2
  echo "       sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
