package dims

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// convertTool is ImageMagick's convert. Debian's versioned name comes first: it is the binary
// itself, where "convert" may be a wrapper that costs more than the conversion.
var convertTool = sync.OnceValue(func() string {
	for _, name := range []string{"convert-im6.q16", "convert"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
})

// requireImageMagick fails (never skips) without ImageMagick: the geometry rules are only
// trustworthy when checked against the implementation mod_dims drives.
func requireImageMagick(t testing.TB) {
	t.Helper()
	if convertTool() == "" {
		t.Fatal("ImageMagick's convert is needed by this test: apt-get install -y imagemagick")
	}
	if out, err := exec.Command(convertTool(), "-version").CombinedOutput(); err != nil || !strings.Contains(string(out), "ImageMagick") {
		t.Fatalf("convert is not ImageMagick (%v: %s): apt-get install -y imagemagick", err, out)
	}
}

func magick(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(convertTool(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("convert %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// plasma writes a w×h plasma fractal made by ImageMagick from seed into dir as PNG and returns
// its path: smooth areas and fine detail, like a photograph.
func plasma(t testing.TB, dir string, seed, w, h int) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("plasma-%d-%dx%d.png", seed, w, h))
	magick(t, "-seed", fmt.Sprint(seed), "-size", fmt.Sprintf("%dx%d", w, h), "plasma:fractal", p)
	return p
}

// testImage draws a w×h picture with smooth gradients, hard edges and a gamut of colours, so
// that resampling differences show.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			c := color.NRGBA{uint8(255 * fx), uint8(255 * fy), uint8(128 + 127*math.Sin(fx*9+fy*5)), 255}
			if (x/16+y/16)%2 == 0 && fx > 0.5 {
				c = color.NRGBA{20, 20, 20, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decode(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// psnr compares two images of equal size on their 8-bit RGB values.
func psnr(a, b image.Image) float64 {
	var se float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y)).(color.NRGBA)
			for _, d := range []float64{float64(ca.R) - float64(cb.R), float64(ca.G) - float64(cb.G), float64(ca.B) - float64(cb.B)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*r.Dx()*r.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func mustProcess(t testing.TB, src []byte, recipe string, cfg *Config) []byte {
	t.Helper()
	out, _, err := Process(src, recipe, cfg)
	if err != nil {
		t.Fatalf("%s: %v (%s)", recipe, err, err.(*Error).Detail)
	}
	return out
}

func execConvert(args ...string) (string, error) {
	out, err := exec.Command(convertTool(), args...).CombinedOutput()
	return string(out), err
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
