#!/bin/sh
# Runs one libFuzzer target of a build configured with clang and -DLC_FUZZ=ON
# for SECONDS (at the lowest CPU priority, or FUZZ_NICE), starting from its seed corpus;
# new interesting inputs go to the build's fuzz/work_NAME folder, crashes to
# fuzz/artifacts_NAME/. Extra arguments are passed to libFuzzer.
#   CC=clang cmake -S . -B build-fuzz -DLC_FUZZ=ON -DLC_BUILD_BENCHMARKS=OFF
#   cmake --build build-fuzz -j2 --target fuzz_onnx fuzz_onnx_corpus
#   tests/fuzz/run.sh build-fuzz/tests/fuzz_onnx 1200
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [LIBFUZZER_OPTION...]" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(dirname "$target")
name=$(basename "$target")
name=${name#fuzz_}
corpus="$dir/fuzz/corpus_$name"
work="$dir/fuzz/work_$name"
artifacts="$dir/fuzz/artifacts_$name/"
mkdir -p "$work" "$artifacts"
[ -f "$corpus/.stamp" ] || { echo "$0: no seed corpus at $corpus (build the fuzz_${name}_corpus target)" >&2; exit 2; }
case $name in
    onnx) max_len=1200000 ;;   # the zoo models are seeds too
    lcm) max_len=262144 ;;
    *) max_len=65536 ;;
esac
dict=
[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
# a hostile model may ask for a huge tensor: malloc returns NULL above 1 GB
# (the library must then fail cleanly) instead of ending the run
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec nice -n "${FUZZ_NICE:-19}" "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len="$max_len" -timeout=25 -print_final_stats=1 $dict \
    -artifact_prefix="$artifacts" "$@" "$work" "$corpus"
