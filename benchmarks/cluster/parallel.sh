#!/usr/bin/env bash
# A sensitivity study split into jobs and run by GNU parallel on this
# machine (or, with parallel's --sshlogin, on several), then merged into
# exactly what one `shrink sensitivity` prints.
#   usage: benchmarks/cluster/parallel.sh [SLOTS]   (variables: study.env)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/study.env"
slots=${1:-$(nproc)}
# shellcheck disable=SC2086
"$SHRINK" sensitivity "$MODEL" $STUDY_ARGS --plan "$JOB_DIR.jsonl"
n=$(wc -l < "$JOB_DIR.jsonl")
# shellcheck disable=SC2086
seq 0 $((n - 1)) | parallel -j "$slots" --halt now,fail=1 \
  "$SHRINK" sensitivity "$MODEL" $STUDY_ARGS --threads 1 --job {} --job-dir "$JOB_DIR"
# shellcheck disable=SC2086
"$SHRINK" sensitivity "$MODEL" $STUDY_ARGS --merge "$JOB_DIR" --json
