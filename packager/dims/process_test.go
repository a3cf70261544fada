package dims

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/packager/jpegopt"
)

// The manual's four sentences, copied from its DIMS section; Error() must be exactly these.
const (
	manualNotDownloaded = "The original file was not successfully downloaded."
	manualTooLarge      = "The original file size is too large."
	manualLoadFailed    = "The original file loading failed."
	manualConvertFailed = "Image converting failed or invalid DIMS command."
)

func TestSentencesAreTheManuals(t *testing.T) {
	for r, want := range map[Reason]string{NotDownloaded: manualNotDownloaded, TooLarge: manualTooLarge, LoadFailed: manualLoadFailed, ConvertFailed: manualConvertFailed} {
		if got := (&Error{Reason: r}).Error(); got != want {
			t.Errorf("reason %d: %q, want %q", r, got, want)
		}
	}
}

func failure(t *testing.T, src []byte, recipe string, cfg *Config) *Error {
	t.Helper()
	out, _, err := Process(src, recipe, cfg)
	if err == nil {
		t.Fatalf("%s: succeeded with %d bytes, want a failure", recipe, len(out))
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("%s: error %T %v is not *Error", recipe, err, err)
	}
	return e
}

// pngHeader makes a PNG that declares w×h but has no pixel data: a decompression bomb's header.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	writeChunk(&b, "IHDR", ihdr)
	writeChunk(&b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.ChecksumIEEE(append([]byte(typ), data...))
	binary.Write(b, binary.BigEndian, crc)
}

func TestFailures(t *testing.T) {
	src := encodePNG(t, testImage(64, 48))
	small := DefaultConfig()
	small.MaxSourceSize = 100
	truncated := src[:len(src)/2]
	cases := []struct {
		name, recipe string
		src          []byte
		cfg          *Config
		want         string
	}{
		{"too large", "/resize/10x10/", src, small, manualTooLarge},
		{"bomb", "/resize/10x10/", pngHeader(60000, 60000), nil, manualLoadFailed},
		{"truncated png", "/resize/10x10/", truncated, nil, manualLoadFailed},
		{"bad header", "/resize/10x10/", append([]byte("\x89PNG\r\n\x1a\n"), 1, 2, 3), nil, manualLoadFailed},
		{"not an image", "/resize/10x10/", []byte("hello, world"), nil, manualConvertFailed},
		{"unknown command", "/rotate/90/", src, nil, manualConvertFailed},
		{"missing argument", "/resize/", src, nil, manualConvertFailed},
		{"bad geometry", "/resize/10xx10/", src, nil, manualConvertFailed},
		{"bad format", "/format/webp/", src, nil, manualConvertFailed},
		{"quality over 100", "/quality/101/", src, nil, manualConvertFailed},
		{"quality negative", "/quality/-1/", src, nil, manualConvertFailed},
		{"bad firstframeonly", "/firstframeonly/yes/", src, nil, manualConvertFailed},
		{"unknown composite", "/composite/nothere/", src, nil, manualConvertFailed},
		{"unknown byoriginal", "/byoriginal/nothere/", src, nil, manualConvertFailed},
		{"crop outside", "/crop/10x10+100+100/", src, nil, manualConvertFailed},
		{"output too big", "/resize/1000000x1000000/", src, nil, manualConvertFailed},
		{"percent to nothing", "/resize/1%25/", encodePNG(t, testImage(20, 20)), nil, manualConvertFailed},
		{"empty recipe", "///", src, nil, manualConvertFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := failure(t, c.src, c.recipe, c.cfg)
			if e.Error() != c.want {
				t.Fatalf("%q (%s), want %q", e.Error(), e.Detail, c.want)
			}
		})
	}
	redirect := DefaultConfig()
	redirect.Redirect = true
	if e := failure(t, src, "/bogus/", redirect); !e.Redirect {
		t.Error("OnFailure=redirect not reported on the error")
	}
	if e := failure(t, src, "/bogus/", nil); e.Redirect {
		t.Error("OnFailure=message reported as redirect")
	}
}

