#!/usr/bin/env bash
# screenshot.sh [OUT.png]: starts the real window (not the headless test driver) under Xvfb with
# the bundled sample in its list and saves a screenshot of the screen (default docs/window.png).
# It ticks HLS and presses DRM Packaging (xdotool), so the picture shows a finished run: statuses,
# progress and the manual's log lines. Needs: xvfb, imagemagick (import), xdotool, a Hangul font
# for Korean names (fonts-nanum), Fyne's cgo headers (scripts/test.sh installs those).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/window.png}
sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
pkgs=()
command -v Xvfb >/dev/null || pkgs+=(xvfb)
command -v import >/dev/null || pkgs+=(imagemagick)
command -v xdotool >/dev/null || pkgs+=(xdotool)
fc-list :lang=ko 2>/dev/null | grep -q . || pkgs+=(fonts-nanum)
if ((${#pkgs[@]})); then
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/drmpack-gui" .
display=:97
Xvfb $display -screen 0 1280x860x24 -nolisten tcp &
xvfb=$!
sleep 1
# A private config folder: the screenshot shows defaults, not the developer's settings.
mkdir -p "$tmp/cfg" "$tmp/out"
printf '{"outDir": "%s"}\n' "$tmp/out" > "$tmp/cfg/settings.json"
cp assets/sample.mp4 "$tmp/sample.mp4"
cp assets/sample.mp4 "$tmp/한글 제목 01.mp4"
DISPLAY=$display DRMPACK_CONFIG_DIR="$tmp/cfg" DRMPACK_LOG_DIR="$tmp" DRMPACK_SECRETS=file \
  FYNE_SCALE=1 "$tmp/drmpack-gui" "$tmp/sample.mp4" "$tmp/한글 제목 01.mp4" &
app=$!
sleep 6
# The window is 1100×760 at the screen's top left (Fyne's default placement under Xvfb): tick
# HLS, then press DRM Packaging, and wait for the two files to finish.
DISPLAY=$display xdotool mousemove 392 371 click 1
DISPLAY=$display xdotool mousemove 930 410 click 1
sleep 8
DISPLAY=$display import -window root -crop 1100x760+0+0 "$out"
echo "wrote $out"
