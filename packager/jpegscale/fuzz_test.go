package jpegscale

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode at every scale. The committed corpus in
// testdata/fuzz/FuzzDecode holds tiny real files (baseline 4:2:0 from image/jpeg; from cjpeg:
// restart intervals, grey, 4:2:2, 4:4:0, non-interleaved scans, 16-bit quantization tables,
// and progressive files, which must be refused as unsupported). Decode must not panic or hang,
// and a picture it returns must have the scaled size of the frame image/jpeg reads, with every
// pixel addressable.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, scale := range []int{2, 4, 8} {
			img, err := Decode(src, scale)
			if err != nil {
				continue
			}
			b := img.Bounds()
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(src)); err == nil &&
				(b.Dx() != ceilDiv(cfg.Width, scale) || b.Dy() != ceilDiv(cfg.Height, scale)) {
				t.Fatalf("1/%d: %v for a %dx%d frame", scale, b.Size(), cfg.Width, cfg.Height)
			}
			for _, p := range [][2]int{{0, 0}, {b.Dx() - 1, 0}, {0, b.Dy() - 1}, {b.Dx() - 1, b.Dy() - 1}} {
				img.At(p[0], p[1])
			}
		}
	})
}
