#!/usr/bin/env bash
# bench-jpegopt.sh [SECONDS]: times packager/jpegopt against `jpegtran -optimize -copy all`
# (libjpeg-turbo) on the same JPEG files in one run and prints images/s, MB/s (of input)
# and the output sizes of both.
#
# Inputs: baseline 4:2:0 files from Go's image/jpeg (standard Huffman tables, the usual
# case an optimiser sees) at about 16 KB, 100 KB and 1 MB, and progressive files from cjpeg
# of the same pictures. jpegopt runs in-process in a small Go program built from a copy of
# the package (standard library only) in the temp dir; jpegtran runs once per file, as a
# server shelling out to it would, so its column includes process start-up. Each tool works
# on each set for at least SECONDS (default 3), single-threaded, from files in memory or the
# page cache.
set -euo pipefail
seconds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in go jpegtran cjpeg; do
  command -v "$tool" >/dev/null || { echo "needs $tool (jpegtran, cjpeg: apt-get install libjpeg-turbo-progs)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/bench-jpegopt.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/prog/jpegopt" "$work/files"
for f in "$root"/packager/jpegopt/*.go; do
  [[ $f == *_test.go ]] || cp "$f" "$work/prog/jpegopt/"
done
cat >"$work/prog/go.mod" <<'EOF'
module benchjpegopt

go 1.26
EOF
cat >"$work/prog/main.go" <<'EOF'
// Command benchjpegopt writes the benchmark inputs (gen DIR) or times jpegopt.Optimize over
// files (run SECONDS FILE...), printing "images bytes-in bytes-out seconds".
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"benchjpegopt/jpegopt"
)

// picture is a deterministic photo-like image: gradients, edges and noise.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			n := float64(seed>>27) - 16
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r, g, b := 128+100*math.Sin(6*fx+3*fy), 255*fx*fy, 128+60*math.Cos(20*fx*fy)
			if (x/37+y/23)%5 == 0 {
				r, g = 255-r, 255-g
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = clamp(r+n), clamp(g+n/2), clamp(b-n), 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

func gen(dir string) error {
	for _, s := range []struct {
		name string
		w, h int
	}{{"16KB", 360, 270}, {"100KB", 960, 720}, {"1MB", 3072, 2304}} {
		img := picture(s.w, s.h)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "baseline-"+s.name+".jpg"), b.Bytes(), 0o644); err != nil {
			return err
		}
		var ppm bytes.Buffer
		fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", s.w, s.h)
		for i := 0; i < len(img.Pix); i += 4 {
			ppm.Write(img.Pix[i : i+3])
		}
		if err := os.WriteFile(filepath.Join(dir, "progressive-"+s.name+".ppm"), ppm.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func run(seconds float64, files []string) error {
	var inputs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		inputs = append(inputs, b)
	}
	images, in, out := 0, 0, 0
	start := time.Now()
	for time.Since(start).Seconds() < seconds {
		for _, src := range inputs {
			res, err := jpegopt.Optimize(src)
			if err != nil {
				return err
			}
			images, in, out = images+1, in+len(src), out+len(res)
		}
	}
	fmt.Println(images, in, out, time.Since(start).Seconds())
	return nil
}

func main() {
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2])
	case "run":
		var s float64
		if s, err = strconv.ParseFloat(os.Args[2], 64); err == nil {
			err = run(s, os.Args[3:])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
EOF
(cd "$work/prog" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -o "$work/benchjpegopt" .)
"$work/benchjpegopt" gen "$work/files"
for ppm in "$work"/files/*.ppm; do
  cjpeg -quality 75 -progressive "$ppm" >"${ppm%.ppm}.jpg"
  rm "$ppm"
done

# jpegtran_run SECONDS FILE: runs jpegtran on FILE repeatedly for SECONDS; prints like the Go
# program.
jpegtran_run() {
  local secs=$1 file=$2 images=0 in out start now
  local args=(-optimize -copy all)
  [[ $file == *progressive* ]] && args+=(-progressive)
  in=$(stat -c %s "$file")
  out=$(jpegtran "${args[@]}" "$file" | wc -c)
  start=$(date +%s.%N)
  while :; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do jpegtran "${args[@]}" "$file" >/dev/null; done
    images=$((images + 10))
    now=$(date +%s.%N)
    awk -v a="$start" -v b="$now" -v s="$secs" 'BEGIN{exit !(b-a < s)}' || break
  done
  echo "$images $((in * images)) $((out * images)) $(awk -v a="$start" -v b="$now" 'BEGIN{print b-a}')"
}

printf '%-18s %9s | %9s %9s %10s | %9s %9s %10s\n' set "input B" "jpegopt" "img/s" "MB/s" "jpegtran" "img/s" "MB/s"
for file in "$work"/files/baseline-16KB.jpg "$work"/files/baseline-100KB.jpg "$work"/files/baseline-1MB.jpg \
  "$work"/files/progressive-16KB.jpg "$work"/files/progressive-100KB.jpg "$work"/files/progressive-1MB.jpg; do
  read -r gi gin gout gsec < <("$work/benchjpegopt" run "$seconds" "$file")
  read -r ti tin tout tsec < <(jpegtran_run "$seconds" "$file")
  awk -v n="$(basename "$file" .jpg)" -v size="$(stat -c %s "$file")" \
    -v gi="$gi" -v gin="$gin" -v gout="$gout" -v gs="$gsec" -v ti="$ti" -v tin="$tin" -v tout="$tout" -v ts="$tsec" \
    'BEGIN{printf "%-18s %9d | %9d %9.1f %10.2f | %9d %9.1f %10.2f\n", n, size, gout/gi, gi/gs, gin/gs/1e6, tout/ti, ti/ts, tin/ts/1e6}'
done
