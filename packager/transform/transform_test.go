package transform_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
	"drmpack/packager/mp3"
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
	plan, sel, err := transform.Trim(m, opts)
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

func TestMultiTrimJoinsRangesInOrder(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac_moov_end.mp4")
	ranges, err := transform.ParseRanges("5-6,-1.5,5-6,7-")
	if err != nil {
		t.Fatal(err)
	}
	out, sel := trimFile(t, src, transform.Options{Ranges: ranges, MaxRatio: transform.DefaultMaxRatio})
	if len(sel.Cuts) != 4 || len(sel.Dropped) != 0 {
		t.Fatalf("cuts %v dropped %v, want all four ranges", sel.Cuts, sel.Dropped)
	}
	srcFrames := mediatest.VideoFrames(t, src, "")
	var want []string
	for i, c := range sel.Cuts {
		r := ranges[i]
		// Video starts on the sync sample at or before the start (GOPs are 2 s) and ends within a
		// GOP after the end; the last range ends exactly at the end of the file.
		if c.Start > r.Start || r.Start-c.Start >= 2 || c.End < min(r.End, 8) || c.End-min(r.End, 8) >= 2 {
			t.Errorf("range %v was cut as %v", r, c)
		}
		want = append(want, videoFramesIn(srcFrames, c.Start, c.End)...)
	}
	got := mediatest.VideoFrames(t, out, "")
	if !equalStrings(got, want) {
		t.Fatalf("video: %d frames, want the source's %d frames of %v", len(got), len(want), sel.Cuts)
	}

	// Audio: each range's samples follow at its place in the output within one AAC frame (1024
	// samples); after the frame that joins it to the previous range they equal the source's.
	srcPCM := mediatest.AudioPCM(t, src, "")
	outPCM := mediatest.AudioPCM(t, out, "")
	if d := float64(len(outPCM)/frameSize)/audioRate - sel.Duration; math.Abs(d) > 1024.0/audioRate {
		t.Fatalf("audio lasts %.4f s, want %.4f s within one frame", float64(len(outPCM)/frameSize)/audioRate, sel.Duration)
	}
	at := 0.0
	for _, c := range sel.Cuts {
		const skip = 0.05 // past the join
		block := pcmAt(srcPCM, c.Start+skip)[:4096*frameSize]
		expect := int(math.Round((at+skip)*audioRate)) * frameSize
		found := -1
		for off := max(0, expect-1100*frameSize); off <= expect+1100*frameSize && off+len(block) <= len(outPCM); off += frameSize {
			if bytes.Equal(outPCM[off:off+len(block)], block) {
				found = off
				break
			}
		}
		if found < 0 {
			t.Fatalf("audio of cut %v not found within one frame of %.4f s in the output", c, at+skip)
		}
		n := int((c.End-c.Start-2*skip)*audioRate) * frameSize
		if !bytes.Equal(outPCM[found:found+n], pcmAt(srcPCM, c.Start+skip)[:n]) {
			t.Fatalf("audio of cut %v differs from the source", c)
		}
		at += c.End - c.Start
	}
}

func TestMaxRatioDropsRangesPastTheCap(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	m, err := demux.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	whole := []transform.Range{{End: math.Inf(1)}}
	for _, tc := range []struct {
		ratio   int
		ranges  []transform.Range
		kept    int
		dropped int
	}{
		{50, append(whole, whole...), 1, 1},                                             // 200 % > 150 %
		{100, append(whole, whole...), 2, 0},                                            // 200 % is allowed
		{50, append(whole, transform.Range{Start: 0, End: 3}), 2, 0},                    // 8 + 4 s of 8 s: 150 %
		{50, []transform.Range{whole[0], whole[0], {Start: 6, End: math.Inf(1)}}, 2, 1}, // the later short range still fits
		{0, []transform.Range{{Start: 0, End: 3}, {Start: 4, End: 5}}, 2, 0},
	} {
		sel, err := transform.Select(m, transform.Options{Ranges: tc.ranges, MaxRatio: tc.ratio})
		if err != nil {
			t.Fatal(err)
		}
		if len(sel.Cuts) != tc.kept || len(sel.Dropped) != tc.dropped {
			t.Errorf("MaxRatio %d, %v: kept %v dropped %v, want %d kept and %d dropped", tc.ratio, tc.ranges, sel.Cuts, sel.Dropped, tc.kept, tc.dropped)
		}
	}
}

