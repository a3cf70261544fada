package demux_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"drmpack/packager/cmaf"
	"drmpack/packager/demux"
)

// FuzzOpen feeds arbitrary bytes through the MP4/MP3 input path and on to what packaging does
// next with an accepted file (codec strings, init segments, reading every sample). Nothing may
// panic, and an accepted index must stay inside the input.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"tiny.mp4", "tiny_moov_end.mp4", "tiny.mp3"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Ext(name))
		f.Add(b[:len(b)/2], filepath.Ext(name))
	}
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x10"), ".mp3")
	f.Fuzz(func(t *testing.T, b []byte, ext string) {
		// The fuzzer has no per-input time limit: turn a hang into a crash it records.
		tm := time.AfterFunc(10*time.Second, func() { panic("FuzzOpen: input took over 10 s") })
		defer tm.Stop()
		m, err := demux.OpenReaderAt(bytes.NewReader(b), int64(len(b)), "input"+ext)
		if err != nil {
			return
		}
		for _, tr := range m.Tracks {
			for _, s := range tr.Samples {
				if s.Offset < 0 || s.Offset+int64(s.Size) > int64(len(b)) {
					t.Fatalf("sample outside the input: offset %d size %d of %d", s.Offset, s.Size, len(b))
				}
			}
			if _, err := cmaf.Codecs(tr); err != nil {
				continue
			}
			cmaf.InitSegment(tr, nil)
		}
	})
}
