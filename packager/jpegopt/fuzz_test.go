package jpegopt

import (
	"bytes"
	"testing"
)

// FuzzOptimize feeds arbitrary bytes to Optimize. The committed corpus in
// testdata/fuzz/FuzzOptimize holds tiny real files (baseline 4:2:0 from image/jpeg; from
// cjpeg: progressive, restart intervals, grayscale, progressive with restarts, and a
// progressive 4:2:2 file re-coded with poor tables so there is something to gain) and one
// the fuzzer found: a progressive file whose EOB run outlasts its scan, which decoders read
// differently and jpegopt therefore rejects. Optimize must not panic or hang, must never
// grow the file, and whenever it returns new bytes for input image/jpeg decodes, they must
// decode to the same pixels and be final (a second pass returns them unchanged).
func FuzzOptimize(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Optimize(src)
		if err != nil {
			return
		}
		if len(out) > len(src) {
			t.Fatalf("output %d bytes, input %d", len(out), len(src))
		}
		if len(out) == len(src) {
			if !bytes.Equal(out, src) {
				t.Fatalf("same size but different bytes")
			}
			return
		}
		want, err := goPixels(src)
		if err != nil {
			return
		}
		got, err := goPixels(out)
		if err != nil {
			t.Fatalf("input decodes, output does not: %v", err)
		}
		if !bytes.Equal(want, got) {
			t.Fatalf("output decodes to different pixels")
		}
		again, err := Optimize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second pass: %d bytes, err %v", len(again), err)
		}
	})
}
