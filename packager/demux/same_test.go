package demux_test

import (
	"os"
	"path/filepath"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
)

func track(m *demux.Media, kind demux.Kind) *demux.Track {
	for _, t := range m.Tracks {
		if t.Kind == kind {
			return t
		}
	}
	return nil
}

func TestSameStream(t *testing.T) {
	media := mediatest.Media(t)
	sd, hd := open(t, filepath.Join(media, "adapt_360p.mp4")), open(t, filepath.Join(media, "adapt_720p.mp4"))
	ac3 := open(t, filepath.Join(media, "h264_ac3_kor.mp4"))

	// The renditions copied one audio stream: identical. Their video differs.
	if same, err := demux.SameStream(sd, track(sd, demux.Audio), hd, track(hd, demux.Audio)); err != nil || !same {
		t.Errorf("renditions' audio: same %v, err %v", same, err)
	}
	if same, err := demux.SameStream(sd, track(sd, demux.Video), hd, track(hd, demux.Video)); err != nil || same {
		t.Errorf("360p and 720p video: same %v, err %v", same, err)
	}
	if same, _ := demux.SameStream(sd, track(sd, demux.Audio), ac3, track(ac3, demux.Audio)); same {
		t.Error("AAC and AC-3 reported the same")
	}

	// Equal tables, one changed byte in the last audio sample: only the data tells them apart.
	b, err := os.ReadFile(filepath.Join(media, "adapt_720p.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	last := track(hd, demux.Audio).Samples[len(track(hd, demux.Audio).Samples)-1]
	b[last.Offset+int64(last.Size)-1] ^= 0x55
	changed := filepath.Join(t.TempDir(), "changed.mp4")
	if err := os.WriteFile(changed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ch := open(t, changed)
	if same, err := demux.SameStream(sd, track(sd, demux.Audio), ch, track(ch, demux.Audio)); err != nil || same {
		t.Errorf("audio with a changed byte: same %v, err %v", same, err)
	}
}

func TestMain(m *testing.M) { mediatest.Main(m) }
