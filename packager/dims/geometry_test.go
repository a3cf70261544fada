package dims

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
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

// TestJPEGShrinkOnLoadMatchesImageMagick judges the whole JPEG fast path by ImageMagick's full
// -resize of the same JPEG (decoded at full size by libjpeg), at each decoding scale.
func TestJPEGShrinkOnLoadMatchesImageMagick(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "photo.jpg")
	magick(t, plasma(t, dir, 11, 1600, 1200), "-quality", "90", in)
	src := readFile(t, in)
	// 1600×1200 to 400x300 decodes at 1/2, 200x150 at 1/4, 100x75 and 45x45 at 1/8.
	for _, g := range []string{"400x300", "200x150", "100x75", "45x45"} {
		ref := filepath.Join(dir, "ref.png")
		magick(t, in, "-resize", g, ref)
		want := decode(t, readFile(t, ref))
		got := decode(t, mustProcess(t, src, "/resize/"+g+"/format/png", nil))
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: size %v, ImageMagick %v", g, got.Bounds(), want.Bounds())
		}
		if p := psnr(got, want); p < 40 {
			t.Errorf("%s: PSNR against ImageMagick %.1f dB, want ≥ 40", g, p)
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

// TestShrinkOnLoadMatchesGeneralPath checks the JPEG fast path (decoding at 1/2, 1/4 or 1/8 with
// jpegscale, box-averaging the YCbCr planes before conversion) against the general path on the
// same image decoded at full size, for every chroma subsampling ImageMagick writes (4:1:1 and
// 4:1:0, and the progressive file, fall back to image/jpeg), for rotated EXIF orientations and
// for reductions that decode at each scale.
func TestShrinkOnLoadMatchesGeneralPath(t *testing.T) {
	requireImageMagick(t)
	// A plasma fractal, like a photograph: the fast path is for photographs. (On the synthetic
	// testImage, saturated hard edges clip differently when chroma is averaged before the
	// conversion, which costs a few dB without being visible.)
	dir := t.TempDir()
	in := plasma(t, dir, 3, 643, 481)
	var sources [][]byte
	for _, sf := range []string{"1x1", "2x1", "1x2", "2x2", "4x1", "4x2"} {
		out := filepath.Join(dir, "s"+sf+".jpg")
		magick(t, in, "-sampling-factor", sf, "-quality", "92", out)
		sources = append(sources, readFile(t, out))
	}
	progressive := filepath.Join(dir, "progressive.jpg")
	magick(t, in, "-interlace", "Plane", "-quality", "92", progressive)
	sources = append(sources, readFile(t, progressive))
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
		// 643×481 to: 100x100 decodes at 1/2, 61x47 and x50 at 1/4, 30x30 at 1/8; 200 and
		// 10000@ (115×86) box-average only.
		for _, g := range []string{"100x100", "61x47", "200", "x50", "10000@", "30x30"} {
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

// TestRandomGeometriesMatchImageMagick draws a few hundred geometries of every form (W, xH,
// Wx, WxH; whole and fractional percentages on one or both sizes; @, !, <, > and their
// combinations; crops with signed offsets and %) on images of random sizes, and asks
// ImageMagick for each result's size in one process per batch. The fixed lists above check
// the chosen forms through Process; this checks the arithmetic on many more.
func TestRandomGeometriesMatchImageMagick(t *testing.T) {
	requireImageMagick(t)
	rng := rand.New(rand.NewPCG(8, 2026))
	size := func() string {
		switch rng.IntN(3) {
		case 0:
			return fmt.Sprint(1 + rng.IntN(9))
		case 1:
			return fmt.Sprint(1 + rng.IntN(200))
		}
		return fmt.Sprint(1 + rng.IntN(1500))
	}
	percent := func() string {
		if rng.IntN(4) == 0 {
			return fmt.Sprintf("%.1f%%", 0.5+rng.Float64()*250)
		}
		return fmt.Sprintf("%d%%", 1+rng.IntN(250))
	}
	signed := func() string {
		if rng.IntN(3) == 0 {
			return fmt.Sprint("-", rng.IntN(300))
		}
		return fmt.Sprint("+", rng.IntN(300))
	}
	sizeFlags := []string{"", "!", ">", "<", "!>", "!<"}
	randomSize := func() string {
		switch rng.IntN(6) {
		case 0:
			return fmt.Sprint(1+rng.IntN(400000), "@", []string{"", ">", "<"}[rng.IntN(3)])
		case 1:
			w, h := percent(), percent()
			return []string{w, w + "x" + h, "x" + h}[rng.IntN(3)] + sizeFlags[rng.IntN(len(sizeFlags))]
		}
		return []string{size(), size() + "x", "x" + size(), size() + "x" + size()}[rng.IntN(4)] + sizeFlags[rng.IntN(len(sizeFlags))]
	}
	randomCrop := func() string {
		g := size() + "x" + size()
		if rng.IntN(3) == 0 {
			g = percent() + "x" + percent()
		}
		g += signed() + signed()
		if rng.IntN(6) == 0 {
			g += "%"
		}
		return g
	}
	type probe struct {
		op, geo string
		w, h    int
		want    string // ours, to compare with ImageMagick's
	}
	var probes []probe
	for len(probes) < 600 {
		w, h := 1+rng.IntN(1200), 1+rng.IntN(1200)
		p := probe{op: "-resize", geo: randomSize(), w: w, h: h}
		if rng.IntN(3) == 0 {
			p.op, p.geo = "-crop", randomCrop()
		}
		g, ok := parseGeometry(p.geo)
		if !ok || p.op == "-crop" && !g.validForCrop() || p.op == "-resize" && !g.validForSize() {
			t.Fatalf("%s %s refused", p.op, p.geo)
		}
		if p.op == "-crop" {
			x0, y0, x1, y1 := g.cropRect(w, h)
			r := image.Rect(x0, y0, x1, y1).Intersect(image.Rect(0, 0, w, h))
			if r.Empty() {
				continue // DIMS refuses; ImageMagick makes 1×1 (checked in TestGeometryMatchesImageMagick)
			}
			p.want = fmt.Sprintf("%dx%d", r.Dx(), r.Dy())
		} else {
			nw, nh := g.size(w, h)
			if nw == 0 || nh == 0 || nw*nh > 1_000_000 {
				continue // refused by both, or too slow to resize here
			}
			p.want = fmt.Sprintf("%dx%d", nw, nh)
		}
		probes = append(probes, p)
	}
	for start := 0; start < len(probes); start += 100 {
		batch := probes[start:min(start+100, len(probes))]
		var args []string
		for _, p := range batch {
			args = append(args, "(", "-size", fmt.Sprintf("%dx%d", p.w, p.h), "xc:gray", p.op, p.geo, "+repage",
				"-format", `%wx%h\n`, "-write", "info:", ")", "+delete")
		}
		// A final image keeps convert from complaining that nothing is left to write.
		out, err := execConvert(append(args, "xc:", "null:")...)
		got := strings.Fields(out)
		if err != nil || len(got) != len(batch) {
			t.Fatalf("convert: %v\n%s", err, out)
		}
		for i, p := range batch {
			if got[i] != p.want {
				t.Errorf("%dx%d %s %s: ours %s, ImageMagick %s", p.w, p.h, p.op, p.geo, p.want, got[i])
			}
		}
	}
	t.Logf("%d random geometries give ImageMagick's sizes", len(probes))
}
