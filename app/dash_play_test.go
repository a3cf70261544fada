package app

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/internal/playtest"
	"drmpack/packager/mpd"
)

// TestDASHPlaysInBrowsers plays packaged outputs in headless Chromium with two independent players,
// shaka-player and dash.js, using ClearKey with the same keys (the MPD's Widevine and PlayReady
// signalling cannot be exercised without their CDMs), with separate video and audio keys so each
// track's signalling is used. Any player warning fails the test.
func TestDASHPlaysInBrowsers(t *testing.T) {
	media := mediatest.Media(t)
	cases := []struct {
		scheme, file string
		audioOnly    bool
	}{
		{"cenc", "h264_aac.mp4", false},
		{"cbcs", "h264_aac_moov_end.mp4", false},
		// MP3 in DASH is judged by ffmpeg only: Debian's Chromium has no MP3-in-MP4 decoder in
		// MSE (MediaSource.isTypeSupported is false for mp4a.6B and mp4a.69).
		{"cenc", "audio.m4a", true},
	}
	for _, c := range cases {
		t.Run(c.scheme+"/"+c.file, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := runCLI(t, "package", "--drm", "dash", "--scheme", c.scheme, "-o", out,
				"--key", "SD="+testRawKey, "--key", "AUDIO="+audioKID+":"+audioKey, filepath.Join(media, c.file))
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			dir := filepath.Join(out, strings.TrimSuffix(c.file, filepath.Ext(c.file)), "dash")
			for _, player := range playtest.DASHPlayers {
				res := playtest.PlayDASH(t, dir, "stream.mpd", map[string]string{testKID: testKey, audioKID: audioKey},
					playtest.Options{AudioOnly: c.audioOnly, Player: player})
				if !res.OK || len(res.Warnings) > 0 {
					t.Fatalf("%s: playback failed: errors %q warnings %q\n%s", res.Player, res.Errors, res.Warnings, res.Raw)
				}
				if !c.audioOnly && (res.VideoWidth != 640 || res.VideoHeight != 360) {
					t.Fatalf("%s: video %dx%d, want 640x360", res.Player, res.VideoWidth, res.VideoHeight)
				}
			}
		})
	}
}

// TestMPDValidatesAgainstSchema checks a real packaged MPD (not a hand-built one) with xmllint
// against the ISO DASH schema.
func TestMPDValidatesAgainstSchema(t *testing.T) {
	mediatest.RequireTools(t, "xmllint")
	media := mediatest.Media(t)
	out := t.TempDir()
	if code, stdout, stderr := runCLI(t, "package", "--drm", "dash", "-o", out, "--key", testRawKey,
		"--playready-la-url", "https://lic.example.com/pr?a=1&b=2", filepath.Join(media, "h264_aac.mp4")); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	schema := filepath.Join(mediatest.RepoRoot(t), "packager", "mpd", "testdata", "schema", "DASH-MPD.xsd")
	manifest := filepath.Join(out, "h264_aac", "dash", "stream.mpd")
	cmd := exec.Command("xmllint", "--nonet", "--noout", "--schema", schema, manifest)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, b)
	}
	m := readMPD(t, manifest)
	var systems []string
	for _, cp := range m.AdaptationSets[0].ContentProtections {
		systems = append(systems, cp.SchemeIDURI)
	}
	want := []string{mpd.SchemeMP4Protection, mpd.SchemeWidevine, mpd.SchemePlayReady}
	if strings.Join(systems, " ") != strings.Join(want, " ") {
		t.Fatalf("ContentProtection order %v, want %v", systems, want)
	}

	// packaging.json describes what was produced, and every file it lists exists.
	b, err := os.ReadFile(filepath.Join(out, "h264_aac", "packaging.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		CID  string `json:"cid"`
		Dash struct {
			Tracks []struct {
				KID string `json:"kid"`
			} `json:"tracks"`
			Files []string `json:"files"`
		} `json:"dash"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if report.CID != "h264_aac" || len(report.Dash.Tracks) != 2 || report.Dash.Tracks[0].KID != "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3" {
		t.Fatalf("packaging.json: %s", b)
	}
	for _, f := range report.Dash.Files {
		if _, err := os.Stat(filepath.Join(out, "h264_aac", "dash", f)); err != nil {
			t.Fatalf("packaging.json lists %s: %v", f, err)
		}
	}
	if len(report.Dash.Files) < 5 {
		t.Fatalf("packaging.json lists only %v", report.Dash.Files)
	}
}
