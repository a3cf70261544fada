package dims

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sizeGeometries are thumbnail/resize geometries: every form and flag of the manual.
var sizeGeometries = []string{
	"100", "x100", "100x", "200x200", "78x110", "100x100", "640x480", "641x481", "639x479", "1x1", "7x", "x1",
	"3000x20", "20x3000", "1000x1000",
	"50%", "125%", "33.3%", "50%x25%", "200%x50%", "1%", "100%",
	"10000@", "1000000@", "5000@", "400@",
	"100x100!", "640X480!", "100!", "x100!", "1000x10!",
	"100x100>", "1000x1000>", "100>", "x1000>", "150%>", "2000x100>",
	"100x100<", "1000x1000<", "1000<", "x100<", "50%<", "100x2000<",
	"100x100!>", "1000x1000!<", "10000@>",
}

// cropGeometries include percentages, negative offsets and regions partly outside the image.
var cropGeometries = []string{
	"100x200+20+30", "100x200", "100x200+0+0", "1x1+0+0", "100x200-20-30", "100x200+600+400",
	"1000x1000+0+0", "1000x1000-10-10", "50%x50%+0+0", "50%x50%", "50%x25%+10+10", "100x200+20+30%",
	"10%x90%-5+5", "33.3%x66.6%+1+1", "640x480", "639x479+1+1", "10x10+630+470", "10x10+635+475",
	"300x300-299-299", "20x20+620-10",
}

// imageSizes cover landscape, portrait, square, thin and tiny originals.
var imageSizes = [][2]int{{640, 480}, {480, 640}, {333, 111}, {101, 101}, {7, 3}}

func TestGeometryMatchesImageMagick(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	type job struct {
		op, geo string
		w, h    int
	}
	var jobs []job
	for _, s := range imageSizes {
		for _, g := range sizeGeometries {
			jobs = append(jobs, job{"thumbnail", g, s[0], s[1]}, job{"resize", g, s[0], s[1]})
		}
		for _, g := range cropGeometries {
			jobs = append(jobs, job{"crop", g, s[0], s[1]})
		}
	}
	srcs := map[[2]int][]byte{}
	for _, s := range imageSizes {
		srcs[s] = encodePNG(t, testImage(s[0], s[1]))
		writeFile(t, dir, fmt.Sprintf("%dx%d.png", s[0], s[1]), srcs[s])
	}
	var mu sync.Mutex
	matched, refused := 0, 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			in := fmt.Sprintf("%s/%dx%d.png", dir, j.w, j.h)
			imGeo := j.geo
			if j.op == "crop" && !strings.ContainsAny(strings.TrimLeft(j.geo, "0123456789.%xX"), "+-") {
				imGeo += "+0+0" // without an offset ImageMagick would cut tiles; DIMS cuts one region
			}
			args := []string{in, "-" + j.op, imGeo, "+repage", "-format", "%wx%h", "info:"}
			if j.op == "crop" {
				args = append([]string{"-regard-warnings"}, args...)
			}
			want, imErr := magickTry(args...)
			out, _, err := Process(srcs[[2]int{j.w, j.h}], "/"+j.op+"/"+url.PathEscape(j.geo)+"/format/png/", nil)
			mu.Lock()
			defer mu.Unlock()
			name := fmt.Sprintf("%dx%d %s %s", j.w, j.h, j.op, j.geo)
			if imErr != nil {
				// ImageMagick refuses a percentage that leaves no pixels, and for a crop outside
				// the image warns "geometry does not contain image" and makes a 1×1 image; DIMS
				// fails with the manual's sentence in both cases (the second by design).
				if err == nil || err.Error() != ConvertFailed.Sentence() {
					t.Errorf("%s: ImageMagick failed (%s), DIMS gave err=%v", name, want, err)
				}
				refused++
				return
			}
			if err != nil {
				t.Errorf("%s: %v (%s); ImageMagick gives %s", name, err, err.(*Error).Detail, want)
				return
			}
			b := decode(t, out).Bounds()
			if got := fmt.Sprintf("%dx%d", b.Dx(), b.Dy()); got != want {
				t.Errorf("%s: got %s, ImageMagick %s", name, got, want)
				return
			}
			matched++
		})
	}
	wg.Wait()
	t.Logf("%d geometry results equal ImageMagick's; %d refused by both", matched, refused)
}

func magickTry(args ...string) (string, error) {
	out, err := execConvert(args...)
	return strings.TrimSpace(out), err
}

