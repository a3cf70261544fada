package app

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runDims(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := dimsCommand(args, &o, &e)
	return code, o.String(), e.String()
}

func writePNG(t *testing.T, path string, w, h int, c color.Color) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDimsCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	writePNG(t, in, 300, 200, color.RGBA{200, 10, 10, 255})
	out := filepath.Join(dir, "out.jpg")

	code, stdout, stderr := runDims(in, "/thumbnail/78x110/format/jpg/quality/50/", "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "image/jpeg") {
		t.Errorf("stdout: %q", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil || format != "jpeg" || cfg.Width != 78 || cfg.Height != 52 {
		t.Fatalf("output: %s %dx%d %v", format, cfg.Width, cfg.Height, err)
	}

	// Composite presets come from --config; a relative File is next to the config file.
	writePNG(t, filepath.Join(dir, "logo.png"), 10, 10, color.RGBA{0, 0, 255, 255})
	conf := filepath.Join(dir, "dims.xml")
	os.WriteFile(conf, []byte(`<Dims Status="Active"><Composite Name="logo" File="logo.png" Gravity="se" Dissolve="100"/></Dims>`), 0o644)
	outPNG := filepath.Join(dir, "out.png")
	if code, _, stderr := runDims("--config", conf, in, "/composite/logo/", "--out", outPNG); code != exitOK {
		t.Fatalf("composite: exit %d %s", code, stderr)
	}
	data, _ := os.ReadFile(outPNG)
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, b, _ := img.At(295, 195).RGBA(); r != 0 || b != 0xffff {
		t.Error("logo not in the south-east corner")
	}
}

func TestDimsCommandFailures(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.png")
	writePNG(t, in, 30, 20, color.White)
	notImage := filepath.Join(dir, "text.png")
	os.WriteFile(notImage, []byte("not an image"), 0o644)
	small := filepath.Join(dir, "small.xml")
	os.WriteFile(small, []byte(`<Dims MaxSourceSize="1"/>`), 0o644)
	big := filepath.Join(dir, "big.png")
	os.WriteFile(big, make([]byte, 1<<20+1), 0o644)
	truncated := filepath.Join(dir, "truncated.png")
	data, _ := os.ReadFile(in)
	os.WriteFile(truncated, data[:len(data)-20], 0o644)
	out := filepath.Join(dir, "out.png")

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing input", []string{filepath.Join(dir, "none.png"), "/resize/10x10/", "-o", out}, "The original file was not successfully downloaded."},
		{"too large", []string{big, "/resize/10x10/", "-o", out, "--config", small}, "The original file size is too large."},
		{"truncated", []string{truncated, "/resize/10x10/", "-o", out}, "The original file loading failed."},
		{"bad command", []string{in, "/rotate/90/", "-o", out}, "Image converting failed or invalid DIMS command."},
		{"not an image", []string{notImage, "/resize/10x10/", "-o", out}, "Image converting failed or invalid DIMS command."},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runDims(c.args...)
			if code != exitFailed || strings.SplitN(stderr, "\n", 2)[0] != c.want {
				t.Fatalf("exit %d, stderr %q; want exit %d and first line %q", code, stderr, exitFailed, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a failure wrote the output file")
			}
		})
	}

	// A device has no size to check first; the limit still holds while reading.
	if code, _, stderr := runDims("/dev/zero", "/resize/10x10/", "-o", out, "--config", small); code != exitFailed ||
		!strings.HasPrefix(stderr, "The original file size is too large.\n") {
		t.Errorf("/dev/zero: exit %d, %q", code, stderr)
	}
	// The output cannot be written: the manual's create failure, and nothing left behind.
	code, _, stderr := runDims(in, "/resize/10x10/", "-o", filepath.Join(dir, "missing", "out.png"))
	if code != exitFailed || !strings.Contains(stderr, "<RESULT>1203</RESULT>") {
		t.Errorf("unwritable output: exit %d\n%s", code, stderr)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".dims-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	for _, c := range []struct {
		name, code string
		args       []string
	}{
		{"no arguments", "1101", nil},
		{"no output", "1103", []string{in, "/resize/10x10/"}},
		{"no recipe", "1103", []string{in, "-o", out}},
		{"unknown flag", "1102", []string{in, "/resize/10x10/", "-o", out, "--bogus"}},
		{"bad config", "1102", []string{in, "/resize/10x10/", "-o", out, "--config", in}},
		{"missing config", "1102", []string{in, "/resize/10x10/", "-o", out, "--config", filepath.Join(dir, "none.xml")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runDims(c.args...)
			if code != exitUsage || !strings.Contains(stderr, "<RESULT>"+c.code+"</RESULT>") {
				t.Fatalf("exit %d, want %d with code %s:\n%s", code, exitUsage, c.code, stderr)
			}
		})
	}
}
