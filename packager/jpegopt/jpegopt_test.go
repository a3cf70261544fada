package jpegopt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"drmpack/packager/jpeghuff"
)

type testCase struct {
	name string
	// progressive inputs may be coded with other symbol streams by jpegtran, which derives
	// them from the coefficients again; sequential ones must match it exactly.
	progressive bool
	data        []byte
	// jpegtranArgs keeps the input's restart interval, which jpegtran drops by default.
	jpegtranArgs []string
}

// flatTable gives every symbol in use the same weight: a valid but poor code, for making
// inputs that have something to gain.
func flatTable(freq *[256]uint32) ([16]byte, []byte) {
	var flat [256]uint32
	for i, f := range freq {
		if f > 0 {
			flat[i] = 1
		}
	}
	return optimalTable(&flat)
}

var (
	casesOnce sync.Once
	cases     []testCase
)

func testCases(t *testing.T) []testCase {
	t.Helper()
	casesOnce.Do(func() {
		add := func(name string, progressive bool, data []byte, jpegtranArgs ...string) {
			cases = append(cases, testCase{name, progressive, data, jpegtranArgs})
		}
		for _, c := range []struct{ w, h, q int }{
			{1, 1, 75}, {17, 9, 75}, {64, 64, 10}, {333, 211, 50}, {333, 211, 95},
			{1024, 768, 75}, {1024, 768, 100}, {4000, 3000, 85},
		} {
			add(fmt.Sprintf("go-%dx%d-q%d", c.w, c.h, c.q), false, goJPEG(t, testImage(c.w, c.h, uint64(c.w)), c.q))
		}
		add("go-gray-200x150-q80", false, goJPEG(t, grayOf(testImage(200, 150, 3)), 80))

		img := testImage(640, 480, 7)
		odd := testImage(33, 17, 8)
		add("cjpeg-baseline", false, cjpeg(t, img))
		add("cjpeg-restart-1row", false, cjpeg(t, img, "-restart", "1"), "-restart", "1")
		add("cjpeg-restart-5blocks", false, cjpeg(t, img, "-restart", "5B"), "-restart", "5B")
		add("cjpeg-grayscale", false, cjpeg(t, img, "-grayscale"))
		add("cjpeg-sample-1x1", false, cjpeg(t, img, "-sample", "1x1"))
		add("cjpeg-sample-2x1", false, cjpeg(t, img, "-sample", "2x1"))
		add("cjpeg-q100", false, cjpeg(t, img, "-quality", "100"))
		add("cjpeg-33x17", false, cjpeg(t, odd, "-restart", "1B"), "-restart", "1B")
		add("cjpeg-progressive", true, cjpeg(t, img, "-progressive"))
		add("cjpeg-progressive-restart", true, cjpeg(t, img, "-progressive", "-restart", "2B"), "-restart", "2B")
		add("cjpeg-progressive-gray", true, cjpeg(t, img, "-progressive", "-grayscale"))
		add("cjpeg-progressive-33x17", true, cjpeg(t, odd, "-progressive", "-sample", "2x2,1x2,2x1"))
		add("cjpeg-progressive-1x1", true, cjpeg(t, testImage(1, 1, 9), "-progressive"))
		// Sequential with one scan per component, and a progressive script with
		// non-interleaved DC, several bands and two refinement steps.
		add("cjpeg-sequential-3-scans", false, cjpeg(t, img, "-scans", scanScript(t, "0;\n1;\n2;\n")))
		add("cjpeg-progressive-script", true, cjpeg(t, img, "-scans", scanScript(t,
			"0: 0 0 0 2;\n1: 0 0 0 1;\n2: 0 0 0 1;\n0: 1 5 0 2;\n0: 6 63 0 2;\n2: 1 63 0 1;\n1: 1 63 0 1;\n"+
				"0: 1 63 2 1;\n0: 0 0 2 1;\n0: 1 63 1 0;\n0: 0 0 1 0;\n1: 0 0 1 0;\n2: 0 0 1 0;\n1: 1 63 1 0;\n2: 1 63 1 0;\n")))
		// Progressive files from libjpeg are always coded optimally; these are the same
		// files coded with poor tables, as some encoders write them.
		for _, c := range cases {
			if c.progressive && !strings.HasSuffix(c.name, "1x1") {
				poor, err := recode(c.data, flatTable)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				add(c.name+"-poor", true, poor, c.jpegtranArgs...)
			}
		}
	})
	return cases
}

