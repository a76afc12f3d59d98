#!/usr/bin/env bash
# Peak RSS of `ipp3d check` on a 200 MB and a 1 GB file built from the shared
# PLA samples (bunny + torus, repeated; every copy is accepted).
# Usage: bench/peak_rss.sh [BUILD_DIR]   (default build; needs /usr/bin/time: scripts/install-deps)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
client="$build_dir/bin/ipp3d"
samples=../shared/testdata/gcode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat "$samples/bunny-prusaslicer-klipper.gcode" "$samples/torus-curaengine-marlin.gcode" >"$work/unit.gcode"
build_corpus() {  # build_corpus FILE MEGABYTES
  local target=$(($2 * 1000 * 1000))
  : >"$1"
  while [ "$(stat -c %s "$1")" -lt "$target" ]; do cat "$work/unit.gcode" >>"$1"; done
}

for size in 200 1000; do
  file="$work/corpus-$size.gcode"
  build_corpus "$file" "$size"
  start=$(date +%s.%N)
  rss=$(/usr/bin/time -f %M "$client" check "$file" --config docs/examples/ipp3d-server.toml \
    --material pla-generic 2>&1 >/dev/null | tail -1)
  end=$(date +%s.%N)
  bytes=$(stat -c %s "$file")
  echo "$((bytes / 1000000)) MB: peak RSS ${rss} KiB, $(echo "$end - $start" | bc) s wall"
done
