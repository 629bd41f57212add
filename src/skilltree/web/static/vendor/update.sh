#!/bin/sh
# Refresh uPlot from the npm registry: `sh src/skilltree/web/static/vendor/update.sh [version]`.
set -eu
UPLOT=${1:-1.6.32}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "uplot@$UPLOT" >/dev/null
tar xzf "uplot-$UPLOT.tgz"
rm -rf "$HERE/uplot"
mkdir -p "$HERE/uplot"
cp package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE "$HERE/uplot/"
printf 'uplot %s\n' "$UPLOT" >"$HERE/VERSIONS"
