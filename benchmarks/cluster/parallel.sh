#!/usr/bin/env bash
# A study split into jobs and run by GNU parallel on this machine (or, with
# parallel's --sshlogin, on several) in SLOTS slices (--jobs K..M), then
# merged into exactly what one process gives: `shrink sensitivity`
# (study.env) or a `shrink run --target-size`/auto-mode search
# (STUDY_ENV=benchmarks/cluster/target.env).
#   usage: benchmarks/cluster/parallel.sh [SLOTS]   (variables: study.env)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=study.env
source "${STUDY_ENV:-$here/study.env}"
slots=${1:-$(nproc)}
# shellcheck disable=SC2086
"$SHRINK" $COMMAND "$MODEL" $STUDY_ARGS --plan "$JOB_DIR.jsonl"
n=$(wc -l < "$JOB_DIR.jsonl")
(( slots > n )) && slots=$n
# slice s: jobs s*n/slots .. (s+1)*n/slots - 1
slices=()
for ((s = 0; s < slots; s++)); do slices+=("$((s * n / slots))..$(((s + 1) * n / slots - 1))"); done
# shellcheck disable=SC2086
parallel -j "$slots" --halt now,fail=1 \
  "$SHRINK" $COMMAND "$MODEL" $STUDY_ARGS --threads 1 --jobs {} --job-dir "$JOB_DIR" ::: "${slices[@]}"
# shellcheck disable=SC2086
"$SHRINK" $COMMAND "$MODEL" $STUDY_ARGS --merge "$JOB_DIR" $MERGE_ARGS
