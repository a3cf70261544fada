package dash

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"drmpack/internal/mediatest"
	"drmpack/packager/cenc"
	"drmpack/packager/demux"
	"drmpack/packager/keys"
)

func TestMain(m *testing.M) { mediatest.Main(m) }

// BenchmarkPackage measures end-to-end DASH packaging throughput (read, encrypt, write segments
// and MPD) in input bytes per second. scripts/bench.sh compares a 1 GB input with cp and Shaka
// Packager.
func BenchmarkPackage(b *testing.B) {
	src := filepath.Join(mediatest.Media(b), "h264_aac.mp4")
	set, err := keys.ParseRaw([]string{"6bac8ec30ee3379f3d21290b3a2bc9c3:3a54452ba2d2cad16bd879cdd47ab05b"})
	if err != nil {
		b.Fatal(err)
	}
	for _, scheme := range []cenc.Scheme{cenc.CENC, cenc.CBCS} {
		b.Run(string(scheme), func(b *testing.B) {
			m, err := demux.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			b.SetBytes(m.Size)
			opts := Options{SegmentDuration: 2 * time.Second, Scheme: scheme, Keys: keys.Set(set), CID: "bench"}
			for b.Loop() {
				dir := b.TempDir()
				if _, err := Package(context.Background(), m, dir, opts, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
