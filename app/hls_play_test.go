package app

import (
	"path/filepath"
	"regexp"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/internal/playtest"
)

// TestHLSPlaysInHLSJS plays clear, AES-128 and SAMPLE-AES outputs with hls.js in headless
// Chromium; hls.js fetches the clear key from the loopback server and decrypts both methods
// itself. Any player warning fails the test. (hls.js decrypts fMP4 SAMPLE-AES only through EME
// with a key system configured; TestHLSFMP4PlaysInShaka plays that output.)
func TestHLSPlaysInHLSJS(t *testing.T) {
	media := mediatest.Media(t)
	cases := []struct {
		method, file string
		audioOnly    bool
		extra        []string
	}{
		{"", "h264_aac_moov_end.mp4", false, nil},
		{"aes-128", "h264_aac.mp4", false, nil},
		{"sample-aes", "h264_aac_moov_end.mp4", false, nil},
		{"", "audio.mp3", true, nil},
		{"sample-aes", "audio.m4a", true, nil},
		{"", "h264_aac_moov_end.mp4", false, []string{"--segments", "fmp4"}}, // EXT-X-MAP, separate audio rendition
	}
	for _, c := range cases {
		name := c.method
		if name == "" {
			name = "clear"
		}
		if c.extra != nil {
			name += "/fmp4"
		}
		t.Run(name+"/"+c.file, func(t *testing.T) {
			duration := "--hls-duration"
			if c.method == "" {
				duration = "--duration"
			}
			o := packageHLS(t, filepath.Join(media, c.file), c.method, append([]string{duration, "2"}, c.extra...)...)
			res := playtest.PlayHLS(t, o.dir, "index.m3u8", playtest.Options{AudioOnly: c.audioOnly})
			if !res.OK || len(unexpectedWarnings(res.Warnings)) > 0 {
				t.Fatalf("%s: playback failed: errors %q warnings %q\n%s", res.Player, res.Errors, res.Warnings, res.Raw)
			}
			if !c.audioOnly && (res.VideoWidth != 640 || res.VideoHeight != 360) {
				t.Fatalf("%s: video %dx%d, want 640x360", res.Player, res.VideoWidth, res.VideoHeight)
			}
		})
	}
}

// Allowed hls.js notes, all about the first 0.25 s:
//   - audio starts after the video's first decode time: with B-frames the first picture decodes
//     80 ms before it is shown and the AAC priming frame starts 21 ms before that picture, so audio
//     begins 59 ms after the first video DTS; hls.js fills that with two silent frames. ffmpeg's
//     own `-f hls` output of the same file gets the same note.
//   - now and then (about one SAMPLE-AES run in three, decryption being asynchronous in hls.js)
//     the first appended range starts a little after 0 and hls.js's gap controller seeks over
//     it at startup.
//
// Any other warning fails the test.
var startNotes = regexp.MustCompile(`^hls\.js (warning: \[mp4-remuxer\]: Injecting [12] audio frames @ 0\.0\d+s due to \d{1,2} ms gap\.` +
	`|warning: \[gap-controller\]: skipping hole, adjusting currentTime from 0 to 0\.[0-2]\d*` +
	`|mediaError bufferSeekOverHole: fragment loaded with buffer holes, seeking from 0 to 0\.[0-2]\d*)$`)

func unexpectedWarnings(warnings []string) []string {
	var out []string
	for _, w := range warnings {
		if !startNotes.MatchString(w) {
			out = append(out, w)
		}
	}
	return out
}
