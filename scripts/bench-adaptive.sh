#!/usr/bin/env bash
# bench-adaptive.sh [MINUTES]: packages a three-rendition title (360p, 720p and 1080p with the
# same 2-s GOPs and the same AAC audio, default 3 minutes each) to DASH-CENC and HLS SAMPLE-AES
# in one adaptive job with a key per track type (--adaptive --multi-key), next to packaging the
# three renditions one by one (three drmpack runs, and one run with --concurrency 2), Shaka
# Packager 3.4.2 making the same multi-key DASH title, ffmpeg remuxing the title to clear DASH,
# and cp copying the three files, all in the same run. Prints seconds, MB/s of the three inputs,
# the ratio to cp and peak RSS. The page cache is warmed first.
set -euo pipefail
minutes=${1:-3}
# Whole minutes from 1: the loop count below must not reach -1, which ffmpeg loops forever.
[[ $minutes =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench-adaptive.sh [MINUTES >= 1]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/drmpack-bench-adaptive}
mkdir -p "$work"
cd "$work"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
sd_kid=11111111111111111111111111111111 sd_key=a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
hd_kid=22222222222222222222222222222222 hd_key=b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2
au_kid=33333333333333333333333333333333 au_key=c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3
keys=(--key "SD=$sd_kid:$sd_key" --key "HD=$hd_kid:$hd_key" --key "AUDIO=$au_kid:$au_key")

# A 20-s clip per size, encoded once from the same pictures with fixed GOPs, then looped with
# stream copy: 20 s is a whole number of GOPs, so the loops stay aligned across renditions.
renditions=()
for h in 360 720 1080; do
  f=title_${h}p_${minutes}min.mp4
  renditions+=("$f")
  [[ -f $f ]] && continue
  echo "making $f ..." >&2
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=s=1920x1080:r=25:d=20" \
    -f lavfi -i "sine=f=440:sample_rate=48000:d=20" -ac 2 -vf "scale=-2:$h" \
    -c:v libx264 -preset ultrafast -crf 16 -g 50 -keyint_min 50 -sc_threshold 0 -bf 2 \
    -c:a aac -b:a 128k -shortest "clip_$h.mp4"
  ffmpeg -hide_banner -loglevel error -y -stream_loop "$(( minutes * 3 - 1 ))" -i "clip_$h.mp4" -c copy "$f"
done
bytes=0
for f in "${renditions[@]}"; do bytes=$(( bytes + $(stat -c %s "$f") )); done

source "$root/scripts/lib/bench.sh"
build_drmpack "$work"
shaka=$(shaka_packager)

cat "${renditions[@]}" > /dev/null # warm the page cache
drmpack=("$work/drmpack" package --drm dash,hls -o out --segment-duration 6 --hls-key-uri "{kid}.key" "${keys[@]}")

one_by_one() { for f in "${renditions[@]}"; do "${drmpack[@]}" "$f"; done; }

run cp cp "${renditions[@]}" out/
run drmpack-adaptive-dash+hls "${drmpack[@]}" --adaptive --multi-key --name title "${renditions[@]}"
run drmpack-one-by-one-dash+hls bash -c "$(declare -p renditions drmpack); $(declare -f one_by_one); one_by_one"
run drmpack-concurrency2-dash+hls "${drmpack[@]}" --concurrency 2 "${renditions[@]}"
run drmpack-adaptive-dash "$work/drmpack" package --drm dash -o out --segment-duration 6 "${keys[@]}" --adaptive --multi-key --name title "${renditions[@]}"
run shaka-packager-dash "$shaka" \
  "in=${renditions[0]},stream=video,drm_label=SD,init_segment=out/v360/init.mp4,segment_template=out/v360/\$Number\$.m4s" \
  "in=${renditions[1]},stream=video,drm_label=HD,init_segment=out/v720/init.mp4,segment_template=out/v720/\$Number\$.m4s" \
  "in=${renditions[2]},stream=video,drm_label=HD,init_segment=out/v1080/init.mp4,segment_template=out/v1080/\$Number\$.m4s" \
  "in=${renditions[0]},stream=audio,drm_label=AUDIO,init_segment=out/a/init.mp4,segment_template=out/a/\$Number\$.m4s" \
  --enable_raw_key_encryption --keys "label=SD:key_id=$sd_kid:key=$sd_key,label=HD:key_id=$hd_kid:key=$hd_key,label=AUDIO:key_id=$au_kid:key=$au_key" \
  --protection_systems Widevine,PlayReady --segment_duration 6 --mpd_output out/stream.mpd
run ffmpeg-dash-clear ffmpeg -hide_banner -loglevel error -y -i "${renditions[0]}" -i "${renditions[1]}" -i "${renditions[2]}" \
  -map 0:v -map 1:v -map 2:v -map 0:a -c copy -f dash -seg_duration 6 out/stream.mpd
rm -rf out

printf "inputs: %s (%.0f MB together), %s cores\n" "${renditions[*]}" "$(echo "$bytes/1048576" | bc -l)" "$(nproc)"
report