// TestResampleQualityMatchesImageMagick checks pixels, not just sizes: the Lanczos resampler
// must be visually indistinguishable from ImageMagick's -resize.
func TestResampleQualityMatchesImageMagick(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	src := encodePNG(t, testImage(640, 480))
	in := writeFile(t, dir, "in.png", src)
	for _, g := range []string{"200x200", "500x375", "61x47", "1000x1000", "50%"} {
		ref := dir + "/ref.png"
		magick(t, in, "-resize", g, ref)
		want := decode(t, readFile(t, ref))
		got := decode(t, mustProcess(t, src, "/resize/"+url.PathEscape(g)+"/format/png", nil))
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: size %v, ImageMagick %v", g, got.Bounds(), want.Bounds())
		}
		if p := psnr(got, want); p < 35 {
			t.Errorf("%s: PSNR against ImageMagick %.1f dB, want ≥ 35", g, p)
		} else {
			t.Logf("%s: PSNR against ImageMagick %.1f dB", g, p)
		}
	}
}

func TestParseGeometry(t *testing.T) {
	for _, bad := range []string{"", "x", "0x100", "100x0", "abc", "100xx100", "100x100+1", "10.5x10", "100x100+1+2+3",
		"-100x100", "100x100++1+1", "9999999x1", "100 x 100", "1e3x10", "+1+1"} {
		if g, ok := parseGeometry(bad); ok && (g.validForCrop() || g.validForSize()) {
			t.Errorf("%q parsed as %+v", bad, g)
		}
	}
	for _, good := range []string{"100", "x100", "100x", "50%", "50.5%x20%", "100x200+20+30", "100x200-20-30", "100X200!", "10000@"} {
		if _, ok := parseGeometry(good); !ok {
			t.Errorf("%q refused", good)
		}
	}
	if _, err := ParseRecipe("/thumbnail/100x100+1+1/"); err == nil {
		t.Error("thumbnail accepted an offset")
	}
	if _, err := ParseRecipe("/crop/100/"); err == nil {
		t.Error("crop accepted a width alone")
	}
	if _, err := ParseRecipe("/resize/100x100@/"); err == nil {
		t.Error("resize accepted WxH@")
	}
}

// TestShrinkOnLoadMatchesGeneralPath checks the JPEG fast path (box-averaging the YCbCr planes
// before conversion) against the general path on the same decoded pixels, for every chroma
// subsampling ImageMagick writes and for rotated EXIF orientations.
func TestShrinkOnLoadMatchesGeneralPath(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	// A plasma fractal, like a photograph: the fast path is for photographs. (On the synthetic
	// testImage, saturated hard edges clip differently when chroma is averaged before the
	// conversion, which costs a few dB without being visible.)
	in := filepath.Join(dir, "in.png")
	magick(t, "-seed", "3", "-size", "643x481", "plasma:fractal", in)
	var sources [][]byte
	for _, sf := range []string{"1x1", "2x1", "1x2", "2x2", "4x1", "4x2"} {
		out := filepath.Join(dir, "s"+sf+".jpg")
		magick(t, in, "-sampling-factor", sf, "-quality", "92", out)
		sources = append(sources, readFile(t, out))
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, decode(t, readFile(t, in)), nil)
	for _, o := range []byte{3, 6, 8} {
		sources = append(sources, exifJPEG(jb.Bytes(), o))
	}
	worst := math.Inf(1)
	for i, src := range sources {
		orientation := exifOrientation(src)
		img, err := jpeg.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		general := encodePNG(t, orient(toRGBA(img), orientation))
		for _, g := range []string{"100x100", "61x47", "200", "x50", "10000@"} {
			recipe := "/thumbnail/" + url.PathEscape(g) + "/format/png/"
			fast := decode(t, mustProcess(t, src, recipe, nil))
			want := decode(t, mustProcess(t, general, recipe, nil))
			if fast.Bounds() != want.Bounds() {
				t.Fatalf("source %d %s: %v, general path %v", i, g, fast.Bounds(), want.Bounds())
			}
			p := psnr(fast, want)
			if p < 40 {
				t.Errorf("source %d (orientation %d) %s: PSNR %.1f dB against the general path", i, orientation, g, p)
			}
			worst = math.Min(worst, p)
		}
	}
	t.Logf("lowest PSNR against the general path: %.1f dB", worst)
}
