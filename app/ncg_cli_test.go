package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/keys"
	"drmpack/packager/ncg"
)

// writeNCG protects plain under the test key with the library, for the CLI's reader to open.
func writeNCG(t *testing.T, plain []byte) string {
	t.Helper()
	raw, err := keys.ParseRaw([]string{testRawKey})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := ncg.Encrypt(context.Background(), &out, bytes.NewReader(plain), int64(len(plain)), raw[0],
		ncg.Meta{CID: "cid-1", Name: "orig.bin", MediaType: "application/octet-stream"}, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "orig.bin.ncg")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNCGInfoAndDecrypt(t *testing.T) {
	plain := bytes.Repeat([]byte("drmpack ncg "), 20000)
	in := writeNCG(t, plain)
	code, stdout, stderr := runCLI(t, "ncg", "info", in)
	if code != 0 || !strings.Contains(stdout, "cid:        cid-1") || !strings.Contains(stdout, "not the vendor's NCG") || strings.Contains(stdout+stderr, testKey) {
		t.Fatalf("info: %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "orig.bin")
	if code, _, stderr := runCLI(t, "ncg", "decrypt", in, "-o", out, "--key", testRawKey); code != 0 {
		t.Fatalf("decrypt: %d %s", code, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, plain) {
		t.Fatal("decrypted file differs from the original")
	}
	if code, _, _ := runCLI(t, "ncg", "decrypt", in, "-o", out+"2", "--key", testKey); code != 0 {
		t.Fatal("a key without its KID was refused")
	}
}

func TestNCGDecryptFailuresLeaveNothing(t *testing.T) {
	in := writeNCG(t, bytes.Repeat([]byte{1}, 100_000))
	tampered := filepath.Join(t.TempDir(), "tampered.ncg")
	b, _ := os.ReadFile(in)
	b[len(b)-40] ^= 0xff
	os.WriteFile(tampered, b, 0o644)
	notNCG := filepath.Join(t.TempDir(), "plain.mp4")
	os.WriteFile(notNCG, bytes.Repeat([]byte("x"), 200), 0o644)
	for name, c := range map[string]struct {
		in   string
		args []string
		code string
	}{
		"wrong key":       {in, []string{"--key", audioKey}, "2005"},
		"KID mismatch":    {in, []string{"--key", audioKID + ":" + testKey}, "2005"},
		"no key in store": {in, nil, "2004"},
		"tampered":        {tampered, []string{"--key", testRawKey}, "2003"},
		"not NCG":         {notNCG, []string{"--key", testRawKey}, "1102"},
		"missing":         {in + ".nope", []string{"--key", testRawKey}, "1201"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, stderr := runCLI(t, append([]string{"ncg", "decrypt", c.in, "-o", filepath.Join(dir, "out")}, c.args...)...)
			if code != exitFailed || !strings.Contains(stderr, "<RESULT>"+c.code+"</RESULT>") {
				t.Fatalf("exit %d, want code %s:\n%s", code, c.code, stderr)
			}
			if strings.Contains(stderr, testKey) || strings.Contains(stderr, audioKey) {
				t.Fatal("a key reached the error output")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("left %v", entries)
			}
		})
	}
}

// TestPackageNCGRoundTripsThroughTheLocalKeyStore packages media and non-media files as NCG
// (with DASH and HLS in the same run for the MP4), then decrypts each .ncg with `ncg decrypt`,
// which finds the key in the local store by the header's CID and KID: the results are
// byte-identical to the inputs.
func TestPackageNCGRoundTripsThroughTheLocalKeyStore(t *testing.T) {
	media := mediatest.Media(t)
	env := newCLIEnv(t)
	out := t.TempDir()
	blob := filepath.Join(t.TempDir(), "archive 한글.bin")
	os.WriteFile(blob, bytes.Repeat([]byte{0, 1, 2, 3, 250}, 300_001), 0o644) // not chunk-aligned
	empty := filepath.Join(t.TempDir(), "empty.dat")
	os.WriteFile(empty, nil, 0o644)
	cases := []struct {
		drm, in string
	}{
		{"ncg,dash,hls", filepath.Join(media, "h264_aac.mp4")},
		{"ncg", filepath.Join(media, "audio.mp3")},
		{"ncg", blob},
		{"ncg", empty},
	}
	for _, c := range cases {
		code, stdout, stderr := env.run(t, "package", "--drm", c.drm, "-o", out, "--json", c.in)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", c.in, code, stdout, stderr)
		}
		r := parseJobLine(t, stdout)
		ncgFile := filepath.Join(out, filepath.Base(c.in)+".ncg")
		if r.Outputs[0] != ncgFile {
			t.Fatalf("outputs %v, want %s first", r.Outputs, ncgFile)
		}
		dec := filepath.Join(t.TempDir(), "decrypted")
		if code, _, stderr := env.run(t, "ncg", "decrypt", ncgFile, "-o", dec); code != 0 {
			t.Fatalf("ncg decrypt %s: %s", ncgFile, stderr)
		}
		want, _ := os.ReadFile(c.in)
		got, _ := os.ReadFile(dec)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: decrypted %d bytes differ from the %d-byte input", c.in, len(got), len(want))
		}
		pj, _ := os.ReadFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(c.in), filepath.Ext(c.in)), "packaging.json"))
		if !strings.Contains(string(pj), `"ncg": [`) || !strings.Contains(string(pj), "not the vendor's NCG format") {
			t.Fatalf("packaging.json lacks the NCG entry:\n%s", pj)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "h264_aac", "hls", "index.m3u8")); err != nil {
		t.Fatal("the combined run lacks its HLS output")
	}
	// DASH refuses a non-media file; with NCG in the same run the job fails as a whole.
	code, stdout, _ := env.run(t, "package", "--drm", "ncg,dash", "-o", out, "--json", blob)
	if r := parseJobLine(t, stdout); code != exitFailed || r.Code != 1102 {
		t.Fatalf("ncg,dash of a non-media file: exit %d %+v", code, r)
	}
}

// TestAdaptiveTitleWithNCG: an adaptive title packaged with NCG too protects every rendition
// file on its own, next to the title's DASH presentation, and each decrypts byte-identically.
func TestAdaptiveTitleWithNCG(t *testing.T) {
	media := mediatest.Media(t)
	env := newCLIEnv(t)
	out := t.TempDir()
	renditions := []string{filepath.Join(media, "adapt_360p.mp4"), filepath.Join(media, "adapt_540p.mp4")}
	code, stdout, stderr := env.run(t, append([]string{"package", "--drm", "ncg,dash", "--adaptive", "--name", "film", "-o", out, "--json"}, renditions...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, in := range renditions {
		ncgFile := filepath.Join(out, filepath.Base(in)+".ncg")
		dec := filepath.Join(t.TempDir(), "d")
		if code, _, stderr := env.run(t, "ncg", "decrypt", ncgFile, "-o", dec); code != 0 {
			t.Fatalf("%s: %s", ncgFile, stderr)
		}
		want, _ := os.ReadFile(in)
		if got, _ := os.ReadFile(dec); !bytes.Equal(got, want) {
			t.Fatalf("%s does not decrypt to its rendition", ncgFile)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "film", "dash", "stream.mpd")); err != nil {
		t.Fatal(err)
	}
}
