package demux_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"drmpack/packager/demux"
)

func open(t *testing.T, path string) *demux.Media {
	t.Helper()
	m, err := demux.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// ffprobeCounts asks ffprobe (an independent MP4 parser) for each stream's packet count and
// keyframe count.
func ffprobeCounts(t *testing.T, path string) (packets, keys []int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=stream_index,flags", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v (apt-get install ffmpeg)", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 {
			continue // ffprobe prints side data as extra lines
		}
		i, _ := strconv.Atoi(f[0])
		for len(packets) <= i {
			packets, keys = append(packets, 0), append(keys, 0)
		}
		packets[i]++
		if strings.HasPrefix(f[1], "K") {
			keys[i]++
		}
	}
	return packets, keys
}

func TestMP4IndexMatchesFFprobe(t *testing.T) {
	for _, name := range []string{"tiny.mp4", "tiny_moov_end.mp4"} {
		path := filepath.Join("testdata", name)
		m := open(t, path)
		packets, keys := ffprobeCounts(t, path)
		if m.Format != "mp4" || len(m.Tracks) != len(packets) {
			t.Fatalf("%s: format %s, %d tracks, ffprobe sees %d streams", name, m.Format, len(m.Tracks), len(packets))
		}
		for i, tr := range m.Tracks {
			syncs := 0
			for _, s := range tr.Samples {
				if s.Sync {
					syncs++
				}
			}
			if len(tr.Samples) != packets[i] || syncs != keys[i] {
				t.Fatalf("%s track %d: %d samples / %d sync, ffprobe %d / %d", name, tr.ID, len(tr.Samples), syncs, packets[i], keys[i])
			}
		}
		v, a := m.Tracks[0], m.Tracks[1]
		if v.Kind != demux.Video || v.Format != "avc1" || v.Width != 64 || v.Height != 36 {
			t.Fatalf("video track %+v", v)
		}
		if a.Kind != demux.Audio || a.Format != "mp4a" || a.SampleRate != 8000 || a.Timescale != 8000 {
			t.Fatalf("audio track %+v", a)
		}
		// ffmpeg writes an edit list that skips the B-frame delay and the AAC priming.
		if v.StartOffset <= 0 || a.StartOffset != 1024 {
			t.Fatalf("edit list offsets: video %d audio %d", v.StartOffset, a.StartOffset)
		}
	}
}

// TestSampleBytesIdenticalWhateverTheHeaderPosition reads every sample of the moov-first and
// moov-last files: same bytes, in the same order.
func TestSampleBytesIdenticalWhateverTheHeaderPosition(t *testing.T) {
	a, b := open(t, filepath.Join("testdata", "tiny.mp4")), open(t, filepath.Join("testdata", "tiny_moov_end.mp4"))
	for ti := range a.Tracks {
		for i, s := range a.Tracks[ti].Samples {
			o := b.Tracks[ti].Samples[i]
			x, y := make([]byte, s.Size), make([]byte, o.Size)
			a.ReadAt(x, s.Offset)
			b.ReadAt(y, o.Offset)
			if !bytes.Equal(x, y) || s.Dur != o.Dur || s.CTO != o.CTO || s.Sync != o.Sync {
				t.Fatalf("track %d sample %d differs between the two layouts", ti, i)
			}
		}
	}
}

func TestMP3Index(t *testing.T) {
	path := filepath.Join("testdata", "tiny.mp3")
	m := open(t, path)
	packets, _ := ffprobeCounts(t, path)
	tr := m.Tracks[0]
	if m.Format != "mp3" || tr.Kind != demux.Audio || tr.Timescale != 8000 || tr.SampleRate != 8000 {
		t.Fatalf("mp3 track %+v", tr)
	}
	if len(tr.Samples) != packets[0] {
		t.Fatalf("%d MP3 frames, ffprobe %d packets", len(tr.Samples), packets[0])
	}
	if tr.StartOffset == 0 {
		t.Fatal("the LAME encoder delay was not picked up")
	}
}

func TestRejectsNonMedia(t *testing.T) {
	whole, _ := os.ReadFile(filepath.Join("testdata", "tiny_moov_end.mp4"))
	cases := map[string][]byte{
		"text":                 []byte("hello, this is text\n"),
		"empty":                nil,
		"truncated moov":       whole[:len(whole)-40],
		"box larger than file": append([]byte{0, 0, 0x10, 0, 'f', 't', 'y', 'p'}, make([]byte, 100)...),
	}
	for name, b := range cases {
		_, err := demux.OpenReaderAt(bytes.NewReader(b), int64(len(b)), name+".mp4")
		if !errors.Is(err, demux.ErrUnsupported) {
			t.Errorf("%s: err %v, want ErrUnsupported", name, err)
		}
	}
}
