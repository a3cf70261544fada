package transform_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/transform"
)

// topLevel lists a file's top-level box types in order.
func topLevel(t *testing.T, b []byte) []string {
	t.Helper()
	var types []string
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if size == 1 {
			size = int(binary.BigEndian.Uint64(b[pos+8:]))
		}
		if size < 8 {
			t.Fatalf("bad box size %d at %d", size, pos)
		}
		types = append(types, string(b[pos+4:pos+8]))
		pos += size
	}
	return types
}

func faststart(t *testing.T, src string) (out string, moved bool) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	plan, moved, err := transform.Faststart(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(t.TempDir(), "out.mp4")
	if err := plan.WriteFile(out, f); err != nil {
		t.Fatal(err)
	}
	return out, moved
}

func TestFaststartMovesTheHeaderUpfront(t *testing.T) {
	media := mediatest.Media(t)
	src := filepath.Join(media, "h264_aac_moov_end.mp4")
	out, moved := faststart(t, src)
	if !moved {
		t.Fatal("moov at the end was not moved")
	}
	srcBytes, _ := os.ReadFile(src)
	outBytes, _ := os.ReadFile(out)
	// The boxes before the media data stay first (ftyp, free), then moov, then the media.
	if got := strings.Join(topLevel(t, outBytes), " "); got != "ftyp free moov mdat" {
		t.Fatalf("boxes %v, want ftyp free moov mdat (source: %v)", got, topLevel(t, srcBytes))
	}
	if len(outBytes) != len(srcBytes) {
		t.Fatalf("%d bytes, want the source's %d (only box order and offsets change)", len(outBytes), len(srcBytes))
	}
	// The source made upfront by ffmpeg (-movflags +faststart) is the same movie: ffmpeg must
	// decode ours to the same frames and samples.
	if !equalStrings(mediatest.VideoFrames(t, out, ""), mediatest.VideoFrames(t, src, "")) {
		t.Fatal("video frames differ from the source's")
	}
	if !bytes.Equal(mediatest.AudioPCM(t, out, ""), mediatest.AudioPCM(t, src, "")) {
		t.Fatal("audio differs from the source's")
	}
	// ffmpeg's own faststart of the same file moves the same moov: same size, same media bytes.
	ref, _ := os.ReadFile(filepath.Join(media, "h264_aac.mp4"))
	if len(ref) != len(outBytes) {
		t.Fatalf("%d bytes, ffmpeg's faststart has %d", len(outBytes), len(ref))
	}
}

func TestFaststartCopiesUpfrontFilesUnchanged(t *testing.T) {
	media := mediatest.Media(t)
	for _, name := range []string{"h264_aac.mp4", "audio.m4a"} {
		src := filepath.Join(media, name)
		out, moved := faststart(t, src)
		a, _ := os.ReadFile(src)
		b, _ := os.ReadFile(out)
		if moved || !bytes.Equal(a, b) {
			t.Errorf("%s: moved %v, identical %v; want an unchanged copy", name, moved, bytes.Equal(a, b))
		}
	}
}

func TestFaststartRefusesWhatItCannotAnalyse(t *testing.T) {
	media := mediatest.Media(t)
	whole, _ := os.ReadFile(filepath.Join(media, "h264_aac_moov_end.mp4"))
	for name, b := range map[string][]byte{
		"text":      []byte("this is not a movie at all, just text"),
		"mp3":       mustRead(t, filepath.Join(media, "audio.mp3")),
		"truncated": whole[:len(whole)-100],
		"no moov":   whole[:len(whole)/2],
		"empty":     nil,
	} {
		if _, _, err := transform.Faststart(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPlanReadsLikeTheWrittenFile checks the random-access view a server answers Range requests
// from against the written file, at random offsets and lengths.
func TestPlanReadsLikeTheWrittenFile(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac_moov_end.mp4")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	plan, _, err := transform.Faststart(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var written bytes.Buffer
	if _, err := plan.WriteTo(&written, bytes.NewReader(mustRead(t, src))); err != nil {
		t.Fatal(err)
	}
	r := plan.Open(f)
	if r.Size() != int64(written.Len()) || plan.Size() != r.Size() {
		t.Fatalf("sizes %d, %d, written %d", plan.Size(), r.Size(), written.Len())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rng.Int64N(r.Size())
		buf := make([]byte, rng.IntN(100000))
		n, err := r.ReadAt(buf, off)
		want := written.Bytes()[off:min(off+int64(len(buf)), int64(written.Len()))]
		if n != len(want) || !bytes.Equal(buf[:n], want) || (n < len(buf)) != (err != nil) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes", len(buf), off, n, err, len(want))
		}
	}
}
