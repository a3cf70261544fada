#!/usr/bin/env bash
# bench-dims.sh: images per second of the DIMS engine next to the tools mod_dims and the media
# server build on, in one run on the same files:
#   resize   a 4000x3000 JPEG to 500x375 (decode, resample, encode): drmpack vs ImageMagick
#            `convert -resize` (its default Lanczos, all cores via OpenMP), the same with
#            libjpeg's shrink-on-load (-define jpeg:size), and libvips' vipsthumbnail when
#            installed (apt-get install libvips-tools), the C library a cgo build would use;
#            then the same with the file re-coded as a progressive JPEG (jpegtran -progressive)
#   optimize JPEGs of 16 KB to 1 MB written without Huffman optimisation (cjpeg's default):
#            drmpack's /optimize vs `jpegtran -optimize`, with the bytes each saves
# drmpack runs through `go test -bench` (packager/dims/bench_test.go); the tools run in a loop
# of the same length. Inputs are generated once into $BENCH_DIR (default /tmp/drmpack-bench-dims).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/drmpack-bench-dims}
seconds=${BENCH_SECONDS:-3}
mkdir -p "$work/opt"

convert=$(command -v convert-im6.q16 || command -v convert || true)
[[ -n $convert ]] || { echo "needs ImageMagick: apt-get install -y imagemagick" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
for tool in jpegtran cjpeg; do
  command -v $tool >/dev/null || { echo "needs $tool: apt-get install -y libjpeg-turbo-progs" >&2; exit 1; }
done

big=$work/big_4000x3000.jpg
if [[ ! -f $big ]]; then
  echo "making $big ..." >&2
  # Plasma fractal: smooth areas and fine detail like a photograph, reproducible by its seed.
  "$convert" -seed 7 -size 4000x3000 plasma:fractal -quality 90 "$big"
fi

progressive=$work/big_4000x3000_progressive.jpg
[[ -f $progressive ]] || jpegtran -progressive -outfile "$progressive" "$big"

# One JPEG per target size, its area scaled by the bytes per pixel of the previous try (three
# tries land within a few per cent), written by cjpeg at quality 85 with the standard Huffman
# tables, as most cameras and CMSs write them.
make_jpeg() { "$convert" "$big" -resize "$2!" ppm:- | cjpeg -quality 85 >"$1"; }
for kb in 16 32 64 128 256 512 1024; do
  f=$work/opt/$(printf %04d "$kb")k.jpg
  [[ -f $f ]] && continue
  w=800
  for _ in 1 2 3; do
    make_jpeg "$f" "${w}x$(( w * 3 / 4 ))"
    w=$(awk -v w="$w" -v want=$(( kb * 1024 )) -v got="$(stat -c %s "$f")" 'BEGIN { printf "%d", w * sqrt(want / got) }')
  done
done

# rate CMD...: runs CMD in batches, doubling until a batch lasts $seconds, and prints runs per
# wall-clock second and CPU milliseconds per run (user+system, all threads) of the last batch.
# The batch runs under GNU time in one shell, so the loop adds no processes of its own; each run
# still pays the tool's process start (about a millisecond on an idle machine).
rate() {
  local n=1 wall cpu
  while :; do
    read -r wall cpu < <(/usr/bin/time -f "%e %U %S" bash -c 'for ((i = 0; i < $0; i++)); do "$@" >/dev/null; done' "$n" "$@" 2>&1 >/dev/null | tail -1 | awk '{ print $1, $2 + $3 }')
    if awk -v w="$wall" -v s="$seconds" 'BEGIN { exit !(w >= s) }'; then break; fi
    n=$(( n * 2 ))
  done
  awk -v n="$n" -v w="$wall" -v c="$cpu" 'BEGIN { printf "%.1f %.1f", n / w, 1000 * c / n }'
}

echo "running go test -bench ..." >&2
bench=$(cd "$root" && DIMS_BENCH_JPEG=$big DIMS_BENCH_PROGRESSIVE_JPEG=$progressive DIMS_BENCH_OPT_DIR=$work/opt \
  go test -run '^$' -bench 'BenchmarkResize$|BenchmarkResizeProgressive|BenchmarkOptimize|BenchmarkResampleOnly' -benchtime "${seconds}s" ./packager/dims/)
metric() { awk -v name="$1" -v unit="$2" '$1 ~ name { for (i = 2; i <= NF; i++) if ($i == unit) print $(i - 1) }' <<<"$bench" | head -1; }
nsop() { awk -v name="$1" '$1 ~ name { for (i = 2; i <= NF; i++) if ($i == "ns/op") printf "%.1f", 1e9 / $(i - 1) }' <<<"$bench" | head -1; }

echo
echo "CPU: $(nproc) x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); $($convert -version | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "images/s is wall clock; cpu-ms is user+system CPU per image (all threads), steadier on a shared machine"
echo
printf "%-46s %9s %8s %11s\n" "resize 4000x3000 JPEG -> 500x375 JPEG" "images/s" "cpu-ms" "vs drmpack"
d=$(metric 'BenchmarkResize-' images/s)
row() { printf "%-46s %9s %8s %11s\n" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$d" 'BEGIN { printf "%.2fx", a / b }')"; }
# shrink_on_load_rows FILE: ImageMagick with libjpeg's shrink-on-load and vipsthumbnail on FILE.
shrink_on_load_rows() {
  read -r c cc <<<"$(rate "$convert" -define jpeg:size=1000x750 "$1" -resize 500x375 "$work/im_resize.jpg")"
  row "ImageMagick convert, shrink-on-load" "$c" "$cc"
  if command -v vipsthumbnail >/dev/null; then
    read -r c cc <<<"$(rate vipsthumbnail "$1" -s 500x375 -o "$work/vips_resize.jpg")"
    row "libvips $(vips --version | cut -d- -f2) vipsthumbnail" "$c" "$cc"
  fi
}
row "drmpack (pure Go, Lanczos-3)" "$d" "$(metric 'BenchmarkResize-' cpu-ms/image)"
read -r c cc <<<"$(rate "$convert" "$big" -resize 500x375 "$work/im_resize.jpg")"
row "ImageMagick convert -resize" "$c" "$cc"
shrink_on_load_rows "$big"
echo
printf "%-46s %9s %8s %11s\n" "the same JPEG re-coded progressive (jpegtran)" "images/s" "cpu-ms" "vs drmpack"
d=$(metric 'BenchmarkResizeProgressive-' images/s)
row "drmpack (pure Go, Lanczos-3)" "$d" "$(metric 'BenchmarkResizeProgressive-' cpu-ms/image)"
shrink_on_load_rows "$progressive"
echo
printf "%-46s %9s\n" "resample only (decoded RGBA): Lanczos-3, ours" "$(nsop 'ResampleOnly/lanczos3')"
printf "%-46s %9s\n" "resample only: x/image/draw CatmullRom" "$(nsop 'ResampleOnly/xdraw-catmullrom')"
echo
printf "%-10s %9s %10s %8s %11s %8s %7s %9s %9s\n" "optimize" "bytes" "drmpack/s" "cpu-ms" "jpegtran/s" "cpu-ms" "ratio" "drmpack%" "jpegtran%"
for f in "$work"/opt/*.jpg; do
  name=$(basename "$f")
  size=$(stat -c %s "$f")
  d=$(metric "BenchmarkOptimize/$name" images/s)
  dc=$(metric "BenchmarkOptimize/$name" cpu-ms/image)
  ds=$(metric "BenchmarkOptimize/$name" %saved)
  read -r c cc <<<"$(rate jpegtran -optimize -outfile "$work/jt.jpg" "$f")"
  js=$(awk -v a="$size" -v b="$(stat -c %s "$work/jt.jpg")" 'BEGIN { printf "%.2f", 100 * (1 - b / a) }')
  printf "%-10s %9s %10s %8s %11s %8s %7s %9s %9s\n" "$name" "$size" "$d" "$dc" "$c" "$cc" "$(awk -v a="$d" -v b="$c" 'BEGIN { printf "%.2fx", a / b }')" "$ds" "$js"
done
