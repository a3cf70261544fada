package app

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"drmpack/internal/playtest"
)

// switchEvent is the harness's record of a forced switch.
var switchEvent = regexp.MustCompile(`^switch (\d+)p->(\d+)p@`)

// firstAudioNote is a non-fatal hls.js 1.7 note about the first fragment of the separate audio
// rendition. Traced with BUFFER_APPENDED events: the first append to each SourceBuffer reports
// an empty buffered range (Chromium updates it a moment later); the video's first fragment is
// appended in two operations, so the second one shows growth, while the audio's is one
// operation, so hls.js's new append-progress check counts it once as "no growth". By the next
// event the audio is buffered from 0.016 s (hls.js's injected silence before the priming frame)
// to the end, without a gap, next to video from 0.08 s. The note is allowed here only for
// fragment 0, once; anything else fails the test.
var firstAudioNote = regexp.MustCompile(`^hls\.js (warning: \[buffer-controller\]: Fragment 0 of audio playlist 0 appended 1 time without buffered range growth` +
	`|mediaError bufferAppendNoProgress: Fragment append did not increase buffered coverage \(1\))$`)

// assertSwitched checks that the player offered all three renditions, that a forced switch took
// place, and that the element ended up showing the rendition switched to.
func assertSwitched(t *testing.T, res playtest.Result) {
	t.Helper()
	var warnings []string
	for _, w := range unexpectedWarnings(res.Warnings) {
		if !firstAudioNote.MatchString(w) {
			warnings = append(warnings, w)
		}
	}
	if !res.OK || len(warnings) > 0 {
		t.Fatalf("%s: playback failed: errors %q warnings %q\n%s", res.Player, res.Errors, res.Warnings, res.Raw)
	}
	heights := map[int]bool{}
	active := 0
	for _, v := range res.Variants {
		heights[v.Height] = true
		if v.Active && v.Height > 0 { // dash.js lists audio Representations too
			active = v.Height
		}
	}
	if !heights[360] || !heights[540] || !heights[720] {
		t.Fatalf("%s: variants %+v, want 360p, 540p and 720p", res.Player, res.Variants)
	}
	var from, to int
	for _, e := range res.Events {
		if m := switchEvent.FindStringSubmatch(e); m != nil {
			from, _ = strconv.Atoi(m[1])
			to, _ = strconv.Atoi(m[2])
		}
	}
	if to == 0 || from == to || res.VideoHeight != to || active != to {
		t.Fatalf("%s: switch %dp->%dp, showing %dp, active variant %dp; events %q", res.Player, from, to, res.VideoHeight, active, res.Events)
	}
	t.Logf("%s: switched %dp -> %dp; events %q", res.Player, from, to, res.Events)
}

// TestAdaptivePlaysAndSwitches plays the multi-key title in shaka-player and dash.js (DASH,
// ClearKey with the SD, HD and AUDIO keys) and hls.js (the master playlist, keys fetched from their URIs) and forces
// a rendition switch through each player's API: the element must end up showing the other
// rendition, whose key differs from the first one's when the switch crosses SD and HD.
func TestAdaptivePlaysAndSwitches(t *testing.T) {
	title := packageTitle(t)
	clearKeys := map[string]string{}
	for _, k := range renditionKeys {
		clearKeys[k[0]] = k[1]
	}
	for _, player := range playtest.DASHPlayers {
		t.Run(string(player), func(t *testing.T) {
			res := playtest.PlayDASH(t, filepath.Join(title, "dash"), "stream.mpd", clearKeys, playtest.Options{Player: player, SwitchRendition: true, Seconds: 5})
			assertSwitched(t, res)
		})
	}
	t.Run("hlsjs", func(t *testing.T) {
		res := playtest.PlayHLS(t, filepath.Join(title, "hls"), "index.m3u8", playtest.Options{SwitchRendition: true, Seconds: 5})
		assertSwitched(t, res)
	})
}
