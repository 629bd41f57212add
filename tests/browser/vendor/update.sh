#!/bin/sh
# Refresh axe-core from the npm registry: `sh tests/browser/vendor/update.sh [version]`.
set -eu
AXE=${1:-4.14.1}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "axe-core@$AXE" >/dev/null
tar xzf "axe-core-$AXE.tgz"
rm -rf "$HERE/axe-core"
mkdir -p "$HERE/axe-core"
cp package/axe.min.js package/LICENSE "$HERE/axe-core/"
printf 'axe-core %s\n' "$AXE" >"$HERE/VERSIONS"
