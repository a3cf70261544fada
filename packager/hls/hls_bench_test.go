package hls

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
	"drmpack/packager/keys"
)

func TestMain(m *testing.M) { mediatest.Main(m) }

// BenchmarkPackage measures HLS packaging throughput (read, mux, encrypt, write segments and
// playlists) in input bytes per second, for each segment format and method. The input is the
// test media's h264_aac.mp4, or $DRMPACK_BENCH_INPUT (scripts/bench.sh compares a 1 GB input
// with cp and ffmpeg).
func BenchmarkPackage(b *testing.B) {
	src := os.Getenv("DRMPACK_BENCH_INPUT")
	if src == "" {
		src = filepath.Join(mediatest.Media(b), "h264_aac.mp4")
	}
	set, err := keys.ParseRaw([]string{"6bac8ec30ee3379f3d21290b3a2bc9c3:3a54452ba2d2cad16bd879cdd47ab05b"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := demux.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, c := range []struct {
		name     string
		segments SegmentFormat
		method   Method
	}{
		{"ts/clear", TS, Clear},
		{"ts/sample-aes", TS, SampleAES},
		{"ts/aes-128", TS, AES128},
		{"fmp4/cbcs", FMP4, SampleAES},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(m.Size)
			opts := Options{Duration: DefaultDuration, IndexVersion: 3, Method: c.method, Segments: c.segments,
				Keys: keys.Set(set), KeyURI: "key.bin"}
			for b.Loop() {
				if _, err := Package(context.Background(), m, b.TempDir(), opts, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
