package mp3

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FuzzScan feeds arbitrary bytes to Scan. The committed corpus in
// testdata/fuzz/FuzzScan holds a real 10-frame MP3 (ID3v2, Info/LAME
// frame), an ID3v2-only file and garbage; the seeds below add synthetic
// streams with junk, tags and info frames. Scan must not panic, must
// terminate, and on success must return an index that is consistent with
// the data and bounded by size/MinFrameSize.
func FuzzScan(f *testing.F) {
	spec := mp3Hdr(128)
	all := uint32(xingFlagFrames | xingFlagBytes | xingFlagTOC | xingFlagQuality)
	lsf := hdrSpec{v: MPEG2, layer: 3, kbps: 8, rate: 24000, mode: ChannelMono}
	f.Add(newBuilder(f).add(spec, 3).bytes())
	f.Add(newBuilder(f).add(lsf, 10).raw(fakeHeaders(f, lsf)).add(lsf, 5).bytes())
	f.Add(newBuilder(f).raw(id3v2([]byte("x"))).raw(xingFrame(f, spec, "Xing", lameSpec{"LAME3.100", 576, 1000, all, 2, 2})).add(spec, 2).raw(id3v1("t")).bytes())
	f.Add(newBuilder(f).raw(vbriFrame(f, spec, 1, 1)).add(spec, 2).raw(apeTag([]byte("item"), true)).bytes())
	f.Add(newBuilder(f).add(hdrSpec{v: MPEG1, layer: 1, kbps: 32, rate: 48000}, 4).raw(lyrics3("x")).bytes())
	f.Add(append(fakeHeaders(f, spec), mp3Hdr(0).bytes(f)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		s, err := Scan(bytes.NewReader(data), size)
		if err != nil {
			if s != nil {
				t.Fatalf("stream and error %v", err)
			}
			return
		}
		if err := checkStream(s, data); err != nil {
			t.Fatal(err)
		}
		if limit := 2*(size/MinFrameSize) + 16; int64(cap(s.Frames)) > limit {
			t.Fatalf("index capacity %d for %d bytes", cap(s.Frames), size)
		}
	})
}

// countingReaderAt counts bytes read, to check that Scan reads the file
// about once whatever it contains.
type countingReaderAt struct {
	r     *bytes.Reader
	bytes int64
	calls int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.bytes += int64(len(p))
	return c.r.ReadAt(p, off)
}

func TestScanReadsOnce(t *testing.T) {
	spec := mp3Hdr(320)
	clean := newBuilder(t).vbrFrames(spec, 4000, 320, 32, 128, 256).bytes()
	// Junk dense with chained-but-unconfirmed headers and free-format
	// headers: every candidate sends confirm a few frames ahead.
	var nasty bytes.Buffer
	for i := 0; nasty.Len() < maxLeadingJunk-4096; i++ {
		nasty.Write(fakeHeaders(t, spec))
		nasty.Write(mp3Hdr(0).bytes(t))
		// Irregular spacing: evenly spaced free-format headers would be
		// a free-format stream.
		nasty.Write(make([]byte, i*157%401))
	}
	nasty.Write(clean)
	for name, data := range map[string][]byte{"clean": clean, "junk": nasty.Bytes()} {
		t.Run(name, func(t *testing.T) {
			c := &countingReaderAt{r: bytes.NewReader(data)}
			s, err := Scan(c, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Frames) != 4000 {
				t.Errorf("%d frames", len(s.Frames))
			}
			if ratio := float64(c.bytes) / float64(len(data)); ratio > 1.1 {
				t.Errorf("read %d bytes in %d calls for a %d-byte file (%.2fx)", c.bytes, c.calls, len(data), ratio)
			}
			if maxCalls := len(data)/(blockSize-keepBehind) + 4; c.calls > maxCalls {
				t.Errorf("%d ReadAt calls, want at most %d", c.calls, maxCalls)
			}
		})
	}
}

var (
	benchOnce sync.Once
	benchData []byte
)

// benchFile is ~50 MB of MPEG-1 Layer III at 44.1 kHz with bitrates from
// 96 to 320 kbit/s (about 50 minutes), behind an ID3v2 tag, so that the
// per-frame path (header check, size lookup, append) dominates as in a
// real VBR file.
func benchFile(b *testing.B) []byte {
	benchOnce.Do(func() {
		bl := newBuilder(b).raw(id3v2(make([]byte, 4000)))
		kbps := []int{128, 160, 192, 256, 320, 224, 96, 112}
		for bl.buf.Len() < 50<<20 {
			bl.vbrFrames(mp3Hdr(0), 1000, kbps...)
		}
		benchData = bl.bytes()
	})
	return benchData
}

// BenchmarkScan measures Scan over a real file (page cache) and over
// memory; the MB/s column is the scan throughput.
func BenchmarkScan(b *testing.B) {
	data := benchFile(b)
	path := filepath.Join(b.TempDir(), "bench.mp3")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for name, r := range map[string]interface {
		ReadAt([]byte, int64) (int, error)
	}{"file": f, "memory": bytes.NewReader(data)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var frames int
			for b.Loop() {
				s, err := Scan(r, int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				frames = len(s.Frames)
			}
			b.ReportMetric(float64(frames), "frames")
		})
	}
}

// readCorpusEntry decodes a single-[]byte entry of Go's fuzz corpus format.
func readCorpusEntry(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzScan", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
		!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		t.Fatalf("%s: not a one-value corpus entry", name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}

// TestFuzzCorpus makes sure the committed seeds are what they claim to be,
// so that the fuzzer starts from a real MP3.
func TestFuzzCorpus(t *testing.T) {
	s, err := scanBytes(t, readCorpusEntry(t, "valid-10-frames"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Frames) != 10 || s.Info == nil || s.Info.Frames != 10 || s.EncoderDelay != 576 || s.ID3v2Size != 66 {
		t.Errorf("valid seed: %d frames, ID3v2 %d bytes, info %+v", len(s.Frames), s.ID3v2Size, s.Info)
	}
	for _, name := range []string{"id3v2-only", "garbage"} {
		if _, err := scanBytes(t, readCorpusEntry(t, name)); !errors.Is(err, ErrNoAudio) {
			t.Errorf("%s: err = %v, want ErrNoAudio", name, err)
		}
	}
}
