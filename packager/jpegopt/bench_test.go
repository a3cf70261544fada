package jpegopt

import (
	"fmt"
	"testing"
)

// BenchmarkOptimize measures baseline 4:2:0 files from image/jpeg (standard tables, so
// there is something to gain) of about 16 KB, 100 KB and 1 MB; MB/s counts input bytes.
func BenchmarkOptimize(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{
		{"16KB", 360, 270},
		{"100KB", 960, 720},
		{"1MB", 3072, 2304},
	} {
		src := goJPEG(b, testImage(size.w, size.h, 1), 75)
		b.Run(fmt.Sprintf("%s-%dx%d", size.name, size.w, size.h), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Optimize(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(src)), "input-bytes")
		})
	}
}