func TestAnimatedBombRefusedBeforeDecoding(t *testing.T) {
	// 2000 frames of 100×100 is 20 megapixels; a 10-megapixel limit refuses it from the block
	// scan, unless only the first frame is decoded.
	g := &gif.GIF{LoopCount: 0}
	pal := color.Palette{color.Black, color.White}
	for range 2000 {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, 100, 100), pal))
		g.Delay = append(g.Delay, 1)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxPixels = 10_000_000
	if e := failure(t, b.Bytes(), "/resize/10x10/", cfg); e.Error() != manualLoadFailed {
		t.Fatalf("%v (%s)", e, e.Detail)
	}
	mustProcess(t, b.Bytes(), "/format/png/", cfg) // a still from the first frame decodes one frame
	out := mustProcess(t, b.Bytes(), "/firstframeonly/on/resize/10x10/", cfg)
	if n, _ := countGIFFrames(out); n != 1 {
		t.Fatalf("first frame only gave %d frames", n)
	}
}

func TestRecipeParsing(t *testing.T) {
	for in, want := range map[string]string{
		"/thumbnail/78x110/format/png/quality/50/": "/thumbnail/78x110/format/png/quality/50/",
		"thumbnail/50%25":                          "/thumbnail/50%25/",
		"/THUMBNAIL/640X480!/":                     "/thumbnail/640X480%21/",
		"//resize//100x100//optimize":              "/resize/100x100/optimize/",
		"/crop/100x200+20+30/":                     "/crop/100x200+20+30/",
		"/composite/water1/":                       "/composite/water1/",
		"/byoriginal/size1/":                       "/byoriginal/size1/",
		"/firstframeonly/ON/resize/200x200/":       "/firstframeonly/ON/resize/200x200/",
		"/thumbnail/50%x30%/":                      "/thumbnail/50%25x30%25/",
		"/thumbnail/50%25x30%/":                    "/thumbnail/50%25x30%25/",
		"/thumbnail/50%x30%25/":                    "/thumbnail/50%25x30%25/",
		"/thumbnail/100x100%3E/":                   "/thumbnail/100x100%3E/",
		"/format/JPEG/":                            "/format/jpg/",
	} {
		r, err := ParseRecipe(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%s: %s, want %s", in, r.String(), want)
		}
	}
	for _, bad := range []string{"", "/", "/optimize/x/", "/crop/a%2Fb/", "/resize/100x100/extra"} {
		if _, err := ParseRecipe(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOutputFormatsAndQuality(t *testing.T) {
	img := testImage(120, 90)
	var jb bytes.Buffer
	jpeg.Encode(&jb, img, &jpeg.Options{Quality: 80})
	src := jb.Bytes()
	if q := estimateJPEGQuality(src); q != 80 {
		t.Errorf("estimated quality %d, want 80", q)
	}
	for _, c := range []struct{ recipe, ct string }{
		{"/format/png/", "image/png"}, {"/format/gif/", "image/gif"}, {"/format/jpg/", "image/jpeg"}, {"/resize/60x60/", "image/jpeg"},
	} {
		out, ct, err := Process(src, c.recipe, nil)
		if err != nil || ct != c.ct {
			t.Fatalf("%s: %s %v", c.recipe, ct, err)
		}
		if got := contentTypeOf(out); got != c.ct {
			t.Fatalf("%s: wrote %s", c.recipe, got)
		}
	}
	if out := mustProcess(t, src, "/quality/95/", nil); !bytes.Equal(out, src) {
		t.Error("quality above the original's re-encoded the image; it may only lower quality")
	}
	low := mustProcess(t, src, "/quality/20/", nil)
	if q := estimateJPEGQuality(low); q != 20 || len(low) >= len(src) {
		t.Errorf("quality 20 gave quality %d, %d bytes (from %d)", q, len(low), len(src))
	}
	if out := mustProcess(t, encodePNG(t, img), "/format/jpg/quality/0/", nil); estimateJPEGQuality(out) != 1 {
		t.Errorf("quality 0 gave %d, want the encoder's minimum 1", estimateJPEGQuality(out))
	}
}

func contentTypeOf(b []byte) string {
	return map[string]string{"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}[sniff(b)]
}

func TestOptimizeIsLossless(t *testing.T) {
	var jb bytes.Buffer
	jpeg.Encode(&jb, testImage(300, 200), &jpeg.Options{Quality: 85})
	src := jb.Bytes()
	want, err := jpegopt.Optimize(src)
	if err != nil {
		t.Fatal(err)
	}
	out := mustProcess(t, src, "/optimize", nil)
	if !bytes.Equal(out, want) {
		t.Fatalf("optimize alone gave %d bytes, jpegopt %d", len(out), len(want))
	}
	if len(out) >= len(src) {
		t.Errorf("optimize did not shrink a Go-encoded JPEG (%d → %d)", len(src), len(out))
	}
	if maxDiff(decode(t, src), decode(t, out)) != 0 {
		t.Error("optimize changed pixels")
	}
	// Combined with a resize, the re-encoded JPEG is optimised too.
	plain := mustProcess(t, src, "/resize/100x100/", nil)
	opt := mustProcess(t, src, "/resize/100x100/optimize/", nil)
	if len(opt) > len(plain) {
		t.Errorf("resize+optimize %d bytes > resize %d", len(opt), len(plain))
	}
	// PNG and GIF: the manual supports JPEG only, so optimize leaves them alone.
	p := encodePNG(t, testImage(30, 20))
	if out := mustProcess(t, p, "/optimize/", nil); !bytes.Equal(out, p) {
		t.Error("optimize changed a PNG")
	}
}

// jpegWithOrientation encodes img with an EXIF orientation o.
func jpegWithOrientation(t *testing.T, img image.Image, o uint16) []byte {
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return exifJPEG(jb.Bytes(), byte(o))
}

func TestEXIFOrientation(t *testing.T) {
	// A 60×40 image, red in its top-left quarter as stored.
	img := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for y := range 40 {
		for x := range 60 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 30 && y < 20 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	// Where the stored top-left corner is seen after each orientation, in the upright image.
	for o, want := range map[uint16]struct {
		w, h   int
		corner image.Point
	}{
		1: {60, 40, image.Pt(0, 0)}, 2: {60, 40, image.Pt(59, 0)}, 3: {60, 40, image.Pt(59, 39)}, 4: {60, 40, image.Pt(0, 39)},
		5: {40, 60, image.Pt(0, 0)}, 6: {40, 60, image.Pt(39, 0)}, 7: {40, 60, image.Pt(39, 59)}, 8: {40, 60, image.Pt(0, 59)},
	} {
		src := jpegWithOrientation(t, img, o)
		if got := exifOrientation(src); got != int(o) {
			t.Fatalf("orientation %d read as %d", o, got)
		}
		out := decode(t, mustProcess(t, src, "/format/png/", nil))
		if b := out.Bounds(); b.Dx() != want.w || b.Dy() != want.h {
			t.Errorf("orientation %d: %v, want %dx%d", o, b, want.w, want.h)
		}
		if r, _, _, _ := out.At(want.corner.X, want.corner.Y).RGBA(); r < 0xc000 {
			t.Errorf("orientation %d: stored top-left corner not at %v", o, want.corner)
		}
	}
}

// manualDims is the manual's <Dims> examples in one element (its composite files, presets and
// conditions), with every attribute set away from its default.
const manualDims = `<Dims Status="Active" Keyword="dims" port="8500" MaxSourceSize="3" OnFailure="redirect" FirstFrameOnly="ON">
   <Composite Name="watermark1" File="/img/small.jpg" />
   <Composite Name="water1" File="/img/small.jpg" />
   <Composite Name="water2" File="/img/medium.jpg" Gravity="se" Geometry="+0+0" Dissolve="50" />
   <Composite Name="water3" File="/img/big.jpg" Gravity="se" Geometry="+10+10" Dissolve="50" />
   <Composite Name="water_ratio" File="/img/wmark_s.png" Gravity="s" Geometry="+0+15%" Dissolve="100" />
   <ByOriginal Name="size1">
      <Condition Width="1024" Height="768">/quality/50/</Condition>
      <Condition>/resize/1024x768/</Condition>
   </ByOriginal>
   <ByOriginal Name="size_water">
      <Condition Width="400">/composite/water1/</Condition>
      <Condition Width="800">/composite/water2/</Condition>
      <Condition>/composite/water3/</Condition>
   </ByOriginal>
</Dims>`

const manualConfig = "<Server><VHostDefault><Options>\n" + manualDims + "\n</Options></VHostDefault></Server>"

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(manualConfig))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Active || cfg.Keyword != "dims" || cfg.MaxSourceSize != 3<<20 || !cfg.Redirect || !cfg.FirstFrameOnly {
		t.Errorf("attributes: %+v", cfg)
	}
	if c := cfg.Composites["water1"]; *c != (Composite{File: "/img/small.jpg", Gravity: "c", Dissolve: 50}) {
		t.Errorf("water1 defaults: %+v", c)
	}
	if c := cfg.Composites["water2"]; *c != (Composite{File: "/img/medium.jpg", Gravity: "se", Dissolve: 50}) {
		t.Errorf("water2: %+v", c)
	}
	if c := cfg.Composites["water_ratio"]; *c != (Composite{File: "/img/wmark_s.png", Gravity: "s", Y: 15, YPercent: true, Dissolve: 100}) {
		t.Errorf("water_ratio: %+v", c)
	}
	conds := cfg.ByOriginal["size1"]
	if len(conds) != 2 || conds[0].Width != 1024 || conds[0].Height != 768 || conds[0].Recipe.String() != "/quality/50/" ||
		conds[1].Width != 0 || conds[1].Height != 0 || conds[1].Recipe.String() != "/resize/1024x768/" {
		t.Errorf("size1: %+v", conds)
	}

	def, err := ParseConfig([]byte(`<Dims/>`))
	if err != nil {
		t.Fatal(err)
	}
	if def.Active || def.Keyword != "dims" || def.MaxSourceSize != 10<<20 || def.Redirect || def.FirstFrameOnly || def.MaxPixels != DefaultMaxPixels {
		t.Errorf("manual defaults: %+v", def)
	}
	none, err := ParseConfig([]byte(`<Server/>`))
	if err != nil || none.Active {
		t.Errorf("no <Dims>: %+v %v (DIMS is inactive unless configured)", none, err)
	}
	for _, bad := range []string{
		`<Dims Status="On"/>`, `<Dims MaxSourceSize="ten"/>`, `<Dims MaxSourceSize="0"/>`, `<Dims OnFailure="retry"/>`,
		`<Dims FirstFrameOnly="yes"/>`, `<Dims><Composite Name="a"/></Dims>`, `<Dims><Composite File="x"/></Dims>`,
		`<Dims><Composite Name="a/b" File="x"/></Dims>`, `<Dims><Composite Name="a" File="x" Gravity="middle"/></Dims>`,
		`<Dims><Composite Name="a" File="x" Geometry="10,10"/></Dims>`, `<Dims><Composite Name="a" File="x" Dissolve="101"/></Dims>`,
		`<Dims><Composite Name="a" File="x"/><Composite Name="a" File="y"/></Dims>`,
		`<Dims><ByOriginal Name="b"><Condition>/bogus/</Condition></ByOriginal></Dims>`,
		`<Dims><ByOriginal Name="b"><Condition Width="-1">/quality/5/</Condition></ByOriginal></Dims>`,
		`<Dims><ByOriginal Name="b"><Condition>/byoriginal/b/</Condition></ByOriginal></Dims>`,
		`<Dims><ByOriginal Name="b"><Condition>/composite/none/</Condition></ByOriginal></Dims>`,
		`<Dims><ByOriginal Name="b"><Condition>/firstframeonly/on/</Condition></ByOriginal></Dims>`,
		`<Dims`,
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestLoadConfigResolvesCompositeFiles(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "dims.xml", []byte(`<Dims><Composite Name="w" File="logo.png"/><Composite Name="a" File="/abs/logo.png"/></Dims>`))
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Composites["w"].File != filepath.Join(dir, "logo.png") || cfg.Composites["a"].File != "/abs/logo.png" {
		t.Errorf("files: %s %s", cfg.Composites["w"].File, cfg.Composites["a"].File)
	}
}

func TestByOriginalFirstMatchWins(t *testing.T) {
	cfg, err := ParseConfig([]byte(`<Dims>
	<ByOriginal Name="sizes">
		<Condition Width="100">/resize/10x10/</Condition>
		<Condition Width="200" Height="100">/resize/20x20/</Condition>
		<Condition Height="300">/resize/30x30/</Condition>
		<Condition>/resize/40x40/</Condition>
		<Condition Width="100000">/resize/50x50/</Condition>
	</ByOriginal>
	<ByOriginal Name="never"><Condition Width="1">/resize/1x1/</Condition></ByOriginal>
	</Dims>`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ w, h, want int }{
		{99, 500, 10},  // first condition: width below 100
		{100, 500, 40}, // "below" is strict; 100 is not below 100, and 500 fails the rest
		{150, 99, 20},  // both attributes must hold
		{150, 100, 30}, // height 100 is not below 100: falls to Height 300
		{500, 299, 30}, // width is not tested by the third condition
		{500, 300, 40}, // the unconditional condition catches the rest, before the later one
	} {
		out := decode(t, mustProcess(t, encodePNG(t, testImage(c.w, c.h)), "/byoriginal/sizes/format/png/", cfg))
		if b := out.Bounds(); max(b.Dx(), b.Dy()) != c.want {
			t.Errorf("%dx%d: got %v, want the %d-pixel box", c.w, c.h, b, c.want)
		}
	}
	src := encodePNG(t, testImage(50, 50))
	if out := mustProcess(t, src, "/byoriginal/never/", cfg); !bytes.Equal(out, src) {
		t.Error("no matching condition must leave the image as it is")
	}
	// Conditions test the original, not what earlier commands made of it.
	out := decode(t, mustProcess(t, encodePNG(t, testImage(500, 500)), "/resize/50x50/byoriginal/sizes/", cfg))
	if b := out.Bounds(); b.Dx() != 40 {
		t.Errorf("after resize: %v, want the condition of the 500×500 original (40)", b)
	}
}

func TestCompositeMatchesImageMagick(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	base := image.NewRGBA(image.Rect(0, 0, 201, 101))
	for i := range base.Pix {
		base.Pix[i] = 40
		if i%4 == 3 {
			base.Pix[i] = 255
		}
	}
	ov := image.NewNRGBA(image.Rect(0, 0, 30, 21))
	for y := range 21 {
		for x := range 30 {
			ov.SetNRGBA(x, y, color.NRGBA{uint8(200 + x), uint8(10 * y), 220, uint8(255 - 4*x)})
		}
	}
	basePath := writeFile(t, dir, "base.png", encodePNG(t, base))
	ovPath := writeFile(t, dir, "ov.png", encodePNG(t, ov))
	imGravity := map[string]string{"nw": "NorthWest", "n": "North", "ne": "NorthEast", "w": "West", "c": "Center", "e": "East", "sw": "SouthWest", "s": "South", "se": "SouthEast"}
	checked := 0
	for g, name := range imGravity {
		for _, geo := range []string{"+0+0", "+7+5", "-10-4", "+190+0"} {
			for _, dissolve := range []int{100, 50} {
				xml := fmt.Sprintf(`<Dims><Composite Name="w" File=%q Gravity=%q Geometry=%q Dissolve="%d"/></Dims>`, ovPath, g, geo, dissolve)
				cfg, err := ParseConfig([]byte(xml))
				if err != nil {
					t.Fatal(err)
				}
				got := decode(t, mustProcess(t, encodePNG(t, base), "/composite/w/", cfg))
				ref := filepath.Join(dir, "ref.png")
				magick(t, basePath, ovPath, "-gravity", name, "-geometry", geo, "-compose", "dissolve", "-define", fmt.Sprintf("compose:args=%d", dissolve), "-composite", ref)
				want := decode(t, readFile(t, ref))
				if d := maxDiff(got, want); d > 2 {
					t.Errorf("gravity %s geometry %s dissolve %d: differs from ImageMagick by %d", g, geo, dissolve, d)
				}
				checked++
			}
		}
	}
	t.Logf("%d composites equal ImageMagick's within 2/255", checked)
}

func TestCompositePercentGeometry(t *testing.T) {
	// "+0+15%" with gravity s on a 200×100 image: 15 % of the height above the bottom edge.
	c := &Composite{Gravity: "s", Y: 15, YPercent: true}
	if x, y := compositePosition(200, 100, 20, 10, c); x != 90 || y != 75 {
		t.Errorf("s +0+15%%: %d,%d, want 90,75", x, y)
	}
	c = &Composite{Gravity: "nw", X: 10, XPercent: true, Y: -5}
	if x, y := compositePosition(200, 100, 20, 10, c); x != 20 || y != -5 {
		t.Errorf("nw +10%%-5: %d,%d, want 20,-5", x, y)
	}
}

func maxDiff(a, b image.Image) int {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 1 << 16
	}
	worst := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			for _, d := range []int{int(ca.R) - int(cb.R), int(ca.G) - int(cb.G), int(ca.B) - int(cb.B), int(ca.A) - int(cb.A)} {
				worst = max(worst, abs(d))
			}
		}
	}
	return worst
}

// animation builds a 4-frame GIF: a full first frame, then partial frames with each disposal.
func animation(t *testing.T) []byte {
	pal := color.Palette{color.RGBA{0, 0, 0, 0}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 255, 255}}
	full := image.NewPaletted(image.Rect(0, 0, 80, 60), pal)
	for i := range full.Pix {
		full.Pix[i] = 4
	}
	part := func(r image.Rectangle, idx uint8) *image.Paletted {
		p := image.NewPaletted(r, pal)
		for i := range p.Pix {
			p.Pix[i] = idx
		}
		return p
	}
	g := &gif.GIF{
		Image:     []*image.Paletted{full, part(image.Rect(10, 10, 40, 30), 1), part(image.Rect(40, 20, 70, 50), 2), part(image.Rect(0, 0, 20, 20), 3)},
		Delay:     []int{10, 20, 30, 40},
		Disposal:  []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious, gif.DisposalNone},
		LoopCount: 3,
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAnimatedGIF(t *testing.T) {
	src := animation(t)
	out := mustProcess(t, src, "/resize/40x30/", nil)
	g, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 4 || fmt.Sprint(g.Delay) != "[10 20 30 40]" || g.LoopCount != 3 ||
		fmt.Sprint(g.Disposal) != fmt.Sprint([]byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious, gif.DisposalNone}) {
		t.Fatalf("frames %d delays %v disposal %v loop %d", len(g.Image), g.Delay, g.Disposal, g.LoopCount)
	}
	if g.Config.Width != 40 || g.Config.Height != 30 {
		t.Fatalf("screen %dx%d", g.Config.Width, g.Config.Height)
	}
	// What a viewer shows must be the original's pictures, scaled: compare each coalesced frame
	// with the original's coalesced frame at the same point.
	orig, _ := gif.DecodeAll(bytes.NewReader(src))
	want, got := coalesce(orig), coalesce(g)
	for i := range want {
		// Sample frame centres of flat regions, away from resampled edges.
		for _, p := range []image.Point{{2, 2}, {25, 20}, {55, 35}, {75, 55}, {5, 5}} {
			wc := want[i].RGBAAt(p.X, p.Y)
			gc := got[i].RGBAAt(p.X/2, p.Y/2)
			if wc != gc {
				t.Errorf("frame %d at %v: %v, want %v", i, p, gc, wc)
			}
		}
	}

	// FirstFrameOnly: from the configuration, and overridden by the URL either way.
	on := DefaultConfig()
	on.FirstFrameOnly = true
	for _, c := range []struct {
		cfg    *Config
		recipe string
		frames int
	}{
		{nil, "/resize/40x30/", 4}, {on, "/resize/40x30/", 1},
		{on, "/firstframeonly/off/resize/40x30/", 4}, {nil, "/firstframeonly/on/resize/40x30/", 1},
		{nil, "/resize/40x30/firstframeonly/on/", 1}, {on, "/firstframeonly/off/", 4},
	} {
		out := mustProcess(t, src, c.recipe, c.cfg)
		if n, err := countGIFFrames(out); err != nil || n != c.frames {
			t.Errorf("%s (FirstFrameOnly=%v): %d frames, want %d", c.recipe, c.cfg != nil, n, c.frames)
		}
	}
	// Enlarging every frame counts against the pixel limit as a whole.
	limited := DefaultConfig()
	limited.MaxPixels = 100_000
	mustProcess(t, src, "/resize/200%25/", limited)
	if e := failure(t, src, "/resize/400%25/", limited); e.Error() != manualConvertFailed {
		t.Errorf("4 frames of 320x240 under a 100000-pixel limit: %v", e)
	}
	// Other output formats take the first frame.
	if img := decode(t, mustProcess(t, src, "/format/png/", nil)); img.Bounds().Dx() != 80 {
		t.Error("gif to png")
	}
	// A crop keeps the animation too.
	g2, _ := gif.DecodeAll(bytes.NewReader(mustProcess(t, src, "/crop/30x20+10+10/", nil)))
	if len(g2.Image) != 4 || g2.Config.Width != 30 || g2.Image[1].At(5, 5) != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("crop: %d frames %dx%d", len(g2.Image), g2.Config.Width, g2.Config.Height)
	}
}

