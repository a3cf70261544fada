#!/usr/bin/env bash
# test.sh: installs what the tests need on a Debian machine (ffmpeg as the independent decoder,
# Chromium for shaka-player/dash.js playback, xmllint for the DASH schema, libjpeg-turbo and
# ImageMagick for the image code, Fyne's cgo headers, the pinned npm packages), then runs every
# Go test. Safe to re-run: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

pkgs=()
command -v ffmpeg >/dev/null || pkgs+=(ffmpeg)
command -v chromium >/dev/null || pkgs+=(chromium)
command -v xmllint >/dev/null || pkgs+=(libxml2-utils)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
# Independent JPEG tools judge the image code: djpeg/cjpeg/jpegtran, and ImageMagick's geometry.
command -v djpeg >/dev/null || pkgs+=(libjpeg-turbo-progs)
dpkg-query -W -f='${Status}' imagemagick 2>/dev/null | grep -q 'install ok installed' || pkgs+=(imagemagick)
# The GUI (Fyne) builds with cgo: a C compiler, pkg-config, and the OpenGL, X11 and Wayland headers.
command -v gcc >/dev/null || pkgs+=(gcc)
command -v pkg-config >/dev/null || pkgs+=(pkg-config)
for pkg in libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev \
  libxxf86vm-dev libwayland-dev libxkbcommon-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$pkg")
done
if ((${#pkgs[@]})); then
  echo "installing: ${pkgs[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
if [[ ! -d node_modules/shaka-player || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
# The origin server's /_preview/ page embeds the player builds (go:embed).
scripts/preview-assets.sh

go vet ./...
# The CLI must build without cgo (servers, batch systems).
CGO_ENABLED=0 go build -o /dev/null ./cmd/drmpack
# The Windows window app cross-builds with mingw-w64 (and the CLI for Windows without cgo).
windows=$(mktemp -d)
scripts/build-windows.sh "$windows" >/dev/null
rm -rf "$windows"
go test -count=1 "$@" ./...
# The job queue, the shared sample reads of DASH+HLS, the scaled JPEG decoder (IDCT beside the
# Huffman decoding, progressive scans in parallel) and the window are where goroutines meet: run
# them again under the race detector.
go test -race -count=1 ./packager ./packager/demux ./packager/jpegscale ./ui
