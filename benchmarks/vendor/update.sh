#!/bin/sh
# Refresh the layout engines the map benchmark compares ours with (benchmarks/bench_map_layout.py),
# from the npm registry: `sh benchmarks/vendor/update.sh [elkjs-version] [dagre-version]`.
# Needs npm only when run; the benchmark itself needs no npm or node.
set -eu
ELK=${1:-0.12.2}
DAGRE=${2:-3.1.4}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "elkjs@$ELK" "@dagrejs/dagre@$DAGRE" >/dev/null
mkdir elk dagre
tar xzf "elkjs-$ELK.tgz" -C elk
tar xzf "dagrejs-dagre-$DAGRE.tgz" -C dagre
rm -rf "$HERE/elkjs" "$HERE/dagre"
mkdir -p "$HERE/elkjs" "$HERE/dagre"
cp elk/package/lib/elk.bundled.js elk/package/LICENSE.md "$HERE/elkjs/"
cp dagre/package/dist/dagre.esm.js dagre/package/dist/dagre.esm.js.LEGAL.txt dagre/package/LICENSE "$HERE/dagre/"
printf 'elkjs %s\n@dagrejs/dagre %s\n' "$ELK" "$DAGRE" >"$HERE/VERSIONS"
