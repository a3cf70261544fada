package jpegopt

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The tests compare against libjpeg-turbo's tools: djpeg is the independent decoder that
// proves pixels are unchanged, cjpeg makes restart, progressive, grayscale and arithmetic
// inputs Go cannot, and jpegtran is the size reference. They fail without the tools, since
// Go's own decoder alone cannot show that other decoders agree.
const toolHint = "apt-get install libjpeg-turbo-progs"

func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for this test (%s): %v", name, toolHint, err)
	}
	return p
}

// testImage draws a deterministic picture with what real photos have: smooth gradients,
// sharp edges, fine texture and noise, so that every kind of Huffman symbol occurs.
func testImage(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(max(w, 1)), float64(y)/float64(max(h, 1))
			r := 128 + 100*math.Sin(6*fx+3*fy)
			g := 255 * fx * fy
			b := 128 + 60*math.Cos(20*fx*fy)
			if (x/37+y/23)%5 == 0 {
				r, g = 255-r, 255-g // hard edges
			}
			n := float64(rng.IntN(41) - 20)
			img.Pix[img.PixOffset(x, y)+0] = clamp(r + n)
			img.Pix[img.PixOffset(x, y)+1] = clamp(g + n/2)
			img.Pix[img.PixOffset(x, y)+2] = clamp(b - n)
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

func goJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func grayOf(img *image.RGBA) *image.Gray {
	g := image.NewGray(img.Bounds())
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			g.Set(x, y, color.GrayModel.Convert(img.At(x, y)))
		}
	}
	return g
}

// writePPM writes img as binary PPM, the input format of cjpeg.
func writePPM(t testing.TB, path string, img *image.RGBA) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "P6\n%d %d\n255\n", img.Rect.Dx(), img.Rect.Dy())
	for i := 0; i < len(img.Pix); i += 4 {
		b.Write(img.Pix[i : i+3])
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cjpeg encodes img with libjpeg-turbo's cjpeg and the given options.
func cjpeg(t testing.TB, img *image.RGBA, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ppm")
	writePPM(t, in, img)
	cmd := exec.Command(requireTool(t, "cjpeg"), append(args, in)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cjpeg %v: %v: %s", args, err, stderr.String())
	}
	return out
}

// scanScript writes a cjpeg -scans file and returns its path.
func scanScript(t testing.TB, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scans.txt")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runTool runs a libjpeg-turbo tool with data on stdin and returns its stdout.
func runTool(t testing.TB, name string, data []byte, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(requireTool(t, name), args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %v: %s", name, args, err, stderr.String())
	}
	if stderr.Len() > 0 {
		// libjpeg prints warnings (corrupt data, bogus progression) but still exits 0.
		return nil, fmt.Errorf("%s %v warned: %s", name, args, stderr.String())
	}
	return out, nil
}

// goPixels decodes with image/jpeg and returns the decoded samples: the Y, Cb and Cr planes
// (or gray, or CMYK samples) exactly as the decoder produced them, before any colour
// conversion could hide a difference.
func goPixels(data []byte) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%T %v|", img, img.Bounds())
	r := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		// Only the samples inside the image: the padding of the last MCUs is never shown
		// and jpegopt, like jpegtran, codes it more cheaply.
		fmt.Fprintf(&b, "%v|", m.SubsampleRatio)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := m.COffset(x, y)
				b.Write([]byte{m.Y[m.YOffset(x, y)], m.Cb[c], m.Cr[c]})
			}
		}
	case *image.Gray:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			b.Write(m.Pix[m.PixOffset(r.Min.X, y):m.PixOffset(r.Max.X, y)])
		}
	case *image.CMYK:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			b.Write(m.Pix[m.PixOffset(r.Min.X, y):m.PixOffset(r.Max.X, y)])
		}
	default:
		return nil, fmt.Errorf("unexpected image type %T", img)
	}
	return b.Bytes(), nil
}

// checkSamePixels decodes src and out with image/jpeg and with djpeg and fails unless each
// decoder produces identical pixels for both.
func checkSamePixels(t *testing.T, name string, src, out []byte) {
	t.Helper()
	want, err := goPixels(src)
	got, errOut := goPixels(out)
	switch {
	case err != nil && errOut == nil:
		t.Fatalf("%s: image/jpeg decodes only the output", name)
	case err != nil:
		// image/jpeg rejects some valid files (progressive with restart intervals);
		// djpeg below still checks them.
		t.Logf("%s: image/jpeg cannot decode the input nor the output: %v", name, err)
	case errOut != nil:
		t.Fatalf("%s: image/jpeg cannot decode the output: %v", name, errOut)
	case !bytes.Equal(want, got):
		t.Fatalf("%s: image/jpeg decodes different pixels", name)
	}
	wantD, err := runTool(t, "djpeg", src, "-pnm")
	if err != nil {
		t.Fatalf("%s: input: %v", name, err)
	}
	gotD, err := runTool(t, "djpeg", out, "-pnm")
	if err != nil {
		t.Fatalf("%s: output: %v", name, err)
	}
	if !bytes.Equal(wantD, gotD) {
		t.Fatalf("%s: djpeg decodes different pixels", name)
	}
}

// jpegLayout summarises a JPEG file for size comparisons: the bytes of entropy-coded data,
// the number of DHT segments and the bytes of Huffman tables they hold (without marker
// and length), and how many RST markers it has.
type jpegLayout struct {
	entropyBytes int
	dhtSegments  int
	tableBytes   int
	dqtBytes     int // DQT segments with their markers
	scans        int
	restarts     int
}

func layoutOf(t testing.TB, data []byte) jpegLayout {
	t.Helper()
	var l jpegLayout
	pos := 2
	for pos+2 <= len(data) {
		if data[pos] != 0xFF {
			t.Fatalf("no marker at %d", pos)
		}
		m := data[pos+1]
		if m == markerEOI {
			return l
		}
		if pos+4 > len(data) {
			break
		}
		length := int(data[pos+2])<<8 | int(data[pos+3])
		end := pos + 2 + length
		if m == markerDQT {
			l.dqtBytes += 2 + length
		}
		if m == markerDHT {
			l.dhtSegments++
			l.tableBytes += length - 2
		}
		pos = end
		if m == markerSOS {
			l.scans++
			for pos+1 < len(data) {
				if data[pos] == 0xFF && data[pos+1] != 0 {
					if data[pos+1] >= markerRST0 && data[pos+1] <= markerRST7 {
						l.restarts++
						pos += 2
						continue
					}
					break
				}
				pos++
				l.entropyBytes++
			}
		}
	}
	t.Fatalf("no EOI")
	return l
}
