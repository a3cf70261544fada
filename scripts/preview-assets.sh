#!/usr/bin/env bash
# preview-assets.sh: copies the npm player builds the /_preview/ page uses (shaka-player for
# DASH with ClearKey, hls.js for HLS) into packager/server/preview/assets, where go:embed builds
# them into the binary. Run `npm ci` first; run this before `go build` for a binary with a
# working preview page (without it the page says that the assets are missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for f in node_modules/shaka-player/dist/shaka-player.compiled.js node_modules/hls.js/dist/hls.min.js; do
  [[ -f $f ]] || { echo "missing $f: run npm ci" >&2; exit 1; }
  cp "$f" packager/server/preview/assets/
done
