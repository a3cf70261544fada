package mp3

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAdhoc(t *testing.T) {
	files, _ := filepath.Glob("/tmp/mp3x/*.mp*")
	for _, f := range files {
		fh, _ := os.Open(f)
		st, _ := fh.Stat()
		s, err := Scan(fh, st.Size())
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		t.Logf("%s: %+v frames=%d first=%+v dur=%v info=%+v skipped=%d id3=%d trailer=%d/%d", f, s.Header, len(s.Frames), s.Frames[0], s.Duration(), s.Info, s.SkippedBytes, s.ID3v2Size, s.TrailerOffset, st.Size())
	}
}