// coalesce renders what a viewer shows for each frame.
func coalesce(g *gif.GIF) []*image.RGBA {
	canvas := image.NewRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
	var out []*image.RGBA
	for i, fr := range g.Image {
		var saved *image.RGBA
		if g.Disposal[i] == gif.DisposalPrevious {
			saved = cloneRGBA(canvas)
		}
		drawFrame(canvas, fr)
		out = append(out, cloneRGBA(canvas))
		switch g.Disposal[i] {
		case gif.DisposalBackground:
			for y := fr.Rect.Min.Y; y < fr.Rect.Max.Y; y++ {
				for x := fr.Rect.Min.X; x < fr.Rect.Max.X; x++ {
					canvas.SetRGBA(x, y, color.RGBA{})
				}
			}
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	return out
}

func TestGIFMatchesImageMagickFrames(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	in := writeFile(t, dir, "a.gif", animation(t))
	out := writeFile(t, dir, "b.gif", mustProcess(t, readFile(t, in), "/thumbnail/40x40/", nil))
	want := magick(t, in, "-coalesce", "-thumbnail", "40x40", "-format", "%T %wx%h\n", "info:")
	got := magick(t, out, "-format", "%T %wx%h\n", "info:")
	if got != want {
		t.Errorf("frames (delay size):\n%s\nImageMagick:\n%s", got, want)
	}
	if got, want := magick(t, out, "-format", "%D ", "info:"), "None Background Previous None"; got != want {
		t.Errorf("disposal as ImageMagick reads it: %s, want %s", got, want)
	}
}

func TestMaxSourceSizeBeforeDecoding(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSourceSize = 1 << 20
	big := make([]byte, 1<<20+1) // not even an image: the size alone decides
	if e := failure(t, big, "/resize/10x10/", cfg); e.Error() != manualTooLarge {
		t.Fatal(e)
	}
}

func TestTransparencyKept(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for y := range 40 {
		for x := range 20 {
			img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	out := decode(t, mustProcess(t, encodePNG(t, img), "/resize/20x20/", nil))
	if _, _, _, a := out.At(18, 10).RGBA(); a != 0 {
		t.Error("transparent half became opaque")
	}
	if r, g, b, a := out.At(2, 10).RGBA(); a != 0xffff || r != 0xffff || g != 0 || b != 0 {
		t.Errorf("red half: %x %x %x %x (no dark fringe from transparent black)", r, g, b, a)
	}
	j := decode(t, mustProcess(t, encodePNG(t, img), "/format/jpg/", nil))
	if r, g, b, _ := j.At(35, 10).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
		t.Error("JPEG of a transparent area is not white")
	}
}

// TestManualExamples runs every URL example of the manual's DIMS section on a 1280×960 JPEG
// (and the animated GIF ones on an animation), with the manual's own configuration, and asks
// ImageMagick for the sizes of the same geometry on the same file and for the frames and sizes
// of what we wrote.
func TestManualExamples(t *testing.T) {
	requireImageMagick(t)
	dir := t.TempDir()
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, decode(t, readFile(t, plasma(t, dir, 5, 1280, 960))), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	photo := writeFile(t, dir, "img.jpg", jb.Bytes())
	anim := writeFile(t, dir, "anim.gif", animation(t))
	for _, name := range []string{"small.jpg", "medium.jpg", "big.jpg", "wmark_s.png"} {
		magick(t, "-size", "40x30", "gradient:red-blue", filepath.Join(dir, name))
	}
	cfg, err := ParseConfig([]byte(strings.ReplaceAll(manualDims, `File="/img/`, `File="`+dir+`/`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src, recipe, contentType string
		imArgs                   []string // what ImageMagick does to the source for the same sizes
	}{
		{photo, "/optimize", "image/jpeg", nil},
		{photo, "/resize/500x500/", "image/jpeg", []string{"-resize", "500x500"}},
		{photo, "/crop/400x400/", "image/jpeg", []string{"-crop", "400x400+0+0"}},
		{photo, "/composite/watermark1/", "image/jpeg", nil},
		{photo, "/resize/100x100/optimize", "image/jpeg", []string{"-resize", "100x100"}},
		{photo, "/crop/100x200+20+30/", "image/jpeg", []string{"-crop", "100x200+20+30"}},
		{photo, "/thumbnail/78x110/", "image/jpeg", []string{"-thumbnail", "78x110"}},
		{photo, "/resize/200x200/", "image/jpeg", []string{"-resize", "200x200"}},
		{photo, "/format/png/", "image/png", nil},
		{photo, "/quality/25/", "image/jpeg", nil},
		{photo, "/composite/water1/", "image/jpeg", nil},
		{photo, "/byoriginal/size1/", "image/jpeg", []string{"-resize", "1024x768"}},
		{photo, "/byoriginal/size_water/", "image/jpeg", nil},
		{anim, "/firstframeonly/on/resize/200x200/", "image/gif", []string{"-delete", "1--1", "-resize", "200x200"}},
		{anim, "/firstframeonly/off/resize/200x200/", "image/gif", []string{"-coalesce", "-resize", "200x200"}},
		{photo, "/thumbnail/78x110/format/png/quality/50/", "image/png", []string{"-thumbnail", "78x110"}},
	} {
		src := readFile(t, c.src)
		out, ct, err := Process(src, c.recipe, cfg)
		if err != nil {
			t.Errorf("%s: %v (%s)", c.recipe, err, err.(*Error).Detail)
			continue
		}
		got := writeFile(t, dir, "out", out)
		if ct != c.contentType || contentTypeOf(out) != ct {
			t.Errorf("%s: %s, wrote %s, want %s", c.recipe, ct, contentTypeOf(out), c.contentType)
		}
		want := magick(t, append(append([]string{c.src}, c.imArgs...), "+repage", "-format", `%wx%h\n`, "info:")...)
		if have := magick(t, got, "-format", `%wx%h\n`, "info:"); have != want {
			t.Errorf("%s: frames %q, ImageMagick %q", c.recipe, have, want)
		}
		if strings.Contains(c.recipe, "optimize") && strings.Count(c.recipe, "/") == 1 {
			if len(out) >= len(src) || maxDiff(decode(t, out), decode(t, src)) != 0 {
				t.Errorf("%s: %d bytes from %d, or pixels changed", c.recipe, len(out), len(src))
			}
		}
	}
	if q := estimateJPEGQuality(mustProcess(t, readFile(t, photo), "/quality/25/", cfg)); q != 25 {
		t.Errorf("/quality/25/ wrote quality %d", q)
	}
}

// TestAnimatedGIFLocalPalettes uses frames with their own (local) colour tables, as GIF
// optimisers write them: a full first frame in 200 blues, then partial frames in 200 reds and
// 200 greens. Every composed picture shows colours of several palettes, so a frame's own
// palette cannot represent it. ImageMagick renders our output and resizes the original; the
// two must agree frame by frame.
func TestAnimatedGIFLocalPalettes(t *testing.T) {
	requireImageMagick(t)
	shades := func(c func(v uint8) color.RGBA) color.Palette {
		var p color.Palette
		for i := range 200 {
			p = append(p, c(uint8(i+40)))
		}
		return p
	}
	ramp := func(r image.Rectangle, pal color.Palette) *image.Paletted {
		p := image.NewPaletted(r, pal)
		for y := range r.Dy() {
			for x := range r.Dx() {
				p.Pix[y*p.Stride+x] = uint8((x + y) * 199 / (r.Dx() + r.Dy()))
			}
		}
		return p
	}
	blues := shades(func(v uint8) color.RGBA { return color.RGBA{0, v / 2, v, 255} })
	g := &gif.GIF{
		Image: []*image.Paletted{
			ramp(image.Rect(0, 0, 120, 90), blues),
			ramp(image.Rect(10, 10, 60, 50), shades(func(v uint8) color.RGBA { return color.RGBA{v, 0, v / 3, 255} })),
			ramp(image.Rect(50, 30, 110, 80), shades(func(v uint8) color.RGBA { return color.RGBA{v / 4, v, 0, 255} })),
		},
		Delay:    []int{10, 20, 30},
		Disposal: []byte{gif.DisposalNone, gif.DisposalNone, gif.DisposalNone},
		Config:   image.Config{ColorModel: blues, Width: 120, Height: 90},
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := writeFile(t, dir, "in.gif", b.Bytes())
	writeFile(t, dir, "out.gif", mustProcess(t, b.Bytes(), "/resize/60x45/", nil))
	magick(t, in, "-coalesce", "-resize", "60x45", filepath.Join(dir, "want-%d.png"))
	magick(t, filepath.Join(dir, "out.gif"), "-coalesce", filepath.Join(dir, "got-%d.png"))
	for i := range g.Image {
		want := decode(t, readFile(t, filepath.Join(dir, fmt.Sprintf("want-%d.png", i))))
		got := decode(t, readFile(t, filepath.Join(dir, fmt.Sprintf("got-%d.png", i))))
		if p := psnr(got, want); p < 30 {
			t.Errorf("frame %d: PSNR %.1f dB against ImageMagick, want ≥ 30", i, p)
		} else {
			t.Logf("frame %d: PSNR %.1f dB against ImageMagick", i, p)
		}
	}
}
