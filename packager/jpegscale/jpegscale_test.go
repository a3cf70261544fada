package jpegscale

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The judge is libjpeg-turbo's djpeg, which decodes at 1/2, 1/4 and 1/8 with its own reduced
// IDCTs (jidctred.c); cjpeg makes the inputs Go's encoder cannot (restart intervals, 4:2:2,
// 4:4:0, grey, progressive, arithmetic). Without the tools the tests fail: our decoder alone
// cannot show that another decoder agrees.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is required (apt-get install libjpeg-turbo-progs): %v", name, err)
	}
}

// picture is a deterministic photo-like test image: gradients, a sharp-edged grid, fine
// diagonal texture and saturated colours, so every coefficient band and the clamps occur.
func picture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(12345)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			noise := float64(seed>>24) / 16
			r := 127 + 120*math.Sin(float64(x)/40) + noise
			g := 255 * float64(y) / float64(h)
			b := 40 + 200*float64((x*x+y*3)%97)/97
			if (x/29)%4 == 0 || (y/17)%6 == 0 {
				r, b = 255, 0
			}
			img.SetNRGBA(x, y, color.NRGBA{byteOf(r), byteOf(g - noise), byteOf(b), 255})
		}
	}
	return img
}

func byteOf(v float64) uint8 { return uint8(max(0, min(255, v))) }

// cjpeg encodes img with libjpeg-turbo's cjpeg and args.
func cjpeg(t testing.TB, img image.Image, args ...string) []byte {
	t.Helper()
	requireTool(t, "cjpeg")
	var ppm bytes.Buffer
	b := img.Bounds()
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", b.Dx(), b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			ppm.Write([]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)})
		}
	}
	cmd := exec.Command("cjpeg", args...)
	cmd.Stdin = &ppm
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cjpeg %v: %v", args, err)
	}
	return out
}

// djpeg decodes data at 1/scale with djpeg into a PNM (PGM with -grayscale) and returns its
// size and samples.
func djpeg(t testing.TB, data []byte, scale int, args ...string) (w, h int, samples []byte) {
	t.Helper()
	requireTool(t, "djpeg")
	in := filepath.Join(t.TempDir(), "in.jpg")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("djpeg", append(append([]string{"-scale", fmt.Sprintf("1/%d", scale), "-pnm"}, args...), in)...).Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	var magic string
	var maxval int
	n, err := fmt.Fscan(bytes.NewReader(out), &magic, &w, &h, &maxval)
	if err != nil || n != 4 {
		t.Fatalf("djpeg output header: %v", err)
	}
	channels := 3
	if magic == "P5" {
		channels = 1
	}
	return w, h, out[len(out)-w*h*channels:]
}

type testInput struct {
	name string
	data []byte
}

