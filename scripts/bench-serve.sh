#!/usr/bin/env bash
# bench-serve.sh [INPUT.mp4]: the origin server's figures, in one run:
#   BenchmarkServe: requests/s (1e9 / ns/op) and MB/s with parallel clients on 127.0.0.1 for a
#     plain file (next to net/http's FileServer on the same folder), trimmed files, playlists
#     and .ts segments, from the cache and computed afresh;
#   BenchmarkBigFileTTFB: time to first byte of index.m3u8 on a new server and of .ts segments
#     across a large MP4 (default: the ~1 GB file scripts/bench.sh makes), with the source bytes
#     each request read.
# The page cache is warmed first, so the numbers measure the server, not the disk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
big=${1:-${BENCH_DIR:-/tmp/drmpack-bench}/big_1024mb.mp4}
[[ -f $big ]] || { echo "no input $big: run scripts/bench.sh first or pass an MP4" >&2; exit 1; }
cat "$big" > /dev/null
cd "$root"
DRMPACK_BENCH_BIG=$big go test ./packager/server/ -run '^$' -bench 'Serve|BigFileTTFB' -benchtime "${BENCHTIME:-2s}"
