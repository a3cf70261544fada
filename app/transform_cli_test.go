package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
)

func TestFaststartCommand(t *testing.T) {
	media := mediatest.Media(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "upfront.mp4")
	code, stdout, stderr := runCLI(t, "faststart", filepath.Join(media, "h264_aac_moov_end.mp4"), "-o", out)
	if code != 0 || !strings.Contains(stdout, "Moved the header upfront") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	if moov, mdat := bytes.Index(b, []byte("moov")), bytes.Index(b, []byte("mdat")); moov < 0 || moov > mdat {
		t.Fatalf("moov at %d, mdat at %d", moov, mdat)
	}

	// A file that is not MP4 passes through unchanged, with a warning (the manual's rule).
	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte("not a movie"), 0o644)
	copyOut := filepath.Join(dir, "copy.mp4")
	code, stdout, stderr = runCLI(t, "faststart", text, "-o", copyOut)
	if got, _ := os.ReadFile(copyOut); code != 0 || !strings.Contains(stderr, "cannot be analysed") || string(got) != "not a movie" {
		t.Fatalf("exit %d, copy %q\n%s%s", code, got, stdout, stderr)
	}
}

func TestTrimCommandErrors(t *testing.T) {
	media := mediatest.Media(t)
	src := filepath.Join(media, "h264_aac.mp4")
	text := filepath.Join(t.TempDir(), "text.mp4")
	os.WriteFile(text, []byte("just text, no media"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		exit int
		code string
		info string
	}{
		{"no arguments", []string{"trim"}, exitUsage, "1101", "usage"},
		{"no output", []string{"trim", src}, exitUsage, "1103", "usage"},
		{"bad token", []string{"trim", src, "-o", "OUT", "--trimming", "0-5,abc,7-8"}, exitUsage, "1102", `"abc"`},
		{"bad start", []string{"trim", src, "-o", "OUT", "--start", "1e3"}, exitUsage, "1102", `start "1e3"`},
		{"bad ratio", []string{"trim", src, "-o", "OUT", "--trimming", "0-1,0-1", "--max-ratio", "150"}, exitUsage, "1102", "max ratio \"150\""},
		{"missing input", []string{"trim", filepath.Join(media, "nope.mp4"), "-o", "OUT", "--end", "3"}, exitFailed, "1201", "does not exist"},
		{"not media", []string{"trim", text, "-o", "OUT", "--end", "3"}, exitFailed, "1102", "cannot be trimmed"},
		{"beyond the end", []string{"trim", src, "-o", "OUT", "--start", "100"}, exitFailed, "1102", "beyond the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, a := range tc.args {
				if a == "OUT" {
					tc.args[i] = filepath.Join(dir, "out.mp4")
				}
			}
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.exit || !strings.Contains(stderr, tc.info) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", code, tc.exit, tc.info, stdout, stderr)
			}
			assertReport(t, stderr, tc.code)
			assertEmpty(t, dir)
		})
	}
}

func TestTrimCommandRules(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	srcFrames := mediatest.VideoFrames(t, src, "")
	for _, tc := range []struct {
		name  string
		args  []string
		cut   string
		first int // first source frame
		n     int // frames
	}{
		// Multi-trimming wins over start/end; video starts on the sync sample at 4 s.
		{"precedence", []string{"--start", "0", "--end", "1", "--trimming", "5-6"}, "4.000-6.000 s", 100, 50},
		{"start after end keeps everything", []string{"--start", "6", "--end", "2"}, "0.000-8.000 s", 0, 200},
		{"open start", []string{"--end", "1"}, "0.000-1.000 s", 0, 25},
		{"open end", []string{"--trimming", "7-"}, "6.000-8.000 s", 150, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.mp4")
			code, stdout, stderr := runCLI(t, append([]string{"trim", src, "-o", out}, tc.args...)...)
			if code != 0 || !strings.Contains(stdout, "Trimmed to "+tc.cut) {
				t.Fatalf("exit %d, want cut %s\n%s%s", code, tc.cut, stdout, stderr)
			}
			got := mediatest.VideoFrames(t, out, "")
			want := srcFrames[tc.first : tc.first+tc.n]
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%d frames, want the source's %d from frame %d", len(got), len(want), tc.first)
			}
		})
	}
}

// TestPackageTrimmed packages a multi-trimmed view of the input (no intermediate file) and decodes
// the DASH output with ffmpeg: the frames are the source's over the cuts in their order.
func TestPackageTrimmed(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac_moov_end.mp4")
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "package", "--drm", "dash", "-o", out, "--key", testRawKey, "--trimming", "5-6,-1.5", src)
	if code != 0 || !strings.Contains(stdout, "Trimmed to 4.000-6.000 s, 0.000-1.500 s") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	m := readMPD(t, filepath.Join(out, "h264_aac_moov_end", "dash", "stream.mpd"))
	rep := m.AdaptationSets[0].Representations[0]
	joined := mediatest.JoinDASH(t, filepath.Join(out, "h264_aac_moov_end", "dash", rep.ID), rep.SegmentTemplate.Timescale)
	got := mediatest.VideoFrames(t, joined, testKey)
	srcFrames := mediatest.VideoFrames(t, src, "")
	want := append(append([]string{}, srcFrames[100:150]...), srcFrames[0:38]...)
	// DASH has no edit list end: the last range runs on to the next clean cut (a B-frame group).
	if len(got) < len(want) || len(got)-len(want) > 4 || strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("%d frames, want the source's frames 100-149 then 0-37 (%d)", len(got), len(want))
	}
}