func testInputs(t *testing.T) []testInput {
	big, odd := picture(640, 480), picture(333, 217)
	var goEnc bytes.Buffer
	if err := jpeg.Encode(&goEnc, odd, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return []testInput{
		{"4:2:0", cjpeg(t, big, "-quality", "90")},
		{"4:2:2", cjpeg(t, big, "-sample", "2x1")},
		{"4:4:4", cjpeg(t, big, "-sample", "1x1")},
		{"4:4:0", cjpeg(t, big, "-sample", "1x2")},
		{"odd size 4:2:0", cjpeg(t, odd, "-quality", "75")},
		{"odd size 4:4:0", cjpeg(t, odd, "-sample", "1x2")},
		{"grey", cjpeg(t, odd, "-grayscale")},
		{"restart every MCU", cjpeg(t, odd, "-restart", "1B")},
		{"restart every 2 rows", cjpeg(t, big, "-restart", "2")},
		{"optimized tables", cjpeg(t, big, "-optimize", "-quality", "97")},
		{"16-bit quantization", cjpeg(t, odd, "-quality", "3")},
		{"non-interleaved scans", cjpeg(t, odd, "-scans", writeScript(t, "0;\n1;\n2;\n"))},
		{"Go encoder", goEnc.Bytes()},
		// cjpeg's progressive script: DC first with Al 1, spectral bands, refinements.
		{"progressive 4:2:0", cjpeg(t, big, "-progressive")},
		{"progressive 4:2:2 with restarts", cjpeg(t, odd, "-progressive", "-sample", "2x1", "-restart", "1B")},
		{"progressive 4:4:0", cjpeg(t, odd, "-progressive", "-sample", "1x2", "-quality", "98")},
		{"progressive grey", cjpeg(t, odd, "-progressive", "-grayscale")},
		// Several refinements of the same band, non-interleaved DC, a ZRL-heavy low quality.
		{"progressive, deep refinement", cjpeg(t, odd, "-quality", "30", "-scans", writeScript(t,
			"0: 0-0, 0, 3;\n1: 0-0, 0, 0;\n2: 0-0, 0, 0;\n0: 0-0, 3, 2;\n0: 0-0, 2, 1;\n0: 0-0, 1, 0;\n"+
				"0: 1-9, 0, 3;\n0: 10-63, 0, 2;\n0: 1-9, 3, 2;\n0: 1-63, 2, 1;\n0: 1-63, 1, 0;\n"+
				"1: 1-63, 0, 1;\n1: 1-63, 1, 0;\n2: 1-63, 0, 0;\n"))},
	}
}

func writeScript(t *testing.T, script string) string {
	p := filepath.Join(t.TempDir(), "scans.txt")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLumaMatchesDjpeg compares the decoded Y plane with djpeg's greyscale output at the same
// scale: both compute the same reduced IDCT, libjpeg in integers, so samples may differ by
// rounding only.
func TestLumaMatchesDjpeg(t *testing.T) {
	for _, in := range testInputs(t) {
		for _, scale := range []int{2, 4, 8} {
			t.Run(fmt.Sprintf("%s/1:%d", in.name, scale), func(t *testing.T) {
				img, err := Decode(in.data, scale)
				if err != nil {
					t.Fatal(err)
				}
				w, h, want := djpeg(t, in.data, scale, "-grayscale")
				if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
					t.Fatalf("size %v, djpeg %dx%d", b.Size(), w, h)
				}
				var plane []byte
				var stride int
				switch img := img.(type) {
				case *image.YCbCr:
					plane, stride = img.Y, img.YStride
				case *image.Gray:
					plane, stride = img.Pix, img.Stride
				}
				maxDiff, sum := 0, 0
				for y := range h {
					for x := range w {
						d := int(plane[y*stride+x]) - int(want[y*w+x])
						maxDiff, sum = max(maxDiff, d, -d), sum+max(d, -d)
					}
				}
				if mean := float64(sum) / float64(w*h); maxDiff > 2 || mean > 0.3 {
					t.Errorf("Y differs from djpeg by up to %d, %.3f on average", maxDiff, mean)
				}
			})
		}
	}
}

// TestColourMatchesDjpeg compares the colour picture with djpeg's full-size decode (chroma
// repeated, not interpolated), averaged over scale×scale boxes: the picture a box filter makes.
// (djpeg's own scaled colour output is no reference: for 4:2:2 and 4:4:0 it leaves chroma at
// half resolution.)
func TestColourMatchesDjpeg(t *testing.T) {
	for _, in := range testInputs(t) {
		if strings.HasSuffix(in.name, "grey") {
			continue
		}
		for _, scale := range []int{2, 4, 8} {
			t.Run(fmt.Sprintf("%s/1:%d", in.name, scale), func(t *testing.T) {
				img, err := Decode(in.data, scale)
				if err != nil {
					t.Fatal(err)
				}
				fw, fh, full := djpeg(t, in.data, 1, "-nosmooth")
				w, h := img.Bounds().Dx(), img.Bounds().Dy()
				if w != ceilDiv(fw, scale) || h != ceilDiv(fh, scale) {
					t.Fatalf("size %dx%d for %dx%d", w, h, fw, fh)
				}
				var se float64
				for y := range h {
					for x := range w {
						r, g, b, _ := img.At(x, y).RGBA()
						for c, v := range []uint32{r >> 8, g >> 8, b >> 8} {
							d := float64(v) - boxMean(full, fw, fh, x*scale, y*scale, scale, c)
							se += d * d
						}
					}
				}
				if psnr := 10 * math.Log10(255*255/(se/float64(3*w*h))); psnr < 40 {
					t.Errorf("PSNR against djpeg %.1f dB", psnr)
				}
			})
		}
	}
}

// boxMean averages channel c of the RGB samples in the size×size box at x0, y0 that lie in
// the w×h picture.
func boxMean(rgb []byte, w, h, x0, y0, size, c int) float64 {
	sum, n := 0, 0
	for y := y0; y < min(y0+size, h); y++ {
		for x := x0; x < min(x0+size, w); x++ {
			sum += int(rgb[(y*w+x)*3+c])
			n++
		}
	}
	return float64(sum) / float64(n)
}

// TestEighthIsTheBlockMean checks the defining property of 1/8 decoding against image/jpeg:
// each pixel is the mean of its full-size 8×8 block (before the full decode's rounding).
func TestEighthIsTheBlockMean(t *testing.T) {
	data := cjpeg(t, picture(333, 217), "-grayscale", "-quality", "95")
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(data, 8)
	if err != nil {
		t.Fatal(err)
	}
	g, fg := img.(*image.Gray), full.(*image.Gray)
	for by := range 217 / 8 {
		for bx := range 333 / 8 {
			sum := 0
			for y := range 8 {
				for x := range 8 {
					sum += int(fg.GrayAt(bx*8+x, by*8+y).Y)
				}
			}
			// Clamping of the full decode can move the mean; the picture stays within range
			// almost everywhere, so allow a little more than rounding.
			if d := float64(g.GrayAt(bx, by).Y) - float64(sum)/64; math.Abs(d) > 1.5 {
				t.Fatalf("block %d,%d: %d, mean of the full decode %.2f", bx, by, g.GrayAt(bx, by).Y, float64(sum)/64)
			}
		}
	}
}

func TestUnsupportedCodings(t *testing.T) {
	odd := picture(120, 90)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"arithmetic", cjpeg(t, odd, "-arithmetic")},
		{"RGB", cjpeg(t, odd, "-rgb")},
		{"4:1:1", cjpeg(t, odd, "-sample", "4x1")},
	} {
		if _, err := Decode(c.data, 4); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", c.name, err)
		}
	}
}

// TestMalformed: every truncation and a corrupted byte at many offsets give an error or a
// picture, never a panic; truncations inside the entropy-coded data are errors, since the
// zero bits that would have to be invented are not the picture's.
func TestMalformed(t *testing.T) {
	data := cjpeg(t, picture(96, 64), "-restart", "1B")
	for n := 0; n < len(data)-2; n += 7 {
		if _, err := Decode(data[:n], 2); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
		}
	}
	for i := 2; i < len(data); i += 5 {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5A
		Decode(bad, 4) //nolint:errcheck // only must not panic
	}
	if _, err := Decode(data, 3); err == nil {
		t.Error("scale 3 accepted")
	}
}
