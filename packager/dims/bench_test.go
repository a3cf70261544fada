//go:build unix

package dims

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// benchJPEG is $DIMS_BENCH_JPEG (scripts/bench-dims.sh passes the file ImageMagick resizes
// too), else a generated 4000×3000 JPEG.
func benchJPEG(b *testing.B) []byte {
	if p := os.Getenv("DIMS_BENCH_JPEG"); p != "" {
		return readFile(b, p)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(4000, 3000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// cpuSeconds is this process's user+system CPU time. On a shared machine the wall clock also
// counts waiting for a CPU, so the benchmarks report CPU time per image as well.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// reportRates adds images per wall-clock second and CPU milliseconds per image.
func reportRates(b *testing.B, cpuStart float64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(1000*(cpuSeconds()-cpuStart)/float64(b.N), "cpu-ms/image")
}

// BenchmarkResize is the reference case: 4000×3000 JPEG to 500×375, decode to encode.
func BenchmarkResize(b *testing.B) {
	src := benchJPEG(b)
	cpu := cpuSeconds()
	for b.Loop() {
		mustProcess(b, src, "/resize/500x375/", nil)
	}
	reportRates(b, cpu)
}

// BenchmarkResizeProgressive is the same reduction of $DIMS_BENCH_PROGRESSIVE_JPEG, the
// benchmark's JPEG re-coded as progressive (scripts/bench-dims.sh makes it with jpegtran, which
// Go cannot).
func BenchmarkResizeProgressive(b *testing.B) {
	p := os.Getenv("DIMS_BENCH_PROGRESSIVE_JPEG")
	if p == "" {
		b.Skip("DIMS_BENCH_PROGRESSIVE_JPEG not set (scripts/bench-dims.sh sets it)")
	}
	src := readFile(b, p)
	cpu := cpuSeconds()
	for b.Loop() {
		mustProcess(b, src, "/resize/500x375/", nil)
	}
	reportRates(b, cpu)
}

// BenchmarkResampleOnly compares this package's Lanczos-3 with golang.org/x/image/draw's
// Catmull-Rom on the same decoded 4000×3000 picture, to justify writing a resampler.
func BenchmarkResampleOnly(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(benchJPEG(b)))
	if err != nil {
		b.Fatal(err)
	}
	rgba := toRGBA(img)
	b.Run("lanczos3", func(b *testing.B) {
		for b.Loop() {
			resample(rgba, 500, 375)
		}
	})
	b.Run("xdraw-catmullrom", func(b *testing.B) {
		for b.Loop() {
			dst := image.NewRGBA(image.Rect(0, 0, 500, 375))
			xdraw.CatmullRom.Scale(dst, dst.Rect, rgba, rgba.Rect, xdraw.Src, nil)
		}
	})
}

// BenchmarkOptimize runs /optimize over every JPEG in $DIMS_BENCH_OPT_DIR (sizes 16 KB to
// 1 MB made by scripts/bench-dims.sh), else over one generated JPEG.
func BenchmarkOptimize(b *testing.B) {
	files := map[string][]byte{}
	if dir := os.Getenv("DIMS_BENCH_OPT_DIR"); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		for _, p := range paths {
			files[filepath.Base(p)] = readFile(b, p)
		}
	} else {
		var buf bytes.Buffer
		jpeg.Encode(&buf, testImage(800, 600), &jpeg.Options{Quality: 85})
		files["800x600.jpg"] = buf.Bytes()
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.Run(n, func(b *testing.B) {
			src := files[n]
			var out []byte
			cpu := cpuSeconds()
			for b.Loop() {
				out = mustProcess(b, src, "/optimize", nil)
			}
			reportRates(b, cpu)
			b.ReportMetric(100*(1-float64(len(out))/float64(len(src))), "%saved")
		})
	}
}
