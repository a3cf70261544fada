package transform_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
	"drmpack/packager/transform"
)

func TestMain(m *testing.M) { mediatest.Main(m) }

// trimFile trims src with opts into a file in a temporary folder and returns its path and the
// selection.
func trimFile(t *testing.T, src string, opts transform.Options) (string, *transform.Selection) {
	t.Helper()
	m, err := demux.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sel, err := transform.Select(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := transform.MP4(sel)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out"+filepath.Ext(src))
	if err := plan.WriteFile(out, m); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() != plan.Size() {
		t.Fatalf("output %v, want %d bytes", err, plan.Size())
	}
	return out, sel
}

// probe is what ffprobe reports about a file's streams.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		Duration  string `json:"duration"`
		StartTime string `json:"start_time"`
		NbFrames  string `json:"nb_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func seconds(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return v
}

const (
	fps       = 25    // test media frame rate
	audioRate = 48000 // test media sampling rate
	frameSize = 8     // bytes per stereo f32le audio sample
)

// videoFramesIn returns the source frames presented in [from, to) seconds.
func videoFramesIn(frames []string, from, to float64) []string {
	a, b := int(math.Round(from*fps)), int(math.Ceil(to*fps-1e-9))
	return frames[a:min(b, len(frames))]
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pcmAt is the decoded audio from sec seconds on.
func pcmAt(pcm []byte, sec float64) []byte {
	off := int(math.Round(sec*audioRate)) * frameSize
	return pcm[min(off, len(pcm)):]
}

func TestTrimMP4DecodesToTheSourceFrames(t *testing.T) {
	media := mediatest.Media(t)
	for _, name := range []string{"h264_aac.mp4", "h264_aac_moov_end.mp4", "hevc_aac.mp4"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(media, name)
			out, sel := trimFile(t, src, transform.Options{Ranges: []transform.Range{{Start: 3, End: 6.5}}})
			// The video starts on the sync sample at or before 3 s (2-s GOPs: 2 s) and ends at 6.5 s.
			if len(sel.Cuts) != 1 || sel.Cuts[0].Start != 2 {
				t.Fatalf("cuts %v, want one starting at 2 s", sel.Cuts)
			}
			want := videoFramesIn(mediatest.VideoFrames(t, src, ""), 2, 6.5)
			got := mediatest.VideoFrames(t, out, "")
			if !equalStrings(got, want) {
				t.Fatalf("video: %d frames, want the source's %d frames of 2-6.5 s", len(got), len(want))
			}
			t.Logf("%d frames, cuts %v", len(got), sel.Cuts)
			srcPCM := pcmAt(mediatest.AudioPCM(t, src, ""), 2)
			outPCM := mediatest.AudioPCM(t, out, "")
			wantLen := int(4.5*audioRate) * frameSize
			if d := len(outPCM) - wantLen; d < -1024*frameSize || d > 1024*frameSize {
				t.Fatalf("audio: %d samples, want %d within one frame", len(outPCM)/frameSize, wantLen/frameSize)
			}
			n := min(len(outPCM), wantLen)
			if !bytes.Equal(outPCM[:n], srcPCM[:n]) {
				t.Fatalf("audio differs from the source's 2-6.5 s (first difference at sample %d)", firstDiff(outPCM[:n], srcPCM[:n])/frameSize)
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

var _ = binary.BigEndian
