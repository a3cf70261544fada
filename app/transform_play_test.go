package app

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/internal/playtest"
)

// TestPlayersSeekInDerivedFiles opens faststarted, trimmed and multi-trimmed files in Chromium's
// own media element, served with Range support as a web server would, seeks into the middle and
// plays on from there: the rewritten indexes (moov, edit lists, Xing seek tables) carry a real
// player to the right place.
func TestPlayersSeekInDerivedFiles(t *testing.T) {
	media := mediatest.Media(t)
	dir := t.TempDir()
	cases := []struct {
		name      string
		args      []string // after the output path
		seek      float64
		audioOnly bool
	}{
		{"faststart.mp4", []string{"faststart", filepath.Join(media, "h264_aac_moov_end.mp4")}, 5, false},
		{"trim.mp4", []string{"trim", filepath.Join(media, "h264_aac_moov_end.mp4"), "--start", "2", "--end", "7.5"}, 3, false},
		{"multi.mp4", []string{"trim", filepath.Join(media, "h264_aac.mp4"), "--trimming", "6-8,1-4"}, 2.5, false},
		{"trim.m4a", []string{"trim", filepath.Join(media, "audio.m4a"), "--start", "1", "--end", "7"}, 4, true},
		{"multi.mp3", []string{"trim", filepath.Join(media, "audio.mp3"), "--trimming", "5-7,1-4"}, 3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args[:1:1], c.args[1:]...)
			args = append(args, "-o", filepath.Join(dir, c.name))
			if code, stdout, stderr := runCLI(t, args...); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			res := playtest.PlayFile(t, dir, c.name, playtest.Options{SeekTo: c.seek, Seconds: c.seek + 1, AudioOnly: c.audioOnly})
			if !res.OK || len(res.Errors) > 0 {
				t.Fatalf("playback after a seek to %v s: errors %q\n%s", c.seek, res.Errors, res.Raw)
			}
			landed := math.NaN()
			for _, e := range res.Events {
				if at, ok := strings.CutPrefix(e, "seeked@"); ok {
					landed, _ = strconv.ParseFloat(at, 64)
				}
			}
			if math.Abs(landed-c.seek) > 0.1 {
				t.Fatalf("the seek to %v s landed at %v s; events %q", c.seek, landed, res.Events)
			}
			ranged := false
			for _, r := range res.Requests {
				ranged = ranged || strings.Contains(r, " 206 ")
			}
			if !ranged {
				t.Fatalf("the player read the file without Range requests: %q", res.Requests)
			}
		})
	}
}
