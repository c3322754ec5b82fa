#!/usr/bin/env bash
# The whole test suite: a normal build, then everything again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Installs what is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

echo "== build (RelWithDebInfo) =="
"$root/scripts/build.sh" "$root/build"
"$root/scripts/setup_ort.sh"
"$root/scripts/setup_corpus.sh"
echo "== tests =="
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

echo "== build (ASan + UBSan) =="
"$root/scripts/build.sh" "$root/build-asan" -DLC_SANITIZE=ON -DLC_BUILD_BENCHMARKS=OFF
echo "== tests under sanitizers =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs"