func TestOptimizeMatchesJpegtran(t *testing.T) {
	requireTool(t, "jpegtran")
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-34s %9s %9s %9s %8s | %9s %9s\n", "input", "bytes", "jpegopt", "jpegtran", "diff", "ecs ours", "ecs jt")
	for _, c := range testCases(t) {
		out, err := Optimize(c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(out) > len(c.data) {
			t.Fatalf("%s: output larger than input", c.name)
		}
		checkSamePixels(t, c.name, c.data, out)

		args := append([]string{"-optimize", "-copy", "all"}, c.jpegtranArgs...)
		if c.progressive {
			// jpegtran writes sequential files unless told otherwise; with -progressive it
			// uses libjpeg's standard scan script, the one cjpeg -progressive uses too.
			args = append(args, "-progressive")
		}
		jt, err := runTool(t, "jpegtran", c.data, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		in, ours, ref := layoutOf(t, c.data), layoutOf(t, out), layoutOf(t, jt)
		if ours.restarts != in.restarts || ours.scans != in.scans {
			t.Errorf("%s: %d scans %d RSTs, input has %d and %d", c.name, ours.scans, ours.restarts, in.scans, in.restarts)
		}
		// jpegtran codes the same symbols with tables built by the same Annex K.2
		// procedure, so the entropy-coded data has the same size; progressive scans it
		// re-derives from the coefficients may differ slightly.
		slack := 0
		if c.progressive {
			slack = ref.entropyBytes / 200
		}
		if ours.entropyBytes > ref.entropyBytes+slack {
			t.Errorf("%s: %d bytes of entropy-coded data, jpegtran %d", c.name, ours.entropyBytes, ref.entropyBytes)
		}
		// The rest differs only in segment layout: jpegopt writes one DHT per scan and keeps
		// DQT and APPn as they are; jpegtran writes one DHT/DQT per table, only the DQT
		// tables in use, and adds JFIF.
		if len(out)-ours.dqtBytes > len(jt)-ref.dqtBytes+slack {
			t.Errorf("%s: %d bytes, jpegtran %d", c.name, len(out), len(jt))
		}
		fmt.Fprintf(&table, "%-34s %9d %9d %9d %+8d | %9d %9d\n", c.name, len(c.data), len(out), len(jt),
			len(out)-len(jt), ours.entropyBytes, ref.entropyBytes)
	}
	t.Log(table.String())
}

func TestOptimizeIsIdempotent(t *testing.T) {
	for _, c := range testCases(t) {
		out, err := Optimize(c.data)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Optimize(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(out) || &again[0] != &out[0] {
			t.Errorf("%s: second pass changed %d bytes to %d", c.name, len(out), len(again))
		}
	}
}

// cjpeg -optimize already writes the optimal tables; the only saving left is the 4 bytes of
// marker and length of each DHT segment jpegopt merges into another.
func TestAlreadyOptimal(t *testing.T) {
	img := testImage(320, 240, 11)
	for _, args := range [][]string{
		{"-optimize"},
		{"-optimize", "-grayscale"},
		{"-optimize", "-restart", "1"},
		{"-progressive"},
	} {
		src := cjpeg(t, img, args...)
		out, err := Optimize(src)
		if err != nil {
			t.Fatal(err)
		}
		in, ours := layoutOf(t, src), layoutOf(t, out)
		if ours.entropyBytes != in.entropyBytes || ours.tableBytes != in.tableBytes {
			t.Errorf("%v: entropy %d→%d bytes, tables %d→%d bytes", args, in.entropyBytes, ours.entropyBytes, in.tableBytes, ours.tableBytes)
		}
		if saved := len(src) - len(out); saved != 4*(in.dhtSegments-ours.dhtSegments) {
			t.Errorf("%v: saved %d bytes, DHT segments %d→%d", args, saved, in.dhtSegments, ours.dhtSegments)
		}
		checkSamePixels(t, strings.Join(args, " "), src, out)
	}
}

func TestMetadataKept(t *testing.T) {
	src := goJPEG(t, testImage(100, 80, 5), 90)
	app1 := append([]byte{0xFF, 0xE1, 0, 12}, "Exif\x00\x00abcd"...)
	com := append([]byte{0xFF, 0xFE, 0, 7}, "hello"...)
	withMeta := append(append(append([]byte{0xFF, 0xD8}, app1...), com...), src[2:]...)
	out, err := Optimize(withMeta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, withMeta[:2+len(app1)+len(com)]) {
		t.Errorf("APP1/COM not kept at the start of the file")
	}
	checkSamePixels(t, "metadata", withMeta, out)
}

func TestUnsupportedReturnsSource(t *testing.T) {
	img := testImage(64, 48, 13)
	base := goJPEG(t, img, 75)
	sof := bytes.Index(base, []byte{0xFF, markerSOF0})
	patch := func(f func(b []byte)) []byte {
		b := bytes.Clone(base)
		f(b)
		return b
	}
	for name, src := range map[string][]byte{
		"arithmetic":             cjpeg(t, img, "-arithmetic"),
		"arithmetic-progressive": cjpeg(t, img, "-arithmetic", "-progressive"),
		"12-bit":                 patch(func(b []byte) { b[sof+4] = 12 }),
		"lossless":               patch(func(b []byte) { b[sof+1] = 0xC3 }),
		"height-from-DNL":        patch(func(b []byte) { b[sof+5], b[sof+6] = 0, 0 }),
	} {
		out, err := Optimize(src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(out) != len(src) || &out[0] != &src[0] {
			t.Errorf("%s: not returned unchanged", name)
		}
	}
}

// Every prefix and every one-byte corruption of small files must give an error or a file
// that decodes like the input, in image/jpeg and in djpeg, quickly and without panicking.
func TestMalformed(t *testing.T) {
	img := testImage(40, 24, 17)
	for _, src := range [][]byte{
		goJPEG(t, img, 60),
		cjpeg(t, img, "-progressive", "-restart", "1B", "-sample", "2x2,1x2,1x1"),
	} {
		for n := range len(src) {
			if _, err := Optimize(src[:n]); err == nil {
				t.Fatalf("prefix %d of %d: no error", n, len(src))
			}
		}
		checked := 0
		for i := 2; i < len(src); i++ {
			b := bytes.Clone(src)
			b[i] ^= 0x55
			out, err := Optimize(b)
			if err != nil || bytes.Equal(out, b) {
				continue
			}
			if want, err := goPixels(b); err == nil {
				if got, err := goPixels(out); err != nil || !bytes.Equal(want, got) {
					t.Fatalf("flip at %d: image/jpeg decodes the input but not the same output (%v)", i, err)
				}
			}
			// libjpeg decodes corrupt data with a warning, filling in what it cannot read;
			// only inputs it decodes cleanly must keep their pixels.
			if want, err := runTool(t, "djpeg", b, "-pnm"); err == nil {
				got, err := runTool(t, "djpeg", out, "-pnm")
				if err != nil || !bytes.Equal(want, got) {
					t.Fatalf("flip at %d: djpeg decodes the input but not the same output (%v)", i, err)
				}
				checked++
			}
		}
		t.Logf("%d corrupted files re-coded and checked with djpeg", checked)
	}
}

func TestHugeDimensions(t *testing.T) {
	for _, sof := range []byte{markerSOF0, markerSOF2} {
		src := goJPEG(t, testImage(16, 16, 1), 75)
		i := bytes.Index(src, []byte{0xFF, markerSOF0})
		src[i+1] = sof
		src[i+5], src[i+6], src[i+7], src[i+8] = 0xFF, 0xFF, 0xFF, 0xFF
		start := time.Now()
		_, err := Optimize(src)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("SOF %02X 65535x65535: err = %v", sof, err)
		}
		// Within the pixel limit a tiny file still fails fast: its data runs out.
		src[i+5], src[i+6], src[i+7], src[i+8] = 0x3F, 0xFF, 0x3F, 0xFF
		if _, err := Optimize(src); !errors.Is(err, ErrMalformed) {
			t.Errorf("SOF %02X 16383x16383 with 16x16 data: err = %v", sof, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	}
}

func TestGarbage(t *testing.T) {
	for _, src := range [][]byte{nil, {0xFF}, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xD9}, []byte("not a jpeg at all")} {
		if _, err := Optimize(src); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v", src, err)
		}
	}
}

func TestOptimalTableLengthLimit(t *testing.T) {
	// Fibonacci frequencies give the deepest possible tree: without Annex K.3's adjustment
	// codes would be far longer than 16 bits.
	var freq [256]uint32
	a, b := uint32(1), uint32(1)
	for i := range 40 {
		freq[i] = a
		a, b = b, a+b
	}
	counts, values := optimalTable(&freq)
	total, kraft := 0, 0.0
	for l, n := range counts {
		total += int(n)
		kraft += float64(n) / float64(uint(1)<<(l+1))
	}
	if total != 40 || len(values) != 40 {
		t.Fatalf("%d codes, %d values", total, len(values))
	}
	if kraft >= 1 {
		t.Fatalf("Kraft sum %v leaves no room for the reserved all-ones code", kraft)
	}
	if _, err := jpeghuff.New(&counts, values); err != nil {
		t.Fatal(err)
	}
}

// Data after EOI is no part of the image; jpegopt drops it, as jpegtran does.
func TestTrailingDataDropped(t *testing.T) {
	src := goJPEG(t, testImage(50, 40, 19), 80)
	withTrailer := append(bytes.Clone(src), "trailing junk"...)
	out, err := Optimize(withTrailer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(out, []byte{0xFF, markerEOI}) {
		t.Errorf("output does not end with EOI")
	}
	checkSamePixels(t, "trailer", src, out)
}