func TestTrimMP3IsFrameAccurate(t *testing.T) {
	media := mediatest.Media(t)
	for _, name := range []string{"audio.mp3", "audio_vbr_id3.mp3"} {
		src := filepath.Join(media, name)
		srcPCM := mediatest.AudioPCM(t, src, "")
		srcBytes, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []transform.Range{{Start: 1.3, End: 4.7}, {Start: 0, End: 2}, {Start: 0.03, End: 1}, {Start: 6.2, End: math.Inf(1)}} {
			t.Run(name+"/"+r.String(), func(t *testing.T) {
				out, sel := trimFile(t, src, transform.Options{Ranges: []transform.Range{r}})
				const rate, spf = 44100.0, 1152.0
				c := sel.Cuts[0]
				// Cut on frame boundaries around the request: at most one frame wider on each side.
				srcEnd := float64(len(srcPCM)/frameSize) / rate
				if c.Start > r.Start || r.Start-c.Start >= spf/rate || c.End < min(r.End, srcEnd) || c.End-r.End >= spf/rate {
					t.Fatalf("cut %v, want %v widened to frame boundaries", c, r)
				}
				outPCM := mediatest.AudioPCM(t, out, "")
				from := int(math.Round(c.Start*rate)) * frameSize
				want := srcPCM[from:min(len(srcPCM), from+int(math.Round((c.End-c.Start)*rate))*frameSize)]
				if !bytes.Equal(outPCM, want) {
					t.Fatalf("decoded %d samples, want the source's %d samples of %v (first difference at %d)",
						len(outPCM)/frameSize, len(want)/frameSize, c, firstDiff(outPCM, want)/frameSize)
				}
				// ffprobe takes the duration from the rewritten Xing header's frame count.
				outBytes, _ := os.ReadFile(out)
				scan, err := mp3.Scan(bytes.NewReader(outBytes), int64(len(outBytes)))
				if err != nil {
					t.Fatal(err)
				}
				if d := seconds(t, ffprobe(t, out).Format.Duration); math.Abs(d-float64(len(scan.Frames))*spf/rate) > 0.001 {
					t.Fatalf("ffprobe duration %.4f s, want the %d frames' %.4f s", d, len(scan.Frames), float64(len(scan.Frames))*spf/rate)
				}
				// The ID3v2 tag is kept byte for byte.
				if n := id3v2Size(srcBytes); n == 0 && name == "audio_vbr_id3.mp3" || !bytes.Equal(outBytes[:n], srcBytes[:n]) {
					t.Fatalf("ID3v2 tag (%d bytes) not kept", n)
				}
			})
		}
	}
}

// TestMultiTrimMP3JoinsDecodeAsTheSource: where two ranges of an MP3 join, the frames after the
// join draw their bit-reservoir bytes from the frame before it; that frame carries the source's
// bytes for them (junctionFrame), so only the first frame after a join (overlap-add with the
// other range's last frame) differs from the source. Without it, several frames decode wrong.
func TestMultiTrimMP3JoinsDecodeAsTheSource(t *testing.T) {
	media := mediatest.Media(t)
	for _, name := range []string{"audio.mp3", "audio_vbr_id3.mp3"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(media, name)
			srcPCM := mediatest.AudioPCM(t, src, "")
			// Inside the 8-s files: a cut reaching the end would keep the last frame's padding.
			ranges := []transform.Range{{Start: 1, End: 3}, {Start: 5, End: 6.5}, {Start: 3.5, End: 4.5}}
			out, sel := trimFile(t, src, transform.Options{Ranges: ranges})
			outPCM := mediatest.AudioPCM(t, out, "")
			const rate, spf = 44100.0, 1152
			at := 0 // output sample where the cut starts
			for i, c := range sel.Cuts {
				from, n := int(math.Round(c.Start*rate)), int(math.Round((c.End-c.Start)*rate))
				skip := 0
				if i > 0 {
					skip = spf
				}
				got := outPCM[(at+skip)*frameSize : min(len(outPCM), (at+n)*frameSize)]
				want := srcPCM[(from+skip)*frameSize : (from+n)*frameSize]
				if !bytes.Equal(got, want) {
					t.Fatalf("cut %d (%v): decoded samples differ from the source %d samples after the join",
						i+1, c, skip+firstDiff(got, want)/frameSize)
				}
				at += n
			}
		})
	}
}

// id3v2Size is the length of a leading ID3v2 tag (ID3v2.4 §3.1), 0 if there is none.
func id3v2Size(b []byte) int {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return 0
	}
	return 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
}

// TestAllTracks trims a movie with a subtitle track: by default (the manual's AllTracks off) only
// audio and video are kept; with AllTracks the subtitles are cut to the same interval.
func TestAllTracks(t *testing.T) {
	dir := t.TempDir()
	srt := filepath.Join(dir, "subs.srt")
	os.WriteFile(srt, []byte("1\n00:00:00,500 --> 00:00:03,000\nfirst\n\n2\n00:00:04,000 --> 00:00:07,500\nsecond\n"), 0o644)
	src := filepath.Join(dir, "subs.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join(mediatest.Media(t), "h264_aac.mp4"), "-i", srt,
		"-map", "0", "-map", "1", "-c", "copy", "-c:s", "mov_text", src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := []transform.Range{{Start: 4.5, End: 6.5}}
	out, _ := trimFile(t, src, transform.Options{Ranges: r})
	if n := len(ffprobe(t, out).Streams); n != 2 {
		t.Fatalf("%d streams without AllTracks, want audio and video", n)
	}
	out, sel := trimFile(t, src, transform.Options{Ranges: r, AllTracks: true})
	p := ffprobe(t, out)
	if len(p.Streams) != 3 || p.Streams[2].CodecType != "subtitle" {
		t.Fatalf("streams %+v, want the subtitles too", p.Streams)
	}
	// The cut starts at 4 s (video sync sample): "second" (4-7.5 s) shows from 0 to the end.
	subs, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-map", "0:s:0", "-f", "srt", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "00:00:00,000 --> 00:00:02,500\nsecond"; sel.Cuts[0].Start != 4 || !strings.Contains(string(subs), want) {
		t.Fatalf("subtitles after the cut %v:\n%s\nwant %q", sel.Cuts, subs, want)
	}
}
