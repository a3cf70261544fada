#!/usr/bin/env bash
# bench.sh [SIZE_MB]: packages one large generated MP4 (default ~1 GB, moov at the end) to
# DASH-CENC with drmpack and with Shaka Packager 3.4.2 (npm's static binary), to HLS (TS +
# SAMPLE-AES, fMP4 + cbcs, and clear) with drmpack and Shaka Packager, to NCG (and back) with
# drmpack, and copies it with cp and ffmpeg (clear DASH and HLS remuxes) in the same run. Prints
# seconds, MB/s, the ratio to cp, the
# peak RSS and the CPU seconds of each. The page cache is warmed first so every tool reads from memory and the
# numbers compare the tools, not the disk.
set -euo pipefail
size_mb=${1:-1024}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/drmpack-bench}
mkdir -p "$work"
cd "$work"
kid=6bac8ec30ee3379f3d21290b3a2bc9c3
key=3a54452ba2d2cad16bd879cdd47ab05b
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }

big=big_${size_mb}mb.mp4
if [[ ! -f $big ]]; then
  echo "making $big ..." >&2
  # A high-bitrate 720p clip (~25 Mbit/s) looped with stream copy: realistic segment sizes and a
  # sample table like a long mezzanine file, made in about a minute.
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=s=1280x720:r=25:d=20 \
    -f lavfi -i "sine=f=440:sample_rate=48000:d=20" -ac 2 -c:v libx264 -preset ultrafast -crf 8 -g 50 -bf 2 \
    -c:a aac -b:a 128k -shortest clip.mp4
  clip=$(stat -c %s clip.mp4)
  # At least one: -stream_loop -1 would loop forever and fill the disk.
  loops=$(( size_mb * 1024 * 1024 / clip > 1 ? size_mb * 1024 * 1024 / clip : 1 ))
  ffmpeg -hide_banner -loglevel error -y -stream_loop "$((loops - 1))" -i clip.mp4 -c copy "$big"
fi
bytes=$(stat -L -c %s "$big")

source "$root/scripts/lib/bench.sh"
build_drmpack "$work"
shaka=$(shaka_packager)

cat "$big" > /dev/null # warm the page cache

run cp cp "$big" out/copy.mp4
run drmpack "$work/drmpack" package --drm dash -o out --key "$kid:$key" "$big"
run shaka-packager "$shaka" \
  "in=$big,stream=video,init_segment=out/v/init.mp4,segment_template=out/v/\$Number\$.m4s" \
  "in=$big,stream=audio,init_segment=out/a/init.mp4,segment_template=out/a/\$Number\$.m4s" \
  --enable_raw_key_encryption --keys "label=:key_id=$kid:key=$key" \
  --protection_systems Widevine,PlayReady --segment_duration 6 --mpd_output out/stream.mpd
run ffmpeg-dash-clear ffmpeg -hide_banner -loglevel error -y -i "$big" -map 0 -c copy -f dash -seg_duration 6 out/stream.mpd
run drmpack-hls-sample-aes "$work/drmpack" package --drm hls -o out --key "$kid:$key" "$big"
run shaka-hls-sample-aes "$shaka" \
  "in=$big,stream=video,segment_template=out/v/\$Number\$.ts,playlist_name=v.m3u8" \
  "in=$big,stream=audio,segment_template=out/a/\$Number\$.ts,playlist_name=a.m3u8" \
  --enable_raw_key_encryption --keys "label=:key_id=$kid:key=$key" --protection_scheme cbcs \
  --clear_lead 0 --hls_key_uri key.bin --segment_duration 10 --hls_master_playlist_output out/index.m3u8
run drmpack-hls-fmp4-cbcs "$work/drmpack" package --drm hls --hls-segments fmp4 -o out --key "$kid:$key" "$big"
run shaka-hls-fmp4-cbcs "$shaka" \
  "in=$big,stream=video,init_segment=out/v/init.mp4,segment_template=out/v/\$Number\$.m4s,playlist_name=v.m3u8" \
  "in=$big,stream=audio,init_segment=out/a/init.mp4,segment_template=out/a/\$Number\$.m4s,playlist_name=a.m3u8" \
  --enable_raw_key_encryption --keys "label=:key_id=$kid:key=$key" --protection_scheme cbcs \
  --clear_lead 0 --hls_key_uri key.bin --segment_duration 10 --hls_master_playlist_output out/index.m3u8
run drmpack-hls-clear "$work/drmpack" hls "$big" -o out/hls
run ffmpeg-hls-clear ffmpeg -hide_banner -loglevel error -y -i "$big" -map 0 -c copy -f hls -hls_time 10 -hls_playlist_type vod out/index.m3u8
run drmpack-dash+hls "$work/drmpack" package --drm dash,hls -o out --key "$kid:$key" "$big"
run drmpack-ncg "$work/drmpack" package --drm ncg -o out --key "$kid:$key" "$big"
rm -rf ncg && "$work/drmpack" package --drm ncg -o ncg --key "$kid:$key" "$big" >/dev/null
run drmpack-ncg-decrypt "$work/drmpack" ncg decrypt "ncg/$big.ncg" -o out/decrypted.mp4 --key "$kid:$key"
rm -rf ncg
rm -rf out

printf "input: %s (%.0f MB), %s cores\n" "$big" "$(echo "$bytes/1048576" | bc -l)" "$(nproc)"
report
