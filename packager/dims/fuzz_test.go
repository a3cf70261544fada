package dims

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// FuzzParseRecipe feeds arbitrary command paths to the parser and, when one parses, runs it on a
// tiny image with a small pixel limit: nothing may panic, a parsed recipe must print back to
// itself, and every failure must be one of the manual's sentences.
func FuzzParseRecipe(f *testing.F) {
	for _, s := range []string{
		"/thumbnail/78x110/format/png/quality/50/", "/resize/100x100/optimize", "/crop/100x200+20+30/",
		"/composite/water1/", "/byoriginal/size1/", "/firstframeonly/on/resize/200x200/", "/thumbnail/50%25/",
		"/thumbnail/640X480!/", "/resize/10000@/", "/crop/50%x50%-3-4/", "/resize/x20%3E/", "/thumbnail/7%3C/",
	} {
		f.Add(s)
	}
	var buf bytes.Buffer
	png.Encode(&buf, testImage(8, 6))
	src := buf.Bytes()
	cfg := DefaultConfig()
	cfg.MaxPixels = 1 << 16
	cfg.ByOriginal["size1"] = []Condition{{Width: 5, Recipe: &Recipe{cmds: []command{{name: "quality", arg: "5", n: 5}}}}, {Recipe: &Recipe{}}}
	f.Fuzz(func(t *testing.T, path string) {
		r, err := ParseRecipe(path)
		if err != nil {
			if err.Error() != ConvertFailed.Sentence() {
				t.Fatalf("%q: %v", path, err)
			}
			return
		}
		again, err := ParseRecipe(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q printed as %q, which reads back as %v %v", path, r.String(), again, err)
		}
		out, _, err := Process(src, path, cfg)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Reason != ConvertFailed {
				t.Fatalf("%q: %v", path, err)
			}
			return
		}
		if _, _, err := image.DecodeConfig(bytes.NewReader(out)); err != nil {
			t.Fatalf("%q: output does not decode: %v", path, err)
		}
	})
}

// FuzzProcess feeds arbitrary bytes as the original image (seeded with small JPEG, PNG, GIF
// and EXIF-carrying files): the header, EXIF, quantisation-table and GIF block readers of this
// package must never panic, and every failure must be one of the manual's sentences.
func FuzzProcess(f *testing.F) {
	small := testImage(6, 4)
	var j, p bytes.Buffer
	jpeg.Encode(&j, small, nil)
	png.Encode(&p, small)
	f.Add(j.Bytes())
	f.Add(p.Bytes())
	f.Add(exifJPEG(j.Bytes(), 6))
	var g bytes.Buffer
	gif.EncodeAll(&g, &gif.GIF{
		Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.Transparent}), image.NewPaletted(image.Rect(1, 1, 3, 3), color.Palette{color.White})},
		Delay: []int{1, 2}, Disposal: []byte{gif.DisposalPrevious, gif.DisposalBackground},
	})
	f.Add(g.Bytes())
	cfg := DefaultConfig()
	cfg.MaxPixels = 1 << 14
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, recipe := range []string{"/resize/3x3/", "/thumbnail/1x1/", "/optimize/", "/format/gif/crop/2x2+1+1/"} {
			_, _, err := Process(src, recipe, cfg)
			if err != nil && err.(*Error).Reason == NotDownloaded {
				t.Fatalf("%s: %v", recipe, err)
			}
		}
	})
}

// exifJPEG splices an EXIF orientation into a JPEG after its SOI marker.
func exifJPEG(b []byte, o byte) []byte {
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00"), o, 0, 0, 0, 0, 0, 0)
	seg := append([]byte{0xff, 0xe1, 0, byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}
