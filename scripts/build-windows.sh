#!/usr/bin/env bash
# build-windows.sh [OUTDIR]: cross-builds the Windows window app (drmpack-gui.exe, cgo with
# mingw-w64, no console window) and the CLI (drmpack.exe, no cgo) for amd64. Installs
# gcc-mingw-w64-x86-64 when missing. About 6 minutes cold on two cores, seconds when cached.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/windows}
sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null
fi
mkdir -p "$out"
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
  go build -ldflags "-s -w -H windowsgui" -o "$out/drmpack-gui.exe" .
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -ldflags "-s -w" -o "$out/drmpack.exe" ./cmd/drmpack
# A PE32+ header, not just any file: the build really targets Windows.
for f in "$out"/drmpack-gui.exe "$out"/drmpack.exe; do
  head -c 2 "$f" | grep -q MZ || { echo "$f is not a Windows executable" >&2; exit 1; }
done
ls -l "$out"
