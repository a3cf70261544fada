#!/usr/bin/env bash
# make-test-media.sh OUTDIR: generates the small, deterministic media the integration tests
# package (ffmpeg lavfi sources, single-threaded bit-exact encoders, so re-runs give the same
# bytes with the same ffmpeg build). About 2 MB, a few seconds on two cores.
set -euo pipefail
out=${1:?usage: make-test-media.sh OUTDIR}
dur=${DURATION:-8}
mkdir -p "$out"
cd "$out"

ff=(ffmpeg -hide_banner -nostdin -loglevel error -y)
exact=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1)
# Every frame differs (moving pattern + frame counter), so a dropped, repeated or reordered
# frame changes the frame hashes the tests compare.
video="testsrc2=s=640x360:r=25:d=${dur}"
# Two unrelated chirps on L/R: a time shift or a channel swap changes the decoded samples.
audio="aevalsrc=exprs='0.3*sin(2*PI*(220+40*t)*t)|0.3*sin(2*PI*(330+25*t)*t)':s=48000:c=stereo:d=${dur}"
# x264 with B-frames (so composition offsets and an edit list are present) and 2-s closed GOPs.
x264=(-c:v libx264 -threads 1 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 28
      -g 50 -keyint_min 50 -sc_threshold 0 -bf 3)
# -aac_pns 0: without perceptual noise substitution, decoding that starts at a segment is
# bit-exact with the decode of the whole file.
aac=(-c:a aac -aac_pns 0 -b:a 96k)

"${ff[@]}" -f lavfi -i "$video" -f lavfi -i "$audio" "${x264[@]}" "${aac[@]}" "${exact[@]}" -shortest h264_aac_moov_end.mp4
"${ff[@]}" -i h264_aac_moov_end.mp4 -map 0 -c copy "${exact[@]}" -movflags +faststart h264_aac.mp4
"${ff[@]}" -f lavfi -i "$video" -i h264_aac_moov_end.mp4 -map 0:v -map 1:a \
  -c:v libx265 -preset ultrafast -crf 32 -pix_fmt yuv420p -tag:v hvc1 \
  -x265-params "keyint=50:min-keyint=50:scenecut=0:bframes=3:pools=1:frame-threads=1:wpp=0:log-level=error" \
  -c:a copy "${exact[@]}" -movflags +faststart hevc_aac.mp4
"${ff[@]}" -i h264_aac_moov_end.mp4 -map 0:a -c copy "${exact[@]}" -movflags +faststart audio.m4a
"${ff[@]}" -f lavfi -i "${audio/s=48000/s=44100}" -c:a libmp3lame -b:a 128k "${exact[@]}" -write_xing 1 audio.mp3
cp h264_aac.mp4 "한글 제목 01.mp4"
# AC-3 (with a Korean language tag) next to H.264, and E-AC-3 alone: copied, not transcoded.
"${ff[@]}" -i h264_aac_moov_end.mp4 -f lavfi -i "$audio" -map 0:v -map 1:a -c:v copy -c:a ac3 -b:a 192k \
  "${exact[@]}" -metadata:s:a:0 language=kor -shortest -movflags +faststart h264_ac3_kor.mp4
"${ff[@]}" -f lavfi -i "$audio" -c:a eac3 -b:a 128k "${exact[@]}" -movflags +faststart audio_eac3.mp4
# Long GOPs: a keyframe every 12 s, longer than the 10-s default segment target; 30 s, moov last.
"${ff[@]}" -f lavfi -i "testsrc2=s=320x180:r=25:d=30" -f lavfi -i "${audio/d=${dur}/d=30}" -c:v libx264 -threads 1 \
  -preset veryfast -profile:v high -pix_fmt yuv420p -crf 30 -g 300 -keyint_min 300 -sc_threshold 0 -bf 3 \
  "${aac[@]}" "${exact[@]}" -shortest long_gop.mp4
# VBR MP3 with an ID3v2.3 tag (a Korean title) and a Xing/LAME header.
"${ff[@]}" -f lavfi -i "${audio/s=48000/s=44100}" -c:a libmp3lame -q:a 4 "${exact[@]}" -id3v2_version 3 \
  -metadata title="미리 듣기" -write_xing 1 audio_vbr_id3.mp3
# Renditions of one title for adaptive streaming: the same pictures at three sizes with the same
# fixed 2-s GOP, and the same audio bytes (so the packager can share one audio track). The
# 720p one is HD, the others SD. adapt_gop30 breaks the GOP alignment (1.2-s GOP).
for h in 360 540 720; do
  "${ff[@]}" -i h264_aac_moov_end.mp4 -map 0 -vf "scale=-2:$h" "${x264[@]}" -c:a copy "${exact[@]}" \
    -movflags +faststart "adapt_${h}p.mp4"
done
"${ff[@]}" -i h264_aac_moov_end.mp4 -map 0 "${x264[@]/-g 50/}" -g 30 -keyint_min 30 -c:a copy "${exact[@]}" \
  -movflags +faststart adapt_gop30.mp4
