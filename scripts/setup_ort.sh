#!/usr/bin/env bash
# Installs ONNX Runtime for the interop tests and benchmarks: the npm package
# onnxruntime-node (it ships its native library) into benchmarks/.ort/, at the
# version benchmarks/ort/package.json pins. Node.js and npm come from Debian
# when missing. Idempotent and quiet when all is present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/benchmarks/.ort"
version=$(sed -n 's/.*"onnxruntime-node": *"\([^"]*\)".*/\1/p' "$root/benchmarks/ort/package.json")
installed="$dest/node_modules/onnxruntime-node/package.json"
if [[ -f "$installed" ]] && grep -q "\"version\": *\"$version\"" "$installed"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup_ort: npm is missing; run as root (or install Debian's nodejs and npm)" >&2
    exit 1
  fi
  echo "setup_ort: installing Debian's nodejs and npm" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
fi
echo "setup_ort: installing onnxruntime-node@$version into benchmarks/.ort" >&2
# The install script would download GPU libraries (and fail offline): skip it.
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-audit --no-fund --loglevel=error \
  --prefix "$dest" "onnxruntime-node@$version" >/dev/null
