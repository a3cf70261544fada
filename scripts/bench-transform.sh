#!/usr/bin/env bash
# bench-transform.sh [INPUT.mp4]: times the media operations on one large MP4 whose moov is at
# the end (default: the ~1 GB file scripts/bench.sh makes; run that once first, or pass a file),
# next to what ffmpeg does for the same job, in the same run:
#   faststart:  drmpack faststart        vs  ffmpeg -c copy -movflags +faststart  (and cp)
#   trim:       drmpack trim --start --end  vs  ffmpeg -ss -to -c copy
# Each command runs ROUNDS times (default 3) after a sync; the median is reported with MB/s of
# the bytes it wrote and its peak RSS. The page cache is warmed first, so the numbers compare
# the tools, not the disk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/drmpack-bench}
big=${1:-$work/big_1024mb.mp4}
[[ -f $big ]] || { echo "no input $big: run scripts/bench.sh first or pass an MP4" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
source "$root/scripts/lib/bench.sh"
build_drmpack "$work"
cat "$big" > /dev/null

dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$big")
start=$(echo "$dur/4" | bc)
end=$(echo "$dur*3/4" | bc)
timed() { # name output command...: run's median seconds and peak RSS, then the bytes written
  local name=$1 output=$2; shift 2
  run "$name" "$@"
  results[-1]+=" $(stat -c %s "$output")"
}

timed cp out/c.mp4 cp "$big" out/c.mp4
timed drmpack-faststart out/f.mp4 ./drmpack faststart "$big" -o out/f.mp4
timed ffmpeg-faststart out/f.mp4 ffmpeg -hide_banner -loglevel error -y -i "$big" -map 0 -c copy -movflags +faststart out/f.mp4
timed drmpack-trim out/t.mp4 ./drmpack trim "$big" -o out/t.mp4 --start "$start" --end "$end"
timed ffmpeg-trim out/t.mp4 ffmpeg -hide_banner -loglevel error -y -ss "$start" -to "$end" -i "$big" -map 0 -c copy out/t.mp4
rm -rf out

printf "input: %s (%.0f MB, %.0f s), trim %s-%s s, %s cores\n" "$big" "$(echo "$(stat -c %s "$big")/1048576" | bc -l)" "$dur" "$start" "$end" "$(nproc)"
printf "%-18s %8s %10s %9s %10s\n" tool seconds "MB out" MB/s "peak RSS"
for r in "${results[@]}"; do
  read -r name secs rss bytes <<< "$r"
  printf "%-18s %8.2f %10.0f %9.0f %7.0f MB\n" "$name" "$secs" "$(echo "$bytes/1048576" | bc -l)" "$(echo "$bytes/1048576/$secs" | bc -l)" "$(echo "$rss/1024" | bc -l)"
done
