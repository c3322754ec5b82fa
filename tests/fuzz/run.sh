#!/bin/sh
# Runs a libFuzzer target of a build configured with clang and -DLC_FUZZ=ON
# for SECONDS, starting from its seed corpus; crashes land in the build's
# fuzz/artifacts folder.
#   CC=clang cmake -S . -B build-fuzz -DLC_FUZZ=ON -DLC_BUILD_BENCHMARKS=OFF
#   cmake --build build-fuzz -j2 --target fuzz_lcm fuzz_lcm_corpus
#   tests/fuzz/run.sh build-fuzz/tests/fuzz_lcm 300
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 TARGET SECONDS" >&2
    exit 2
fi
target=$1
seconds=$2
dir=$(dirname "$target")
corpus="$dir/fuzz/corpus_lcm"
work="$dir/fuzz/work_lcm"
artifacts="$dir/fuzz/artifacts/"
mkdir -p "$work" "$artifacts"
[ -d "$corpus" ] || { echo "$0: no seed corpus at $corpus (build the fuzz_lcm_corpus target)" >&2; exit 2; }
exec "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 \
    -artifact_prefix="$artifacts" "$work" "$corpus"
